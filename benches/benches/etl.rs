//! ETL throughput: decode (base64 + capped gunzip + JSON) + transform (parse, rows) + batch
//! (records, PutRecordBatch plans), on payloads built from the real corpora, about 1 MB of
//! decompressed log text each, as the CloudWatch agent ships them.
//!
//! `cargo bench -p benches --bench etl`. Throughput is log-text bytes (MB/s) and events/s.
//! `gunzip_only` runs beside the full path so the ratio of the two shows what the transform
//! costs on top of decompression, measured in the same run.
//!
//! Before criterion starts, the same payloads go through the logic of AWS's Python
//! CloudWatch-Logs-processor blueprint (`benches/blueprint/cloudwatch_logs_processor.py`, our
//! own script following its documented behaviour: base64, gunzip, JSON, one line per event),
//! in its default mode (the message) and in JSON mode (one JSON object per event, what our ETL
//! writes), and the bench prints our MB/s beside the script's with the ratio, all measured in
//! the same run (best of several passes each, the interpreter's start-up not counted).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::cast_precision_loss,
    reason = "a bench is test code: a broken fixture should stop it loudly; it reports on stdout"
)]

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use benches::{corpus_lines, repo_root, windows_xml_lines};
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

/// Passes of each side of the blueprint comparison (the best is kept).
const COMPARISON_PASSES: usize = 7;

/// Our full path's best time for one payload, seconds.
fn our_best_seconds(event: &[u8], scratch: &mut Vec<u8>, rows: &mut RowBuffer) -> f64 {
    (0..COMPARISON_PASSES)
        .map(|_| {
            let started = Instant::now();
            full_path(event, scratch, rows);
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// The blueprint script's best time for each payload in `mode`, seconds; `None` (said on
/// stderr) when Python cannot run it.
fn blueprint_seconds(mode: &str, payloads: &[PathBuf]) -> Option<Vec<f64>> {
    let script = repo_root().join("benches/blueprint/cloudwatch_logs_processor.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(mode)
        .arg(COMPARISON_PASSES.to_string())
        .args(payloads)
        .output();
    match output {
        Ok(out) if out.status.success() => Some(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|line| line.rsplit(' ').next()?.parse().ok())
                .collect(),
        ),
        Ok(out) => {
            eprintln!(
                "blueprint comparison: {} failed: {}",
                script.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            None
        }
        Err(e) => {
            eprintln!("blueprint comparison: python3 could not be started: {e}");
            None
        }
    }
}

/// Prints our MB/s beside the blueprint logic's, per payload, measured now.
fn compare_with_blueprint(workloads: &[Workload]) {
    let dir = std::env::temp_dir().join(format!("loglab-etl-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let payloads: Vec<PathBuf> = workloads
        .iter()
        .map(|w| {
            let path = dir.join(format!("{}.gz", w.name));
            let gzip = decode::gzip_from_lambda_event_bytes(&w.lambda_event).unwrap();
            std::fs::write(&path, gzip).unwrap();
            path
        })
        .collect();
    let (mut scratch, mut rows) = (Vec::new(), RowBuffer::default());
    let ours: Vec<f64> = workloads
        .iter()
        .map(|w| our_best_seconds(&w.lambda_event, &mut scratch, &mut rows))
        .collect();
    let json = blueprint_seconds("json", &payloads);
    let message = blueprint_seconds("message", &payloads);
    let _ = std::fs::remove_dir_all(&dir);
    let mb_s = |w: &Workload, seconds: f64| w.text_bytes as f64 / seconds / 1e6;
    println!(
        "ETL vs AWS's CloudWatch-Logs-processor blueprint logic (Python), MB/s of log text, one core:"
    );
    for (i, w) in workloads.iter().enumerate() {
        let ours = mb_s(w, ours[i]);
        let theirs =
            |side: &Option<Vec<f64>>| side.as_ref().and_then(|s| s.get(i)).map(|&t| mb_s(w, t));
        let ratio = |other: Option<f64>| {
            other.map_or_else(
                || "n/a".to_owned(),
                |o| format!("{o:.1} MB/s, ours {:.1}x", ours / o),
            )
        };
        println!(
            "  {:<22} ours {ours:>6.1} MB/s | blueprint json {} | blueprint message {}",
            w.name,
            ratio(theirs(&json)),
            ratio(theirs(&message)),
        );
    }
}

fn bench(c: &mut Criterion) {
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
    compare_with_blueprint(&workloads);
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
