//! The pipeline's port conformance suites against MiniStack, the second emulator
//! (scripts/ministack-host.sh), through the same SDK adapters as `ports_localstack.rs`.
//!
//! Parameter Store passes its suite, and EC2 describes Linux instances as the suite expects.
//! Where MiniStack differs from AWS, each difference is pinned by a test here, so that the day
//! it changes the test fails and says what to change (docs/fidelity.md, "Emulators side by
//! side"):
//! - RunInstances from a Windows image leaves the instance's `Platform` empty (AWS reports
//!   `windows`, which the onboarding handler reads to choose its script).
//! - SendCommand refuses an instance with no SSM agent behind it (`InvalidInstanceId`), as AWS
//!   does; its instances have an agent only when MiniStack runs them as containers, so the
//!   harness's simulated SSM stands in for commands.
//! - DescribeInstanceInformation answers (LocalStack does not implement it): an instance with
//!   no agent is not managed.
//! - Firehose writes each record as an object of its own as soon as it arrives (AWS buffers by
//!   size and interval and writes records in order): the harness's Firehose model stands in.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use std::collections::BTreeMap;

use crate::conformance;
use crate::support;

use pipeline::firehose::RecordSink as _;
use pipeline::firehose::sdk::FirehoseSink;
use pipeline::onboard::sdk::{Ec2Directory, SsmPorts};
use pipeline::onboard::{
    CommandRequest, CommandRunner as _, InstanceDescription, ManagedInstances as _,
};
use support::Emulator;

async fn ministack() -> Option<(String, Emulator)> {
    let url = support::ministack_endpoint()?;
    let emulator = Emulator::at(&url).await;
    Some((url, emulator))
}

#[tokio::test]
async fn parameter_store() {
    let Some((_, emulator)) = ministack().await else {
        return;
    };
    super::ports_localstack::parameter_store_on(&emulator).await;
}

#[tokio::test]
async fn instance_directory_of_linux_instances() {
    let Some((_, emulator)) = ministack().await else {
        return;
    };
    let image = emulator.image(false).await;
    let tags = [("Name", "web-1"), ("CCP-Managed", "true")];
    let id = emulator.launch(&image, &tags).await;
    let known = InstanceDescription {
        instance_id: id,
        state: "running".to_owned(),
        platform: None,
        platform_details: None,
        tags: tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    };
    let directory = Ec2Directory::new(emulator.ec2.clone());
    conformance::instance_directory(&directory, &known, "i-0fffffffffffffff0").await;
}

#[tokio::test]
async fn a_windows_instances_platform_is_a_named_gap_of_ministack() {
    let Some((_, emulator)) = ministack().await else {
        return;
    };
    let image = emulator.image(true).await;
    let id = emulator.launch(&image, &[]).await;
    let found = pipeline::onboard::InstanceDirectory::describe_instance(
        &Ec2Directory::new(emulator.ec2.clone()),
        &id,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        found.platform, None,
        "MiniStack now reports the Windows platform: run conformance::instance_directory with a \
         Windows instance here and update the fidelity table"
    );
}

/// AWS refuses Run Command for an instance whose SSM agent is not running
/// (`InvalidInstanceId`, SendCommand's API Reference); MiniStack does too.
#[tokio::test]
async fn send_command_refuses_an_instance_without_an_agent_as_aws_does() {
    let Some((_, emulator)) = ministack().await else {
        return;
    };
    let image = emulator.image(false).await;
    let id = emulator.launch(&image, &[]).await;
    let ssm = SsmPorts::new(emulator.ssm.clone());
    let request = CommandRequest {
        instance_id: id.clone(),
        document: "AWS-ConfigureAWSPackage".to_owned(),
        parameters: BTreeMap::from([
            ("action".to_owned(), vec!["Install".to_owned()]),
            ("name".to_owned(), vec!["AmazonCloudWatchAgent".to_owned()]),
        ]),
        comment: "port conformance".to_owned(),
        delivery_timeout_seconds: 600,
    };
    let error = ssm
        .send_command(&request)
        .await
        .expect_err("MiniStack now runs commands on agentless instances");
    assert_eq!(error.code, "InvalidInstanceId", "{error}");
    // DescribeInstanceInformation answers; the instance is not managed, nor is an unknown one.
    for instance in [id.as_str(), conformance::NOT_A_TARGET] {
        assert_eq!(ssm.describe_managed_instance(instance).await.unwrap(), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firehose_writing_an_object_per_record_is_a_named_gap_of_ministack() {
    let Some((url, _)) = ministack().await else {
        return;
    };
    let target = support::DeliveryTarget::create(&url).await;
    let sink = FirehoseSink::new(target.firehose.clone(), &target.stream);
    let records: Vec<Vec<u8>> = (0..3)
        .map(|i| format!("{{\"row\":{i}}}\n").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    let results = sink.put_record_batch(&refs).await.unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let objects = target.object_count("rows/").await;
    assert_eq!(
        objects, 3,
        "MiniStack's Firehose now buffers: run conformance::record_sink here"
    );
    let mut delivered: Vec<String> = String::from_utf8(target.objects("rows/").await)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    delivered.sort();
    assert_eq!(delivered, ["{\"row\":0}", "{\"row\":1}", "{\"row\":2}"]);
}
