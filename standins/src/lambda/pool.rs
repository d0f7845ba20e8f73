//! A function's execution environments and how one invocation goes through them: an idle
//! environment takes it (a new one starts when all are busy, up to the concurrency cap); the
//! result is the function's response, its error, a timeout (the template's `Timeout`, after
//! which the environment is replaced) or a crash (the process ended mid-invocation).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Semaphore;

use super::LambdaError;
use super::environment::{ExecutionEnvironment, Launch};

/// Lines of a failed invocation's output that go into its error.
const ERROR_OUTPUT_LINES: usize = 12;
/// How often a running invocation checks that its process is still alive.
const LIVENESS_POLL: Duration = Duration::from_millis(25);

/// Why an invocation did not return a response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InvokeError {
    /// The handler returned an error (Lambda: `X-Amz-Function-Error: Unhandled`).
    #[error("{error_type}: {message}")]
    Function {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
    /// The function ran past its timeout and was stopped (Lambda's own words).
    #[error("Task timed out after {seconds:.2} seconds; last output:\n{output}")]
    Timeout {
        /// The configured timeout.
        seconds: f64,
        /// What it printed last.
        output: String,
    },
    /// The process ended during the invocation (Lambda's own words).
    #[error("Runtime exited with error: {status}; last output:\n{output}")]
    Crashed {
        /// How it ended.
        status: String,
        /// What it printed last.
        output: String,
    },
    /// The environment could not start (an init error fails the run).
    #[error(transparent)]
    Start(#[from] LambdaError),
    /// The Invoke API answered something else.
    #[error("Invoke API: {0}")]
    Transport(String),
}

impl InvokeError {
    /// The error type and message Lambda puts on a dead letter (`ErrorCode`, `ErrorMessage`).
    pub fn code_and_message(&self) -> (String, String) {
        match self {
            Self::Function {
                error_type,
                message,
            } => (error_type.clone(), message.clone()),
            Self::Timeout { .. } => ("Sandbox.Timedout".to_owned(), self.to_string()),
            Self::Crashed { .. } => ("Runtime.ExitError".to_owned(), self.to_string()),
            Self::Start(_) => ("Runtime.InitError".to_owned(), self.to_string()),
            Self::Transport(_) => ("ServiceException".to_owned(), self.to_string()),
        }
    }
}

impl InvokeError {
    /// Whether Lambda would retry the asynchronous invocation (every failure of the function
    /// itself; not a harness failure).
    pub fn is_function_failure(&self) -> bool {
        !matches!(self, Self::Start(_) | Self::Transport(_))
    }
}

/// What a pool did, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FunctionStats {
    /// Invocations.
    pub invocations: u64,
    /// Invocations that returned a response.
    pub succeeded: u64,
    /// Invocations whose handler returned an error.
    pub errors: u64,
    /// Invocations stopped at the timeout.
    pub timeouts: u64,
    /// Invocations whose process crashed.
    pub crashes: u64,
    /// Execution environments started (cold starts).
    pub environments: u64,
    /// Total time in invocations, milliseconds.
    pub duration_ms: u64,
}

/// The execution environments of one function.
#[derive(Debug)]
pub struct FunctionPool {
    launch: Launch,
    timeout: Duration,
    idle: Mutex<Vec<ExecutionEnvironment>>,
    slots: Semaphore,
    http: reqwest::Client,
    stats: Mutex<FunctionStats>,
}

impl FunctionPool {
    /// A pool that runs `launch` with at most `concurrency` environments, each invocation
    /// limited to `timeout`. Starts one environment now, so that an init error fails early.
    pub async fn start(
        launch: Launch,
        timeout: Duration,
        concurrency: usize,
    ) -> Result<Self, LambdaError> {
        let first = ExecutionEnvironment::start(&launch).await?;
        Ok(Self {
            launch,
            timeout,
            idle: Mutex::new(vec![first]),
            slots: Semaphore::new(concurrency.max(1)),
            http: reqwest::Client::new(),
            stats: Mutex::new(FunctionStats {
                environments: 1,
                ..FunctionStats::default()
            }),
        })
    }

    /// The ports of the idle environments' Runtime APIs (for checking where they listen).
    pub fn runtime_api_ports(&self) -> Vec<u16> {
        self.idle
            .lock()
            .map(|idle| {
                idle.iter()
                    .map(ExecutionEnvironment::runtime_api_port)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What it did so far.
    pub fn stats(&self) -> FunctionStats {
        crate::locked(&self.stats).clone()
    }

    /// Invokes the function with `payload` and waits for its result.
    pub async fn invoke(&self, payload: &[u8]) -> Result<serde_json::Value, InvokeError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| InvokeError::Transport(e.to_string()))?;
        let idle = crate::locked(&self.idle).pop();
        let mut environment = match idle {
            Some(environment) => environment,
            None => {
                let started = ExecutionEnvironment::start(&self.launch).await?;
                crate::locked(&self.stats).environments += 1;
                started
            }
        };
        let started = Instant::now();
        let result = self.run(&mut environment, payload).await;
        let healthy = match &result {
            Err(InvokeError::Timeout { .. } | InvokeError::Crashed { .. }) => {
                environment.restart(&self.launch).await.is_ok()
            }
            _ => true,
        };
        self.count(&result, started.elapsed());
        if healthy {
            environment.served += 1;
            crate::locked(&self.idle).push(environment);
        } else {
            environment.stop().await;
        }
        result
    }

    async fn run(
        &self,
        environment: &mut ExecutionEnvironment,
        payload: &[u8],
    ) -> Result<serde_json::Value, InvokeError> {
        let url = environment.invoke_url(&self.launch.binary);
        let call = self.http.post(url).body(payload.to_vec()).send();
        let ended = tokio::select! {
            response = call => Ended::Answered(response),
            () = tokio::time::sleep(self.timeout) => Ended::TimedOut,
            status = exit_of(environment) => Ended::Exited(status),
        };
        match ended {
            Ended::Answered(response) => read_response(response).await,
            Ended::TimedOut => Err(InvokeError::Timeout {
                seconds: self.timeout.as_secs_f64(),
                output: last_lines(environment),
            }),
            Ended::Exited(status) => {
                // Let the readers take the process's last lines.
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(InvokeError::Crashed {
                    status,
                    output: last_lines(environment),
                })
            }
        }
    }

    fn count(&self, result: &Result<serde_json::Value, InvokeError>, took: Duration) {
        let mut stats = crate::locked(&self.stats);
        stats.invocations += 1;
        stats.duration_ms += u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(_) => stats.succeeded += 1,
            Err(InvokeError::Function { .. }) => stats.errors += 1,
            Err(InvokeError::Timeout { .. }) => stats.timeouts += 1,
            Err(InvokeError::Crashed { .. }) => stats.crashes += 1,
            Err(_) => {}
        }
    }

    /// Stops every environment.
    pub async fn stop(&self) {
        let environments = std::mem::take(&mut *crate::locked(&self.idle));
        for environment in environments {
            environment.stop().await;
        }
    }
}

/// How an invocation's wait ended.
enum Ended {
    /// The Invoke API answered (or failed to).
    Answered(Result<reqwest::Response, reqwest::Error>),
    /// The function's timeout passed first.
    TimedOut,
    /// The process ended first, with this status.
    Exited(String),
}

/// The environment's last output lines, for an error.
fn last_lines(environment: &ExecutionEnvironment) -> String {
    let lines = environment.output.lines();
    lines[lines.len().saturating_sub(ERROR_OUTPUT_LINES)..].join("\n")
}

async fn exit_of(environment: &mut ExecutionEnvironment) -> String {
    loop {
        if let Some(status) = environment.exited() {
            return status;
        }
        tokio::time::sleep(LIVENESS_POLL).await;
    }
}

/// The Invoke API's answer: the response, or the function's error (HTTP 500 from
/// cargo-lambda's emulator, or 200 with `X-Amz-Function-Error` from Lambda).
async fn read_response(
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<serde_json::Value, InvokeError> {
    let response = response.map_err(|e| InvokeError::Transport(e.to_string()))?;
    let status = response.status();
    let function_error = response.headers().contains_key("x-amz-function-error");
    let body = response
        .bytes()
        .await
        .map_err(|e| InvokeError::Transport(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        InvokeError::Transport(format!(
            "HTTP {status}, not JSON ({e}): {}",
            String::from_utf8_lossy(&body)
        ))
    })?;
    if status.is_success() && !function_error {
        return Ok(value);
    }
    match value.get("errorType").and_then(|t| t.as_str()) {
        Some(error_type) if status.is_success() || status.as_u16() == 500 => {
            Err(InvokeError::Function {
                error_type: error_type.to_owned(),
                message: value["errorMessage"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            })
        }
        _ => Err(InvokeError::Transport(format!("HTTP {status}: {value}"))),
    }
}
