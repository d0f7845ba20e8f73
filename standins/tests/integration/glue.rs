//! The Glue stand-in through the real client, aws-sdk-glue: databases, tables and partitions
//! created and read back in Glue's shapes, and Glue's error codes as the SDK surfaces them
//! (`EntityNotFoundException`, `AlreadyExistsException`), as the Glue API Reference lists
//! them for each operation.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use std::sync::{Arc, Mutex};

use aws_sdk_glue::types::{Column, DatabaseInput, PartitionInput, StorageDescriptor, TableInput};
use standins::glue::{Catalog, start};

async fn client() -> (aws_sdk_glue::Client, standins::json_protocol::StandIn) {
    let catalog = Arc::new(Mutex::new(Catalog::new("000000000000")));
    let endpoint = start(catalog).await.unwrap();
    let sdk = pipeline::emulator::sdk_config(&endpoint.endpoint, "us-east-1").await;
    (aws_sdk_glue::Client::new(&sdk), endpoint)
}

fn table_input(name: &str, location: &str) -> TableInput {
    TableInput::builder()
        .name(name)
        .table_type("EXTERNAL_TABLE")
        .partition_keys(
            Column::builder()
                .name("dt")
                .r#type("string")
                .build()
                .unwrap(),
        )
        .storage_descriptor(
            StorageDescriptor::builder()
                .location(location)
                .columns(
                    Column::builder()
                        .name("message")
                        .r#type("string")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_database_table_and_partitions_round_trip_through_the_sdk() {
    let (glue, _endpoint) = client().await;
    glue.create_database()
        .database_input(DatabaseInput::builder().name("ccp_logs").build().unwrap())
        .send()
        .await
        .unwrap();
    glue.create_table()
        .database_name("ccp_logs")
        .table_input(table_input("Logs", "s3://ccp-logs/logs/"))
        .send()
        .await
        .unwrap();

    let table = glue
        .get_table()
        .database_name("ccp_logs")
        .name("logs")
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    assert_eq!(table.name(), "logs", "Glue keeps names in lower case");
    assert_eq!(table.database_name(), Some("ccp_logs"));
    assert_eq!(table.table_type(), Some("EXTERNAL_TABLE"));
    let descriptor = table.storage_descriptor().unwrap();
    assert_eq!(descriptor.location(), Some("s3://ccp-logs/logs/"));
    assert_eq!(descriptor.columns()[0].name(), "message");
    assert_eq!(table.partition_keys()[0].name(), "dt");
    assert!(table.create_time().is_some());

    let created = glue
        .batch_create_partition()
        .database_name("ccp_logs")
        .table_name("logs")
        .partition_input_list(PartitionInput::builder().values("2026-12-05").build())
        .partition_input_list(PartitionInput::builder().values("2026-12-05").build())
        .send()
        .await
        .unwrap();
    let errors = created.errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].error_detail().and_then(|d| d.error_code()),
        Some("AlreadyExistsException")
    );
    let partitions = glue
        .get_partitions()
        .database_name("ccp_logs")
        .table_name("logs")
        .send()
        .await
        .unwrap();
    assert_eq!(partitions.partitions()[0].values(), ["2026-12-05"]);

    glue.update_table()
        .database_name("ccp_logs")
        .table_input(table_input("logs", "s3://ccp-logs/v2/"))
        .send()
        .await
        .unwrap();
    let tables = glue
        .get_tables()
        .database_name("ccp_logs")
        .send()
        .await
        .unwrap();
    let updated = &tables.table_list()[0];
    assert_eq!(updated.version_id(), Some("1"));
    assert_eq!(
        updated.storage_descriptor().and_then(|d| d.location()),
        Some("s3://ccp-logs/v2/")
    );
}

#[tokio::test]
async fn glues_errors_reach_the_sdk_as_its_typed_errors() {
    let (glue, _endpoint) = client().await;
    let missing = glue
        .get_table()
        .database_name("ccp_logs")
        .name("logs")
        .send()
        .await
        .unwrap_err();
    let service = missing.into_service_error();
    assert!(service.is_entity_not_found_exception(), "{service:?}");
    assert_eq!(
        service.meta().message(),
        Some("Database ccp_logs not found.")
    );

    glue.create_database()
        .database_input(DatabaseInput::builder().name("ccp_logs").build().unwrap())
        .send()
        .await
        .unwrap();
    let again = glue
        .create_database()
        .database_input(DatabaseInput::builder().name("CCP_LOGS").build().unwrap())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(again.is_already_exists_exception(), "{again:?}");
    let no_table = glue
        .get_table()
        .database_name("ccp_logs")
        .name("image_metadata")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    // Glue's words for a missing table (an EntityNotFoundException quoted in
    // hashicorp/terraform-provider-aws#34132).
    assert_eq!(
        no_table.meta().message(),
        Some("Table image_metadata not found.")
    );

    let unknown = glue.list_crawlers().send().await.unwrap_err();
    let meta = aws_sdk_glue::error::ProvideErrorMetadata::meta(&unknown);
    assert_eq!(meta.code(), Some("UnknownOperationException"));
    assert!(
        meta.message().unwrap_or_default().contains("ListCrawlers"),
        "{meta:?}"
    );
}
