//! Every loss check can fail: the quickstart fleet on the memory backend with one silent loss
//! injected at each stage (`[[faults.lose]]`): an agent batch, a subscription payload, an ETL
//! row, a Firehose record, an S3 object, a duplicate passed off as an original. Each run must
//! go red, naming the stage in a failed check with the count that was lost, and the ledger
//! must count the events missing.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use harness::run::RunOptions;
use harness::run::report::{self, Check, RunReport};
use harness::scenario::{LoadedScenario, Scenario};
use standins::faults::{LossRule, LossStage};

use crate::support::root;

fn run_losing(stage: LossStage) -> RunReport {
    let mut loaded: LoadedScenario =
        Scenario::load(&root().join("scenarios").join("quickstart.toml")).unwrap();
    loaded.scenario.subscription.redeliver = 0.0;
    loaded.scenario.faults.lose = vec![LossRule { stage, count: 1 }];
    let options = RunOptions {
        seed: Some(5),
        ..RunOptions::default()
    };
    let report = harness::run::memory::run_blocking(&loaded, &options)
        .unwrap()
        .report;
    assert!(!report.passed, "a silent loss at {stage:?} went green");
    assert_eq!(
        report.faults.losses.get(stage.name()),
        Some(&1),
        "the loss was made"
    );
    report
}

/// The failed check whose name starts with `name`.
fn failed<'r>(report: &'r RunReport, name: &str) -> &'r Check {
    let check = report
        .checks
        .iter()
        .find(|c| c.name.starts_with(name))
        .unwrap_or_else(|| panic!("no check {name}: {}", report::summary(report)));
    assert!(!check.passed, "{name} passed: {}", report::summary(report));
    check
}

/// The number in a check's text (`"41 rows"` -> 41).
fn number(text: &str) -> usize {
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number in {text:?}"))
}

#[test]
fn a_lost_agent_batch_fails_the_subscriptions_read_by_its_size() {
    let report = run_losing(LossStage::AgentBatch);
    let check = failed(&report, "the subscription read every accepted event");
    let lost = report.reconciliation.missing;
    assert!(lost > 0);
    assert_eq!(
        number(&check.expected) - number(&check.found),
        lost,
        "{check:?}"
    );
    failed(&report, "every expected event landed");
}

#[test]
fn a_lost_subscription_payload_fails_the_etls_read_by_its_events() {
    let report = run_losing(LossStage::SubscriptionPayload);
    let check = failed(
        &report,
        "the ETL read every event the subscription passed on",
    );
    let lost = report.reconciliation.missing;
    assert!(lost > 0);
    assert_eq!(
        number(&check.expected) - number(&check.found),
        lost,
        "{check:?}"
    );
}

#[test]
fn a_lost_etl_row_fails_the_firehose_intake_by_one_row() {
    let report = run_losing(LossStage::EtlRow);
    let check = failed(&report, "the Firehose model took every row the ETL made");
    assert_eq!(
        number(&check.expected) - number(&check.found),
        1,
        "{check:?}"
    );
    assert_eq!(report.reconciliation.missing, 1);
}

#[test]
fn a_lost_firehose_record_fails_the_firehose_delivery_by_its_rows() {
    let report = run_losing(LossStage::FirehoseRecord);
    let check = failed(&report, "every row the Firehose model took is in an object");
    let lost_rows = number(&check.expected) - number(&check.found);
    assert!(lost_rows > 0, "{check:?}");
    assert_eq!(report.reconciliation.missing, lost_rows, "one event a row");
}

#[test]
fn a_lost_object_fails_the_read_back_by_one_object() {
    let report = run_losing(LossStage::S3Object);
    let check = failed(&report, "every object the Firehose model wrote reads back");
    assert_eq!(
        number(&check.expected) - number(&check.found),
        1,
        "{check:?}"
    );
    assert!(report.reconciliation.missing > 0);
}

#[test]
fn a_duplicate_passed_off_as_an_original_fails_the_landing_and_the_duplicates() {
    let report = run_losing(LossStage::Duplicate);
    // The counts agree stage by stage; the identities do not.
    assert!(
        report
            .checks
            .iter()
            .filter(|c| c.name.starts_with("every object the Firehose model wrote"))
            .all(|c| c.passed)
    );
    let missing = failed(&report, "every expected event landed");
    assert_eq!(missing.found, "1 missing");
    let duplicates = failed(&report, "every duplicate is a redelivered event");
    assert_eq!(
        (duplicates.expected.as_str(), duplicates.found.as_str()),
        ("0", "1")
    );
}
