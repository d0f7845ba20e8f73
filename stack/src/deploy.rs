//! Deployment through CloudFormation: package both functions as Lambda zips, upload them,
//! create or update the stack through a change set, wait, and report the outputs. A dry run
//! creates the change set, reports it, and deletes it.

use std::path::Path;
use std::time::Duration;

use crate::artifacts::{self, Architecture, Artifact, BuildError, FUNCTIONS, Manifest};
use crate::template::Template;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, Parameter, StackStatus,
};

/// How long a change set or a stack operation may take.
pub const WAIT_LIMIT: Duration = Duration::from_secs(1800);

/// Why a deployment failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The artifacts are missing, stale or malformed.
    #[error(transparent)]
    Artifacts(#[from] BuildError),
    /// An API call failed.
    #[error("{operation} failed: {message}")]
    Call {
        /// The operation.
        operation: &'static str,
        /// The service's message.
        message: String,
    },
    /// The change set could not be created.
    #[error("change set {name} failed: {reason}")]
    ChangeSet {
        /// Its name.
        name: String,
        /// CloudFormation's reason.
        reason: String,
    },
    /// The stack ended in a failed state.
    #[error("stack {stack} ended in {status}:\n{events}")]
    Stack {
        /// The stack.
        stack: String,
        /// Its final status.
        status: String,
        /// The failed resource events, one per line.
        events: String,
    },
    /// Waiting ran out.
    #[error("{what} did not finish within {seconds} s")]
    Timeout {
        /// What was waited for.
        what: String,
        /// The limit.
        seconds: u64,
    },
}

fn call<E: std::error::Error + 'static>(operation: &'static str) -> impl FnOnce(E) -> DeployError {
    move |e| DeployError::Call {
        operation,
        message: aws_sdk_cloudformation::error::DisplayErrorContext(&e).to_string(),
    }
}

/// The S3 key of a package: named by its content, so that an unchanged function is neither
/// uploaded again nor updated by the change set.
pub fn code_key(artifact: &Artifact) -> String {
    format!(
        "loglab/{}-{}-{}.zip",
        artifact.function,
        artifact.architecture,
        &artifact.sha256[..16.min(artifact.sha256.len())]
    )
}

/// Uploads both functions' packages for `architecture` from the artifacts in `dir` (see
/// [`crate::artifacts`]) to `bucket` (created if missing), skipping a key that is already
/// there; returns the template parameters that name them and the architecture.
pub async fn upload_functions(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    region: &str,
    dir: &Path,
    architecture: Architecture,
) -> Result<Vec<(String, String)>, DeployError> {
    let manifest = Manifest::load(dir)?;
    let mut packages = Vec::new();
    for function in FUNCTIONS {
        let artifact = manifest
            .artifact(function.binary, architecture)
            .ok_or_else(|| BuildError::NoArtifacts {
                dir: dir.display().to_string(),
                message: format!(
                    "the manifest has no {architecture} package of {}",
                    function.binary
                ),
            })?;
        packages.push((function, artifact, artifacts::verified_zip(dir, artifact)?));
    }
    if s3.head_bucket().bucket(bucket).send().await.is_err() {
        crate::resources::create_bucket(s3, bucket, region)
            .send()
            .await
            .map_err(call("CreateBucket (code bucket)"))?;
    }
    let mut parameters = vec![
        ("CodeBucket".to_owned(), bucket.to_owned()),
        (
            "FunctionArchitecture".to_owned(),
            architecture.lambda_name().to_owned(),
        ),
    ];
    for (function, artifact, zip) in packages {
        let key = code_key(artifact);
        let there = s3
            .head_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .is_ok();
        if there {
            tracing::info!(%bucket, %key, "{} unchanged; already uploaded", function.binary);
        } else {
            s3.put_object()
                .bucket(bucket)
                .key(&key)
                .checksum_sha256(base64_sha256(&artifact.sha256))
                .body(zip.into())
                .send()
                .await
                .map_err(call("PutObject (function package)"))?;
            tracing::info!(%bucket, %key, "uploaded {}", function.binary);
        }
        parameters.push((function.code_key_parameter.to_owned(), key));
    }
    Ok(parameters)
}

/// S3's `x-amz-checksum-sha256` for a hex SHA-256: the digest's bytes in base64. S3 refuses
/// an upload whose bytes do not match it, so a package cannot change between check and upload.
fn base64_sha256(hex: &str) -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One resource change of a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Add, Modify, Remove.
    pub action: String,
    /// Logical id.
    pub resource: String,
    /// Type.
    pub kind: String,
    /// True, False or Conditional (Modify only).
    pub replacement: String,
}

/// What a deploy did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeployReport {
    /// The change set's changes (empty when there were none).
    pub changes: Vec<Change>,
    /// Whether the change set was executed.
    pub executed: bool,
    /// The stack's outputs after the deploy.
    pub outputs: Vec<(String, String)>,
}

/// Creates (or updates) `stack_name` from `template` through a change set.
pub async fn deploy(
    cfn: &aws_sdk_cloudformation::Client,
    stack_name: &str,
    template: &Template,
    parameters: &[(String, String)],
    dry_run: bool,
) -> Result<DeployReport, DeployError> {
    let existing = match cfn.describe_stacks().stack_name(stack_name).send().await {
        Ok(out) => out.stacks().first().and_then(|s| s.stack_status().cloned()),
        Err(_) => None,
    };
    let change_set_type = match existing {
        None | Some(StackStatus::ReviewInProgress) => ChangeSetType::Create,
        Some(_) => ChangeSetType::Update,
    };
    let name = format!(
        "loglab-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    );
    let parameters: Vec<Parameter> = parameters
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build()
        })
        .collect();
    cfn.create_change_set()
        .stack_name(stack_name)
        .change_set_name(&name)
        .change_set_type(change_set_type.clone())
        .template_body(template.to_json_pretty())
        .set_parameters(Some(parameters))
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .map_err(call("CreateChangeSet"))?;

    let described = wait_for_change_set(cfn, stack_name, &name).await?;
    let mut report = DeployReport::default();
    match described.status() {
        Some(ChangeSetStatus::CreateComplete) => {}
        _ => {
            let reason = described
                .status_reason()
                .unwrap_or("no reason given")
                .to_owned();
            let _ = cfn
                .delete_change_set()
                .stack_name(stack_name)
                .change_set_name(&name)
                .send()
                .await;
            if reason.contains("didn't contain changes") || reason.contains("No updates") {
                report.outputs = outputs(cfn, stack_name).await?;
                return Ok(report);
            }
            return Err(DeployError::ChangeSet { name, reason });
        }
    }
    report.changes = described
        .changes()
        .iter()
        .filter_map(|c| c.resource_change())
        .map(|r| Change {
            action: r
                .action()
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default(),
            resource: r.logical_resource_id().unwrap_or_default().to_owned(),
            kind: r.resource_type().unwrap_or_default().to_owned(),
            replacement: r
                .replacement()
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default(),
        })
        .collect();
    if dry_run {
        cfn.delete_change_set()
            .stack_name(stack_name)
            .change_set_name(&name)
            .send()
            .await
            .map_err(call("DeleteChangeSet"))?;
        if change_set_type == ChangeSetType::Create {
            // A CREATE change set leaves an empty stack in REVIEW_IN_PROGRESS behind.
            cfn.delete_stack()
                .stack_name(stack_name)
                .send()
                .await
                .map_err(call("DeleteStack"))?;
        }
        return Ok(report);
    }
    cfn.execute_change_set()
        .stack_name(stack_name)
        .change_set_name(&name)
        .send()
        .await
        .map_err(call("ExecuteChangeSet"))?;
    wait_for_stack(cfn, stack_name).await?;
    report.executed = true;
    report.outputs = outputs(cfn, stack_name).await?;
    Ok(report)
}

async fn wait_for_change_set(
    cfn: &aws_sdk_cloudformation::Client,
    stack_name: &str,
    name: &str,
) -> Result<
    aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput,
    DeployError,
> {
    poll(
        format!("change set {name}"),
        Duration::from_secs(1),
        async || {
            let out = cfn
                .describe_change_set()
                .stack_name(stack_name)
                .change_set_name(name)
                .send()
                .await
                .map_err(call("DescribeChangeSet"))?;
            let done = matches!(
                out.status(),
                Some(ChangeSetStatus::CreateComplete | ChangeSetStatus::Failed)
            );
            Ok(done.then_some(out))
        },
    )
    .await
}

/// Calls `check` every `interval` until it answers `Some`, or fails with a timeout after
/// [`WAIT_LIMIT`].
async fn poll<T>(
    what: String,
    interval: Duration,
    mut check: impl AsyncFnMut() -> Result<Option<T>, DeployError>,
) -> Result<T, DeployError> {
    let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
    loop {
        if let Some(done) = check().await? {
            return Ok(done);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(DeployError::Timeout {
                what,
                seconds: WAIT_LIMIT.as_secs(),
            });
        }
        tokio::time::sleep(interval).await;
    }
}

async fn wait_for_stack(
    cfn: &aws_sdk_cloudformation::Client,
    stack_name: &str,
) -> Result<(), DeployError> {
    poll(
        format!("stack {stack_name}"),
        Duration::from_secs(2),
        async || {
            let out = cfn
                .describe_stacks()
                .stack_name(stack_name)
                .send()
                .await
                .map_err(call("DescribeStacks"))?;
            let status = out
                .stacks()
                .first()
                .and_then(|s| s.stack_status())
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            if status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE" {
                return Ok(Some(()));
            }
            if !status.ends_with("_IN_PROGRESS") {
                let events = cfn
                    .describe_stack_events()
                    .stack_name(stack_name)
                    .send()
                    .await
                    .map_err(call("DescribeStackEvents"))?;
                let failed: Vec<String> = events
                    .stack_events()
                    .iter()
                    .filter(|e| {
                        e.resource_status()
                            .is_some_and(|s| s.as_str().ends_with("FAILED"))
                    })
                    .map(|e| {
                        format!(
                            "  {} {}: {}",
                            e.logical_resource_id().unwrap_or_default(),
                            e.resource_status().map(|s| s.as_str()).unwrap_or_default(),
                            e.resource_status_reason().unwrap_or_default()
                        )
                    })
                    .collect();
                return Err(DeployError::Stack {
                    stack: stack_name.to_owned(),
                    status,
                    events: failed.join("\n"),
                });
            }
            Ok(None)
        },
    )
    .await
}

async fn outputs(
    cfn: &aws_sdk_cloudformation::Client,
    stack_name: &str,
) -> Result<Vec<(String, String)>, DeployError> {
    let out = cfn
        .describe_stacks()
        .stack_name(stack_name)
        .send()
        .await
        .map_err(call("DescribeStacks"))?;
    Ok(out
        .stacks()
        .first()
        .map(|s| {
            s.outputs()
                .iter()
                .map(|o| {
                    (
                        o.output_key().unwrap_or_default().to_owned(),
                        o.output_value().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default())
}

/// `(logical id, physical id)` of the stack's resources of type `kind`.
pub async fn physical_ids(
    cfn: &aws_sdk_cloudformation::Client,
    stack_name: &str,
    kind: &str,
) -> Result<Vec<(String, String)>, DeployError> {
    let out = cfn
        .describe_stack_resources()
        .stack_name(stack_name)
        .send()
        .await
        .map_err(call("DescribeStackResources"))?;
    Ok(out
        .stack_resources()
        .iter()
        .filter(|r| r.resource_type() == Some(kind))
        .map(|r| {
            (
                r.logical_resource_id().unwrap_or_default().to_owned(),
                r.physical_resource_id().unwrap_or_default().to_owned(),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_keys_name_function_architecture_and_content() {
        let artifact = Artifact {
            function: "etl-lambda".into(),
            architecture: Architecture::Arm64,
            zip: "arm64/etl-lambda.zip".into(),
            zip_bytes: 1,
            bootstrap_bytes: 1,
            sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into(),
            glibc_needed: "2.34".into(),
        };
        assert_eq!(
            code_key(&artifact),
            "loglab/etl-lambda-arm64-ba7816bf8f01cfea.zip"
        );
    }

    #[test]
    fn the_upload_checksum_is_the_manifest_hash_in_base64() {
        // S3's x-amz-checksum-sha256 is the base64 of the digest's bytes.
        assert_eq!(
            base64_sha256("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
