//! `loglab run`: one scenario end to end on an emulator, as a session of phases ([`run`]):
//!
//! 1. provision: the stack applied to the emulator (idempotent);
//! 2. reset: what an earlier run left is cleared ([`reset`]), the scenario's faults are put, and
//!    the simulated clock starts; the onboarding invoker (reading the rule's SQS target) and
//!    the subscription (tailing the log group into the ETL handler and Firehose) start;
//! 3. launch: the fleet on the clock: RunInstances, each instance's records written into the
//!    ledger, its SSM agent registered and polling, its `pending` and `running` events put;
//! 4. onboard: the handler sends commands, the SSM agents carry them out and start the
//!    CloudWatch agents; the phase ends when every instance has an outcome;
//! 5. ship: the agents ship until the simulated window is over, then flush;
//! 6. deliver and 7. drain: the subscription stops tailing and reads every accepted event;
//! 8. read back: the bucket read back and reconciled with the ledger;
//! 9. query: the bucket catalogued and queried as Athena would, checked against the ledger;
//! 10. report: the [`report::RunReport`], whose checks decide the exit status.
//!
//! A scenario with `[[faults.restart]]` also restarts the emulator at its times ([`restart`]).

use aws_config::SdkConfig;
use pipeline::filter_pattern::FilterPattern;
use stack::provision::ProvisionError;

use crate::fleet::FleetError;
use crate::landed::LandedError;
use crate::ledger::Ledger;
use crate::scenario::LoadedScenario;
use crate::workload::CorpusError;

mod agents;
mod functions;
pub mod junit;
pub mod memory;
mod progress;
pub mod queries;
pub mod report;
pub mod reset;
mod restart;
mod session;
pub mod summary;

pub use functions::{LambdaSetup, ONBOARDING_CONCURRENCY};
pub use report::RunReport;
pub use session::{COMMAND_WAIT_FLOOR, DRAIN_TIMEOUT, SUBSCRIPTION_POLL};

/// A finished run: its report, and the ledger it was checked against.
#[derive(Debug)]
pub struct Run {
    /// Counts, instances, reconciliation, checks.
    pub report: RunReport,
    /// Every record and its fate.
    pub ledger: Ledger,
    /// The subscription's filter pattern.
    pub pattern: FilterPattern,
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
    /// What restarts the emulator for `[[faults.restart]]` ([`crate::backend::Emulator::restarter`]);
    /// a scenario that restarts is refused without one.
    pub restart: Option<std::sync::Arc<dyn crate::faults::EmulatorRestart>>,
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
    Bucket(#[from] crate::athena::AthenaError),
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
    Lambda(#[from] crate::lambda::LambdaError),
    /// The template's functions could not be read.
    #[error(transparent)]
    Functions(#[from] stack::FunctionSpecError),
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

/// Runs a loaded scenario against the emulator `config` points at, phase by phase.
pub async fn run(
    loaded: &LoadedScenario,
    config: &SdkConfig,
    options: &RunOptions,
) -> Result<Run, RunError> {
    if let (Some(first), None) = (loaded.scenario.faults.restart.first(), &options.restart) {
        return Err(RunError::NoRestart {
            at: first.at.to_string(),
        });
    }
    let seed = options.seed.unwrap_or(loaded.scenario.seed);
    let faults = std::sync::Arc::new(crate::faults::FaultPlan::new(
        loaded.scenario.faults.inject.clone(),
        seed,
    ));
    let faulted = crate::faults::layer::wrap(config, &faults);
    let session = session::RunSession::provision(loaded, &faulted, config, options, faults).await?;
    let (mut replay, queue_url) = session.reset().await?;
    let mut invokers = replay.start_invokers(queue_url).await?;
    replay.launch().await?;
    replay.onboard(&mut invokers).await;
    let shipped = replay.ship(&invokers).await;
    let subscription = replay.drain(invokers).await?;
    let read_back = replay.read_back().await?;
    let query_stage = replay.query(&read_back).await;
    Ok(replay.report(shipped, subscription, read_back, query_stage))
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
        let error = run(&loaded, &config, &RunOptions::default())
            .await
            .map(|_| ())
            .unwrap_err();
        assert!(matches!(error, RunError::NoRestart { .. }), "{error}");
        let text = error.to_string();
        assert!(
            text.contains("150s") && text.contains("--backend host"),
            "{text}"
        );
    }
}
