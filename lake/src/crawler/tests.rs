//! The crawler over time, against the Glue developer guide's account of incremental crawls.

use super::*;
use crate::Lake;
use crate::partitions::Layout;

const H10: i64 = 1_796_464_800_000; // 2026-12-05T10:00:00Z

fn options() -> CrawlOptions {
    CrawlOptions {
        table: "logs".into(),
        database: "ccp_logs".into(),
        layout: Layout::Crawler,
        declared_columns: None,
        sample_objects: crate::crawl::DEFAULT_SAMPLE_OBJECTS,
        exclude_prefixes: Vec::new(),
    }
}

const LINUX: &str = "{\"instance_id\":\"i-1\",\"pid\":42,\"win_level\":null}\n";
const WINDOWS: &str = "{\"instance_id\":\"i-2\",\"pid\":null,\"win_level\":2}\n";

async fn bucket(objects: &[(&str, &str)]) -> Location {
    let objects: Vec<(&str, Vec<u8>)> = objects
        .iter()
        .map(|(key, body)| (*key, body.as_bytes().to_vec()))
        .collect();
    crate::crawl::tests::store(&objects).await
}

fn minutes(m: i64) -> i64 {
    H10 + m * 60_000
}

#[test]
fn glue_cron_minutes_are_followed_and_other_schedules_refused_by_name() {
    let every5 = Schedule::parse("cron(0/5 * * * ? *)").unwrap();
    assert_eq!(
        every5.runs(minutes(2), minutes(20)),
        [minutes(5), minutes(10), minutes(15), minutes(20)]
    );
    assert_eq!(every5.next_at_or_after(minutes(10)), minutes(10));
    assert_eq!(every5.next_at_or_after(minutes(11)), minutes(15));
    let quarter = Schedule::parse("cron(15,45 * * * ? *)").unwrap();
    assert_eq!(
        quarter.runs(minutes(0), minutes(60)),
        [minutes(15), minutes(45)]
    );
    assert_eq!(
        Schedule::parse("cron(*/20 * * * ? *)")
            .unwrap()
            .runs(minutes(0), minutes(59)),
        [minutes(20), minutes(40)]
    );
    let hours = Schedule::parse("cron(0 12 * * ? *)").unwrap_err();
    assert!(hours.why.contains("\"12\""), "{hours}");
    assert!(hours.why.contains("our limit"), "{hours}");
    assert!(Schedule::parse("rate(5 minutes)").is_err());
    assert!(Schedule::parse("cron(61 * * * ? *)").is_err());
    assert!(Schedule::parse("cron(0/5 * * * ?)").is_err());
}

/// The first run fixes the schema from what it sees; later runs with new folders only add
/// partitions and log the change ("No schema changes are made ... after the first crawl run").
#[tokio::test]
async fn a_first_crawl_of_linux_rows_fixes_win_level_as_string_and_athena_refuses_the_windows_query()
 {
    let location = bucket(&[
        ("logs/2026/12/05/10/a.json", LINUX),
        ("logs/2026/12/05/11/b.json", WINDOWS),
    ])
    .await;
    let listing = crate::crawl::list(&location, &[]).await.unwrap();
    let landed: HashMap<String, i64> = [
        ("logs/2026/12/05/10/a.json".to_owned(), minutes(3)),
        ("logs/2026/12/05/11/b.json".to_owned(), minutes(62)),
    ]
    .into();
    let mut crawler = Crawler::new(options(), Recrawl::NewFoldersOnly, SchemaUpdate::Log);
    for at in Schedule::parse("cron(0/5 * * * ? *)")
        .unwrap()
        .runs(H10, minutes(65))
    {
        crawler.run(&location, at, &listing, &landed).await.unwrap();
    }
    let first = &crawler.runs[0];
    assert!(
        first.created_table && first.partitions_added == 1,
        "{first:?}"
    );
    let later: Vec<&CrawlRun> = crawler
        .runs
        .iter()
        .filter(|r| r.partitions_added > 0)
        .collect();
    assert_eq!(later.len(), 2, "{:?}", crawler.runs);
    assert_eq!(later[1].at_ms, minutes(65));
    assert_eq!(
        later[1].changes,
        ["column win_level: the table holds string, the new rows hold int"]
    );
    assert!(!later[1].applied);
    let entry = crawler.entry(&location, &listing).unwrap().unwrap();
    let types: BTreeMap<_, _> = entry.columns.iter().cloned().collect();
    assert_eq!(types["win_level"].hive_name(), "string");
    assert_eq!(entry.partitions.len(), 2);

    let lake = Lake::new("ccp_logs");
    lake.register(entry).unwrap();
    let error = lake
        .query("SELECT count(*) FROM logs WHERE win_level IN (1, 2)")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("TYPE_MISMATCH: line 1:47: IN value and list items"),
        "{error}"
    );
}

#[tokio::test]
async fn everything_with_update_in_database_retypes_the_column() {
    let location = bucket(&[
        ("logs/2026/12/05/10/a.json", LINUX),
        ("logs/2026/12/05/10/b.json", WINDOWS),
    ])
    .await;
    let listing = crate::crawl::list(&location, &[]).await.unwrap();
    let landed: HashMap<String, i64> = [
        ("logs/2026/12/05/10/a.json".to_owned(), minutes(1)),
        ("logs/2026/12/05/10/b.json".to_owned(), minutes(7)),
    ]
    .into();
    let mut crawler = Crawler::new(
        options(),
        Recrawl::Everything,
        SchemaUpdate::UpdateInDatabase,
    );
    crawler
        .run(&location, minutes(5), &listing, &landed)
        .await
        .unwrap();
    crawler
        .run(&location, minutes(10), &listing, &landed)
        .await
        .unwrap();
    assert!(crawler.runs[1].applied, "{:?}", crawler.runs);
    let table = crawler.table().unwrap();
    let types: BTreeMap<_, _> = table.columns.iter().cloned().collect();
    assert_eq!(types["win_level"].hive_name(), "int");
}

/// Athena lists a catalogued partition's folder when it queries (objects landing there later
/// are read); a folder the crawler has not run over yet is no partition, and before the first
/// run there is no table at all.
#[tokio::test]
async fn what_athena_reads_depends_on_when_the_crawler_ran() {
    let location = bucket(&[
        ("logs/2026/12/05/10/a.json", LINUX),
        ("logs/2026/12/05/10/late.json", LINUX),
        ("logs/2026/12/05/11/new.json", LINUX),
    ])
    .await;
    let listing = crate::crawl::list(&location, &[]).await.unwrap();
    let landed: HashMap<String, i64> = [
        ("logs/2026/12/05/10/a.json".to_owned(), minutes(3)),
        ("logs/2026/12/05/10/late.json".to_owned(), minutes(30)),
        ("logs/2026/12/05/11/new.json".to_owned(), minutes(61)),
    ]
    .into();
    let mut crawler = Crawler::new(options(), Recrawl::NewFoldersOnly, SchemaUpdate::Log);
    crawler
        .run(&location, minutes(0), &listing, &landed)
        .await
        .unwrap();
    assert!(crawler.entry(&location, &listing).unwrap().is_none());
    let lake = Lake::new("ccp_logs");
    lake.register_missing("ccp_logs", "logs");
    let error = lake
        .query("SELECT count(*) FROM logs")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(
            "TABLE_NOT_FOUND: line 1:22: Table 'awsdatacatalog.ccp_logs.logs' does not exist"
        ),
        "{error}"
    );

    crawler
        .run(&location, minutes(5), &listing, &landed)
        .await
        .unwrap();
    let entry = crawler.entry(&location, &listing).unwrap().unwrap();
    let keys: Vec<&str> = entry.objects().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        ["logs/2026/12/05/10/a.json", "logs/2026/12/05/10/late.json"]
    );
    assert_eq!(entry.unreachable, ["logs/2026/12/05/11/new.json"]);
}

/// Athena's OpenX JSON SerDe (the crawler's JSON tables) reads a number in a `string` column
/// as its text; text where the catalog says number still fails the query, naming the object.
#[tokio::test]
async fn numbers_in_a_string_column_read_as_their_text() {
    let location = bucket(&[
        ("logs/2026/12/05/10/a.json", LINUX),
        ("logs/2026/12/05/10/b.json", WINDOWS),
        (
            "logs/2026/12/05/11/c.json",
            "{\"instance_id\":\"i-3\",\"pid\":\"x\",\"win_level\":null}\n",
        ),
    ])
    .await;
    let listing = crate::crawl::list(&location, &[]).await.unwrap();
    let landed: HashMap<String, i64> = [
        ("logs/2026/12/05/10/b.json".to_owned(), minutes(7)),
        ("logs/2026/12/05/11/c.json".to_owned(), minutes(61)),
    ]
    .into();
    let mut crawler = Crawler::new(options(), Recrawl::NewFoldersOnly, SchemaUpdate::Log);
    for at in [minutes(5), minutes(65)] {
        crawler.run(&location, at, &listing, &landed).await.unwrap();
    }
    let lake = Lake::new("ccp_logs");
    lake.register(crawler.entry(&location, &listing).unwrap().unwrap())
        .unwrap();
    let result = lake
        .query("SELECT win_level FROM logs WHERE partition_3 = '10' AND win_level IS NOT NULL")
        .await
        .unwrap();
    assert_eq!(
        crate::output::rows(&result).unwrap(),
        [vec!["2".to_owned()]]
    );
    let error = lake
        .query("SELECT pid FROM logs WHERE partition_3 = '11'")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("logs/2026/12/05/11/c.json"), "{error}");
}
