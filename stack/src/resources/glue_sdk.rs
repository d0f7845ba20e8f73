//! The Glue database and table through aws-sdk-glue: the template's `DatabaseInput` and
//! `TableInput` (CloudFormation's shapes, which are the Glue API's) into the SDK's types, and
//! what GetDatabase and GetTable answer back into the template's shape for the audit.

use serde_json::{Map, Value, json};

use super::Target;
use super::sdk::{err, existing, text};
use crate::clients::ProvisionError;
use aws_sdk_glue::types::{Column, DatabaseInput, SerDeInfo, StorageDescriptor, TableInput};

/// The Glue client, which the emulator path has only with the harness's stand-in.
fn glue<'a>(at: &Target<'a>) -> Result<&'a aws_sdk_glue::Client, ProvisionError> {
    at.clients
        .glue
        .as_ref()
        .ok_or_else(|| ProvisionError::Call {
            resource: at.id.to_owned(),
            operation: "Glue",
            message:
                "no Glue Data Catalog to talk to (the emulator has none and no stand-in was given)"
                    .to_owned(),
        })
}

fn strings(value: &Value) -> impl Iterator<Item = (String, String)> + '_ {
    value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
}

fn map_json(map: Option<&std::collections::HashMap<String, String>>) -> Option<Value> {
    let map = map.filter(|m| !m.is_empty())?;
    let sorted: std::collections::BTreeMap<_, _> = map.iter().collect();
    Some(json!(sorted))
}

fn column(value: &Value) -> Result<Column, aws_sdk_glue::error::BuildError> {
    Column::builder()
        .name(text(value, "Name"))
        .r#type(text(value, "Type"))
        .build()
}

fn columns(value: &Value) -> Result<Vec<Column>, aws_sdk_glue::error::BuildError> {
    value.as_array().into_iter().flatten().map(column).collect()
}

fn columns_json(columns: &[Column]) -> Value {
    Value::Array(
        columns
            .iter()
            .map(|c| json!({ "Name": c.name(), "Type": c.r#type() }))
            .collect(),
    )
}

/// The template's `DatabaseInput`.
fn database_input(input: &Value) -> Result<DatabaseInput, aws_sdk_glue::error::BuildError> {
    DatabaseInput::builder()
        .name(text(input, "Name"))
        .set_description(input["Description"].as_str().map(str::to_owned))
        .build()
}

/// The template's `TableInput`.
fn table_input(input: &Value) -> Result<TableInput, aws_sdk_glue::error::BuildError> {
    let sd = &input["StorageDescriptor"];
    let serde = &sd["SerdeInfo"];
    let mut serde_info = SerDeInfo::builder()
        .set_serialization_library(serde["SerializationLibrary"].as_str().map(str::to_owned));
    for (k, v) in strings(&serde["Parameters"]) {
        serde_info = serde_info.parameters(k, v);
    }
    let descriptor = StorageDescriptor::builder()
        .set_columns(Some(columns(&sd["Columns"])?))
        .set_location(sd["Location"].as_str().map(str::to_owned))
        .set_input_format(sd["InputFormat"].as_str().map(str::to_owned))
        .set_output_format(sd["OutputFormat"].as_str().map(str::to_owned))
        .serde_info(serde_info.build())
        .build();
    let mut table = TableInput::builder()
        .name(text(input, "Name"))
        .set_table_type(input["TableType"].as_str().map(str::to_owned))
        .set_partition_keys(Some(columns(&input["PartitionKeys"])?))
        .storage_descriptor(descriptor);
    for (k, v) in strings(&input["Parameters"]) {
        table = table.parameters(k, v);
    }
    table.build()
}

/// GetDatabase, in the template's shape; `None` when Glue does not know it.
pub(super) async fn read_database(at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
    let name = text(&at.desired["DatabaseInput"], "Name");
    let Some(out) = existing(
        glue(&at)?.get_database().name(&name).send().await,
        aws_sdk_glue::operation::get_database::GetDatabaseError::is_entity_not_found_exception,
        at.id,
        "GetDatabase",
    )?
    else {
        return Ok(None);
    };
    let Some(database) = out.database else {
        return Ok(None);
    };
    let mut input = Map::new();
    input.insert("Name".to_owned(), json!(database.name()));
    if let Some(description) = database.description() {
        input.insert("Description".to_owned(), json!(description));
    }
    Ok(Some(json!({
        "CatalogId": database.catalog_id(),
        "DatabaseInput": input,
    })))
}

/// CreateDatabase or UpdateDatabase; what was written.
pub(super) async fn write_database(
    at: Target<'_>,
    actual: Option<&Value>,
) -> Result<Vec<String>, ProvisionError> {
    let desired = &at.desired["DatabaseInput"];
    if actual.is_some_and(|a| &a["DatabaseInput"] == desired) {
        return Ok(Vec::new());
    }
    let input = database_input(desired).map_err(err(at.id, "CreateDatabase"))?;
    let client = glue(&at)?;
    if actual.is_some() {
        client
            .update_database()
            .name(text(desired, "Name"))
            .database_input(input)
            .send()
            .await
            .map_err(err(at.id, "UpdateDatabase"))?;
    } else {
        client
            .create_database()
            .database_input(input)
            .send()
            .await
            .map_err(err(at.id, "CreateDatabase"))?;
    }
    Ok(vec!["DatabaseInput".to_owned()])
}

/// GetTable, in the template's shape; `None` when Glue does not know it.
pub(super) async fn read_table(at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
    let database = text(at.desired, "DatabaseName");
    let name = text(&at.desired["TableInput"], "Name");
    let answer = glue(&at)?
        .get_table()
        .database_name(&database)
        .name(&name)
        .send()
        .await;
    let Some(out) = existing(
        answer,
        aws_sdk_glue::operation::get_table::GetTableError::is_entity_not_found_exception,
        at.id,
        "GetTable",
    )?
    else {
        return Ok(None);
    };
    let Some(table) = out.table else {
        return Ok(None);
    };
    let mut input = json!({
        "Name": table.name(),
        "TableType": table.table_type(),
        "PartitionKeys": columns_json(table.partition_keys()),
    });
    if let Some(parameters) = map_json(table.parameters()) {
        input["Parameters"] = parameters;
    }
    if let Some(sd) = table.storage_descriptor() {
        let mut descriptor = json!({
            "Columns": columns_json(sd.columns()),
            "Location": sd.location(),
            "InputFormat": sd.input_format(),
            "OutputFormat": sd.output_format(),
        });
        if let Some(serde) = sd.serde_info() {
            let mut info = json!({ "SerializationLibrary": serde.serialization_library() });
            if let Some(parameters) = map_json(serde.parameters()) {
                info["Parameters"] = parameters;
            }
            descriptor["SerdeInfo"] = info;
        }
        input["StorageDescriptor"] = descriptor;
    }
    Ok(Some(json!({
        "CatalogId": table.catalog_id(),
        "DatabaseName": table.database_name(),
        "TableInput": input,
    })))
}

/// CreateTable or UpdateTable; what was written.
pub(super) async fn write_table(
    at: Target<'_>,
    actual: Option<&Value>,
) -> Result<Vec<String>, ProvisionError> {
    let desired = &at.desired["TableInput"];
    if actual.is_some_and(|a| crate::audit::matches(desired, &a["TableInput"])) {
        return Ok(Vec::new());
    }
    let input = table_input(desired).map_err(err(at.id, "CreateTable"))?;
    let client = glue(&at)?;
    let database = text(at.desired, "DatabaseName");
    if actual.is_some() {
        client
            .update_table()
            .database_name(&database)
            .table_input(input)
            .send()
            .await
            .map_err(err(at.id, "UpdateTable"))?;
    } else {
        client
            .create_table()
            .database_name(&database)
            .table_input(input)
            .send()
            .await
            .map_err(err(at.id, "CreateTable"))?;
    }
    Ok(vec!["TableInput".to_owned()])
}

/// GetCrawler, in the template's shape (the schedule as `{ScheduleExpression}`); `None` when
/// Glue does not know it.
pub(super) async fn read_crawler(at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
    let name = text(at.desired, "Name");
    let Some(out) = existing(
        glue(&at)?.get_crawler().name(&name).send().await,
        aws_sdk_glue::operation::get_crawler::GetCrawlerError::is_entity_not_found_exception,
        at.id,
        "GetCrawler",
    )?
    else {
        return Ok(None);
    };
    let Some(crawler) = out.crawler else {
        return Ok(None);
    };
    let paths: Vec<Value> = crawler
        .targets()
        .map(|t| t.s3_targets())
        .unwrap_or_default()
        .iter()
        .map(|t| json!({ "Path": t.path() }))
        .collect();
    let mut value = json!({
        "Name": crawler.name(),
        "Role": crawler.role(),
        "DatabaseName": crawler.database_name(),
        "Targets": { "S3Targets": paths },
        "Configuration": crawler.configuration(),
    });
    if let Some(schedule) = crawler.schedule() {
        value["Schedule"] = json!({ "ScheduleExpression": schedule.schedule_expression() });
    }
    if let Some(policy) = crawler.schema_change_policy() {
        value["SchemaChangePolicy"] = json!({
            "UpdateBehavior": policy.update_behavior().map(|b| b.as_str()),
            "DeleteBehavior": policy.delete_behavior().map(|b| b.as_str()),
        });
    }
    if let Some(policy) = crawler.recrawl_policy() {
        value["RecrawlPolicy"] =
            json!({ "RecrawlBehavior": policy.recrawl_behavior().map(|b| b.as_str()) });
    }
    Ok(Some(value))
}

/// CreateCrawler or UpdateCrawler with the template's settings; what was written.
pub(super) async fn write_crawler(
    at: Target<'_>,
    actual: Option<&Value>,
) -> Result<Vec<String>, ProvisionError> {
    use aws_sdk_glue::types::{
        CrawlerTargets, DeleteBehavior, RecrawlBehavior, RecrawlPolicy, S3Target,
        SchemaChangePolicy, UpdateBehavior,
    };
    let desired = at.desired;
    if actual.is_some_and(|a| crate::audit::matches(desired, a)) {
        return Ok(Vec::new());
    }
    let targets = CrawlerTargets::builder()
        .set_s3_targets(Some(
            desired["Targets"]["S3Targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| S3Target::builder().path(text(t, "Path")).build())
                .collect(),
        ))
        .build();
    let policy = &desired["SchemaChangePolicy"];
    let schema_change = SchemaChangePolicy::builder()
        .update_behavior(UpdateBehavior::from(
            text(policy, "UpdateBehavior").as_str(),
        ))
        .delete_behavior(DeleteBehavior::from(
            text(policy, "DeleteBehavior").as_str(),
        ))
        .build();
    let recrawl = RecrawlPolicy::builder()
        .recrawl_behavior(RecrawlBehavior::from(
            text(&desired["RecrawlPolicy"], "RecrawlBehavior").as_str(),
        ))
        .build();
    let schedule = desired["Schedule"]["ScheduleExpression"]
        .as_str()
        .map(str::to_owned);
    let client = glue(&at)?;
    let (role, database) = (text(desired, "Role"), text(desired, "DatabaseName"));
    let configuration = desired["Configuration"].as_str().map(str::to_owned);
    // CreateCrawler and UpdateCrawler take the same settings through builders of their own.
    macro_rules! with_settings {
        ($builder:expr) => {
            $builder
                .name(text(desired, "Name"))
                .role(role)
                .database_name(database)
                .targets(targets)
                .set_schedule(schedule)
                .schema_change_policy(schema_change)
                .recrawl_policy(recrawl)
                .set_configuration(configuration)
        };
    }
    if actual.is_some() {
        with_settings!(client.update_crawler())
            .send()
            .await
            .map_err(err(at.id, "UpdateCrawler"))?;
    } else {
        with_settings!(client.create_crawler())
            .send()
            .await
            .map_err(err(at.id, "CreateCrawler"))?;
    }
    Ok(vec!["Crawler".to_owned()])
}
