//! What the onboarding handler did for one instance: the decision and its reason, the
//! commands it sent with their ids and final statuses, and how long it took. Returned by
//! the handler, logged as JSON, and read by the harness.

use serde::{Deserialize, Serialize};

use super::scripts::Platform;

/// What was decided for the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The stack's Linux or Windows document.
    ConfigureAgent,
}

/// One command sent, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<Step>,
    /// Whether handling the same event again later may succeed (throttling, an instance
    /// EC2 did not know yet): the Lambda binary then fails the invocation so it is retried.
    pub retryable: bool,
    /// The platform the instance was handled as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The agent configuration parameter read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_config_parameter: Option<String>,
    /// The commands sent, in order.
    pub commands: Vec<CommandRecord>,
    /// Time spent, in milliseconds.
    pub duration_ms: u64,
}

impl OnboardingOutcome {
    /// Whether the function fails the invocation for this outcome, so that Lambda's
    /// asynchronous retries try the event again (a failure marked retryable).
    pub fn fails_invocation(&self) -> bool {
        self.decision == Decision::Failed && self.retryable
    }

    /// The outcome as one JSON line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the deployed function returns is what the harness reads back: the JSON the
    /// Lambda binary answers with round-trips into the same outcome.
    #[test]
    fn outcomes_round_trip_through_the_functions_json() {
        let outcome = OnboardingOutcome {
            instance_id: "i-0123456789abcdef0".to_owned(),
            event_state: "running".to_owned(),
            decision: Decision::Failed,
            reason: "the agent refused its configuration".to_owned(),
            failed_step: Some(Step::ConfigureAgent),
            retryable: false,
            platform: Some(Platform::Linux),
            agent_config_parameter: Some("AmazonCloudWatch-linux".to_owned()),
            commands: vec![CommandRecord {
                step: Step::InstallAgent,
                document: "AWS-ConfigureAWSPackage".to_owned(),
                command_id: "c-1".to_owned(),
                status: "Success".to_owned(),
                status_details: "Success".to_owned(),
                response_code: Some(0),
            }],
            duration_ms: 1200,
        };
        let json = outcome.to_json();
        assert!(
            json.contains("\"failed_step\":\"configure-agent\""),
            "{json}"
        );
        let back: OnboardingOutcome = serde_json::from_str(&json).unwrap();
        assert_eq!(back, outcome);
        let skipped: OnboardingOutcome = serde_json::from_str(
            r#"{"instance_id":"i-1","event_state":"running","decision":"skipped","reason":"untagged","retryable":false,"commands":[],"duration_ms":0}"#,
        )
        .unwrap();
        assert_eq!(skipped.failed_step, None);
    }
}
