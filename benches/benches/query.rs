//! Catalog + query latency of the Athena stand-in (`lake`: crawl, then DataFusion SQL) over a
//! delivered data set of growing size, beside DuckDB (from PyPI) on the same files in the same
//! run, printed as a ratio.
//!
//! `cargo bench -p benches --bench query` (sizes 10, 100 and 1000 MB of rows), or
//! `cargo bench -p benches --bench query -- 10 100` for some sizes.
//!
//! The data set is built once per size under `target/bench-data/query/<size>MB/`:
//! - rows come from the pipeline's own ETL transform, on payloads of real corpus lines
//!   (OpenSSH, Linux syslog) and Windows Event XML, from 40 instances;
//! - they are stored as Firehose stores them: gzip NDJSON objects of about 5 MB of rows each,
//!   under `logs/yyyy/MM/dd/HH/`, spread over 24 hours.
//!
//! The same rows are also stored as Firehose's format conversion stores them (one Parquet
//! object per gzip object, converted by the harness's Firehose model, SNAPPY columns), and the
//! stand-in's times and bytes scanned (what Athena bills) on NDJSON and on Parquet are printed
//! side by side with their ratio.
//!
//! Each query runs 3 times per engine and the median is reported. Every engine's answer is
//! checked against the others' (row counts), so a fast wrong answer shows.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a bench is test code that prints its figures; a broken fixture should stop it loudly"
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use benches::{corpus_lines, repo_root, windows_xml_lines};
use lake::crawl::{CrawlOptions, DEFAULT_SAMPLE_OBJECTS, Location};
use lake::partitions::Layout;
use pipeline::etl::decode::LogsPayload;
use pipeline::etl::{RowBuffer, TransformOptions, transform_gzip};
use pipeline::time_format::IsoMillis;

/// Rows per stored object (Firehose's default buffer is 5 MB).
const OBJECT_ROW_BYTES: usize = 5 * 1024 * 1024;
/// Hours the objects are spread over.
const HOURS: usize = 24;
/// Repetitions per query and engine.
const RUNS: usize = 3;

/// The queries, as both engines take them (the stack's saved queries without the parts
/// DuckDB lacks: `to_unixtime`), plus a partition-pruned count.
const QUERIES: [(&str, &str); 4] = [
    (
        "log volume per instance and source",
        "SELECT instance_id, source, count(*) AS rows, sum(length(message)) AS bytes \
         FROM logs GROUP BY instance_id, source ORDER BY bytes DESC",
    ),
    (
        "failed SSH logins by source address",
        "SELECT regexp_extract(body, 'from ([0-9a-fA-F.:]+)', 1) AS source_address, \
         count(*) AS attempts FROM logs \
         WHERE program = 'sshd' AND body LIKE 'Failed password%' GROUP BY 1 ORDER BY attempts DESC",
    ),
    (
        "Windows Security events by EventID",
        "SELECT win_event_id, count(*) AS events FROM logs \
         WHERE win_channel = 'Security' GROUP BY win_event_id ORDER BY events DESC",
    ),
    (
        "one hour (partition-pruned)",
        "SELECT count(*) AS n FROM logs WHERE partition_3 = '05'",
    ),
];

/// A data set's two tables: gzip NDJSON and Parquet, the same rows.
struct DataSet {
    json: PathBuf,
    parquet: PathBuf,
}

/// Builds (or reuses) the data set of `megabytes` of rows.
fn data_set(megabytes: usize) -> DataSet {
    let root = repo_root()
        .join("target/bench-data/query")
        .join(format!("{megabytes}MB"));
    let done = root.join("complete-with-parquet");
    let table = root.join("logs");
    let set = DataSet {
        json: table.clone(),
        parquet: root.join("parquet-logs"),
    };
    if done.exists() {
        return set;
    }
    let conversion = standins::firehose::convert::Conversion::new(
        &harness::catalog::declared_columns(),
        "SNAPPY",
        standins::firehose::convert::CatalogTable {
            catalog_id: "123456789012".into(),
            database: "ccp_logs".into(),
            table: "logs".into(),
            region: "eu-west-1".into(),
        },
    )
    .unwrap();
    let _ = std::fs::remove_dir_all(&root);
    let sources = [
        ("/var/log/secure", corpus_lines("OpenSSH_2k.log")),
        ("/var/log/messages", corpus_lines("Linux_2k.log")),
        ("Security", windows_xml_lines(1500)),
    ];
    let target = megabytes * 1024 * 1024;
    let (mut written, mut object, mut rows, mut scratch) = (0, 0, RowBuffer::default(), Vec::new());
    let mut pending = Vec::new();
    let start_ms = 1_764_000_000_000_i64;
    let mut round = 0usize;
    while written < target {
        for instance in 0..40 {
            let (source, lines) = &sources[(instance + round) % sources.len()];
            let stream = format!("{source}/i-{instance:017x}");
            let offset = (round * 37 + instance * 11) % lines.len();
            let messages = lines
                .iter()
                .cycle()
                .skip(offset)
                .take(400)
                .map(String::as_str);
            let hour = (round + instance) % HOURS;
            let timestamp = start_ms + i64::try_from(hour).unwrap() * 3_600_000;
            let payload = LogsPayload::data_message(
                "123456789012",
                "CCP-logs-Acme-123456789012-eu-west-1",
                &stream,
                timestamp,
                messages,
            );
            rows.clear();
            transform_gzip(
                &pipeline::etl::decode::gzip(&payload.to_json()),
                &TransformOptions::default(),
                IsoMillis::now(),
                &mut scratch,
                &mut rows,
            )
            .unwrap();
            pending.extend_from_slice(&rows.data);
            if pending.len() >= OBJECT_ROW_BYTES {
                written += pending.len();
                write_object(&table, object, &pending);
                write_parquet_object(&set.parquet, object, &pending, &conversion);
                object += 1;
                pending.clear();
            }
            if written >= target {
                break;
            }
        }
        round += 1;
    }
    std::fs::write(
        &done,
        format!("{written} bytes of rows in {object} objects\n"),
    )
    .unwrap();
    set
}

/// The object's rows as the harness's Firehose model converts them (one record per object:
/// the rows are whole lines, so the conversion reads the same rows either way).
fn write_parquet_object(
    table: &Path,
    index: usize,
    rows: &[u8],
    conversion: &standins::firehose::convert::Conversion,
) {
    let hour = index % HOURS;
    let dir = table.join(format!("2025/11/24/{hour:02}"));
    std::fs::create_dir_all(&dir).unwrap();
    let converted = conversion.convert(rows, &[rows.len()]).unwrap();
    assert!(converted.failed.is_empty(), "{:?}", converted.failed);
    std::fs::write(
        dir.join(format!("ccp-logs-to-s3-{index:05}.parquet")),
        converted.parquet.unwrap(),
    )
    .unwrap();
}

fn write_object(table: &Path, index: usize, rows: &[u8]) {
    let hour = index % HOURS;
    let dir = table.join(format!("2025/11/24/{hour:02}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join(format!("ccp-logs-to-s3-{index:05}.gz"))).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    encoder.write_all(rows).unwrap();
    encoder.finish().unwrap();
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Figures of one engine on one data set: catalog, then each query (median, rows), and the
/// bytes each query read (the stand-in only).
struct Figures {
    catalog: Duration,
    queries: Vec<(Duration, usize)>,
    scanned: Vec<u64>,
}

async fn datafusion(table: &Path) -> Figures {
    let mut catalog = Vec::new();
    let mut opened = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        let location = Location {
            store: lake::store::local(),
            url: "file:///".into(),
            root: format!("{}/", table.to_string_lossy().trim_start_matches('/')),
        };
        let options = CrawlOptions {
            table: "logs".into(),
            database: "ccp_logs".into(),
            layout: Layout::Crawler,
            declared_columns: None,
            sample_objects: DEFAULT_SAMPLE_OBJECTS,
            exclude_prefixes: Vec::new(),
        };
        let entry = lake::crawl(&location, &options).await.unwrap();
        let session = lake::Lake::new("ccp_logs");
        session.register(entry).unwrap();
        catalog.push(started.elapsed());
        opened = Some(session);
    }
    let session = opened.unwrap();
    let mut queries = Vec::new();
    let mut scanned = Vec::new();
    for (_, sql) in QUERIES {
        let mut times = Vec::new();
        let (mut rows, mut bytes) = (0, 0);
        for _ in 0..RUNS {
            let started = Instant::now();
            let result = session
                .query(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            times.push(started.elapsed());
            rows = result.row_count();
            bytes = result.bytes_scanned;
        }
        queries.push((median(times), rows));
        scanned.push(bytes);
    }
    Figures {
        catalog: median(catalog),
        queries,
        scanned,
    }
}

/// The same work in DuckDB: a view over `read_json` (its schema detection is its catalog),
/// partition columns from the path, then the queries.
fn duckdb(python: &str, table: &Path) -> Figures {
    let glob = format!("{}/*/*/*/*/*.gz", table.display());
    let queries: Vec<&str> = QUERIES.iter().map(|(_, sql)| *sql).collect();
    let script = format!(
        r#"
import duckdb, json, statistics, time
glob, queries, runs = {glob:?}, {queries}, {RUNS}
con = duckdb.connect()
view = f"""CREATE OR REPLACE VIEW logs AS SELECT *,
  regexp_extract(filename, '/([0-9]+)/([0-9]+)/([0-9]+)/([0-9]+)/[^/]+$', 1) AS partition_0,
  regexp_extract(filename, '/([0-9]+)/([0-9]+)/([0-9]+)/([0-9]+)/[^/]+$', 2) AS partition_1,
  regexp_extract(filename, '/([0-9]+)/([0-9]+)/([0-9]+)/([0-9]+)/[^/]+$', 3) AS partition_2,
  regexp_extract(filename, '/([0-9]+)/([0-9]+)/([0-9]+)/([0-9]+)/[^/]+$', 4) AS partition_3
  FROM read_json('{{glob}}', format='newline_delimited', filename=true, compression='gzip')"""
catalog = []
for _ in range(runs):
    t = time.perf_counter(); con.execute(view); con.execute("DESCRIBE logs").fetchall()
    catalog.append(time.perf_counter() - t)
out = {{"catalog": statistics.median(catalog), "queries": []}}
for sql in queries:
    times, rows = [], 0
    for _ in range(runs):
        t = time.perf_counter(); rows = len(con.execute(sql).fetchall()); times.append(time.perf_counter() - t)
    out["queries"].append([statistics.median(times), rows])
print(json.dumps(out))
"#,
        queries = serde_json::to_string(&queries).unwrap(),
    );
    let output = std::process::Command::new(python)
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "duckdb failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let figures: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let seconds = |v: &serde_json::Value| Duration::from_secs_f64(v.as_f64().unwrap());
    Figures {
        scanned: Vec::new(),
        catalog: seconds(&figures["catalog"]),
        queries: figures["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                (
                    seconds(&q[0]),
                    usize::try_from(q[1].as_u64().unwrap()).unwrap(),
                )
            })
            .collect(),
    }
}

fn python_with_duckdb() -> String {
    let script = repo_root().join("scripts/duckdb.sh");
    let output = std::process::Command::new("bash")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10, 100, 1000]
    } else {
        sizes
    };
    let python = python_with_duckdb();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{:<8} {:<38} {:>11} {:>11} {:>10} {:>7}",
        "rows", "step", "datafusion", "duckdb", "df/duckdb", "rows"
    );
    let mut formats = Vec::new();
    for megabytes in sizes {
        let started = Instant::now();
        let set = data_set(megabytes);
        let table = set.json.clone();
        let stored =
            |dir: &Path| -> u64 { walk(dir).iter().map(|p| p.metadata().unwrap().len()).sum() };
        eprintln!(
            "{megabytes} MB of rows: {} MB gzip, {} MB Parquet, in {} objects each (ready in {:.1} s)",
            stored(&table) / 1_000_000,
            stored(&set.parquet) / 1_000_000,
            walk(&table).len(),
            started.elapsed().as_secs_f64()
        );
        let ours = runtime.block_on(datafusion(&table));
        let parquet = runtime.block_on(datafusion(&set.parquet));
        let theirs = duckdb(&python, &table);
        let line = |step: &str, a: Duration, b: Duration, rows: String| {
            println!(
                "{:<8} {step:<38} {:>9.3} s {:>9.3} s {:>10.2} {rows:>7}",
                format!("{megabytes} MB"),
                a.as_secs_f64(),
                b.as_secs_f64(),
                a.as_secs_f64() / b.as_secs_f64()
            );
        };
        line("catalog", ours.catalog, theirs.catalog, String::new());
        for (i, (name, _)) in QUERIES.iter().enumerate() {
            let (a, rows_a) = ours.queries[i];
            let (b, rows_b) = theirs.queries[i];
            let rows = if rows_a == rows_b {
                rows_a.to_string()
            } else {
                format!("{rows_a}≠{rows_b}")
            };
            line(name, a, b, rows);
        }
        formats.push(FormatRun {
            megabytes,
            json: ours,
            parquet,
        });
    }
    print_formats(&formats);
}

/// The stand-in on NDJSON and on Parquet, side by side: median times, their ratio, and the
/// bytes each query read (Athena's data scanned).
/// One data set's figures on both formats.
struct FormatRun {
    megabytes: usize,
    json: Figures,
    parquet: Figures,
}

fn print_formats(formats: &[FormatRun]) {
    println!(
        "\n{:<8} {:<38} {:>10} {:>10} {:>10} {:>12} {:>12} {:>8}",
        "rows",
        "query (datafusion)",
        "ndjson",
        "parquet",
        "nd/pq",
        "ndjson read",
        "parquet read",
        "ratio"
    );
    for run in formats {
        let megabytes = run.megabytes;
        for (i, (name, _)) in QUERIES.iter().enumerate() {
            let ((a, rows_a), (b, rows_b)) = (run.json.queries[i], run.parquet.queries[i]);
            assert_eq!(rows_a, rows_b, "{name}: NDJSON and Parquet disagree");
            let (read_a, read_b) = (run.json.scanned[i], run.parquet.scanned[i]);
            println!(
                "{:<8} {name:<38} {:>8.3} s {:>8.3} s {:>10.2} {:>9.1} MB {:>9.1} MB {:>8.1}",
                format!("{megabytes} MB"),
                a.as_secs_f64(),
                b.as_secs_f64(),
                a.as_secs_f64() / b.as_secs_f64(),
                read_a as f64 / 1e6,
                read_b as f64 / 1e6,
                read_a as f64 / (read_b.max(1)) as f64
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}
