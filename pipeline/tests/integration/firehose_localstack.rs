//! Through the real aws-sdk-firehose against LocalStack: the ETL handler puts rows to a
//! delivery stream whose destination is an S3 bucket; the objects read back hold the same
//! rows. Needs `LOCALSTACK_ENDPOINT` (`scripts/test.sh` starts LocalStack and sets it).
//!
//! What this proves: our SDK adapter's requests are accepted by a Firehose API and its
//! responses parsed; records are delivered whole and unaltered, split rows included.
//! What it does not: LocalStack's Firehose neither buffers nor compresses nor evaluates
//! `!{...}` prefixes, so object layout and GZIP are not checked here.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a broken fixture or emulator must stop the test loudly"
)]

use std::time::Duration;

use pipeline::etl::decode::{self, LogsPayload};
use pipeline::etl::{EtlConfig, EtlHandler, RowBuffer, TransformOptions, transform_gzip};
use pipeline::firehose::sdk::FirehoseSink;
use pipeline::time_format::IsoMillis;
use support::endpoint;

use crate::support;

/// A large DATA_MESSAGE from the real corpora plus one event over the record limit.
fn corpus_payload() -> Vec<u8> {
    let dir = support::repo_root().join("fixtures/loghub");
    let text = std::fs::read_to_string(dir.join("OpenSSH_2k.log")).unwrap();
    let mut messages: Vec<String> = text.lines().map(str::to_owned).collect();
    messages.push(format!(
        "Dec 10 07:00:00 LabSZ sshd[1]: {}",
        "huge \"quoted\" line é ".repeat(60_000)
    ));
    let payload = LogsPayload::data_message(
        "000000000000",
        "CCP-logs-Test-000000000000-us-east-1",
        "/var/log/secure/i-0123456789abcdef0",
        1_700_000_000_000,
        messages.iter().map(String::as_str),
    );
    decode::gzip(&payload.to_json())
}

/// Rows with `ingest_time` blanked (it differs per invocation), sorted.
fn normalized(ndjson: &[u8]) -> Vec<String> {
    let mut rows: Vec<String> = std::str::from_utf8(ndjson)
        .unwrap()
        .lines()
        .map(|line| {
            let mut row: serde_json::Value = serde_json::from_str(line).unwrap();
            row["ingest_time"] = serde_json::Value::Null;
            row.to_string()
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_put_to_firehose_land_in_s3_unchanged() {
    let Some(url) = endpoint() else { return };
    let target = support::DeliveryTarget::create(&url).await;
    let (firehose, stream) = (&target.firehose, target.stream.clone());

    let etl_config =
        EtlConfig::from_lookup(|name| (name == "FIREHOSE_DELIVERY_STREAM").then(|| stream.clone()))
            .unwrap();
    let handler = EtlHandler::new(FirehoseSink::new(firehose.clone(), &stream), etl_config);
    let fixtures = support::repo_root().join("fixtures/cloudwatch-logs/lambda");
    let mut payloads: Vec<Vec<u8>> = Vec::new();
    for entry in std::fs::read_dir(fixtures).unwrap() {
        let event = std::fs::read(entry.unwrap().path()).unwrap();
        payloads.push(decode::gzip_from_lambda_event_bytes(&event).unwrap());
    }
    payloads.push(corpus_payload());

    let (mut expected, mut scratch, mut rows, mut split_events) =
        (Vec::new(), Vec::new(), RowBuffer::default(), 0);
    for gzip in &payloads {
        let report = handler
            .handle_gzip(gzip, &pipeline::firehose::RetryPolicy::default())
            .await
            .expect("delivery through LocalStack");
        split_events += report.transform.split_events;
        rows.clear();
        transform_gzip(
            gzip,
            &TransformOptions::default(),
            IsoMillis::now(),
            &mut scratch,
            &mut rows,
        )
        .unwrap();
        expected.extend_from_slice(&rows.data);
    }
    assert_eq!(
        split_events, 1,
        "the oversized corpus event is split, not dropped"
    );

    // LocalStack writes objects as records arrive; wait until all bytes are there.
    let mut landed = Vec::new();
    for _ in 0..150 {
        landed = target.objects("rows/").await;
        if landed.len() >= expected.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        normalized(&landed),
        normalized(&expected),
        "the rows in S3 are the rows the handler produced"
    );
    assert_eq!(
        target.objects("errors/").await,
        b"",
        "nothing went to the error prefix"
    );
}
