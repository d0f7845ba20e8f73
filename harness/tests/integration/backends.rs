//! The LocalStack backends for real: the container backend (testcontainers, the pinned local
//! image, readiness on `Ready.`) and the host backend (the cached host process on a port of its
//! own) each start an emulator that serves S3 through the SDK, and stop it when done; `auto`
//! picks the container when a Docker engine answers.
//!
//! These need a Docker engine and the image that `scripts/localstack-image.sh` builds (the test
//! command sets both up). Outside CI, `LOGLAB_SKIP_CONTAINER=1` skips the container tests,
//! saying so; in CI nothing is skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop loudly"
)]

use harness::backend::{self, BackendChoice, BackendKind, BackendOptions, HostOptions, sdk_config};
use standins::faults::EmulatorRestart as _;

fn skip_containers() -> bool {
    let skip =
        std::env::var_os("CI").is_none() && std::env::var_os("LOGLAB_SKIP_CONTAINER").is_some();
    if skip {
        eprintln!("SKIPPED: LOGLAB_SKIP_CONTAINER is set");
    }
    skip
}

async fn serves_s3(endpoint: &str, bucket: &str) {
    let config = sdk_config(endpoint, "us-east-1").await;
    let s3 = stack::provision::path_style_s3(&config);
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    let listed = s3.list_buckets().send().await.unwrap();
    assert!(
        listed.buckets().iter().any(|b| b.name() == Some(bucket)),
        "{endpoint} lists {bucket}"
    );
}

#[tokio::test]
async fn container_backend_serves_and_stops() {
    if skip_containers() {
        return;
    }
    let emulator = backend::start(&BackendChoice::Container, &BackendOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(emulator.kind, BackendKind::Container);
    serves_s3(&emulator.endpoint, "from-the-container").await;
    // Published on 127.0.0.1 only (Docker's default is every interface).
    let port = emulator
        .endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap();
    crate::support::assert_loopback_only(port, "the LocalStack container's published port");
    let endpoint = emulator.endpoint.clone();
    emulator.stop().await;
    assert!(
        backend::wait_healthy(&endpoint, std::time::Duration::from_secs(1))
            .await
            .is_err(),
        "stopped"
    );
}

#[tokio::test]
async fn auto_prefers_the_container_when_docker_answers() {
    if skip_containers() {
        return;
    }
    let emulator = backend::start(&BackendChoice::Auto, &BackendOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(emulator.kind, BackendKind::Container);
    emulator.stop().await;
}

#[tokio::test]
async fn host_backend_serves_on_its_own_port_and_stops() {
    let options = BackendOptions {
        host: HostOptions {
            port: 4599,
            ..HostOptions::default()
        },
        ..BackendOptions::default()
    };
    let emulator = backend::start(&BackendChoice::Host, &options)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (emulator.kind, emulator.endpoint.as_str()),
        (BackendKind::Host, "http://127.0.0.1:4599")
    );
    serves_s3(&emulator.endpoint, "from-the-host-process").await;
    // The endpoint backend uses what is running, and leaves it running.
    let same = backend::start(
        &BackendChoice::Endpoint(emulator.endpoint.clone()),
        &options,
    )
    .await
    .unwrap();
    assert_eq!(same.kind, BackendKind::Endpoint);
    same.stop().await;
    backend::wait_healthy(&emulator.endpoint, std::time::Duration::from_secs(2))
        .await
        .unwrap();
    let endpoint = emulator.endpoint.clone();
    emulator.stop().await;
    assert!(
        backend::wait_healthy(&endpoint, std::time::Duration::from_secs(1))
            .await
            .is_err(),
        "stopped"
    );
}

/// `[[faults.restart]]` on the host backend: the process stops and starts again on the same
/// port, and (LocalStack's community edition keeps no state) what it held is gone.
#[tokio::test]
async fn host_backend_restarts_in_place_and_loses_its_state() {
    let options = BackendOptions {
        host: HostOptions {
            port: 4598,
            ..HostOptions::default()
        },
        ..BackendOptions::default()
    };
    let emulator = backend::start(&BackendChoice::Host, &options)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    restarts_in_place(&emulator, "before-the-host-restart").await;
    emulator.stop().await;
}

/// The same on the container backend: its gateway is published on a fixed port, so the
/// endpoint survives the restart.
#[tokio::test]
async fn container_backend_restarts_in_place_and_loses_its_state() {
    if skip_containers() {
        return;
    }
    let emulator = backend::start(&BackendChoice::Container, &BackendOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    restarts_in_place(&emulator, "before-the-container-restart").await;
    emulator.stop().await;
}

async fn restarts_in_place(emulator: &backend::Emulator, bucket: &str) {
    serves_s3(&emulator.endpoint, bucket).await;
    let restarter = emulator
        .restarter()
        .expect("an emulator the backend started can be restarted");
    restarter
        .restart()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", restarter.describe()));
    backend::wait_healthy(&emulator.endpoint, std::time::Duration::from_secs(2))
        .await
        .unwrap();
    let config = sdk_config(&emulator.endpoint, "us-east-1").await;
    let listed = stack::provision::path_style_s3(&config)
        .list_buckets()
        .send()
        .await
        .unwrap();
    assert!(
        listed.buckets().iter().all(|b| b.name() != Some(bucket)),
        "a restarted LocalStack keeps no state: {listed:?}"
    );
    // And it serves again.
    serves_s3(&emulator.endpoint, bucket).await;
}

/// EventBridge refuses a custom PutEvents entry whose source is an `aws.` service's (AWS's
/// PutEvents reference: "NotAuthorizedForSourceException"); MiniStack does too, where
/// LocalStack accepts the harness's `aws.ec2` state changes. A run on MiniStack therefore needs
/// the harness to deliver the rule's events itself (docs/fidelity.md, "Emulators side by side").
#[tokio::test]
async fn ministack_refuses_put_events_from_an_aws_source_as_aws_does() {
    let Some(url) = crate::support::ministack_endpoint() else {
        return;
    };
    let config = sdk_config(&url, "us-east-1").await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .source("aws.ec2")
        .detail_type("EC2 Instance State-change Notification")
        .detail(r#"{"instance-id":"i-0123456789abcdef0","state":"running"}"#)
        .build();
    let refused = match events.put_events().entries(entry).send().await {
        Ok(output) => output
            .entries()
            .iter()
            .filter_map(|e| e.error_message())
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .join("; "),
        Err(error) => format!(
            "{}",
            aws_sdk_eventbridge::error::DisplayErrorContext(&error)
        ),
    };
    assert!(
        refused.contains("Not authorized for the source"),
        "MiniStack now accepts aws.* sources: {refused:?}"
    );
}
