//! The onboarding handler's ports: what it asks of EC2 and Systems Manager, as small
//! traits named for what they do, with plain data in and out.
//!
//! Adapters: [`super::sdk`] (aws-sdk-ec2 and aws-sdk-ssm; LocalStack and AWS differ only by
//! endpoint) and [`super::memory`] (in-process, scriptable, for tests and the harness).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

/// What EC2 DescribeInstances says about one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceDescription {
    /// `i-…`.
    pub instance_id: String,
    /// The current state name: `pending`, `running`, `terminated`, ….
    pub state: String,
    /// EC2's `Platform`: `windows` for Windows instances, absent for Linux.
    pub platform: Option<String>,
    /// EC2's `PlatformDetails`, such as `Linux/UNIX` or `Windows`.
    pub platform_details: Option<String>,
    /// The instance's tags, in the order EC2 returned them.
    pub tags: Vec<(String, String)>,
}

/// What SSM DescribeInstanceInformation says about one managed instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedInstance {
    /// `Online`, `ConnectionLost` or `Inactive`.
    pub ping_status: String,
    /// `Linux`, `Windows` or `MacOS`.
    pub platform_type: Option<String>,
    /// The operating system's name, such as `Amazon Linux`.
    pub platform_name: Option<String>,
}

/// One Run Command request for one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRequest {
    /// The target instance.
    pub instance_id: String,
    /// The SSM document, such as `AWS-ConfigureAWSPackage`.
    pub document: String,
    /// The document's parameters.
    pub parameters: BTreeMap<String, Vec<String>>,
    /// A comment shown in the console and returned by ListCommands (at most 100 characters).
    pub comment: String,
    /// How long SSM may wait to deliver the command before it gives up.
    pub delivery_timeout_seconds: i32,
}

/// The state of a command on one instance (GetCommandInvocation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationStatus {
    /// `Pending`, `InProgress`, `Delayed`, `Success`, `Cancelled`, `TimedOut`, `Failed`,
    /// `Cancelling`.
    pub status: String,
    /// A finer status, such as `Undeliverable` or `ExecutionTimedOut`.
    pub status_details: String,
    /// The script's exit code, when it ran (-1 otherwise).
    pub response_code: i32,
    /// The start of the script's standard error.
    pub standard_error: String,
}

impl InvocationStatus {
    /// Whether the command will not change state any more.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.status.as_str(),
            "Success" | "Cancelled" | "TimedOut" | "Failed"
        )
    }
}

/// A failed call to a port, after the SDK's own retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed ({code}): {message}")]
pub struct PortError {
    /// The AWS operation, such as `DescribeInstances`.
    pub operation: &'static str,
    /// The error code (`ThrottlingException`, `AccessDeniedException`, `dispatch`, …).
    pub code: String,
    /// What the service or the transport said.
    pub message: String,
    /// Whether trying again later may succeed.
    pub retryable: bool,
}

/// Looks instances up (EC2 DescribeInstances).
pub trait InstanceDirectory: Send + Sync {
    /// The instance, or `None` when EC2 does not know it (yet: EC2 is eventually consistent).
    fn describe_instance(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<InstanceDescription>, PortError>> + Send;
}

/// Tells whether an instance is managed by Systems Manager (DescribeInstanceInformation).
pub trait ManagedInstances: Send + Sync {
    /// The instance's SSM registration, or `None` when it has not registered.
    fn describe_managed_instance(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<ManagedInstance>, PortError>> + Send;
}

/// Runs SSM documents on instances (SendCommand, GetCommandInvocation).
pub trait CommandRunner: Send + Sync {
    /// Sends the command; returns its command id.
    fn send_command(
        &self,
        request: &CommandRequest,
    ) -> impl Future<Output = Result<String, PortError>> + Send;

    /// The command's state on the instance, or `None` when SSM does not show it yet.
    fn command_invocation(
        &self,
        command_id: &str,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<InvocationStatus>, PortError>> + Send;
}

/// Reads Parameter Store (GetParameter).
pub trait ParameterStore: Send + Sync {
    /// The parameter's value, or `None` when there is no such parameter.
    fn get_parameter(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
}

impl fmt::Display for CommandRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.document, self.instance_id)
    }
}
