//! The shipped scenarios on MiniStack, the second emulator (`--backend ministack`;
//! scripts/ministack-host.sh): the stack applied to it, RunInstances, CloudWatch Logs,
//! Parameter Store, SQS and S3 on it, with the harness standing in where MiniStack behaves as
//! AWS does or leaves a gap (`harness::run::ministack`). Each run passes every check, prints
//! MiniStack's gaps rather than LocalStack's, and a scenario that restarts the emulator is
//! refused by name.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use crate::support;

use harness::backend::sdk_config;
use harness::run::{RunOptions, RunReport, report};
use harness::scenario::{LoadedScenario, Scenario};
use support::root;

fn load(name: &str, region: &str) -> LoadedScenario {
    let mut loaded = Scenario::load(&root().join("scenarios").join(name)).unwrap();
    loaded.scenario.region = region.to_owned();
    loaded
}

async fn run(loaded: &LoadedScenario, url: &str) -> Result<RunReport, harness::run::RunError> {
    let config = sdk_config(url, &loaded.scenario.region).await;
    let options = RunOptions {
        progress: false,
        ..RunOptions::default()
    };
    let run = harness::run::on_ministack(loaded, &config, &options).await?;
    eprintln!("{}", report::summary(&run.report));
    Ok(run.report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quickstart_passes_on_ministack_with_its_own_gaps_printed() {
    let Some(url) = support::ministack_endpoint() else {
        return;
    };
    let report = run(&load("quickstart.toml", "us-west-1"), &url)
        .await
        .unwrap();
    assert!(report.passed, "{}", report::summary(&report));
    assert_eq!(report.instances.onboarded, 3);
    let r = &report.reconciliation;
    assert_eq!(r.events_landed, r.totals.events_expected);
    assert!(r.events_landed >= 300, "{}", r.events_landed);
    let gaps: Vec<&str> = report
        .aws_differences
        .iter()
        .filter(|d| d.kind == "emulator gap")
        .map(|d| d.area)
        .collect();
    assert!(!gaps.is_empty());
    assert!(
        gaps.iter().all(|area| area.starts_with("MiniStack")),
        "{gaps:?}"
    );
    assert!(report::summary(&report).contains("MiniStack at"));
    // IAM's evaluation covers the calls made through the SDK: all but SendCommand, which goes
    // to the harness's simulated SSM on MiniStack.
    let iam = report.permissions.as_ref().unwrap();
    assert_eq!(iam.refused().count(), 0, "{:#?}", iam.requests);
    let actions: std::collections::BTreeSet<&str> =
        iam.requests.iter().map(|r| r.action.as_str()).collect();
    for action in [
        "ec2:DescribeInstances",
        "ssm:GetParameter",
        "ssm:DescribeInstanceInformation",
        "firehose:PutRecordBatch",
    ] {
        assert!(actions.contains(action), "{action}: {actions:?}");
    }
    assert!(!actions.contains("ssm:SendCommand"), "{actions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mixed_fleet_passes_on_ministack() {
    let Some(url) = support::ministack_endpoint() else {
        return;
    };
    let report = run(&load("mixed-fleet.toml", "us-west-2"), &url)
        .await
        .unwrap();
    assert!(report.passed, "{}", report::summary(&report));
    assert_eq!(
        report.instances.failed, 1,
        "the instance that never registers"
    );
    assert!(report.instances.skipped >= 6, "{:?}", report.instances);
}

#[tokio::test]
async fn a_restart_is_refused_on_ministack_by_name() {
    let Some(url) = support::ministack_endpoint() else {
        return;
    };
    let error = run(&load("faults.toml", "ca-west-1"), &url)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("faults.restart does not run on MiniStack"),
        "{error}"
    );
}
