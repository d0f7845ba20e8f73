//! Applies the resolved template to an emulator through the SDK, idempotently: each resource is
//! read first and only the top-level properties that differ are written, so a second apply
//! writes nothing. Resource types the emulator cannot hold are skipped with their reason (each
//! type says what it does on the emulator); the onboarding rule's target becomes an SQS queue
//! that the harness reads, standing in for the function.

use serde_json::Value;

use crate::Deployment;
pub use crate::clients::{Clients, ProvisionError, path_style_s3};
use crate::resources::{Target, skip_reason_with};

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
        let outcome = match (
            resource.resource_type(),
            skip_reason_with(&resource.kind, clients),
        ) {
            (Some(kind), None) => {
                let desired = deployment.on_emulator_properties(&resource);
                let at = Target {
                    clients,
                    id: &resource.id,
                    desired: &desired,
                };
                let actual = kind.read(at).await?;
                let existed = actual.is_some();
                let written = kind.write(at, actual.as_ref()).await?;
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
