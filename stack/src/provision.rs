//! Applies the resolved template to an emulator through the SDK, idempotently: each resource is
//! read first and only the top-level properties that differ are written, so a second apply
//! writes nothing. Resource types the emulator cannot hold are skipped with their reason (each
//! type says what it does on the emulator); the onboarding rule's target becomes an SQS queue
//! that the harness reads, standing in for the function.

use crate::template::ids;
use aws_config::SdkConfig;
use serde_json::Value;

use crate::Deployment;
use crate::resources::skip_reason;

/// The SDK clients the provisioner and the audit use, built once.
#[derive(Debug, Clone)]
pub struct Clients {
    /// S3, path-style.
    pub s3: aws_sdk_s3::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// IAM.
    pub iam: aws_sdk_iam::Client,
    /// Systems Manager.
    pub ssm: aws_sdk_ssm::Client,
    /// Firehose.
    pub firehose: aws_sdk_firehose::Client,
    /// EventBridge.
    pub events: aws_sdk_eventbridge::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// The region the clients talk to.
    pub region: String,
    role_names: std::collections::BTreeMap<String, String>,
}

impl Clients {
    /// Clients for `config` (S3 with path-style addressing, as emulators need).
    pub fn new(config: &SdkConfig, deployment: &Deployment) -> Self {
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
            s3: path_style_s3(config),
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

/// An S3 client with path-style addressing, as emulators need (they have no per-bucket host
/// names); AWS accepts it too.
pub fn path_style_s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
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
    Resolve(#[from] crate::resolve::ResolveError),
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
    for resource in deployment.resources()? {
        let outcome = match (resource.resource_type(), skip_reason(&resource.kind)) {
            (Some(kind), None) => {
                let desired = deployment.on_emulator_properties(&resource);
                let actual = kind.read(clients, &resource.id, &desired).await?;
                let existed = actual.is_some();
                let written = kind
                    .write(clients, &resource.id, &desired, actual.as_ref())
                    .await?;
                match (existed, written.is_empty()) {
                    (false, _) => Outcome::Created,
                    (true, true) => Outcome::Unchanged,
                    (true, false) => Outcome::Updated(written),
                }
            }
            (_, reason) => Outcome::Skipped(reason.unwrap_or_default()),
        };
        tracing::info!(id = %resource.id, kind = %resource.kind, ?outcome, "applied");
        report.push(Applied {
            id: resource.id,
            kind: resource.kind,
            outcome,
        });
    }
    Ok(report)
}
