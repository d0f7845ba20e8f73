//! The simulated SSM agent, and the two parts of Systems Manager that LocalStack community does
//! not provide: instance registration (DescribeInstanceInformation is not implemented) and the
//! results of Run Command (LocalStack runs nothing and reports Success at once).
//!
//! Commands themselves go through LocalStack: the onboarding handler's SendCommand is the SDK
//! call. Which command ids reach which instance travels in-process ([`SimulatedSsm`]'s inbox,
//! standing in for the channel the real agent polls), because LocalStack lists every instance
//! of the region as a target of every command and ignores ListCommands' filters, so listing
//! grows with every command ever sent. The agent then reads each command (document and
//! parameters) from LocalStack with ListCommands by id, and carries out what the documents
//! mean: `AWS-ConfigureAWSPackage` installs the CloudWatch agent; the Run Shell or PowerShell
//! script's `fetch-config … -c ssm:<parameter> -s` reads the parameter, validates it with the
//! pipeline's agent-config model and starts the simulated CloudWatch agent. A bad
//! configuration fails the command with the agent's message, and that instance ships nothing.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pipeline::agent_config::AgentConfig;
use pipeline::onboard::scripts::{
    AGENT_PACKAGE, CONFIGURE_PACKAGE_DOCUMENT, LINUX_SCRIPT_DOCUMENT, WINDOWS_SCRIPT_DOCUMENT,
};
use pipeline::onboard::sdk::SsmPorts;
use pipeline::onboard::{
    CommandRequest, CommandRunner, InvocationStatus, ManagedInstance, ManagedInstances,
    ParameterStore, PortError,
};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::clock::SimClock;
use crate::scenario::Os;

/// How often an agent asks for new commands (real time).
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// What the simulated Systems Manager knows: registrations and command results.
#[derive(Debug, Clone)]
pub struct SimulatedSsm {
    state: Arc<Mutex<SsmState>>,
    clock: SimClock,
}

#[derive(Debug, Default)]
struct SsmState {
    registrations: HashMap<String, (Os, i64)>,
    results: HashMap<(String, String), InvocationStatus>,
    /// Command ids sent to each instance and not yet taken by its agent, oldest first.
    inbox: HashMap<String, VecDeque<String>>,
}

impl SimulatedSsm {
    /// An empty service on `clock`.
    pub fn new(clock: SimClock) -> Self {
        Self {
            state: Arc::default(),
            clock,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SsmState> {
        crate::locked(&self.state)
    }

    /// The instance's agent comes online at simulated time `online_at_ms`.
    pub fn register(&self, instance_id: &str, os: Os, online_at_ms: i64) {
        self.lock()
            .registrations
            .insert(instance_id.to_owned(), (os, online_at_ms));
    }

    /// The oldest command id sent to `instance_id` that its agent has not taken.
    fn next_command(&self, instance_id: &str) -> Option<String> {
        self.lock().inbox.get_mut(instance_id)?.pop_front()
    }

    /// Puts a command id back at the front, for the next poll.
    fn return_command(&self, instance_id: &str, command_id: &str) {
        self.lock()
            .inbox
            .entry(instance_id.to_owned())
            .or_default()
            .push_front(command_id.to_owned());
    }

    /// A command was sent to `instance_id`: it is pending there, and waits in the instance's
    /// inbox for its agent.
    pub fn command_sent(&self, command_id: &str, instance_id: &str) {
        self.record(command_id, instance_id, pending());
        self.lock()
            .inbox
            .entry(instance_id.to_owned())
            .or_default()
            .push_back(command_id.to_owned());
    }

    /// The command's state on the instance, as its agent reported it (`None` when the command
    /// was never sent there).
    pub fn invocation(&self, command_id: &str, instance_id: &str) -> Option<InvocationStatus> {
        self.lock()
            .results
            .get(&(command_id.to_owned(), instance_id.to_owned()))
            .cloned()
    }

    fn record(&self, command_id: &str, instance_id: &str, status: InvocationStatus) {
        self.lock()
            .results
            .insert((command_id.to_owned(), instance_id.to_owned()), status);
    }
}

impl ManagedInstances for SimulatedSsm {
    async fn describe_managed_instance(
        &self,
        instance_id: &str,
    ) -> Result<Option<ManagedInstance>, PortError> {
        let now = self.clock.now_ms();
        Ok(self
            .lock()
            .registrations
            .get(instance_id)
            .filter(|(_, online_at)| *online_at <= now)
            .map(|(os, _)| ManagedInstance {
                ping_status: "Online".to_owned(),
                platform_type: Some(match os {
                    Os::Linux => "Linux".to_owned(),
                    Os::Windows => "Windows".to_owned(),
                }),
                platform_name: Some(match os {
                    Os::Linux => "Amazon Linux".to_owned(),
                    Os::Windows => "Microsoft Windows Server 2022 Datacenter".to_owned(),
                }),
            }))
    }
}

/// The handler's command port in the harness: SendCommand on the emulator, results from the
/// simulated agents.
#[derive(Debug, Clone)]
pub struct HarnessCommands {
    ssm: SsmPorts,
    simulated: SimulatedSsm,
}

impl HarnessCommands {
    /// Sends through `ssm`; reads results from `simulated`.
    pub fn new(ssm: SsmPorts, simulated: SimulatedSsm) -> Self {
        Self { ssm, simulated }
    }
}

fn pending() -> InvocationStatus {
    InvocationStatus {
        status: "Pending".to_owned(),
        status_details: "Pending".to_owned(),
        response_code: -1,
        standard_error: String::new(),
    }
}

impl CommandRunner for HarnessCommands {
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
pub trait AgentStarter: Send + Sync {
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
}

/// One instance's SSM agent.
#[derive(Debug)]
pub struct SsmAgent {
    instance_id: String,
    os: Os,
    client: aws_sdk_ssm::Client,
    simulated: SimulatedSsm,
    installed: bool,
    log: Vec<CommandLog>,
}

impl SsmAgent {
    /// The agent of `instance_id`, reading commands and parameters through `client`.
    pub fn new(
        instance_id: &str,
        os: Os,
        client: aws_sdk_ssm::Client,
        simulated: SimulatedSsm,
    ) -> Self {
        Self {
            instance_id: instance_id.to_owned(),
            os,
            client,
            simulated,
            installed: false,
            log: Vec::new(),
        }
    }

    /// Polls for commands until `stop` is cancelled; returns its instance id and what it did.
    pub async fn run(
        mut self,
        starter: Arc<dyn AgentStarter>,
        stop: CancellationToken,
    ) -> (String, Vec<CommandLog>) {
        let parameters = SsmPorts::new(self.client.clone());
        while !stop.is_cancelled() {
            if let Err(error) = self.poll(&parameters, starter.as_ref()).await {
                tracing::warn!(instance = %self.instance_id, %error, "ListCommands failed; polling again");
            }
            tokio::select! {
                () = stop.cancelled() => {}
                () = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
        (self.instance_id, self.log)
    }

    async fn poll(
        &mut self,
        parameters: &impl ParameterStore,
        starter: &dyn AgentStarter,
    ) -> Result<(), String> {
        while let Some(command_id) = self.simulated.next_command(&self.instance_id) {
            let listed = self
                .client
                .list_commands()
                .command_id(&command_id)
                .send()
                .await;
            let command = match listed {
                Ok(output) => output.commands.unwrap_or_default().into_iter().next(),
                Err(error) => {
                    // Not taken: try again at the next poll.
                    self.simulated
                        .return_command(&self.instance_id, &command_id);
                    return Err(aws_sdk_ssm::error::DisplayErrorContext(error).to_string());
                }
            };
            let Some(command) =
                command.filter(|c| c.instance_ids().iter().any(|id| id == &self.instance_id))
            else {
                self.simulated.record(
                    &command_id,
                    &self.instance_id,
                    finished(1, "the command does not target this instance"),
                );
                continue;
            };
            let document = command.document_name().unwrap_or_default().to_owned();
            let params: BTreeMap<String, Vec<String>> = command
                .parameters()
                .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            let status = self.execute(&document, &params, parameters, starter).await;
            self.log.push(CommandLog {
                command_id: command_id.clone(),
                document,
                status: status.status.clone(),
                standard_error: status.standard_error.clone(),
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
        parameters: &impl ParameterStore,
        starter: &dyn AgentStarter,
    ) -> InvocationStatus {
        let first = |name: &str| params.get(name).and_then(|v| v.first()).map(String::as_str);
        match document {
            CONFIGURE_PACKAGE_DOCUMENT => {
                if first("action") == Some("Install") && first("name") == Some(AGENT_PACKAGE) {
                    self.installed = true;
                    finished(0, "")
                } else {
                    finished(
                        1,
                        &format!(
                            "package {:?} action {:?} is not simulated",
                            first("name"),
                            first("action")
                        ),
                    )
                }
            }
            LINUX_SCRIPT_DOCUMENT | WINDOWS_SCRIPT_DOCUMENT => {
                let expected = match self.os {
                    Os::Linux => LINUX_SCRIPT_DOCUMENT,
                    Os::Windows => WINDOWS_SCRIPT_DOCUMENT,
                };
                if document != expected {
                    return InvocationStatus {
                        status: "Failed".to_owned(),
                        status_details: "Failed".to_owned(),
                        response_code: -1,
                        standard_error: format!("{document} does not run on this platform"),
                    };
                }
                let script = params.get("commands").cloned().unwrap_or_default();
                match fetch_config_parameter(&script) {
                    None => finished(0, ""),
                    Some(_) if !self.installed => finished(
                        127,
                        "amazon-cloudwatch-agent-ctl: not found (the CloudWatch agent is not installed)",
                    ),
                    Some(name) => self.fetch_config(&name, parameters, starter).await,
                }
            }
            other => finished(1, &format!("document {other} is not simulated")),
        }
    }

    async fn fetch_config(
        &self,
        name: &str,
        parameters: &impl ParameterStore,
        starter: &dyn AgentStarter,
    ) -> InvocationStatus {
        let text = match parameters.get_parameter(name).await {
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
    use super::*;
    use pipeline::agent_config::defaults;
    use pipeline::onboard::Platform;
    use pipeline::onboard::memory::MemoryAccount;
    use pipeline::onboard::scripts::{
        configure_agent, install_agent, linux_script, windows_script,
    };

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

    fn agent(os: Os) -> SsmAgent {
        let config = aws_sdk_ssm::Config::builder()
            .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
            .region(aws_sdk_ssm::config::Region::new("us-east-1"))
            .build();
        let clock = SimClock::new(0, 1, 1);
        SsmAgent::new(
            "i-1",
            os,
            aws_sdk_ssm::Client::from_conf(config),
            SimulatedSsm::new(clock),
        )
    }

    async fn run(
        agent: &mut SsmAgent,
        request: &CommandRequest,
        parameters: &MemoryAccount,
        starter: &Recorder,
    ) -> InvocationStatus {
        agent
            .execute(&request.document, &request.parameters, parameters, starter)
            .await
    }

    #[tokio::test]
    async fn install_then_fetch_config_starts_the_agent_with_the_parameter() {
        let parameters = MemoryAccount::new();
        let config = defaults::linux("Example");
        parameters.put_parameter("linux-config", &config.to_json_pretty());
        let starter = Recorder::default();
        let mut agent = agent(Os::Linux);
        let configure = configure_agent(Platform::Linux, "i-1", "linux-config", 60);

        let before = run(&mut agent, &configure, &parameters, &starter).await;
        assert_eq!(
            (before.status.as_str(), before.response_code),
            ("Failed", 127)
        );
        assert!(before.standard_error.contains("not installed"));

        let installed = run(&mut agent, &install_agent("i-1", 60), &parameters, &starter).await;
        assert_eq!(installed.status, "Success");
        let started = run(&mut agent, &configure, &parameters, &starter).await;
        assert_eq!(started.status, "Success");
        let calls = starter.0.lock().unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0], ("i-1".to_owned(), config));
    }

    #[tokio::test]
    async fn a_bad_or_missing_configuration_fails_the_command_and_starts_nothing() {
        let parameters = MemoryAccount::new();
        parameters.put_parameter(
            "broken",
            r#"{"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": ""}]}}}}"#,
        );
        let starter = Recorder::default();
        let mut agent = agent(Os::Linux);
        run(&mut agent, &install_agent("i-1", 60), &parameters, &starter).await;

        let broken = run(
            &mut agent,
            &configure_agent(Platform::Linux, "i-1", "broken", 60),
            &parameters,
            &starter,
        )
        .await;
        assert_eq!(
            (broken.status.as_str(), broken.response_code),
            ("Failed", 1)
        );
        assert!(
            broken
                .standard_error
                .starts_with("Configuration validation first phase failed"),
            "{}",
            broken.standard_error
        );
        assert!(
            broken.standard_error.contains("file_path"),
            "{}",
            broken.standard_error
        );

        let missing = run(
            &mut agent,
            &configure_agent(Platform::Linux, "i-1", "absent", 60),
            &parameters,
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
    async fn a_script_for_the_other_platform_does_not_run() {
        let parameters = MemoryAccount::new();
        let starter = Recorder::default();
        let mut agent = agent(Os::Windows);
        let status = run(
            &mut agent,
            &configure_agent(Platform::Linux, "i-1", "x", 60),
            &parameters,
            &starter,
        )
        .await;
        assert_eq!(status.status, "Failed");
        assert!(
            status
                .standard_error
                .contains("does not run on this platform")
        );
    }

    #[test]
    fn the_parameter_comes_out_of_both_platform_scripts() {
        let name = "AmazonCloudWatch-coslinuxloggingconfiguration";
        assert_eq!(
            fetch_config_parameter(&linux_script(name)).as_deref(),
            Some(name)
        );
        assert_eq!(
            fetch_config_parameter(&windows_script(name)).as_deref(),
            Some(name)
        );
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
