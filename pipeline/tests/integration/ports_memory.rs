//! The pipeline's port conformance suites (`conformance/`) against the in-memory adapters:
//! `MemoryAccount` (EC2, SSM, Parameter Store) and `MemorySink` (Firehose). The same checks run
//! against LocalStack in `ports_localstack.rs`.
#![allow(clippy::unwrap_used, reason = "tests stop loudly")]

use crate::conformance;

use pipeline::firehose::memory::MemorySink;
use pipeline::onboard::InstanceDescription;
use pipeline::onboard::memory::MemoryAccount;

fn instance(id: &str) -> InstanceDescription {
    InstanceDescription {
        instance_id: id.to_owned(),
        state: "running".to_owned(),
        platform: Some("windows".to_owned()),
        platform_details: Some("Windows".to_owned()),
        tags: vec![
            ("Name".to_owned(), "web-1".to_owned()),
            ("CCP-Managed".to_owned(), "true".to_owned()),
        ],
    }
}

#[tokio::test]
async fn instance_directory() {
    let account = MemoryAccount::new();
    let known = instance("i-0123456789abcdef0");
    account.add_instance(known.clone());
    conformance::instance_directory(&account, &known, "i-0fffffffffffffff0").await;
}

#[tokio::test]
async fn parameter_store() {
    let account = MemoryAccount::new();
    account.put_parameter("/loglab/conformance", conformance::PARAMETER_VALUE);
    conformance::parameter_store(
        &account,
        "/loglab/conformance",
        conformance::PARAMETER_VALUE,
        "/loglab/missing",
    )
    .await;
}

#[tokio::test]
async fn command_runner() {
    let account = MemoryAccount::new();
    account.add_instance(instance("i-0123456789abcdef0"));
    account.set_polls_before_result(2);
    let command = conformance::command_runner(&account, "i-0123456789abcdef0").await;
    conformance::no_invocation_elsewhere(&account, &command).await;
}

#[tokio::test]
async fn managed_instances() {
    let account = MemoryAccount::new();
    account.register("i-0123456789abcdef0", "Windows");
    conformance::managed_instances(
        &account,
        "i-0123456789abcdef0",
        "Windows",
        "i-0fffffffffffffff0",
    )
    .await;
}

#[tokio::test]
async fn record_sink() {
    let sink = MemorySink::new("conformance");
    conformance::record_sink(&sink, || async { sink.accepted_bytes() }).await;
}
