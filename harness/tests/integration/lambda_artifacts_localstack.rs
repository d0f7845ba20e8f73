//! `loglab run --lambda artifacts` on LocalStack: the scenarios pass with the deployed
//! `bootstrap` binaries run as Lambda runs them (their own `main`, the template's environment,
//! the Runtime API), and give the same ledger checks and query results as the in-process
//! handlers. scripts/test.sh builds the artifacts (the `fast` profile) before the tests.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use crate::support;

use harness::backend::sdk_config;
use harness::run::{LambdaSetup, RunOptions, RunReport, report};
use harness::scenario::{LoadedScenario, Scenario};
use standins::lambda::LambdaMode;
use support::{endpoint, root};

fn load(name: &str, region: &str) -> LoadedScenario {
    let mut loaded = Scenario::load(&root().join("scenarios").join(name)).unwrap();
    loaded.scenario.region = region.to_owned();
    loaded
}

fn artifacts() -> LambdaSetup {
    let (dir, _) = support::lambda_artifacts();
    LambdaSetup::Artifacts {
        workspace: root(),
        dir,
    }
}

async fn run(loaded: &LoadedScenario, url: &str, seed: u64, lambda: LambdaSetup) -> RunReport {
    let config = sdk_config(url, &loaded.scenario.region).await;
    let options = RunOptions {
        seed: Some(seed),
        progress: false,
        lambda,
        prices: None,
    };
    let run = harness::run::on_emulator(loaded, &config, None, &options)
        .await
        .unwrap();
    eprintln!("{}", report::summary(&run.report));
    run.report
}

/// What must not depend on how the functions ran: every record's fate per instance and source,
/// the bucket against the ledger, and each query's answer.
fn outcome(report: &RunReport) -> String {
    let r = &report.reconciliation;
    let sources: Vec<String> = r
        .by_source
        .iter()
        .flat_map(|(instance, sources)| {
            sources.iter().map(move |(source, c)| {
                format!(
                    "{instance} {source}: {} records, {} lines, {} delivered",
                    c.records, c.lines, c.lines_delivered
                )
            })
        })
        .collect();
    let queries: Vec<String> = report
        .query_stage
        .checks
        .iter()
        .map(|q| format!("{}: {} rows, passed {}", q.name, q.actual_rows, q.passed))
        .collect();
    let decisions: Vec<String> = report
        .instance_details
        .iter()
        .map(|i| format!("{}: {}", i.name, i.decision))
        .collect();
    format!(
        "{}\nlanded {}, missing {}, unexpected {}, duplicates {}\n{}\n{}",
        sources.join("\n"),
        r.events_landed,
        r.missing,
        r.unexpected,
        r.duplicates,
        queries.join("\n"),
        decisions.join("\n")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quickstart_gives_the_same_results_with_the_deployed_artifacts() {
    let Some(url) = endpoint() else { return };
    let deployed = run(&load("quickstart.toml", "eu-west-1"), &url, 5, artifacts()).await;
    assert!(deployed.passed, "{}", report::summary(&deployed));
    assert_eq!(deployed.lambda.mode, LambdaMode::Artifacts);
    let (_, manifest) = support::lambda_artifacts();
    for used in &deployed.lambda.artifacts {
        let built = manifest
            .artifact(&used.function, standins::lambda::host_architecture())
            .unwrap();
        assert_eq!(
            used.sha256, built.sha256,
            "the report names the artifact run"
        );
    }
    let etl = &deployed.lambda.functions["etl-lambda"];
    assert!(
        etl.invocations > 0 && etl.errors + etl.timeouts + etl.crashes == 0,
        "{etl:?}"
    );
    let onboarding = &deployed.lambda.functions["onboard-lambda"];
    assert_eq!(onboarding.succeeded, 3, "{onboarding:?}");

    let in_process = run(
        &load("quickstart.toml", "eu-west-3"),
        &url,
        5,
        LambdaSetup::InProcess,
    )
    .await;
    assert!(in_process.passed, "{}", report::summary(&in_process));
    assert_eq!(in_process.lambda.mode, LambdaMode::InProcess);
    assert_eq!(outcome(&deployed), outcome(&in_process));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mixed_fleet_passes_every_check_with_the_deployed_artifacts() {
    let Some(url) = endpoint() else { return };
    let report = run(
        &load("mixed-fleet.toml", "ap-northeast-1"),
        &url,
        7,
        artifacts(),
    )
    .await;
    assert!(report.passed, "{}", report::summary(&report));
    let onboarding = &report.lambda.functions["onboard-lambda"];
    // One answer per launched instance but the unregistered one, whose event fails every
    // attempt (the call and Lambda's two retries) and goes to the dead-letter queue.
    assert_eq!(
        (onboarding.succeeded, onboarding.errors),
        (22, 3),
        "{onboarding:?}"
    );
    assert_eq!(report.dead_letters.len(), 1);
    // The unregistered instance fails in the deployed function as in-process: its waits come
    // from the scenario through the function's environment.
    assert_eq!(report.instances.failed, 1);
    assert!(
        report
            .instance_details
            .iter()
            .any(|i| i.decision == "failed" && i.reason.contains("never registered")),
        "{}",
        report::summary(&report)
    );
}
