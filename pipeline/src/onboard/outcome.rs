//! What the onboarding handler did for one instance: the decision and its reason, the
//! commands it sent with their ids and final statuses, and how long it took. Returned by
//! the handler, logged as JSON, and read by the harness.

use serde::Serialize;

use super::scripts::Platform;

/// What was decided for the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The agent is installed, configured and started.
    Onboarded,
    /// The instance is not to be onboarded (management tag, platform).
    Skipped,
    /// The event does not call for onboarding (a state other than running).
    Ignored,
    /// Onboarding was attempted and a step failed.
    Failed,
}

/// A step of onboarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// EC2 DescribeInstances.
    Lookup,
    /// Waiting for SSM registration.
    SsmRegistration,
    /// Reading and validating the agent configuration parameter.
    AgentConfig,
    /// `AWS-ConfigureAWSPackage`.
    InstallAgent,
    /// `AWS-RunShellScript` / `AWS-RunPowerShellScript`.
    ConfigureAgent,
}

/// One command sent, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandRecord {
    /// Which step sent it.
    pub step: Step,
    /// The SSM document.
    pub document: String,
    /// The command id SSM returned.
    pub command_id: String,
    /// The last status seen (`Success`, `Failed`, `InProgress`, …).
    pub status: String,
    /// The last status detail seen.
    pub status_details: String,
    /// The script's exit code, when known.
    pub response_code: Option<i32>,
}

/// The handler's result for one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnboardingOutcome {
    /// The instance.
    pub instance_id: String,
    /// The state the event announced.
    pub event_state: String,
    /// What was decided.
    pub decision: Decision,
    /// Why, in a sentence that names what was checked or what failed.
    pub reason: String,
    /// The step that failed, for [`Decision::Failed`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<Step>,
    /// Whether handling the same event again later may succeed (throttling, an instance
    /// EC2 did not know yet): the Lambda binary then fails the invocation so it is retried.
    pub retryable: bool,
    /// The platform the instance was handled as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The agent configuration parameter read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_config_parameter: Option<String>,
    /// The commands sent, in order.
    pub commands: Vec<CommandRecord>,
    /// Time spent, in milliseconds.
    pub duration_ms: u64,
}

impl OnboardingOutcome {
    /// The outcome as one JSON line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
