//! The Firehose model end to end with the pipeline's real SDK adapter: `FirehoseSink` (what the
//! ETL runs) puts records through aws-sdk-firehose to the model's endpoint, which buffers them
//! on the arrival clock and writes objects compressed and named as the Firehose Developer
//! Guide states ("Data Delivery Frequency", "Configure Amazon S3 object name format",
//! "Custom Prefixes for Amazon S3 Objects").
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use std::io::Read as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use pipeline::firehose::RecordSink as _;
use pipeline::firehose::sdk::FirehoseSink;
use standins::firehose::buffer::{BufferingHints, ObjectCompression};
use standins::firehose::{
    DeliveryStream, FirehoseEndpoint, MemoryObjects, ObjectWriter, StreamConfig, WriteError,
};

/// 2018-08-27T10:30:00Z, the guide's example instant.
const START_MS: i64 = 1_535_365_800_000;

fn config() -> StreamConfig {
    StreamConfig {
        name: "ccp-logs-to-s3".to_owned(),
        bucket: "ccp-logs".to_owned(),
        prefix: "logs/".to_owned(),
        error_prefix: "errors/!{firehose:error-output-type}/".to_owned(),
        hints: BufferingHints {
            size_mib: 5,
            interval_seconds: 300,
        },
        compression: ObjectCompression::Gzip,
        gzip_level: standins::firehose::FIREHOSE_GZIP_LEVEL,
        conversion: None,
    }
}

/// A stream writing to `writer`, served on its own endpoint.
struct Model<W> {
    stream: Arc<DeliveryStream<W>>,
    endpoint: FirehoseEndpoint,
}

impl<W: ObjectWriter> Model<W> {
    async fn start(
        config: StreamConfig,
        writer: W,
        clock: standins::firehose::ArrivalClock,
        seed: u64,
    ) -> Self {
        let stream = Arc::new(DeliveryStream::without_faults(config, writer, clock, seed));
        let endpoint = FirehoseEndpoint::serve(stream.clone()).await.unwrap();
        Self { stream, endpoint }
    }

    async fn finish(&self) -> standins::firehose::DeliveryStats {
        self.stream.finish().await
    }
}

async fn sink_for<W>(model: &Model<W>, stream: &str) -> FirehoseSink {
    let sdk = pipeline::emulator::sdk_config(model.endpoint.url(), "us-east-1").await;
    FirehoseSink::new(aws_sdk_firehose::Client::new(&sdk), stream)
}

fn gunzip(body: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(body)
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[tokio::test]
async fn records_from_the_sdk_land_as_gzip_objects_named_as_firehose_names_them() {
    let writer = Arc::new(MemoryObjects::default());
    let now = Arc::new(AtomicI64::new(START_MS));
    let clock = {
        let now = now.clone();
        Arc::new(move || now.load(Ordering::SeqCst))
    };
    let model = Model::start(config(), writer.clone(), clock, 7).await;
    // The stand-in's endpoint (the shared JSON server the SSM endpoint uses too) listens on
    // the loopback interface only.
    let port = model
        .endpoint
        .url()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap();
    crate::support::assert_loopback_only(port, "the Firehose model's endpoint");
    let sink = sink_for(&model, "ccp-logs-to-s3").await;
    let results = sink
        .put_record_batch(&[b"{\"n\":1}\n", b"{\"n\":2}\n"])
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    now.store(START_MS + 60_000, Ordering::SeqCst);
    sink.put_record_batch(&[b"{\"n\":3}\n"]).await.unwrap();
    model.stream.tick().await;
    assert!(writer.objects().is_empty(), "nothing before the interval");
    now.store(START_MS + 300_000, Ordering::SeqCst);
    model.stream.tick().await;
    now.store(START_MS + 400_000, Ordering::SeqCst);
    sink.put_record_batch(&[b"{\"n\":4}\n"]).await.unwrap();
    let stats = model.finish().await;
    let objects = writer.objects();
    assert_eq!(
        objects.len(),
        2,
        "{:?}",
        objects.iter().map(|o| &o.0).collect::<Vec<_>>()
    );
    let key = regex::Regex::new(
        r"^logs/2018/08/27/10/ccp-logs-to-s3-1-2018-08-27-10-(30|36)-(00|40)-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.gz$",
    )
    .unwrap();
    for (name, _) in &objects {
        assert!(key.is_match(name), "{name}");
    }
    assert!(
        objects[0].0.contains("-10-30-00-"),
        "named after the oldest record"
    );
    assert_eq!(gunzip(&objects[0].1), "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    assert_eq!(gunzip(&objects[1].1), "{\"n\":4}\n");
    assert_eq!((stats.records, stats.objects), (4, 2));
    assert_eq!(stats.bytes_in, 32);
    assert!(stats.write_errors.is_empty());
}

#[tokio::test]
async fn a_stream_the_model_does_not_serve_is_refused_as_firehose_refuses_it() {
    let clock = Arc::new(|| START_MS);
    let model = Model::start(config(), Arc::new(MemoryObjects::default()), clock, 1).await;
    let error = sink_for(&model, "other-stream")
        .await
        .put_record_batch(&[b"x\n"])
        .await
        .unwrap_err();
    assert_eq!(error.code, "ResourceNotFoundException", "{error:?}");
}

/// A writer that fails its first `failures` calls.
struct Flaky {
    failures: std::sync::atomic::AtomicUsize,
    inner: MemoryObjects,
}

impl ObjectWriter for Flaky {
    async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), WriteError> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(WriteError {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                message: "InternalError".to_owned(),
            });
        }
        self.inner.put(bucket, key, body).await
    }
}

/// Firehose developer guide, "Handle data delivery failure" (Amazon S3): "Amazon Data Firehose
/// retries for up to 24 hours ... If data delivery fails for more than 24 hours ... your data is
/// lost." An S3 outage of 40 failed attempts (about half an hour, simulated) loses nothing; one
/// that outlasts the window loses the object, named.
#[tokio::test(start_paused = true)]
async fn failed_object_writes_are_retried_for_24_hours_and_only_then_given_up() {
    use standins::firehose::{S3_RETRY_WINDOW_MS, write_retry_wait_ms};
    // Attempts that fit in the window: the first, then one after each wait.
    let mut waited = 0;
    let mut attempts_in_window = 1;
    while waited + write_retry_wait_ms(attempts_in_window) <= S3_RETRY_WINDOW_MS {
        waited += write_retry_wait_ms(attempts_in_window);
        attempts_in_window += 1;
    }
    for (failures, written) in [(40usize, true), (usize::MAX, false)] {
        let writer = Arc::new(Flaky {
            failures: std::sync::atomic::AtomicUsize::new(failures),
            inner: MemoryObjects::default(),
        });
        let model = Model::start(config(), writer.clone(), Arc::new(|| START_MS), 3).await;
        sink_for(&model, "ccp-logs-to-s3")
            .await
            .put_record_batch(&[b"{\"n\":1}\n"])
            .await
            .unwrap();
        let stats = model.finish().await;
        assert_eq!(stats.objects, usize::from(written), "{stats:?}");
        assert_eq!(writer.inner.objects().len(), usize::from(written));
        if written {
            assert_eq!((stats.write_attempts, stats.write_retries), (41, 40));
            assert!(stats.write_errors.is_empty());
        } else {
            assert_eq!(stats.write_attempts, attempts_in_window as usize);
            assert_eq!(stats.write_errors.len(), 1);
            assert!(
                stats.write_errors[0].contains("24-hour retry window"),
                "{stats:?}"
            );
        }
    }
}

/// Format conversion (Developer Guide, "Convert input data format" and "Configure Amazon S3
/// object name format"): rows from the SDK land as one Parquet object named `.parquet`, and a
/// record that is not JSON objects goes to the error prefix as `format-conversion-failed`
/// ("Handling errors for data format conversion").
#[tokio::test]
async fn converted_records_land_as_parquet_and_failures_under_the_error_prefix() {
    use standins::firehose::convert::{CatalogTable, Conversion};
    let writer = Arc::new(MemoryObjects::default());
    let mut config = config();
    config.compression = ObjectCompression::Uncompressed;
    config.conversion = Some(
        Conversion::new(
            &lake::schema::declared_columns(&pipeline::etl::row::ROW_COLUMNS),
            "SNAPPY",
            CatalogTable {
                catalog_id: "000000000000".into(),
                database: "ccp_logs".into(),
                table: "logs".into(),
                region: "us-east-1".into(),
            },
        )
        .unwrap(),
    );
    let model = Model::start(config, writer.clone(), Arc::new(|| START_MS), 3).await;
    let sink = sink_for(&model, "ccp-logs-to-s3").await;
    sink.put_record_batch(&[
        b"{\"log_stream\":\"i-1\",\"part_index\":1}\n{\"log_stream\":\"i-2\"}\n",
        b"not json\n",
    ])
    .await
    .unwrap();
    let stats = model.finish().await;
    let objects = writer.objects();
    let keys: Vec<&str> = objects.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let error = keys
        .iter()
        .position(|k| k.starts_with("errors/format-conversion-failed/"))
        .unwrap_or_else(|| panic!("no error object: {keys:?}"));
    let data = 1 - error;
    assert!(
        keys[data].starts_with("logs/2018/08/27/10/ccp-logs-to-s3-1-")
            && keys[data].ends_with(".parquet"),
        "{keys:?}"
    );
    assert!(!keys[error].ends_with(".parquet"));
    assert_eq!(&objects[data].1[..4], b"PAR1");
    let document: serde_json::Value =
        serde_json::from_slice(objects[error].1.trim_ascii_end()).unwrap();
    assert_eq!(document["lastErrorCode"], "DataFormatConversion.ParseError");
    assert_eq!(
        (
            stats.records,
            stats.rows_converted,
            stats.records_failed_conversion,
            stats.objects,
            stats.error_objects
        ),
        (2, 2, 1, 1, 1)
    );
}
