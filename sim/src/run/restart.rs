//! The run's side of `[[faults.restart]]` ([`crate::faults::restart`]): at each restart's
//! simulated time, the emulator is stopped and started again, the stack applied again and the
//! scenario's broken configurations put again; the [`RestartGate`] tells the parts that must
//! react (the subscription forgets its positions, the Firehose model's writes wait) and the
//! ledger counts the restart, so that what was sent before it can be told apart.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use stack::Deployment;
use stack::provision::{self, Clients};
use tokio::task::JoinHandle;

use super::{RunError, reset};
use crate::clock::SimClock;
use crate::faults::{EmulatorRestart, RestartGate, RestartRecord, RestartRule};
use crate::ledger::Ledger;
use crate::locked;
use crate::scenario::LoadedScenario;

/// What a restart needs to put the stack back.
pub(super) struct Reprovision {
    pub(super) clients: Clients,
    pub(super) deployment: Deployment,
    pub(super) loaded: LoadedScenario,
}

/// The task restarting the emulator; aborted when dropped, so that a run that ends early (an
/// error, a panic) does not restart an emulator its owner is stopping.
pub(super) struct Restarts(JoinHandle<()>);

impl Restarts {
    /// Whether every restart is done.
    pub(super) fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

impl Drop for Restarts {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs each restart at its simulated time, in order; the task ends after the last.
pub(super) fn spawn(
    rules: &[RestartRule],
    restarter: Arc<dyn EmulatorRestart>,
    gate: Arc<RestartGate>,
    clock: SimClock,
    ledger: Arc<Mutex<Ledger>>,
    reprovision: Reprovision,
) -> Restarts {
    let mut rules = rules.to_vec();
    rules.sort_by_key(|r| r.at);
    Restarts(tokio::spawn(async move {
        for rule in rules {
            clock
                .sleep_until(clock.start_ms() + rule.at.as_millis())
                .await;
            let record = restart_once(&rule, restarter.as_ref(), &gate, &reprovision).await;
            // Counted before the gate opens: an event sent from now on must land.
            locked(&ledger).restart_completed();
            gate.complete(record);
        }
    }))
}

async fn restart_once(
    rule: &RestartRule,
    restarter: &dyn EmulatorRestart,
    gate: &RestartGate,
    reprovision: &Reprovision,
) -> RestartRecord {
    let mut record = RestartRecord {
        at: rule.at.to_string(),
        emulator: restarter.describe(),
        ..RestartRecord::default()
    };
    tracing::warn!(at = %rule.at, emulator = %record.emulator, "restarting the emulator ([[faults.restart]])");
    gate.begin();
    let stopped = Instant::now();
    let restarted = restarter.restart().await;
    record.down_seconds = stopped.elapsed().as_secs_f64();
    gate.answering();
    if let Err(error) = restarted {
        record.error = Some(format!("restarting {}: {error}", record.emulator));
        return record;
    }
    let applying = Instant::now();
    let applied = apply_again(reprovision).await;
    record.reprovision_seconds = applying.elapsed().as_secs_f64();
    if let Err(error) = applied {
        record.error = Some(format!(
            "applying the stack again after the restart: {error}"
        ));
    }
    tracing::info!(
        down_seconds = record.down_seconds,
        reprovision_seconds = record.reprovision_seconds,
        "the emulator is back and the stack applied again"
    );
    record
}

/// Attempts at applying the stack again: a freshly started emulator can still fail a call.
pub const APPLY_ATTEMPTS: u32 = 3;
/// Real time between two attempts.
pub const APPLY_RETRY_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

async fn apply_again(reprovision: &Reprovision) -> Result<(), RunError> {
    let Reprovision {
        clients,
        deployment,
        loaded,
    } = reprovision;
    let mut attempt = 1;
    loop {
        let applied = async {
            provision::apply(clients, deployment).await?;
            reset::put_faults(clients, &deployment.names, loaded).await
        }
        .await;
        match applied {
            Err(error) if attempt < APPLY_ATTEMPTS => {
                tracing::warn!(%error, attempt, "applying the stack again failed; trying again");
                attempt += 1;
                tokio::time::sleep(APPLY_RETRY_WAIT).await;
            }
            done => return done,
        }
    }
}
