//! The report of a run: per-stage counts, every instance with its onboarding outcome, the
//! ledger's reconciliation, and the checks (the pipeline's invariants and the scenario's
//! expectations) that decide the exit status. Serialised as JSON for CI; `run::summary`
//! renders the table people read.

use std::collections::BTreeMap;

use pipeline::onboard::{Decision, OnboardingOutcome};
use serde::Serialize;

use crate::cloudwatch_agent::agent::AgentReport;
use crate::fleet::LaunchedInstance;
use crate::invoker::subscription::SubscriptionReport;
use crate::landed::Landed;
use crate::ledger::Reconciliation;
use crate::run::queries::QueryStage;

pub use super::summary::summary;
use crate::scenario::LoadedScenario;
use crate::ssm_agent::CommandLog;
use stack::provision::{Applied, Outcome};

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

/// One check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// The expected value.
    pub expected: String,
    /// The value found.
    pub actual: String,
    /// Whether they agree.
    pub passed: bool,
    /// More about a failure (a query's rows and their difference, the sources off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
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
    pub mode: crate::lambda::LambdaMode,
    /// The artifacts used.
    pub artifacts: Vec<crate::lambda::ArtifactUse>,
    /// Invocations, errors, timeouts, crashes, cold starts, by function.
    pub functions: BTreeMap<String, crate::lambda::FunctionStats>,
    /// Environment the harness set beyond the template's and Lambda's, with why.
    pub harness_overrides: Vec<String>,
}

impl LambdaReport {
    /// The handlers ran in the harness's process.
    pub fn in_process() -> Self {
        Self {
            mode: crate::lambda::LambdaMode::InProcess,
            artifacts: Vec::new(),
            functions: BTreeMap::new(),
            harness_overrides: Vec::new(),
        }
    }

    /// The deployed artifacts ran.
    pub fn artifacts(
        artifacts: Vec<crate::lambda::ArtifactUse>,
        functions: BTreeMap<String, crate::lambda::FunctionStats>,
    ) -> Self {
        Self {
            mode: crate::lambda::LambdaMode::Artifacts,
            artifacts,
            functions,
            harness_overrides: crate::lambda::HARNESS_OVERRIDES
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
    /// The seed used.
    pub seed: u64,
    /// Region.
    pub region: String,
    /// Simulated duration.
    pub duration: String,
    /// Simulated seconds per real second.
    pub speed: u32,
    /// The subscription's filter pattern.
    pub filter_pattern: String,
    /// Real seconds the run took.
    pub real_seconds: f64,
    /// Resources applied, by outcome.
    pub provisioned: BTreeMap<String, usize>,
    /// Instance counts.
    pub instances: InstanceCounts,
    /// Every instance.
    pub instance_details: Vec<InstanceReport>,
    /// Queue messages the onboarding handler refused as events, with its error.
    pub rejected_events: Vec<String>,
    /// The ledger against the bucket.
    pub reconciliation: Reconciliation,
    /// The subscription invoker.
    pub subscription: SubscriptionReport,
    /// How the functions ran.
    pub lambda: LambdaReport,
    /// What the harness's Firehose delivered: records, objects, bytes in and out.
    pub delivery: crate::firehose_model::endpoint::DeliveryStats,
    /// The CloudWatch agents.
    pub agents: Vec<AgentReport>,
    /// The `[[faults.inject]]` rules: how often each hit, and the SDK's attempts, retries and
    /// backoff per operation that met a fault or retried.
    pub faults: crate::faults::FaultRecord,
    /// The emulator's restarts (`[[faults.restart]]`): when, how long it was down, how long
    /// the stack took to apply again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub restarts: Vec<crate::faults::RestartRecord>,
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
}

/// What [`build`] needs.
#[derive(Debug)]
pub(super) struct Inputs<'a> {
    pub loaded: &'a LoadedScenario,
    pub seed: u64,
    pub applied: &'a [Applied],
    pub launched: &'a [LaunchedInstance],
    pub outcomes: &'a BTreeMap<String, Vec<OnboardingOutcome>>,
    pub rejected_events: Vec<String>,
    /// Each SSM agent's command log, by instance id.
    pub command_logs: BTreeMap<String, Vec<CommandLog>>,
    pub agents: Vec<AgentReport>,
    pub subscription: SubscriptionReport,
    pub lambda: LambdaReport,
    pub delivery: crate::firehose_model::endpoint::DeliveryStats,
    pub faults: crate::faults::FaultRecord,
    pub restarts: Vec<crate::faults::RestartRecord>,
    pub landed: &'a Landed,
    pub reconciliation: Reconciliation,
    pub query_stage: QueryStage,
    pub real_seconds: f64,
    /// The run used the memory backend.
    pub memory_backend: bool,
    /// Bytes of the messages PutLogEvents accepted (the ledger's count).
    pub ingested_bytes: u64,
    /// The cost estimate's price table.
    pub prices: &'a crate::cost::Prices,
}

/// The run's workload as the cost estimate prices it.
fn workload(inputs: &Inputs<'_>) -> crate::cost::Workload {
    use crate::cost::{FunctionUse, Workload};
    let definition = &inputs.loaded.stack.definition;
    let names = [
        &definition.logs.etl_function_name,
        &definition.onboarding.function_name,
    ];
    // The artifacts' figures are kept by the binary each function is built from.
    let [etl_binary, onboarding_binary] = stack::artifacts::FUNCTIONS.map(|f| f.binary);
    let measured = |binary: &str| {
        inputs
            .lambda
            .functions
            .get(binary)
            .map(|stats| stats.duration_ms)
    };
    let onboarding_invocations: usize = inputs.outcomes.values().map(Vec::len).sum();
    let functions = vec![
        FunctionUse {
            name: names[0].clone(),
            invocations: inputs.subscription.invocations as u64,
            billed_ms: measured(etl_binary).or(Some(inputs.subscription.handler_billed_ms)),
            memory_mb: u64::from(stack::resources::ETL_MEMORY_MB),
            arm64: false,
        },
        FunctionUse {
            name: names[1].clone(),
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
        firehose_bytes: inputs.delivery.bytes_in as u64,
        firehose_billed_bytes: inputs.delivery.billed_bytes,
        converted: definition.firehose.converts().is_some(),
        puts: inputs.delivery.write_attempts as u64,
        stored_bytes: inputs.landed.bytes as u64,
        transitions: bucket
            .transitions
            .iter()
            .map(|t| (t.days as f64, t.storage_class.clone()))
            .collect(),
        expiration_days: bucket.expiration_days as f64,
        query_bytes: inputs
            .query_stage
            .checks
            .iter()
            .map(|c| c.bytes_scanned)
            .collect(),
    }
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
    let os = |wanted: crate::scenario::Os| inputs.launched.iter().any(|i| i.plan.os == wanted);
    let facts = crate::fidelity::RunFacts {
        windows: os(crate::scenario::Os::Windows),
        linux: os(crate::scenario::Os::Linux),
        lambda_artifacts: !inputs.lambda.artifacts.is_empty(),
        journald: [&stack.linux_agent_config, &stack.windows_agent_config]
            .iter()
            .any(|c| c.logs_collected().is_some_and(|l| l.journald.is_some())),
        truncated: inputs.agents.iter().any(|a| a.events_truncated > 0),
        mid_event_records: inputs
            .agents
            .iter()
            .any(|a| a.records_starting_mid_event > 0),
        memory_backend: inputs.memory_backend,
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

pub(super) fn build(inputs: Inputs<'_>) -> RunReport {
    let aws_differences = aws_differences(&inputs);
    let cost = crate::cost::estimate(&workload(&inputs), inputs.prices);
    let scenario = &inputs.loaded.scenario;
    let mut provisioned = BTreeMap::new();
    for applied in inputs.applied {
        let key = match applied.outcome {
            Outcome::Created => "created",
            Outcome::Updated(_) => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Skipped(_) => "skipped",
        };
        *provisioned.entry(key.to_owned()).or_insert(0) += 1;
    }
    let mut logs_by_instance = inputs.command_logs;
    let mut counts = InstanceCounts {
        launched: inputs.launched.len(),
        ..InstanceCounts::default()
    };
    let mut details = Vec::new();
    let mut not_onboarded_streams = Vec::new();
    for instance in inputs.launched {
        let outcome = inputs
            .outcomes
            .get(&instance.instance_id)
            .and_then(|o| o.last());
        match outcome.map(|o| o.decision) {
            Some(Decision::Onboarded) => counts.onboarded += 1,
            Some(Decision::Skipped | Decision::Ignored) => counts.skipped += 1,
            Some(Decision::Failed) => counts.failed += 1,
            None => counts.no_outcome += 1,
        }
        if outcome.map(|o| o.decision) != Some(Decision::Onboarded) {
            not_onboarded_streams.push(instance.instance_id.clone());
        }
        details.push(InstanceReport {
            name: instance.plan.name.clone(),
            instance_id: instance.instance_id.clone(),
            os: format!("{:?}", instance.plan.os).to_lowercase(),
            tags: instance.plan.tags.clone(),
            registers: instance.plan.registers,
            decision: outcome
                .map_or("none", |o| decision_name(o.decision))
                .to_owned(),
            reason: outcome.map(|o| o.reason.clone()).unwrap_or_default(),
            commands: logs_by_instance
                .remove(&instance.instance_id)
                .unwrap_or_default(),
        });
    }
    let r = &inputs.reconciliation;
    let from_not_onboarded: usize = inputs
        .landed
        .copies_by_stream
        .iter()
        .filter(|(stream, _)| {
            not_onboarded_streams
                .iter()
                .any(|id| stream.ends_with(id.as_str()))
        })
        .map(|(_, copies)| copies)
        .sum();
    let delivered: usize = inputs.subscription.read.values().sum();
    let mut checks = Vec::new();
    let mut check = |name: &str, expected: String, actual: String| {
        checks.push(Check {
            passed: expected == actual,
            name: name.to_owned(),
            expected,
            actual,
            detail: None,
        });
    };
    check(
        "every record has a fate",
        "0 unaccounted".into(),
        format!("{} unaccounted", r.totals.unaccounted),
    );
    // Events sent before an emulator restart may have gone with its state unread (and a
    // redelivered copy with them): between the bounds.
    let at_risk = (
        r.events_sent_before_restart,
        r.events_expected_before_restart,
    );
    let redelivered = inputs.subscription.redelivered_events;
    let lost_copies = if inputs.restarts.is_empty() {
        0
    } else {
        redelivered
    };
    let ranged = [
        within(
            "the subscription read every accepted event",
            delivered,
            r.totals.events_sent - at_risk.0,
            r.totals.events_sent,
        ),
        within(
            "the filter pattern passed what the ledger expects",
            inputs.subscription.matched,
            r.totals.events_expected - at_risk.1,
            r.totals.events_expected,
        ),
        within(
            "every duplicate is a redelivered event, counted once",
            r.duplicates,
            redelivered - lost_copies,
            redelivered,
        ),
    ];
    check(
        "every invocation of the ETL handler succeeded",
        "0 failed events".into(),
        format!("{} failed events", inputs.subscription.failed_events),
    );

    check(
        "every expected event landed",
        "0 missing".into(),
        format!("{} missing", r.missing),
    );
    check(
        "nothing unexpected landed",
        "0 unexpected".into(),
        format!("{} unexpected", r.unexpected),
    );
    check(
        "no row from an instance that is not onboarded",
        "0".into(),
        from_not_onboarded.to_string(),
    );
    check(
        "every landed row reads back",
        "0 unreadable".into(),
        format!("{} unreadable", inputs.landed.unreadable.len()),
    );
    check(
        "nothing under the error prefix",
        "0 objects".into(),
        format!("{} objects", inputs.landed.error_objects),
    );
    check(
        "the onboarding handler accepted every delivered event",
        "0 refused".into(),
        format!("{} refused", inputs.rejected_events.len()),
    );
    check(
        "every instance has an onboarding outcome",
        "0 without".into(),
        format!("{} without", counts.no_outcome),
    );
    let expect = &scenario.expect;
    for (name, expected, actual) in [
        ("expect.launched", expect.launched, counts.launched),
        ("expect.onboarded", expect.onboarded, counts.onboarded),
        ("expect.skipped", expect.skipped, counts.skipped),
        ("expect.failed", expect.failed, counts.failed),
    ] {
        if let Some(expected) = expected {
            check(name, expected.to_string(), actual.to_string());
        }
    }
    for (name, minimum, actual) in [
        (
            "expect.min_events_landed",
            expect.min_events_landed,
            r.events_landed,
        ),
        (
            "expect.min_events_filtered",
            expect.min_events_filtered,
            r.totals.events_filtered,
        ),
    ] {
        if let Some(minimum) = minimum {
            checks.push(Check {
                name: name.to_owned(),
                expected: format!(">= {minimum}"),
                actual: actual.to_string(),
                passed: actual >= minimum,
                detail: None,
            });
        }
    }
    checks.extend(ranged);
    if !inputs.restarts.is_empty() {
        let failed: Vec<String> = inputs
            .restarts
            .iter()
            .filter_map(|r| Some(format!("{}: {}", r.at, r.error.as_deref()?)))
            .collect();
        checks.push(Check {
            name: "every emulator restart recovered (the stack applied again)".to_owned(),
            expected: format!("{} recovered", inputs.restarts.len()),
            actual: format!("{} recovered", inputs.restarts.len() - failed.len()),
            passed: failed.is_empty(),
            detail: (!failed.is_empty()).then(|| failed.join("\n")),
        });
    }
    if !inputs.faults.rules.is_empty() {
        // A rule that no call matched is a typo or a window outside the run; a rule that
        // matched calls but drew no hit is chance, and its counts are in the report.
        let unmatched: Vec<&str> = inputs
            .faults
            .rules
            .iter()
            .filter(|rule| rule.covered == 0)
            .map(|rule| rule.rule.as_str())
            .collect();
        checks.push(Check {
            name: "every fault rule matched calls".to_owned(),
            expected: "0 rules without a call".to_owned(),
            actual: format!("{} rules without a call", unmatched.len()),
            passed: unmatched.is_empty(),
            detail: (!unmatched.is_empty()).then(|| {
                format!(
                    "no call matched (check service, operation and window): {}",
                    unmatched.join("; ")
                )
            }),
        });
    }
    checks.push(line_accounting(r));
    query_checks(&inputs.query_stage, inputs.landed, &mut checks);
    let passed = checks.iter().all(|c| c.passed);
    RunReport {
        scenario: scenario.name.clone(),
        scenario_file: inputs.loaded.path.display().to_string(),
        seed: inputs.seed,
        region: scenario.region.clone(),
        duration: scenario.duration.to_string(),
        speed: scenario.speed,
        filter_pattern: inputs.loaded.stack.definition.logs.filter_pattern.clone(),
        real_seconds: inputs.real_seconds,
        provisioned,
        instances: counts,
        instance_details: details,
        rejected_events: inputs.rejected_events,
        reconciliation: inputs.reconciliation.clone(),
        subscription: inputs.subscription,
        lambda: inputs.lambda,
        delivery: inputs.delivery,
        agents: inputs.agents,
        faults: inputs.faults,
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
    }
}

/// For every instance and source: lines generated = delivered + filtered + dropped by a
/// stated rule.
/// A check that `actual` is `low` (exactly, when `high` is the same) or within `low..=high`
/// (after an emulator restart, what went with its state is the margin).
fn within(name: &str, actual: usize, low: usize, high: usize) -> Check {
    Check {
        name: name.to_owned(),
        expected: if low == high {
            low.to_string()
        } else {
            format!("{low}..={high}")
        },
        actual: actual.to_string(),
        passed: (low..=high).contains(&actual),
        detail: None,
    }
}

fn line_accounting(r: &Reconciliation) -> Check {
    let mut off = Vec::new();
    for (instance, sources) in &r.by_source {
        for (source, counts) in sources {
            let lost = counts.lines_unaccounted();
            if lost > 0 {
                off.push(format!("{instance} {source}: {lost} of {}", counts.lines));
            }
        }
    }
    let lost: usize = off.len();
    Check {
        name: "every line generated is delivered, filtered or dropped by a stated rule (per instance and source)".into(),
        expected: "0 sources with lines unaccounted".into(),
        actual: format!("{lost} sources with lines unaccounted"),
        passed: off.is_empty(),
        detail: (!off.is_empty()).then(|| off.join("\n")),
    }
}

/// The catalog's and the expected queries' checks.
fn query_checks(stage: &QueryStage, landed: &Landed, checks: &mut Vec<Check>) {
    let Some(catalog) = &stage.catalog else {
        checks.push(Check {
            name: "the bucket is catalogued and queried".into(),
            expected: "a table".into(),
            actual: "no table".into(),
            passed: false,
            detail: stage.error.clone(),
        });
        return;
    };
    let mut check = |name: &str, expected: String, actual: String, detail: Option<String>| {
        checks.push(Check {
            passed: expected == actual,
            name: name.to_owned(),
            expected,
            actual,
            detail,
        });
    };
    check(
        "the catalog holds every landed object",
        format!("{} objects", landed.objects),
        format!("{} objects", catalog.objects),
        None,
    );
    check(
        "SQL reads every landed row",
        format!("{} rows", landed.rows),
        format!("{} rows", catalog.rows),
        stage.error.clone(),
    );
    check(
        "every sampled row is a JSON object",
        "0 bad rows".into(),
        format!("{} bad rows", catalog.bad_rows),
        None,
    );
    let mut names: Vec<&str> = catalog.columns.iter().map(|(n, _)| n.as_str()).collect();
    let mut declared: Vec<&str> = pipeline::etl::row::ROW_COLUMNS
        .iter()
        .map(|(n, _)| *n)
        .collect();
    names.sort_unstable();
    declared.sort_unstable();
    if landed.rows > 0 {
        check(
            "the catalog's columns are the row's columns (docs/rows.md)",
            declared.join(","),
            names.join(","),
            None,
        );
    }
    for query in &stage.checks {
        checks.push(Check {
            name: format!("query: {}", query.name),
            expected: format!("{} rows from the ledger", query.expected_rows),
            actual: if query.passed {
                format!("{} rows from the ledger", query.actual_rows)
            } else {
                format!("{} rows that differ", query.actual_rows)
            },
            passed: query.passed,
            detail: query.detail.clone(),
        });
    }
}
