//! The functions a run invokes, in the mode asked for (`--lambda`): the handlers in the
//! harness's process, or the artifacts `loglab build` made, run as Lambda runs them
//! ([`standins::lambda`]), the onboarding function's SSM calls going through the harness's SSM
//! stand-in.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pipeline::onboard::Waits;
use stack::FunctionSpec;
use standins::lambda::{
    self, ArtifactUse, FunctionPool, FunctionStats, LambdaError, LambdaMode, Launch,
};
use standins::ssm::SimulatedSsm;
use standins::ssm::endpoint::{self as ssm_standin, SsmStandIn};

/// Concurrent execution environments of the onboarding function at most (each waits for
/// registration and commands; Lambda would scale out per event).
pub const ONBOARDING_CONCURRENCY: usize = 32;

/// How a run gets its functions.
#[derive(Debug, Clone, Default)]
pub enum LambdaSetup {
    /// The handlers in-process.
    #[default]
    InProcess,
    /// The built artifacts.
    Artifacts {
        /// The workspace (cargo-lambda's emulator reads its binaries there).
        workspace: PathBuf,
        /// The artifacts directory (`manifest.json`).
        dir: PathBuf,
    },
}

impl LambdaSetup {
    /// The mode it names.
    pub fn mode(&self) -> LambdaMode {
        match self {
            Self::InProcess => LambdaMode::InProcess,
            Self::Artifacts { .. } => LambdaMode::Artifacts,
        }
    }
}

/// The deployed functions of a run, and what they need running beside them.
#[derive(Debug)]
pub(super) struct Deployed {
    pub(super) etl: Arc<FunctionPool>,
    pub(super) onboarding: Arc<FunctionPool>,
    pub(super) used: Vec<ArtifactUse>,
    _ssm: SsmStandIn,
}

impl Deployed {
    /// Starts both functions: one execution environment each to begin with (an init error
    /// fails here, with the function's own output).
    pub(super) async fn start(
        workspace: &std::path::Path,
        dir: &std::path::Path,
        specs: &[FunctionSpec],
        emulator: &str,
        region: &str,
        simulated: SimulatedSsm,
        onboarding_waits: BTreeMap<String, String>,
        firehose_endpoint: &str,
    ) -> Result<Self, LambdaError> {
        let located = lambda::locate(dir, specs)?;
        let used = located.iter().map(|l| l.artifact.clone()).collect();
        let ssm = ssm_standin::start(emulator, simulated).await?;
        let placement = lambda::Placement {
            endpoint: emulator,
            region,
        };
        let cargo_lambda = workspace.join(stack::artifacts::CARGO_LAMBDA_SCRIPT);
        let mut etl = None;
        let mut onboarding = None;
        for lambda::Located {
            spec, bootstrap, ..
        } in located
        {
            let is_onboarding = spec.binary == "onboard-lambda";
            let mut overrides = BTreeMap::new();
            let concurrency = if is_onboarding {
                overrides.clone_from(&onboarding_waits);
                overrides.insert("AWS_ENDPOINT_URL_SSM".to_owned(), ssm.endpoint.clone());
                ONBOARDING_CONCURRENCY
            } else {
                overrides.insert(
                    "AWS_ENDPOINT_URL_FIREHOSE".to_owned(),
                    firehose_endpoint.to_owned(),
                );
                // The subscription invokes one payload at a time.
                1
            };
            let launch = Launch {
                cargo_lambda: cargo_lambda.clone(),
                workspace: workspace.to_path_buf(),
                bootstrap,
                binary: spec.binary.to_owned(),
                environment: lambda::lambda_environment(&spec, &placement, &overrides),
            };
            let pool = Arc::new(FunctionPool::start(launch, spec.timeout, concurrency).await?);
            if is_onboarding {
                onboarding = Some(pool);
            } else {
                etl = Some(pool);
            }
        }
        let missing = |binary: &str| {
            LambdaError::Artifacts(format!("the template has no function built from {binary}"))
        };
        Ok(Self {
            etl: etl.ok_or_else(|| missing("etl-lambda"))?,
            onboarding: onboarding.ok_or_else(|| missing("onboard-lambda"))?,
            used,
            _ssm: ssm,
        })
    }

    /// Each function's figures, by binary.
    pub(super) fn stats(&self) -> BTreeMap<String, FunctionStats> {
        BTreeMap::from([
            ("etl-lambda".to_owned(), self.etl.stats()),
            ("onboard-lambda".to_owned(), self.onboarding.stats()),
        ])
    }

    /// Stops every execution environment.
    pub(super) async fn stop(&self) {
        self.etl.stop().await;
        self.onboarding.stop().await;
    }
}

/// The onboarding waits the in-process handler has, as the deployed function's environment.
pub(super) fn waits_environment(waits: &Waits) -> BTreeMap<String, String> {
    let ms = |d: Duration| d.as_millis().to_string();
    BTreeMap::from([
        (
            "ONBOARD_LOOKUP_TIMEOUT_MS".to_owned(),
            ms(waits.lookup_timeout),
        ),
        (
            "ONBOARD_REGISTRATION_TIMEOUT_MS".to_owned(),
            ms(waits.registration_timeout),
        ),
        (
            "ONBOARD_COMMAND_TIMEOUT_MS".to_owned(),
            ms(waits.command_timeout),
        ),
        (
            "ONBOARD_POLL_INTERVAL_MS".to_owned(),
            ms(waits.poll_interval),
        ),
    ])
}
