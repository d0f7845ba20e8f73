//! Athena through its API, as our users' tools reach it: a stack's saved queries listed from
//! its workgroup, and a query run to the end (StartQueryExecution, GetQueryExecution until it
//! is done, GetQueryResults page by page) into rows of strings. The same code reaches the
//! harness's stand-in (`standins::athena`) and Athena in an account.

use std::time::Duration;

use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState};

/// How often a running query is looked at.
const POLL: Duration = Duration::from_millis(50);

/// Why a query through the API failed.
#[derive(Debug, thiserror::Error)]
pub enum AthenaClientError {
    /// A call was refused or could not be made.
    #[error("Athena {operation}: {message}")]
    Call {
        /// The API operation.
        operation: &'static str,
        /// The service's message.
        message: String,
    },
    /// The query ended in another state than `SUCCEEDED`.
    #[error("query {id} ended {state}: {reason}")]
    Ended {
        /// Its execution id.
        id: String,
        /// `FAILED` or `CANCELLED`.
        state: String,
        /// Athena's `StateChangeReason`.
        reason: String,
    },
    /// The query was still running at the deadline.
    #[error("query {id} did not finish within {seconds} s")]
    Timeout {
        /// Its execution id.
        id: String,
        /// The deadline.
        seconds: u64,
    },
}

fn call<E: std::error::Error + 'static>(
    operation: &'static str,
) -> impl FnOnce(E) -> AthenaClientError {
    move |e| AthenaClientError::Call {
        operation,
        message: aws_sdk_athena::error::DisplayErrorContext(&e).to_string(),
    }
}

/// A saved query as the API gives it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedQuery {
    /// Its name.
    pub name: String,
    /// Its database.
    pub database: String,
    /// Its SQL.
    pub sql: String,
}

/// A finished query's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRows {
    /// The execution id.
    pub id: String,
    /// Column names and Athena's type names.
    pub columns: Vec<(String, String)>,
    /// The rows (the header row left out), a null as `None`.
    pub rows: Vec<Vec<Option<String>>>,
    /// `DataScannedInBytes`.
    pub bytes_scanned: i64,
    /// Where Athena wrote the result file (`s3://bucket/prefix/<id>.csv`).
    pub output_location: Option<String>,
}

/// Every saved query of `workgroup` (ListNamedQueries, then BatchGetNamedQuery), by name.
pub async fn saved_queries(
    client: &aws_sdk_athena::Client,
    workgroup: &str,
) -> Result<Vec<SavedQuery>, AthenaClientError> {
    let mut queries: Vec<SavedQuery> = stack::resources::named_queries(client, workgroup)
        .await
        .map_err(|e| AthenaClientError::Call {
            operation: e.operation,
            message: e.message,
        })?
        .iter()
        .map(|q| SavedQuery {
            name: q.name().to_owned(),
            database: q.database().to_owned(),
            sql: q.query_string().to_owned(),
        })
        .collect();
    queries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(queries)
}

/// Runs `sql` in `database` and `workgroup` to the end, within `deadline`.
pub async fn run_query(
    client: &aws_sdk_athena::Client,
    sql: &str,
    database: &str,
    workgroup: &str,
    deadline: Duration,
) -> Result<QueryRows, AthenaClientError> {
    let id = client
        .start_query_execution()
        .query_string(sql)
        .work_group(workgroup)
        .query_execution_context(QueryExecutionContext::builder().database(database).build())
        .send()
        .await
        .map_err(call("StartQueryExecution"))?
        .query_execution_id
        .unwrap_or_default();
    let (bytes_scanned, output_location) = wait(client, &id, deadline).await?;
    let mut pages = client
        .get_query_results()
        .query_execution_id(&id)
        .into_paginator()
        .send();
    let (mut columns, mut rows) = (Vec::new(), Vec::new());
    while let Some(page) = pages.next().await {
        let page = page.map_err(call("GetQueryResults"))?;
        let Some(set) = page.result_set() else {
            continue;
        };
        if columns.is_empty()
            && let Some(metadata) = set.result_set_metadata()
        {
            columns = metadata
                .column_info()
                .iter()
                .map(|c| (c.name().to_owned(), c.r#type().to_owned()))
                .collect();
        }
        rows.extend(set.rows().iter().map(|row| {
            row.data()
                .iter()
                .map(|d| d.var_char_value().map(str::to_owned))
                .collect::<Vec<_>>()
        }));
    }
    // The first row of a SELECT's results is the header (the API Reference's GetQueryResults).
    if !rows.is_empty() {
        rows.remove(0);
    }
    Ok(QueryRows {
        id,
        columns,
        rows,
        bytes_scanned,
        output_location,
    })
}

/// Polls GetQueryExecution until query `id` is done: its bytes scanned and result location,
/// or why it did not succeed.
async fn wait(
    client: &aws_sdk_athena::Client,
    id: &str,
    deadline: Duration,
) -> Result<(i64, Option<String>), AthenaClientError> {
    let start = tokio::time::Instant::now();
    loop {
        let execution = client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(call("GetQueryExecution"))?
            .query_execution;
        let status = execution.as_ref().and_then(|e| e.status());
        match status.and_then(|s| s.state()) {
            Some(QueryExecutionState::Succeeded) => {
                let execution = execution.as_ref();
                let scanned = execution
                    .and_then(|e| e.statistics())
                    .and_then(|s| s.data_scanned_in_bytes())
                    .unwrap_or_default();
                let location = execution
                    .and_then(|e| e.result_configuration())
                    .and_then(|r| r.output_location())
                    .map(str::to_owned);
                return Ok((scanned, location));
            }
            Some(state @ (QueryExecutionState::Failed | QueryExecutionState::Cancelled)) => {
                return Err(AthenaClientError::Ended {
                    id: id.to_owned(),
                    state: state.as_str().to_owned(),
                    reason: status
                        .and_then(|s| s.state_change_reason())
                        .unwrap_or_default()
                        .to_owned(),
                });
            }
            _ if start.elapsed() > deadline => {
                return Err(AthenaClientError::Timeout {
                    id: id.to_owned(),
                    seconds: deadline.as_secs(),
                });
            }
            _ => tokio::time::sleep(POLL).await,
        }
    }
}
