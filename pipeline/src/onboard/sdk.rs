//! The onboarding ports over aws-sdk-ec2 and aws-sdk-ssm. The same adapters serve LocalStack
//! and AWS; only the clients' endpoint differs.
//!
//! LocalStack community does not implement DescribeInstanceInformation; against it
//! [`SsmPorts::describe_managed_instance`] fails with a clear, non-retryable error, and the
//! harness supplies registrations from its simulated SSM agent instead.

use std::error::Error;
use std::future::Future;

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::InstanceInformationStringFilter;

use super::ports::{
    CommandRequest, CommandRunner, InstanceDescription, InstanceDirectory, InvocationStatus,
    ManagedInstance, ManagedInstances, ParameterStore, PortError,
};

/// Service error codes after which a later call may succeed.
const RETRYABLE_CODES: [&str; 7] = [
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyUpdates",
    "InternalError",
    "InternalServerError",
    "ServiceUnavailable",
];

/// Longest standard error kept from a command (the outcome quotes its first line).
const MAX_STDERR_CHARS: usize = 2000;

/// EC2's DescribeInstances as an [`InstanceDirectory`].
#[derive(Debug, Clone)]
pub struct Ec2Directory {
    client: aws_sdk_ec2::Client,
}

impl Ec2Directory {
    /// Wraps a client built once per process.
    pub fn new(client: aws_sdk_ec2::Client) -> Self {
        Self { client }
    }
}

/// Systems Manager as [`ManagedInstances`], [`CommandRunner`] and [`ParameterStore`].
#[derive(Debug, Clone)]
pub struct SsmPorts {
    client: aws_sdk_ssm::Client,
}

impl SsmPorts {
    /// Wraps a client built once per process.
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        Self { client }
    }
}

fn port_error<E, R>(operation: &'static str, error: &SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + Error + 'static,
    R: std::fmt::Debug,
{
    match error {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("Unknown").to_owned();
            PortError {
                operation,
                retryable: RETRYABLE_CODES.contains(&code.as_str()),
                message: service.err().message().unwrap_or_default().to_owned(),
                code,
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            PortError {
                operation,
                code: "transport".to_owned(),
                message: aws_sdk_ec2::error::DisplayErrorContext(error).to_string(),
                retryable: true,
            }
        }
        _ => PortError {
            operation,
            code: "request".to_owned(),
            message: aws_sdk_ec2::error::DisplayErrorContext(error).to_string(),
            retryable: false,
        },
    }
}

fn service_code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

impl InstanceDirectory for Ec2Directory {
    fn describe_instance(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<InstanceDescription>, PortError>> + Send {
        let request = self.client.describe_instances().instance_ids(instance_id);
        async move {
            let output = match request.send().await {
                Ok(output) => output,
                Err(error) if service_code(&error) == Some("InvalidInstanceID.NotFound") => {
                    return Ok(None);
                }
                Err(error) => return Err(port_error("DescribeInstances", &error)),
            };
            let instance = output
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .next();
            Ok(instance.map(|instance| InstanceDescription {
                instance_id: instance.instance_id().unwrap_or_default().to_owned(),
                state: instance
                    .state()
                    .and_then(|s| s.name())
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_default(),
                platform: instance.platform().map(|p| p.as_str().to_owned()),
                platform_details: instance.platform_details().map(str::to_owned),
                tags: instance
                    .tags()
                    .iter()
                    .map(|t| {
                        (
                            t.key().unwrap_or_default().to_owned(),
                            t.value().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect(),
            }))
        }
    }
}

impl ManagedInstances for SsmPorts {
    fn describe_managed_instance(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<ManagedInstance>, PortError>> + Send {
        let filter = InstanceInformationStringFilter::builder()
            .key("InstanceIds")
            .values(instance_id)
            .build();
        let client = self.client.clone();
        async move {
            let filter = filter.map_err(|error| PortError {
                operation: "DescribeInstanceInformation",
                code: "request".to_owned(),
                message: error.to_string(),
                retryable: false,
            })?;
            let output = client
                .describe_instance_information()
                .filters(filter)
                .send()
                .await
                .map_err(|error| port_error("DescribeInstanceInformation", &error))?;
            Ok(output
                .instance_information_list()
                .first()
                .map(|info| ManagedInstance {
                    ping_status: info
                        .ping_status()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default(),
                    platform_type: info.platform_type().map(|p| p.as_str().to_owned()),
                    platform_name: info.platform_name().map(str::to_owned),
                }))
        }
    }
}

impl CommandRunner for SsmPorts {
    fn send_command(
        &self,
        request: &CommandRequest,
    ) -> impl Future<Output = Result<String, PortError>> + Send {
        let send = self
            .client
            .send_command()
            .instance_ids(&request.instance_id)
            .document_name(&request.document)
            .set_parameters(Some(request.parameters.clone().into_iter().collect()))
            .comment(&request.comment)
            .timeout_seconds(request.delivery_timeout_seconds);
        async move {
            let output = send
                .send()
                .await
                .map_err(|error| port_error("SendCommand", &error))?;
            output
                .command()
                .and_then(|c| c.command_id())
                .map(str::to_owned)
                .ok_or_else(|| PortError {
                    operation: "SendCommand",
                    code: "MissingCommandId".to_owned(),
                    message: "the response carries no command id".to_owned(),
                    retryable: false,
                })
        }
    }

    fn command_invocation(
        &self,
        command_id: &str,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<InvocationStatus>, PortError>> + Send {
        let request = self
            .client
            .get_command_invocation()
            .command_id(command_id)
            .instance_id(instance_id);
        async move {
            let output = match request.send().await {
                Ok(output) => output,
                // Right after SendCommand the invocation may not exist yet.
                Err(error) if service_code(&error) == Some("InvocationDoesNotExist") => {
                    return Ok(None);
                }
                Err(error) => return Err(port_error("GetCommandInvocation", &error)),
            };
            let mut standard_error = output
                .standard_error_content()
                .unwrap_or_default()
                .to_owned();
            if let Some((cut, _)) = standard_error.char_indices().nth(MAX_STDERR_CHARS) {
                standard_error.truncate(cut);
            }
            Ok(Some(InvocationStatus {
                status: output
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                status_details: output.status_details().unwrap_or_default().to_owned(),
                response_code: output.response_code(),
                standard_error,
            }))
        }
    }
}

impl ParameterStore for SsmPorts {
    fn get_parameter(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, PortError>> + Send {
        let request = self.client.get_parameter().name(name).with_decryption(true);
        async move {
            match request.send().await {
                Ok(output) => Ok(output
                    .parameter()
                    .and_then(|p| p.value())
                    .map(str::to_owned)),
                Err(error) if service_code(&error) == Some("ParameterNotFound") => Ok(None),
                Err(error) => Err(port_error("GetParameter", &error)),
            }
        }
    }
}
