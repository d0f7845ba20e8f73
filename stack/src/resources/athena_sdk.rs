//! The Athena workgroup and saved queries through aws-sdk-athena: the template's properties
//! (CloudFormation's `AWS::Athena::WorkGroup` and `AWS::Athena::NamedQuery`, which are the
//! API's shapes) into the SDK's types, and what GetWorkGroup and BatchGetNamedQuery answer back
//! into the template's shape for the audit.

use serde_json::{Map, Value, json};

use super::Target;
use super::sdk::{err, existing, text};
use crate::clients::ProvisionError;
use aws_sdk_athena::types::{
    EncryptionConfiguration, EncryptionOption, NamedQuery, ResultConfiguration,
    ResultConfigurationUpdates, WorkGroupConfiguration, WorkGroupConfigurationUpdates,
    WorkGroupState,
};

/// At most this many ids in one BatchGetNamedQuery (the API Reference: 1 to 50).
const NAMED_QUERY_BATCH: usize = 50;

/// The Athena client, which the emulator path has only with the harness's stand-in.
fn athena<'a>(at: &Target<'a>) -> Result<&'a aws_sdk_athena::Client, ProvisionError> {
    at.clients
        .athena
        .as_ref()
        .ok_or_else(|| ProvisionError::Call {
            resource: at.id.to_owned(),
            operation: "Athena",
            message: "no Athena to talk to (the emulator has none and no stand-in was given)"
                .to_owned(),
        })
}

fn encryption(value: &Value) -> Option<EncryptionConfiguration> {
    let option = value["EncryptionOption"].as_str()?;
    EncryptionConfiguration::builder()
        .encryption_option(EncryptionOption::from(option))
        .build()
        .ok()
}

/// GetWorkGroup, in the template's shape; `None` when Athena does not know it (it answers
/// `InvalidRequestException` for a workgroup it does not have).
pub(super) async fn read_workgroup(at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
    let name = text(at.desired, "Name");
    let Some(out) = existing(
        athena(&at)?.get_work_group().work_group(&name).send().await,
        aws_sdk_athena::operation::get_work_group::GetWorkGroupError::is_invalid_request_exception,
        at.id,
        "GetWorkGroup",
    )?
    else {
        return Ok(None);
    };
    let Some(workgroup) = out.work_group else {
        return Ok(None);
    };
    let mut read = json!({ "Name": workgroup.name() });
    if let Some(description) = workgroup.description() {
        read["Description"] = json!(description);
    }
    if let Some(state) = workgroup.state() {
        read["State"] = json!(state.as_str());
    }
    if let Some(configuration) = workgroup.configuration() {
        let mut held = Map::new();
        if let Some(enforce) = configuration.enforce_work_group_configuration() {
            held.insert("EnforceWorkGroupConfiguration".into(), json!(enforce));
        }
        if let Some(publish) = configuration.publish_cloud_watch_metrics_enabled() {
            held.insert("PublishCloudWatchMetricsEnabled".into(), json!(publish));
        }
        if let Some(results) = configuration.result_configuration() {
            let mut result = Map::new();
            if let Some(location) = results.output_location() {
                result.insert("OutputLocation".into(), json!(location));
            }
            if let Some(encryption) = results.encryption_configuration() {
                result.insert(
                    "EncryptionConfiguration".into(),
                    json!({ "EncryptionOption": encryption.encryption_option().as_str() }),
                );
            }
            held.insert("ResultConfiguration".into(), Value::Object(result));
        }
        read["WorkGroupConfiguration"] = Value::Object(held);
    }
    Ok(Some(read))
}

/// CreateWorkGroup, or UpdateWorkGroup when it exists and differs; what was written.
pub(super) async fn write_workgroup(
    at: Target<'_>,
    actual: Option<&Value>,
) -> Result<Vec<String>, ProvisionError> {
    let desired = at.desired;
    if actual.is_some_and(|a| crate::audit::matches(desired, a)) {
        return Ok(Vec::new());
    }
    let client = athena(&at)?;
    let configuration = &desired["WorkGroupConfiguration"];
    let results = &configuration["ResultConfiguration"];
    let (enforce, publish) = (
        configuration["EnforceWorkGroupConfiguration"].as_bool(),
        configuration["PublishCloudWatchMetricsEnabled"].as_bool(),
    );
    let location = results["OutputLocation"].as_str().map(str::to_owned);
    let encrypted = encryption(&results["EncryptionConfiguration"]);
    if actual.is_some() {
        let updates = WorkGroupConfigurationUpdates::builder()
            .set_enforce_work_group_configuration(enforce)
            .set_publish_cloud_watch_metrics_enabled(publish)
            .result_configuration_updates(
                ResultConfigurationUpdates::builder()
                    .set_output_location(location)
                    .set_encryption_configuration(encrypted)
                    .build(),
            )
            .build();
        client
            .update_work_group()
            .work_group(text(desired, "Name"))
            .set_description(desired["Description"].as_str().map(str::to_owned))
            .set_state(desired["State"].as_str().map(WorkGroupState::from))
            .configuration_updates(updates)
            .send()
            .await
            .map_err(err(at.id, "UpdateWorkGroup"))?;
    } else {
        let held = WorkGroupConfiguration::builder()
            .set_enforce_work_group_configuration(enforce)
            .set_publish_cloud_watch_metrics_enabled(publish)
            .result_configuration(
                ResultConfiguration::builder()
                    .set_output_location(location)
                    .set_encryption_configuration(encrypted)
                    .build(),
            )
            .build();
        client
            .create_work_group()
            .name(text(desired, "Name"))
            .set_description(desired["Description"].as_str().map(str::to_owned))
            .configuration(held)
            .send()
            .await
            .map_err(err(at.id, "CreateWorkGroup"))?;
    }
    Ok(vec!["WorkGroupConfiguration".to_owned()])
}

/// A call of [`named_queries`] that failed.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct NamedQueriesError {
    /// The operation.
    pub operation: &'static str,
    /// The service's message.
    pub message: String,
}

fn named_queries_error<E: std::error::Error + 'static>(
    operation: &'static str,
) -> impl FnOnce(E) -> NamedQueriesError {
    move |e| NamedQueriesError {
        operation,
        message: aws_sdk_athena::error::DisplayErrorContext(&e).to_string(),
    }
}

/// Every saved query of `workgroup`: ListNamedQueries page by page, then BatchGetNamedQuery
/// in batches of at most 50.
pub async fn named_queries(
    client: &aws_sdk_athena::Client,
    workgroup: &str,
) -> Result<Vec<NamedQuery>, NamedQueriesError> {
    let mut ids = Vec::new();
    let mut pages = client
        .list_named_queries()
        .work_group(workgroup)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(named_queries_error("ListNamedQueries"))?;
        ids.extend(page.named_query_ids().iter().cloned());
    }
    let mut queries = Vec::new();
    for batch in ids.chunks(NAMED_QUERY_BATCH) {
        let out = client
            .batch_get_named_query()
            .set_named_query_ids(Some(batch.to_vec()))
            .send()
            .await
            .map_err(named_queries_error("BatchGetNamedQuery"))?;
        queries.extend(out.named_queries().iter().cloned());
    }
    Ok(queries)
}

/// The saved query named as `desired` names it in its workgroup, if there is one.
async fn find_named_query(at: &Target<'_>) -> Result<Option<NamedQuery>, ProvisionError> {
    let (name, workgroup) = (text(at.desired, "Name"), text(at.desired, "WorkGroup"));
    let queries =
        named_queries(athena(at)?, &workgroup)
            .await
            .map_err(|e| ProvisionError::Call {
                resource: at.id.to_owned(),
                operation: e.operation,
                message: e.message,
            })?;
    Ok(queries.into_iter().find(|q| q.name() == name))
}

/// The saved query of the same name in its workgroup, in the template's shape (with its id
/// beside, for updates); `None` when there is none.
pub(super) async fn read_named_query(at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
    Ok(find_named_query(&at).await?.map(|query| {
        json!({
            "Name": query.name(),
            "Description": query.description(),
            "Database": query.database(),
            "WorkGroup": query.work_group(),
            "QueryString": query.query_string(),
            "NamedQueryId": query.named_query_id(),
        })
    }))
}

/// CreateNamedQuery, UpdateNamedQuery (name, description, SQL), or, when the database or
/// workgroup changed (which UpdateNamedQuery cannot change), DeleteNamedQuery and a new one.
pub(super) async fn write_named_query(
    at: Target<'_>,
    actual: Option<&Value>,
) -> Result<Vec<String>, ProvisionError> {
    let desired = at.desired;
    if actual.is_some_and(|a| crate::audit::matches(desired, a)) {
        return Ok(Vec::new());
    }
    let client = athena(&at)?;
    let description = desired["Description"].as_str().map(str::to_owned);
    if let Some(actual) = actual {
        let id = text(actual, "NamedQueryId");
        let movable = ["Database", "WorkGroup"]
            .iter()
            .all(|key| actual[key] == desired[*key]);
        if movable {
            client
                .update_named_query()
                .named_query_id(&id)
                .name(text(desired, "Name"))
                .set_description(description)
                .query_string(text(desired, "QueryString"))
                .send()
                .await
                .map_err(err(at.id, "UpdateNamedQuery"))?;
            return Ok(vec!["QueryString".to_owned()]);
        }
        client
            .delete_named_query()
            .named_query_id(&id)
            .send()
            .await
            .map_err(err(at.id, "DeleteNamedQuery"))?;
    }
    client
        .create_named_query()
        .name(text(desired, "Name"))
        .set_description(description)
        .database(text(desired, "Database"))
        .work_group(text(desired, "WorkGroup"))
        .query_string(text(desired, "QueryString"))
        .send()
        .await
        .map_err(err(at.id, "CreateNamedQuery"))?;
    Ok(vec!["NamedQuery".to_owned()])
}
