//! The simulated SSM agent, and the two parts of Systems Manager that LocalStack community does
//! not provide: instance registration (DescribeInstanceInformation is not implemented) and the
//! results of Run Command (LocalStack runs nothing and reports Success at once).
//!
//! Commands themselves go through the world's SSM (LocalStack, or the memory account): the
//! onboarding handler's SendCommand is a real call there ([`commands::HarnessCommands`]). Which
//! command ids reach which instance travels in-process ([`SimulatedSsm`]'s inbox, standing in
//! for the channel the real agent polls), because LocalStack lists every instance of the region
//! as a target of every command and ignores ListCommands' filters, so listing grows with every
//! command ever sent. The agent ([`agent::SsmAgent`]) then reads each command (document and
//! parameters) with ListCommands by id, and carries out what the documents say:
//! `AWS-ConfigureAWSPackage` installs the CloudWatch agent; the stack's own documents (their
//! content as rendered, [`SimulatedSsm::add_document`]) run step by step, and a step's
//! `fetch-config … -c ssm:<parameter> -s` reads the parameter, validates it with the pipeline's
//! agent-config model and starts the simulated CloudWatch agent. A bad configuration fails the
//! command with the agent's message, and that instance ships nothing.
//! [`endpoint`] serves the same answers over SSM's JSON API to the deployed function.

pub mod agent;
pub mod commands;
pub mod document;
pub mod endpoint;
pub mod recorded;

pub use agent::{
    AgentSsm, AgentStartError, AgentStarter, CommandLog, SdkAgentSsm, SentCommand, SsmAgent,
};
pub use commands::HarnessCommands;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pipeline::onboard::{InvocationStatus, ManagedInstance, ManagedInstances, PortError};
use tokio::sync::Notify;

use crate::clock::SimClock;
use crate::instance::Os;

/// How long an agent waits before it reads a command again after ListCommands failed (real
/// time). A new command wakes its agent at once.
pub const RETRY_INTERVAL: Duration = Duration::from_millis(200);

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
    /// What wakes each instance's agent when a command arrives.
    doorbells: HashMap<String, Arc<Notify>>,
    /// The account's own Command documents by name: their content, as the stack renders it.
    documents: HashMap<String, serde_json::Value>,
}

impl SimulatedSsm {
    /// The simulated time, epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

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

    /// The account has the Command document `name` with `content` (the stack's, as rendered).
    pub fn add_document(&self, name: &str, content: serde_json::Value) {
        self.lock().documents.insert(name.to_owned(), content);
    }

    /// The content of the account's document `name`, if it has one.
    pub fn document(&self, name: &str) -> Option<serde_json::Value> {
        self.lock().documents.get(name).cloned()
    }

    /// What wakes the agent of `instance_id` when a command is sent to it.
    pub fn doorbell(&self, instance_id: &str) -> Arc<Notify> {
        self.lock()
            .doorbells
            .entry(instance_id.to_owned())
            .or_default()
            .clone()
    }

    /// The oldest command id sent to `instance_id` that its agent has not taken.
    pub(crate) fn next_command(&self, instance_id: &str) -> Option<String> {
        self.lock().inbox.get_mut(instance_id)?.pop_front()
    }

    /// Puts a command id back at the front, for the next poll.
    pub(crate) fn return_command(&self, instance_id: &str, command_id: &str) {
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
        let doorbell = {
            let mut state = self.lock();
            state
                .inbox
                .entry(instance_id.to_owned())
                .or_default()
                .push_back(command_id.to_owned());
            state
                .doorbells
                .entry(instance_id.to_owned())
                .or_default()
                .clone()
        };
        doorbell.notify_one();
    }

    /// The command's state on the instance, as its agent reported it (`None` when the command
    /// was never sent there).
    pub fn invocation(&self, command_id: &str, instance_id: &str) -> Option<InvocationStatus> {
        self.lock()
            .results
            .get(&(command_id.to_owned(), instance_id.to_owned()))
            .cloned()
    }

    pub(crate) fn record(&self, command_id: &str, instance_id: &str, status: InvocationStatus) {
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

fn pending() -> InvocationStatus {
    InvocationStatus {
        status: "Pending".to_owned(),
        status_details: "Pending".to_owned(),
        response_code: -1,
        standard_error: String::new(),
    }
}
