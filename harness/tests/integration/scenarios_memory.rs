//! The shipped scenarios on the memory backend (`loglab run --backend memory`): the same
//! workload, handlers, agents, Firehose model, read-back, catalog, queries and checks with the
//! in-memory adapters behind every port, on a paused clock. They need no emulator and take
//! well under a second each (mixed-fleet a few), so they also guard the LocalStack path's logic.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use crate::support;

use harness::run::{RunOptions, report};
use harness::scenario::{LoadedScenario, Scenario};
use support::root;

fn load(name: &str) -> LoadedScenario {
    Scenario::load(&root().join("scenarios").join(name)).unwrap()
}

fn run(loaded: &LoadedScenario, seed: Option<u64>) -> harness::run::Run {
    let options = RunOptions {
        seed,
        ..RunOptions::default()
    };
    harness::run::memory::run_blocking(loaded, &options).unwrap()
}

#[test]
fn quickstart_passes_in_memory_and_the_seed_reproduces_the_run() {
    let loaded = load("quickstart.toml");
    let first = run(&loaded, Some(3)).report;
    assert!(first.passed, "{}", report::summary(&first));
    assert!(first.alarms.iter().all(|a| !a.fired), "{:?}", first.alarms);
    assert!(first.alarms.len() >= 8);
    assert_eq!(first.instances.onboarded, 3);
    assert_eq!(first.reconciliation.missing, 0);
    assert!(first.reconciliation.events_landed >= 300);
    assert_eq!(first.delivery.objects, first.landed.objects);
    // A paused clock and one thread: the same seed gives the same ledger and the same landing.
    // The latencies are measured for the same events; their times are not compared: the
    // end-of-run flush lands when the drain's real-time waits let the paused clock reach it.
    let second = run(&loaded, Some(3)).report;
    let without_latency = |r: &harness::ledger::Reconciliation| harness::ledger::Reconciliation {
        latency: harness::ledger::Latency::default(),
        ..r.clone()
    };
    assert_eq!(
        without_latency(&first.reconciliation),
        without_latency(&second.reconciliation)
    );
    assert_eq!(
        first.reconciliation.latency.events,
        second.reconciliation.latency.events
    );
    assert_eq!(first.delivery.records, second.delivery.records);
    assert_ne!(
        first.reconciliation.totals,
        run(&loaded, Some(4)).report.reconciliation.totals
    );
}

#[test]
fn mixed_fleet_passes_in_memory_with_its_refusals_and_filters() {
    let report = run(&load("mixed-fleet.toml"), None).report;
    assert!(report.passed, "{}", report::summary(&report));
    assert!(report.instances.skipped >= 6, "{:?}", report.instances);
    assert_eq!(
        report.instances.failed, 1,
        "the instance that never registers"
    );
    assert!(report.reconciliation.totals.events_filtered > 0);
    assert_eq!(
        report.reconciliation.duplicates,
        report.subscription.redelivered_events
    );
}

#[test]
fn the_firehose_faults_of_faults_toml_are_recovered_from_in_memory() {
    let loaded = load("faults.toml");
    let report = run(&loaded, None).report;
    assert!(report.passed, "{}", report::summary(&report));
    // Only Firehose's rules apply without the HTTP layer.
    assert!(
        report
            .faults
            .rules
            .iter()
            .all(|r| r.rule.starts_with("firehose:"))
    );
    assert!(report.delivery.entries_failed > 0);
    assert_eq!(report.reconciliation.missing, 0);
}

#[test]
fn a_broken_configuration_fails_its_instance_in_memory_too() {
    let report = run(&load("broken-config.toml"), None).report;
    assert!(report.passed, "{}", report::summary(&report));
    let failed = report
        .instance_details
        .iter()
        .find(|i| i.decision == "failed")
        .unwrap();
    assert!(
        failed.reason.contains("retention_in_days"),
        "{}",
        failed.reason
    );
}

/// `scenarios/quickstart-parquet.toml`: the quickstart with Firehose converting to Parquet.
/// Every row lands in `.parquet` objects, the catalog reads them, and every saved query and
/// ledger check gives the quickstart's answers; the Parquet scans read fewer bytes.
#[test]
fn quickstart_on_parquet_gives_the_json_runs_answers_in_memory() {
    let json = run(&load("quickstart.toml"), Some(3)).report;
    let parquet = run(&load("quickstart-parquet.toml"), Some(3)).report;
    assert!(parquet.passed, "{}", report::summary(&parquet));
    let delivery = &parquet.delivery;
    assert_eq!(delivery.records_failed_conversion, 0, "{delivery:?}");
    assert_eq!(delivery.rows_converted, parquet.landed.rows);
    assert_eq!(parquet.landed.rows, json.landed.rows);
    assert_eq!(parquet.reconciliation.totals, json.reconciliation.totals);
    let (a, b) = (&json.query_stage.checks, &parquet.query_stage.checks);
    assert_eq!(a.len(), b.len());
    for (json_check, parquet_check) in a.iter().zip(b) {
        assert_eq!(json_check.name, parquet_check.name);
        assert!(parquet_check.passed, "{parquet_check:?}");
        assert_eq!(
            json_check.actual_rows, parquet_check.actual_rows,
            "{}",
            json_check.name
        );
    }
    let scanned = |checks: &[harness::run::queries::QueryCheck]| -> u64 {
        checks.iter().map(|c| c.bytes_scanned).sum()
    };
    assert!(
        scanned(b) > 0 && scanned(b) < scanned(a),
        "{} vs {}",
        scanned(b),
        scanned(a)
    );
}

#[test]
fn a_poison_payload_is_dead_lettered_and_redriven_in_memory_too() {
    let report = run(&load("poison.toml"), None).report;
    assert!(report.passed, "{}", report::summary(&report));
    assert!(report.poisoned_payloads > 0);
    assert_eq!(report.dead_letters.len(), report.poisoned_payloads);
    let redrive = report.redrive.as_ref().expect("the scenario redrives");
    assert_eq!(redrive.recovered, report.dead_letters.len());
    assert_eq!(report.reconciliation.missing, 0);
    // The stack's alarms on the ETL's dead letters and errors would have fired; no other.
    let fired: Vec<&str> = report
        .alarms
        .iter()
        .filter(|a| a.fired)
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(fired, ["ccp-log-etl-dead-letters", "ccp-log-etl-errors"]);
}

/// A dead letter nobody redrives fails the run: the events in it never landed, and Lambda gave
/// up on more than the scenario expects.
#[test]
fn a_poison_payload_without_the_redrive_fails_the_run() {
    let mut loaded = load("poison.toml");
    loaded.scenario.redrive = false;
    let report = run(&loaded, None).report;
    assert!(!report.passed);
    assert!(report.reconciliation.missing > 0);
    let missing = report
        .checks
        .iter()
        .find(|c| c.name == "every expected event landed")
        .unwrap();
    assert!(!missing.passed);
}

/// `scenarios/first-crawl-linux-only.toml`: the catalog's first look at the bucket sees only
/// Linux rows. On the stack's default (the table declared with the rows' types, partitions
/// projected) every Windows saved query matches the ledger. On the seed's design
/// (`deploy/crawler.toml`: a crawler every five minutes, new folders only, LOG) the harness
/// runs the crawler on the simulated clock as the Glue developer guide describes incremental
/// crawls: its first run types every `win_*` column from Linux rows only, later runs add
/// partitions and only log the change, and Athena's analyzer refuses the Windows queries
/// (TYPE_MISMATCH), as it would on AWS.
#[test]
fn a_first_crawl_of_linux_rows_breaks_the_windows_queries_only_on_the_crawler_design() {
    let loaded = load("first-crawl-linux-only.toml");
    let projected = run(&loaded, None).report;
    assert!(projected.passed, "{}", report::summary(&projected));
    assert!(projected.query_stage.crawler.is_none());
    assert_eq!(projected.query_stage.checks.len(), 3);

    let mut seed_like = loaded.clone();
    seed_like.stack = stack::Stack::load(&root().join("deploy/crawler.toml")).unwrap();
    let crawled = run(&seed_like, None).report;
    assert!(!crawled.passed);
    let stage = &crawled.query_stage;
    let crawler = stage.crawler.as_ref().unwrap();
    let created = crawler.table_created_ms.unwrap();
    assert!(
        crawler.runs.iter().filter(|r| r.at_ms >= created).count() >= 3,
        "the table was created before the Windows rows landed: {crawler:?}"
    );
    let catalog = stage.catalog.as_ref().unwrap();
    let types: std::collections::BTreeMap<_, _> = catalog.columns.iter().cloned().collect();
    assert_eq!(types["win_level"], "string");
    assert_eq!(types["win_event_id"], "string");
    // Objects keep landing in folders the catalog knows: every landed row is still read.
    assert_eq!(catalog.rows, crawled.landed.rows);
    // Reading the numbers of a string column works (the SerDe returns their text); comparing
    // the column with numbers is refused.
    for check in &stage.checks {
        let detail = check.detail.as_deref().unwrap_or_default();
        if check.name == "Windows Security events by EventID" {
            assert!(check.passed, "{detail}");
            continue;
        }
        assert!(!check.passed, "{check:?}");
        assert!(
            detail.contains("TYPE_MISMATCH: line 1:"),
            "{}: {detail}",
            check.name
        );
    }
    let retyped = crawled
        .checks
        .iter()
        .find(|c| c.name.starts_with("the catalog types each column"))
        .unwrap();
    assert!(!retyped.passed);
    let why = retyped.why.as_deref().unwrap_or_default();
    assert!(why.contains("win_level: string (rows: int)"), "{why}");
    let summary = report::summary(&crawled);
    assert!(summary.contains("crawler: "), "{summary}");

    // The crawler's requests for what its runs did, under the crawler role the template
    // renders: all allowed, and each of its grants but the log group's creation used (the
    // memory world records no function's SDK call, so only the crawler's are here).
    assert!(projected.permissions.is_none());
    let iam = crawled.permissions.as_ref().unwrap();
    assert_eq!(iam.error, None);
    assert_eq!(iam.refused().count(), 0, "{:#?}", iam.requests);
    assert!(iam.requests.iter().all(|r| r.principal == "CrawlerRole"));
    let unused: Vec<&str> = iam
        .grants
        .iter()
        .filter(|g| g.calls == 0)
        .map(|g| g.action.as_str())
        .collect();
    // Granted, and not among the requests for what the model did: the crawler is AWS's code
    // and Glue's guide names no exact set of its calls (it asks for AWSGlueServiceRole "or a
    // scoped down version"); these are the partition reads and writes within this database
    // that a crawler which adds and updates partitions may make; glue:UpdateTable, which a
    // crawler makes only to apply a schema change (CRAWL_EVERYTHING with UPDATE_IN_DATABASE;
    // this stack logs changes); and the creation of /aws-glue/crawlers, which the account's
    // first crawler makes.
    assert_eq!(
        unused,
        [
            "glue:BatchGetPartition",
            "glue:BatchUpdatePartition",
            "glue:CreatePartition",
            "glue:GetPartition",
            "glue:GetPartitions",
            "glue:GetTables",
            "glue:UpdatePartition",
            "glue:UpdateTable",
            "logs:CreateLogGroup",
        ]
    );
    assert!(
        crawled
            .checks
            .iter()
            .any(|c| c.name.starts_with("IAM allows every call") && c.passed)
    );
    // A read outside the data prefix (Athena's results) would be refused: the role reads rows.
    let outside = standins::iam::Call {
        principal: "CrawlerRole".to_owned(),
        action: "s3:GetObject".to_owned(),
        resources: vec![standins::iam::CallResource {
            arn: format!(
                "arn:aws:s3:::{}/athena-results/x.csv",
                iam.requests
                    .iter()
                    .find(|r| r.action == "s3:ListBucket")
                    .unwrap()
                    .resource
                    .trim_start_matches("arn:aws:s3:::")
            ),
            context: Default::default(),
        }],
    };
    let placement = stack::Placement::localstack(&seed_like.scenario.region);
    let deployment = stack::Deployment::new(&seed_like.stack, &placement);
    let refused =
        report::PermissionsReport::for_deployment(&[outside], &deployment, &["CrawlerRole"]);
    assert_eq!(refused.refused().count(), 1, "{:#?}", refused.requests);
}
