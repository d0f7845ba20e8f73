//! Athena's JSON API (AWS JSON 1.1, `X-Amz-Target: AmazonAthena.<Operation>`, and its
//! REST-JSON binding, [`rest`](super::rest)) over an [`Athena`]: query executions, workgroups and saved queries, for the stack's provisioning
//! and for users' own clients (the AWS SDKs, boto3, PyAthena, the AWS CLI). Lists come whole,
//! in one page. An operation outside these is refused with `UnknownOperationException`,
//! naming it as one the stand-in does not model.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

use super::AthenaError;
use super::executions::Athena;
use super::workgroups::PRIMARY;
use crate::json_protocol::{self, JsonRequest, StandIn, error, ok};

/// The operations served.
pub const OPERATIONS: [&str; 18] = [
    "StartQueryExecution",
    "GetQueryExecution",
    "BatchGetQueryExecution",
    "ListQueryExecutions",
    "GetQueryResults",
    "StopQueryExecution",
    "CreateWorkGroup",
    "GetWorkGroup",
    "ListWorkGroups",
    "UpdateWorkGroup",
    "DeleteWorkGroup",
    "CreateNamedQuery",
    "GetNamedQuery",
    "ListNamedQueries",
    "BatchGetNamedQuery",
    "UpdateNamedQuery",
    "DeleteNamedQuery",
    "ListDataCatalogs",
];

/// Serves `athena` on a free loopback port until the returned endpoint is dropped.
pub async fn start(athena: Arc<Athena>) -> std::io::Result<StandIn> {
    start_on(0, athena).await
}

/// [`start`] on loopback `port` (`loglab up`'s, for users' own clients).
pub async fn start_on(port: u16, athena: Arc<Athena>) -> std::io::Result<StandIn> {
    json_protocol::serve_on(port, move |request| {
        let athena = Arc::clone(&athena);
        async move { answer(&athena, &request) }
    })
    .await
}

fn answer(athena: &Arc<Athena>, request: &JsonRequest) -> Response<Full<Bytes>> {
    let (operation, input) = if request.target.is_empty() {
        let uri = &request.parts.uri;
        match super::rest::route(
            request.parts.method.as_str(),
            uri.path(),
            uri.query(),
            &request.input,
        ) {
            Some((operation, input)) => (operation.to_owned(), input),
            None => (
                format!("{} {}", request.parts.method, uri.path()),
                Value::Null,
            ),
        }
    } else {
        let operation = request.target.strip_prefix("AmazonAthena.");
        (
            operation.unwrap_or(&request.target).to_owned(),
            request.input.clone(),
        )
    };
    let operation = operation.as_str();
    match call(athena, operation, &input) {
        Ok(output) => ok(&output),
        Err(Refusal::Athena(e)) => error(StatusCode::BAD_REQUEST, e.code(), e.message()),
        Err(Refusal::Unknown) => error(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            &format!(
                "{operation} is not an operation the harness's Athena stand-in models (it serves {})",
                OPERATIONS.join(", ")
            ),
        ),
    }
}

enum Refusal {
    Athena(AthenaError),
    Unknown,
}

impl From<AthenaError> for Refusal {
    fn from(error: AthenaError) -> Self {
        Self::Athena(error)
    }
}

fn text<'a>(input: &'a Value, key: &str) -> &'a str {
    input[key].as_str().unwrap_or_default()
}

fn ids(input: &Value, key: &str) -> Vec<String> {
    input[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn workgroup(input: &Value) -> &str {
    input["WorkGroup"].as_str().unwrap_or(PRIMARY)
}

fn call(athena: &Arc<Athena>, operation: &str, input: &Value) -> Result<Value, Refusal> {
    let now = crate::clock::wall_now_ms() as f64 / 1000.0;
    Ok(match operation {
        "StartQueryExecution" => json!({ "QueryExecutionId": athena.start(input)? }),
        "GetQueryExecution" => {
            json!({ "QueryExecution": athena.get(text(input, "QueryExecutionId"))? })
        }
        "BatchGetQueryExecution" => {
            let ids = ids(input, "QueryExecutionIds");
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let (found, unprocessed) = athena.batch_get(&ids)?;
            json!({ "QueryExecutions": found, "UnprocessedQueryExecutionIds": unprocessed })
        }
        "ListQueryExecutions" => json!({ "QueryExecutionIds": athena.list(workgroup(input))? }),
        "GetQueryResults" => {
            let table = athena.results(text(input, "QueryExecutionId"))?;
            let (rows, next) = table
                .page(input["NextToken"].as_str(), input["MaxResults"].as_i64())
                .map_err(|e| AthenaError::InvalidRequest(e.to_string()))?;
            let mut output = json!({
                "UpdateCount": 0,
                "ResultSet": {
                    "Rows": rows,
                    "ResultSetMetadata": { "ColumnInfo": table.column_info() },
                },
            });
            if let Some(next) = next {
                output["NextToken"] = json!(next);
            }
            output
        }
        "StopQueryExecution" => {
            athena.stop(text(input, "QueryExecutionId"))?;
            json!({})
        }
        "CreateWorkGroup" => {
            athena.with(|w, _| w.create(input, now))?;
            json!({})
        }
        "GetWorkGroup" => {
            json!({ "WorkGroup": athena.with(|w, _| w.get(text(input, "WorkGroup")).cloned())? })
        }
        "ListWorkGroups" => json!({ "WorkGroups": athena.with(|w, _| w.list()) }),
        "UpdateWorkGroup" => {
            athena.with(|w, _| w.update(input))?;
            json!({})
        }
        "DeleteWorkGroup" => {
            athena.with(|w, _| w.delete(text(input, "WorkGroup")))?;
            json!({})
        }
        "CreateNamedQuery" => {
            json!({ "NamedQueryId": athena.with(|w, n| n.create(input, w))? })
        }
        "GetNamedQuery" => json!({
            "NamedQuery": athena.with(|_, n| n.get(text(input, "NamedQueryId")).cloned())?
        }),
        "ListNamedQueries" => json!({
            "NamedQueryIds": athena.with(|_, n| {
                n.list(workgroup(input)).into_iter().map(str::to_owned).collect::<Vec<_>>()
            })
        }),
        "BatchGetNamedQuery" => {
            let ids = ids(input, "NamedQueryIds");
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let (found, unprocessed) = athena.with(|_, n| n.batch_get(&ids))?;
            json!({ "NamedQueries": found, "UnprocessedNamedQueryIds": unprocessed })
        }
        "UpdateNamedQuery" => {
            athena.with(|_, n| n.update(input))?;
            json!({})
        }
        "DeleteNamedQuery" => {
            athena.with(|_, n| n.delete(text(input, "NamedQueryId")))?;
            json!({})
        }
        "ListDataCatalogs" => json!({
            "DataCatalogsSummary": [{ "CatalogName": "AwsDataCatalog", "Type": "GLUE" }]
        }),
        _ => return Err(Refusal::Unknown),
    })
}
