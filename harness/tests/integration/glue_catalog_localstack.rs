//! The stack's Glue database and table provisioned and audited like every other resource: on
//! LocalStack for the rest of the stack, and at the harness's Glue stand-in
//! (`standins::glue`) for the Data Catalog, which LocalStack community lacks, all through the
//! real SDK clients. A second apply changes nothing; a table changed behind the stack's back is
//! found by the audit and put back by the next apply.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop loudly"
)]

use std::sync::{Arc, Mutex};

use pipeline::emulator::sdk_config;
use stack::audit::{self, Origin, Verdict};
use stack::provision::{self, Clients, Outcome};
use stack::template::ids;
use stack::{Deployment, Placement, StackDefinition};

use crate::support;

/// LocalStack's clients for `deployment`, with Glue at a stand-in of its own: the clients, the
/// stand-in's catalog, and the running endpoint.
async fn with_glue_stand_in(
    url: &str,
    deployment: &Deployment,
) -> (
    Clients,
    standins::glue::SharedCatalog,
    standins::json_protocol::StandIn,
) {
    let placement = &deployment.placement;
    let catalog = Arc::new(Mutex::new(standins::glue::Catalog::new(
        &placement.account_id,
    )));
    let glue = standins::glue::start(Arc::clone(&catalog)).await.unwrap();
    let config = sdk_config(url, &placement.region).await;
    let clients = Clients::new(&config, deployment).with_glue_at(&config, &glue.endpoint);
    (clients, catalog, glue)
}

#[tokio::test]
async fn the_database_and_table_are_applied_and_audited_at_the_glue_stand_in() {
    let Some(url) = support::endpoint() else {
        return;
    };
    let region = "ap-northeast-3";
    let mut definition = StackDefinition::default();
    definition.account.name = "GlueTest".into();
    let stack = support::stack(definition);
    let deployment = Deployment::new(&stack, &Placement::localstack(region));
    let (clients, catalog, glue) = with_glue_stand_in(&url, &deployment).await;

    let outcome_of = |applied: &[provision::Applied], id: &str| {
        applied
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.outcome.clone())
            .unwrap()
    };
    let first = provision::apply(&clients, &deployment).await.unwrap();
    assert_eq!(outcome_of(&first, ids::DATABASE), Outcome::Created);
    assert_eq!(outcome_of(&first, ids::TABLE), Outcome::Created);
    let second = provision::apply(&clients, &deployment).await.unwrap();
    assert_eq!(outcome_of(&second, ids::DATABASE), Outcome::Unchanged);
    assert_eq!(outcome_of(&second, ids::TABLE), Outcome::Unchanged);

    let findings = audit::audit(&clients, &deployment, &Origin::Provisioned)
        .await
        .unwrap();
    let glue_findings: Vec<_> = findings
        .iter()
        .filter(|f| f.resource == ids::DATABASE || f.resource == ids::TABLE)
        .collect();
    assert!(
        glue_findings.len() > 40,
        "every column and parameter is audited"
    );
    assert!(
        glue_findings.iter().all(|f| f.verdict == Verdict::Match),
        "{glue_findings:#?}"
    );

    // Drift: the table's location changed through Glue's API.
    let table_name = &stack.definition.catalog.table;
    let database = &stack.definition.catalog.database;
    let sdk = sdk_config(&glue.endpoint, region).await;
    let direct = aws_sdk_glue::Client::new(&sdk);
    let table = direct
        .get_table()
        .database_name(database)
        .name(table_name)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let mut descriptor = table.storage_descriptor().unwrap().clone();
    descriptor.location = Some("s3://elsewhere/".to_owned());
    direct
        .update_table()
        .database_name(database)
        .table_input(
            aws_sdk_glue::types::TableInput::builder()
                .name(table_name)
                .set_partition_keys(Some(table.partition_keys().to_vec()))
                .storage_descriptor(descriptor)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let drifted = audit::audit(&clients, &deployment, &Origin::Provisioned)
        .await
        .unwrap();
    let differs: Vec<&str> = drifted
        .iter()
        .filter(|f| f.resource == ids::TABLE && f.verdict != Verdict::Match)
        .map(|f| f.property.as_str())
        .collect();
    assert!(
        differs.contains(&"TableInput.StorageDescriptor.Location"),
        "{differs:?}"
    );
    assert!(
        differs
            .iter()
            .any(|p| p.starts_with("TableInput.Parameters")),
        "{differs:?}"
    );
    let repaired = provision::apply(&clients, &deployment).await.unwrap();
    assert!(matches!(
        outcome_of(&repaired, ids::TABLE),
        Outcome::Updated(_)
    ));
    let after = audit::audit(&clients, &deployment, &Origin::Provisioned)
        .await
        .unwrap();
    assert!(
        after
            .iter()
            .filter(|f| f.resource == ids::TABLE)
            .all(|f| f.verdict == Verdict::Match)
    );
    // The stand-in holds what the stack declared, in Glue's shape.
    let held = catalog
        .lock()
        .unwrap()
        .get_table(database, table_name)
        .unwrap();
    assert_eq!(held["VersionId"], "2", "created, drifted, repaired");
}

/// The seed's design (`deploy/crawler.toml`): the crawler, with its role, targets, schedule and
/// policies, created at the stand-in and audited there; its state and schedule as GetCrawler
/// shows them.
#[tokio::test]
async fn the_crawler_is_applied_and_audited_at_the_glue_stand_in() {
    let Some(url) = support::endpoint() else {
        return;
    };
    let region = "af-south-1";
    let stack = stack::Stack::load(&support::root().join("deploy/crawler.toml")).unwrap();
    let deployment = Deployment::new(&stack, &Placement::localstack(region));
    let (clients, catalog, _endpoint) = with_glue_stand_in(&url, &deployment).await;

    let first = provision::apply(&clients, &deployment).await.unwrap();
    let crawler_outcome = |applied: &[provision::Applied]| {
        applied
            .iter()
            .find(|a| a.id == ids::CRAWLER)
            .map(|a| a.outcome.clone())
            .unwrap()
    };
    assert_eq!(crawler_outcome(&first), Outcome::Created);
    let second = provision::apply(&clients, &deployment).await.unwrap();
    assert_eq!(crawler_outcome(&second), Outcome::Unchanged);
    let findings = audit::audit(&clients, &deployment, &Origin::Provisioned)
        .await
        .unwrap();
    let crawler: Vec<_> = findings
        .iter()
        .filter(|f| f.resource == ids::CRAWLER)
        .collect();
    assert!(crawler.len() >= 9, "{crawler:#?}");
    assert!(
        crawler.iter().all(|f| f.verdict == Verdict::Match),
        "{crawler:#?}"
    );

    let definition = &stack.definition.catalog;
    let held = catalog
        .lock()
        .unwrap()
        .crawlers
        .get(&definition.crawler_name)
        .unwrap();
    assert_eq!(held["State"], "READY");
    assert_eq!(held["Schedule"]["State"], "SCHEDULED");
    assert_eq!(
        held["Schedule"]["ScheduleExpression"],
        definition.crawler_schedule.as_str()
    );
    assert!(
        held["Role"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:iam::000000000000:role/"),
        "{held}"
    );
}

/// A client our users have, boto3 from PyPI (`scripts/boto3.sh`), reads the table the stack
/// provisioned at the stand-in as Glue's API answers it, and meets Glue's error for a table
/// that does not exist as botocore's modelled exception. (Two workers: the stand-in answers
/// while the test waits for the Python process.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_reads_the_provisioned_table_from_the_stand_in() {
    let Some(url) = support::endpoint() else {
        return;
    };
    let region = "me-central-1";
    let mut definition = StackDefinition::default();
    definition.account.name = "Boto3Test".into();
    let stack = support::stack(definition);
    let deployment = Deployment::new(&stack, &Placement::localstack(region));
    let (clients, _catalog, glue) = with_glue_stand_in(&url, &deployment).await;
    provision::apply(&clients, &deployment).await.unwrap();

    let python = support::python_clients();
    let catalog = &stack.definition.catalog;
    let program = r#"
import boto3, json, sys
endpoint, region, database, table = sys.argv[1:5]
glue = boto3.client("glue", endpoint_url=endpoint, region_name=region,
                    aws_access_key_id="test", aws_secret_access_key="test")
found = glue.get_table(DatabaseName=database, Name=table)["Table"]
sd = found["StorageDescriptor"]
print(json.dumps({
    "name": found["Name"],
    "columns": [c["Name"] for c in sd["Columns"]],
    "location": sd["Location"],
    "partition_keys": [k["Name"] for k in found["PartitionKeys"]],
    "projection": found["Parameters"]["projection.enabled"],
    "tables": [t["Name"] for t in glue.get_tables(DatabaseName=database)["TableList"]],
}))
try:
    glue.get_table(DatabaseName=database, Name="nope")
except glue.exceptions.EntityNotFoundException as e:
    print(json.dumps({"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}))
"#;
    let run = std::process::Command::new(python.trim())
        .args([
            "-c",
            program,
            &glue.endpoint,
            region,
            &catalog.database,
            &catalog.table,
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut lines = stdout.lines();
    let table: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let columns: Vec<&str> = pipeline::etl::row::ROW_COLUMNS
        .iter()
        .map(|(name, _)| *name)
        .collect();
    assert_eq!(table["name"], catalog.table.as_str());
    assert_eq!(table["columns"], serde_json::json!(columns));
    assert_eq!(table["partition_keys"], serde_json::json!(["datehour"]));
    assert_eq!(table["projection"], "true");
    assert_eq!(table["tables"], serde_json::json!([catalog.table]));
    assert!(
        table["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("-{region}/logs/")),
        "{table}"
    );
    let missing: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(missing["code"], "EntityNotFoundException");
    assert_eq!(missing["message"], "Table nope not found.");
}
