//! The emulators side by side: for each behaviour the harness relies on, what AWS does, what
//! LocalStack (the default backend) and MiniStack (the second emulator, from PyPI) do, and the
//! test that pins each emulator's answer (so a new release that changes it fails a test).
//! Rendered into docs/fidelity.md as "Emulators side by side".

/// One behaviour across the emulators.
#[derive(Debug, Clone, Copy)]
pub struct EmulatorRow {
    /// The service or port.
    pub area: &'static str,
    /// What AWS does.
    pub aws: &'static str,
    /// LocalStack 4.9.2.
    pub localstack: &'static str,
    /// MiniStack 1.5.33.
    pub ministack: &'static str,
    /// The tests that pin both answers: `path::function`, `;`-separated.
    pub tests: &'static str,
}

/// The versions the table was measured on (scripts/localstack-host.sh, scripts/ministack-host.sh).
pub const VERSIONS: (&str, &str) = ("LocalStack 4.9.2", "MiniStack 1.5.33");

/// Every row.
pub const EMULATORS: &[EmulatorRow] = &[
    EmulatorRow {
        area: "CloudWatch Logs (LogsApi, LogsReader)",
        aws: "PutLogEvents, DescribeLogStreams, GetLogEvents with forward tokens",
        localstack: "passes the port suite",
        ministack: "passes the port suite",
        tests: "standins/tests/integration/ports_localstack.rs::logs; standins/tests/integration/ports_ministack.rs::logs",
    },
    EmulatorRow {
        area: "SQS (the rule's target, dead letters)",
        aws: "send, long-poll receive, delete",
        localstack: "passes the port suite",
        ministack: "passes the port suite",
        tests: "standins/tests/integration/ports_localstack.rs::queue; standins/tests/integration/ports_ministack.rs::queue",
    },
    EmulatorRow {
        area: "Parameter Store",
        aws: "GetParameter; ParameterNotFound for a missing name",
        localstack: "passes the port suite",
        ministack: "passes the port suite",
        tests: "pipeline/tests/integration/ports_localstack.rs::parameter_store; pipeline/tests/integration/ports_ministack.rs::parameter_store",
    },
    EmulatorRow {
        area: "EC2 DescribeInstances",
        aws: "state, tags, and Platform `windows` for an instance of a Windows image",
        localstack: "passes the port suite, Windows platform included",
        ministack: "passes it for Linux instances; an instance of a Windows image has no Platform (the handler would take it for Linux)",
        tests: "pipeline/tests/integration/ports_localstack.rs::instance_directory; pipeline/tests/integration/ports_ministack.rs::a_windows_instances_platform_is_a_named_gap_of_ministack",
    },
    EmulatorRow {
        area: "SSM SendCommand",
        aws: "InvalidInstanceId for an instance whose SSM agent is not running; commands run on the instance",
        localstack: "accepts any instance id, runs nothing, reports Success at once",
        ministack: "refuses an instance with no agent behind it (InvalidInstanceId), as AWS does; agents exist only for instances it runs as containers",
        tests: "pipeline/tests/integration/ports_localstack.rs::command_runner; pipeline/tests/integration/ports_ministack.rs::send_command_refuses_an_instance_without_an_agent_as_aws_does",
    },
    EmulatorRow {
        area: "SSM DescribeInstanceInformation",
        aws: "the managed instances with their ping status and platform",
        localstack: "not implemented",
        ministack: "implemented: an instance without an agent is not listed",
        tests: "pipeline/tests/integration/ports_localstack.rs::managed_instances_is_a_named_gap_of_localstack; pipeline/tests/integration/ports_ministack.rs::send_command_refuses_an_instance_without_an_agent_as_aws_does",
    },
    EmulatorRow {
        area: "Firehose to S3",
        aws: "buffers by size and interval; one object per flush, records in order, named `stream-version-yyyy-MM-dd-HH-mm-ss-uuid`",
        localstack: "one object per call, uncompressed, without the extension",
        ministack: "one object per record as it arrives, named as AWS names objects",
        tests: "pipeline/tests/integration/ports_localstack.rs::record_sink; pipeline/tests/integration/ports_ministack.rs::firehose_writing_an_object_per_record_is_a_named_gap_of_ministack",
    },
    EmulatorRow {
        area: "the stack (provision and audit)",
        aws: "CloudFormation creates every resource of deploy/template.json",
        localstack: "every resource the emulator path provisions applies idempotently and audits equal (Lambda, alarms and the subscription filter are stood in for; Glue's and Athena's resources are applied and audited at the harness's stand-ins)",
        ministack: "the same resources apply idempotently and audit equal",
        tests: "stack/tests/integration/stack_localstack.rs::apply_is_idempotent_and_the_audit_finds_and_repairs_drift; stack/tests/integration/stack_ministack.rs::the_stack_applies_idempotently_and_audits_clean_on_ministack",
    },
    EmulatorRow {
        area: "EventBridge PutEvents with source aws.ec2",
        aws: "refused: a custom event may not use an aws.* source (EC2 emits its own state changes)",
        localstack: "accepted: the harness announces launches this way",
        ministack: "refused (\"Not authorized for the source\"), as AWS does, and EC2 emits no state-change events: on MiniStack the harness applies the rule's pattern and sends the matching events to the rule's queue itself",
        tests: "harness/tests/integration/backends.rs::ministack_refuses_put_events_from_an_aws_source_as_aws_does",
    },
    EmulatorRow {
        area: "the shipped scenarios end to end",
        aws: "the pipeline onboards the fleet and lands every line",
        localstack: "quickstart, mixed-fleet, faults (restarts included), poison, broken-config, quickstart-parquet and fleet-scale-localstack pass",
        ministack: "quickstart and mixed-fleet pass (`--backend ministack`); a scenario that restarts the emulator is refused by name",
        tests: "harness/tests/integration/scenarios_localstack.rs::quickstart_lands_every_line_exactly_once_and_the_seed_reproduces_the_workload; harness/tests/integration/scenarios_ministack.rs::quickstart_passes_on_ministack_with_its_own_gaps_printed; harness/tests/integration/scenarios_ministack.rs::mixed_fleet_passes_on_ministack",
    },
];
