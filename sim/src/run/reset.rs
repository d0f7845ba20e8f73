//! Clears what an earlier run on the same emulator left behind, so that a run's reconciliation
//! sees only its own data: the log group's streams, the objects under the delivery prefixes,
//! and the harness queue's messages. Resources themselves stay (provisioning is idempotent).
//! Then the scenario's broken agent configurations are put ([`put_faults`]).

use stack::provision::Clients;
use stack::{Names, StackDefinition, harness_queue_name};

use super::RunError;
use crate::scenario::LoadedScenario;

/// Clears the log group's streams, the delivery and error prefixes, and the harness queue;
/// returns the queue's URL.
pub async fn everything(
    clients: &Clients,
    names: &Names,
    definition: &StackDefinition,
) -> Result<String, RunError> {
    let queue = harness_queue_name(names);
    let queue_url = clients
        .sqs
        .get_queue_url()
        .queue_name(&queue)
        .send()
        .await
        .map_err(|e| RunError::call("GetQueueUrl", &queue, &e))?
        .queue_url
        .unwrap_or_default();
    log_streams(clients, &names.log_group).await?;
    // The static folder of each prefix: a prefix with `!{…}` expressions names no key as
    // written (projection's `logs/!{timestamp:…}/`).
    let root = crate::athena::table_root;
    objects(clients, &names.bucket, &root(&definition.firehose.prefix)).await?;
    objects(
        clients,
        &names.bucket,
        &root(&definition.firehose.error_prefix),
    )
    .await?;
    self::queue(clients, &queue_url).await?;
    Ok(queue_url)
}

/// Deletes every stream of `log_group`.
pub async fn log_streams(clients: &Clients, log_group: &str) -> Result<usize, RunError> {
    let mut deleted = 0;
    loop {
        let page = clients
            .logs
            .describe_log_streams()
            .log_group_name(log_group)
            .send()
            .await
            .map_err(|e| RunError::call("DescribeLogStreams", log_group, &e))?;
        let names: Vec<String> = page
            .log_streams()
            .iter()
            .filter_map(|s| s.log_stream_name().map(str::to_owned))
            .collect();
        if names.is_empty() {
            return Ok(deleted);
        }
        for name in names {
            clients
                .logs
                .delete_log_stream()
                .log_group_name(log_group)
                .log_stream_name(&name)
                .send()
                .await
                .map_err(|e| RunError::call("DeleteLogStream", &name, &e))?;
            deleted += 1;
        }
    }
}

/// Deletes every object of `bucket` under `prefix`.
pub async fn objects(clients: &Clients, bucket: &str, prefix: &str) -> Result<usize, RunError> {
    let mut deleted = 0;
    loop {
        let page = clients
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .send()
            .await
            .map_err(|e| RunError::call("ListObjectsV2", bucket, &e))?;
        let keys: Vec<String> = page
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        if keys.is_empty() {
            return Ok(deleted);
        }
        for key in keys {
            clients
                .s3
                .delete_object()
                .bucket(bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| RunError::call("DeleteObject", &key, &e))?;
            deleted += 1;
        }
    }
}

/// Removes every message of the queue.
pub async fn queue(clients: &Clients, queue_url: &str) -> Result<(), RunError> {
    clients
        .sqs
        .purge_queue()
        .queue_url(queue_url)
        .send()
        .await
        .map_err(|e| RunError::call("PurgeQueue", queue_url, &e))?;
    Ok(())
}

/// Overwrites the agent configurations the scenario breaks on purpose (the next run's
/// provisioning puts the stack's own back).
pub async fn put_faults(
    clients: &Clients,
    names: &Names,
    loaded: &LoadedScenario,
) -> Result<(), RunError> {
    let faults = &loaded.scenario.faults;
    for (parameter, file) in [
        (&names.linux_parameter, &faults.linux_parameter),
        (&names.windows_parameter, &faults.windows_parameter),
    ] {
        let Some(file) = file else { continue };
        let path = loaded.base.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| RunError::Call {
            operation: "read",
            target: path.display().to_string(),
            message: e.to_string(),
        })?;
        clients
            .ssm
            .put_parameter()
            .name(parameter)
            .value(text)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| RunError::call("PutParameter", parameter, &e))?;
    }
    Ok(())
}
