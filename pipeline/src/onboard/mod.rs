//! The onboarding handler: an EC2 instance reached `running`; if it carries the management
//! tag and is managed by Systems Manager, install the CloudWatch agent and start it with the
//! pipeline's configuration from Parameter Store.
//!
//! Steps, each bounded in time ([`config::Waits`]):
//! 1. ignore every state but `running`;
//! 2. look the instance up (EC2 is eventually consistent: an unknown id is retried);
//! 3. check the management tag, exactly (near misses are named in the reason);
//! 4. wait until SSM reports the instance `Online`;
//! 5. read the platform's agent configuration and validate it with [`crate::agent_config`]
//!    before any command is sent, so a broken parameter fails here and not on the fleet;
//! 6. `AWS-ConfigureAWSPackage` (Install `AmazonCloudWatchAgent`), then the stack's own
//!    document for the platform ([`documents`]), waiting for each command's final status.
//!
//! The result is an [`OnboardingOutcome`], returned and logged. Every step is idempotent,
//! so a repeated event for the same instance does the same work again and ends the same way.

use std::time::Duration;

use tokio::time::Instant;

pub mod config;
pub mod documents;
pub mod event;
pub mod memory;
pub mod outcome;
pub mod ports;
pub mod scripts;
pub mod sdk;
pub mod tag;

#[cfg(test)]
mod tests;

pub use config::{OnboardConfig, Waits};
pub use event::{EventError, InstanceState, StateChange};
pub use outcome::{CommandRecord, Decision, OnboardingOutcome, Step};
pub use ports::{
    CommandRequest, CommandRunner, InstanceDescription, InstanceDirectory, InvocationStatus,
    ManagedInstance, ManagedInstances, ParameterStore, PortError,
};
pub use scripts::Platform;
pub use tag::{TagMatch, match_management_tag};

use crate::agent_config::AgentConfig;

/// The onboarding handler, generic over its four ports.
#[derive(Debug)]
pub struct OnboardingHandler<D, M, C, P> {
    directory: D,
    managed: M,
    commands: C,
    parameters: P,
    config: OnboardConfig,
}

/// A step that stopped onboarding.
struct Stop {
    decision: Decision,
    reason: String,
    step: Option<Step>,
    retryable: bool,
}

impl Stop {
    fn failed(step: Step, reason: String, retryable: bool) -> Self {
        Self {
            decision: Decision::Failed,
            reason,
            step: Some(step),
            retryable,
        }
    }

    fn port(step: Step, error: &PortError) -> Self {
        Self::failed(step, error.to_string(), error.retryable)
    }

    fn not_acting(decision: Decision, reason: String) -> Self {
        Self {
            decision,
            reason,
            step: None,
            retryable: false,
        }
    }
}

/// What the steps found so far, turned into the outcome at the end.
struct Progress {
    platform: Option<Platform>,
    parameter: Option<String>,
    commands: Vec<CommandRecord>,
}

impl<D, M, C, P> OnboardingHandler<D, M, C, P>
where
    D: InstanceDirectory,
    M: ManagedInstances,
    C: CommandRunner,
    P: ParameterStore,
{
    /// A handler over the given ports.
    pub fn new(
        directory: D,
        managed: M,
        commands: C,
        parameters: P,
        config: OnboardConfig,
    ) -> Self {
        Self {
            directory,
            managed,
            commands,
            parameters,
            config,
        }
    }

    /// The handler's settings.
    pub fn config(&self) -> &OnboardConfig {
        &self.config
    }

    /// Handles one EventBridge event: a malformed event is an error, anything else an outcome.
    pub async fn handle_event(
        &self,
        event: &serde_json::Value,
    ) -> Result<OnboardingOutcome, EventError> {
        let change = StateChange::from_json(event)?;
        Ok(self.onboard(&change).await)
    }

    /// Handles one state change and logs the outcome.
    pub async fn onboard(&self, change: &StateChange) -> OnboardingOutcome {
        let started = Instant::now();
        let mut progress = Progress {
            platform: None,
            parameter: None,
            commands: Vec::new(),
        };
        let stop = match self.steps(change, &mut progress).await {
            Ok(reason) => Stop::not_acting(Decision::Onboarded, reason),
            Err(stop) => stop,
        };
        let outcome = OnboardingOutcome {
            instance_id: change.instance_id.clone(),
            event_state: change.state.to_string(),
            decision: stop.decision,
            reason: stop.reason,
            failed_step: stop.step,
            retryable: stop.retryable,
            platform: progress.platform,
            agent_config_parameter: progress.parameter,
            commands: progress.commands,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        log_outcome(&outcome);
        outcome
    }

    async fn steps(&self, change: &StateChange, progress: &mut Progress) -> Result<String, Stop> {
        if change.state != InstanceState::Running {
            return Err(Stop::not_acting(
                Decision::Ignored,
                format!(
                    "state {} is not running; only running instances are onboarded",
                    change.state
                ),
            ));
        }
        let instance = self.look_up(&change.instance_id).await?;
        let current = InstanceState::parse(&instance.state);
        if matches!(
            current,
            InstanceState::ShuttingDown
                | InstanceState::Terminated
                | InstanceState::Stopping
                | InstanceState::Stopped
        ) {
            return Err(Stop::not_acting(
                Decision::Ignored,
                format!("the instance is {current} by now; nothing to onboard"),
            ));
        }
        let (key, value) = (&self.config.tag_key, &self.config.tag_value);
        let tag = match_management_tag(&instance.tags, key, value);
        if !tag.is_match() {
            return Err(Stop::not_acting(Decision::Skipped, tag.reason(key, value)));
        }
        let managed = self.wait_for_registration(&change.instance_id).await?;
        let platform = platform_of(&instance, &managed)?;
        progress.platform = Some(platform);
        let (parameter, document) = match platform {
            Platform::Linux => (&self.config.linux_parameter, &self.config.linux_document),
            Platform::Windows => (
                &self.config.windows_parameter,
                &self.config.windows_document,
            ),
        };
        progress.parameter = Some(parameter.clone());
        self.check_agent_config(parameter).await?;
        let delivery_timeout = delivery_timeout_seconds(self.config.waits.command_timeout);
        let install = scripts::install_agent(&change.instance_id, delivery_timeout);
        self.run(Step::InstallAgent, &install, progress).await?;
        let configure =
            scripts::configure_agent(&change.instance_id, document, parameter, delivery_timeout);
        self.run(Step::ConfigureAgent, &configure, progress).await?;
        Ok(format!(
            "{}; CloudWatch agent installed and started with {parameter}",
            tag.reason(key, value)
        ))
    }

    async fn look_up(&self, instance_id: &str) -> Result<InstanceDescription, Stop> {
        let waits = self.config.waits;
        let deadline = Instant::now() + waits.lookup_timeout;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let last_problem = match self.directory.describe_instance(instance_id).await {
                Ok(Some(instance)) => return Ok(instance),
                Ok(None) => "EC2 does not know it".to_owned(),
                Err(error) if error.retryable => error.to_string(),
                Err(error) => return Err(Stop::port(Step::Lookup, &error)),
            };
            if Instant::now() + waits.poll_interval > deadline {
                return Err(Stop::failed(
                    Step::Lookup,
                    format!(
                        "instance {instance_id} not found after {attempts} DescribeInstances calls in {} s: {last_problem}",
                        waits.lookup_timeout.as_secs()
                    ),
                    true,
                ));
            }
            tokio::time::sleep(waits.poll_interval).await;
        }
    }

    async fn wait_for_registration(&self, instance_id: &str) -> Result<ManagedInstance, Stop> {
        let waits = self.config.waits;
        let deadline = Instant::now() + waits.registration_timeout;
        let mut last_status = "never registered".to_owned();
        loop {
            match self.managed.describe_managed_instance(instance_id).await {
                Ok(Some(managed)) if managed.ping_status == "Online" => return Ok(managed),
                Ok(Some(managed)) => last_status = format!("ping status {}", managed.ping_status),
                Ok(None) => {}
                Err(error) if error.retryable => last_status = error.to_string(),
                Err(error) => return Err(Stop::port(Step::SsmRegistration, &error)),
            }
            if Instant::now() + waits.poll_interval > deadline {
                return Err(Stop::failed(
                    Step::SsmRegistration,
                    format!(
                        "instance {instance_id} is not managed by Systems Manager after {} s ({last_status}); check that the SSM agent runs and the instance profile allows it (AmazonSSMManagedInstanceCore)",
                        waits.registration_timeout.as_secs()
                    ),
                    // Retryable: an instance may register later (Lambda tries again after one
                    // and two minutes); a last failure goes to the dead-letter queue, never a
                    // silent success.
                    true,
                ));
            }
            tokio::time::sleep(waits.poll_interval).await;
        }
    }

    async fn check_agent_config(&self, parameter: &str) -> Result<(), Stop> {
        let text = self
            .parameters
            .get_parameter(parameter)
            .await
            .map_err(|error| Stop::port(Step::AgentConfig, &error))?
            .ok_or_else(|| {
                Stop::failed(
                    Step::AgentConfig,
                    format!("agent configuration parameter {parameter} does not exist in Parameter Store"),
                    false,
                )
            })?;
        AgentConfig::parse(&text).map_err(|error| {
            Stop::failed(
                Step::AgentConfig,
                format!("parameter {parameter} holds an invalid agent configuration: {error}"),
                false,
            )
        })?;
        Ok(())
    }

    async fn run(
        &self,
        step: Step,
        request: &CommandRequest,
        progress: &mut Progress,
    ) -> Result<(), Stop> {
        let command_id = self
            .commands
            .send_command(request)
            .await
            .map_err(|error| Stop::port(step, &error))?;
        let index = progress.commands.len();
        progress.commands.push(CommandRecord {
            step,
            document: request.document.clone(),
            command_id: command_id.clone(),
            status: "Pending".to_owned(),
            status_details: String::new(),
            response_code: None,
        });
        let waits = self.config.waits;
        let deadline = Instant::now() + waits.command_timeout;
        loop {
            match self
                .commands
                .command_invocation(&command_id, &request.instance_id)
                .await
            {
                Ok(Some(status)) => {
                    let record = &mut progress.commands[index];
                    record.status.clone_from(&status.status);
                    record.status_details.clone_from(&status.status_details);
                    record.response_code =
                        (status.response_code >= 0).then_some(status.response_code);
                    if status.is_terminal() {
                        return if status.status == "Success" {
                            Ok(())
                        } else {
                            Err(Stop::failed(
                                step,
                                command_failure(request, &command_id, &status),
                                false,
                            ))
                        };
                    }
                }
                Ok(None) => {}
                Err(error) if error.retryable => {}
                Err(error) => return Err(Stop::port(step, &error)),
            }
            if Instant::now() + waits.poll_interval > deadline {
                let status = &progress.commands[index].status;
                return Err(Stop::failed(
                    step,
                    format!(
                        "{} command {command_id} on {} is still {status} after {} s",
                        request.document,
                        request.instance_id,
                        waits.command_timeout.as_secs()
                    ),
                    false,
                ));
            }
            tokio::time::sleep(waits.poll_interval).await;
        }
    }
}

fn command_failure(
    request: &CommandRequest,
    command_id: &str,
    status: &InvocationStatus,
) -> String {
    let mut text = format!(
        "{} command {command_id} on {} ended {}",
        request.document, request.instance_id, status.status
    );
    if !status.status_details.is_empty() && status.status_details != status.status {
        text.push_str(&format!(" ({})", status.status_details));
    }
    if status.response_code >= 0 {
        text.push_str(&format!(", exit code {}", status.response_code));
    }
    if let Some(line) = status.standard_error.lines().find(|l| !l.trim().is_empty()) {
        text.push_str(&format!(": {}", line.trim()));
    }
    text
}

/// The platform, from SSM's platform type when the instance reported one, else from EC2.
fn platform_of(
    instance: &InstanceDescription,
    managed: &ManagedInstance,
) -> Result<Platform, Stop> {
    match managed.platform_type.as_deref() {
        Some("Windows") => Ok(Platform::Windows),
        Some("Linux") => Ok(Platform::Linux),
        Some(other) => Err(Stop::not_acting(
            Decision::Skipped,
            format!(
                "platform {other} is not supported; only Linux and Windows instances are onboarded"
            ),
        )),
        None if instance.platform.as_deref() == Some("windows") => Ok(Platform::Windows),
        None => Ok(Platform::Linux),
    }
}

/// SSM's delivery timeout for a command: the handler's own wait, at least 30 s (SSM's minimum).
fn delivery_timeout_seconds(wait: Duration) -> i32 {
    i32::try_from(wait.as_secs().max(30)).unwrap_or(i32::MAX)
}

fn log_outcome(outcome: &OnboardingOutcome) {
    let commands = serde_json::to_string(&outcome.commands).unwrap_or_default();
    let decision = serde_json::to_value(outcome.decision)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    match outcome.decision {
        Decision::Failed => tracing::warn!(
            instance_id = %outcome.instance_id,
            decision = %decision,
            reason = %outcome.reason,
            failed_step = ?outcome.failed_step,
            retryable = outcome.retryable,
            commands = %commands,
            duration_ms = outcome.duration_ms,
            "onboarding outcome"
        ),
        _ => tracing::info!(
            instance_id = %outcome.instance_id,
            decision = %decision,
            reason = %outcome.reason,
            commands = %commands,
            duration_ms = outcome.duration_ms,
            "onboarding outcome"
        ),
    }
}
