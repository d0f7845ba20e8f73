//! `loglab up` and `loglab down`: an emulator left running for a user's own tools, with the
//! harness's Glue and Athena stand-ins beside it (the emulators have neither), until `loglab
//! down`. `up` prints the endpoints to point `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_GLUE` and
//! `AWS_ENDPOINT_URL_ATHENA` at (botocore, the AWS CLI and the Rust SDK read them); `loglab
//! provision` and `audit` then apply and read the Glue database, table and crawler and the
//! Athena workgroup and saved queries there too, and Athena's queries read the emulator's
//! buckets. What `up` started is recorded in `.loglab/up.json`; `down` asks it to stop by
//! moving that file to `.loglab/up.stopping`, and `up`, which looks for it every 200 ms, stops
//! what it started and removes it (no signal is sent: the file says which process to wait for).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use harness::backend::{self, BackendChoice, BackendOptions};
use serde::{Deserialize, Serialize};

/// The Glue stand-in's port unless `--glue-port` says otherwise.
pub const DEFAULT_GLUE_PORT: u16 = 4570;
/// The Athena stand-in's port unless `--athena-port` says otherwise.
pub const DEFAULT_ATHENA_PORT: u16 = 4571;
/// How long `down` waits for `up` to stop.
const DOWN_WAIT: Duration = Duration::from_secs(60);
/// How often `up` looks whether `down` asked it to stop.
const STOP_POLL: Duration = Duration::from_millis(200);

/// `loglab up`'s arguments.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// auto, container, host, ministack or endpoint=URL (an emulator already running).
    #[arg(long, default_value = "auto")]
    pub backend: BackendChoice,
    /// The loopback port of the Glue stand-in.
    #[arg(long, default_value_t = DEFAULT_GLUE_PORT)]
    pub glue_port: u16,
    /// The loopback port of the Athena stand-in.
    #[arg(long, default_value_t = DEFAULT_ATHENA_PORT)]
    pub athena_port: u16,
    /// The region Athena's queries read the emulator's buckets in.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
}

/// What `up` started, for `down`.
#[derive(Debug, Serialize, Deserialize)]
struct UpState {
    pid: u32,
    endpoint: String,
    glue_endpoint: String,
    athena_endpoint: String,
}

fn state_file() -> PathBuf {
    Path::new(".loglab").join("up.json")
}

fn stopping_file() -> PathBuf {
    Path::new(".loglab").join("up.stopping")
}

/// Starts the emulator and the Glue stand-in, prints where they are, and serves until
/// `loglab down`; then stops what it started.
pub async fn up(args: &UpArgs) -> anyhow::Result<ExitCode> {
    if let Ok(text) = std::fs::read_to_string(state_file()) {
        anyhow::bail!(
            "{} says loglab up already runs ({}); run loglab down first, or remove the file if that process is gone",
            state_file().display(),
            text.trim()
        );
    }
    let emulator = backend::start(&args.backend, &BackendOptions::default()).await?;
    let account_id = stack::Placement::localstack(&args.region).account_id;
    let buckets = standins::athena::S3Buckets::emulator(&emulator.endpoint, &args.region);
    let ports = standins::athena::Ports {
        glue: args.glue_port,
        athena: args.athena_port,
    };
    let stand_ins = standins::athena::CatalogStandIns::start(&account_id, Arc::new(buckets), ports)
        .await
        .with_context(|| {
            format!(
                "starting the Glue and Athena stand-ins on 127.0.0.1:{} and :{}",
                args.glue_port, args.athena_port
            )
        })?;
    let (glue, athena) = (
        &stand_ins.glue_endpoint.endpoint,
        &stand_ins.athena_endpoint.endpoint,
    );
    let state = UpState {
        pid: std::process::id(),
        endpoint: emulator.endpoint.clone(),
        glue_endpoint: glue.clone(),
        athena_endpoint: athena.clone(),
    };
    std::fs::create_dir_all(".loglab")?;
    std::fs::write(state_file(), serde_json::to_string(&state)?)?;
    println!("emulator: {} ({})", emulator.endpoint, emulator.kind);
    println!("glue:     {glue} (the harness's Glue Data Catalog)");
    println!("athena:   {athena} (the harness's Athena, over the emulator's buckets)");
    println!(
        "export AWS_ENDPOINT_URL={} AWS_ENDPOINT_URL_GLUE={glue} AWS_ENDPOINT_URL_ATHENA={athena} AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} AWS_REGION={}",
        emulator.endpoint,
        pipeline::emulator::ACCESS_KEY_ID,
        pipeline::emulator::SECRET_ACCESS_KEY,
        args.region
    );
    println!("serving until loglab down");
    while state_file().exists() {
        tokio::time::sleep(STOP_POLL).await;
    }
    drop(stand_ins);
    emulator.stop().await;
    let _ = std::fs::remove_file(stopping_file());
    println!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Asks the running `loglab up` to stop and waits until it has.
pub async fn down() -> anyhow::Result<ExitCode> {
    let path = state_file();
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!(
            "loglab up is not running here ({} does not exist)",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let state: UpState = serde_json::from_str(&text)
        .with_context(|| format!("{} is not loglab up's state", path.display()))?;
    if !Path::new("/proc").join(state.pid.to_string()).exists() {
        std::fs::remove_file(&path)?;
        println!("process {} is gone; removed {}", state.pid, path.display());
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::rename(&path, stopping_file())?;
    let path = stopping_file();
    let deadline = tokio::time::Instant::now() + DOWN_WAIT;
    while path.exists() {
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!(
                "loglab up (process {}) did not stop within {} s",
                state.pid,
                DOWN_WAIT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("stopped loglab up (process {})", state.pid);
    Ok(ExitCode::SUCCESS)
}
