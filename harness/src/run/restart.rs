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
use super::world::{KeptObjects, World};
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

/// Why the log group could not be read to its end before a restart stopped the emulator.
#[derive(Debug, thiserror::Error)]
pub(super) enum DrainError {
    /// A read kept failing until [`DRAIN_BEFORE_STOP`] passed.
    #[error("reading the log group to its end before the stop: {0}")]
    Read(#[from] standins::cloudwatch_logs::LogsError),
    /// Nobody answered: the subscription was not running.
    #[error("the subscription did not read the log group before the stop (it was not running)")]
    NotRunning,
}

/// A restart's question to the subscription: read every stream to its end, and answer with
/// the events read.
pub(super) type DrainAsk = tokio::sync::oneshot::Sender<Result<usize, DrainError>>;
/// The subscription's end of the restarts' questions.
pub(super) type DrainRequests = tokio::sync::mpsc::Receiver<DrainAsk>;

/// The restarts' and the subscription's ends of the drain questions.
pub(super) fn drain_channel() -> (tokio::sync::mpsc::Sender<DrainAsk>, DrainRequests) {
    tokio::sync::mpsc::channel(1)
}

/// Longest real time the subscription spends reading the log group before a restart.
pub const DRAIN_BEFORE_STOP: std::time::Duration = std::time::Duration::from_secs(60);

/// Reads every stream to its end (what CloudWatch Logs accepted and would still deliver after
/// an outage), retrying a failed read until [`DRAIN_BEFORE_STOP`] passes; the events read.
pub(super) async fn drain_before_stop<F, L>(
    invoker: &mut standins::subscription::SubscriptionInvoker<F, L>,
) -> Result<usize, DrainError>
where
    F: standins::lambda::functions::EtlFunction,
    L: standins::cloudwatch_logs::LogsReader,
{
    let deadline = Instant::now() + DRAIN_BEFORE_STOP;
    let read_before: usize = invoker.report.read.values().sum();
    loop {
        match invoker.poll(standins::subscription::Sweep::All).await {
            Ok(_) => return Ok(invoker.report.read.values().sum::<usize>() - read_before),
            Err(error) if Instant::now() >= deadline => return Err(error.into()),
            Err(error) => {
                tracing::warn!(%error, "draining the log group before the restart; trying again");
                tokio::time::sleep(APPLY_RETRY_WAIT).await;
            }
        }
    }
}

/// Runs each restart at its simulated time, in order; the task ends after the last.
pub(super) fn spawn<W: World>(
    drains: tokio::sync::mpsc::Sender<DrainAsk>,
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
            let record = restart_once(&rule, &restarter, &gate, &reprovision, &drains).await;
            // Counted before the gate opens: an event sent from now on must land. Events sent
            // before it are at risk only if it could not carry the log group's across.
            locked(&ledger).restart_completed(record.error.is_none());
            gate.complete(record);
        }
    }))
}

/// One restart, in the order [`RestartGate`] describes: the agents refused and their calls
/// answered, the log group read to its end, the writes stopped and the bucket kept, the
/// emulator stopped and started, the stack applied and the bucket put back.
async fn restart_once<W: World>(
    rule: &RestartRule,
    restarter: &W::Restarter,
    gate: &RestartGate,
    reprovision: &Reprovision<W>,
    drains: &tokio::sync::mpsc::Sender<DrainAsk>,
) -> RestartRecord {
    let mut record = RestartRecord {
        at: rule.at.to_string(),
        at_ms: rule.at.as_millis(),
        emulator: restarter.describe(),
        ..RestartRecord::default()
    };
    tracing::warn!(at = %rule.at, emulator = %record.emulator, "restarting the emulator ([[faults.restart]])");
    gate.begin();
    gate.calls_idle().await;
    let mut errors = Vec::new();
    match ask_drain(drains).await {
        Ok(events) => record.events_drained = events,
        Err(error) => errors.push(error.to_string()),
    }
    gate.stopping();
    gate.writes_idle().await;
    let kept = match reprovision.world.keep_bucket().await {
        Ok(kept) => kept,
        Err(error) => {
            errors.push(format!("keeping the bucket's objects: {error}"));
            KeptObjects::default()
        }
    };
    record.objects_kept = kept.objects.len();
    let stopped = Instant::now();
    let restarted = restarter.restart().await;
    record.down_seconds = stopped.elapsed().as_secs_f64();
    gate.answering();
    if let Err(error) = restarted {
        errors.push(error.to_string());
        record.error = Some(errors.join("; "));
        return record;
    }
    let applying = Instant::now();
    let applied = apply_again(reprovision).await;
    record.reprovision_seconds = applying.elapsed().as_secs_f64();
    if let Err(error) = applied {
        errors.push(format!(
            "applying the stack again after the restart: {error}"
        ));
    } else if let Err(error) = reprovision.world.restore_bucket(&kept).await {
        errors.push(format!("putting the bucket's objects back: {error}"));
    }
    record.error = (!errors.is_empty()).then(|| errors.join("; "));
    tracing::info!(
        down_seconds = record.down_seconds,
        reprovision_seconds = record.reprovision_seconds,
        "the emulator is back and the stack applied again"
    );
    record
}

/// Asks the subscription to read the log group to its end, and waits for its answer.
async fn ask_drain(drains: &tokio::sync::mpsc::Sender<DrainAsk>) -> Result<usize, DrainError> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let asked = drains.send(reply).await.is_ok();
    let answered = tokio::time::timeout(DRAIN_BEFORE_STOP * 2, answer).await;
    match (asked, answered) {
        (true, Ok(Ok(drained))) => drained,
        _ => Err(DrainError::NotRunning),
    }
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
