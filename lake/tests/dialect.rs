//! The Athena stand-in end to end on an in-memory store: a Firehose-shaped table crawled,
//! queried with Athena's functions, pruned by partition, and the dialect differences that
//! docs/queries.md lists, each pinned by a test.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use std::sync::Arc;

use lake::crawl::{CrawlOptions, Location};
use lake::output::{self, Format};
use lake::partitions::Layout;
use lake::{Lake, crawl};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStoreExt as _, PutPayload};

fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

fn row(instance: &str, event_id: u32, body: &str, win_level: Option<u8>) -> String {
    serde_json::json!({
        "instance_id": instance,
        "event_id": format!("{event_id:056}"),
        "event_timestamp_ms": 1_764_000_000_000_i64 + i64::from(event_id),
        "event_time": "2025-11-24T16:00:00.000Z",
        "program": if win_level.is_none() { Some("sshd") } else { None },
        "body": body,
        "message": body,
        "win_level": win_level,
    })
    .to_string()
}

/// Two hours of objects: 10:00 gzip, 11:00 plain; plus a broken object in hour 12 that only
/// partition pruning keeps queries away from.
async fn lake() -> Lake {
    let store = InMemory::new();
    let hour10 = [
        row(
            "i-1",
            1,
            "Failed password for root from 10.0.0.1 port 22 ssh2",
            None,
        ),
        row(
            "i-1",
            2,
            "Failed password for root from 10.0.0.1 port 22 ssh2",
            None,
        ),
        row("i-2", 3, "Accepted publickey for ec2-user", None),
    ]
    .join("\n");
    let hour11 = [
        row(
            "i-2",
            4,
            "Failed password for bob from 2001:db8::1 port 22 ssh2",
            None,
        ),
        row("i-3", 5, "The service stopped", Some(2)),
    ]
    .join("\n");
    for (key, body) in [
        (
            "logs/2025/11/24/10/stream-1.gz",
            gzip(&format!("{hour10}\n")),
        ),
        (
            "logs/2025/11/24/11/stream-2",
            format!("{hour11}\n").into_bytes(),
        ),
        (
            "logs/2025/11/24/12/broken",
            b"{\"instance_id\": \"i-9\", \"win_level\": \"high\"}\n".to_vec(),
        ),
    ] {
        store
            .put(&Path::from(key), PutPayload::from(body))
            .await
            .unwrap();
    }
    let location = Location {
        store: Arc::new(store),
        url: "memory://".into(),
        root: "logs/".into(),
    };
    let options = CrawlOptions {
        table: "logs".into(),
        database: "ccp_logs".into(),
        layout: Layout::Crawler,
        declared_columns: None,
        sample_objects: 2,
        exclude_prefixes: Vec::new(),
    };
    let entry = crawl(&location, &options).await.unwrap();
    let lake = Lake::new("ccp_logs");
    lake.register(entry).unwrap();
    lake
}

async fn rows(lake: &Lake, sql: &str) -> Vec<Vec<String>> {
    let result = lake
        .query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    output::rows(&result).unwrap()
}

fn strings(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|v| (*v).to_owned()).collect())
        .collect()
}

const HOURS_10_11: &str = "partition_0 = '2025' AND partition_3 IN ('10', '11')";

#[tokio::test]
async fn the_crawlers_unnamed_partitions_are_columns_and_prune_objects() {
    let lake = lake().await;
    let sql = format!(
        "SELECT partition_3, count(*) AS n FROM ccp_logs.logs WHERE {HOURS_10_11} GROUP BY 1 ORDER BY 1"
    );
    assert_eq!(
        rows(&lake, &sql).await,
        strings(&[&["10", "3"], &["11", "2"]])
    );
    // Hour 12's object has text where the crawler's sample (hours 10 and 11) saw numbers: a
    // scan that reads the column there fails, naming the object, as Athena's does on such a
    // row. Pruned, it is never opened.
    let unpruned = lake.query("SELECT max(win_level) FROM logs").await;
    let error = unpruned.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        error.contains("logs/2025/11/24/12/broken"),
        "hour 12 cannot be decoded: {error}"
    );
    assert_eq!(
        rows(
            &lake,
            &format!(
                "SELECT max(win_level), count(DISTINCT instance_id) FROM logs WHERE {HOURS_10_11}"
            )
        )
        .await,
        strings(&[&["2", "3"]])
    );
    let plan = rows(
        &lake,
        &format!("EXPLAIN SELECT count(*) FROM logs WHERE {HOURS_10_11}"),
    )
    .await;
    let physical = plan
        .iter()
        .find(|r| r[0] == "physical_plan")
        .map(|r| r[1].clone())
        .unwrap();
    assert!(
        physical.contains("stream-1.gz") && physical.contains("stream-2"),
        "{physical}"
    );
    assert!(!physical.contains("broken"), "{physical}");
}

#[tokio::test]
async fn athena_functions_answer_as_athena_does() {
    let lake = lake().await;
    // regexp_extract: the group, NULL where nothing matches; IPv6 too.
    let sql = format!(
        "SELECT regexp_extract(body, 'from ([0-9a-fA-F.:]+)', 1) AS source_address, count(*) AS attempts \
         FROM ccp_logs.logs WHERE {HOURS_10_11} AND program = 'sshd' GROUP BY 1 ORDER BY attempts DESC, 1"
    );
    assert_eq!(
        rows(&lake, &sql).await,
        strings(&[&["10.0.0.1", "2"], &["2001:db8::1", "1"], &["NULL", "1"]])
    );
    // Without a group: the whole match.
    assert_eq!(
        rows(&lake, "SELECT regexp_extract('abc123', '[0-9]+')").await,
        strings(&[&["123"]])
    );
    // from_iso8601_timestamp and to_unixtime: the row's ISO time back to epoch seconds.
    assert_eq!(
        rows(
            &lake,
            "SELECT to_unixtime(from_iso8601_timestamp('2025-11-24T16:00:00.000Z'))"
        )
        .await,
        strings(&[&["1764000000"]])
    );
    // `rows` as an alias (the saved log-volume query uses it) and ordinal GROUP BY.
    assert_eq!(
        rows(
            &lake,
            &format!("SELECT instance_id, count(*) AS rows FROM logs WHERE {HOURS_10_11} GROUP BY 1 ORDER BY 1")
        )
        .await,
        strings(&[&["i-1", "2"], &["i-2", "2"], &["i-3", "1"]])
    );
}

/// `json_extract_scalar` as Trino's JSON functions page gives it (Athena's engine): the
/// page's own examples (`'[1, 2, 3]'` at `$[2]` is `'3'`; `$.store.book[0].author`), and its
/// rules (an object, an array or a missing key is NULL; not JSON is NULL).
#[tokio::test]
async fn json_extract_scalar_answers_as_trinos_page_does() {
    let lake = lake().await;
    let book = r#"{"store": {"book": [{"author": "Nigel Rees", "price": 8.95, "sale": true}]}}"#;
    let sql = format!(
        "SELECT json_extract_scalar('[1, 2, 3]', '$[2]'), \
                json_extract_scalar('{book}', '$.store.book[0].author'), \
                json_extract_scalar('{book}', '$[\"store\"][\"book\"][0][\"price\"]'), \
                json_extract_scalar('{book}', '$.store.book[0].sale'), \
                json_extract_scalar('{book}', '$.store'), \
                json_extract_scalar('{book}', '$.store.nope'), \
                json_extract_scalar('not json', '$.a')"
    );
    assert_eq!(
        rows(&lake, &sql).await,
        strings(&[&["3", "Nigel Rees", "8.95", "true", "NULL", "NULL", "NULL"]])
    );
    // The ETL's Windows EventData column, by name.
    assert_eq!(
        rows(
            &lake,
            r#"SELECT json_extract_scalar('{"TargetUserName":"Administrator","IpAddress":"203.0.113.50"}', '$.IpAddress')"#
        )
        .await,
        strings(&[&["203.0.113.50"]])
    );
    // A path outside the supported steps: refused, naming it.
    let error = lake
        .query("SELECT json_extract_scalar('{}', '$..a')")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("$..a"), "{error}");
}

#[tokio::test]
async fn dialect_differences_fail_clearly() {
    let lake = lake().await;
    // Java regex features Rust's engine lacks: refused, naming the pattern.
    let error = lake
        .query("SELECT regexp_extract('aa', '(a)\\1')")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("(a)\\1"), "{error}");
    // A group the pattern lacks.
    let error = lake
        .query("SELECT regexp_extract('aa', 'a', 2)")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("has 0 groups, not 2"), "{error}");
    // Athena's date_parse/format_datetime are not provided: an unknown-function error.
    let error = lake
        .query("SELECT date_parse('2025', '%Y')")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("date_parse"), "{error}");
}

#[tokio::test]
async fn results_render_as_table_csv_and_json() {
    let lake = lake().await;
    let result = lake
        .query(&format!(
            "SELECT instance_id, win_level FROM logs WHERE {HOURS_10_11} AND win_level IS NOT NULL"
        ))
        .await
        .unwrap();
    let table = output::render(&result, Format::Table).unwrap();
    assert!(table.contains("| instance_id | win_level |"), "{table}");
    assert!(table.contains("| i-3         | 2         |"), "{table}");
    assert_eq!(
        output::render(&result, Format::Csv).unwrap(),
        "instance_id,win_level\ni-3,2\n"
    );
    assert_eq!(
        output::render(&result, Format::Json).unwrap(),
        "[{\"instance_id\":\"i-3\",\"win_level\":2}]"
    );
    let empty = lake
        .query("SELECT instance_id FROM logs WHERE false")
        .await
        .unwrap();
    assert_eq!(
        output::render(&empty, Format::Table).unwrap(),
        "(no rows; columns: instance_id)"
    );
    assert_eq!(output::render(&empty, Format::Json).unwrap(), "[]");
}

#[tokio::test]
async fn the_catalog_is_queryable_through_information_schema() {
    let lake = lake().await;
    let columns = rows(
        &lake,
        "SELECT column_name, data_type FROM information_schema.columns \
         WHERE table_name = 'logs' AND column_name IN ('event_timestamp_ms', 'partition_0', 'win_level') \
         ORDER BY column_name",
    )
    .await;
    assert_eq!(
        columns,
        strings(&[
            &["event_timestamp_ms", "Int64"],
            &["partition_0", "Utf8"],
            &["win_level", "Int32"]
        ])
    );
}
