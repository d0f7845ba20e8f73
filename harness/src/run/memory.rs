//! The memory world (`loglab run --backend memory`): the in-memory adapters behind every port,
//! on a paused clock, for scale. EC2, SSM's command store and Parameter Store are one
//! `MemoryAccount`; CloudWatch Logs is a `MemoryLogs`; the rule's queue is a `MemoryQueue` fed
//! by the stack's own rule pattern ([`standins::eventbridge::rule`]); the Firehose model takes
//! the ETL's batches without HTTP and writes into an in-memory object store, which the
//! read-back and the catalog read. The session, the handlers, the SSM and CloudWatch agents, the
//! subscription, the ledger and the checks are the same as on the emulator.
//!
//! What it leaves out, by design: provisioning (there is no emulator; the stack's rule pattern
//! and parameters are applied by hand), fault rules of services other than Firehose (they need
//! the HTTP layer; the report names them as not applied), `[[faults.restart]]` (there is no
//! emulator to restart; named likewise) and `--lambda artifacts` (the deployed functions need
//! an emulator's endpoint). The LocalStack path stays the reference.

use std::sync::Arc;

use lake::Location;
use object_store::ObjectStore;
use object_store::memory::InMemory;
use pipeline::onboard::memory::MemoryAccount;
use stack::provision::Applied;
use stack::{Deployment, Placement};
use standins::cloudwatch_logs::MemoryLogs;
use standins::eventbridge::queue::MemoryQueue;
use standins::faults::{RestartGate, Service};
use standins::firehose::{DeliveryStream, ModelSink, StoreObjects};

use super::world::{FirehoseIntake, NoEmulator, World};
use super::{Run, RunError, RunOptions};
use crate::catalog;
use crate::fleet::{LaunchedInstance, PlannedInstance};
use crate::scenario::LoadedScenario;

/// The gzip level of the memory world's objects: the fastest that keeps XFL 0 in their headers,
/// as Firehose's objects have it (zlib's convention).
pub const MEMORY_GZIP_LEVEL: u32 = 2;

/// The gzip level of the memory world's subscription payloads: 0, stored blocks. The ETL
/// function decodes them through the same base64 and gunzip as any payload; only the
/// compression work, which nothing measures, is left out (a fleet's payloads cost as much to
/// compress at level 2 as the ETL costs to transform them).
pub const MEMORY_PAYLOAD_GZIP_LEVEL: u32 = 0;

/// Every AWS part of a run, in memory.
#[derive(Debug)]
pub struct MemoryWorld {
    placement: Placement,
    deployment: Deployment,
    definition: stack::StackDefinition,
    seed: u64,
    account: MemoryAccount,
    logs: Arc<MemoryLogs>,
    queue: Arc<MemoryQueue>,
    /// Each function's dead-letter queue.
    dead_letters: std::sync::Mutex<std::collections::BTreeMap<String, Arc<MemoryQueue>>>,
    store: Arc<dyn ObjectStore>,
    /// The stack's rule pattern, applied to each event as EventBridge would.
    pattern: serde_json::Value,
}

impl MemoryWorld {
    /// An empty account for `loaded`'s stack, naming its instances from `seed`.
    pub fn new(loaded: &LoadedScenario, seed: u64) -> Self {
        let placement = Placement::localstack(&loaded.scenario.region);
        let deployment = Deployment::new(&loaded.stack, &placement);
        Self {
            deployment,
            definition: loaded.stack.definition.clone(),
            placement,
            seed,
            account: MemoryAccount::new(),
            logs: Arc::new(MemoryLogs::default()),
            queue: Arc::new(MemoryQueue::default()),
            dead_letters: std::sync::Mutex::default(),
            store: Arc::new(InMemory::new()),
            pattern: stack::resources::rule_event_pattern(),
        }
    }

    /// The bucket's store (the run's objects, for a caller that keeps them).
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }
}

/// Runs `loaded` in memory, on a runtime of its own whose clock is paused: simulated waits take
/// no real time, so a run costs only its work (call it outside any runtime, or from
/// `spawn_blocking`).
pub fn run_blocking(loaded: &LoadedScenario, options: &RunOptions) -> Result<Run, RunError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .map_err(|e| RunError::Call {
            operation: "starting",
            target: "the memory world's runtime".to_owned(),
            message: e.to_string(),
        })?;
    runtime.block_on(async {
        let world = MemoryWorld::new(loaded, options.seed.unwrap_or(loaded.scenario.seed));
        super::run(loaded, Arc::new(world), options).await
    })
}

impl World for MemoryWorld {
    type Instances = MemoryAccount;
    type Commands = MemoryAccount;
    type Parameters = MemoryAccount;
    type AgentSsm = MemoryAccount;
    type Logs = MemoryLogs;
    type Queue = Arc<MemoryQueue>;
    type Writer = StoreObjects;
    type Sink = ModelSink<StoreObjects>;
    type Restarter = NoEmulator;
    type DeadLetters = Arc<MemoryQueue>;

    fn describe(&self) -> String {
        "memory".to_owned()
    }

    /// Only Firehose's rules: the stand-in meets them itself; the others need the HTTP layer.
    fn injects(&self, service: Service) -> bool {
        service == Service::Firehose
    }

    /// The template's parameters (the agent configurations) into the account, as the
    /// template's values; nothing else of the stack has a memory counterpart to apply.
    async fn provision(&self) -> Result<Vec<Applied>, RunError> {
        let resources = self.deployment.resources().map_err(|e| RunError::Call {
            operation: "resolving the template for",
            target: "the memory world".to_owned(),
            message: e.to_string(),
        })?;
        for resource in resources.iter().filter(|r| r.kind == "AWS::SSM::Parameter") {
            let text = |key: &str| resource.properties[key].as_str().unwrap_or_default();
            self.account.put_parameter(text("Name"), text("Value"));
        }
        Ok(Vec::new())
    }

    async fn reset(&self) -> Result<(), RunError> {
        Ok(())
    }

    async fn put_parameter(&self, name: &str, value: &str) -> Result<(), RunError> {
        self.account.put_parameter(name, value);
        Ok(())
    }

    /// An instance with an id and address of its own (the same for the same seed), described
    /// in the account as EC2 would describe it.
    async fn launch(
        &self,
        plan: &PlannedInstance,
        index: usize,
        launched_at_ms: i64,
    ) -> Result<LaunchedInstance, RunError> {
        let instance = LaunchedInstance {
            plan: plan.clone(),
            instance_id: format!("i-{:017x}", (self.seed << 24) ^ (index as u64 + 1)),
            private_ip: format!("10.0.{}.{}", index / 250, index % 250 + 4),
            launched_at_ms,
        };
        self.account
            .add_instance(plan.description(&instance.instance_id));
        Ok(instance)
    }

    /// EC2's event, through the stack's rule pattern, onto the rule's queue.
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
            self.queue.send(event.to_string());
        }
        Ok(())
    }

    fn instances(&self) -> MemoryAccount {
        self.account.clone()
    }

    fn commands(&self) -> MemoryAccount {
        self.account.clone()
    }

    fn parameters(&self) -> MemoryAccount {
        self.account.clone()
    }

    fn agent_ssm(&self) -> MemoryAccount {
        self.account.clone()
    }

    fn logs(&self) -> Arc<MemoryLogs> {
        self.logs.clone()
    }

    async fn queue(&self) -> Result<Arc<MemoryQueue>, RunError> {
        Ok(self.queue.clone())
    }

    async fn dead_letter_queue(&self, function: &str) -> Result<Arc<MemoryQueue>, RunError> {
        Ok(crate::locked(&self.dead_letters)
            .entry(function.to_owned())
            .or_default()
            .clone())
    }

    fn object_writer(&self, _restarts: Arc<RestartGate>) -> StoreObjects {
        StoreObjects(self.store.clone())
    }

    async fn firehose_intake(
        &self,
        stream: Arc<DeliveryStream<StoreObjects>>,
        name: &str,
    ) -> Result<FirehoseIntake<ModelSink<StoreObjects>>, RunError> {
        Ok(FirehoseIntake {
            sink: ModelSink {
                stream,
                name: name.to_owned(),
            },
            endpoint: None,
        })
    }

    fn bucket(&self) -> Result<Location, RunError> {
        Ok(Location {
            store: self.store.clone(),
            url: "memory://".to_owned(),
            root: catalog::table_root(&self.definition.firehose.prefix),
        })
    }

    fn endpoint(&self) -> Option<String> {
        None
    }

    fn restarter(&self) -> Option<NoEmulator> {
        None
    }

    /// [`MEMORY_GZIP_LEVEL`]: a fleet's rows compress at 2.3 times the speed of level 6, into
    /// objects about a fifth larger (S3 and Athena's lines of the cost estimate with them).
    fn firehose_gzip_level(&self) -> u32 {
        MEMORY_GZIP_LEVEL
    }

    /// [`MEMORY_PAYLOAD_GZIP_LEVEL`].
    fn subscription_gzip_level(&self) -> u32 {
        MEMORY_PAYLOAD_GZIP_LEVEL
    }
}
