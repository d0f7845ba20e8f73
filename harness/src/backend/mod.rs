//! Where the emulator comes from: a LocalStack container (testcontainers), a LocalStack host
//! process bootstrapped into a cache directory, MiniStack (the second emulator) as a host
//! process the same way, or an emulator already running at a URL. `auto` picks the container
//! when a Docker engine answers, else the host process.
//!
//! [`Emulator`] owns what it started and stops it when dropped (or on [`Emulator::stop`]).

mod container;
mod host;

use std::fmt;

use std::str::FromStr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub use container::{ContainerOptions, LocalStackImage};
pub use host::{HostEmulator, HostOptions};

/// The LocalStack version every backend pins (FACTS.md: newer ones need Python 3.13 or an
/// auth token).
pub const LOCALSTACK_VERSION: &str = "4.9.2";
/// The services the pipeline and the harness use (SNS and CloudWatch for the alarms and their
/// topic, which `deploy --emulator` creates through LocalStack's CloudFormation).
pub const SERVICES: &str =
    "s3,firehose,ssm,logs,events,ec2,iam,sts,sqs,cloudformation,lambda,sns,cloudwatch";
/// How long an emulator may take to become ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(180);

/// Which backend to use (`--backend`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendChoice {
    /// Container when Docker answers, else host.
    Auto,
    /// testcontainers.
    Container,
    /// A LocalStack host process.
    Host,
    /// MiniStack, the second emulator, as a host process.
    MiniStack,
    /// An emulator already running at this URL.
    Endpoint(String),
    /// No emulator: the in-memory adapters behind every port (`loglab run` only;
    /// [`crate::run::memory`]).
    Memory,
}

impl FromStr for BackendChoice {
    type Err = BackendError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "auto" => Ok(Self::Auto),
            "container" => Ok(Self::Container),
            "host" => Ok(Self::Host),
            "ministack" => Ok(Self::MiniStack),
            "memory" => Ok(Self::Memory),
            other => match other.strip_prefix("endpoint=") {
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    Ok(Self::Endpoint(url.trim_end_matches('/').to_owned()))
                }
                _ => Err(BackendError::Choice(other.to_owned())),
            },
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Container => f.write_str("container"),
            Self::Host => f.write_str("host"),
            Self::MiniStack => f.write_str("ministack"),
            Self::Endpoint(url) => write!(f, "endpoint={url}"),
            Self::Memory => f.write_str("memory"),
        }
    }
}

/// Why an emulator could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// `--backend` was not understood.
    #[error(
        "unknown backend {0:?}: use auto, container, host, ministack, memory or endpoint=<http(s) URL>"
    )]
    Choice(String),
    /// The memory backend was asked for where an emulator is needed.
    #[error(
        "the memory backend has no emulator: only `loglab run` runs on it; use auto, container, host or endpoint=<URL> here"
    )]
    NoEmulator,
    /// The container could not be started or did not become ready.
    #[error("LocalStack container from image {image}: {message}")]
    Container {
        /// `name:tag`.
        image: String,
        /// What failed.
        message: String,
    },
    /// The host process could not be bootstrapped or started.
    #[error("LocalStack host process: {0}")]
    Host(String),
    /// Nothing answers at the endpoint.
    #[error("no emulator answers at {url}: {message}")]
    Unreachable {
        /// The endpoint.
        url: String,
        /// What happened.
        message: String,
    },
}

/// The kind of backend actually used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// A container.
    Container,
    /// A host process.
    Host,
    /// MiniStack as a host process.
    MiniStack,
    /// An emulator started by someone else.
    Endpoint,
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Container => "container",
            Self::Host => "host",
            Self::MiniStack => "ministack",
            Self::Endpoint => "endpoint",
        })
    }
}

enum Guard {
    Container(Box<container::Running>),
    Host(host::Running),
    None,
}

/// What restarts an emulator the harness started (`[[faults.restart]]`).
#[derive(Debug, Clone)]
pub enum Restarter {
    /// The container, in place.
    Container(container::Restarter),
    /// The host process, on the same port.
    Host(host::Restarter),
}

impl standins::faults::EmulatorRestart for Restarter {
    async fn restart(&self) -> Result<(), standins::faults::RestartError> {
        match self {
            Self::Container(restarter) => restarter.restart().await,
            Self::Host(restarter) => restarter.restart().await,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Container(restarter) => restarter.describe(),
            Self::Host(restarter) => restarter.describe(),
        }
    }
}

/// A running emulator; stops what it started when dropped.
pub struct Emulator {
    /// Its URL, e.g. `http://127.0.0.1:4566`.
    pub endpoint: String,
    /// Which backend provides it.
    pub kind: BackendKind,
    guard: Guard,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("endpoint", &self.endpoint)
            .field("kind", &self.kind)
            .finish()
    }
}

impl Emulator {
    /// What restarts this emulator mid-run (`[[faults.restart]]`): only one the harness
    /// started; an emulator given by URL, or a host process found already running, is someone
    /// else's.
    pub fn restarter(&self) -> Option<Restarter> {
        match &self.guard {
            Guard::Container(running) => Some(Restarter::Container(running.restarter())),
            Guard::Host(running) => running.restarter().map(Restarter::Host),
            Guard::None => None,
        }
    }

    /// Stops what this emulator started (nothing for `endpoint`).
    pub async fn stop(mut self) {
        match std::mem::replace(&mut self.guard, Guard::None) {
            Guard::Container(running) => running.stop().await,
            Guard::Host(running) => running.stop(),
            Guard::None => {}
        }
    }
}

/// Options of the backends that start something.
#[derive(Debug, Clone, Default)]
pub struct BackendOptions {
    /// The container backend's image and token.
    pub container: ContainerOptions,
    /// The host backend's port and cache.
    pub host: HostOptions,
}

/// Provides an emulator as chosen.
pub async fn start(
    choice: &BackendChoice,
    options: &BackendOptions,
) -> Result<Emulator, BackendError> {
    match choice {
        BackendChoice::Endpoint(url) => {
            wait_healthy(url, ENDPOINT_HEALTH_WAIT).await?;
            Ok(Emulator {
                endpoint: url.clone(),
                kind: BackendKind::Endpoint,
                guard: Guard::None,
            })
        }
        BackendChoice::Container => start_container(options).await,
        BackendChoice::Host => start_host(options).await,
        BackendChoice::MiniStack => {
            let running = host::start(&HostOptions::ministack()).await?;
            Ok(Emulator {
                endpoint: running.endpoint.clone(),
                kind: BackendKind::MiniStack,
                guard: Guard::Host(running),
            })
        }
        BackendChoice::Memory => Err(BackendError::NoEmulator),
        BackendChoice::Auto => {
            if container::docker_answers().await {
                tracing::info!("a Docker engine answers: using the container backend");
                start_container(options).await
            } else {
                tracing::info!("no Docker engine answers: using the host backend");
                start_host(options).await
            }
        }
    }
}

async fn start_container(options: &BackendOptions) -> Result<Emulator, BackendError> {
    let running = container::start(&options.container).await?;
    Ok(Emulator {
        endpoint: running.endpoint.clone(),
        kind: BackendKind::Container,
        guard: Guard::Container(Box::new(running)),
    })
}

async fn start_host(options: &BackendOptions) -> Result<Emulator, BackendError> {
    let running = host::start(&options.host).await?;
    Ok(Emulator {
        endpoint: running.endpoint.clone(),
        kind: BackendKind::Host,
        guard: Guard::Host(running),
    })
}

/// How long an emulator given by URL may take to answer its health check.
pub const ENDPOINT_HEALTH_WAIT: Duration = Duration::from_secs(5);
/// Real time between two health checks.
pub const HEALTH_POLL: Duration = Duration::from_millis(250);
/// How long one health check may take to connect.
pub const HEALTH_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one health check may wait for the status line.
pub const HEALTH_ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// Waits until `GET <url>/_localstack/health` answers 200.
pub async fn wait_healthy(url: &str, timeout: Duration) -> Result<(), BackendError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let last = match health_status(url).await {
            Ok(200) => return Ok(()),
            Ok(status) => format!("health check answered HTTP {status}"),
            Err(e) => e,
        };
        if tokio::time::Instant::now() >= deadline {
            return Err(BackendError::Unreachable {
                url: url.to_owned(),
                message: last,
            });
        }
        tokio::time::sleep(HEALTH_POLL).await;
    }
}

/// The HTTP status of the health endpoint, with a plain HTTP/1.0 request (no TLS: emulators
/// listen on loopback or a published port).
async fn health_status(url: &str) -> Result<u16, String> {
    let authority = url
        .strip_prefix("http://")
        .ok_or("only http:// endpoints can be health-checked")?
        .split('/')
        .next()
        .unwrap_or_default();
    let connect = tokio::net::TcpStream::connect(authority);
    let mut stream = tokio::time::timeout(HEALTH_CONNECT_TIMEOUT, connect)
        .await
        .map_err(|_| "connection timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    let request = format!("GET /_localstack/health HTTP/1.0\r\nHost: {authority}\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    tokio::time::timeout(HEALTH_ANSWER_TIMEOUT, stream.read_exact(&mut head))
        .await
        .map_err(|_| format!("no answer within {} s", HEALTH_ANSWER_TIMEOUT.as_secs()))?
        .map_err(|e| e.to_string())?;
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {:?}", String::from_utf8_lossy(&head)))
}

pub use pipeline::emulator::sdk_config;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_and_print() {
        for text in [
            "auto",
            "container",
            "host",
            "endpoint=http://127.0.0.1:4566",
        ] {
            assert_eq!(text.parse::<BackendChoice>().unwrap().to_string(), text);
        }
        let error = "docker".parse::<BackendChoice>().unwrap_err().to_string();
        assert!(
            error.contains("\"docker\"") && error.contains("endpoint=<http(s) URL>"),
            "{error}"
        );
        assert!("endpoint=localhost:4566".parse::<BackendChoice>().is_err());
    }

    #[test]
    fn an_emulator_given_by_url_is_not_restarted() {
        let given = Emulator {
            endpoint: "http://127.0.0.1:4566".to_owned(),
            kind: BackendKind::Endpoint,
            guard: Guard::None,
        };
        assert!(given.restarter().is_none(), "someone else's emulator");
    }

    #[tokio::test]
    async fn an_endpoint_where_nothing_listens_is_reported() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let url = format!("http://127.0.0.1:{port}");
        let error = wait_healthy(&url, Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(error.to_string().contains(&url), "{error}");
    }
}
