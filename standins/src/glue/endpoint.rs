//! Glue's JSON API (AWS JSON 1.1, `X-Amz-Target: AWSGlue.<Operation>`) over a [`Catalog`]:
//! the database, table, partition and crawler operations the stack, the crawler model and
//! Athena's clients use. Lists come whole, in one page (no `NextToken`); `GetPartitions` takes no
//! `Expression`. An operation outside these is refused with `UnknownOperationException`,
//! naming it as one the stand-in does not model.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

use super::catalog::{Catalog, GlueError};
use crate::json_protocol::{self, JsonRequest, StandIn, error, ok};

/// The operations served.
pub const OPERATIONS: [&str; 18] = [
    "CreateDatabase",
    "UpdateDatabase",
    "GetDatabase",
    "GetDatabases",
    "DeleteDatabase",
    "CreateTable",
    "GetTable",
    "GetTables",
    "UpdateTable",
    "DeleteTable",
    "BatchCreatePartition",
    "GetPartitions",
    "GetPartition",
    "CreateCrawler",
    "UpdateCrawler",
    "GetCrawler",
    "GetCrawlers",
    "DeleteCrawler",
];

/// A catalog shared by the endpoint and the harness.
pub type SharedCatalog = Arc<Mutex<Catalog>>;

/// Serves `catalog` on a free loopback port until the returned endpoint is dropped.
pub async fn start(catalog: SharedCatalog) -> std::io::Result<StandIn> {
    start_on(0, catalog).await
}

/// [`start`] on loopback `port` (`loglab up`'s, for users' own clients).
pub async fn start_on(port: u16, catalog: SharedCatalog) -> std::io::Result<StandIn> {
    json_protocol::serve_on(port, move |request| {
        let catalog = Arc::clone(&catalog);
        async move { answer(&catalog, &request) }
    })
    .await
}

fn answer(catalog: &SharedCatalog, request: &JsonRequest) -> Response<Full<Bytes>> {
    let operation = request
        .target
        .strip_prefix("AWSGlue.")
        .unwrap_or(&request.target);
    let now = crate::clock::wall_now_ms() as f64 / 1000.0;
    let mut catalog = crate::locked(catalog);
    match call(&mut catalog, operation, &request.input, now) {
        Ok(output) => ok(&output),
        Err(Refusal::Glue(e)) => error(StatusCode::BAD_REQUEST, e.code(), e.message()),
        Err(Refusal::Unknown) => error(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            &format!(
                "{operation} is not an operation the harness's Glue stand-in models (it serves {})",
                OPERATIONS.join(", ")
            ),
        ),
    }
}

enum Refusal {
    Glue(GlueError),
    Unknown,
}

impl From<GlueError> for Refusal {
    fn from(error: GlueError) -> Self {
        Self::Glue(error)
    }
}

fn text<'a>(input: &'a Value, key: &str) -> &'a str {
    input[key].as_str().unwrap_or_default()
}

fn call(catalog: &mut Catalog, operation: &str, input: &Value, now: f64) -> Result<Value, Refusal> {
    let (database, table) = (text(input, "DatabaseName"), text(input, "TableName"));
    Ok(match operation {
        "CreateDatabase" => {
            catalog.create_database(&input["DatabaseInput"], now)?;
            json!({})
        }
        "UpdateDatabase" => {
            catalog.update_database(text(input, "Name"), &input["DatabaseInput"])?;
            json!({})
        }
        "GetDatabase" => json!({ "Database": catalog.get_database(text(input, "Name"))? }),
        "GetDatabases" => json!({ "DatabaseList": catalog.get_databases() }),
        "DeleteDatabase" => {
            catalog.delete_database(text(input, "Name"))?;
            json!({})
        }
        "CreateTable" => {
            catalog.create_table(database, &input["TableInput"], now)?;
            json!({})
        }
        "GetTable" => json!({ "Table": catalog.get_table(database, text(input, "Name"))? }),
        "GetTables" => json!({ "TableList": catalog.get_tables(database)? }),
        "UpdateTable" => {
            catalog.update_table(database, &input["TableInput"], now)?;
            json!({})
        }
        "DeleteTable" => {
            catalog.delete_table(database, text(input, "Name"))?;
            json!({})
        }
        "BatchCreatePartition" => {
            let inputs = input["PartitionInputList"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            json!({ "Errors": catalog.batch_create_partition(database, table, &inputs, now)? })
        }
        "GetPartitions" => {
            if input.get("Expression").is_some_and(|e| !e.is_null()) {
                return Err(GlueError::InvalidInput(
                    "GetPartitions with an Expression is not modelled by the harness's Glue stand-in (our limit, not Glue's)".to_owned(),
                )
                .into());
            }
            json!({ "Partitions": catalog.get_partitions(database, table)? })
        }
        "GetPartition" => json!({
            "Partition": catalog.get_partition(database, table, &input["PartitionValues"])?
        }),
        "CreateCrawler" => {
            catalog.crawlers.create(input, now)?;
            json!({})
        }
        "UpdateCrawler" => {
            catalog.crawlers.update(input, now)?;
            json!({})
        }
        "GetCrawler" => json!({ "Crawler": catalog.crawlers.get(text(input, "Name"))? }),
        "GetCrawlers" => json!({ "Crawlers": catalog.crawlers.list() }),
        "DeleteCrawler" => {
            catalog.crawlers.delete(text(input, "Name"))?;
            json!({})
        }
        _ => return Err(Refusal::Unknown),
    })
}
