//! Query executions as Athena keeps them (the API Reference's `QueryExecution`): started by
//! StartQueryExecution in a workgroup with a database context, `QUEUED` then `RUNNING` while
//! `lake` runs the SQL over the catalog's tables, then `SUCCEEDED` (the result set kept, the
//! result file written to the output location), `FAILED` (the reason in Athena's words) or
//! `CANCELLED` (StopQueryExecution), with the bytes scanned and the times.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::task::AbortHandle;

use super::AthenaError;
use super::engine::{self, Buckets};
use super::named_queries::NamedQueries;
use super::results::ResultTable;
use super::workgroups::{PRIMARY, WorkGroups};
use crate::glue::SharedCatalog;

/// Longest query string StartQueryExecution takes (the API Reference: `QueryString`, 1 to
/// 262,144 characters).
pub const MAX_QUERY_LENGTH: usize = 262_144;
/// At most this many ids in one BatchGetQueryExecution (the API Reference: 1 to 50).
pub const MAX_BATCH: usize = 50;
/// The catalog queries run in (Athena's default data catalog).
const CATALOG: &str = "awsdatacatalog";
/// `AthenaError.ErrorCategory` for an error in the query (the API Reference: 1 system, 2 user,
/// 3 other).
const USER_ERROR: u8 = 2;

/// Why a query did not succeed; its text is the `StateChangeReason`, in Athena's form.
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    /// The database's tables could not be opened.
    #[error("GENERIC_INTERNAL_ERROR: {0} (the harness's Athena stand-in)")]
    Tables(#[source] engine::EngineError),
    /// The SQL was refused or failed ([`failure_reason`]).
    #[error("{reason}")]
    Query {
        /// Athena's words for it.
        reason: String,
        /// `lake`'s error.
        source: lake::QueryError,
    },
    /// The rows could not be formatted.
    #[error("GENERIC_INTERNAL_ERROR: {0}")]
    Results(#[from] datafusion::arrow::error::ArrowError),
    /// The result file could not be written.
    #[error("GENERIC_INTERNAL_ERROR: {0}")]
    Write(#[source] engine::EngineError),
}

/// A query's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Accepted, not started.
    Queued,
    /// Running.
    Running,
    /// Done; results kept.
    Succeeded,
    /// Refused or failed; the reason kept.
    Failed,
    /// Stopped by StopQueryExecution.
    Cancelled,
}

impl State {
    /// Athena's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Cancelled => "CANCELLED",
        }
    }

    fn is_done(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// One query execution.
#[derive(Debug)]
struct Execution {
    query: String,
    database: String,
    workgroup: String,
    output: String,
    state: State,
    reason: Option<String>,
    submitted_ms: i64,
    started_ms: Option<i64>,
    completed_ms: Option<i64>,
    bytes_scanned: u64,
    result: Option<Arc<ResultTable>>,
    task: Option<AbortHandle>,
}

/// What the stand-in holds.
#[derive(Debug)]
struct Held {
    workgroups: WorkGroups,
    named: NamedQueries,
    executions: BTreeMap<String, Execution>,
    /// Execution ids, oldest first.
    order: Vec<String>,
}

/// Athena's query engine, workgroups and saved queries for one account in one region.
#[derive(Debug)]
pub struct Athena {
    glue: SharedCatalog,
    buckets: Arc<dyn Buckets>,
    held: Mutex<Held>,
}

fn now_ms() -> i64 {
    crate::clock::wall_now_ms()
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn no_execution(id: &str) -> AthenaError {
    // Athena's words, as users report them; the API Reference gives only the code.
    AthenaError::InvalidRequest(format!("QueryExecution {id} was not found"))
}

impl Athena {
    /// An Athena reading the tables of `glue` from `buckets`, with the `primary` workgroup.
    pub fn new(glue: SharedCatalog, buckets: Arc<dyn Buckets>) -> Arc<Self> {
        Arc::new(Self {
            glue,
            buckets,
            held: Mutex::new(Held {
                workgroups: WorkGroups::new(seconds(now_ms())),
                named: NamedQueries::default(),
                executions: BTreeMap::new(),
                order: Vec::new(),
            }),
        })
    }

    /// Runs `body` over the workgroups and saved queries.
    pub fn with<T>(&self, body: impl FnOnce(&mut WorkGroups, &mut NamedQueries) -> T) -> T {
        let mut held = crate::locked(&self.held);
        let Held {
            workgroups, named, ..
        } = &mut *held;
        body(workgroups, named)
    }

    /// StartQueryExecution: the new execution's id. The query runs in the background.
    pub fn start(self: &Arc<Self>, input: &Value) -> Result<String, AthenaError> {
        let query = input["QueryString"].as_str().unwrap_or_default();
        if query.trim().is_empty() || query.len() > MAX_QUERY_LENGTH {
            return Err(AthenaError::InvalidRequest(format!(
                "QueryString must be 1 to {MAX_QUERY_LENGTH} characters"
            )));
        }
        let workgroup = input["WorkGroup"].as_str().unwrap_or(PRIMARY).to_owned();
        let database = input["QueryExecutionContext"]["Database"]
            .as_str()
            .unwrap_or("default")
            .to_lowercase();
        let requested = input["ResultConfiguration"]["OutputLocation"].as_str();
        let id = super::new_id();
        let mut held = crate::locked(&self.held);
        let location = held.workgroups.output_location(&workgroup, requested)?;
        let output = format!("{}/{id}.csv", location.trim_end_matches('/'));
        held.executions.insert(
            id.clone(),
            Execution {
                query: query.to_owned(),
                database,
                workgroup,
                output,
                state: State::Queued,
                reason: None,
                submitted_ms: now_ms(),
                started_ms: None,
                completed_ms: None,
                bytes_scanned: 0,
                result: None,
                task: None,
            },
        );
        held.order.push(id.clone());
        let athena = Arc::clone(self);
        let task_id = id.clone();
        let task = tokio::spawn(async move { athena.run(&task_id).await });
        if let Some(execution) = held.executions.get_mut(&id) {
            execution.task = Some(task.abort_handle());
        }
        Ok(id)
    }

    /// Every workgroup's result location (left out of the tables they fall under).
    fn result_locations(&self) -> Vec<String> {
        let held = crate::locked(&self.held);
        held.workgroups
            .list()
            .iter()
            .filter_map(|w| w["Name"].as_str())
            .filter_map(|name| held.workgroups.output_location(name, None).ok())
            .collect()
    }

    async fn run(&self, id: &str) {
        let (query, database, output) = {
            let mut held = crate::locked(&self.held);
            let Some(execution) = held.executions.get_mut(id) else {
                return;
            };
            execution.state = State::Running;
            execution.started_ms = Some(now_ms());
            (
                execution.query.clone(),
                execution.database.clone(),
                execution.output.clone(),
            )
        };
        let outcome = self.execute(&query, &database, &output).await;
        let mut held = crate::locked(&self.held);
        let Some(execution) = held.executions.get_mut(id) else {
            return;
        };
        if execution.state.is_done() {
            return;
        }
        execution.completed_ms = Some(now_ms());
        match outcome {
            Ok((table, bytes_scanned)) => {
                execution.state = State::Succeeded;
                execution.bytes_scanned = bytes_scanned;
                execution.result = Some(Arc::new(table));
            }
            Err(error) => {
                execution.state = State::Failed;
                execution.reason = Some(error.to_string());
            }
        }
    }

    /// Runs `query` and writes its result file: the rows and the bytes scanned.
    async fn execute(
        &self,
        query: &str,
        database: &str,
        output: &str,
    ) -> Result<(ResultTable, u64), ExecutionError> {
        let exclude = self.result_locations();
        let lake = engine::open(&self.glue, self.buckets.as_ref(), database, &exclude)
            .await
            .map_err(ExecutionError::Tables)?;
        let result = lake
            .query(query)
            .await
            .map_err(|source| ExecutionError::Query {
                reason: failure_reason(query, &source),
                source,
            })?;
        let table = ResultTable::new(&result.schema, &result.batches)?;
        let buckets = self.buckets.as_ref();
        engine::put(buckets, output, table.csv().into_bytes())
            .await
            .map_err(ExecutionError::Write)?;
        engine::put(
            buckets,
            &format!("{output}.metadata"),
            table.metadata().into_bytes(),
        )
        .await
        .map_err(ExecutionError::Write)?;
        Ok((table, result.bytes_scanned))
    }

    /// StopQueryExecution: a query not yet done is cancelled; a done one is left as it is.
    pub fn stop(&self, id: &str) -> Result<(), AthenaError> {
        let mut held = crate::locked(&self.held);
        let execution = held
            .executions
            .get_mut(id)
            .ok_or_else(|| no_execution(id))?;
        if !execution.state.is_done() {
            if let Some(task) = execution.task.take() {
                task.abort();
            }
            execution.state = State::Cancelled;
            execution.completed_ms = Some(now_ms());
        }
        Ok(())
    }

    /// The execution's state, for callers in-process.
    pub fn state(&self, id: &str) -> Result<State, AthenaError> {
        crate::locked(&self.held)
            .executions
            .get(id)
            .map(|e| e.state)
            .ok_or_else(|| no_execution(id))
    }

    /// GetQueryExecution's `QueryExecution`.
    pub fn get(&self, id: &str) -> Result<Value, AthenaError> {
        let held = crate::locked(&self.held);
        let execution = held.executions.get(id).ok_or_else(|| no_execution(id))?;
        Ok(describe(id, execution))
    }

    /// BatchGetQueryExecution: the executions found and the ids not found.
    pub fn batch_get(&self, ids: &[&str]) -> Result<(Vec<Value>, Vec<Value>), AthenaError> {
        if ids.is_empty() || ids.len() > MAX_BATCH {
            return Err(AthenaError::InvalidRequest(format!(
                "QueryExecutionIds takes 1 to {MAX_BATCH} ids, not {}",
                ids.len()
            )));
        }
        let held = crate::locked(&self.held);
        let (mut found, mut unprocessed) = (Vec::new(), Vec::new());
        for id in ids {
            match held.executions.get(*id) {
                Some(execution) => found.push(describe(id, execution)),
                None => unprocessed.push(json!({
                    "QueryExecutionId": id,
                    "ErrorCode": "INVALID_INPUT",
                    "ErrorMessage": no_execution(id).message(),
                })),
            }
        }
        Ok((found, unprocessed))
    }

    /// ListQueryExecutions: the ids in `workgroup`, newest first.
    pub fn list(&self, workgroup: &str) -> Result<Vec<String>, AthenaError> {
        let held = crate::locked(&self.held);
        held.workgroups.get(workgroup)?;
        Ok(held
            .order
            .iter()
            .rev()
            .filter(|id| {
                held.executions
                    .get(*id)
                    .is_some_and(|e| e.workgroup == workgroup)
            })
            .cloned()
            .collect())
    }

    /// The result table of a succeeded execution.
    pub fn results(&self, id: &str) -> Result<Arc<ResultTable>, AthenaError> {
        let held = crate::locked(&self.held);
        let execution = held.executions.get(id).ok_or_else(|| no_execution(id))?;
        match (&execution.result, execution.state) {
            (Some(result), State::Succeeded) => Ok(Arc::clone(result)),
            // Athena's words, as users report them (the API Reference gives only the code).
            (_, state) if state.is_done() => Err(AthenaError::InvalidRequest(format!(
                "Query did not finish successfully. Final query state: {}",
                state.name()
            ))),
            (_, state) => Err(AthenaError::InvalidRequest(format!(
                "Query has not yet finished. Current state: {}",
                state.name()
            ))),
        }
    }
}

/// GetQueryExecution's answer for `execution`.
fn describe(id: &str, execution: &Execution) -> Value {
    let mut status = json!({
        "State": execution.state.name(),
        "SubmissionDateTime": seconds(execution.submitted_ms),
    });
    if let Some(completed) = execution.completed_ms {
        status["CompletionDateTime"] = json!(seconds(completed));
    }
    if let Some(reason) = &execution.reason {
        status["StateChangeReason"] = json!(reason);
        status["AthenaError"] = json!({
            "ErrorCategory": USER_ERROR,
            "Retryable": false,
            "ErrorMessage": reason,
        });
    }
    let queued = execution.started_ms.unwrap_or(execution.submitted_ms) - execution.submitted_ms;
    let mut statistics = json!({
        "DataScannedInBytes": execution.bytes_scanned,
        "QueryQueueTimeInMillis": queued,
    });
    if let (Some(started), Some(completed)) = (execution.started_ms, execution.completed_ms) {
        statistics["EngineExecutionTimeInMillis"] = json!(completed - started);
        statistics["TotalExecutionTimeInMillis"] = json!(completed - execution.submitted_ms);
    }
    json!({
        "QueryExecutionId": id,
        "Query": execution.query,
        "StatementType": "DML",
        "ResultConfiguration": { "OutputLocation": execution.output },
        "QueryExecutionContext": { "Database": execution.database, "Catalog": CATALOG },
        "Status": status,
        "Statistics": statistics,
        "WorkGroup": execution.workgroup,
        "EngineVersion": {
            "SelectedEngineVersion": "AUTO",
            "EffectiveEngineVersion": "Athena engine version 3",
        },
    })
}

/// A failed query's `StateChangeReason` in Athena's form, `<ERROR_NAME>: line L:C: <what>`:
/// the analyzer's refusals keep their names (`TABLE_NOT_FOUND`, `TYPE_MISMATCH`); a table the
/// session does not have is `TABLE_NOT_FOUND` in Athena's words ("Table '<catalog>.<db>.<t>'
/// does not exist") at its first mention in `sql`; what else DataFusion cannot parse or plan is
/// a `SYNTAX_ERROR` at the parser's place (line 1:1 when it gives none). Athena's other error
/// names are not modelled.
pub fn failure_reason(sql: &str, error: &lake::QueryError) -> String {
    match error {
        lake::QueryError::Refused { code, message, .. } => format!("{code}: {message}"),
        lake::QueryError::Sql {
            message, position, ..
        } => {
            if let Some(table) = missing_table(message) {
                let short = table.rsplit('.').next().unwrap_or(table);
                let (line, column) = mention(sql, short).unwrap_or((1, 1));
                return format!(
                    "TABLE_NOT_FOUND: line {line}:{column}: Table '{table}' does not exist"
                );
            }
            let (line, column) = position.unwrap_or((1, 1));
            format!(
                "SYNTAX_ERROR: line {line}:{column}: {}",
                parser_words(message)
            )
        }
        lake::QueryError::ReadOnly { statement, .. } => format!(
            "NOT_SUPPORTED: {statement} is not allowed: the harness's Athena stand-in only reads (our rule, not Athena's)"
        ),
        lake::QueryError::Register { table, message } => {
            format!("GENERIC_INTERNAL_ERROR: table {table}: {message}")
        }
    }
}

/// The table DataFusion's planner did not find (`table 'a.b.c' not found`), if that is the error.
fn missing_table(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("table '")?;
    let (table, rest) = rest.split_once('\'')?;
    rest.starts_with(" not found").then_some(table)
}

/// Line and column (1-based) of the first mention of `name` in `sql`, as a whole word, in any
/// case.
fn mention(sql: &str, name: &str) -> Option<(u64, u64)> {
    let name = name.to_lowercase();
    for (number, line) in sql.lines().enumerate() {
        let lower = line.to_lowercase();
        let mut from = 0;
        while let Some(found) = lower[from..].find(&name) {
            let at = from + found;
            let end = at + name.len();
            let word = |c: char| c.is_alphanumeric() || c == '_';
            let before = lower[..at].chars().next_back().is_none_or(|c| !word(c));
            let after = lower[end..].chars().next().is_none_or(|c| !word(c));
            if before && after {
                return Some((number as u64 + 1, lower[..at].chars().count() as u64 + 1));
            }
            from = end;
        }
    }
    None
}

/// DataFusion's message without its wrapping (`SQL error: ParserError("…")`) and without the
/// place, which the reason gives as `line L:C`.
fn parser_words(message: &str) -> &str {
    let inner = message
        .strip_prefix("SQL error: ParserError(\"")
        .and_then(|m| m.strip_suffix("\")"))
        .unwrap_or(message);
    inner
        .rsplit_once(" at Line: ")
        .map_or(inner, |(words, _)| words)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// StopQueryExecution on a query not yet done cancels it for good: its task is aborted,
    /// it stays CANCELLED, and its results are refused naming that state. (The current-thread
    /// runtime runs the query's task only when the test yields, so the stop comes first.)
    #[tokio::test(flavor = "current_thread")]
    async fn a_stopped_query_stays_cancelled_and_has_no_results() {
        let catalog = Arc::new(Mutex::new(crate::glue::Catalog::new("000000000000")));
        let athena = Athena::new(catalog, Arc::new(super::super::MemoryBuckets::default()));
        let id = athena
            .start(&serde_json::json!({
                "QueryString": "SELECT 1",
                "ResultConfiguration": { "OutputLocation": "s3://results/" },
            }))
            .unwrap();
        assert_eq!(athena.state(&id).unwrap(), State::Queued);
        athena.stop(&id).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(athena.state(&id).unwrap(), State::Cancelled);
        let refused = athena.results(&id).unwrap_err();
        assert_eq!(
            refused.message(),
            "Query did not finish successfully. Final query state: CANCELLED"
        );
        assert_eq!(athena.get(&id).unwrap()["Status"]["State"], "CANCELLED");
    }

    #[tokio::test]
    async fn bad_sql_fails_with_a_syntax_error_at_its_place() {
        let lake = lake::Lake::new("ccp_logs");
        let error = lake.query("SELECT 1 FROM t WHERE").await.unwrap_err();
        let reason = failure_reason("SELECT 1 FROM t WHERE", &error);
        assert!(reason.starts_with("SYNTAX_ERROR: line 1:"), "{reason}");
        assert!(!reason.contains("ParserError"), "{reason}");
        let sql = "SELECT *\nFROM ccp_logs.Nope";
        let error = lake.query(sql).await.unwrap_err();
        assert_eq!(
            failure_reason(sql, &error),
            "TABLE_NOT_FOUND: line 2:15: Table 'awsdatacatalog.ccp_logs.nope' does not exist"
        );
    }
}
