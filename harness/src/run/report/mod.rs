//! The report of a run: per-stage counts, every instance with its onboarding outcome, the
//! ledger's reconciliation, and the checks (the pipeline's invariants and the scenario's
//! expectations, [`checks`]) that decide the exit status. Serialised as JSON for CI;
//! [`summary`] renders the table people read and [`junit`] the checks as JUnit.

pub mod audit;
pub mod checks;
pub mod junit;
pub mod page;
pub mod permissions;
pub mod summary;

use std::collections::BTreeMap;

use pipeline::onboard::{Decision, OnboardingOutcome};
use serde::Serialize;

use crate::fleet::LaunchedInstance;
use crate::landed::Landed;
use crate::ledger::Reconciliation;
use crate::run::queries::QueryStage;
use standins::cloudwatch_agent::agent::AgentReport;
use standins::subscription::SubscriptionReport;

pub use audit::AuditReport;
pub use checks::Check;
pub use permissions::PermissionsReport;
pub use summary::summary;

use super::session::{Delivered, Shipped};
use crate::scenario::LoadedScenario;
use stack::provision::{Applied, Outcome};
use standins::ssm::CommandLog;

/// One instance.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceReport {
    /// Scenario name.
    pub name: String,
    /// EC2 id.
    pub instance_id: String,
    /// `linux` or `windows`.
    pub os: String,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// Whether its SSM agent registered.
    pub registers: bool,
    /// `onboarded`, `skipped`, `ignored`, `failed`, or `none` without an outcome.
    pub decision: String,
    /// The handler's reason.
    pub reason: String,
    /// What its SSM agent ran.
    pub commands: Vec<CommandLog>,
    /// Its onboarding on the simulated clock.
    pub timeline: InstanceTimeline,
}

/// One instance's onboarding on the simulated clock (epoch milliseconds): what the report's
/// page draws per instance.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InstanceTimeline {
    /// Launched (`running` announced).
    pub launched_ms: i64,
    /// Its SSM agent online (`None` for an instance that never registers).
    pub registered_ms: Option<i64>,
    /// Its CloudWatch agent started.
    pub agent_started_ms: Option<i64>,
    /// Its first event landed in S3.
    pub first_landed_ms: Option<i64>,
}

/// Instance counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InstanceCounts {
    /// Launched.
    pub launched: usize,
    /// Onboarded.
    pub onboarded: usize,
    /// Skipped (tag, registration).
    pub skipped: usize,
    /// Failed.
    pub failed: usize,
    /// No outcome arrived.
    pub no_outcome: usize,
}

/// Landed objects and rows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LandedCounts {
    /// Objects under the prefix.
    pub objects: usize,
    /// Their bytes.
    pub bytes: usize,
    /// Rows.
    pub rows: usize,
    /// Events, copies included.
    pub event_copies: usize,
    /// Objects under the error prefix.
    pub error_objects: usize,
    /// What could not be read.
    pub unreadable: Vec<String>,
}

/// How the run's functions ran: the mode, and for the deployed artifacts which ones (by
/// SHA-256), what each function did, and what the harness set beyond the template.
#[derive(Debug, Clone, Serialize)]
pub struct LambdaReport {
    /// `in-process` or `artifacts`.
    pub mode: standins::lambda::LambdaMode,
    /// The artifacts used.
    pub artifacts: Vec<standins::lambda::ArtifactUse>,
    /// Invocations, errors, timeouts, crashes, cold starts, by function.
    pub functions: BTreeMap<String, standins::lambda::FunctionStats>,
    /// Environment the harness set beyond the template's and Lambda's, with why.
    pub harness_overrides: Vec<String>,
}

impl LambdaReport {
    /// The handlers ran in the harness's process.
    pub fn in_process() -> Self {
        Self {
            mode: standins::lambda::LambdaMode::InProcess,
            artifacts: Vec::new(),
            functions: BTreeMap::new(),
            harness_overrides: Vec::new(),
        }
    }

    /// The deployed artifacts ran.
    pub fn artifacts(
        artifacts: Vec<standins::lambda::ArtifactUse>,
        functions: BTreeMap<String, standins::lambda::FunctionStats>,
    ) -> Self {
        Self {
            mode: standins::lambda::LambdaMode::Artifacts,
            artifacts,
            functions,
            harness_overrides: standins::lambda::HARNESS_OVERRIDES
                .iter()
                .map(|(name, why)| format!("{name}: {why}"))
                .collect(),
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// The scenario file.
    pub scenario_file: String,
    /// The world it ran in (`LocalStack at …`, `memory`).
    pub world: String,
    /// The seed used.
    pub seed: u64,
    /// Region.
    pub region: String,
    /// Simulated duration.
    pub duration: String,
    /// Simulated seconds per real second.
    pub speed: u32,
    /// When the simulated clock started, epoch milliseconds (the fault windows' and restarts'
    /// times count from here).
    pub started_ms: i64,
    /// The subscription's filter pattern.
    pub filter_pattern: String,
    /// Real seconds the run took.
    pub real_seconds: f64,
    /// Real seconds of each phase, in order (the background parts, the subscription and the
    /// agents, run through the phases beside them).
    pub phases: Vec<PhaseTime>,
    /// Resources applied, by outcome.
    pub provisioned: BTreeMap<String, usize>,
    /// Instance counts.
    pub instances: InstanceCounts,
    /// Every instance.
    pub instance_details: Vec<InstanceReport>,
    /// Queue messages the onboarding handler refused as events, with its error.
    pub rejected_events: Vec<String>,
    /// Asynchronous retries of failed onboarding invocations (Lambda's).
    pub onboarding_retries: usize,
    /// Events Lambda gave up on after its retries, sent to the functions' dead-letter queues
    /// (`loglab redrive` sends them back).
    pub dead_letters: Vec<standins::lambda::retries::DeadLetter>,
    /// What sending them to their queues met (nothing when each was sent).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dead_letter_errors: Vec<String>,
    /// Payloads that met the bug of `[[faults.poison]]`.
    pub poisoned_payloads: usize,
    /// The stack's alarms, evaluated on the run's measurements: which would have fired.
    pub alarms: Vec<crate::alarms::AlarmVerdict>,
    /// What the redrive recovered from the ETL's dead-letter queue (`redrive = true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive: Option<crate::run::redrive::RedriveReport>,
    /// The ledger against the bucket.
    pub reconciliation: Reconciliation,
    /// The subscription invoker.
    pub subscription: SubscriptionReport,
    /// How the functions ran.
    pub lambda: LambdaReport,
    /// What the harness's Firehose delivered: records, objects, bytes in and out.
    pub delivery: standins::firehose::DeliveryStats,
    /// The CloudWatch agents.
    pub agents: Vec<AgentReport>,
    /// The `[[faults.inject]]` rules: how often each hit, and the SDK's attempts, retries and
    /// backoff per operation that met a fault or retried.
    pub faults: standins::faults::FaultRecord,
    /// The scenario's faults this world does not apply, each with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults_not_applied: Vec<String>,
    /// The emulator's restarts (`[[faults.restart]]`): when, how long it was down, how long
    /// the stack took to apply again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub restarts: Vec<standins::faults::RestartRecord>,
    /// The bucket.
    pub landed: LandedCounts,
    /// The catalog and the expected queries.
    pub query_stage: QueryStage,
    /// Every check.
    pub checks: Vec<Check>,
    /// Whether every check passed.
    pub passed: bool,
    /// Where this run's harness differs from AWS, from the fidelity table: the emulator gaps
    /// it stood in for and the differences that remain.
    pub aws_differences: Vec<AwsDifference>,
    /// What the same workload would cost on AWS, per service, for the run and per month.
    pub cost: crate::cost::CostEstimate,
    /// IAM's decision on every call the functions made, and the grants they used (worlds that
    /// record the functions' SDK calls: the emulators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<PermissionsReport>,
    /// The applied stack read back (worlds with an emulator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditReport>,
}

/// One phase's real time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseTime {
    /// The phase (`launch`, `drain`, …).
    pub phase: &'static str,
    /// Real seconds it took.
    pub seconds: f64,
}

/// The phases' real times as the run goes.
#[derive(Debug)]
pub(super) struct Laps {
    last: std::time::Instant,
    phases: Vec<PhaseTime>,
}

impl Laps {
    pub(super) fn start() -> Self {
        Self {
            last: std::time::Instant::now(),
            phases: Vec::new(),
        }
    }

    /// The phase that ends now.
    pub(super) fn lap(&mut self, phase: &'static str) {
        let now = std::time::Instant::now();
        self.phases.push(PhaseTime {
            phase,
            seconds: now.duration_since(self.last).as_secs_f64(),
        });
        self.last = now;
    }

    pub(super) fn finish(self) -> Vec<PhaseTime> {
        self.phases
    }
}

/// What [`build`] needs.
#[derive(Debug)]
pub(super) struct Inputs<'a> {
    pub loaded: &'a LoadedScenario,
    pub seed: u64,
    /// When the simulated clock started (epoch ms).
    pub started_ms: i64,
    /// How the world names itself.
    pub world: String,
    /// The world's emulator (the memory world has none).
    pub emulator: Option<pipeline::emulator::Emulator>,
    pub applied: &'a [Applied],
    pub launched: &'a [LaunchedInstance],
    pub shipped: Shipped,
    pub delivered: Delivered,
    pub faults: standins::faults::FaultRecord,
    pub not_applied: Vec<String>,
    pub restarts: Vec<standins::faults::RestartRecord>,
    pub landed: &'a Landed,
    pub reconciliation: Reconciliation,
    pub query_stage: QueryStage,
    pub real_seconds: f64,
    pub phases: Vec<PhaseTime>,
    /// Bytes of the messages PutLogEvents accepted (the ledger's count).
    pub ingested_bytes: u64,
    /// The cost estimate's price table.
    pub prices: &'a crate::cost::Prices,
    /// IAM's decisions on the functions' calls, where the world records them.
    pub permissions: Option<PermissionsReport>,
    /// The applied stack read back.
    pub audit: Option<AuditReport>,
}

/// The run's workload as the cost estimate prices it.
fn workload(inputs: &Inputs<'_>) -> crate::cost::Workload {
    use crate::cost::{FunctionUse, Workload};
    let definition = &inputs.loaded.stack.definition;
    let (subscription, lambda, delivery) = (
        &inputs.delivered.subscription,
        &inputs.delivered.lambda,
        &inputs.delivered.delivery,
    );
    // The artifacts' figures are kept by the binary each function is built from.
    let [etl_binary, onboarding_binary] = stack::artifacts::FUNCTIONS.map(|f| f.binary);
    let measured = |binary: &str| lambda.functions.get(binary).map(|stats| stats.duration_ms);
    let onboarding_invocations: usize = inputs.shipped.outcomes.values().map(Vec::len).sum();
    let functions = vec![
        FunctionUse {
            name: definition.logs.etl_function_name.clone(),
            invocations: subscription.invocations as u64,
            billed_ms: measured(etl_binary).or(Some(subscription.handler_billed_ms)),
            memory_mb: u64::from(stack::resources::ETL_MEMORY_MB),
            arm64: false,
        },
        FunctionUse {
            name: definition.onboarding.function_name.clone(),
            invocations: onboarding_invocations as u64,
            billed_ms: measured(onboarding_binary),
            memory_mb: u64::from(stack::resources::ONBOARDING_MEMORY_MB),
            arm64: false,
        },
    ];
    let bucket = &definition.bucket;
    Workload {
        seconds: inputs.loaded.scenario.duration.as_millis() as f64 / 1000.0,
        ingested_bytes: inputs.ingested_bytes,
        retention_days: definition.logs.retention_days as f64,
        functions,
        firehose_bytes: delivery.bytes_in as u64,
        firehose_billed_bytes: delivery.billed_bytes,
        converted: definition.firehose.converts().is_some(),
        puts: delivery.write_attempts as u64,
        stored_bytes: inputs.landed.bytes as u64,
        object_sizes: inputs.landed.object_sizes.clone(),
        transitions: bucket
            .transitions
            .iter()
            .map(|t| (t.days as f64, t.storage_class.clone()))
            .collect(),
        expiration_days: bucket.expiration_days as f64,
        noncurrent_days: stack::resources::NONCURRENT_VERSION_DAYS as f64,
        query_bytes: inputs
            .query_stage
            .checks
            .iter()
            .map(|c| c.bytes_scanned)
            .collect(),
        crawler: Some(crate::cost::CrawlerUse {
            schedule: definition.catalog.crawler_schedule.clone(),
            runs_per_hour: crate::cost::cron_runs_per_hour(&definition.catalog.crawler_schedule),
            deployed: definition.catalog.mode == stack::CatalogMode::Crawler,
        }),
        dead_letter_requests: dead_letter_requests(inputs),
    }
}

/// SQS requests on the dead-letter queues: one SendMessage per dead letter, a ReceiveMessage
/// per letter the redrive received and a DeleteMessage per letter it recovered.
fn dead_letter_requests(inputs: &Inputs<'_>) -> u64 {
    let sent = inputs.shipped.dead_letters.len() + inputs.delivered.subscription.dead_letters.len();
    let redriven = inputs
        .delivered
        .redrive
        .as_ref()
        .map_or(0, |r| r.letters + r.recovered);
    (sent + redriven) as u64
}

pub(super) fn decision_name(decision: Decision) -> &'static str {
    match decision {
        Decision::Onboarded => "onboarded",
        Decision::Skipped => "skipped",
        Decision::Ignored => "ignored",
        Decision::Failed => "failed",
    }
}

/// One row of the fidelity table that matters for the run.
#[derive(Debug, Clone, Serialize)]
pub struct AwsDifference {
    /// `emulator gap` or `difference`.
    pub kind: &'static str,
    /// The area (Firehose, agent, ...).
    pub area: &'static str,
    /// What AWS does.
    pub aws: &'static str,
    /// What the harness does instead.
    pub harness: &'static str,
}

/// The fidelity rows that matter for a run with these instances, agents and functions.
fn aws_differences(inputs: &Inputs<'_>) -> Vec<AwsDifference> {
    let stack = &inputs.loaded.stack;
    let agents = &inputs.shipped.agents;
    let os = |wanted: crate::scenario::Os| inputs.launched.iter().any(|i| i.plan.os == wanted);
    let facts = crate::fidelity::RunFacts {
        windows: os(crate::scenario::Os::Windows),
        linux: os(crate::scenario::Os::Linux),
        lambda_artifacts: !inputs.delivered.lambda.artifacts.is_empty(),
        journald: [&stack.linux_agent_config, &stack.windows_agent_config]
            .iter()
            .any(|c| c.logs_collected().is_some_and(|l| l.journald.is_some())),
        truncated: agents.iter().any(|a| a.events_truncated > 0),
        mid_event_records: agents.iter().any(|a| a.records_starting_mid_event > 0),
        memory_backend: inputs.emulator.is_none(),
        ministack: inputs.emulator == Some(pipeline::emulator::Emulator::MiniStack),
        restarts: !inputs.restarts.is_empty(),
    };
    crate::fidelity::relevant(&facts)
        .into_iter()
        .map(|row| AwsDifference {
            kind: match row.kind {
                crate::fidelity::Kind::EmulatorGap => "emulator gap",
                _ => "difference",
            },
            area: row.area,
            aws: row.aws,
            harness: row.harness,
        })
        .collect()
}

/// Resources applied, by outcome.
fn provisioned(applied: &[Applied]) -> BTreeMap<String, usize> {
    let mut provisioned = BTreeMap::new();
    for applied in applied {
        let key = match applied.outcome {
            Outcome::Created => "created",
            Outcome::Updated(_) => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Skipped(_) => "skipped",
        };
        *provisioned.entry(key.to_owned()).or_insert(0) += 1;
    }
    provisioned
}

/// Every instance with its last outcome and what its SSM agent ran, and the counts.
fn instances(
    launched: &[LaunchedInstance],
    outcomes: &BTreeMap<String, Vec<OnboardingOutcome>>,
    mut command_logs: BTreeMap<String, Vec<CommandLog>>,
    times: &InstanceTimes<'_>,
) -> (InstanceCounts, Vec<InstanceReport>) {
    let mut counts = InstanceCounts {
        launched: launched.len(),
        ..InstanceCounts::default()
    };
    let details = launched
        .iter()
        .map(|instance| {
            let outcome = outcomes.get(&instance.instance_id).and_then(|o| o.last());
            match outcome.map(|o| o.decision) {
                Some(Decision::Onboarded) => counts.onboarded += 1,
                Some(Decision::Skipped | Decision::Ignored) => counts.skipped += 1,
                Some(Decision::Failed) => counts.failed += 1,
                None => counts.no_outcome += 1,
            }
            InstanceReport {
                name: instance.plan.name.clone(),
                instance_id: instance.instance_id.clone(),
                os: format!("{:?}", instance.plan.os).to_lowercase(),
                tags: instance.plan.tags.clone(),
                registers: instance.plan.registers,
                decision: outcome
                    .map_or("none", |o| decision_name(o.decision))
                    .to_owned(),
                reason: outcome.map(|o| o.reason.clone()).unwrap_or_default(),
                commands: command_logs
                    .remove(&instance.instance_id)
                    .unwrap_or_default(),
                timeline: times.of(instance),
            }
        })
        .collect();
    (counts, details)
}

/// Where the instances' onboarding times come from.
struct InstanceTimes<'a> {
    registration_delay_ms: i64,
    agents: &'a [standins::cloudwatch_agent::AgentReport],
    first_landed_ms: &'a BTreeMap<String, i64>,
}

impl InstanceTimes<'_> {
    fn of(&self, instance: &LaunchedInstance) -> InstanceTimeline {
        let name = &instance.plan.name;
        InstanceTimeline {
            launched_ms: instance.launched_at_ms,
            registered_ms: instance
                .plan
                .registers
                .then(|| instance.registered_at_ms(self.registration_delay_ms)),
            agent_started_ms: self
                .agents
                .iter()
                .find(|a| &a.instance == name)
                .map(|a| a.started_ms),
            first_landed_ms: self.first_landed_ms.get(name).copied(),
        }
    }
}

/// Landed copies from the streams of instances that were not onboarded.
fn from_not_onboarded(landed: &Landed, details: &[InstanceReport]) -> usize {
    let not_onboarded: Vec<&str> = details
        .iter()
        .filter(|d| d.decision != "onboarded")
        .map(|d| d.instance_id.as_str())
        .collect();
    landed
        .copies_by_stream
        .iter()
        .filter(|(stream, _)| not_onboarded.iter().any(|id| stream.ends_with(id)))
        .map(|(_, copies)| copies)
        .sum()
}

pub(super) fn build(inputs: Inputs<'_>) -> RunReport {
    let aws_differences = aws_differences(&inputs);
    let cost = crate::cost::estimate(&workload(&inputs), inputs.prices);
    let scenario = &inputs.loaded.scenario;
    let (counts, details) = instances(
        inputs.launched,
        &inputs.shipped.outcomes,
        inputs.shipped.command_logs,
        &InstanceTimes {
            registration_delay_ms: scenario.onboarding.registration_delay.as_millis(),
            agents: &inputs.shipped.agents,
            first_landed_ms: &inputs.reconciliation.latency.first_landed_ms,
        },
    );
    let dead_letters: Vec<_> = inputs
        .shipped
        .dead_letters
        .iter()
        .chain(&inputs.delivered.subscription.dead_letters)
        .cloned()
        .collect();
    let dead_letter_errors: Vec<String> = inputs
        .shipped
        .dead_letter_errors
        .iter()
        .chain(&inputs.delivered.dead_letter_errors)
        .cloned()
        .collect();
    let alarms = crate::alarms::evaluate(
        &inputs.loaded.stack.definition,
        &crate::alarms::Measured {
            dead_letters: count_by_function(&dead_letters),
            first_dead_letter_ms: first_by_function(&dead_letters),
            errors: {
                let mut errors = count_by_function(&dead_letters);
                let definition = &inputs.loaded.stack.definition;
                errors.push((
                    definition.logs.etl_function_name.clone(),
                    inputs.delivered.subscription.retried_invocations,
                ));
                errors.push((
                    definition.onboarding.function_name.clone(),
                    inputs.shipped.retries,
                ));
                errors
            },
            freshness_seconds: inputs.delivered.delivery.max_freshness_ms as f64 / 1000.0,
            failed_conversions: inputs.delivered.delivery.records_failed_conversion,
        },
    );
    let checks = checks::run_checks(&checks::Observed {
        dead_letters: &dead_letters,
        dead_letter_errors: &dead_letter_errors,
        redrive: inputs.delivered.redrive.as_ref(),
        poisoned: inputs.delivered.poisoned,
        reconciliation: &inputs.reconciliation,
        counts: &counts,
        expect: &scenario.expect,
        subscription: &inputs.delivered.subscription,
        landed: inputs.landed,
        from_not_onboarded: from_not_onboarded(inputs.landed, &details),
        rejected_events: inputs.shipped.rejected_events.len(),
        restarts: &inputs.restarts,
        faults: &inputs.faults,
        query_stage: &inputs.query_stage,
        agents: &inputs.shipped.agents,
        delivery: &inputs.delivered.delivery,
        permissions: inputs.permissions.as_ref(),
        audit: inputs.audit.as_ref(),
    });
    let passed = checks.iter().all(|c| c.passed);
    RunReport {
        scenario: scenario.name.clone(),
        scenario_file: inputs.loaded.path.display().to_string(),
        world: inputs.world,
        seed: inputs.seed,
        region: scenario.region.clone(),
        duration: scenario.duration.to_string(),
        speed: scenario.speed,
        started_ms: inputs.started_ms,
        filter_pattern: inputs.loaded.stack.definition.logs.filter_pattern.clone(),
        real_seconds: inputs.real_seconds,
        phases: inputs.phases,
        provisioned: provisioned(inputs.applied),
        instances: counts,
        instance_details: details,
        rejected_events: inputs.shipped.rejected_events,
        onboarding_retries: inputs.shipped.retries,
        dead_letters,
        dead_letter_errors,
        redrive: inputs.delivered.redrive.clone(),
        poisoned_payloads: inputs.delivered.poisoned,
        alarms,
        reconciliation: inputs.reconciliation,
        subscription: inputs.delivered.subscription,
        lambda: inputs.delivered.lambda,
        delivery: inputs.delivered.delivery,
        agents: inputs.shipped.agents,
        faults: inputs.faults,
        faults_not_applied: inputs.not_applied,
        restarts: inputs.restarts,
        landed: LandedCounts {
            objects: inputs.landed.objects,
            bytes: inputs.landed.bytes,
            rows: inputs.landed.rows,
            event_copies: inputs.landed.event_copies,
            error_objects: inputs.landed.error_objects,
            unreadable: inputs.landed.unreadable.iter().take(10).cloned().collect(),
        },
        query_stage: inputs.query_stage,
        checks,
        passed,
        aws_differences,
        cost,
        permissions: inputs.permissions,
        audit: inputs.audit,
    }
}

/// The first of `letters`' times, per function.
fn first_by_function(letters: &[standins::lambda::retries::DeadLetter]) -> Vec<(String, i64)> {
    let mut first: BTreeMap<String, i64> = BTreeMap::new();
    for letter in letters {
        if let Some(at) = letter.at_ms {
            let entry = first.entry(letter.function.clone()).or_insert(at);
            *entry = (*entry).min(at);
        }
    }
    first.into_iter().collect()
}

/// How many of `letters` each function has.
fn count_by_function(letters: &[standins::lambda::retries::DeadLetter]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for letter in letters {
        *counts.entry(letter.function.clone()).or_default() += 1;
    }
    counts.into_iter().collect()
}
