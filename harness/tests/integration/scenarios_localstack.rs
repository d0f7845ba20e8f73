//! Both shipped scenarios end to end on LocalStack through the real SDK, as `loglab run` runs
//! them: provisioning, RunInstances and EventBridge events, the onboarding handler through the
//! rule's SQS target, the simulated SSM and CloudWatch agents, PutLogEvents, the subscription
//! payloads into the ETL handler, Firehose, and the bucket read back and reconciled with the
//! ledger. Each test runs in its own region, so they share one emulator without seeing each
//! other's data.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop loudly"
)]

use crate::support;

use harness::backend::sdk_config;
use harness::run::{RunOptions, RunReport, report};
use harness::scenario::{LoadedScenario, Scenario};
use support::{endpoint, root};

fn load(name: &str, region: &str) -> LoadedScenario {
    let mut loaded = Scenario::load(&root().join("scenarios").join(name)).unwrap();
    loaded.scenario.region = region.to_owned();
    loaded
}

async fn run(loaded: &LoadedScenario, url: &str, seed: Option<u64>) -> RunReport {
    run_keeping_ledger(loaded, url, seed).await.report
}

/// The JUnit document parses as XML and has one test case per check, failures marked.
fn assert_junit_matches(report: &RunReport) {
    let xml = harness::run::report::junit::render(report);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                match e.name().0 {
                    "testcase" => cases += 1,
                    "failure" => failures += 1,
                    _ => {}
                }
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("junit.xml is not XML: {e}\n{xml}"),
        }
    }
    assert_eq!(cases, report.checks.len());
    assert_eq!(failures, report.checks.iter().filter(|c| !c.passed).count());
}

async fn run_keeping_ledger(
    loaded: &LoadedScenario,
    url: &str,
    seed: Option<u64>,
) -> harness::run::Run {
    let options = RunOptions {
        seed,
        progress: false,
        ..RunOptions::default()
    };
    run_with(loaded, url, &options, None).await
}

async fn run_with(
    loaded: &LoadedScenario,
    url: &str,
    options: &RunOptions,
    restarter: Option<harness::backend::Restarter>,
) -> harness::run::Run {
    let config = sdk_config(url, &loaded.scenario.region).await;
    let run = harness::run::on_emulator(loaded, &config, restarter, options)
        .await
        .unwrap();
    eprintln!("{}", report::summary(&run.report));
    let mut ledger = Vec::new();
    run.write_ledger(&mut ledger).unwrap();
    let records = ledger
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert_eq!(
        records, run.report.reconciliation.totals.records,
        "one ledger line per record"
    );
    assert_junit_matches(&run.report);
    let json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&run.report).unwrap()).unwrap();
    assert_eq!(
        json["checks"].as_array().unwrap().len(),
        run.report.checks.len()
    );
    run
}

fn reason_count(report: &RunReport, words: &str) -> usize {
    report
        .reconciliation
        .reasons
        .iter()
        .filter(|(reason, _)| reason.contains(words))
        .map(|(_, n)| *n)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quickstart_lands_every_line_exactly_once_and_the_seed_reproduces_the_workload() {
    let Some(url) = endpoint() else { return };
    let loaded = load("quickstart.toml", "eu-west-2");
    let first_run = run_keeping_ledger(&loaded, &url, Some(11)).await;
    let first = first_run.report.clone();
    assert!(first.passed, "{}", report::summary(&first));
    // Every saved query ran unchanged on the delivered table and matched the ledger.
    let stage = &first.query_stage;
    let catalog = stage.catalog.as_ref().unwrap();
    assert_eq!(catalog.table, "ccp_logs.logs");
    // The stack's default catalog: the declared table, partitions projected from the hours.
    assert_eq!(catalog.partition_columns, ["datehour"]);
    assert!(stage.crawler.is_none());
    assert_eq!(catalog.rows, first.landed.rows);
    assert_eq!(stage.checks.len(), 6);
    assert!(
        stage.checks.iter().all(|q| q.passed && q.expected_rows > 0),
        "{stage:?}"
    );
    // Delivered as Firehose delivers (Developer Guide, "Data Delivery Frequency"): with the
    // stack's 5 MiB / 300 s hints, five simulated minutes of a small fleet make one or two
    // gzip objects, not one plain object per PutRecordBatch call as LocalStack's Firehose.
    let delivery = &first.delivery;
    assert!(
        (1..=2).contains(&delivery.objects),
        "{} objects: {delivery:?}",
        delivery.objects
    );
    assert_eq!(first.landed.objects, delivery.objects);
    assert!(
        delivery.bytes_out * 4 < delivery.bytes_in,
        "gzip: {delivery:?}"
    );
    assert!(delivery.write_errors.is_empty(), "{delivery:?}");
    // Every line is delivered: nothing is filtered or dropped in quickstart.
    for sources in first.reconciliation.by_source.values() {
        for counts in sources.values() {
            assert_eq!(counts.lines_delivered, counts.lines, "{counts:?}");
        }
    }
    // A wrong expectation fails, printing the query, both row sets and the difference.
    let location = harness::catalog::bucket_location(
        &loaded
            .stack
            .names(&stack::Placement::localstack(&loaded.scenario.region))
            .bucket,
        &loaded.stack.definition,
        &loaded.scenario.region,
        Some(&url),
    )
    .unwrap();
    let wrong = harness::scenario::ExpectedQuery {
        name: "off by one".into(),
        sql: None,
        saved: Some("windows-security-events-by-id".into()),
        expected: "SELECT win_event_id, count(*) + 1 AS events FROM ledger \
                   WHERE fate = 'delivered' AND source = 'Security' \
                   GROUP BY win_event_id ORDER BY events DESC"
            .into(),
    };
    let stage = harness::run::queries::stage(
        &location,
        &loaded.stack.definition,
        &first_run.ledger,
        &first_run.pattern,
        &[wrong],
        harness::run::crawls::CatalogClock {
            started_ms: 0,
            now_ms: 0,
            landed: &[],
        },
    )
    .await;
    let check = &stage.checks[0];
    assert!(!check.passed);
    let detail = check.detail.as_deref().unwrap();
    for part in [
        "query:\n  SELECT win_event_id",
        "expected (",
        "actual (",
        "difference:\n- (",
    ] {
        assert!(detail.contains(part), "{part:?} in {detail}");
    }
    let r = &first.reconciliation;
    assert_eq!(first.instances.onboarded, 3);
    assert_eq!(
        r.totals.not_collected + r.totals.rejected + r.totals.unaccounted,
        0
    );
    assert_eq!(r.events_landed, r.totals.events_expected);
    assert_eq!(r.duplicates, 0, "quickstart redelivers nothing");
    assert!(r.events_landed >= 300, "{}", r.events_landed);
    assert!(
        r.totals.lines > r.totals.records,
        "multi-line records were written"
    );
    assert_eq!(first.subscription.control_messages, 1);
    let windows = first
        .instance_details
        .iter()
        .find(|i| i.os == "windows")
        .unwrap();
    let documents: Vec<_> = windows
        .commands
        .iter()
        .map(|c| c.document.as_str())
        .collect();
    assert_eq!(
        documents,
        [
            "AWS-ConfigureAWSPackage",
            "CCP-ConfigureCloudWatchAgent-Windows"
        ]
    );
    assert!(windows.commands.iter().all(|c| c.status == "Success"));
    for source in ["System", "Application", "Security"] {
        assert!(r.by_source["win-1"][source].events_sent > 0, "{source}");
    }

    // The same seed writes the same records per instance and source; the run is reset first,
    // so the second reconciliation sees only its own data.
    let second = run(&loaded, &url, Some(11)).await;
    assert!(second.passed, "{}", report::summary(&second));
    let shape = |report: &RunReport| -> Vec<(String, String, usize, usize)> {
        report
            .reconciliation
            .by_source
            .iter()
            .flat_map(|(instance, sources)| {
                sources
                    .iter()
                    .map(move |(source, c)| (instance.clone(), source.clone(), c.records, c.lines))
            })
            .collect()
    };
    assert_eq!(shape(&first), shape(&second));
}

/// `scenarios/quickstart-parquet.toml` on LocalStack: the stream is provisioned without its
/// format conversion (no Glue there), the harness's Firehose model converts, the objects in
/// LocalStack's S3 are Parquet, and every saved query and ledger check passes on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quickstart_on_parquet_lands_parquet_objects_that_answer_every_query() {
    let Some(url) = endpoint() else { return };
    let loaded = load("quickstart-parquet.toml", "ca-central-1");
    let report = run(&loaded, &url, Some(11)).await;
    assert!(report.passed, "{}", report::summary(&report));
    let delivery = &report.delivery;
    assert!(delivery.objects >= 1, "{delivery:?}");
    assert_eq!(delivery.records_failed_conversion, 0, "{delivery:?}");
    assert_eq!(delivery.rows_converted, report.landed.rows);
    assert_eq!(
        report.reconciliation.events_landed,
        report.reconciliation.totals.events_expected
    );
    let stage = &report.query_stage;
    assert_eq!(
        stage.catalog.as_ref().unwrap().partition_columns,
        ["datehour"]
    );
    assert!(
        stage.checks.iter().all(|c| c.passed && c.bytes_scanned > 0),
        "{stage:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mixed_fleet_onboards_only_the_exactly_tagged_and_accounts_for_every_line() {
    let Some(url) = endpoint() else { return };
    let loaded = load("mixed-fleet.toml", "ap-southeast-2");
    let report = run(&loaded, &url, None).await;
    assert!(report.passed, "{}", report::summary(&report));
    assert_eq!(report.query_stage.checks.len(), 6);
    assert!(report.query_stage.checks.iter().all(|q| q.passed));
    let r = &report.reconciliation;
    assert_eq!(
        (
            report.instances.launched,
            report.instances.onboarded,
            report.instances.skipped,
            report.instances.failed
        ),
        (23, 16, 6, 1)
    );
    for detail in &report.instance_details {
        let onboarded = detail.decision == "onboarded";
        let tagged = detail.tags.get("CCP-Managed").map(String::as_str) == Some("true");
        assert_eq!(
            onboarded,
            tagged && detail.registers,
            "{}: {}",
            detail.name,
            detail.reason
        );
        if detail.name.starts_with("lowercase") || detail.name.starts_with("wrongvalue") {
            assert!(detail.reason.contains("only in case"), "{}", detail.reason);
        }
        if !detail.registers {
            assert!(
                detail.reason.contains("never registered"),
                "{}",
                detail.reason
            );
            assert!(detail.commands.is_empty());
        }
        if !onboarded {
            let counts = &r.by_source[&detail.name];
            assert!(
                counts.values().all(|c| c.events_sent == 0),
                "{} shipped",
                detail.name
            );
        }
    }
    assert!(reason_count(&report, "level INFORMATION not in event_levels") > 0);
    assert!(reason_count(&report, "event id 4624 not in event_ids") > 0);
    assert!(reason_count(&report, "no collect_list entry for /var/log/cron") > 0);
    assert!(reason_count(&report, "instance not onboarded (skipped)") > 0);
    assert!(r.totals.events_filtered >= 50);
    assert!(report.subscription.redelivered_events > 0);
    assert_eq!(r.duplicates, report.subscription.redelivered_events);
    assert_eq!(r.totals.unaccounted, 0);
    // The real corpora were replayed: the bastions' secure logs carry OpenSSH_2k's lines.
    let bastion = &r.by_source["bastion-1"]["/var/log/secure"];
    assert!(bastion.events_sent > 1000, "{bastion:?}");
    assert!(r.by_source["win-1"][r"C:\Windows\Logs\CBS\CBS.log"].events_sent > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broken_configuration_in_parameter_store_fails_onboarding_with_its_path() {
    let Some(url) = endpoint() else { return };
    let loaded = load("broken-config.toml", "sa-east-1");
    let report = run(&loaded, &url, None).await;
    assert!(report.passed, "{}", report::summary(&report));
    let linux = report
        .instance_details
        .iter()
        .find(|i| i.os == "linux")
        .unwrap();
    assert_eq!(linux.decision, "failed");
    assert!(
        linux
            .reason
            .contains("$.logs.logs_collected.files.collect_list[0].retention_in_days"),
        "{}",
        linux.reason
    );
    assert!(linux.commands.is_empty(), "no command reaches the instance");
    let r = &report.reconciliation;
    assert!(r.by_source["web-1"].values().all(|c| c.events_sent == 0));
    assert!(r.by_source["win-1"]["System"].events_sent > 0);

    // The next run's provisioning puts the stack's own configuration back.
    let mut repaired = load("broken-config.toml", "sa-east-1");
    repaired.scenario.faults = harness::scenario::Faults::default();
    repaired.scenario.expect.onboarded = Some(2);
    repaired.scenario.expect.failed = Some(0);
    let report = run(&repaired, &url, None).await;
    assert!(report.passed, "{}", report::summary(&report));
}

/// `scenarios/faults.toml`: throttling, 5xx, latency and dropped connections between the SDK
/// clients and LocalStack, throttling and per-entry failures in the Firehose model, redelivered
/// payloads, an outage of CloudWatch Logs and a restart of the emulator mid-run; every line is
/// still delivered once (or as a counted redelivery) or filtered: nothing is lost, with no
/// floor, and the report carries what was injected, the retries that recovered, and the
/// restart. The restart needs an emulator of the test's own (a
/// host process on a port of its own): the shared one serves the other tests meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn faults_are_recovered_from_and_nothing_is_lost_silently() {
    let Some(_shared) = endpoint() else { return };
    let own = harness::backend::BackendOptions {
        host: harness::backend::HostOptions {
            port: 4597,
            ..harness::backend::HostOptions::default()
        },
        ..harness::backend::BackendOptions::default()
    };
    let emulator = harness::backend::start(&harness::backend::BackendChoice::Host, &own)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let options = RunOptions {
        progress: false,
        ..RunOptions::default()
    };
    let restarter = emulator
        .restarter()
        .expect("the host backend started this process, so it may restart it");
    let loaded = load("faults.toml", "eu-central-1");
    let run = run_with(&loaded, &emulator.endpoint, &options, Some(restarter)).await;
    emulator.stop().await;
    let report = &run.report;
    assert!(report.passed, "{}", report::summary(report));
    // The emulator was restarted, came back, and the stack was applied again; events were
    // sent after it (and landed: nothing is missing below).
    assert_eq!(report.restarts.len(), 1, "{:?}", report.restarts);
    let restart = &report.restarts[0];
    assert!(restart.error.is_none(), "{restart:?}");
    assert!(restart.down_seconds > 0.0 && restart.reprovision_seconds > 0.0);
    // It carried across what AWS keeps (the events not yet delivered, the objects written
    // before it): nothing was at risk, nothing lost, exactly.
    assert!(restart.objects_kept > 0, "{restart:?}");
    let r = &report.reconciliation;
    assert_eq!(
        (r.events_sent_before_restart, r.lost_to_restart, r.missing),
        (0, 0, 0)
    );
    assert_eq!(r.totals.lines_unaccounted(), 0);
    assert_eq!(r.duplicates, report.subscription.redelivered_events);
    assert!(r.totals.events_sent > 0);
    // The outage of CloudWatch Logs refused every call in its window, and the agents rode it
    // out: no batch dropped.
    let outage = report
        .faults
        .rules
        .iter()
        .find(|rule| rule.rule.contains("refuse-connection"))
        .expect("the outage's rule");
    assert!(
        outage.covered > 0 && outage.injected == outage.covered,
        "{outage:?}"
    );
    assert!(report.agents.iter().all(|a| a.batches_dropped == 0));
    assert!(report.agents.iter().map(|a| a.put_retries).sum::<usize>() > 0);
    // The report says by name that AWS does not restart.
    assert!(
        report
            .aws_differences
            .iter()
            .any(|d| d.harness.contains("[[faults.restart]]")),
        "{:?}",
        report.aws_differences
    );
    let faults = &report.faults;
    assert_eq!(faults.rules.len(), loaded.scenario.faults.rules().len());
    let hits = |rule: &str| {
        faults
            .rules
            .iter()
            .filter(|r| r.rule.starts_with(rule))
            .map(|r| r.injected)
            .sum::<u64>()
    };
    assert!(hits("logs:PutLogEvents throttle") > 0, "{faults:?}");
    assert!(
        hits("firehose:PutRecordBatch partial-failure") > 0,
        "{faults:?}"
    );
    // The SDK retried what was injected, and its backoff was measured.
    let put_logs = &faults.operations["logs:PutLogEvents"];
    assert!(
        put_logs.retries > 0 && put_logs.retry_delay_ms_total > 0,
        "{put_logs:?}"
    );
    // Failed entries were sent again by the ETL's delivery, not lost.
    assert!(report.delivery.entries_failed > 0);
    assert_eq!(report.delivery.records, report.subscription.records);
    // Every line: delivered, filtered, or dropped by a stated rule; every duplicate counted.
    let r = &report.reconciliation;
    assert_eq!(r.totals.unaccounted, 0);
    assert_eq!(r.missing, 0);
    // A redelivered copy can go with the emulator's state at the restart.
    assert!(r.duplicates <= report.subscription.redelivered_events);
    for sources in r.by_source.values() {
        for counts in sources.values() {
            assert_eq!(counts.lines_unaccounted(), 0, "{counts:?}");
        }
    }
}

/// `scenarios/poison.toml` on LocalStack: payloads that meet the ETL's bug are retried by
/// Lambda's rule (after one and two minutes, simulated), then sent to the ETL's dead-letter
/// queue on the emulator (SQS SendMessage, as Lambda sends them); the stack's dead-letter alarm
/// fires; after the fix the redrive receives them from that queue, sends them back and deletes
/// them, and every line lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poison_payload_is_dead_lettered_alarmed_and_redriven_after_the_fix() {
    let Some(url) = endpoint() else { return };
    let loaded = load("poison.toml", "us-west-1");
    let report = run(&loaded, &url, None).await;
    assert!(report.passed, "{}", report::summary(&report));
    assert!(report.poisoned_payloads > 0);
    assert_eq!(report.dead_letters.len(), report.poisoned_payloads);
    assert!(
        report
            .dead_letters
            .iter()
            .all(|l| l.error_code == "PoisonPayload" && l.gave_up == "failed all 3 attempts")
    );
    let redrive = report.redrive.as_ref().expect("the scenario redrives");
    assert_eq!(redrive.recovered, report.dead_letters.len());
    assert!(redrive.failed.is_empty(), "{redrive:?}");
    assert_eq!(report.reconciliation.missing, 0);
    assert_eq!(report.reconciliation.totals.lines_unaccounted(), 0);
    let etl_queue_alarm = report
        .alarms
        .iter()
        .find(|a| a.name == "ccp-log-etl-dead-letters")
        .expect("the stack's alarm on the ETL's dead-letter queue");
    assert!(
        etl_queue_alarm.fired && etl_queue_alarm.at.is_some(),
        "{etl_queue_alarm:?}"
    );
    // Lambda's retries waited one and two minutes of simulated time for each letter.
    assert_eq!(
        report.subscription.retried_invocations,
        2 * report.dead_letters.len()
    );
}
