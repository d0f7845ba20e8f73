//! The `container` backend: LocalStack in a container started by testcontainers, from an image
//! with a pinned tag, ready when LocalStack prints `Ready.` and its health endpoint answers.
//!
//! No registry is reachable on our machines, so the default image is built locally by
//! `scripts/localstack-image.sh` (built on first use when missing). Users with a registry can
//! set `LOGLAB_LOCALSTACK_IMAGE=localstack/localstack:4.9.2`; `LOCALSTACK_AUTH_TOKEN` is passed
//! through when set (LocalStack's own images need one after 4.14).

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use testcontainers::core::{ContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, Image, ImageExt};

use super::{BackendError, LOCALSTACK_VERSION, READY_TIMEOUT, SERVICES, wait_healthy};

/// LocalStack's gateway port inside the container.
pub const GATEWAY_PORT: u16 = 4566;
/// The image built by `scripts/localstack-image.sh` (version, then the recipe's revision).
pub fn default_image() -> String {
    format!("loglab/localstack:{LOCALSTACK_VERSION}-r2")
}

/// The container backend's settings.
#[derive(Debug, Clone)]
pub struct ContainerOptions {
    /// `name:tag`.
    pub image: String,
    /// Passed to the container as `LOCALSTACK_AUTH_TOKEN` when set.
    pub auth_token: Option<String>,
}

impl Default for ContainerOptions {
    fn default() -> Self {
        Self {
            image: std::env::var("LOGLAB_LOCALSTACK_IMAGE").unwrap_or_else(|_| default_image()),
            auth_token: std::env::var("LOCALSTACK_AUTH_TOKEN")
                .ok()
                .filter(|t| !t.is_empty()),
        }
    }
}

/// The LocalStack image as testcontainers sees it.
#[derive(Debug, Clone)]
pub struct LocalStackImage {
    name: String,
    tag: String,
    env: Vec<(String, String)>,
}

impl LocalStackImage {
    /// From `name:tag` (the tag is required: no `latest`).
    pub fn new(image: &str, auth_token: Option<&str>) -> Result<Self, BackendError> {
        let (name, tag) = image
            .rsplit_once(':')
            .filter(|(name, tag)| {
                !name.is_empty() && !tag.is_empty() && !tag.contains('/') && *tag != "latest"
            })
            .ok_or_else(|| BackendError::Container {
                image: image.to_owned(),
                message: "the image needs a pinned tag, written name:tag (not latest)".to_owned(),
            })?;
        let mut env = vec![
            ("SERVICES".to_owned(), SERVICES.to_owned()),
            (
                "GATEWAY_LISTEN".to_owned(),
                format!("0.0.0.0:{GATEWAY_PORT}"),
            ),
            ("DISABLE_EVENTS".to_owned(), "1".to_owned()),
            ("SKIP_SSL_CERT_DOWNLOAD".to_owned(), "1".to_owned()),
        ];
        if let Some(token) = auth_token {
            env.push(("LOCALSTACK_AUTH_TOKEN".to_owned(), token.to_owned()));
        }
        Ok(Self {
            name: name.to_owned(),
            tag: tag.to_owned(),
            env,
        })
    }
}

impl Image for LocalStackImage {
    fn name(&self) -> &str {
        &self.name
    }

    fn tag(&self) -> &str {
        &self.tag
    }

    fn ready_conditions(&self) -> Vec<WaitFor> {
        vec![WaitFor::message_on_stdout("Ready.")]
    }

    fn env_vars(
        &self,
    ) -> impl IntoIterator<Item = (impl Into<Cow<'_, str>>, impl Into<Cow<'_, str>>)> {
        self.env.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn expose_ports(&self) -> &[ContainerPort] {
        &[ContainerPort::Tcp(GATEWAY_PORT)]
    }
}

/// A started container.
pub(super) struct Running {
    pub(super) endpoint: String,
    container: Arc<ContainerAsync<LocalStackImage>>,
}

impl Running {
    pub(super) async fn stop(self) {
        match Arc::try_unwrap(self.container) {
            Ok(container) => {
                if let Err(e) = container.rm().await {
                    tracing::warn!(error = %e, "could not remove the LocalStack container");
                }
            }
            // A restart holds it this instant; dropping the last handle removes it.
            Err(shared) => drop(shared),
        }
    }

    /// Restarts this container in place ([`standins::faults::EmulatorRestart`]).
    pub(super) fn restarter(&self) -> Restarter {
        Restarter {
            endpoint: self.endpoint.clone(),
            container: Arc::downgrade(&self.container),
        }
    }
}

/// Stops and starts the container; its published port is fixed at start, so the endpoint
/// stays the same.
#[derive(Debug, Clone)]
pub struct Restarter {
    endpoint: String,
    container: Weak<ContainerAsync<LocalStackImage>>,
}

impl standins::faults::EmulatorRestart for Restarter {
    async fn restart(&self) -> Result<(), standins::faults::RestartError> {
        let failed = |message: String| standins::faults::RestartError {
            emulator: self.describe(),
            message,
        };
        let container = self
            .container
            .upgrade()
            .ok_or_else(|| failed("the LocalStack container is already removed".to_owned()))?;
        container
            .stop_with_timeout(Some(10))
            .await
            .map_err(|e| failed(format!("stopping the LocalStack container: {e}")))?;
        container
            .start()
            .await
            .map_err(|e| failed(format!("starting the LocalStack container again: {e}")))?;
        drop(container);
        wait_healthy(&self.endpoint, READY_TIMEOUT)
            .await
            .map_err(|e| failed(e.to_string()))
    }

    fn describe(&self) -> String {
        format!("LocalStack container at {}", self.endpoint)
    }
}

/// A loopback port nothing listens on now: the container's gateway is published there
/// explicitly, so that a restarted container keeps its endpoint.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// How long `docker info` may take before the engine counts as absent.
pub const DOCKER_PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a started container may take to pass its health check after `Ready.`.
pub const CONTAINER_HEALTH_WAIT: Duration = Duration::from_secs(30);

/// Whether a Docker engine answers (`docker info`).
pub(super) async fn docker_answers() -> bool {
    let probe = tokio::process::Command::new("docker")
        .arg("info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    matches!(tokio::time::timeout(DOCKER_PROBE_TIMEOUT, probe).await, Ok(Ok(status)) if status.success())
}

async fn image_exists(image: &str) -> bool {
    let probe = tokio::process::Command::new("docker")
        .args(["image", "inspect", image])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    matches!(probe.await, Ok(status) if status.success())
}

fn image_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/localstack-image.sh")
}

/// Builds our default image when it is missing (other images are the user's to provide).
async fn ensure_image(options: &ContainerOptions) -> Result<(), BackendError> {
    let fail = |message: String| BackendError::Container {
        image: options.image.clone(),
        message,
    };
    if !docker_answers().await {
        return Err(fail("no Docker engine answers (`docker info` fails); run scripts/localstack-image.sh engine, or use --backend host".to_owned()));
    }
    if image_exists(&options.image).await {
        return Ok(());
    }
    if options.image != default_image() {
        return Err(fail(
            "the image is not present locally and no registry is reachable; pull or build it first"
                .to_owned(),
        ));
    }
    tracing::info!(image = %options.image, "building the LocalStack image (one time, about 2.5 minutes)");
    let status = tokio::process::Command::new("bash")
        .arg(image_script())
        .arg("image")
        .env("LOGLAB_LOCALSTACK_IMAGE", &options.image)
        .status()
        .await
        .map_err(|e| fail(format!("cannot run {}: {e}", image_script().display())))?;
    if !status.success() {
        return Err(fail(format!(
            "{} image failed ({status})",
            image_script().display()
        )));
    }
    Ok(())
}

/// The container's published ports on 127.0.0.1 only (Docker publishes on every interface
/// unless a binding names its host address): the emulator is the harness's, not the network's.
fn publish_on_loopback(host: &mut testcontainers::bollard::models::HostConfig) {
    for bindings in host
        .port_bindings
        .iter_mut()
        .flat_map(|ports| ports.values_mut())
    {
        for binding in bindings.iter_mut().flatten() {
            binding.host_ip = Some(LOOPBACK.to_owned());
        }
    }
}

/// The one interface the container's port is published on.
pub const LOOPBACK: &str = "127.0.0.1";

pub(super) async fn start(options: &ContainerOptions) -> Result<Running, BackendError> {
    ensure_image(options).await?;
    let image = LocalStackImage::new(&options.image, options.auth_token.as_deref())?;
    let fail = |message: String| BackendError::Container {
        image: options.image.clone(),
        message,
    };
    let container = image
        .with_mapped_port(free_port().map_err(fail)?, ContainerPort::Tcp(GATEWAY_PORT))
        .with_host_config_modifier(publish_on_loopback)
        .with_startup_timeout(READY_TIMEOUT)
        .start()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let port = container
        .get_host_port_ipv4(GATEWAY_PORT)
        .await
        .map_err(|e| fail(format!("no published port for {GATEWAY_PORT}: {e}")))?;
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_healthy(&endpoint, CONTAINER_HEALTH_WAIT).await?;
    tracing::info!(%endpoint, image = %options.image, "LocalStack container ready");
    Ok(Running {
        endpoint,
        container: Arc::new(container),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_need_a_pinned_tag() {
        assert!(LocalStackImage::new("localstack/localstack:4.9.2", None).is_ok());
        for bad in [
            "localstack/localstack",
            "localstack/localstack:latest",
            "host:5000/ls",
        ] {
            let error = LocalStackImage::new(bad, None).unwrap_err().to_string();
            assert!(
                error.contains("pinned tag") && error.contains(bad),
                "{error}"
            );
        }
    }

    #[test]
    fn the_auth_token_is_passed_through_only_when_set() {
        let with = LocalStackImage::new("a:1", Some("tok")).unwrap();
        assert!(
            with.env
                .contains(&("LOCALSTACK_AUTH_TOKEN".to_owned(), "tok".to_owned()))
        );
        let without = LocalStackImage::new("a:1", None).unwrap();
        assert!(
            without
                .env
                .iter()
                .all(|(k, _)| k != "LOCALSTACK_AUTH_TOKEN")
        );
        assert_eq!(with.name(), "a");
        assert_eq!(with.tag(), "1");
    }
}
