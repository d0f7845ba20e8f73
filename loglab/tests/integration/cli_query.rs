//! `loglab catalog` and `loglab query` as a user runs them, on a folder laid out as Firehose
//! lays out the bucket (one gzip object, one plain), holding the ETL's row snapshots: the
//! output formats, the answers (computed here from the snapshot files), and bad SQL.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use crate::support;

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use support::root;

fn table_folder() -> tempfile_dir::Dir {
    let dir = tempfile_dir::Dir::new("cli-query");
    let expected = root().join("fixtures/cloudwatch-logs/expected");
    let secure = std::fs::read(expected.join("linux-secure.ndjson")).unwrap();
    let security = std::fs::read(expected.join("windows-security-xml.ndjson")).unwrap();
    let hour0 = dir.path().join("logs/2026/01/01/00");
    let hour1 = dir.path().join("logs/2026/01/01/01");
    std::fs::create_dir_all(&hour0).unwrap();
    std::fs::create_dir_all(&hour1).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(hour0.join("ccp-logs-to-s3-1.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    encoder.write_all(&secure).unwrap();
    encoder.finish().unwrap();
    std::fs::write(hour1.join("ccp-logs-to-s3-2"), &security).unwrap();
    dir
}

/// Counts of snapshot rows per `column` value, as `value,count` lines sorted by value.
fn counts(file: &str, column: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join("fixtures/cloudwatch-logs/expected").join(file))
        .unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let value = match &row[column] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        *counts.entry(value).or_insert(0) += 1;
    }
    counts
        .into_iter()
        .map(|(v, n)| format!("{v},{n}"))
        .collect()
}

/// `loglab` with `args`, run in the repository.
pub(crate) fn loglab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_loglab"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

fn location(dir: &Path) -> String {
    dir.join("logs").to_string_lossy().into_owned()
}

#[test]
fn query_answers_in_csv_json_and_table_with_partitions() {
    let dir = table_folder();
    let where_ = location(dir.path());
    let output = loglab(&[
        "query",
        "--location",
        &where_,
        "--format",
        "csv",
        "SELECT program, count(*) AS n FROM logs WHERE datehour = '2026/01/01/00' GROUP BY 1 ORDER BY 1",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut expected = vec!["program,n".to_owned()];
    expected.extend(counts("linux-secure.ndjson", "program"));
    assert_eq!(stdout.trim_end().lines().collect::<Vec<_>>(), expected);

    let output = loglab(&[
        "query",
        "--location",
        &where_,
        "--format",
        "json",
        "SELECT win_event_id, count(*) AS n FROM ccp_logs.logs WHERE datehour = '2026/01/01/01' GROUP BY 1 ORDER BY 1",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let got: Vec<String> = rows
        .iter()
        .map(|r| format!("{},{}", r["win_event_id"], r["n"]))
        .collect();
    assert_eq!(got, counts("windows-security-xml.ndjson", "win_event_id"));

    let output = loglab(&[
        "query",
        "--location",
        &where_,
        "SELECT count(*) AS n FROM logs",
    ]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("| n "), "{stdout}");
}

#[test]
fn catalog_shows_columns_and_partitions() {
    let dir = table_folder();
    let output = loglab(&["catalog", "--location", &location(dir.path())]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let partition_column = format!("{:<23}string (partition)", "datehour");
    for part in [
        "table ccp_logs.logs (partition projection, declared columns)",
        "2 objects (1 gzip)",
        partition_column.as_str(),
        "event_timestamp_ms     bigint",
        "2026/01/01/00",
        "2026/01/01/01",
    ] {
        assert!(stdout.contains(part), "{part:?} in\n{stdout}");
    }
}

#[test]
fn bad_sql_exits_2_pointing_at_the_mistake() {
    let dir = table_folder();
    let output = loglab(&[
        "query",
        "--location",
        &location(dir.path()),
        "SELECT count(*) FROM logs GROUP x",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("query failed"), "{stderr}");
    assert!(
        stderr.contains("  | SELECT count(*) FROM logs GROUP x\n  |                           ^"),
        "{stderr}"
    );
    let output = loglab(&["query", "--location", "/no/such/folder", "SELECT 1"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("/no/such/folder"), "{stderr}");
}

/// A temporary folder removed on drop (no extra crate for it).
pub(crate) mod tempfile_dir {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new(name: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "loglab-{name}-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            ));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
