//! The MiniStack world: the second emulator through the real SDK, with the harness standing in
//! where MiniStack, unlike LocalStack, behaves as AWS does or leaves a gap (docs/fidelity.md,
//! "Emulators side by side"). Everything the [`EmulatorWorld`] does on LocalStack it does here
//! (the stack applied and audited, RunInstances, CloudWatch Logs, Parameter Store, SQS, the
//! bucket), except:
//!
//! - **EC2's state changes**: MiniStack refuses PutEvents from an `aws.` source, as AWS does,
//!   and emits none itself; the harness applies the stack's rule pattern to EC2's event
//!   ([`standins::eventbridge::rule`]) and sends what matches to the rule's queue on MiniStack.
//! - **the Windows platform**: MiniStack's instances of a Windows image have no `Platform`; the
//!   onboarding handler's EC2 port fills it in for the instances the harness launched from its
//!   Windows image, the one field it adds to what MiniStack describes.
//! - **Run Command**: MiniStack refuses SendCommand for an instance with no SSM agent, as AWS
//!   does, and runs one only in a container of its own; the commands go to the harness's
//!   simulated SSM (an in-memory account, as in the memory world), whose agents answer them;
//!   the agents read their configuration from Parameter Store on MiniStack.
//!
//! IAM's evaluation of the functions' calls covers what goes through the SDK here: all but
//! SendCommand.
//!
//! Restarts (`[[faults.restart]]`) are not applied here, and the deployed artifacts
//! (`--lambda artifacts`) are not run: both need the LocalStack backends.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use lake::Location;
use pipeline::firehose::sdk::FirehoseSink;
use pipeline::onboard::memory::MemoryAccount;
use pipeline::onboard::sdk::{Ec2Directory, SsmPorts};
use pipeline::onboard::{InstanceDescription, InstanceDirectory, ParameterStore, PortError};
use stack::provision::Applied;
use standins::cloudwatch_logs::SdkLogs;
use standins::eventbridge::queue::SdkQueue;
use standins::faults::{FaultPlan, RestartGate, Service};
use standins::firehose::{DeliveryStream, S3Objects};
use standins::iam::{CallLog, CallRecorder};
use standins::instance::Os;
use standins::ssm::{AgentSsm, SentCommand};

use super::RunError;
use super::emulator::EmulatorWorld;
use super::world::{FirehoseIntake, NoEmulator, World};
use crate::fleet::{LaunchedInstance, PlannedInstance};
use crate::scenario::LoadedScenario;

/// MiniStack at one endpoint, with the stack of one scenario.
#[derive(Debug)]
pub struct MiniStackWorld {
    emulator: EmulatorWorld,
    /// The harness's simulated SSM: the instances it launched, the commands sent to them.
    ssm: MemoryAccount,
    /// The instances launched from the Windows image.
    windows: Arc<Mutex<HashSet<String>>>,
    /// The stack's rule pattern, applied to EC2's events.
    pattern: serde_json::Value,
    placement: stack::Placement,
}

impl MiniStackWorld {
    /// MiniStack at `config`'s endpoint, for `loaded`'s stack in its region; the run's clients
    /// meet `faults`.
    pub async fn connect(
        config: &SdkConfig,
        loaded: &LoadedScenario,
        faults: &Arc<FaultPlan>,
    ) -> Result<Self, RunError> {
        let emulator = EmulatorWorld::connect(config, loaded, faults, None).await?;
        Ok(Self {
            emulator,
            ssm: MemoryAccount::new(),
            windows: Arc::default(),
            pattern: stack::resources::rule_event_pattern(),
            placement: stack::Placement::localstack(&loaded.scenario.region),
        })
    }
}

/// The services a MiniStack run's fault rules reach: all but SSM, whose Run Command goes to the
/// harness's simulated SSM.
pub fn injects(service: Service) -> bool {
    service != Service::Ssm
}

/// MiniStack's EC2, with the Windows platform the harness knows filled in.
#[derive(Debug, Clone)]
pub struct MiniStackInstances {
    ec2: Ec2Directory,
    windows: Arc<Mutex<HashSet<String>>>,
}

impl InstanceDirectory for MiniStackInstances {
    async fn describe_instance(
        &self,
        instance_id: &str,
    ) -> Result<Option<InstanceDescription>, PortError> {
        let found = self.ec2.describe_instance(instance_id).await?;
        let windows = self.windows.lock().is_ok_and(|w| w.contains(instance_id));
        Ok(found.map(|mut instance| {
            if windows && instance.platform.is_none() {
                instance.platform = Some("windows".to_owned());
            }
            instance
        }))
    }
}

/// What a simulated SSM agent reads: its commands from the harness's simulated SSM, the agent
/// configuration (fetch-config's GetParameter) from Parameter Store on MiniStack.
#[derive(Debug, Clone)]
pub struct MiniStackAgentSsm {
    commands: MemoryAccount,
    parameters: SsmPorts,
}

impl ParameterStore for MiniStackAgentSsm {
    fn get_parameter(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, PortError>> + Send {
        self.parameters.get_parameter(name)
    }
}

impl AgentSsm for MiniStackAgentSsm {
    fn command(
        &self,
        command_id: &str,
    ) -> impl Future<Output = Result<Option<SentCommand>, PortError>> + Send {
        self.commands.command(command_id)
    }
}

impl World for MiniStackWorld {
    type Instances = MiniStackInstances;
    type Commands = MemoryAccount;
    type Parameters = SsmPorts;
    type AgentSsm = MiniStackAgentSsm;
    type Logs = SdkLogs;
    type Queue = SdkQueue;
    type Writer = S3Objects;
    type Sink = FirehoseSink;
    type Restarter = NoEmulator;
    type DeadLetters = SdkQueue;

    fn describe(&self) -> String {
        format!(
            "MiniStack at {} (EC2's events, the Windows platform and Run Command stood in for)",
            self.emulator.endpoint().unwrap_or_default()
        )
    }

    fn injects(&self, service: Service) -> bool {
        injects(service)
    }

    async fn provision(&self) -> Result<Vec<Applied>, RunError> {
        self.emulator.provision().await
    }

    async fn audit(&self) -> Result<Option<Vec<stack::audit::Finding>>, RunError> {
        self.emulator.audit().await
    }

    async fn reset(&self) -> Result<(), RunError> {
        self.emulator.reset().await
    }

    async fn put_parameter(&self, name: &str, value: &str) -> Result<(), RunError> {
        self.emulator.put_parameter(name, value).await
    }

    /// RunInstances on MiniStack; the instance is also known to the simulated SSM, and to the
    /// EC2 port as Windows when launched from the Windows image.
    async fn launch(
        &self,
        plan: &PlannedInstance,
        index: usize,
        launched_at_ms: i64,
    ) -> Result<LaunchedInstance, RunError> {
        let instance = self.emulator.launch(plan, index, launched_at_ms).await?;
        if plan.os == Os::Windows
            && let Ok(mut known) = self.windows.lock()
        {
            known.insert(instance.instance_id.clone());
        }
        self.ssm
            .add_instance(plan.description(&instance.instance_id));
        Ok(instance)
    }

    /// EC2's event, through the stack's rule pattern, onto the rule's queue on MiniStack.
    async fn announce(
        &self,
        instance: &LaunchedInstance,
        state: &str,
        at_ms: i64,
    ) -> Result<(), RunError> {
        let routed = super::world::routed_state_change(
            &self.pattern,
            instance,
            state,
            &self.placement,
            at_ms,
        )?;
        if let Some(event) = routed {
            self.emulator
                .queue()
                .await?
                .send_with_attributes(&event.to_string(), &[])
                .await
                .map_err(|e| RunError::Call {
                    operation: "SendMessage (the rule's target) for",
                    target: instance.instance_id.clone(),
                    message: e.to_string(),
                })?;
        }
        Ok(())
    }

    fn instances(&self) -> MiniStackInstances {
        MiniStackInstances {
            ec2: self.emulator.instances(),
            windows: Arc::clone(&self.windows),
        }
    }

    fn record_crawl(&self, name: &str, started_ms: i64) {
        self.emulator.record_crawl(name, started_ms);
    }

    fn record_crawled_table(&self, crawler: &str, table: &super::queries::CatalogSummary) {
        self.emulator.record_crawled_table(crawler, table);
    }

    /// The onboarding function's EC2 and Parameter Store calls and the ETL's Firehose calls,
    /// as on LocalStack; its SendCommand goes to the harness's simulated SSM and is not an SDK
    /// call here, so it is not among them.
    fn calls(&self) -> Option<CallLog> {
        self.emulator.calls()
    }

    fn recorder(&self, principal: &str) -> Option<CallRecorder> {
        self.emulator.recorder(principal)
    }

    fn commands(&self) -> MemoryAccount {
        self.ssm.clone()
    }

    fn parameters(&self) -> SsmPorts {
        self.emulator.parameters()
    }

    fn agent_ssm(&self) -> MiniStackAgentSsm {
        MiniStackAgentSsm {
            commands: self.ssm.clone(),
            parameters: self.emulator.agent_parameters(),
        }
    }

    fn logs(&self) -> Arc<SdkLogs> {
        self.emulator.logs()
    }

    async fn queue(&self) -> Result<SdkQueue, RunError> {
        self.emulator.queue().await
    }

    async fn dead_letter_queue(&self, function: &str) -> Result<SdkQueue, RunError> {
        self.emulator.dead_letter_queue(function).await
    }

    fn object_writer(&self, restarts: Arc<RestartGate>) -> S3Objects {
        self.emulator.object_writer(restarts)
    }

    async fn firehose_intake(
        &self,
        stream: Arc<DeliveryStream<S3Objects>>,
        name: &str,
    ) -> Result<FirehoseIntake<FirehoseSink>, RunError> {
        self.emulator.firehose_intake(stream, name).await
    }

    fn bucket(&self) -> Result<Location, RunError> {
        self.emulator.bucket()
    }

    fn endpoint(&self) -> Option<String> {
        self.emulator.endpoint()
    }

    fn restarter(&self) -> Option<NoEmulator> {
        None
    }

    fn emulator(&self) -> Option<pipeline::emulator::Emulator> {
        Some(pipeline::emulator::Emulator::MiniStack)
    }
}
