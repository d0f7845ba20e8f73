//! The deployed functions, run as Lambda runs them (`loglab run --lambda artifacts`): the
//! `bootstrap` binaries `loglab build` made, each in execution environments of its own
//! ([`environment`]), configured with the environment the rendered template gives the function
//! plus what Lambda itself sets, and invoked through the Invoke API ([`pool`]).
//!
//! The harness's additions are named ([`HARNESS_OVERRIDES`]) and listed in the report: the
//! emulator's endpoint and test credentials (where AWS would give the execution role's), and the
//! onboarding function's waits in simulated time.

pub mod async_invoke;
pub mod environment;
pub mod functions;
pub mod pool;
pub mod retries;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use stack::FunctionSpec;
use stack::artifacts::{self, Architecture, Manifest};

pub use environment::{ExecutionEnvironment, Launch, Output};
pub use pool::{FunctionPool, FunctionStats, InvokeError};

/// Variables the harness sets beyond what the template and Lambda set, and why.
pub const HARNESS_OVERRIDES: [(&str, &str); 5] = [
    (
        "AWS_ENDPOINT_URL",
        "the emulator, where AWS would use the region's endpoints",
    ),
    (
        "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
        "the emulator's test credentials, where Lambda gives the execution role's",
    ),
    (
        "AWS_ENDPOINT_URL_SSM",
        "the harness's SSM stand-in (registration and command results from the simulated agents)",
    ),
    (
        "AWS_ENDPOINT_URL_FIREHOSE",
        "the harness's Firehose model (buffers, compresses and names objects as Firehose does)",
    ),
    (
        "ONBOARD_*_TIMEOUT_MS, ONBOARD_POLL_INTERVAL_MS",
        "the onboarding waits in simulated time, as the in-process handler has them",
    ),
];

/// How `loglab run` runs the functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LambdaMode {
    /// The handlers called in the harness's own process.
    InProcess,
    /// The built `bootstrap` binaries, as Lambda runs them.
    Artifacts,
}

/// Why the deployed functions could not run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LambdaError {
    /// The artifacts are missing or do not match their manifest.
    #[error("Lambda artifacts: {0}")]
    Artifacts(String),
    /// A process could not be started.
    #[error("starting {what}: {message}")]
    Start {
        /// What.
        what: String,
        /// Why.
        message: String,
    },
    /// The function's init phase failed (Lambda: `Runtime.ExitError` at init): its own output.
    #[error("{function} failed during init ({status}):\n{output}")]
    Init {
        /// The function's binary.
        function: String,
        /// How the process ended.
        status: String,
        /// What it printed.
        output: String,
    },
}

/// The artifact a run used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactUse {
    /// The function's binary.
    pub function: String,
    /// The function's name in the template.
    pub name: String,
    /// The zip's SHA-256.
    pub sha256: String,
    /// The build profile.
    pub profile: String,
}

/// Where the functions' SDK calls go.
#[derive(Debug, Clone)]
pub struct Placement<'a> {
    /// The emulator's endpoint.
    pub endpoint: &'a str,
    /// The region.
    pub region: &'a str,
}

/// A function of the template with the artifact that implements it.
#[derive(Debug, Clone)]
pub struct Located {
    /// What the template gives the function.
    pub spec: FunctionSpec,
    /// Its unzipped `bootstrap`.
    pub bootstrap: PathBuf,
    /// The artifact, for the report.
    pub artifact: ArtifactUse,
}

/// Reads the manifest, checks the packages for this machine's architecture again and returns
/// where each function's unzipped `bootstrap` is.
pub fn locate(artifacts_dir: &Path, specs: &[FunctionSpec]) -> Result<Vec<Located>, LambdaError> {
    let manifest =
        Manifest::load(artifacts_dir).map_err(|e| LambdaError::Artifacts(e.to_string()))?;
    let architecture = host_architecture();
    let mut located = Vec::new();
    for spec in specs {
        let artifact = manifest
            .artifact(spec.binary, architecture)
            .ok_or_else(|| {
                LambdaError::Artifacts(format!(
                    "{} has no {architecture} package of {}; run `cargo run --bin loglab -- build --profile {}`",
                    artifacts_dir.display(),
                    spec.binary,
                    manifest.profile.name()
                ))
            })?;
        artifacts::verified_zip(artifacts_dir, artifact)
            .map_err(|e| LambdaError::Artifacts(e.to_string()))?;
        let bootstrap = artifacts_dir
            .join(architecture.lambda_name())
            .join(spec.binary)
            .join(artifacts::BOOTSTRAP);
        located.push(Located {
            spec: spec.clone(),
            bootstrap,
            artifact: ArtifactUse {
                function: spec.binary.to_owned(),
                name: spec.name.clone(),
                sha256: artifact.sha256.clone(),
                profile: manifest.profile.name().to_owned(),
            },
        });
    }
    Ok(located)
}

/// The architecture this machine runs.
pub fn host_architecture() -> Architecture {
    if cfg!(target_arch = "aarch64") {
        Architecture::Arm64
    } else {
        Architecture::X86_64
    }
}

/// The environment Lambda gives `spec`'s process (AWS Lambda developer guide, "Defined
/// runtime environment variables"), the template's variables, and the harness's overrides.
pub fn lambda_environment(
    spec: &FunctionSpec,
    placement: &Placement<'_>,
    overrides: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = spec.environment.clone();
    env.extend(spec.logging.clone());
    let set = |env: &mut BTreeMap<String, String>, key: &str, value: &str| {
        env.insert(key.to_owned(), value.to_owned());
    };
    set(&mut env, "AWS_LAMBDA_FUNCTION_NAME", &spec.name);
    set(
        &mut env,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        &spec.memory_mb.to_string(),
    );
    set(&mut env, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    set(&mut env, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    set(
        &mut env,
        "AWS_LAMBDA_LOG_GROUP_NAME",
        &format!("/aws/lambda/{}", spec.name),
    );
    set(
        &mut env,
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "loglab/[$LATEST]harness",
    );
    set(&mut env, "AWS_REGION", placement.region);
    set(&mut env, "AWS_DEFAULT_REGION", placement.region);
    set(&mut env, "_HANDLER", "bootstrap");
    set(&mut env, "TZ", ":UTC");
    set(&mut env, "LANG", "en_US.UTF-8");
    set(&mut env, "PATH", "/usr/local/bin:/usr/bin:/bin");
    set(&mut env, "AWS_ENDPOINT_URL", placement.endpoint);
    set(
        &mut env,
        "AWS_ACCESS_KEY_ID",
        pipeline::emulator::ACCESS_KEY_ID,
    );
    set(
        &mut env,
        "AWS_SECRET_ACCESS_KEY",
        pipeline::emulator::SECRET_ACCESS_KEY,
    );
    for (key, value) in overrides {
        env.insert(key.clone(), value.clone());
    }
    env
}
