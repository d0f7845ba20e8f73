//! `loglab run`: one scenario end to end over a [`World`] (the emulator, or memory), as one
//! session of phases ([`run`]):
//!
//! 1. provision: the stack applied to the world (idempotent);
//! 2. reset: what an earlier run left is cleared, the scenario's broken agent configurations
//!    are put, and the simulated clock starts with the harness's Firehose;
//! 3. launch: the fleet on the clock: each instance launched, its records written into the
//!    ledger, its SSM agent registered and waiting, its `pending` and `running` events
//!    announced (the rule takes `running` to its queue); the onboarding invoker (the rule's
//!    queue into the onboarding function) and the subscription (the log group into the ETL
//!    function and Firehose) run beside it;
//! 4. onboard: the handler sends commands, the SSM agents carry them out and start the
//!    CloudWatch agents; the phase ends when every instance has an outcome;
//! 5. ship: the agents ship until the simulated window is over, then flush;
//! 6. deliver and 7. drain: the subscription stops tailing and reads every accepted event;
//! 8. read back: the bucket read back and reconciled with the ledger;
//! 9. query: the bucket catalogued and queried as Athena would, checked against the ledger;
//! 10. report: the [`report::RunReport`], whose checks decide the exit status.
//!
//! A scenario with `[[faults.restart]]` also restarts the emulator at its times ([`restart`]).

use std::sync::Arc;

use aws_config::SdkConfig;
use pipeline::filter_pattern::FilterPattern;
use stack::provision::ProvisionError;
use standins::faults::FaultPlan;

use crate::fleet::FleetError;
use crate::landed::LandedError;
use crate::ledger::Ledger;
use crate::scenario::LoadedScenario;
use crate::workload::CorpusError;

mod agents;
pub mod crawls;
pub mod emulator;
mod functions;
pub mod memory;
pub mod ministack;
mod progress;
pub mod queries;
pub mod redrive;
pub mod report;
mod restart;
mod session;
pub mod world;

pub use emulator::EmulatorWorld;
pub use functions::{LambdaSetup, ONBOARDING_CONCURRENCY};
pub use memory::MemoryWorld;
pub use report::RunReport;
pub use session::{COMMAND_WAIT_FLOOR, DRAIN_TIMEOUT, SUBSCRIPTION_POLL};
pub use world::World;

/// A finished run: its report, and the ledger it was checked against.
#[derive(Debug)]
pub struct Run {
    /// Counts, instances, reconciliation, checks.
    pub report: RunReport,
    /// Every record and its fate.
    pub ledger: Ledger,
    /// The subscription's filter pattern.
    pub pattern: FilterPattern,
    /// The bucket the run read back (on the emulator, or in memory): copy it before the
    /// emulator stops.
    pub bucket: lake::Location,
}

impl Run {
    /// Writes the ledger as NDJSON ([`Ledger::write_ndjson`]).
    pub fn write_ledger(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        self.ledger.write_ndjson(&self.pattern, out)
    }
}

/// Runtime choices of one run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Replaces the scenario's seed.
    pub seed: Option<u64>,
    /// Draw progress bars (on a terminal).
    pub progress: bool,
    /// How the functions run.
    pub lambda: LambdaSetup,
    /// The price table of the cost estimate (`None`: the shipped one).
    pub prices: Option<crate::cost::Prices>,
}

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Provisioning the stack failed.
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    /// Launching or announcing an instance failed.
    #[error(transparent)]
    Fleet(#[from] FleetError),
    /// A corpus file cannot be replayed.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// The bucket could not be read back.
    #[error(transparent)]
    Landed(#[from] LandedError),
    /// The bucket's store could not be built.
    #[error(transparent)]
    Bucket(#[from] crate::catalog::AthenaError),
    /// Another AWS call failed.
    #[error("{operation} {target}: {message}")]
    Call {
        /// The operation.
        operation: &'static str,
        /// What it was called on.
        target: String,
        /// What the service said.
        message: String,
    },
    /// The subscription's filter pattern does not parse.
    #[error("filter pattern: {0}")]
    Pattern(String),
    /// The deployed functions could not run (missing artifacts, an init error).
    #[error(transparent)]
    Lambda(#[from] standins::lambda::LambdaError),
    /// The template's functions could not be read.
    #[error(transparent)]
    Functions(#[from] stack::FunctionSpecError),
    /// `--lambda artifacts` in a world without an emulator.
    #[error(
        "--lambda artifacts runs the built functions against an emulator's endpoint; the {world} \
         world has none (use --backend host, container or endpoint=URL, or --lambda in-process)"
    )]
    ArtifactsNeedEmulator {
        /// The world's name.
        world: String,
    },
    /// Something a MiniStack run does not do.
    #[error("{what} does not run on MiniStack: {why}; use --backend host or container")]
    NotOnMiniStack {
        /// What was asked for.
        what: &'static str,
        /// Why not.
        why: &'static str,
    },
    /// The scenario restarts the emulator and the run has none it may restart.
    #[error(
        "faults.restart: the scenario restarts the emulator at {at}, which needs one the harness \
         started (--backend host or container); an emulator given by URL, or one found already \
         running, is someone else's and is not restarted (LOGLAB_HOST_PORT=4567 gives the host \
         backend a port of its own)"
    )]
    NoRestart {
        /// The first restart's time.
        at: String,
    },
}

impl RunError {
    pub(crate) fn call<E: std::error::Error + 'static, R: std::fmt::Debug>(
        operation: &'static str,
        target: &str,
        error: &aws_sdk_s3::error::SdkError<E, R>,
    ) -> Self {
        Self::Call {
            operation,
            target: target.to_owned(),
            message: aws_sdk_s3::error::DisplayErrorContext(error).to_string(),
        }
    }
}

/// Runs `loaded` on the emulator `config` points at (`restarter` restarts it when the harness
/// started it).
pub async fn on_emulator(
    loaded: &LoadedScenario,
    config: &SdkConfig,
    restarter: Option<crate::backend::Restarter>,
    options: &RunOptions,
) -> Result<Run, RunError> {
    if let (Some(first), None) = (loaded.scenario.faults.restart.first(), &restarter) {
        return Err(RunError::NoRestart {
            at: first.at.to_string(),
        });
    }
    let seed = options.seed.unwrap_or(loaded.scenario.seed);
    let faults = fault_plan(loaded, seed, |_| true);
    let world = EmulatorWorld::connect(config, loaded, &faults, restarter).await?;
    run_with_faults(loaded, Arc::new(world), options, faults).await
}

/// Runs `loaded` on MiniStack, the second emulator, at `config`'s endpoint
/// ([`ministack::MiniStackWorld`]): the in-process functions only, and no restarts.
pub async fn on_ministack(
    loaded: &LoadedScenario,
    config: &SdkConfig,
    options: &RunOptions,
) -> Result<Run, RunError> {
    if !loaded.scenario.faults.restart.is_empty() {
        return Err(RunError::NotOnMiniStack {
            what: "faults.restart",
            why: "the harness restarts only the LocalStack it started",
        });
    }
    if !matches!(options.lambda, LambdaSetup::InProcess) {
        return Err(RunError::NotOnMiniStack {
            what: "--lambda artifacts",
            why: "the deployed onboarding function would send its commands to MiniStack's SSM, \
                  which refuses instances without an agent (the harness's SSM stands in only for \
                  the in-process function)",
        });
    }
    let seed = options.seed.unwrap_or(loaded.scenario.seed);
    let faults = fault_plan(loaded, seed, ministack::injects);
    let world = ministack::MiniStackWorld::connect(config, loaded, &faults).await?;
    run_with_faults(loaded, Arc::new(world), options, faults).await
}

/// Runs a loaded scenario over `world`, phase by phase.
pub async fn run<W: World>(
    loaded: &LoadedScenario,
    world: Arc<W>,
    options: &RunOptions,
) -> Result<Run, RunError> {
    let seed = options.seed.unwrap_or(loaded.scenario.seed);
    let faults = fault_plan(loaded, seed, |service| world.injects(service));
    run_with_faults(loaded, world, options, faults).await
}

async fn run_with_faults<W: World>(
    loaded: &LoadedScenario,
    world: Arc<W>,
    options: &RunOptions,
    faults: Arc<FaultPlan>,
) -> Result<Run, RunError> {
    let mut laps = report::Laps::start();
    let session = session::RunSession::provision(loaded, world, options, faults).await?;
    laps.lap("provision");
    let mut replay = session.reset().await?;
    let mut invokers = replay.start_invokers().await?;
    laps.lap("reset");
    replay.launch().await?;
    laps.lap("launch");
    replay.onboard(&mut invokers).await;
    laps.lap("onboard");
    let shipped = replay.ship(&invokers).await;
    laps.lap("ship");
    let delivered = replay.drain(invokers).await?;
    laps.lap("drain");
    let read_back = replay.read_back(&delivered).await?;
    laps.lap("read back");
    let query_stage = replay.query(&read_back, &delivered).await;
    laps.lap("query");
    Ok(replay.report(shipped, delivered, read_back, query_stage, laps))
}

/// The scenario's fault rules for the services `injects` takes, seeded.
fn fault_plan(
    loaded: &LoadedScenario,
    seed: u64,
    injects: impl Fn(standins::faults::Service) -> bool,
) -> Arc<FaultPlan> {
    let rules = loaded
        .scenario
        .faults
        .rules()
        .into_iter()
        .filter(|rule| injects(rule.service))
        .collect();
    Arc::new(FaultPlan::new(rules, seed).with_losses(&loaded.scenario.faults.lose))
}

/// The scenario's faults `world` does not apply, each named with why (the report lists them).
fn not_applied_faults<W: World>(loaded: &LoadedScenario, world: &W) -> Vec<String> {
    let faults = &loaded.scenario.faults;
    let mut not_applied: Vec<String> = faults
        .rules()
        .iter()
        .filter(|rule| !world.injects(rule.service))
        .map(|rule| {
            format!(
                "{}: the {} world has no HTTP layer between its clients and {:?}",
                rule.describe(),
                world.describe(),
                rule.service
            )
        })
        .collect();
    if world.restarter().is_none() {
        not_applied.extend(faults.restart.iter().map(|restart| {
            format!(
                "restart at {}: the {} world has no emulator to restart",
                restart.at,
                world.describe()
            )
        }));
    }
    not_applied
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scenario that restarts the emulator is refused before any call when the run has
    /// nothing it may restart, with the restart's time and what to do.
    #[tokio::test]
    async fn a_restart_without_an_emulator_of_our_own_is_refused() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/faults.toml");
        let loaded = crate::scenario::Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let config = pipeline::emulator::sdk_config("http://127.0.0.1:9", "us-east-1").await;
        let error = on_emulator(&loaded, &config, None, &RunOptions::default())
            .await
            .map(|_| ())
            .unwrap_err();
        assert!(matches!(error, RunError::NoRestart { .. }), "{error}");
        let text = error.to_string();
        let at = loaded.scenario.faults.restart[0].at.to_string();
        assert!(
            text.contains(&format!("at {at}")) && text.contains("--backend host"),
            "{text}"
        );
    }
}
