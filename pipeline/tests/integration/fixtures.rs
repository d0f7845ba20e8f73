//! Behaviour tests over the fixture files in `fixtures/cloudwatch-logs/`:
//!
//! - every encoded fixture decodes to its payload (and `encode.py` stays in step);
//! - our encoding and `aws_lambda_events`' agree in both directions (padded or not);
//! - each valid payload's rows match `expected/NAME.ndjson` (snapshot; set
//!   `UPDATE_EXPECTED=1` to rewrite after an intended change, then review the diff);
//! - each malformed payload fails with an error naming what was wrong.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a broken fixture or emulator must stop the test loudly"
)]

use crate::support;

use std::path::PathBuf;

use pipeline::etl::decode::{self, LogsPayload};
use pipeline::etl::{EtlHandler, RowBuffer, TransformOptions, transform_gzip};
use pipeline::firehose::memory::MemorySink;
use pipeline::time_format::IsoMillis;

fn fixtures() -> PathBuf {
    support::repo_root().join("fixtures/cloudwatch-logs")
}

fn names(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no fixtures in {dir}");
    names
}

/// 2026-01-01T00:00:00.000Z: a fixed ingest time so that snapshots are stable.
fn fixed_ingest_time() -> IsoMillis {
    IsoMillis::new(1_767_225_600_000).unwrap()
}

#[test]
fn encoded_fixtures_decode_to_their_payloads() {
    for name in names("payloads") {
        let payload: serde_json::Value = serde_json::from_slice(
            &std::fs::read(fixtures().join("payloads").join(&name)).unwrap(),
        )
        .unwrap();
        let stem = name.trim_end_matches(".json");

        let event = std::fs::read(fixtures().join("lambda").join(&name)).unwrap();
        let gzip = decode::gzip_from_lambda_event_bytes(&event).unwrap();
        let mut json = Vec::new();
        decode::gunzip_capped(&gzip, 1 << 20, &mut json).unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&json).unwrap(),
            payload,
            "lambda/{name}"
        );

        let raw = std::fs::read(fixtures().join("gzip").join(format!("{stem}.gz"))).unwrap();
        assert_eq!(
            raw, gzip,
            "gzip/{stem}.gz and lambda/{name} carry the same bytes"
        );
    }
}

#[test]
fn our_encoding_and_aws_lambda_events_agree_both_ways() {
    for name in names("payloads") {
        let json = std::fs::read(fixtures().join("payloads").join(&name)).unwrap();
        let ours: LogsPayload<'_> = serde_json::from_slice(&json).unwrap();

        // Ours -> theirs: our padded base64 decodes with aws_lambda_events.
        let event = ours.to_lambda_event();
        let data = serde_json::from_slice::<serde_json::Value>(&event).unwrap()["awslogs"]["data"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            data.len().is_multiple_of(4),
            "{name}: AWS pads base64 and so do we"
        );
        let theirs: aws_lambda_events::cloudwatch_logs::LogsEvent =
            serde_json::from_slice(&event).unwrap();
        let data = &theirs.aws_logs.data;
        assert_eq!(
            (
                data.owner.as_str(),
                data.log_group.as_str(),
                data.log_stream.as_str()
            ),
            (&*ours.owner, &*ours.log_group, &*ours.log_stream)
        );
        assert_eq!(data.message_type, ours.message_type);
        assert_eq!(data.log_events.len(), ours.log_events.len());
        for (a, b) in data.log_events.iter().zip(&ours.log_events) {
            assert_eq!(
                (a.id.as_str(), a.timestamp, a.message.as_str()),
                (&*b.id, b.timestamp, &*b.message)
            );
        }

        // Theirs -> ours: aws_lambda_events serializes base64 without padding; we accept it.
        let reencoded = serde_json::to_vec(&theirs).unwrap();
        let gzip = decode::gzip_from_lambda_event_bytes(&reencoded).unwrap();
        let mut back = Vec::new();
        decode::gunzip_capped(&gzip, 1 << 20, &mut back).unwrap();
        assert_eq!(decode::parse_payload(&back).unwrap(), ours, "{name}");
    }
}

fn rows_of(gzip: &[u8]) -> (pipeline::etl::TransformReport, String) {
    let (mut scratch, mut rows) = (Vec::new(), RowBuffer::default());
    let report = transform_gzip(
        gzip,
        &TransformOptions::default(),
        fixed_ingest_time(),
        &mut scratch,
        &mut rows,
    )
    .unwrap();
    (report, String::from_utf8(rows.data).unwrap())
}

#[test]
fn rows_match_the_expected_snapshots() {
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut checked = 0;
    for name in names("lambda") {
        let event = std::fs::read(fixtures().join("lambda").join(&name)).unwrap();
        let (_, rows) = rows_of(&decode::gzip_from_lambda_event_bytes(&event).unwrap());
        let expected_path = fixtures()
            .join("expected")
            .join(name.replace(".json", ".ndjson"));
        if update {
            std::fs::write(&expected_path, &rows).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
            panic!(
                "{} is missing: run with UPDATE_EXPECTED=1 and review it",
                expected_path.display()
            )
        });
        assert_eq!(
            rows,
            expected,
            "rows of lambda/{name} differ from {}",
            expected_path.display()
        );
        checked += 1;
    }
    assert!(update || checked >= 9, "only {checked} snapshots checked");
}

#[test]
fn fixture_reports_count_what_happened() {
    let load = |name: &str| std::fs::read(fixtures().join("gzip").join(name)).unwrap();
    let (report, rows) = rows_of(&load("control-message.gz"));
    assert_eq!(
        (
            report.message_type.as_str(),
            report.events,
            report.control_messages_dropped
        ),
        ("CONTROL_MESSAGE", 0, 1)
    );
    assert!(rows.is_empty(), "a CONTROL_MESSAGE yields no rows");

    let (report, _) = rows_of(&load("linux-messages.gz"));
    assert_eq!(
        (
            report.events,
            report.rows,
            report.unparsed_events,
            report.split_events
        ),
        (6, 6, 1, 0)
    );

    let (report, rows) = rows_of(&load("windows-security-xml.gz"));
    assert_eq!((report.events, report.unparsed_events), (1, 0));
    let row: serde_json::Value = serde_json::from_str(rows.lines().next().unwrap()).unwrap();
    assert_eq!(row["instance_id"], "i-0f1e2d3c4b5a69788");
    assert_eq!(row["source"], "Security");
    assert_eq!(row["win_event_id"], 4625);
    assert_eq!(row["win_level_name"], "INFORMATION");
    assert_eq!(row["event_time"], "2021-11-23T11:09:54.123Z");
}

#[test]
fn malformed_payloads_fail_with_errors_naming_what_was_wrong() {
    let cases = [
        ("bad-base64.json", "awslogs.data is not valid base64"),
        ("missing-log-events.json", "missing field `logEvents`"),
        (
            "no-awslogs.json",
            "no string at awslogs.data (expected {\"awslogs\":{\"data\":\"<base64>\"}}), found an object with keys [\"Records\"]",
        ),
        (
            "not-gzip.json",
            "the payload is not gzip: it starts with [7b, 22, 6d, 65], expected 1f 8b",
        ),
        (
            "not-json-inside.json",
            "the decompressed payload is not a CloudWatch Logs subscription message: expected value at line 1 column 1",
        ),
        ("not-json.json", "the Lambda event is not valid JSON"),
        (
            "oversized-after-gunzip.json",
            "the decompressed payload exceeds the cap of 33554432 bytes",
        ),
        (
            "timestamp-not-a-number.json",
            "invalid type: string \"yesterday\", expected i64",
        ),
        ("truncated-gzip.json", "the gzip stream is corrupt after"),
        (
            "unknown-message-type.json",
            "unknown messageType \"HEALTH_CHECK\" (expected DATA_MESSAGE or CONTROL_MESSAGE)",
        ),
    ];
    assert_eq!(
        names("malformed").len(),
        cases.len(),
        "every malformed fixture has a case"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (name, want) in cases {
        let bytes = std::fs::read(fixtures().join("malformed").join(name)).unwrap();
        let handler = EtlHandler::new(MemorySink::new("s"), test_config());
        let error = runtime
            .block_on(async {
                let event: serde_json::Value =
                    serde_json::from_slice(&bytes).map_err(decode::DecodeError::EventNotJson)?;
                handler.handle_lambda_event(&event).await
            })
            .expect_err(name);
        let message = error.to_string();
        assert!(
            message.starts_with("cannot decode the subscription payload: "),
            "{name}: {message}"
        );
        assert!(
            message.contains(want),
            "{name}: {message:?} does not contain {want:?}"
        );
        assert_eq!(error.kind(), "MalformedPayload");
        assert_eq!(
            handler.sink().calls(),
            0,
            "{name}: nothing is sent for a rejected payload"
        );
    }
}

#[tokio::test]
async fn the_handler_delivers_every_row_of_every_fixture() {
    let handler = EtlHandler::new(MemorySink::new("s"), test_config());
    let mut expected = String::new();
    for name in names("lambda") {
        let event: serde_json::Value =
            serde_json::from_slice(&std::fs::read(fixtures().join("lambda").join(&name)).unwrap())
                .unwrap();
        let report = handler.handle_lambda_event(&event).await.unwrap();
        expected.push_str(
            &std::fs::read_to_string(
                fixtures()
                    .join("expected")
                    .join(name.replace(".json", ".ndjson")),
            )
            .unwrap(),
        );
        assert_eq!(
            report.delivery.as_ref().map_or(0, |d| d.records),
            usize::from(report.transform.rows > 0),
            "{name}: rows packed into one record"
        );
    }
    let delivered = String::from_utf8(handler.sink().accepted_bytes()).unwrap();
    let strip_ingest = |text: &str| -> Vec<String> {
        text.lines()
            .map(|line| {
                let mut row: serde_json::Value = serde_json::from_str(line).unwrap();
                row["ingest_time"] = serde_json::Value::Null;
                row.to_string()
            })
            .collect()
    };
    assert_eq!(strip_ingest(&delivered), strip_ingest(&expected));
}

fn test_config() -> pipeline::etl::EtlConfig {
    pipeline::etl::EtlConfig::from_lookup(|name| {
        (name == "FIREHOSE_DELIVERY_STREAM").then(|| "test-stream".to_owned())
    })
    .unwrap()
}
