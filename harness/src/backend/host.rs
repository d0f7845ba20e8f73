//! The `host` backend: LocalStack as a host process, no Docker needed; and the `ministack`
//! backend, MiniStack (the second emulator) the same way.
//!
//! `scripts/localstack-host.sh` and `scripts/ministack-host.sh` hold the recipes (pinned
//! versions, cache directory, log file, readiness wait); this backend runs one on a port of
//! its own and stops the process when done. An emulator that already answers on that port is
//! used and left running.

use standins::faults::RestartError;
use std::path::PathBuf;

use super::{BackendError, SERVICES};

/// Which emulator a host process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostEmulator {
    /// LocalStack community (`scripts/localstack-host.sh`).
    LocalStack,
    /// MiniStack (`scripts/ministack-host.sh`).
    MiniStack,
}

impl HostEmulator {
    fn script(self) -> PathBuf {
        let name = match self {
            Self::LocalStack => "localstack-host.sh",
            Self::MiniStack => "ministack-host.sh",
        };
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../scripts")
            .join(name)
    }

    /// The script's port variable.
    fn port_variable(self) -> &'static str {
        match self {
            Self::LocalStack => "LOCALSTACK_PORT",
            Self::MiniStack => "MINISTACK_PORT",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::LocalStack => "LocalStack",
            Self::MiniStack => "MiniStack",
        }
    }

    fn log_dir(self) -> &'static str {
        match self {
            Self::LocalStack => "localstack-run",
            Self::MiniStack => "ministack-run",
        }
    }
}

/// The host backend's settings.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// Port to listen on.
    pub port: u16,
    /// Which emulator.
    pub emulator: HostEmulator,
}

impl Default for HostOptions {
    fn default() -> Self {
        Self {
            port: std::env::var("LOGLAB_HOST_PORT")
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or(4566),
            emulator: HostEmulator::LocalStack,
        }
    }
}

impl HostOptions {
    /// MiniStack on `LOGLAB_MINISTACK_PORT`, else 4567 (beside LocalStack's 4566).
    pub fn ministack() -> Self {
        Self {
            port: std::env::var("LOGLAB_MINISTACK_PORT")
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or(4567),
            emulator: HostEmulator::MiniStack,
        }
    }
}

/// A host process this backend started (or found running); a guard: the process it started
/// is stopped when it is dropped, whatever happened in between.
pub(super) struct Running {
    pub(super) endpoint: String,
    port: u16,
    emulator: HostEmulator,
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
            .arg(self.emulator.script())
            .arg("stop")
            .env(self.emulator.port_variable(), self.port.to_string())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            tracing::warn!(
                port = self.port,
                emulator = self.emulator.name(),
                "could not stop the host process"
            );
        }
    }

    pub(super) fn stop(mut self) {
        self.stop_now();
    }
}

fn run(emulator: HostEmulator, command: &str, port: u16) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg(emulator.script())
        .arg(command)
        .env(emulator.port_variable(), port.to_string())
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
            let output = run(HostEmulator::LocalStack, command, self.port)
                .stdout(std::process::Stdio::null())
                .output()
                .await
                .map_err(|e| {
                    failed(format!(
                        "cannot run {}: {e}",
                        HostEmulator::LocalStack.script().display()
                    ))
                })?;
            if !output.status.success() {
                return Err(failed(format!(
                    "{} {command} failed ({}): {}",
                    HostEmulator::LocalStack.script().display(),
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
        let localstack = self.emulator == HostEmulator::LocalStack;
        (self.started_here && localstack).then(|| Restarter {
            endpoint: self.endpoint.clone(),
            port: self.port,
        })
    }
}

pub(super) async fn start(options: &HostOptions) -> Result<Running, BackendError> {
    let emulator = options.emulator;
    let cannot_run = |e: std::io::Error| {
        BackendError::Host(format!("cannot run {}: {e}", emulator.script().display()))
    };
    let already = run(emulator, "status", options.port)
        .status()
        .await
        .map_err(cannot_run)?
        .success();
    let output = run(emulator, "start", options.port)
        .stderr(std::process::Stdio::inherit())
        .output()
        .await
        .map_err(cannot_run)?;
    if !output.status.success() {
        return Err(BackendError::Host(format!(
            "{} start failed ({}); its messages are above, the {} log is under ~/.cache/loglab/{}-{}/",
            emulator.script().display(),
            output.status,
            emulator.name(),
            emulator.log_dir(),
            options.port
        )));
    }
    let endpoint = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    Ok(Running {
        endpoint,
        port: options.port,
        emulator,
        started_here: !already,
    })
}
