//! The SDK clients the provisioner and the audit use, built once, and the error a call through
//! them gives, naming the resource and the operation.

use aws_config::SdkConfig;

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
    /// Glue's Data Catalog, where there is one to talk to: AWS's, or the harness's stand-in on
    /// the emulator path ([`Clients::with_glue_at`]); `None` where the emulator has none.
    pub glue: Option<aws_sdk_glue::Client>,
    /// Athena, where there is one to talk to: AWS's, or the harness's stand-in on the emulator
    /// path ([`Clients::with_athena_at`]); `None` where the emulator has none.
    pub athena: Option<aws_sdk_athena::Client>,
    /// The region the clients talk to.
    pub region: String,
    role_names: std::collections::BTreeMap<String, String>,
}

impl Clients {
    /// Clients for `config` in `region` (S3 with path-style addressing, as emulators need);
    /// IAM roles go by the physical names in `role_names` (logical id to name).
    pub fn with_role_names(
        config: &SdkConfig,
        region: &str,
        role_names: std::collections::BTreeMap<String, String>,
    ) -> Self {
        Self {
            s3: path_style_s3(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
            firehose: aws_sdk_firehose::Client::new(config),
            events: aws_sdk_eventbridge::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            glue: None,
            athena: None,
            region: region.to_owned(),
            role_names,
        }
    }

    /// The same clients, with Glue's Data Catalog at `endpoint` (the harness's stand-in), with
    /// `config`'s credentials and region.
    pub fn with_glue_at(mut self, config: &SdkConfig, endpoint: &str) -> Self {
        self.glue = Some(aws_sdk_glue::Client::from_conf(
            aws_sdk_glue::config::Builder::from(config)
                .endpoint_url(endpoint)
                .build(),
        ));
        self
    }

    /// The same clients, with Athena at `endpoint` (the harness's stand-in), with `config`'s
    /// credentials and region.
    pub fn with_athena_at(mut self, config: &SdkConfig, endpoint: &str) -> Self {
        self.athena = Some(aws_sdk_athena::Client::from_conf(
            aws_sdk_athena::config::Builder::from(config)
                .endpoint_url(endpoint)
                .build(),
        ));
        self
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
