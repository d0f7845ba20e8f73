//! The onboarding handler's command port in the harness: SendCommand through the world's SSM
//! (LocalStack's, or the memory account's), the command's id handed to its instance's simulated
//! agent, and results read from what the agents report.

use pipeline::onboard::{CommandRequest, CommandRunner, InvocationStatus, PortError};

use super::SimulatedSsm;

/// SendCommand through `S`; results from the simulated agents.
#[derive(Debug, Clone)]
pub struct HarnessCommands<S> {
    ssm: S,
    simulated: SimulatedSsm,
}

impl<S: CommandRunner> HarnessCommands<S> {
    /// Sends through `ssm`; reads results from `simulated`.
    pub fn new(ssm: S, simulated: SimulatedSsm) -> Self {
        Self { ssm, simulated }
    }
}

impl<S: CommandRunner> CommandRunner for HarnessCommands<S> {
    async fn send_command(&self, request: &CommandRequest) -> Result<String, PortError> {
        let command_id = self.ssm.send_command(request).await?;
        self.simulated
            .command_sent(&command_id, &request.instance_id);
        Ok(command_id)
    }

    async fn command_invocation(
        &self,
        command_id: &str,
        instance_id: &str,
    ) -> Result<Option<InvocationStatus>, PortError> {
        Ok(self.simulated.invocation(command_id, instance_id))
    }
}
