//! The query stage of a run: the bucket catalogued as Athena would see it, the ledger loaded as
//! a table beside it, and each `[[expect.queries]]` run twice (over the delivered table, and
//! its `expected` SQL over the ledger), the rows compared. The ledger is the harness's own
//! account of what was written and shipped, so expected rows never come from the pipeline.
//!
//! The `ledger` table has one row per event PutLogEvents accepted, and one per record that
//! was never shipped:
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `instance` | string | the scenario's name for the instance (`web-1`) |
//! | `instance_id` | string | its EC2 id |
//! | `source` | string | file path or Windows channel |
//! | `log_stream` | string | the stream the event was put in (null when not shipped) |
//! | `event_timestamp_ms` | bigint | event time |
//! | `message` | string | the event's text (a record's lines joined by `\n` when not shipped) |
//! | `lines` | bigint | physical lines |
//! | `win_event_id` | int | Windows EventID as generated |
//! | `win_level` | int | Windows level as generated |
//! | `fate` | string | `delivered` (passes the filter: must land), `filtered`, `not_collected`, `rejected`, `written`, `lost_to_restart` (sent before an emulator restart, gone with its state) |
//! | `reason` | string | why not collected or rejected |

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int32Builder, Int64Builder, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use lake::Lake;
use lake::compare;
use lake::output;
use pipeline::filter_pattern::FilterPattern;
use serde::Serialize;
use stack::StackDefinition;

use super::crawls::{CatalogClock, CrawlerSummary};
use crate::ledger::{FateView, Ledger};
use crate::scenario::ExpectedQuery;

/// The ledger's table name.
pub const LEDGER_TABLE: &str = "ledger";

/// The outcome of one expected query.
#[derive(Debug, Clone, Serialize)]
pub struct QueryCheck {
    /// The expectation's name.
    pub name: String,
    /// The SQL run over the delivered table.
    pub sql: String,
    /// The SQL run over the ledger.
    pub expected_sql: String,
    /// Rows the ledger gives.
    pub expected_rows: usize,
    /// Rows the delivered table gives.
    pub actual_rows: usize,
    /// Bytes the query over the delivered table read from the bucket (Athena's data
    /// scanned, before its per-query minimum).
    pub bytes_scanned: u64,
    /// Whether they are the same rows (in order when the query orders them).
    pub passed: bool,
    /// The mismatch or the error: query, expected rows, actual rows, difference.
    pub detail: Option<String>,
}

/// What the catalog made of the bucket.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CatalogSummary {
    /// `database.table`.
    pub table: String,
    /// `s3://bucket/prefix/`.
    pub location: String,
    /// Data columns with their Hive types.
    pub columns: Vec<(String, String)>,
    /// Partition columns.
    pub partition_columns: Vec<String>,
    /// Partitions found.
    pub partitions: usize,
    /// Objects in the table.
    pub objects: usize,
    /// Objects under the root no partition reaches.
    pub unreachable: usize,
    /// Sampled rows that are not JSON objects.
    pub bad_rows: usize,
    /// Rows `SELECT count(*)` reads.
    pub rows: usize,
}

/// The query stage's results.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueryStage {
    /// The catalog, when crawling worked.
    pub catalog: Option<CatalogSummary>,
    /// The crawler's runs over the run (crawler mode).
    pub crawler: Option<CrawlerSummary>,
    /// Why the table could not be catalogued or counted.
    pub error: Option<String>,
    /// One per `[[expect.queries]]`.
    pub checks: Vec<QueryCheck>,
}

/// Catalogues the bucket at `location` (projection: the declared table; crawler: the
/// crawler's runs on the simulated clock, [`crawls`](super::crawls)), registers the ledger
/// beside it, counts the table's rows and runs the scenario's expected queries.
pub async fn stage(
    location: &lake::Location,
    definition: &StackDefinition,
    ledger: &Ledger,
    pattern: &FilterPattern,
    queries: &[ExpectedQuery],
    clock: CatalogClock<'_>,
) -> QueryStage {
    let options = crate::catalog::crawl_options(definition, &location.root);
    let mut stage = QueryStage::default();
    let lake = Lake::new(&options.database);
    let entry = match catalogue(location, &options, definition, clock, &mut stage).await {
        Ok(entry) => entry,
        Err(e) => {
            stage.error = Some(e.to_string());
            return stage;
        }
    };
    let registered = match &entry {
        Some(entry) => lake.register(entry.clone()),
        None => {
            lake.register_missing(&options.database, &options.table);
            Ok(())
        }
    };
    let batch = ledger_batch(ledger, pattern);
    if let Err(e) =
        registered.and_then(|()| lake.register_batches(LEDGER_TABLE, batch.schema(), vec![batch]))
    {
        stage.error = Some(e.to_string());
        return stage;
    }
    let count_sql = format!(
        "SELECT count(*) FROM {}.{}",
        options.database, options.table
    );
    let rows = match lake.query(&count_sql).await.map(|r| output::rows(&r)) {
        Ok(Ok(rows)) => rows
            .first()
            .and_then(|row| row.first())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
        Ok(Err(e)) => {
            stage.error = Some(e.to_string());
            0
        }
        Err(e) => {
            stage.error = Some(e.to_string());
            0
        }
    };
    stage.catalog = entry.map(|entry| CatalogSummary {
        table: entry.qualified_name(),
        location: entry.location.display(),
        columns: entry
            .columns
            .iter()
            .map(|(name, column)| (name.clone(), column.hive_name().to_owned()))
            .collect(),
        partition_columns: entry.partition_columns.clone(),
        partitions: entry.partitions.len(),
        objects: entry.objects().count(),
        unreachable: entry.unreachable.len(),
        bad_rows: entry.bad_row_count,
        rows,
    });
    stage.checks = check(&lake, queries, definition).await;
    stage
}

/// The table as the catalog holds it when the queries run; `None` when no crawler run has
/// created it yet.
async fn catalogue(
    location: &lake::Location,
    options: &lake::CrawlOptions,
    definition: &StackDefinition,
    clock: CatalogClock<'_>,
    stage: &mut QueryStage,
) -> Result<Option<lake::TableEntry>, crate::catalog::AthenaError> {
    if definition.catalog.mode != stack::CatalogMode::Crawler {
        return Ok(Some(lake::crawl(location, options).await?));
    }
    let (entry, crawler) =
        super::crawls::over_the_run(location, options, definition, clock).await?;
    stage.crawler = Some(crawler);
    Ok(entry)
}

/// The ledger as one batch of the `ledger` table.
pub fn ledger_batch(ledger: &Ledger, pattern: &FilterPattern) -> RecordBatch {
    let mut columns = LedgerColumns::with_capacity(ledger.len(), ledger.text_bytes());
    for record in ledger.records() {
        let (ts, text, n) = (record.timestamp_ms(), record.text(), record.line_count());
        match record.fate() {
            FateView::Written => columns.push(&record, None, ts, text, n, "written", None),
            FateView::NotCollected(why) => {
                columns.push(&record, None, ts, text, n, "not_collected", Some(why));
            }
            FateView::Rejected(why) => {
                columns.push(&record, None, ts, text, n, "rejected", Some(why));
            }
            FateView::Sent(events) => {
                for event in events {
                    let lost = event
                        .lost_at_restart
                        .map(crate::ledger::restart_loss_reason);
                    let verdict = match &lost {
                        Some(_) => "lost_to_restart",
                        None if pattern.matches(event.message) => "delivered",
                        None => "filtered",
                    };
                    columns.push(
                        &record,
                        Some(event.log_stream),
                        event.timestamp_ms,
                        event.message,
                        crate::ledger::line_count(event.message),
                        verdict,
                        lost.as_deref(),
                    );
                }
            }
        }
    }
    columns.finish()
}

/// The ledger table's columns as they are filled, one row at a time, straight into Arrow's
/// buffers (no owned copy of each message on the way).
struct LedgerColumns {
    instance: StringBuilder,
    instance_id: StringBuilder,
    source: StringBuilder,
    log_stream: StringBuilder,
    timestamp: Int64Builder,
    message: StringBuilder,
    lines: Int64Builder,
    event_id: Int32Builder,
    level: Int32Builder,
    fate: StringBuilder,
    reason: StringBuilder,
}

impl LedgerColumns {
    fn with_capacity(rows: usize, text_bytes: usize) -> Self {
        let names = || StringBuilder::with_capacity(rows, rows * 16);
        Self {
            instance: names(),
            instance_id: names(),
            source: names(),
            log_stream: StringBuilder::with_capacity(rows, rows * 32),
            timestamp: Int64Builder::with_capacity(rows),
            message: StringBuilder::with_capacity(rows, text_bytes),
            lines: Int64Builder::with_capacity(rows),
            event_id: Int32Builder::with_capacity(rows),
            level: Int32Builder::with_capacity(rows),
            fate: names(),
            reason: StringBuilder::new(),
        }
    }

    #[allow(clippy::too_many_arguments, reason = "one ledger row's columns")]
    fn push(
        &mut self,
        record: &crate::ledger::RecordView<'_>,
        stream: Option<&str>,
        timestamp_ms: i64,
        text: &str,
        lines: usize,
        fate: &str,
        reason: Option<&str>,
    ) {
        self.instance.append_value(record.instance());
        self.instance_id.append_value(record.instance_id());
        self.source.append_value(record.source());
        self.log_stream.append_option(stream);
        self.timestamp.append_value(timestamp_ms);
        self.message.append_value(text);
        self.lines
            .append_value(i64::try_from(lines).unwrap_or(i64::MAX));
        self.event_id
            .append_option(record.event_id().and_then(|id| i32::try_from(id).ok()));
        self.level.append_option(record.level().map(i32::from));
        self.fate.append_value(fate);
        self.reason.append_option(reason);
    }

    fn finish(mut self) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("instance", DataType::Utf8, false),
            Field::new("instance_id", DataType::Utf8, false),
            Field::new("source", DataType::Utf8, false),
            Field::new("log_stream", DataType::Utf8, true),
            Field::new("event_timestamp_ms", DataType::Int64, false),
            Field::new("message", DataType::Utf8, false),
            Field::new("lines", DataType::Int64, false),
            Field::new("win_event_id", DataType::Int32, true),
            Field::new("win_level", DataType::Int32, true),
            Field::new("fate", DataType::Utf8, false),
            Field::new("reason", DataType::Utf8, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.instance.finish()),
            Arc::new(self.instance_id.finish()),
            Arc::new(self.source.finish()),
            Arc::new(self.log_stream.finish()),
            Arc::new(self.timestamp.finish()),
            Arc::new(self.message.finish()),
            Arc::new(self.lines.finish()),
            Arc::new(self.event_id.finish()),
            Arc::new(self.level.finish()),
            Arc::new(self.fate.finish()),
            Arc::new(self.reason.finish()),
        ];
        // The columns are built to the schema above, so this cannot fail; an empty batch
        // (and then failing expectations) if it ever did.
        RecordBatch::try_new(Arc::clone(&schema), columns)
            .unwrap_or_else(|_| RecordBatch::new_empty(schema))
    }
}

/// Runs every expected query: the delivered side in `lake`, the expected side over the
/// `ledger` table registered in the same session.
pub async fn check(
    lake: &Lake,
    queries: &[ExpectedQuery],
    definition: &StackDefinition,
) -> Vec<QueryCheck> {
    let mut checks = Vec::new();
    for query in queries {
        let sql = query.delivered_sql(definition).unwrap_or_default();
        let mut result = QueryCheck {
            name: query.name.clone(),
            sql: sql.clone(),
            expected_sql: query.expected.clone(),
            expected_rows: 0,
            actual_rows: 0,
            bytes_scanned: 0,
            passed: false,
            detail: None,
        };
        let expected = lake.query(&query.expected).await;
        let actual = lake.query(&sql).await;
        match (expected, actual) {
            (Err(e), _) => {
                result.detail = Some(format!("the expected query (over the ledger) failed: {e}"))
            }
            (_, Err(e)) => result.detail = Some(format!("the query failed: {e}")),
            (Ok(expected), Ok(actual)) => match (output::rows(&expected), output::rows(&actual)) {
                (Ok(want), Ok(have)) => {
                    result.bytes_scanned = actual.bytes_scanned;
                    result.expected_rows = want.len();
                    result.actual_rows = have.len();
                    let comparison = compare::compare(&want, &have, actual.order_keys.as_deref());
                    result.passed = comparison.matches();
                    if !result.passed {
                        let columns: Vec<String> = actual
                            .schema
                            .fields()
                            .iter()
                            .map(|f| f.name().clone())
                            .collect();
                        result.detail =
                            Some(compare::describe(&sql, &columns, &want, &have, &comparison));
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    result.detail = Some(format!("rows could not be rendered: {e}"));
                }
            },
        }
        checks.push(result);
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Fate, LedgerRecord, ShippedEvent};

    fn record(message: &str, fate: Fate) -> LedgerRecord {
        LedgerRecord {
            instance: "web-1".into(),
            instance_id: "i-1".into(),
            source: "/var/log/secure".into(),
            timestamp_ms: 5,
            lines: message.split('\n').map(str::to_owned).collect(),
            level: None,
            event_id: None,
            fate,
        }
    }

    fn sent(message: &str) -> Fate {
        Fate::Sent(vec![ShippedEvent::new("s", 5, message.into(), 0)])
    }

    #[tokio::test]
    async fn ledger_rows_carry_fates_and_queries_compare_against_them() {
        let mut ledger = Ledger::default();
        ledger.add([
            record("Failed password\n  more", sent("Failed password\n  more")),
            record("Accepted", sent("Accepted")),
            record("x", Fate::NotCollected("level".into())),
        ]);
        let pattern = FilterPattern::parse("Failed").unwrap();
        let batch = ledger_batch(&ledger, &pattern);
        let lake = Lake::new("ccp_logs");
        lake.register_batches(LEDGER_TABLE, batch.schema(), vec![batch])
            .unwrap();
        let definition = StackDefinition::default();
        let query = |sql: &str, expected: &str| ExpectedQuery {
            name: "q".into(),
            sql: Some(sql.into()),
            saved: None,
            expected: expected.into(),
        };
        let checks = check(
            &lake,
            &[
                query(
                    "SELECT fate, sum(lines) FROM ledger GROUP BY fate",
                    "SELECT * FROM (VALUES ('delivered', 2), ('filtered', 1), ('not_collected', 1)) v",
                ),
                query(
                    "SELECT fate FROM ledger ORDER BY fate",
                    "SELECT * FROM (VALUES ('not_collected'), ('filtered'), ('delivered')) v",
                ),
                query("SELECT nope FROM ledger", "SELECT 1"),
            ],
            &definition,
        )
        .await;
        assert!(checks[0].passed, "{:?}", checks[0].detail);
        assert!(!checks[1].passed, "an ordered query compares the order");
        let detail = checks[1].detail.as_deref().unwrap_or_default();
        assert!(detail.contains("different order"), "{detail}");
        assert!(!checks[2].passed);
        let detail = checks[2].detail.as_deref().unwrap_or_default();
        assert!(
            detail.contains("the query failed") && detail.contains("nope"),
            "{detail}"
        );
    }
}
