//! `[[faults.restart]]`: the emulator restarted mid-run, at a simulated time.
//!
//! The harness stops and starts the emulator it started (a LocalStack host process on the same
//! port, or the container on the same published port), then applies the stack again, as an
//! operator would. LocalStack's community edition keeps no state across a restart (persistence
//! is a Pro feature); AWS keeps what it accepted through an outage. So the harness carries
//! across what AWS would have kept ([`RestartGate`] orders the steps):
//!
//! - the agents' calls are refused from the restart's start (an endpoint that is down), and
//!   the agents retry them with the long strategy (`pusher/retry.go`) until it is back;
//! - the calls already made are answered, then the subscription reads every stream to its end
//!   (the events the log group accepted and had not yet delivered), so that none is in the
//!   emulator when it stops;
//! - the Firehose model's writes wait, the bucket's objects are read, and put back once the
//!   stack is applied again;
//! - once the emulator answers, the subscription forgets its read positions (the streams are
//!   new) and the agents meet `ResourceNotFoundException`, create their streams again
//!   (`InitTarget`) and retry.
//!
//! Where a step fails (the drain cannot read a stream, the bucket cannot be kept), the restart
//! is a failed check naming it, and the expected events accepted before it that did not land
//! are attributed to it by name (the ledger's `restart_loss_reason`); nothing else is.
//!
//! AWS does not restart: this exercises the harness's own recovery and accounting, and the
//! pipeline's parts that must survive a backend going away.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::clock::SimDuration;
use crate::cloudwatch_logs::{LogEvent, LogsApi, LogsError, Rejected};

/// One restart of the emulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestartRule {
    /// When, simulated time since the run's start.
    pub at: SimDuration,
}

impl RestartRule {
    /// Each rule this one breaks: (field, value, rule, what would be valid).
    pub fn issues(&self, duration: SimDuration) -> Vec<(&'static str, String, String, String)> {
        let mut issues = Vec::new();
        if self.at >= duration || self.at.as_millis() == 0 {
            issues.push((
                "at",
                format!("\"{}\"", self.at),
                "the restart must fall inside the run's simulated window".to_owned(),
                "after the start, shorter than `duration`".to_owned(),
            ));
        }
        issues
    }
}

/// Why an emulator could not be restarted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("restarting {emulator}: {message}")]
pub struct RestartError {
    /// What was restarted.
    pub emulator: String,
    /// What failed.
    pub message: String,
}

/// Stops and starts an emulator the harness started.
pub trait EmulatorRestart: Send + Sync + 'static {
    /// Stops the emulator and starts it again at the same endpoint; returns once it answers.
    fn restart(&self) -> impl Future<Output = Result<(), RestartError>> + Send;
    /// What is restarted (`LocalStack host process on port 4566`).
    fn describe(&self) -> String;
}

/// What the run observed of one restart.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RestartRecord {
    /// The scenario's time of the restart.
    pub at: String,
    /// The same, simulated ms since the run's start.
    pub at_ms: i64,
    /// What was restarted.
    pub emulator: String,
    /// Real seconds from the stop to the emulator answering again.
    pub down_seconds: f64,
    /// Real seconds spent applying the stack again.
    pub reprovision_seconds: f64,
    /// The bucket's objects read before the stop and put back after it.
    pub objects_kept: usize,
    /// Events the subscription read from the log group before the stop (accepted, not yet
    /// delivered: what AWS would still have delivered).
    pub events_drained: usize,
    /// Why the restart or the provisioning after it failed, if it did.
    pub error: Option<String>,
}

/// Calls in flight through one door of the gate, and a wake-up when there are none.
#[derive(Debug, Default)]
struct InFlight {
    count: AtomicUsize,
    idle: tokio::sync::Notify,
}

impl InFlight {
    fn enter(&self) -> Entered<'_> {
        self.count.fetch_add(1, Ordering::SeqCst);
        Entered(self)
    }

    async fn wait_idle(&self) {
        loop {
            let idle = self.idle.notified();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// One call in flight; leaving (dropping it) wakes a restart waiting for the door to be idle.
#[derive(Debug)]
pub struct Entered<'a>(&'a InFlight);

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// The state of the emulator's restarts, shared by the parts that must react to one.
///
/// A restart goes: [`Self::begin`] (the agents' calls are refused from now on, as by an
/// endpoint that is down, and the agents retry them), [`Self::calls_idle`] (the calls already
/// made have their answers), the subscription drains what the log group accepted (the harness
/// does that), [`Self::stopping`] (the Firehose model's writes wait), [`Self::writes_idle`],
/// the bucket is kept, the emulator stops and starts ([`Self::answering`]), the stack and the
/// bucket are put back, and [`Self::complete`] opens both doors. So nothing that AWS would
/// have kept is in the emulator when it stops.
#[derive(Debug, Default)]
pub struct RestartGate {
    /// Incremented when a restarted emulator answers again (before the stack is applied).
    up: AtomicU32,
    /// Whether the agents' calls are refused (from the beginning of a restart to its end).
    refusing: AtomicBool,
    /// Whether the emulator is down or its stack not yet applied again (writes wait).
    restarting: AtomicBool,
    /// Restarts begun so far.
    begun: AtomicU32,
    /// The agents' calls in flight.
    calls: InFlight,
    /// The Firehose model's writes in flight.
    writes: InFlight,
    /// Wakes the writers waiting in [`RestartGate::usable`] when a restart completes.
    usable_again: tokio::sync::Notify,
    records: Mutex<Vec<RestartRecord>>,
}

impl RestartGate {
    /// A gate with no restart yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A restart begins: the agents' calls are refused from now on.
    pub fn begin(&self) {
        self.begun.fetch_add(1, Ordering::SeqCst);
        self.refusing.store(true, Ordering::SeqCst);
    }

    /// How many restarts have begun (the one in progress counted).
    pub fn begun(&self) -> u32 {
        self.begun.load(Ordering::SeqCst)
    }

    /// An agent's call may go to the emulator (held while it is in flight); `None` while a
    /// restart refuses calls.
    pub fn enter_call(&self) -> Option<Entered<'_>> {
        let entered = self.calls.enter();
        // Entered first, then checked: a restart that began meanwhile waits for this call.
        (!self.refusing.load(Ordering::SeqCst)).then_some(entered)
    }

    /// Waits until no agent call is in flight.
    pub async fn calls_idle(&self) {
        self.calls.wait_idle().await;
    }

    /// The emulator is about to stop: writes wait from now on.
    pub fn stopping(&self) {
        self.restarting.store(true, Ordering::SeqCst);
    }

    /// A write may go to the emulator (held while it is in flight), once no restart stops it.
    pub async fn enter_write(&self) -> Entered<'_> {
        loop {
            self.usable().await;
            let entered = self.writes.enter();
            if !self.restarting.load(Ordering::SeqCst) {
                return entered;
            }
        }
    }

    /// Waits until no write is in flight.
    pub async fn writes_idle(&self) {
        self.writes.wait_idle().await;
    }

    /// The emulator answers again (its state is empty).
    pub fn answering(&self) {
        self.up.fetch_add(1, Ordering::SeqCst);
    }

    /// The stack (and what was kept) is back: the emulator is usable.
    pub fn complete(&self, record: RestartRecord) {
        crate::locked(&self.records).push(record);
        self.restarting.store(false, Ordering::SeqCst);
        self.refusing.store(false, Ordering::SeqCst);
        self.usable_again.notify_waiters();
    }

    /// Whether a restart is in progress (the emulator down, or its stack not applied again).
    pub fn is_restarting(&self) -> bool {
        self.restarting.load(Ordering::SeqCst)
    }

    /// How many times a restarted emulator has answered again: a reader of the emulator's
    /// state whose count changed must forget its positions.
    pub fn answered(&self) -> u32 {
        self.up.load(Ordering::SeqCst)
    }

    /// Waits until no restart stops writes.
    pub async fn usable(&self) {
        loop {
            let notified = self.usable_again.notified();
            if !self.restarting.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    /// The restarts so far.
    pub fn records(&self) -> Vec<RestartRecord> {
        crate::locked(&self.records).clone()
    }
}

/// CloudWatch Logs as the agents reach it in a run that restarts its emulator: while a restart
/// is under way every call is refused (`transport`, as an endpoint that is down), so that the
/// agents retry it (`pusher/retry.go`) and nothing is sent into a state about to be lost.
#[derive(Debug)]
pub struct GatedLogs<L> {
    inner: Arc<L>,
    gate: Arc<RestartGate>,
    /// Where `[[faults.lose]]` may take an agent's batch.
    losses: Option<Arc<super::FaultPlan>>,
}

/// Why a call through [`GatedLogs`] was refused.
pub const RESTARTING: &str = "the emulator is restarting ([[faults.restart]])";

impl<L> GatedLogs<L> {
    /// `inner` behind `gate`.
    pub fn new(inner: Arc<L>, gate: Arc<RestartGate>) -> Self {
        Self {
            inner,
            gate,
            losses: None,
        }
    }

    /// The same, answering a batch `plan` loses (`agent-batch`) as accepted without sending it.
    #[must_use]
    pub fn losing(mut self, plan: Arc<super::FaultPlan>) -> Self {
        self.losses = Some(plan);
        self
    }
}

impl<L: LogsApi> LogsApi for GatedLogs<L> {
    async fn create_log_stream(&self, log_group: &str, log_stream: &str) -> Result<(), LogsError> {
        let Some(_call) = self.gate.enter_call() else {
            return Err(LogsError::refused(
                "CreateLogStream",
                log_group,
                log_stream,
                RESTARTING,
            ));
        };
        self.inner.create_log_stream(log_group, log_stream).await
    }

    async fn put_log_events(
        &self,
        log_group: &str,
        log_stream: &str,
        events: &[LogEvent],
    ) -> Result<Rejected, LogsError> {
        let Some(_call) = self.gate.enter_call() else {
            return Err(LogsError::refused(
                "PutLogEvents",
                log_group,
                log_stream,
                RESTARTING,
            ));
        };
        if let Some(plan) = &self.losses
            && plan.lose(super::LossStage::AgentBatch)
        {
            return Ok(Rejected::default());
        }
        self.inner
            .put_log_events(log_group, log_stream, events)
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// The restart's order: calls refused from `begin`, the calls in flight waited for;
    /// writes go on until `stopping`, then wait, and the writes in flight are waited for;
    /// `complete` opens both.
    #[tokio::test]
    async fn a_restart_refuses_calls_then_stops_writes_and_waits_for_those_in_flight() {
        let gate = Arc::new(RestartGate::new());
        let call = gate.enter_call().expect("no restart yet");
        gate.begin();
        assert!(
            gate.enter_call().is_none(),
            "calls are refused once it begins"
        );
        let idle = tokio::spawn({
            let gate = gate.clone();
            async move { gate.calls_idle().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!idle.is_finished(), "a call in flight is waited for");
        drop(call);
        tokio::time::timeout(Duration::from_secs(1), idle)
            .await
            .expect("idle once the call is answered")
            .expect("no panic");

        // Writes still go (the drain's rows reach the bucket) until the emulator stops.
        let write = gate.enter_write().await;
        gate.stopping();
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move {
                let _write = gate.enter_write().await;
            }
        });
        let writes_idle = tokio::spawn({
            let gate = gate.clone();
            async move { gate.writes_idle().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "a write waits for the emulator");
        assert!(
            !writes_idle.is_finished(),
            "the write in flight is waited for"
        );
        drop(write);
        tokio::time::timeout(Duration::from_secs(1), writes_idle)
            .await
            .expect("idle once the write is done")
            .expect("no panic");
        gate.answering();
        assert_eq!(gate.answered(), 1);
        gate.complete(RestartRecord::default());
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("the writer goes on once the stack is applied again")
            .expect("no panic");
        assert!(gate.enter_call().is_some(), "calls go again");
        assert_eq!(gate.records().len(), 1);
    }

    #[test]
    fn a_restart_outside_the_window_is_refused() {
        let duration = SimDuration::parse("5m").unwrap();
        let late = RestartRule {
            at: SimDuration::parse("6m").unwrap(),
        };
        assert_eq!(late.issues(duration)[0].0, "at");
        let fine = RestartRule {
            at: SimDuration::parse("2m").unwrap(),
        };
        assert!(fine.issues(duration).is_empty());
    }
}
