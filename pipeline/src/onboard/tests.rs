//! Behaviour tests of the onboarding handler over the in-memory account, with tokio's clock
//! paused so that waits of minutes take no time.

use std::time::Duration;

use proptest::prelude::*;

use super::memory::MemoryAccount;
use super::*;
use crate::agent_config::defaults;

const LINUX: &str = "i-0aaaaaaaaaaaaaaa1";
const WINDOWS: &str = "i-0bbbbbbbbbbbbbbb2";

type Handler = OnboardingHandler<MemoryAccount, MemoryAccount, MemoryAccount, MemoryAccount>;

fn instance(id: &str, platform: Option<&str>, tags: &[(&str, &str)]) -> InstanceDescription {
    InstanceDescription {
        instance_id: id.to_owned(),
        state: "running".to_owned(),
        platform: platform.map(str::to_owned),
        platform_details: None,
        tags: tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

fn account() -> MemoryAccount {
    let account = MemoryAccount::new();
    account.put_parameter(
        defaults::DEFAULT_LINUX_PARAMETER,
        &defaults::linux("Example").to_json_pretty(),
    );
    account.put_parameter(
        defaults::DEFAULT_WINDOWS_PARAMETER,
        &defaults::windows("Example").to_json_pretty(),
    );
    account
}

fn handler(account: &MemoryAccount) -> Handler {
    OnboardingHandler::new(
        account.clone(),
        account.clone(),
        account.clone(),
        account.clone(),
        OnboardConfig::new("CCP-Managed", "true"),
    )
}

fn running(id: &str) -> StateChange {
    StateChange {
        event_id: None,
        instance_id: id.to_owned(),
        state: InstanceState::Running,
        account: Some("123456789012".to_owned()),
        region: Some("us-east-1".to_owned()),
    }
}

#[tokio::test(start_paused = true)]
async fn a_tagged_linux_instance_is_onboarded_with_the_stacks_linux_document() {
    let account = account();
    account.add_instance(instance(LINUX, None, &[("CCP-Managed", "true")]));
    account.register(LINUX, "Linux");
    let outcome = handler(&account).onboard(&running(LINUX)).await;
    assert_eq!(outcome.decision, Decision::Onboarded, "{}", outcome.reason);
    assert_eq!(outcome.platform, Some(Platform::Linux));
    assert_eq!(
        outcome.agent_config_parameter.as_deref(),
        Some(defaults::DEFAULT_LINUX_PARAMETER)
    );
    let documents: Vec<(&str, &str)> = outcome
        .commands
        .iter()
        .map(|c| (c.document.as_str(), c.status.as_str()))
        .collect();
    assert_eq!(
        documents,
        [
            ("AWS-ConfigureAWSPackage", "Success"),
            ("CCP-ConfigureCloudWatchAgent-Linux", "Success")
        ]
    );
    let sent = account.sent_commands();
    assert_eq!(sent[0].0, outcome.commands[0].command_id);
    assert_eq!(
        sent[1].1.parameters,
        std::collections::BTreeMap::from([(
            "AgentConfigParameter".to_owned(),
            vec![defaults::DEFAULT_LINUX_PARAMETER.to_owned()]
        )]),
        "the document's one input, and no command text"
    );
    assert_eq!(
        account.parameter_reads(),
        [defaults::DEFAULT_LINUX_PARAMETER]
    );
}

#[tokio::test(start_paused = true)]
async fn a_windows_instance_gets_the_windows_document_and_its_own_parameter() {
    let account = account();
    account.add_instance(instance(
        WINDOWS,
        Some("windows"),
        &[("CCP-Managed", "true")],
    ));
    account.register(WINDOWS, "Windows");
    let outcome = handler(&account).onboard(&running(WINDOWS)).await;
    assert_eq!(outcome.decision, Decision::Onboarded, "{}", outcome.reason);
    assert_eq!(outcome.platform, Some(Platform::Windows));
    assert_eq!(
        outcome.commands[1].document,
        "CCP-ConfigureCloudWatchAgent-Windows"
    );
    assert_eq!(
        account.parameter_reads(),
        [defaults::DEFAULT_WINDOWS_PARAMETER]
    );
}

#[tokio::test(start_paused = true)]
async fn untagged_and_wrongly_cased_instances_are_skipped_with_the_reason() {
    let account = account();
    account.add_instance(instance(LINUX, None, &[("Name", "web")]));
    account.add_instance(instance(WINDOWS, None, &[("ccp-managed", "true")]));
    let handler = handler(&account);
    let untagged = handler.onboard(&running(LINUX)).await;
    assert_eq!(untagged.decision, Decision::Skipped);
    assert_eq!(
        untagged.reason,
        "no management tag CCP-Managed=true: the instance has no tag \"CCP-Managed\""
    );
    let cased = handler.onboard(&running(WINDOWS)).await;
    assert_eq!(cased.decision, Decision::Skipped);
    assert!(cased.reason.contains("only in case"), "{}", cased.reason);
    assert!(account.sent_commands().is_empty());
    assert!(account.parameter_reads().is_empty());
}

#[tokio::test(start_paused = true)]
async fn states_other_than_running_are_ignored_without_calls() {
    let account = account();
    for state in [
        "pending",
        "stopping",
        "stopped",
        "shutting-down",
        "terminated",
        "hibernating",
    ] {
        let mut change = running(LINUX);
        change.state = InstanceState::parse(state);
        let outcome = handler(&account).onboard(&change).await;
        assert_eq!(outcome.decision, Decision::Ignored);
        assert_eq!(
            outcome.reason,
            format!("state {state} is not running; only running instances are onboarded")
        );
    }
    assert!(account.sent_commands().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_instance_ec2_does_not_know_yet_is_retried_then_reported() {
    let account = account();
    account.add_instance(instance(LINUX, None, &[("CCP-Managed", "true")]));
    account.register(LINUX, "Linux");
    account.hide_instance_for(LINUX, 3);
    let outcome = handler(&account).onboard(&running(LINUX)).await;
    assert_eq!(outcome.decision, Decision::Onboarded, "{}", outcome.reason);
    assert!(outcome.duration_ms >= 15_000, "three 5 s retries");

    let unknown = handler(&account)
        .onboard(&running("i-0ccccccccccccccc3"))
        .await;
    assert_eq!(unknown.decision, Decision::Failed);
    assert_eq!(unknown.failed_step, Some(Step::Lookup));
    assert!(unknown.retryable);
    assert_eq!(
        unknown.reason,
        "instance i-0ccccccccccccccc3 not found after 7 DescribeInstances calls in 30 s: EC2 does not know it"
    );
}

#[tokio::test(start_paused = true)]
async fn throttled_lookups_are_retried() {
    let account = account();
    account.add_instance(instance(LINUX, None, &[("CCP-Managed", "true")]));
    account.register(LINUX, "Linux");
    account.throttle("DescribeInstances", 2);
    account.throttle("GetCommandInvocation", 2);
    let outcome = handler(&account).onboard(&running(LINUX)).await;
    assert_eq!(outcome.decision, Decision::Onboarded, "{}", outcome.reason);
}

#[tokio::test(start_paused = true)]
async fn registration_is_awaited_and_its_absence_reported() {
    let account = account();
    account.add_instance(instance(LINUX, None, &[("CCP-Managed", "true")]));
    account.register_after(
        LINUX,
        4,
        ManagedInstance {
            ping_status: "Online".to_owned(),
            platform_type: Some("Linux".to_owned()),
            platform_name: Some("Amazon Linux".to_owned()),
        },
    );
    let outcome = handler(&account).onboard(&running(LINUX)).await;
    assert_eq!(outcome.decision, Decision::Onboarded, "{}", outcome.reason);

    account.add_instance(instance(WINDOWS, None, &[("CCP-Managed", "true")]));
    let never = handler(&account).onboard(&running(WINDOWS)).await;
    assert_eq!(never.decision, Decision::Failed);
    assert_eq!(never.failed_step, Some(Step::SsmRegistration));
    assert!(
        never.reason.starts_with(
            "instance i-0bbbbbbbbbbbbbbb2 is not managed by Systems Manager after 240 s (never registered)"
        ),
        "{}",
        never.reason
    );
    assert!(never.commands.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_connection_lost_instance_is_reported_with_its_ping_status() {
    let account = account();
    account.add_instance(instance(LINUX, None, &[("CCP-Managed", "true")]));
    account.register_after(
        LINUX,
        0,
        ManagedInstance {
            ping_status: "ConnectionLost".to_owned(),
            platform_type: Some("Linux".to_owned()),
            platform_name: None,
        },
    );
    let outcome = handler(&account).onboard(&running(LINUX)).await;
    assert_eq!(outcome.failed_step, Some(Step::SsmRegistration));
    assert!(
        outcome.reason.contains("(ping status ConnectionLost)"),
        "{}",
        outcome.reason
    );
}

#[tokio::test(start_paused = true)]
async fn a_missing_or_invalid_agent_config_fails_before_any_command() {
    let account = MemoryAccount::new();
    account.add_instance(instance(LINUX, None, &[("CCP-Managed", "true")]));
    account.register(LINUX, "Linux");
    let missing = handler(&account).onboard(&running(LINUX)).await;
    assert_eq!(missing.failed_step, Some(Step::AgentConfig));
    assert_eq!(
        missing.reason,
        "agent configuration parameter AmazonCloudWatch-coslinuxloggingconfiguration does not exist in Parameter Store"
    );
    account.put_parameter(
        defaults::DEFAULT_LINUX_PARAMETER,
        r#"{"logs":{"logs_collected":{"files":{"collect_list":[{"file_path":"/var/log/messages","retention_in_days":2}]}}}}"#,
    );
    let invalid = handler(&account).onboard(&running(LINUX)).await;
    assert_eq!(invalid.failed_step, Some(Step::AgentConfig));
    assert!(
        invalid.reason.contains(
            "$.logs.logs_collected.files.collect_list[0].retention_in_days: [agent schema] 2 is not one of"
        ),
        "{}",
        invalid.reason
    );
    assert!(account.sent_commands().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failed_command_names_its_id_and_status_and_stops() {
    let account = account();
    account.add_instance(instance(LINUX, None, &[("CCP-Managed", "true")]));
    account.register(LINUX, "Linux");
    account.script_result(
        "CCP-ConfigureCloudWatchAgent-Linux",
        InvocationStatus {
            status: "Failed".to_owned(),
            status_details: "Failed".to_owned(),
            response_code: 1,
            standard_error:
                "\nParameter AmazonCloudWatch-coslinuxloggingconfiguration is not found\n"
                    .to_owned(),
        },
    );
    let outcome = handler(&account).onboard(&running(LINUX)).await;
    assert_eq!(outcome.decision, Decision::Failed);
    assert_eq!(outcome.failed_step, Some(Step::ConfigureAgent));
    let id = &outcome.commands[1].command_id;
    assert_eq!(
        outcome.reason,
        format!(
            "CCP-ConfigureCloudWatchAgent-Linux command {id} on {LINUX} ended Failed, exit code 1: Parameter AmazonCloudWatch-coslinuxloggingconfiguration is not found"
        )
    );
    assert_eq!(outcome.commands[1].status, "Failed");
    assert_eq!(outcome.commands[1].response_code, Some(1));
}

#[tokio::test(start_paused = true)]
async fn a_command_that_never_finishes_is_reported_after_the_bound() {
    let account = account();
    account.add_instance(instance(LINUX, None, &[("CCP-Managed", "true")]));
    account.register(LINUX, "Linux");
    account.set_polls_before_result(u32::MAX);
    let outcome = handler(&account).onboard(&running(LINUX)).await;
    assert_eq!(outcome.failed_step, Some(Step::InstallAgent));
    let id = &outcome.commands[0].command_id;
    assert_eq!(
        outcome.reason,
        format!("AWS-ConfigureAWSPackage command {id} on {LINUX} is still InProgress after 240 s")
    );
    assert!(outcome.duration_ms >= 235_000);
}

#[tokio::test(start_paused = true)]
async fn a_repeated_event_is_safe_and_ends_the_same_way() {
    let account = account();
    account.add_instance(instance(LINUX, None, &[("CCP-Managed", "true")]));
    account.register(LINUX, "Linux");
    let handler = handler(&account);
    let first = handler.onboard(&running(LINUX)).await;
    let second = handler.onboard(&running(LINUX)).await;
    assert_eq!(first.decision, Decision::Onboarded);
    assert_eq!(second.decision, first.decision);
    assert_eq!(second.reason, first.reason);
    let sent = account.sent_commands();
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[0].1, sent[2].1, "the same install request");
    assert_eq!(sent[1].1, sent[3].1, "the same configure request");
    assert_ne!(sent[0].0, sent[2].0, "each send has its own command id");
}

#[tokio::test(start_paused = true)]
async fn malformed_events_are_errors_and_good_ones_outcomes() {
    let account = account();
    let handler = handler(&account);
    let error = handler
        .handle_event(&serde_json::json!({"detail-type": "EC2 Instance State-change Notification"}))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "malformed EC2 state-change event at $: missing field `source`"
    );
    let outcome = handler
        .handle_event(&running(LINUX).to_event_json("2026-11-24T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(outcome.decision, Decision::Failed);
    let json: serde_json::Value = serde_json::from_str(&outcome.to_json()).unwrap();
    assert_eq!(json["decision"], "failed");
    assert_eq!(json["failed_step"], "lookup");
}

#[test]
fn delivery_timeout_respects_ssm_minimum() {
    assert_eq!(delivery_timeout_seconds(Duration::from_secs(1)), 30);
    assert_eq!(delivery_timeout_seconds(Duration::from_secs(240)), 240);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever the state and tags, only a running instance with the exact tag gets commands.
    #[test]
    fn commands_are_sent_only_for_running_instances_with_the_exact_tag(
        state in prop::sample::select(vec!["pending", "running", "stopping", "stopped", "shutting-down", "terminated"]),
        key in prop::sample::select(vec!["CCP-Managed", "ccp-managed", "CCP-MANAGED", "Owner", "CCP-Managed "]),
        value in prop::sample::select(vec!["true", "True", "false", ""]),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        let account = account();
        account.add_instance(instance(LINUX, None, &[(key, value)]));
        account.register(LINUX, "Linux");
        let mut change = running(LINUX);
        change.state = InstanceState::parse(state);
        let outcome = runtime.block_on(handler(&account).onboard(&change));
        let should_act = state == "running" && key == "CCP-Managed" && value == "true";
        prop_assert_eq!(outcome.decision == Decision::Onboarded, should_act, "{}", outcome.reason);
        prop_assert_eq!(!account.sent_commands().is_empty(), should_act);
        if state != "running" {
            prop_assert_eq!(outcome.decision, Decision::Ignored);
        } else if !should_act {
            prop_assert_eq!(outcome.decision, Decision::Skipped);
        }
    }
}
