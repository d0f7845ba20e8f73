//! What differs between running a scenario on an emulator and in memory: a [`World`] supplies
//! the parts of AWS the run talks to and how an instance comes to be, and nothing else. The
//! phases, the handlers' configuration, the parameter writes, the simulated SSM, the agents,
//! the ledger, the read-back, the queries and the checks are the session's
//! ([`super::session`]), the same in every world.
//!
//! Two worlds: [`super::emulator::EmulatorWorld`] (LocalStack, through the real SDK) and
//! [`super::memory::MemoryWorld`] (the in-memory adapters on a paused clock, for scale).

use std::future::Future;
use std::sync::Arc;

use lake::Location;
use pipeline::firehose::RecordSink;
use pipeline::onboard::{CommandRunner, InstanceDirectory, ParameterStore};
use stack::provision::Applied;
use standins::cloudwatch_logs::{LogsApi, LogsReader};
use standins::eventbridge::queue::EventQueue;
use standins::faults::{EmulatorRestart, RestartGate, Service};
use standins::firehose::{DeliveryStream, FirehoseEndpoint, ObjectWriter};
use standins::iam::{CallLog, CallRecorder};
use standins::lambda::retries::DeadLetterQueue;
use standins::ssm::AgentSsm;

use super::RunError;
use crate::fleet::{LaunchedInstance, PlannedInstance};

/// The ETL's way into the run's Firehose: its record sink, and the endpoint a deployed
/// function reaches it at (none where there is no HTTP).
pub struct FirehoseIntake<S> {
    /// The in-process ETL handler's sink.
    pub sink: S,
    /// The endpoint, kept running for as long as the intake lives.
    pub endpoint: Option<FirehoseEndpoint>,
}

/// The parts of AWS one run talks to, and how its instances come to be.
pub trait World: Send + Sync + 'static {
    /// EC2 as the onboarding handler describes instances.
    type Instances: InstanceDirectory + Clone + 'static;
    /// SendCommand (the harness hands each command's id to its instance's simulated agent).
    type Commands: CommandRunner + Clone + 'static;
    /// Parameter Store as the onboarding handler reads it.
    type Parameters: ParameterStore + Clone + 'static;
    /// What the simulated SSM agents read commands and parameters through.
    type AgentSsm: AgentSsm + Clone + 'static;
    /// CloudWatch Logs: the agents write, the subscription reads.
    type Logs: LogsApi + LogsReader + 'static;
    /// The rule's target queue.
    type Queue: EventQueue + 'static;
    /// Where the Firehose model writes objects.
    type Writer: ObjectWriter;
    /// The in-process ETL handler's record sink.
    type Sink: RecordSink + Send + Sync + 'static;
    /// What restarts the emulator (`[[faults.restart]]`).
    type Restarter: EmulatorRestart;
    /// A function's dead-letter queue.
    type DeadLetters: DeadLetterQueue + EventQueue + 'static;

    /// How the report names this world (`LocalStack at http://…`, `memory`).
    fn describe(&self) -> String;

    /// Whether fault rules for `service` reach this world's calls.
    fn injects(&self, service: Service) -> bool;

    /// Applies the stack; what was created, updated or left (nothing without an emulator).
    fn provision(&self) -> impl Future<Output = Result<Vec<Applied>, RunError>> + Send;

    /// Reads the applied stack back and compares it with the template; `None` where there is
    /// nothing to read back (the memory world).
    fn audit(
        &self,
    ) -> impl Future<Output = Result<Option<Vec<stack::audit::Finding>>, RunError>> + Send {
        async { Ok(None) }
    }

    /// Clears what an earlier run left: streams, delivery prefixes, the queue.
    fn reset(&self) -> impl Future<Output = Result<(), RunError>> + Send;

    /// Puts a parameter (an agent configuration), overwriting it.
    fn put_parameter(
        &self,
        name: &str,
        value: &str,
    ) -> impl Future<Output = Result<(), RunError>> + Send;

    /// Launches the planned instance (the `index`th of the run) at `launched_at_ms`.
    fn launch(
        &self,
        plan: &PlannedInstance,
        index: usize,
        launched_at_ms: i64,
    ) -> impl Future<Output = Result<LaunchedInstance, RunError>> + Send;

    /// The instance enters `state`: EC2's state-change event, which the rule takes to its
    /// queue when its pattern matches.
    fn announce(
        &self,
        instance: &LaunchedInstance,
        state: &str,
        at_ms: i64,
    ) -> impl Future<Output = Result<(), RunError>> + Send;

    /// EC2 for the onboarding handler.
    fn instances(&self) -> Self::Instances;
    /// SendCommand for the onboarding handler.
    fn commands(&self) -> Self::Commands;
    /// Parameter Store for the onboarding handler.
    fn parameters(&self) -> Self::Parameters;
    /// What the SSM agents read through.
    fn agent_ssm(&self) -> Self::AgentSsm;
    /// The AWS calls the functions made through the SDK, where this world records them (the
    /// memory world's functions make none).
    fn calls(&self) -> Option<CallLog> {
        None
    }
    /// The crawler `name`'s last run started at `started_ms` (simulated): where the world has
    /// a Glue Data Catalog (the harness's stand-in on the emulators), GetCrawler's `LastCrawl`.
    fn record_crawl(&self, name: &str, started_ms: i64) {
        let _ = (name, started_ms);
    }
    /// The crawler `crawler` left `table` in the catalog (crawler mode): where the world has a
    /// Glue Data Catalog, the table Athena then reads.
    fn record_crawled_table(&self, crawler: &str, table: &super::queries::CatalogSummary) {
        let _ = (crawler, table);
    }
    /// A recorder for what the harness answers in-process for `principal` where the deployed
    /// function makes an SDK call; `None` where [`Self::calls`] is.
    fn recorder(&self, principal: &str) -> Option<CallRecorder> {
        let _ = principal;
        None
    }
    /// CloudWatch Logs.
    fn logs(&self) -> Arc<Self::Logs>;
    /// The rule's target queue.
    fn queue(&self) -> impl Future<Output = Result<Self::Queue, RunError>> + Send;

    /// The dead-letter queue of `function` (the stack's, where Lambda sends the events of
    /// asynchronous invocations that failed every attempt).
    fn dead_letter_queue(
        &self,
        function: &str,
    ) -> impl Future<Output = Result<Self::DeadLetters, RunError>> + Send;

    /// Where the Firehose model writes; writes wait out an emulator restart (`restarts`).
    fn object_writer(&self, restarts: Arc<RestartGate>) -> Self::Writer;

    /// The ETL's way into `stream`.
    fn firehose_intake(
        &self,
        stream: Arc<DeliveryStream<Self::Writer>>,
        name: &str,
    ) -> impl Future<Output = Result<FirehoseIntake<Self::Sink>, RunError>> + Send;

    /// The bucket as the read-back and the catalog read it.
    fn bucket(&self) -> Result<Location, RunError>;

    /// The emulator's endpoint, where deployed functions can run (`--lambda artifacts`).
    fn endpoint(&self) -> Option<String>;

    /// What restarts the emulator, when the harness may.
    fn restarter(&self) -> Option<Self::Restarter>;

    /// The bucket's objects, read before an emulator restart (AWS keeps them through an
    /// outage; the emulator forgets them). Nothing in a world without an emulator.
    fn keep_bucket(&self) -> impl Future<Output = Result<KeptObjects, RunError>> + Send {
        async { Ok(KeptObjects::default()) }
    }

    /// Puts `kept` back into the bucket after the restart and the stack applied again.
    fn restore_bucket(
        &self,
        kept: &KeptObjects,
    ) -> impl Future<Output = Result<(), RunError>> + Send {
        let _ = kept;
        async { Ok(()) }
    }

    /// Which emulator the world runs on (`None` for the memory world): the report prints that
    /// emulator's gaps.
    fn emulator(&self) -> Option<pipeline::emulator::Emulator> {
        self.endpoint()
            .map(|_| pipeline::emulator::Emulator::LocalStack)
    }

    /// The gzip level of the Firehose model's objects (Firehose's, unless a world trades the
    /// objects' size for speed and says so).
    fn firehose_gzip_level(&self) -> u32 {
        standins::firehose::FIREHOSE_GZIP_LEVEL
    }

    /// The gzip level of the subscription's payloads to the ETL function (the harness's
    /// usual level, unless a world trades the payloads' size for speed and says so).
    fn subscription_gzip_level(&self) -> u32 {
        pipeline::etl::payload::PAYLOAD_GZIP_LEVEL
    }
}

/// EC2's state-change event for `instance` entering `state`, if the stack's rule `pattern`
/// matches it (where the harness stands in for EventBridge's rule: the memory world, and
/// MiniStack, which refuses `aws.ec2` events from a client).
pub(super) fn routed_state_change(
    pattern: &serde_json::Value,
    instance: &LaunchedInstance,
    state: &str,
    placement: &stack::Placement,
    at_ms: i64,
) -> Result<Option<serde_json::Value>, RunError> {
    use standins::eventbridge::rule;
    let id = &instance.instance_id;
    let event = rule::state_change_event(
        &format!("{id}-{state}"),
        id,
        state,
        &placement.account_id,
        &placement.region,
        at_ms,
    );
    let matched = rule::matches(pattern, &event).map_err(|e| RunError::Call {
        operation: "applying the rule's pattern to the event of",
        target: id.clone(),
        message: e.to_string(),
    })?;
    Ok(matched.then_some(event))
}

/// A bucket's objects, kept across an emulator restart.
#[derive(Debug, Default)]
pub struct KeptObjects {
    /// Key and body of each.
    pub objects: Vec<(String, Vec<u8>)>,
}

/// The restarter of a world without an emulator: there is nothing to restart.
#[derive(Debug, Clone, Copy)]
pub enum NoEmulator {}

impl EmulatorRestart for NoEmulator {
    async fn restart(&self) -> Result<(), standins::faults::RestartError> {
        match *self {}
    }

    fn describe(&self) -> String {
        match *self {}
    }
}
