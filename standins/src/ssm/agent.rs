//! One instance's SSM agent: it takes the commands sent to its instance, reads each one with
//! ListCommands by id through the [`AgentSsm`] port, and carries out what the documents say:
//! `AWS-ConfigureAWSPackage` installs the CloudWatch agent; the account's own documents run
//! step by step ([`super::document`]), and a script step's `fetch-config … -c ssm:<parameter>
//! -s` reads the parameter, validates it with the pipeline's agent-config model and starts the
//! simulated CloudWatch agent ([`AgentStarter`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use pipeline::agent_config::AgentConfig;
use pipeline::onboard::memory::MemoryAccount;
use pipeline::onboard::scripts::{AGENT_PACKAGE, CONFIGURE_PACKAGE_DOCUMENT};
use pipeline::onboard::sdk::SsmPorts;
use pipeline::onboard::{InvocationStatus, ParameterStore, PortError};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::document::{self, StepAction};
use super::{RETRY_INTERVAL, SimulatedSsm};
use crate::instance::Os;

/// A command as ListCommands returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCommand {
    /// The document's name.
    pub document: String,
    /// Its parameters.
    pub parameters: BTreeMap<String, Vec<String>>,
    /// The instances it targets.
    pub instance_ids: Vec<String>,
}

/// What an SSM agent reads: commands by id (ListCommands) and parameters (GetParameter).
pub trait AgentSsm: ParameterStore {
    /// The command with `command_id`, if SSM knows it.
    fn command(
        &self,
        command_id: &str,
    ) -> impl Future<Output = Result<Option<SentCommand>, PortError>> + Send;
}

/// The agent's SSM through aws-sdk-ssm (LocalStack or AWS).
#[derive(Debug, Clone)]
pub struct SdkAgentSsm {
    client: aws_sdk_ssm::Client,
    parameters: SsmPorts,
}

impl SdkAgentSsm {
    /// Reads through `client`.
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        Self {
            parameters: SsmPorts::new(client.clone()),
            client,
        }
    }
}

impl ParameterStore for SdkAgentSsm {
    fn get_parameter(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, PortError>> + Send {
        self.parameters.get_parameter(name)
    }
}

impl AgentSsm for SdkAgentSsm {
    async fn command(&self, command_id: &str) -> Result<Option<SentCommand>, PortError> {
        let output = self
            .client
            .list_commands()
            .command_id(command_id)
            .send()
            .await
            .map_err(|error| PortError {
                operation: "ListCommands",
                code: aws_sdk_ssm::error::ProvideErrorMetadata::code(&error)
                    .unwrap_or("transport")
                    .to_owned(),
                message: aws_sdk_ssm::error::DisplayErrorContext(&error).to_string(),
                retryable: true,
            })?;
        Ok(output
            .commands
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(|command| SentCommand {
                document: command.document_name().unwrap_or_default().to_owned(),
                parameters: command
                    .parameters()
                    .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
                instance_ids: command.instance_ids().to_vec(),
            }))
    }
}

/// The memory world's SSM: the commands the account was sent.
impl AgentSsm for MemoryAccount {
    async fn command(&self, command_id: &str) -> Result<Option<SentCommand>, PortError> {
        Ok(self.sent_command(command_id).map(|request| SentCommand {
            document: request.document,
            parameters: request.parameters,
            instance_ids: vec![request.instance_id],
        }))
    }
}

/// Why a CloudWatch agent did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentStartError {
    /// The instance is not one the harness launched.
    #[error("{0} is not an instance of this run")]
    UnknownInstance(String),
    /// The agent refused the configuration; what it prints.
    #[error("{0}")]
    Config(String),
}

/// Starts the CloudWatch agent on an instance with a configuration (the harness wires it to
/// the simulated CloudWatch agent).
pub trait AgentStarter: Send + Sync + 'static {
    /// Starts (or restarts) the agent.
    fn start(&self, instance_id: &str, config: AgentConfig) -> Result<(), AgentStartError>;
}

/// What one agent did with one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandLog {
    /// The command id.
    pub command_id: String,
    /// The document.
    pub document: String,
    /// `Success` or `Failed`.
    pub status: String,
    /// What the command printed to standard error.
    pub standard_error: String,
    /// When it finished, simulated epoch milliseconds.
    pub finished_ms: i64,
}

/// One instance's SSM agent, reading through `P`.
#[derive(Debug)]
pub struct SsmAgent<P> {
    instance_id: String,
    os: Os,
    ssm: P,
    simulated: SimulatedSsm,
    installed: bool,
    log: Vec<CommandLog>,
}

impl<P: AgentSsm> SsmAgent<P> {
    /// The agent of `instance_id`, reading commands and parameters through `ssm`.
    pub fn new(instance_id: &str, os: Os, ssm: P, simulated: SimulatedSsm) -> Self {
        Self {
            instance_id: instance_id.to_owned(),
            os,
            ssm,
            simulated,
            installed: false,
            log: Vec::new(),
        }
    }

    /// Carries out the commands sent to its instance as they come, until `stop` is cancelled;
    /// returns its instance id and what it did.
    pub async fn run(
        mut self,
        starter: Arc<dyn AgentStarter>,
        stop: CancellationToken,
    ) -> (String, Vec<CommandLog>) {
        let doorbell = self.simulated.doorbell(&self.instance_id);
        while !stop.is_cancelled() {
            let failed = match self.take_commands(starter.as_ref()).await {
                Ok(()) => false,
                Err(error) => {
                    tracing::warn!(instance = %self.instance_id, %error, "ListCommands failed; reading the command again");
                    true
                }
            };
            tokio::select! {
                () = stop.cancelled() => {}
                () = doorbell.notified() => {}
                () = tokio::time::sleep(RETRY_INTERVAL), if failed => {}
            }
        }
        (self.instance_id, self.log)
    }

    async fn take_commands(&mut self, starter: &dyn AgentStarter) -> Result<(), PortError> {
        while let Some(command_id) = self.simulated.next_command(&self.instance_id) {
            let command = match self.ssm.command(&command_id).await {
                Ok(command) => command,
                Err(error) => {
                    // Not taken: read again after a pause.
                    self.simulated
                        .return_command(&self.instance_id, &command_id);
                    return Err(error);
                }
            };
            let Some(command) =
                command.filter(|c| c.instance_ids.iter().any(|id| id == &self.instance_id))
            else {
                self.simulated.record(
                    &command_id,
                    &self.instance_id,
                    finished(1, "the command does not target this instance"),
                );
                continue;
            };
            let SentCommand {
                document,
                parameters: params,
                ..
            } = command;
            let status = self.execute(&document, &params, starter).await;
            self.log.push(CommandLog {
                command_id: command_id.clone(),
                document,
                status: status.status.clone(),
                standard_error: status.standard_error.clone(),
                finished_ms: self.simulated.now_ms(),
            });
            self.simulated
                .record(&command_id, &self.instance_id, status);
        }
        Ok(())
    }

    /// Carries out one document.
    async fn execute(
        &mut self,
        document: &str,
        params: &BTreeMap<String, Vec<String>>,
        starter: &dyn AgentStarter,
    ) -> InvocationStatus {
        if document == CONFIGURE_PACKAGE_DOCUMENT {
            let first = |name: &str| params.get(name).and_then(|v| v.first()).map(String::as_str);
            return self.configure_package(
                first("name").unwrap_or_default(),
                first("action").unwrap_or_default(),
            );
        }
        let Some(content) = self.simulated.document(document) else {
            return finished(
                1,
                &format!(
                    "InvalidDocument: document {document} does not exist in the account (AWS refuses such a SendCommand; the emulator accepted it)"
                ),
            );
        };
        let plan = match document::plan(&content, params, self.os) {
            Ok(plan) => plan,
            Err(error) => return finished(1, &error.to_string()),
        };
        // Where every step is skipped for the platform, the command has done nothing; AWS's
        // documents do not say which final status it then shows, so the agent reports
        // Success, as it does for each skipped step, and names the skipped steps.
        let mut status = finished(0, "");
        for step in plan.run {
            status = match step.action {
                StepAction::ConfigurePackage { name, action } => {
                    self.configure_package(&name, &action)
                }
                StepAction::Script(lines) => match fetch_config_parameter(&lines) {
                    None => finished(0, ""),
                    Some(_) if !self.installed => finished(
                        127,
                        "amazon-cloudwatch-agent-ctl: not found (the CloudWatch agent is not installed)",
                    ),
                    Some(name) => self.fetch_config(&name, starter).await,
                },
            };
            if status.status != "Success" {
                status.standard_error = format!("step {}: {}", step.name, status.standard_error);
                return status;
            }
        }
        if !plan.skipped.is_empty() && status.standard_error.is_empty() {
            status.standard_error = format!(
                "steps skipped on this platform: {}",
                plan.skipped.join(", ")
            );
        }
        status
    }

    /// `aws:configurePackage` (or `AWS-ConfigureAWSPackage`, which is that one step).
    fn configure_package(&mut self, name: &str, action: &str) -> InvocationStatus {
        if action == "Install" && name == AGENT_PACKAGE {
            self.installed = true;
            finished(0, "")
        } else {
            finished(
                1,
                &format!("package {name:?} action {action:?} is not simulated"),
            )
        }
    }

    async fn fetch_config(&self, name: &str, starter: &dyn AgentStarter) -> InvocationStatus {
        let text = match self.ssm.get_parameter(name).await {
            Ok(Some(text)) => text,
            Ok(None) => {
                return finished(
                    1,
                    &format!(
                        "E! Fail to fetch the config from SSM parameter [{name}]: ParameterNotFound"
                    ),
                );
            }
            Err(error) => return finished(1, &format!("E! Fail to fetch the config: {error}")),
        };
        let config = match AgentConfig::parse(&text) {
            Ok(config) => config,
            Err(error) => {
                return finished(
                    1,
                    &format!(
                        "Configuration validation first phase failed. Agent version: 1.0. Verify the JSON input is only using features supported by this version.\n{error}"
                    ),
                );
            }
        };
        match starter.start(&self.instance_id, config) {
            Ok(()) => finished(0, ""),
            Err(error) => finished(1, &format!("E! agent refused the configuration: {error}")),
        }
    }
}

fn finished(code: i32, standard_error: &str) -> InvocationStatus {
    let status = if code == 0 { "Success" } else { "Failed" };
    InvocationStatus {
        status: status.to_owned(),
        status_details: status.to_owned(),
        response_code: code,
        standard_error: standard_error.to_owned(),
    }
}

/// The parameter a script's `fetch-config … -c ssm:<name>` line loads, with the script's own
/// variable assignments (`NAME='value'` in sh, `$name = 'value'` in PowerShell) substituted.
pub fn fetch_config_parameter(script: &[String]) -> Option<String> {
    let mut variables: Vec<(String, String)> = Vec::new();
    for line in script {
        let line = line.trim();
        let assignment = line
            .strip_prefix('$')
            .map_or(line, |rest| rest)
            .split_once('=');
        if let Some((name, value)) = assignment {
            let name = name.trim();
            let value = value.trim();
            if !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && value.len() >= 2
                && value.starts_with('\'')
                && value.ends_with('\'')
            {
                variables.push((name.to_owned(), value[1..value.len() - 1].to_owned()));
            }
        }
        if line.contains("fetch-config") {
            let after = line.split_once("-c ")?.1.trim_start();
            let token = match after.chars().next()? {
                quote @ ('"' | '\'') => after[1..].split(quote).next()?,
                _ => after.split_whitespace().next()?,
            };
            let mut value = token.to_owned();
            for (name, replacement) in variables.iter().rev() {
                value = value
                    .replace(&format!("${{{name}}}"), replacement)
                    .replace(&format!("${name}"), replacement);
            }
            return value.strip_prefix("ssm:").map(str::to_owned);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::clock::SimClock;
    use pipeline::agent_config::defaults;
    use pipeline::onboard::CommandRequest;
    use pipeline::onboard::Platform;
    use pipeline::onboard::documents::{DEFAULT_LINUX_DOCUMENT, DEFAULT_WINDOWS_DOCUMENT, content};
    use pipeline::onboard::scripts::{configure_agent, install_agent};

    /// Records the configurations it is asked to start.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, AgentConfig)>>);

    impl AgentStarter for Recorder {
        fn start(&self, instance_id: &str, config: AgentConfig) -> Result<(), AgentStartError> {
            self.0
                .lock()
                .unwrap()
                .push((instance_id.to_owned(), config));
            Ok(())
        }
    }

    /// An agent on an instance of `os`, in an account with the stack's documents for the
    /// parameters `linux-config` and `windows-config`.
    fn agent(os: Os, parameters: &MemoryAccount) -> SsmAgent<MemoryAccount> {
        let simulated = SimulatedSsm::new(SimClock::new(0, 1, 1));
        simulated.add_document(
            DEFAULT_LINUX_DOCUMENT,
            content(Platform::Linux, "linux-config"),
        );
        simulated.add_document(
            DEFAULT_WINDOWS_DOCUMENT,
            content(Platform::Windows, "windows-config"),
        );
        SsmAgent::new("i-1", os, parameters.clone(), simulated)
    }

    fn configure(document: &str, parameter: &str) -> CommandRequest {
        configure_agent("i-1", document, parameter, 60)
    }

    async fn run(
        agent: &mut SsmAgent<MemoryAccount>,
        request: &CommandRequest,
        starter: &Recorder,
    ) -> InvocationStatus {
        agent
            .execute(&request.document, &request.parameters, starter)
            .await
    }

    #[tokio::test]
    async fn install_then_fetch_config_starts_the_agent_with_the_parameter() {
        let parameters = MemoryAccount::new();
        let config = defaults::linux("Example");
        parameters.put_parameter("linux-config", &config.to_json_pretty());
        let starter = Recorder::default();
        let mut agent = agent(Os::Linux, &parameters);
        let configure = configure(DEFAULT_LINUX_DOCUMENT, "linux-config");

        let before = run(&mut agent, &configure, &starter).await;
        assert_eq!(
            (before.status.as_str(), before.response_code),
            ("Failed", 127)
        );
        assert!(
            before
                .standard_error
                .starts_with("step fetchConfigAndStart: amazon-cloudwatch-agent-ctl: not found"),
            "{}",
            before.standard_error
        );

        let installed = run(&mut agent, &install_agent("i-1", 60), &starter).await;
        assert_eq!(installed.status, "Success");
        let started = run(&mut agent, &configure, &starter).await;
        assert_eq!(started.status, "Success");
        let calls = starter.0.lock().unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0], ("i-1".to_owned(), config));
    }

    #[tokio::test]
    async fn a_bad_or_missing_configuration_fails_the_command_and_starts_nothing() {
        let parameters = MemoryAccount::new();
        parameters.put_parameter(
            "linux-config",
            r#"{"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": ""}]}}}}"#,
        );
        let starter = Recorder::default();
        let mut agent = agent(Os::Linux, &parameters);
        run(&mut agent, &install_agent("i-1", 60), &starter).await;

        let broken = run(
            &mut agent,
            &configure(DEFAULT_LINUX_DOCUMENT, "linux-config"),
            &starter,
        )
        .await;
        assert_eq!(
            (broken.status.as_str(), broken.response_code),
            ("Failed", 1)
        );
        assert!(
            broken.standard_error.starts_with(
                "step fetchConfigAndStart: Configuration validation first phase failed"
            ),
            "{}",
            broken.standard_error
        );
        assert!(
            broken.standard_error.contains("file_path"),
            "{}",
            broken.standard_error
        );

        let mut fresh = self::agent(Os::Linux, &MemoryAccount::new());
        run(&mut fresh, &install_agent("i-1", 60), &starter).await;
        let missing = run(
            &mut fresh,
            &configure(DEFAULT_LINUX_DOCUMENT, "linux-config"),
            &starter,
        )
        .await;
        assert!(
            missing.standard_error.contains("ParameterNotFound"),
            "{}",
            missing.standard_error
        );
        assert!(starter.0.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_stacks_document_loads_no_parameter_but_its_own_and_no_other_document_runs() {
        let parameters = MemoryAccount::new();
        parameters.put_parameter("other", &defaults::linux("Example").to_json_pretty());
        let starter = Recorder::default();
        let mut agent = agent(Os::Linux, &parameters);
        run(&mut agent, &install_agent("i-1", 60), &starter).await;

        let other = run(
            &mut agent,
            &configure(DEFAULT_LINUX_DOCUMENT, "other"),
            &starter,
        )
        .await;
        assert_eq!(other.status, "Failed");
        assert!(
            other.standard_error.starts_with(
                "InvalidParameters: AgentConfigParameter=\"other\" does not match the document's allowedPattern ^linux-config$"
            ),
            "{}",
            other.standard_error
        );
        let mut shell = configure("AWS-RunShellScript", "other");
        shell.parameters = BTreeMap::from([(
            "commands".to_owned(),
            vec!["ctl -a fetch-config -m ec2 -c ssm:other -s".to_owned()],
        )]);
        let refused = run(&mut agent, &shell, &starter).await;
        assert!(
            refused
                .standard_error
                .starts_with("InvalidDocument: document AWS-RunShellScript does not exist"),
            "{}",
            refused.standard_error
        );
        assert!(starter.0.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_other_platforms_document_skips_its_steps_and_starts_nothing() {
        let parameters = MemoryAccount::new();
        parameters.put_parameter("linux-config", &defaults::linux("Example").to_json_pretty());
        let starter = Recorder::default();
        let mut agent = agent(Os::Windows, &parameters);
        run(&mut agent, &install_agent("i-1", 60), &starter).await;
        let status = run(
            &mut agent,
            &configure(DEFAULT_LINUX_DOCUMENT, "linux-config"),
            &starter,
        )
        .await;
        assert_eq!(
            status.standard_error,
            "steps skipped on this platform: installCollectd, fetchConfigAndStart"
        );
        assert!(starter.0.lock().unwrap().is_empty());
    }

    #[test]
    fn the_parameter_comes_out_of_both_platform_scripts() {
        let name = "AmazonCloudWatch-coslinuxloggingconfiguration";
        for platform in [Platform::Linux, Platform::Windows] {
            let sent = BTreeMap::from([("AgentConfigParameter".to_owned(), vec![name.to_owned()])]);
            let os = match platform {
                Platform::Linux => Os::Linux,
                Platform::Windows => Os::Windows,
            };
            let plan = document::plan(&content(platform, name), &sent, os).unwrap();
            let StepAction::Script(lines) = &plan.run.last().unwrap().action else {
                panic!("a script step")
            };
            assert_eq!(fetch_config_parameter(lines).as_deref(), Some(name));
        }
        assert_eq!(
            fetch_config_parameter(&[
                "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -c ssm:plain -s".to_owned()
            ])
            .as_deref(),
            Some("plain")
        );
        assert_eq!(fetch_config_parameter(&["echo hello".to_owned()]), None);
        assert_eq!(
            fetch_config_parameter(&["ctl -a fetch-config -c file:/tmp/x.json".to_owned()]),
            None,
            "only Parameter Store configurations are simulated"
        );
    }
}
