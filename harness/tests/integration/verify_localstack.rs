//! `loglab verify`'s code path (the one that runs against a deployed stack in an account) run
//! against LocalStack and the harness's Glue and Athena stand-ins, the endpoints overridden:
//! the stack's names read from a CloudFormation stack's outputs, the quickstart's workload
//! written with PutLogEvents under run-unique streams, delivered by the harness
//! (`HarnessDelivers`: the emulator runs no subscription filter or Lambda), read back and reconciled, the saved
//! queries run through Athena's API, and the streams and result files deleted. A delivered
//! object removed before the read-back is reported as missing lines, and the run fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop loudly"
)]

use std::time::Duration;

use harness::scenario::Scenario;
use harness::verify::{
    self, Delivery, HarnessDelivers, StackOutputs, VerifyClients, VerifyError, VerifyOptions,
};
use stack::provision;

use crate::support;
use crate::with_stand_ins::{WithStandIns, with_stand_ins};

/// The harness's delivery ([`HarnessDelivers`]: what the account's subscription filter and
/// ETL function would do); with `lose_one`, the newest object delivered is deleted again (the
/// loss `verify` must find).
struct LosingDelivery {
    inner: HarnessDelivers,
    lose_one: Option<(aws_sdk_s3::Client, String)>,
}

impl Delivery for LosingDelivery {
    async fn step(&mut self) -> Result<(), VerifyError> {
        self.inner.step().await?;
        if let Some((s3, bucket)) = self.lose_one.take() {
            let listed = s3
                .list_objects_v2()
                .bucket(&bucket)
                .prefix("logs/")
                .send()
                .await
                .unwrap();
            // The newest object: this run's (the runs are more than a second apart).
            let newest = listed
                .contents()
                .iter()
                .max_by_key(|o| o.last_modified().copied());
            let key = newest.and_then(|o| o.key()).unwrap().to_owned();
            s3.delete_object()
                .bucket(&bucket)
                .key(key)
                .send()
                .await
                .unwrap();
        }
        Ok(())
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reconciles_the_runs_lines_runs_the_saved_queries_and_cleans_up() {
    let Some(url) = support::endpoint() else {
        return;
    };
    let region = "ap-south-2";
    let WithStandIns {
        stack,
        deployment,
        stand_ins: _stand_ins,
        config,
        clients,
    } = with_stand_ins(&url, region, "VerifyTest", support::stack).await;
    let definition = &stack.definition;
    provision::apply(&clients, &deployment).await.unwrap();
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let stack_name = format!("loglab-verify-{}", std::process::id());
    let names = &deployment.names;
    support::outputs_stack(
        &cfn,
        &stack_name,
        &[
            ("BucketName", &names.bucket),
            ("LogGroupName", &names.log_group),
            ("GlueDatabaseName", &definition.catalog.database),
            ("AthenaWorkGroupName", &definition.athena.workgroup),
        ],
    )
    .await;
    let outputs = StackOutputs::read(&cfn, &stack_name).await.unwrap();
    assert_eq!(outputs.bucket, deployment.names.bucket);

    let mut loaded = Scenario::load(&support::root().join("scenarios/quickstart.toml")).unwrap();
    loaded.stack = stack.clone();
    let bucket_store = lake::store::s3(
        &outputs.bucket,
        region,
        Some(lake::store::S3Endpoint {
            url: &url,
            access_key_id: pipeline::emulator::ACCESS_KEY_ID,
            secret_access_key: pipeline::emulator::SECRET_ACCESS_KEY,
        }),
    )
    .unwrap();
    let verify_clients = VerifyClients {
        cfn,
        logs: clients.logs.clone(),
        s3: clients.s3.clone(),
        athena: clients.athena.clone().unwrap(),
        bucket_store,
    };
    let delivery = |lose_one: bool| LosingDelivery {
        inner: HarnessDelivers::new(
            clients.logs.clone(),
            aws_sdk_firehose::Client::new(&config),
            &deployment.placement.account_id,
            &outputs.log_group,
            &deployment.names.delivery_stream,
            definition,
        )
        .unwrap(),
        lose_one: lose_one.then(|| (clients.s3.clone(), outputs.bucket.clone())),
    };
    let options = |run_id| VerifyOptions {
        loaded: &loaded,
        outputs: outputs.clone(),
        run_id,
        delivery_deadline: Duration::from_secs(60),
        query_deadline: Duration::from_secs(60),
    };

    // Run-unique streams: a bucket may hold earlier runs' rows.
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    let report = verify::verify(&verify_clients, &options(run_id), &mut delivery(false))
        .await
        .unwrap();
    let r = &report.reconciliation;
    assert!(report.passed(), "{report:#?}");
    assert!(report.lines_written > 100, "{report:#?}");
    assert!(
        r.events_landed > 100 && r.missing == 0 && r.duplicates == 0,
        "{r:#?}"
    );
    assert_eq!(
        report.streams.len(),
        2 * 2 + 3,
        "2 Linux instances x 2 files, 3 Windows channels"
    );
    assert_eq!(
        report.saved_queries.len(),
        definition.athena.saved_queries.len()
    );
    let result_files = report
        .cleaned
        .iter()
        .filter(|c| c.ends_with(".csv"))
        .count();
    assert_eq!(
        result_files,
        report.saved_queries.len(),
        "{:#?}",
        report.cleaned
    );
    assert!(
        !report.cleaned.iter().any(|c| c.starts_with("NOT")),
        "{:#?}",
        report.cleaned
    );
    let left = clients
        .logs
        .describe_log_streams()
        .log_group_name(&outputs.log_group)
        .send()
        .await
        .unwrap();
    let left: Vec<&str> = left
        .log_streams()
        .iter()
        .filter_map(|s| s.log_stream_name())
        .collect();
    assert!(
        report.streams.iter().all(|s| !left.contains(&s.as_str())),
        "the run's streams are deleted: {left:?}"
    );

    // A delivered object lost: the same check names the missing lines and fails.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut losing = delivery(true);
    let mut options = options(run_id + 1);
    options.delivery_deadline = Duration::from_secs(5);
    let lost = verify::verify(&verify_clients, &options, &mut losing)
        .await
        .unwrap();
    assert!(!lost.passed());
    assert!(
        lost.reconciliation.missing > 0,
        "{:#?}",
        lost.reconciliation
    );
    assert!(!lost.reconciliation.missing_examples.is_empty());
}
