//! The Athena stand-in through the real client, aws-sdk-athena, over tables the Glue stand-in
//! catalogs and objects in memory: a query's states, its rows in GetQueryResults' shape (the
//! header row first, 1,000 rows a page with a `NextToken`, Athena's type names), its result
//! file at the output location, the workgroup's enforced location, saved queries, and
//! Athena's error code (`InvalidRequestException`) where the API Reference lists it for each
//! operation.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_athena::types::{
    QueryExecutionContext, QueryExecutionState, ResultConfiguration, WorkGroupConfiguration,
};
use object_store::ObjectStoreExt as _;
use serde_json::json;
use standins::athena::{Athena, Buckets as _, MemoryBuckets};
use standins::glue::Catalog;

const ROWS: usize = 1500;

struct World {
    athena: aws_sdk_athena::Client,
    buckets: Arc<MemoryBuckets>,
    _endpoint: standins::json_protocol::StandIn,
}

/// A Glue table `ccp_logs.logs` over `s3://ccp-logs/logs/` holding [`ROWS`] rows, and a
/// workgroup `ccp` whose results go to `s3://ccp-logs/athena-results/`, enforced.
async fn world() -> World {
    let catalog = Arc::new(Mutex::new(Catalog::new("000000000000")));
    {
        let mut catalog = standins::locked(&catalog);
        catalog
            .create_database(&json!({ "Name": "ccp_logs" }), 0.0)
            .unwrap();
        catalog
            .create_table(
                "ccp_logs",
                &json!({ "Name": "logs", "StorageDescriptor": {
                    "Location": "s3://ccp-logs/logs/",
                    "Columns": [{ "Name": "host", "Type": "string" }, { "Name": "n", "Type": "bigint" }],
                }}),
                0.0,
            )
            .unwrap();
    }
    let buckets = Arc::new(MemoryBuckets::default());
    let rows: String = (0..ROWS)
        .map(|n| {
            let host = if n % 10 == 0 {
                json!(null)
            } else {
                json!(format!("host-{}", n % 3))
            };
            format!("{}\n", json!({ "host": host, "n": n }))
        })
        .collect();
    buckets
        .bucket("ccp-logs")
        .unwrap()
        .put(&"logs/part-0001".into(), rows.into())
        .await
        .unwrap();
    let endpoint = standins::athena::start(Athena::new(catalog, buckets.clone()))
        .await
        .unwrap();
    let sdk = pipeline::emulator::sdk_config(&endpoint.endpoint, "us-east-1").await;
    let athena = aws_sdk_athena::Client::new(&sdk);
    athena
        .create_work_group()
        .name("ccp")
        .configuration(
            WorkGroupConfiguration::builder()
                .enforce_work_group_configuration(true)
                .result_configuration(
                    ResultConfiguration::builder()
                        .output_location("s3://ccp-logs/athena-results/")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    World {
        athena,
        buckets,
        _endpoint: endpoint,
    }
}

async fn start(world: &World, sql: &str) -> String {
    world
        .athena
        .start_query_execution()
        .query_string(sql)
        .work_group("ccp")
        .query_execution_context(
            QueryExecutionContext::builder()
                .database("ccp_logs")
                .build(),
        )
        .result_configuration(
            ResultConfiguration::builder()
                .output_location("s3://elsewhere/")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .query_execution_id
        .unwrap()
}

/// Polls GetQueryExecution, as clients do, until the query is done.
async fn finished(world: &World, id: &str) -> aws_sdk_athena::types::QueryExecution {
    for _ in 0..500 {
        let execution = world
            .athena
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .unwrap()
            .query_execution
            .unwrap();
        let state = execution.status().and_then(|s| s.state()).cloned();
        if matches!(
            state,
            Some(
                QueryExecutionState::Succeeded
                    | QueryExecutionState::Failed
                    | QueryExecutionState::Cancelled
            )
        ) {
            return execution;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("query {id} did not finish in 10 s");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_runs_to_succeeded_and_its_rows_come_in_pages_with_the_header_first() {
    let world = world().await;
    let id = start(&world, "SELECT host, n FROM logs ORDER BY n").await;
    let execution = finished(&world, &id).await;
    assert_eq!(
        execution.status().unwrap().state(),
        Some(&QueryExecutionState::Succeeded)
    );
    let statistics = execution.statistics().unwrap();
    assert!(statistics.data_scanned_in_bytes().unwrap() > 0);
    // The workgroup enforces its location over the client's.
    let output = execution
        .result_configuration()
        .unwrap()
        .output_location()
        .unwrap();
    assert_eq!(output, format!("s3://ccp-logs/athena-results/{id}.csv"));

    let mut pages = world
        .athena
        .get_query_results()
        .query_execution_id(&id)
        .into_paginator()
        .send();
    let mut rows = Vec::new();
    let mut page_sizes = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        let set = page.result_set().unwrap();
        if rows.is_empty() {
            let info = set.result_set_metadata().unwrap().column_info();
            assert_eq!(
                info.iter()
                    .map(|c| (c.name(), c.r#type()))
                    .collect::<Vec<_>>(),
                [("host", "varchar"), ("n", "bigint")]
            );
        }
        page_sizes.push(set.rows().len());
        for row in set.rows() {
            rows.push(
                row.data()
                    .iter()
                    .map(|d| d.var_char_value().map(str::to_owned))
                    .collect::<Vec<_>>(),
            );
        }
    }
    assert_eq!(
        page_sizes,
        [1000, 501],
        "1,000 rows a page, the header counted"
    );
    assert_eq!(rows[0], [Some("host".into()), Some("n".into())]);
    assert_eq!(
        rows[1],
        [None, Some("0".into())],
        "a null has no VarCharValue"
    );
    assert_eq!(rows[2], [Some("host-1".into()), Some("1".into())]);
    assert_eq!(rows.len(), ROWS + 1);

    let csv = world
        .buckets
        .bucket("ccp-logs")
        .unwrap()
        .get(&format!("athena-results/{id}.csv").as_str().into())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let csv = String::from_utf8(csv.to_vec()).unwrap();
    assert!(
        csv.starts_with("\"host\",\"n\"\n,\"0\"\n\"host-1\",\"1\"\n"),
        "{csv:.60}"
    );
    assert_eq!(csv.lines().count(), ROWS + 1);
    let metadata = world
        .buckets
        .bucket("ccp-logs")
        .unwrap()
        .head(&format!("athena-results/{id}.csv.metadata").as_str().into())
        .await;
    assert!(metadata.is_ok(), "the metadata object is written beside it");

    let listed = world
        .athena
        .list_query_executions()
        .work_group("ccp")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.query_execution_ids(), std::slice::from_ref(&id));
    // Stopping a finished query leaves it as it is.
    world
        .athena
        .stop_query_execution()
        .query_execution_id(&id)
        .send()
        .await
        .unwrap();
    let again = finished(&world, &id).await;
    assert_eq!(
        again.status().unwrap().state(),
        Some(&QueryExecutionState::Succeeded)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_sql_fails_with_athenas_syntax_error_and_has_no_results() {
    let world = world().await;
    let id = start(&world, "SELECT n FROM logs WHERE").await;
    let execution = finished(&world, &id).await;
    let status = execution.status().unwrap();
    assert_eq!(status.state(), Some(&QueryExecutionState::Failed));
    let reason = status.state_change_reason().unwrap();
    assert!(reason.starts_with("SYNTAX_ERROR: line 1:"), "{reason}");
    assert_eq!(status.athena_error().unwrap().error_category(), Some(2));
    let refused = world
        .athena
        .get_query_results()
        .query_execution_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(refused.is_invalid_request_exception(), "{refused:?}");
    assert_eq!(
        refused.meta().message(),
        Some("Query did not finish successfully. Final query state: FAILED")
    );

    let id = start(&world, "SELECT n FROM nope").await;
    let reason = finished(&world, &id)
        .await
        .status()
        .unwrap()
        .state_change_reason()
        .unwrap()
        .to_owned();
    assert!(reason.starts_with("TABLE_NOT_FOUND: line 1:"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_athena_refuses_are_refused_with_its_code() {
    let world = world().await;
    let no_workgroup = world
        .athena
        .start_query_execution()
        .query_string("SELECT 1")
        .work_group("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(no_workgroup.is_invalid_request_exception());
    assert_eq!(
        no_workgroup.meta().message(),
        Some("WorkGroup nope is not found.")
    );
    let no_location = world
        .athena
        .start_query_execution()
        .query_string("SELECT 1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        no_location
            .meta()
            .message()
            .unwrap()
            .starts_with("No output location provided."),
        "{no_location:?}"
    );
    let no_execution = world
        .athena
        .get_query_execution()
        .query_execution_id("0000")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(no_execution.is_invalid_request_exception());
    let unknown = world
        .athena
        .list_prepared_statements()
        .work_group("ccp")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(unknown.meta().code(), Some("UnknownOperationException"));
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_queries_are_created_listed_and_read_back() {
    let world = world().await;
    let id = world
        .athena
        .create_named_query()
        .name("errors-by-host")
        .database("ccp_logs")
        .work_group("ccp")
        .query_string("SELECT host, count(*) FROM logs GROUP BY host")
        .send()
        .await
        .unwrap()
        .named_query_id
        .unwrap();
    let listed = world
        .athena
        .list_named_queries()
        .work_group("ccp")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.named_query_ids(), std::slice::from_ref(&id));
    let batch = world
        .athena
        .batch_get_named_query()
        .named_query_ids(&id)
        .named_query_ids("missing")
        .send()
        .await
        .unwrap();
    assert_eq!(batch.named_queries()[0].name(), "errors-by-host");
    assert_eq!(
        batch.unprocessed_named_query_ids()[0].named_query_id(),
        Some("missing")
    );
    let query = world
        .athena
        .get_named_query()
        .named_query_id(&id)
        .send()
        .await
        .unwrap()
        .named_query
        .unwrap();
    let run = start(&world, query.query_string()).await;
    let execution = finished(&world, &run).await;
    assert_eq!(
        execution.status().unwrap().state(),
        Some(&QueryExecutionState::Succeeded)
    );
}
