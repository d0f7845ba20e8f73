//! `[[faults.restart]]`: the emulator restarted mid-run, at a simulated time.
//!
//! The harness stops and starts the emulator it started (a LocalStack host process on the same
//! port, or the container on the same published port), then applies the stack again, as an
//! operator would. LocalStack's community edition keeps no state across a restart (persistence
//! is a Pro feature), so the log group, its streams and their unread events, the bucket and its
//! objects, the rule's queue and the EC2 instances are gone. What the run then does, and says:
//!
//! - calls made while the emulator is down fail as connection errors: the SDK retries them,
//!   the agent loses a batch whose error is not an AWS error (`pusher/sender.go`: "CloudWatch
//!   agent will not retry and logs will be missing!"), and the ledger says so by that rule;
//! - once the emulator answers, the subscription forgets its read positions (the streams are
//!   new) and the agents meet `ResourceNotFoundException`, create their streams again
//!   (`InitTarget`) and retry;
//! - the harness's Firehose holds what it buffered and waits for the emulator before writing
//!   (Firehose retries S3 for up to 24 hours), so nothing it received is lost;
//! - an expected event accepted before a restart that did not land is lost with the emulator's
//!   state and counted apart by name ([`crate::ledger::restart_loss_reason`]); one accepted
//!   after the restart completed must land like any other.
//!
//! AWS does not restart: this exercises the harness's own recovery and accounting, and the
//! pipeline's parts that must survive a backend going away.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

use crate::clock::SimDuration;

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
    /// What was restarted.
    pub emulator: String,
    /// Real seconds from the stop to the emulator answering again.
    pub down_seconds: f64,
    /// Real seconds spent applying the stack again.
    pub reprovision_seconds: f64,
    /// Why the restart or the provisioning after it failed, if it did.
    pub error: Option<String>,
}

/// The state of the emulator's restarts, shared by the parts that must react to one.
#[derive(Debug, Default)]
pub struct RestartGate {
    /// Incremented when a restarted emulator answers again (before the stack is applied).
    up: AtomicU32,
    /// Whether the emulator is down or its stack not yet applied again.
    restarting: std::sync::atomic::AtomicBool,
    /// Restarts begun so far.
    begun: AtomicU32,
    /// Wakes the writers waiting in [`RestartGate::usable`] when a restart completes.
    usable_again: tokio::sync::Notify,
    records: Mutex<Vec<RestartRecord>>,
}

impl RestartGate {
    /// A gate with no restart yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The emulator is going down.
    pub fn begin(&self) {
        self.begun.fetch_add(1, Ordering::SeqCst);
        self.restarting.store(true, Ordering::SeqCst);
    }

    /// How many restarts have begun (the one in progress counted).
    pub fn begun(&self) -> u32 {
        self.begun.load(Ordering::SeqCst)
    }

    /// The emulator answers again (its state is empty).
    pub fn answering(&self) {
        self.up.fetch_add(1, Ordering::SeqCst);
    }

    /// The stack is applied again: the emulator is usable.
    pub fn complete(&self, record: RestartRecord) {
        crate::locked(&self.records).push(record);
        self.restarting.store(false, Ordering::SeqCst);
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

    /// Waits until no restart is in progress.
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn writers_wait_while_a_restart_is_in_progress() {
        let gate = Arc::new(RestartGate::new());
        gate.usable().await;
        gate.begin();
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.usable().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !waiting.is_finished(),
            "a writer must wait for the emulator"
        );
        gate.answering();
        assert_eq!(gate.answered(), 1);
        gate.complete(RestartRecord::default());
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("the writer goes on once the stack is applied again")
            .expect("no panic");
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
