//! One Lambda execution environment: the function's `bootstrap` in a child process of its own,
//! talking to a Runtime API of its own, as on Lambda (each execution environment has a private
//! Runtime API). The Runtime API is cargo-lambda's emulator, `cargo lambda watch
//! --only-lambda-apis`, which serves the Runtime API to processes started elsewhere and the
//! Invoke API to callers.
//!
//! What cargo-lambda's emulator does not do, and the harness does instead (checked against
//! cargo-lambda 1.9.2):
//! - it runs every invocation synchronously: `X-Amz-Invocation-Type: Event` still waits for the
//!   function and returns its result, so the asynchronous queue and Lambda's two retries are the
//!   invoker's ([`super::FunctionPool`]);
//! - it sets `Lambda-Runtime-Deadline-Ms` ten minutes ahead whatever the function's timeout and
//!   never stops a function, so the harness stops an environment that runs past the template's
//!   `Timeout` and starts a fresh one, as Lambda does;
//! - a function error comes back as HTTP 500 with `{"errorType", "errorMessage"}`, where
//!   Lambda's Invoke answers 200 with `X-Amz-Function-Error: Unhandled`; both are read as the
//!   function's error;
//! - it routes invocations by the project's binary names only (`etl-lambda`), so the
//!   function's own name (`FunctionName`) travels in `AWS_LAMBDA_FUNCTION_NAME` only.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use super::LambdaError;

/// Lines of a function's output kept for reports (the most recent).
pub const OUTPUT_LINES: usize = 40;
/// How long a Runtime API may take to accept connections (the first start installs
/// cargo-lambda into its venv).
pub const RUNTIME_API_READY: Duration = Duration::from_secs(120);
/// How long a fresh `bootstrap` gets to fail its init phase before it counts as started: a
/// missing or invalid environment variable ends `main` within milliseconds.
pub const INIT_GRACE: Duration = Duration::from_millis(500);

/// The most recent lines a process printed (stdout and stderr, interleaved as read).
#[derive(Debug, Clone, Default)]
pub struct Output(Arc<Mutex<VecDeque<String>>>);

impl Output {
    fn push(&self, line: String) {
        let mut lines = crate::locked(&self.0);
        if lines.len() == OUTPUT_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// The kept lines, oldest first.
    pub fn lines(&self) -> Vec<String> {
        crate::locked(&self.0).iter().cloned().collect()
    }

    /// The kept lines as one block, for an error message.
    pub fn text(&self) -> String {
        self.lines().join("\n")
    }

    fn capture(&self, child: &mut Child) {
        if let Some(stdout) = child.stdout.take() {
            self.read_lines(stdout);
        }
        if let Some(stderr) = child.stderr.take() {
            self.read_lines(stderr);
        }
    }

    fn read_lines(&self, stream: impl AsyncRead + Unpin + Send + 'static) {
        let out = self.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                out.push(line);
            }
        });
    }
}

/// What starts an environment's processes.
#[derive(Debug, Clone)]
pub struct Launch {
    /// `scripts/cargo-lambda.sh`.
    pub cargo_lambda: PathBuf,
    /// The workspace (cargo-lambda reads its binaries' names there).
    pub workspace: PathBuf,
    /// The unzipped `bootstrap`.
    pub bootstrap: PathBuf,
    /// The binary's name: the Runtime API's and Invoke API's function name.
    pub binary: String,
    /// The environment Lambda would give the process, without `AWS_LAMBDA_RUNTIME_API`.
    pub environment: BTreeMap<String, String>,
}

/// One execution environment.
#[derive(Debug)]
pub struct ExecutionEnvironment {
    port: u16,
    runtime_api: Child,
    bootstrap: Child,
    /// What the bootstrap printed.
    pub output: Output,
    /// Invocations it has served.
    pub served: u64,
}

impl ExecutionEnvironment {
    /// The port its Runtime API (cargo-lambda's) listens on, on 127.0.0.1.
    pub fn runtime_api_port(&self) -> u16 {
        self.port
    }

    /// Starts the Runtime API, then the bootstrap; fails with the function's own output when
    /// its init phase ends the process.
    pub async fn start(launch: &Launch) -> Result<Self, LambdaError> {
        let port = free_port()?;
        let mut runtime_api = Command::new(&launch.cargo_lambda)
            .current_dir(&launch.workspace)
            .args([
                "watch",
                "--only-lambda-apis",
                "--ignore-changes",
                "-A",
                "127.0.0.1",
                "-P",
            ])
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| LambdaError::Start {
                what: format!("{} watch", launch.cargo_lambda.display()),
                message: e.to_string(),
            })?;
        let runtime_output = Output::default();
        runtime_output.capture(&mut runtime_api);
        wait_until_listening(port, &mut runtime_api, &runtime_output).await?;
        let output = Output::default();
        let bootstrap = spawn_bootstrap(launch, port, &output)?;
        let mut environment = Self {
            port,
            runtime_api,
            bootstrap,
            output,
            served: 0,
        };
        environment.check_init(launch).await?;
        Ok(environment)
    }

    async fn check_init(&mut self, launch: &Launch) -> Result<(), LambdaError> {
        tokio::time::sleep(INIT_GRACE).await;
        if let Ok(Some(status)) = self.bootstrap.try_wait() {
            // Let the readers take the last lines.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return Err(LambdaError::Init {
                function: launch.binary.clone(),
                status: status.to_string(),
                output: self.output.text(),
            });
        }
        Ok(())
    }

    /// The Invoke API's URL for the function.
    pub fn invoke_url(&self, binary: &str) -> String {
        format!(
            "http://127.0.0.1:{}/2015-03-31/functions/{binary}/invocations",
            self.port
        )
    }

    /// Whether the bootstrap process has ended, and how.
    pub fn exited(&mut self) -> Option<String> {
        match self.bootstrap.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    /// Stops the bootstrap (a timed-out or crashed invocation) and starts a fresh one on the
    /// same Runtime API, as Lambda replaces the execution environment.
    pub async fn restart(&mut self, launch: &Launch) -> Result<(), LambdaError> {
        let _ = self.bootstrap.kill().await;
        self.output = Output::default();
        self.bootstrap = spawn_bootstrap(launch, self.port, &self.output)?;
        self.check_init(launch).await
    }

    /// Stops both processes.
    pub async fn stop(mut self) {
        let _ = self.bootstrap.kill().await;
        let _ = self.runtime_api.kill().await;
    }
}

fn spawn_bootstrap(launch: &Launch, port: u16, output: &Output) -> Result<Child, LambdaError> {
    let task_root = launch.bootstrap.parent().unwrap_or(Path::new("."));
    let mut child = Command::new(&launch.bootstrap)
        .current_dir(task_root)
        .env_clear()
        .envs(&launch.environment)
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt/{}", launch.binary),
        )
        .env("LAMBDA_TASK_ROOT", task_root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| LambdaError::Start {
            what: launch.bootstrap.display().to_string(),
            message: e.to_string(),
        })?;
    output.capture(&mut child);
    Ok(child)
}

fn free_port() -> Result<u16, LambdaError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| LambdaError::Start {
        what: "a local port for the Runtime API".to_owned(),
        message: e.to_string(),
    })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| LambdaError::Start {
            what: "a local port for the Runtime API".to_owned(),
            message: e.to_string(),
        })
}

async fn wait_until_listening(
    port: u16,
    process: &mut Child,
    output: &Output,
) -> Result<(), LambdaError> {
    let deadline = tokio::time::Instant::now() + RUNTIME_API_READY;
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if let Ok(Some(status)) = process.try_wait() {
            return Err(LambdaError::Start {
                what: "cargo lambda watch".to_owned(),
                message: format!("exited ({status}):\n{}", output.text()),
            });
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(LambdaError::Start {
                what: "cargo lambda watch".to_owned(),
                message: format!(
                    "not listening on 127.0.0.1:{port} after {} s:\n{}",
                    RUNTIME_API_READY.as_secs(),
                    output.text()
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
