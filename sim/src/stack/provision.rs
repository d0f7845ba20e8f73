//! Applies the resolved template to an emulator through the SDK, idempotently: each resource is
//! read first and only the top-level properties that differ are written, so a second apply
//! writes nothing. Resource types the emulator cannot hold are skipped with their reason
//! ([`super::NOT_PROVISIONED`]); the onboarding rule's target becomes an SQS queue that the
//! harness reads, standing in for the function.

use aws_config::SdkConfig;
use pipeline::stack::template::ids;
use serde_json::{Value, json};

use super::{Deployment, harness_queue_name, resources, skip_reason};

/// The SDK clients the provisioner and the audit use, built once.
#[derive(Debug, Clone)]
pub struct Clients {
    pub(crate) s3: aws_sdk_s3::Client,
    pub(crate) logs: aws_sdk_cloudwatchlogs::Client,
    pub(crate) iam: aws_sdk_iam::Client,
    pub(crate) ssm: aws_sdk_ssm::Client,
    pub(crate) firehose: aws_sdk_firehose::Client,
    pub(crate) events: aws_sdk_eventbridge::Client,
    pub(crate) sqs: aws_sdk_sqs::Client,
    pub(crate) region: String,
    role_names: std::collections::BTreeMap<String, String>,
}

impl Clients {
    /// Clients for `config` (S3 with path-style addressing, as emulators need).
    pub fn new(config: &SdkConfig, deployment: &Deployment) -> Self {
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build();
        let role_names = [
            ids::FIREHOSE_ROLE,
            ids::ETL_ROLE,
            ids::ONBOARDING_ROLE,
            ids::CRAWLER_ROLE,
        ]
        .into_iter()
        .filter_map(|id| Some((id.to_owned(), deployment.context.refs.get(id)?.clone())))
        .collect();
        Self {
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
            firehose: aws_sdk_firehose::Client::new(config),
            events: aws_sdk_eventbridge::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            region: deployment.placement.region.clone(),
            role_names,
        }
    }

    pub(crate) fn role_name(&self, id: &str) -> String {
        self.role_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }
}

/// A call that failed, naming the resource and the operation.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// An SDK call failed.
    #[error("{resource}: {operation} failed: {message}")]
    Call {
        /// Logical id.
        resource: String,
        /// The API operation.
        operation: &'static str,
        /// The service's message.
        message: String,
    },
    /// The template could not be resolved.
    #[error(transparent)]
    Resolve(#[from] super::resolve::ResolveError),
}

/// What an apply did to one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It did not exist and was created.
    Created,
    /// These top-level properties were written.
    Updated(Vec<String>),
    /// Nothing differed.
    Unchanged,
    /// The emulator path does not create this type.
    Skipped(&'static str),
}

/// One resource's line in the apply report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Logical id.
    pub id: String,
    /// CloudFormation type.
    pub kind: String,
    /// What happened.
    pub outcome: Outcome,
}

/// The resolved properties the emulator path applies for one resource: the template's, with
/// the onboarding rule's target replaced by the harness queue.
pub(crate) fn desired_properties(deployment: &Deployment, id: &str, properties: Value) -> Value {
    if id != ids::RULE {
        return properties;
    }
    let queue = harness_queue_name(&deployment.names);
    let arn = format!(
        "arn:aws:sqs:{}:{}:{queue}",
        deployment.placement.region, deployment.placement.account_id
    );
    let mut properties = properties;
    properties["Targets"] = json!([{ "Id": "onboarding", "Arn": arn }]);
    properties
}

/// Creates the harness's queue (the rule's target on the emulator); idempotent.
async fn ensure_harness_queue(
    clients: &Clients,
    deployment: &Deployment,
) -> Result<(), ProvisionError> {
    clients
        .sqs
        .create_queue()
        .queue_name(harness_queue_name(&deployment.names))
        .send()
        .await
        .map_err(|e| ProvisionError::Call {
            resource: ids::RULE.to_owned(),
            operation: "CreateQueue",
            message: aws_sdk_sqs::error::DisplayErrorContext(&e).to_string(),
        })?;
    Ok(())
}

/// Strips bookkeeping keys (`_version`) that `read` adds for updates.
pub(crate) fn comparable(value: Option<Value>) -> Option<Value> {
    value.map(|mut v| {
        if let Some(map) = v.as_object_mut() {
            map.retain(|k, _| !k.starts_with('_'));
        }
        v
    })
}

/// Applies every resource of `deployment`.
pub async fn apply(
    clients: &Clients,
    deployment: &Deployment,
) -> Result<Vec<Applied>, ProvisionError> {
    let mut report = Vec::new();
    for (id, kind, properties) in deployment.resources()? {
        let outcome = if let Some(reason) = skip_reason(&kind) {
            Outcome::Skipped(reason)
        } else if !resources::supported(&kind) {
            Outcome::Skipped("no SDK adapter for this type yet")
        } else {
            if id == ids::RULE {
                ensure_harness_queue(clients, deployment).await?;
            }
            let desired = desired_properties(deployment, &id, properties);
            let actual = resources::read(clients, &id, &kind, &desired).await?;
            let existed = actual.is_some();
            let written = resources::write(clients, &id, &kind, &desired, actual.as_ref()).await?;
            match (existed, written.is_empty()) {
                (false, _) => Outcome::Created,
                (true, true) => Outcome::Unchanged,
                (true, false) => Outcome::Updated(written),
            }
        };
        tracing::info!(%id, %kind, ?outcome, "applied");
        report.push(Applied { id, kind, outcome });
    }
    Ok(report)
}
