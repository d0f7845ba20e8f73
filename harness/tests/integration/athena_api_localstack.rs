//! The stack's Athena workgroup and saved queries provisioned and audited at the harness's
//! Athena stand-in (`standins::athena`), beside LocalStack for the rest of the stack, and every
//! saved query run through clients our users have (the Rust SDK's Athena client, and boto3 and
//! PyAthena from PyPI) over rows the pipeline's ETL made from real payloads, in the bucket on
//! LocalStack: each returns the same rows as `loglab query` gives for the same SQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop loudly"
)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use harness::athena_client;
use pipeline::etl::{RowBuffer, TransformOptions, transform_gzip};
use pipeline::time_format::IsoMillis;
use stack::audit::{self, Origin, Verdict};
use stack::provision::{self, Outcome};
use stack::template::{ids, saved_query_sql};

use crate::support;
use crate::with_stand_ins::{WithStandIns, with_stand_ins};

type Rows = Vec<Vec<Option<String>>>;

/// Gzip NDJSON rows the ETL makes from the fixtures' subscription payloads and from
/// loghub's OpenSSH log (one event per line, timestamps from now).
fn delivered_objects() -> Vec<Vec<u8>> {
    let fixtures = support::root().join("fixtures");
    let mut payloads: Vec<Vec<u8>> = [
        "linux-messages",
        "linux-secure",
        "windows-security-xml",
        "windows-system-xml",
    ]
    .iter()
    .map(|name| std::fs::read(fixtures.join(format!("cloudwatch-logs/gzip/{name}.gz"))).unwrap())
    .collect();
    let ssh = std::fs::read_to_string(fixtures.join("loghub/OpenSSH_2k.log")).unwrap();
    let payload = pipeline::etl::decode::LogsPayload::data_message(
        "000000000000",
        "CCP-logs-AthenaTest",
        "/var/log/secure/i-0a1b2c3d4e5f60718",
        IsoMillis::now().epoch_millis(),
        ssh.lines(),
    );
    payloads.push(pipeline::etl::decode::gzip(&payload.to_json()));
    payloads
        .iter()
        .map(|gzip| {
            let mut rows = RowBuffer::default();
            transform_gzip(
                gzip,
                &TransformOptions::default(),
                IsoMillis::now(),
                &mut Vec::new(),
                &mut rows,
            )
            .unwrap();
            pipeline::etl::decode::gzip(&rows.data)
        })
        .collect()
}

fn sorted(mut rows: Rows) -> Rows {
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_saved_query_returns_loglab_querys_rows_through_the_sdk_boto3_and_pyathena() {
    let Some(url) = support::endpoint() else {
        return;
    };
    let region = "il-central-1";
    let WithStandIns {
        stack,
        deployment,
        stand_ins,
        clients,
        ..
    } = with_stand_ins(&url, region, "AthenaTest", support::stack).await;
    let definition = &stack.definition;

    // Provisioned and audited like every other resource; a second apply changes nothing.
    let athena_ids: Vec<String> = std::iter::once(ids::WORKGROUP.to_owned())
        .chain((1..=definition.athena.saved_queries.len()).map(|i| format!("SavedQuery{i}")))
        .collect();
    let outcomes = |applied: &[provision::Applied]| -> Vec<Outcome> {
        athena_ids
            .iter()
            .map(|id| {
                applied
                    .iter()
                    .find(|a| &a.id == id)
                    .unwrap()
                    .outcome
                    .clone()
            })
            .collect()
    };
    let first = provision::apply(&clients, &deployment).await.unwrap();
    assert!(
        outcomes(&first).iter().all(|o| *o == Outcome::Created),
        "{first:#?}"
    );
    let second = provision::apply(&clients, &deployment).await.unwrap();
    assert!(
        outcomes(&second).iter().all(|o| *o == Outcome::Unchanged),
        "{second:#?}"
    );
    let findings = audit::audit(&clients, &deployment, &Origin::Provisioned)
        .await
        .unwrap();
    let athena_findings: Vec<_> = findings
        .iter()
        .filter(|f| athena_ids.contains(&f.resource))
        .collect();
    assert!(athena_findings.len() > 25, "{athena_findings:#?}");
    assert!(
        athena_findings.iter().all(|f| f.verdict == Verdict::Match),
        "{athena_findings:#?}"
    );

    // Rows in the bucket, in this hour's projection folder.
    let hour = time::OffsetDateTime::now_utc();
    let folder = format!(
        "logs/{:04}/{:02}/{:02}/{:02}",
        hour.year(),
        u8::from(hour.month()),
        hour.day(),
        hour.hour()
    );
    for (i, body) in delivered_objects().into_iter().enumerate() {
        clients
            .s3
            .put_object()
            .bucket(&deployment.names.bucket)
            .key(format!("{folder}/delivery-{i}.gz"))
            .body(body.into())
            .send()
            .await
            .unwrap();
    }

    // What `loglab query` gives for each saved query's SQL.
    let location =
        harness::catalog::bucket_location(&deployment.names.bucket, definition, region, Some(&url))
            .unwrap();
    let options = harness::catalog::crawl_options(definition, &location.root);
    let (lake, _) = harness::catalog::open(&location, &options).await.unwrap();
    let mut expected: BTreeMap<String, Rows> = BTreeMap::new();
    let mut lake_time = Duration::ZERO;
    for query in &definition.athena.saved_queries {
        let started = Instant::now();
        let result = lake
            .query(&saved_query_sql(definition, &query.sql))
            .await
            .unwrap();
        lake_time += started.elapsed();
        let table =
            standins::athena::results::ResultTable::new(&result.schema, &result.batches).unwrap();
        expected.insert(query.name.clone(), sorted(table.rows));
    }
    assert!(
        expected.values().filter(|rows| !rows.is_empty()).count() >= 3,
        "the data gives most saved queries rows: {expected:#?}"
    );

    // The Rust SDK, through the harness's client code.
    let athena = clients.athena.as_ref().unwrap();
    let workgroup = &definition.athena.workgroup;
    let saved = athena_client::saved_queries(athena, workgroup)
        .await
        .unwrap();
    assert_eq!(saved.len(), definition.athena.saved_queries.len());
    let mut api_time = Duration::ZERO;
    for query in &saved {
        let started = Instant::now();
        let answer = athena_client::run_query(
            athena,
            &query.sql,
            &query.database,
            workgroup,
            Duration::from_secs(60),
        )
        .await
        .unwrap();
        api_time += started.elapsed();
        assert_eq!(sorted(answer.rows), expected[&query.name], "{}", query.name);
        assert!(answer.bytes_scanned > 0, "{}", query.name);
    }
    eprintln!(
        "{} saved queries, {} rows: loglab query's session {:.0} ms, through Athena's API {:.0} ms ({:.1}x)",
        saved.len(),
        expected.values().map(Vec::len).sum::<usize>(),
        lake_time.as_secs_f64() * 1000.0,
        api_time.as_secs_f64() * 1000.0,
        api_time.as_secs_f64() / lake_time.as_secs_f64().max(1e-9)
    );

    // boto3 and PyAthena from PyPI.
    let program = support::root().join("harness/tests/integration/athena_clients.py");
    let run = std::process::Command::new(support::python_clients())
        .arg(&program)
        .args([region, workgroup.as_str()])
        .env(
            "AWS_ENDPOINT_URL_ATHENA",
            &stand_ins.athena_endpoint.endpoint,
        )
        .env("AWS_ACCESS_KEY_ID", pipeline::emulator::ACCESS_KEY_ID)
        .env(
            "AWS_SECRET_ACCESS_KEY",
            pipeline::emulator::SECRET_ACCESS_KEY,
        )
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let answers: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for (name, rows) in &expected {
        let boto3: Rows = serde_json::from_value(answers["boto3"][name]["rows"].clone()).unwrap();
        assert_eq!(&sorted(boto3), rows, "boto3: {name}");
        let pyathena: Rows = serde_json::from_value(answers["pyathena"][name].clone()).unwrap();
        assert_eq!(&sorted(pyathena), rows, "PyAthena: {name}");
    }
    let volume = &answers["boto3"]["log-volume-per-instance-and-source"]["columns"];
    assert_eq!(
        volume,
        &serde_json::json!([
            ["instance_id", "varchar"],
            ["source", "varchar"],
            ["rows", "bigint"],
            ["bytes", "bigint"]
        ])
    );
}
