//! The `host` backend: LocalStack as a host process, no Docker needed.
//!
//! `scripts/localstack-host.sh` holds the one recipe (pinned versions, cache directory, log
//! file, readiness wait); this backend runs it on a port of its own and stops the process when
//! done. An emulator that already answers on that port is used and left running.

use standins::faults::RestartError;
use std::path::PathBuf;

use super::{BackendError, SERVICES};

/// The host backend's settings.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// Port to listen on.
    pub port: u16,
}

impl Default for HostOptions {
    fn default() -> Self {
        Self {
            port: std::env::var("LOGLAB_HOST_PORT")
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or(4566),
        }
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/localstack-host.sh")
}

/// A host process this backend started (or found running); a guard: the process it started
/// is stopped when it is dropped, whatever happened in between.
pub(super) struct Running {
    pub(super) endpoint: String,
    port: u16,
    started_here: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop_now();
    }
}

impl Running {
    /// Stops the process if this backend started it (once).
    fn stop_now(&mut self) {
        if !std::mem::take(&mut self.started_here) {
            return;
        }
        let status = std::process::Command::new("bash")
            .arg(script())
            .arg("stop")
            .env("LOCALSTACK_PORT", self.port.to_string())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            tracing::warn!(
                port = self.port,
                "could not stop the LocalStack host process"
            );
        }
    }

    pub(super) fn stop(mut self) {
        self.stop_now();
    }
}

fn run(command: &str, port: u16) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg(script())
        .arg(command)
        .env("LOCALSTACK_PORT", port.to_string())
        .env("LOCALSTACK_SERVICES", SERVICES);
    cmd
}

/// Restarts a host process this backend started ([`standins::faults::EmulatorRestart`]).
#[derive(Debug, Clone)]
pub struct Restarter {
    endpoint: String,
    port: u16,
}

impl standins::faults::EmulatorRestart for Restarter {
    async fn restart(&self) -> Result<(), RestartError> {
        let failed = |message: String| RestartError {
            emulator: self.describe(),
            message,
        };
        for command in ["stop", "start"] {
            let output = run(command, self.port)
                .stdout(std::process::Stdio::null())
                .output()
                .await
                .map_err(|e| failed(format!("cannot run {}: {e}", script().display())))?;
            if !output.status.success() {
                return Err(failed(format!(
                    "{} {command} failed ({}): {}",
                    script().display(),
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                )));
            }
        }
        super::wait_healthy(&self.endpoint, super::READY_TIMEOUT)
            .await
            .map_err(|e| failed(e.to_string()))
    }

    fn describe(&self) -> String {
        format!("LocalStack host process at {}", self.endpoint)
    }
}

impl Running {
    /// A restarter, when this backend started the process (one it found running is someone
    /// else's).
    pub(super) fn restarter(&self) -> Option<Restarter> {
        self.started_here.then(|| Restarter {
            endpoint: self.endpoint.clone(),
            port: self.port,
        })
    }
}

pub(super) async fn start(options: &HostOptions) -> Result<Running, BackendError> {
    let already = run("status", options.port)
        .status()
        .await
        .map_err(|e| BackendError::Host(format!("cannot run {}: {e}", script().display())))?
        .success();
    let output = run("start", options.port)
        .stderr(std::process::Stdio::inherit())
        .output()
        .await
        .map_err(|e| BackendError::Host(format!("cannot run {}: {e}", script().display())))?;
    if !output.status.success() {
        return Err(BackendError::Host(format!(
            "{} start failed ({}); its messages are above, the LocalStack log is under ~/.cache/loglab/localstack-run-{}/",
            script().display(),
            output.status,
            options.port
        )));
    }
    let endpoint = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    Ok(Running {
        endpoint,
        port: options.port,
        started_here: !already,
    })
}
