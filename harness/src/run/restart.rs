//! The run's side of `[[faults.restart]]` ([`standins::faults::restart`]): at each restart's
//! simulated time, the emulator is stopped and started again, the stack applied again and the
//! scenario's broken configurations put again; the [`RestartGate`] tells the parts that must
//! react (the subscription forgets its positions, the Firehose model's writes wait) and the
//! ledger counts the restart, so that what was sent before it can be told apart.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use stack::Names;
use standins::clock::SimClock;
use standins::faults::{EmulatorRestart, RestartGate, RestartRecord, RestartRule};
use tokio::task::JoinHandle;

use super::RunError;
use super::session::put_broken_parameters;
use super::world::World;
use crate::ledger::Ledger;
use crate::locked;
use crate::scenario::LoadedScenario;

/// What a restart needs to put the stack back: the world to apply it to, and the scenario's
/// broken configurations to put again.
pub(super) struct Reprovision<W> {
    pub(super) world: Arc<W>,
    pub(super) loaded: LoadedScenario,
    pub(super) names: Names,
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
pub(super) fn spawn<W: World>(
    rules: &[RestartRule],
    restarter: W::Restarter,
    reprovision: Reprovision<W>,
    gate: Arc<RestartGate>,
    clock: SimClock,
    ledger: Arc<Mutex<Ledger>>,
) -> Restarts {
    let mut rules = rules.to_vec();
    rules.sort_by_key(|r| r.at);
    Restarts(tokio::spawn(async move {
        for rule in rules {
            clock
                .sleep_until(clock.start_ms() + rule.at.as_millis())
                .await;
            let record = restart_once(&rule, &restarter, &gate, &reprovision).await;
            // Counted before the gate opens: an event sent from now on must land.
            locked(&ledger).restart_completed();
            gate.complete(record);
        }
    }))
}

async fn restart_once<W: World>(
    rule: &RestartRule,
    restarter: &W::Restarter,
    gate: &RestartGate,
    reprovision: &Reprovision<W>,
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
        record.error = Some(error.to_string());
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

async fn apply_again<W: World>(reprovision: &Reprovision<W>) -> Result<(), RunError> {
    let Reprovision {
        world,
        loaded,
        names,
    } = reprovision;
    let mut attempt = 1;
    loop {
        let applied = async {
            world.provision().await?;
            put_broken_parameters(world.as_ref(), loaded, names).await
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
