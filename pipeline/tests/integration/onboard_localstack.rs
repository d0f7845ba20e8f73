//! The onboarding handler through the real aws-sdk-ec2 and aws-sdk-ssm against LocalStack:
//! instances launched with RunInstances (tagged, untagged, wrongly cased, Windows and
//! Linux), the handler run on their state-change events, and what it did read back from
//! LocalStack with ListCommands. Needs `LOCALSTACK_ENDPOINT` (`scripts/test.sh` sets it).
//!
//! What this proves: the EC2 adapter reads tags and platform from DescribeInstances and
//! maps an unknown id to "not found"; the handler's SendCommand requests are accepted, with
//! the right documents, parameters and scripts for each platform, and only for instances
//! with the exact tag; GetCommandInvocation is read to a final status; the agent
//! configuration is read from Parameter Store and a missing one stops onboarding.
//!
//! What it does not prove: LocalStack's SSM runs nothing and reports `Success` at once, so
//! nothing here shows that the scripts work on a real instance, that the agent installs, or
//! that a command can fail (the in-memory tests cover failure paths). LocalStack does not
//! implement DescribeInstanceInformation, so registration comes from the in-memory account
//! (as the harness's simulated SSM agent provides it); `ports_localstack.rs` pins that gap.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a broken fixture or emulator must stop the test loudly"
)]

use std::collections::HashMap;
use std::time::Duration;

use pipeline::agent_config::defaults;
use pipeline::onboard::documents::{DEFAULT_LINUX_DOCUMENT, DEFAULT_WINDOWS_DOCUMENT};
use pipeline::onboard::memory::MemoryAccount;
use pipeline::onboard::sdk::{Ec2Directory, SsmPorts};
use pipeline::onboard::{
    Decision, InstanceState, OnboardConfig, OnboardingHandler, OnboardingOutcome, StateChange,
    Step, Waits,
};
use support::Emulator;

use crate::support;

type Handler = OnboardingHandler<Ec2Directory, MemoryAccount, SsmPorts, SsmPorts>;

fn fast_waits() -> Waits {
    Waits {
        lookup_timeout: Duration::from_secs(2),
        registration_timeout: Duration::from_secs(1),
        command_timeout: Duration::from_secs(10),
        poll_interval: Duration::from_millis(200),
    }
}

fn handler(emulator: &Emulator, registry: &MemoryAccount, config: OnboardConfig) -> Handler {
    let ssm = SsmPorts::new(emulator.ssm.clone());
    OnboardingHandler::new(
        Ec2Directory::new(emulator.ec2.clone()),
        registry.clone(),
        ssm.clone(),
        ssm,
        config,
    )
}

async fn on_running(handler: &Handler, instance_id: &str) -> OnboardingOutcome {
    let change = StateChange {
        event_id: Some(format!("test-{instance_id}")),
        instance_id: instance_id.to_owned(),
        state: InstanceState::Running,
        account: Some("000000000000".to_owned()),
        region: Some("us-east-1".to_owned()),
    };
    handler
        .handle_event(&change.to_event_json("2026-11-24T10:00:00Z"))
        .await
        .unwrap()
}

#[tokio::test]
async fn onboarding_sends_the_platform_commands_only_to_exactly_tagged_instances() {
    let Some(emulator) = Emulator::connect().await else {
        return;
    };
    let tag_value = format!("run-{}", std::process::id());
    let tag = [("CCP-Managed", tag_value.as_str())];
    let linux_image = emulator.image(false).await;
    let windows_image = emulator.image(true).await;
    let linux = emulator.launch(&linux_image, &tag).await;
    let windows = emulator.launch(&windows_image, &tag).await;
    let untagged = emulator.launch(&linux_image, &[("Name", "web")]).await;
    let wrong_case = emulator
        .launch(&linux_image, &[("ccp-managed", tag_value.as_str())])
        .await;
    let unregistered = emulator.launch(&linux_image, &tag).await;
    emulator
        .put_parameter(
            defaults::DEFAULT_LINUX_PARAMETER,
            &defaults::linux(defaults::EXAMPLE_ACCOUNT_NAME).to_json_pretty(),
        )
        .await;
    emulator
        .put_parameter(
            defaults::DEFAULT_WINDOWS_PARAMETER,
            &defaults::windows(defaults::EXAMPLE_ACCOUNT_NAME).to_json_pretty(),
        )
        .await;

    // LocalStack has no DescribeInstanceInformation: the registry stands in for the SSM
    // agents. The untagged and wrongly cased instances are registered too, so that their
    // skip can only come from the tag check. The platform is left for EC2 to tell.
    let registry = MemoryAccount::new();
    for id in [&linux, &windows, &untagged, &wrong_case] {
        registry.register_after(
            id,
            1,
            pipeline::onboard::ManagedInstance {
                ping_status: "Online".to_owned(),
                platform_type: None,
                platform_name: None,
            },
        );
    }
    let mut config = OnboardConfig::new("CCP-Managed", tag_value.clone());
    config.waits = fast_waits();
    let handler = handler(&emulator, &registry, config);

    let linux_outcome = on_running(&handler, &linux).await;
    assert_eq!(
        linux_outcome.decision,
        Decision::Onboarded,
        "{}",
        linux_outcome.reason
    );
    let windows_outcome = on_running(&handler, &windows).await;
    assert_eq!(
        windows_outcome.decision,
        Decision::Onboarded,
        "{}",
        windows_outcome.reason
    );

    // What LocalStack holds for each command the handler reported.
    let (document, parameters, comment) = emulator
        .command(&linux_outcome.commands[0].command_id)
        .await;
    assert_eq!(document, "AWS-ConfigureAWSPackage");
    assert_eq!(parameters["action"], ["Install"]);
    assert_eq!(parameters["name"], ["AmazonCloudWatchAgent"]);
    assert!(comment.ends_with(&linux), "{comment}");
    let (document, parameters, _) = emulator
        .command(&linux_outcome.commands[1].command_id)
        .await;
    // The stack's own document, with its one input: no command text travels.
    assert_eq!(document, DEFAULT_LINUX_DOCUMENT);
    assert_eq!(
        parameters,
        HashMap::from([(
            "AgentConfigParameter".to_owned(),
            vec![defaults::DEFAULT_LINUX_PARAMETER.to_owned()]
        )])
    );
    let (document, parameters, comment) = emulator
        .command(&windows_outcome.commands[1].command_id)
        .await;
    assert_eq!(document, DEFAULT_WINDOWS_DOCUMENT);
    assert!(comment.ends_with(&windows), "{comment}");
    assert_eq!(
        parameters["AgentConfigParameter"],
        [defaults::DEFAULT_WINDOWS_PARAMETER]
    );
    for outcome in [&linux_outcome, &windows_outcome] {
        assert!(outcome.commands.iter().all(|c| c.status == "Success"));
    }
    assert_eq!(
        windows_outcome.agent_config_parameter.as_deref(),
        Some(defaults::DEFAULT_WINDOWS_PARAMETER)
    );

    let untagged_outcome = on_running(&handler, &untagged).await;
    assert_eq!(untagged_outcome.decision, Decision::Skipped);
    let wrong_case_outcome = on_running(&handler, &wrong_case).await;
    assert_eq!(wrong_case_outcome.decision, Decision::Skipped);
    assert!(
        wrong_case_outcome.reason.contains("\"ccp-managed\"")
            && wrong_case_outcome.reason.contains("only in case"),
        "{}",
        wrong_case_outcome.reason
    );
    let unregistered_outcome = on_running(&handler, &unregistered).await;
    assert_eq!(
        unregistered_outcome.failed_step,
        Some(Step::SsmRegistration)
    );

    // No command anywhere in LocalStack names an instance that was not onboarded.
    // (LocalStack's ListCommands lists every instance of the region as a target of every
    // command, so the handler's comment, which names the instance, is what tells.)
    let comments = emulator.all_comments().await;
    for id in [&untagged, &wrong_case, &unregistered] {
        assert!(
            !comments.iter().any(|c| c.contains(id.as_str())),
            "a command was sent for {id}"
        );
    }

    // A repeated event does the same again with new commands.
    let again = on_running(&handler, &linux).await;
    assert_eq!(again.decision, Decision::Onboarded);
    assert_ne!(
        again.commands[0].command_id,
        linux_outcome.commands[0].command_id
    );
}

#[tokio::test]
async fn a_missing_agent_configuration_parameter_stops_before_any_command() {
    let Some(emulator) = Emulator::connect().await else {
        return;
    };
    let tag_value = format!("missing-{}", std::process::id());
    let image = emulator.image(false).await;
    let instance = emulator
        .launch(&image, &[("CCP-Managed", tag_value.as_str())])
        .await;
    let registry = MemoryAccount::new();
    registry.register(&instance, "Linux");
    let mut config = OnboardConfig::new("CCP-Managed", tag_value);
    config.waits = fast_waits();
    config.linux_parameter = format!("loglab-test-absent-{}", std::process::id());
    let outcome = on_running(&handler(&emulator, &registry, config.clone()), &instance).await;
    assert_eq!(outcome.failed_step, Some(Step::AgentConfig));
    assert_eq!(
        outcome.reason,
        format!(
            "agent configuration parameter {} does not exist in Parameter Store",
            config.linux_parameter
        )
    );
    assert!(outcome.commands.is_empty());
    let comments = emulator.all_comments().await;
    assert!(!comments.iter().any(|c| c.contains(instance.as_str())));
}
