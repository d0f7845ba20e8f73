//! The run's checks, one list in one style: each is a small value (what is checked, what was
//! expected, what was found, whether they agree, and why not), made by [`Check::count`],
//! [`Check::equal`], [`Check::at_least`] or [`Check::within`]. Every check of a run comes from
//! [`run_checks`]; the report, the summary and JUnit read the same list.

use std::fmt::Display;

use serde::Serialize;

use super::InstanceCounts;
use crate::landed::Landed;
use crate::ledger::Reconciliation;
use crate::run::queries::QueryStage;
use crate::scenario::Expectations;

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// What was expected.
    pub expected: String,
    /// What was found.
    pub found: String,
    /// Whether they agree.
    pub passed: bool,
    /// Why it failed, when there is more to say (a query's rows and their difference, the
    /// sources off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl Check {
    /// Passes when `found` reads as `expected`.
    pub fn equal(name: &str, expected: impl Display, found: impl Display) -> Self {
        let (expected, found) = (expected.to_string(), found.to_string());
        Self {
            name: name.to_owned(),
            passed: expected == found,
            expected,
            found,
            why: None,
        }
    }

    /// A count of `unit`: passes when `found` is `expected` (`0 missing`).
    pub fn count(name: &str, expected: usize, found: usize, unit: &str) -> Self {
        Self::equal(
            name,
            format!("{expected} {unit}"),
            format!("{found} {unit}"),
        )
    }

    /// Passes when `found` is at least `minimum`.
    pub fn at_least(name: &str, minimum: usize, found: usize) -> Self {
        Self {
            name: name.to_owned(),
            expected: format!(">= {minimum}"),
            found: found.to_string(),
            passed: found >= minimum,
            why: None,
        }
    }

    /// Passes when `found` is `low` (exactly, when `high` is the same) or within `low..=high`.
    pub fn within(name: &str, found: usize, low: usize, high: usize) -> Self {
        Self {
            name: name.to_owned(),
            expected: if low == high {
                low.to_string()
            } else {
                format!("{low}..={high}")
            },
            found: found.to_string(),
            passed: (low..=high).contains(&found),
            why: None,
        }
    }

    /// The same check, saying why when it fails.
    #[must_use]
    pub fn why(mut self, why: Option<String>) -> Self {
        self.why = why;
        self
    }
}

/// What the checks look at.
#[derive(Debug)]
pub(super) struct Observed<'a> {
    pub(super) reconciliation: &'a Reconciliation,
    pub(super) counts: &'a InstanceCounts,
    pub(super) expect: &'a Expectations,
    pub(super) subscription: &'a standins::subscription::SubscriptionReport,
    pub(super) landed: &'a Landed,
    /// Landed copies from instances that are not onboarded.
    pub(super) from_not_onboarded: usize,
    pub(super) rejected_events: usize,
    pub(super) restarts: &'a [standins::faults::RestartRecord],
    pub(super) faults: &'a standins::faults::FaultRecord,
    pub(super) query_stage: &'a QueryStage,
    /// Batches the agents gave up (`pusher/sender.go`), with the instances that did.
    pub(super) agents: &'a [standins::cloudwatch_agent::AgentReport],
    /// What the Firehose model delivered and gave up.
    pub(super) delivery: &'a standins::firehose::DeliveryStats,
    /// Events Lambda gave up on (both functions).
    pub(super) dead_letters: &'a [standins::lambda::retries::DeadLetter],
    /// What sending them to their queues met.
    pub(super) dead_letter_errors: &'a [String],
    /// What the redrive recovered, when the scenario redrives.
    pub(super) redrive: Option<&'a crate::run::redrive::RedriveReport>,
    /// Payloads that met the bug of `[[faults.poison]]`: each must be a dead letter.
    pub(super) poisoned: usize,
    /// IAM's decisions on the functions' calls, where the world records them.
    pub(super) permissions: Option<&'a super::PermissionsReport>,
    pub(super) audit: Option<&'a super::AuditReport>,
}

/// Every check of a run, in the order the report lists them.
pub(super) fn run_checks(o: &Observed<'_>) -> Vec<Check> {
    let r = o.reconciliation;
    let mut checks = vec![
        Check::count(
            "every record has a fate",
            0,
            r.totals.unaccounted,
            "unaccounted",
        ),
        Check::count("every expected event landed", 0, r.missing, "missing"),
        Check::count("nothing unexpected landed", 0, r.unexpected, "unexpected"),
        Check::equal(
            "no row from an instance that is not onboarded",
            0,
            o.from_not_onboarded,
        ),
        Check::count(
            "every landed row reads back",
            0,
            o.landed.unreadable.len(),
            "unreadable",
        ),
        Check::count(
            "nothing under the error prefix",
            0,
            o.landed.error_objects,
            "objects",
        ),
        Check::count(
            "the onboarding handler accepted every delivered event",
            0,
            o.rejected_events,
            "refused",
        ),
        Check::count(
            "every instance has an onboarding outcome",
            0,
            o.counts.no_outcome,
            "without",
        ),
    ];
    checks.extend(given_up(o));
    checks.extend(redrive_check(o));
    checks.extend(stage_by_stage(o));
    checks.extend(expectations(o));
    checks.extend(delivery_bounds(o));
    checks.extend(restart_check(o.restarts));
    checks.extend(fault_rule_check(o.faults));
    checks.extend(o.permissions.map(super::PermissionsReport::check));
    checks.extend(o.audit.map(super::AuditReport::check));
    checks.push(line_accounting(r));
    checks.push(latency_check(r));
    checks.extend(query_checks(o.query_stage, o.landed));
    checks
}

/// Every expected event that landed has its latency: the Firehose model kept when each object
/// landed, and the read-back found it (a row whose object the model did not write, or an
/// object read under another key, would go unmeasured).
fn latency_check(r: &crate::ledger::Reconciliation) -> Check {
    Check::equal(
        "every delivered event's latency is measured",
        r.events_landed.saturating_sub(r.unexpected),
        r.latency.events,
    )
}

/// What a part of the pipeline gave up after its retries: on AWS, data lost. Each is a failed
/// check; the lines it held are also named by the ledger's accounting.
fn given_up(o: &Observed<'_>) -> [Check; 4] {
    let dropping: Vec<String> = o
        .agents
        .iter()
        .filter(|a| a.batches_dropped > 0)
        .map(|a| format!("{}: {} batches", a.instance, a.batches_dropped))
        .collect();
    let dropped: usize = o.agents.iter().map(|a| a.batches_dropped).sum();
    let delivery = o.delivery;
    let letters: Vec<String> = o
        .dead_letters
        .iter()
        .map(|l| {
            format!(
                "{}: {} ({} log events): {}: {}",
                l.function, l.gave_up, l.log_events, l.error_code, l.error_message
            )
        })
        .collect();
    [
        Check::count(
            "Lambda gave up only on the events expected (dead letters, after its asynchronous retries)",
            o.expect.dead_lettered.unwrap_or(0) + o.poisoned,
            o.dead_letters.len(),
            "events",
        )
        .why((!letters.is_empty()).then(|| letters.join("\n"))),
        Check::count(
            "every dead letter reached its function's dead-letter queue",
            0,
            o.dead_letter_errors.len(),
            "not sent",
        )
        .why((!o.dead_letter_errors.is_empty()).then(|| o.dead_letter_errors.join("\n"))),
        Check::count(
            "the agents gave up no batch (pusher/sender.go)",
            0,
            dropped,
            "batches dropped",
        )
        .why((!dropping.is_empty()).then(|| dropping.join("\n"))),
        Check::count(
            "the Firehose model delivered every buffer (24-hour S3 retry window)",
            0,
            delivery.write_errors.len(),
            "objects given up",
        )
        .why((!delivery.write_errors.is_empty()).then(|| delivery.write_errors.join("\n"))),
    ]
}

/// `redrive = true`: every ETL dead letter was sent back and recovered.
fn redrive_check(o: &Observed<'_>) -> Option<Check> {
    let redrive = o.redrive?;
    let sent = o.subscription.dead_letters.len();
    Some(
        Check::count(
            "the redrive recovered every dead letter of the ETL",
            sent,
            redrive.recovered,
            "dead letters",
        )
        .why((!redrive.failed.is_empty()).then(|| redrive.failed.join("\n"))),
    )
}

/// What each stage handed on is what the next took, so that a loss is named by the stage
/// where it happened (the ledger's checks say how much was lost in all).
fn stage_by_stage(o: &Observed<'_>) -> [Check; 4] {
    let (sub, delivery, landed) = (o.subscription, o.delivery, o.landed);
    // Rows the ETL made, the redriven payloads' included.
    let etl_rows = sub.rows + o.redrive.map_or(0, |r| r.rows);
    let passed_on = (sub.matched + sub.redelivered_events).saturating_sub(sub.failed_events);
    let rows_check = if sub.retried_invocations == 0 {
        Check::count(
            "the Firehose model took every row the ETL made",
            etl_rows,
            delivery.rows_in,
            "rows",
        )
    } else {
        // A retried invocation may have delivered some of its rows before it failed; they
        // come again with the retry (duplicates the reconciliation counts by event id).
        Check::at_least(
            "the Firehose model took every row the ETL made (with retried invocations)",
            etl_rows,
            delivery.rows_in,
        )
    };
    let conversion_failures = delivery.records_failed_conversion;
    [
        Check::count(
            "the ETL read every event the subscription passed on",
            passed_on,
            sub.etl_events,
            "events",
        ),
        rows_check,
        Check::count(
            "every row the Firehose model took is in an object written or given up",
            delivery.rows_in,
            delivery.rows_written + delivery.rows_given_up + conversion_failures,
            "rows",
        ),
        Check::equal(
            "every object the Firehose model wrote reads back",
            format!(
                "{} objects, {} rows",
                delivery.objects, delivery.rows_written
            ),
            format!("{} objects, {} rows", landed.objects, landed.rows),
        ),
    ]
}

/// `[expect]`: counts of instances, and floors of events.
fn expectations(o: &Observed<'_>) -> Vec<Check> {
    let (expect, counts, r) = (o.expect, o.counts, o.reconciliation);
    let exact = [
        ("expect.launched", expect.launched, counts.launched),
        ("expect.onboarded", expect.onboarded, counts.onboarded),
        ("expect.skipped", expect.skipped, counts.skipped),
        ("expect.failed", expect.failed, counts.failed),
    ]
    .into_iter()
    .filter_map(|(name, expected, found)| Some(Check::equal(name, expected?, found)));
    let floors = [
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
    ]
    .into_iter()
    .filter_map(|(name, minimum, found)| Some(Check::at_least(name, minimum?, found)));
    exact.chain(floors).collect()
}

/// What the subscription read and passed, and the duplicates: exact, or within what an emulator
/// restart that could not carry its state across took with it (the events accepted before it
/// and not read).
fn delivery_bounds(o: &Observed<'_>) -> [Check; 3] {
    let r = o.reconciliation;
    let delivered: usize = o.subscription.read.values().sum();
    let at_risk = (
        r.events_sent_before_restart,
        r.events_expected_before_restart,
    );
    let redelivered = o.subscription.redelivered_events;
    // Copies can go only with a restart that could not carry the log group and the bucket
    // across (a failed check of its own).
    let lost_copies = if o.restarts.iter().any(|r| r.error.is_some()) {
        redelivered
    } else {
        0
    };
    [
        Check::within(
            "the subscription read every accepted event",
            delivered,
            r.totals.events_sent - at_risk.0,
            r.totals.events_sent,
        ),
        Check::within(
            "the filter pattern passed what the ledger expects",
            o.subscription.matched,
            r.totals.events_expected - at_risk.1,
            r.totals.events_expected,
        ),
        duplicates_check(o, redelivered - lost_copies, redelivered),
    ]
}

/// The duplicates are the redelivered events, exactly; where an invocation was retried, also
/// at most the rows its failed attempts delivered before failing (they come again with the
/// retry: a retry's duplicates, counted, not a loss).
fn duplicates_check(o: &Observed<'_>, low: usize, redelivered: usize) -> Check {
    let etl_rows = o.subscription.rows + o.redrive.map_or(0, |r| r.rows);
    let retry_rows = o.delivery.rows_in.saturating_sub(etl_rows);
    if o.subscription.retried_invocations == 0 || retry_rows == 0 {
        return Check::within(
            "every duplicate is a redelivered event, counted once",
            o.reconciliation.duplicates,
            low,
            redelivered,
        );
    }
    let check = Check::within(
        "every duplicate is a redelivered event or a retried invocation's, counted once",
        o.reconciliation.duplicates,
        low,
        redelivered + retry_rows,
    );
    let why = (!check.passed).then(|| {
        format!(
            "{} invocations were retried; their failed attempts delivered {retry_rows} rows before failing",
            o.subscription.retried_invocations
        )
    });
    check.why(why)
}

/// Every emulator restart recovered (the stack applied again), when there were any.
fn restart_check(restarts: &[standins::faults::RestartRecord]) -> Option<Check> {
    if restarts.is_empty() {
        return None;
    }
    let failed: Vec<String> = restarts
        .iter()
        .filter_map(|r| Some(format!("{}: {}", r.at, r.error.as_deref()?)))
        .collect();
    Some(
        Check::count(
            "every emulator restart recovered (the stack applied again)",
            restarts.len(),
            restarts.len() - failed.len(),
            "recovered",
        )
        .why((!failed.is_empty()).then(|| failed.join("\n"))),
    )
}

/// A rule that no call matched is a typo or a window outside the run; a rule that matched
/// calls but drew no hit is chance, and its counts are in the report.
fn fault_rule_check(faults: &standins::faults::FaultRecord) -> Option<Check> {
    if faults.rules.is_empty() {
        return None;
    }
    let unmatched: Vec<&str> = faults
        .rules
        .iter()
        .filter(|rule| rule.covered == 0)
        .map(|rule| rule.rule.as_str())
        .collect();
    Some(
        Check::count(
            "every fault rule matched calls",
            0,
            unmatched.len(),
            "rules without a call",
        )
        .why((!unmatched.is_empty()).then(|| {
            format!(
                "no call matched (check service, operation and window): {}",
                unmatched.join("; ")
            )
        })),
    )
}

/// For every instance and source: lines generated = delivered + filtered + dropped by a
/// stated rule (+ lost with an emulator's state, named).
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
    Check::count(
        "every line generated is delivered, filtered or dropped by a stated rule (per instance and source)",
        0,
        off.len(),
        "sources with lines unaccounted",
    )
    .why((!off.is_empty()).then(|| off.join("\n")))
}

/// The catalog's and the expected queries' checks.
fn query_checks(stage: &QueryStage, landed: &Landed) -> Vec<Check> {
    let Some(catalog) = &stage.catalog else {
        return vec![
            Check::equal(
                "the bucket is catalogued and queried",
                "a table",
                "no table",
            )
            .why(stage.error.clone()),
        ];
    };
    let mut checks = vec![
        Check::count(
            "the catalog holds every landed object",
            landed.objects,
            catalog.objects,
            "objects",
        ),
        Check::count(
            "SQL reads every landed row",
            landed.rows,
            catalog.rows,
            "rows",
        )
        .why(stage.error.clone()),
        Check::count(
            "every sampled row is a JSON object",
            0,
            catalog.bad_rows,
            "bad rows",
        ),
    ];
    if landed.rows > 0 {
        let mut names: Vec<&str> = catalog.columns.iter().map(|(n, _)| n.as_str()).collect();
        let mut declared: Vec<&str> = pipeline::etl::row::ROW_COLUMNS
            .iter()
            .map(|(n, _)| *n)
            .collect();
        names.sort_unstable();
        declared.sort_unstable();
        checks.push(Check::equal(
            "the catalog's columns are the row's columns (docs/rows.md)",
            declared.join(","),
            names.join(","),
        ));
        let retyped = retyped_columns(&catalog.columns);
        checks.push(
            Check::count(
                "the catalog types each column as the rows hold it (text, number or boolean; docs/rows.md)",
                0,
                retyped.len(),
                "columns typed otherwise",
            )
            .why((!retyped.is_empty()).then(|| {
                format!(
                    "{}; Athena refuses comparisons of these columns with values of their real kind (TYPE_MISMATCH)",
                    retyped.join(", ")
                )
            })),
        );
    }
    checks.extend(stage.checks.iter().map(|query| Check {
        name: format!("query: {}", query.name),
        expected: format!("{} rows from the ledger", query.expected_rows),
        found: if query.passed {
            format!("{} rows from the ledger", query.actual_rows)
        } else {
            format!("{} rows that differ", query.actual_rows)
        },
        passed: query.passed,
        why: query.detail.clone(),
    }));
    checks
}

/// The catalogued columns whose kind (text, number, boolean) is not the one the ETL writes
/// them with (`pipeline::etl::row::ROW_COLUMNS`): `name: catalogued (rows: declared)`.
fn retyped_columns(columns: &[(String, String)]) -> Vec<String> {
    fn kind(hive: &str) -> &'static str {
        match hive {
            "int" | "bigint" | "double" => "number",
            "boolean" => "boolean",
            _ => "text",
        }
    }
    columns
        .iter()
        .filter_map(|(name, held)| {
            let (_, declared) = pipeline::etl::row::ROW_COLUMNS
                .iter()
                .find(|(n, _)| n == name)?;
            (kind(held) != kind(declared)).then(|| format!("{name}: {held} (rows: {declared})"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_check_passes_and_fails_as_it_says() {
        assert!(Check::count("c", 0, 0, "missing").passed);
        let missing = Check::count("c", 0, 3, "missing");
        assert!(!missing.passed);
        assert_eq!(
            (missing.expected.as_str(), missing.found.as_str()),
            ("0 missing", "3 missing")
        );
        assert!(Check::at_least("m", 5, 5).passed);
        assert!(!Check::at_least("m", 5, 4).passed);
        let exact = Check::within("w", 7, 7, 7);
        assert_eq!(exact.expected, "7");
        assert!(exact.passed);
        let ranged = Check::within("w", 4, 5, 9);
        assert_eq!(ranged.expected, "5..=9");
        assert!(!ranged.passed);
        assert!(Check::equal("e", "a", "a").passed);
        assert!(!Check::equal("e", 1, 2).passed);
    }

    /// The line accounting check fails, naming the source, when lines go missing.
    #[test]
    fn lines_unaccounted_fail_the_accounting_with_their_source() {
        let mut r = Reconciliation::default();
        let counts = crate::ledger::Counts {
            lines: 10,
            lines_delivered: 7,
            ..Default::default()
        };
        r.by_source
            .entry("web-1".to_owned())
            .or_default()
            .insert("/var/log/messages".to_owned(), counts);
        let check = line_accounting(&r);
        assert!(!check.passed);
        assert_eq!(
            check.why.as_deref(),
            Some("web-1 /var/log/messages: 3 of 10")
        );
    }
}
