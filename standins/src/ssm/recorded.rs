//! The two calls the harness's SSM answers in-process for the in-process onboarding handler,
//! DescribeInstanceInformation and GetCommandInvocation, recorded as the SDK calls the
//! deployed function makes for them ([`crate::iam`]): IAM authorizes both on `*`.

use pipeline::onboard::{
    CommandRequest, CommandRunner, InvocationStatus, ManagedInstance, ManagedInstances, PortError,
};

use crate::iam::CallRecorder;

/// `T`, with its in-process answers recorded by `recorder` (none: not recorded).
#[derive(Debug, Clone)]
pub struct Recorded<T> {
    inner: T,
    recorder: Option<CallRecorder>,
}

impl<T> Recorded<T> {
    /// `inner`, recorded by `recorder`.
    pub fn new(inner: T, recorder: Option<CallRecorder>) -> Self {
        Self { inner, recorder }
    }

    fn record(&self, action: &str) {
        if let Some(recorder) = &self.recorder {
            recorder.record_unscoped(action);
        }
    }
}

impl<T: ManagedInstances> ManagedInstances for Recorded<T> {
    async fn describe_managed_instance(
        &self,
        instance_id: &str,
    ) -> Result<Option<ManagedInstance>, PortError> {
        self.record("ssm:DescribeInstanceInformation");
        self.inner.describe_managed_instance(instance_id).await
    }
}

/// SendCommand is the inner runner's own SDK call (recorded by its client's interceptor).
impl<T: CommandRunner> CommandRunner for Recorded<T> {
    async fn send_command(&self, request: &CommandRequest) -> Result<String, PortError> {
        self.inner.send_command(request).await
    }

    async fn command_invocation(
        &self,
        command_id: &str,
        instance_id: &str,
    ) -> Result<Option<InvocationStatus>, PortError> {
        self.record("ssm:GetCommandInvocation");
        self.inner.command_invocation(command_id, instance_id).await
    }
}
