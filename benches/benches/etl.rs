//! ETL throughput: decode (base64 + capped gunzip + JSON) + transform (parse, rows) + batch
//! (records, PutRecordBatch plans), on payloads built from the real corpora, about 1 MB of
//! decompressed log text each, as the CloudWatch agent ships them.
//!
//! `cargo bench -p benches --bench etl`. Throughput is log-text bytes (MB/s) and events/s.
//! `gunzip_only` runs beside the full path so the ratio of the two shows what the transform
//! costs on top of decompression, measured in the same run.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a bench is test code: a broken fixture should stop it loudly"
)]

use std::hint::black_box;

use benches::{corpus_lines, windows_xml_lines};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pipeline::etl::decode::{self, LogsPayload};
use pipeline::etl::{RowBuffer, TransformOptions, transform_gzip};
use pipeline::firehose::{MAX_RECORD_BYTES, Records, plan_batches};
use pipeline::time_format::IsoMillis;

/// Decompressed log text per payload.
const PAYLOAD_TEXT_BYTES: usize = 1_000_000;

struct Workload {
    name: &'static str,
    lambda_event: Vec<u8>,
    text_bytes: usize,
    events: usize,
}

fn workload(name: &'static str, stream: &str, lines: &[String]) -> Workload {
    let (mut messages, mut text_bytes) = (Vec::new(), 0);
    for line in lines.iter().cycle() {
        if text_bytes + line.len() > PAYLOAD_TEXT_BYTES {
            break;
        }
        text_bytes += line.len();
        messages.push(line.as_str());
    }
    let payload = LogsPayload::data_message(
        "123456789012",
        "CCP-logs-Acme-123456789012-eu-west-1",
        stream,
        1_700_000_000_000,
        messages.iter().copied(),
    );
    Workload {
        name,
        lambda_event: payload.to_lambda_event(),
        text_bytes,
        events: messages.len(),
    }
}

/// The whole per-invocation path short of the network.
fn decode_transform_batch(event: &[u8], scratch: &mut Vec<u8>, rows: &mut RowBuffer) -> usize {
    let gzip = decode::gzip_from_lambda_event_bytes(event).unwrap();
    rows.clear();
    transform_gzip(
        &gzip,
        &TransformOptions::default(),
        IsoMillis::now(),
        scratch,
        rows,
    )
    .unwrap();
    let records = Records::from_rows(
        std::mem::take(&mut rows.data),
        &rows.ends,
        MAX_RECORD_BYTES,
        true,
    )
    .unwrap();
    let all: Vec<usize> = (0..records.len()).collect();
    let batches = plan_batches(&records, &all).unwrap();
    rows.data = records.into_data();
    batches.len()
}

/// One invocation's work on `event`, opaque to the optimiser.
fn full_path(event: &[u8], scratch: &mut Vec<u8>, rows: &mut RowBuffer) -> usize {
    black_box(decode_transform_batch(black_box(event), scratch, rows))
}

fn bench(c: &mut Criterion) {
    let mut mixed: Vec<String> = corpus_lines("Linux_2k.log");
    mixed.extend(corpus_lines("OpenSSH_2k.log"));
    let workloads = [
        workload(
            "linux_messages",
            "/var/log/messages/i-0123456789abcdef0",
            &corpus_lines("Linux_2k.log"),
        ),
        workload(
            "openssh_secure",
            "/var/log/secure/i-0123456789abcdef0",
            &corpus_lines("OpenSSH_2k.log"),
        ),
        workload(
            "windows_cbs_unparsed",
            "C:\\Windows\\Logs\\CBS\\CBS.log/i-0123456789abcdef0",
            &corpus_lines("Windows_2k.log"),
        ),
        workload(
            "windows_event_xml",
            "System/i-0123456789abcdef0",
            &windows_xml_lines(3000),
        ),
    ];
    let (mut scratch, mut rows) = (Vec::new(), RowBuffer::default());

    let mut group = c.benchmark_group("etl_bytes");
    for w in &workloads {
        group.throughput(Throughput::Bytes(w.text_bytes as u64));
        group.bench_function(format!("{}/decode_transform_batch", w.name), |b| {
            b.iter(|| full_path(&w.lambda_event, &mut scratch, &mut rows));
        });
        group.bench_function(format!("{}/gunzip_only", w.name), |b| {
            b.iter(|| {
                let gzip =
                    decode::gzip_from_lambda_event_bytes(black_box(&w.lambda_event)).unwrap();
                decode::gunzip_capped(&gzip, usize::MAX, &mut scratch).unwrap();
                black_box(scratch.len())
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("etl_events");
    for w in &workloads {
        group.throughput(Throughput::Elements(w.events as u64));
        group.bench_function(format!("{}/decode_transform_batch", w.name), |b| {
            b.iter(|| full_path(&w.lambda_event, &mut scratch, &mut rows));
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
