//! The stack definition on LocalStack, through the real SDK: applying it twice changes nothing
//! the second time; the audit reads every resource back equal; drift made behind the
//! provisioner's back is found by the audit and repaired by the next apply; and the
//! CloudFormation deploy path creates, reports and re-runs a change set, with the audit naming
//! what LocalStack's CloudFormation drops.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use crate::support;

use pipeline::emulator::sdk_config;
use stack::artifacts::Architecture;
use stack::audit::{self, Finding, Origin, Verdict};
use stack::provision::{self, Clients, Outcome};
use stack::template::{self, ids};
use stack::{Deployment, deploy};
use stack::{Placement, StackDefinition};

fn failures(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.is_failure())
        .map(ToString::to_string)
        .collect()
}

fn verdict_of<'f>(findings: &'f [Finding], resource: &str, property: &str) -> &'f Verdict {
    &findings
        .iter()
        .find(|f| f.resource == resource && f.property == property)
        .unwrap_or_else(|| panic!("no finding for {resource} {property}"))
        .verdict
}

#[tokio::test]
async fn apply_is_idempotent_and_the_audit_finds_and_repairs_drift() {
    let Some(url) = support::endpoint() else {
        return;
    };
    let region = "ap-south-1";
    let mut definition = StackDefinition::default();
    definition.account.name = "ApplyTest".into();
    definition.logs.retention_days = 5;
    let stack = support::stack(definition);
    let config = sdk_config(&url, region).await;
    let deployment = Deployment::new(&stack, &Placement::localstack(region));
    let clients = Clients::new(&config, &deployment);

    let first = provision::apply(&clients, &deployment).await.unwrap();
    let second = provision::apply(&clients, &deployment).await.unwrap();
    assert_eq!(first.len(), second.len());
    for applied in &second {
        assert!(
            matches!(applied.outcome, Outcome::Unchanged | Outcome::Skipped(_)),
            "second apply changed {}: {:?}",
            applied.id,
            applied.outcome
        );
    }
    let skipped: Vec<&str> = second
        .iter()
        .filter(|a| matches!(a.outcome, Outcome::Skipped(_)))
        .map(|a| a.kind.as_str())
        .collect();
    assert!(
        skipped.iter().all(|k| k.starts_with("AWS::Lambda::")
            || k.starts_with("AWS::Glue::")
            || k.starts_with("AWS::Athena::")
            || k.starts_with("AWS::SNS::")
            || *k == "AWS::CloudWatch::Alarm"
            || *k == "AWS::SQS::QueuePolicy"
            || *k == "AWS::SSM::Document"
            || *k == "AWS::Logs::SubscriptionFilter"),
        "{skipped:?}"
    );

    let findings = audit::audit(&clients, &deployment, &Origin::Provisioned)
        .await
        .unwrap();
    assert_eq!(failures(&findings), Vec::<String>::new());
    assert_eq!(
        *verdict_of(&findings, ids::LOG_GROUP, "RetentionInDays"),
        Verdict::Match
    );
    assert_eq!(
        *verdict_of(
            &findings,
            ids::BUCKET,
            "LifecycleConfiguration.Rules[0].Transitions[1].StorageClass"
        ),
        Verdict::Match
    );
    assert_eq!(
        *verdict_of(&findings, ids::RULE, "EventPattern.detail.state[0]"),
        Verdict::Match
    );
    let matched = findings
        .iter()
        .filter(|f| f.verdict == Verdict::Match)
        .count();
    assert!(
        matched > 100,
        "every leaf of every provisioned resource is compared ({matched})"
    );
    assert!(findings.iter().any(|f| f.resource == ids::DATABASE && matches!(f.verdict, Verdict::NotProvisioned(_))));

    // Drift behind the provisioner's back: the audit names it, the next apply repairs it.
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    logs.put_retention_policy()
        .log_group_name(&deployment.names.log_group)
        .retention_in_days(7)
        .send()
        .await
        .unwrap();
    let ssm = aws_sdk_ssm::Client::new(&config);
    ssm.put_parameter()
        .name(&deployment.names.linux_parameter)
        .value("{}")
        .overwrite(true)
        .send()
        .await
        .unwrap();
    let findings = audit::audit(&clients, &deployment, &Origin::Provisioned)
        .await
        .unwrap();
    assert_eq!(
        *verdict_of(&findings, ids::LOG_GROUP, "RetentionInDays"),
        Verdict::Differs
    );
    assert_eq!(
        *verdict_of(&findings, ids::LINUX_PARAMETER, "Value"),
        Verdict::Differs
    );
    assert_eq!(failures(&findings).len(), 2, "{:#?}", failures(&findings));
    let repaired = provision::apply(&clients, &deployment).await.unwrap();
    let updated: Vec<(&str, &Outcome)> = repaired
        .iter()
        .filter(|a| matches!(a.outcome, Outcome::Updated(_)))
        .map(|a| (a.id.as_str(), &a.outcome))
        .collect();
    assert_eq!(
        updated,
        [
            (
                ids::LOG_GROUP,
                &Outcome::Updated(vec!["RetentionInDays".into()])
            ),
            (
                ids::LINUX_PARAMETER,
                &Outcome::Updated(vec!["Value".into()])
            )
        ]
    );
    assert_eq!(
        failures(
            &audit::audit(&clients, &deployment, &Origin::Provisioned)
                .await
                .unwrap()
        ),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_changed_definition_updates_only_what_changed() {
    let Some(url) = support::endpoint() else {
        return;
    };
    let region = "ca-central-1";
    let config = sdk_config(&url, region).await;
    let mut definition = StackDefinition::default();
    definition.account.name = "ChangeTest".into();
    let before = support::stack(definition.clone());
    let deployment = Deployment::new(&before, &Placement::localstack(region));
    provision::apply(&Clients::new(&config, &deployment), &deployment)
        .await
        .unwrap();

    definition.firehose.buffer_interval_seconds = 60;
    definition.bucket.expiration_days = 120;
    let after = support::stack(definition);
    let deployment = Deployment::new(&after, &Placement::localstack(region));
    let clients = Clients::new(&config, &deployment);
    let report = provision::apply(&clients, &deployment).await.unwrap();
    let changed: Vec<&str> = report
        .iter()
        .filter(|a| matches!(a.outcome, Outcome::Updated(_) | Outcome::Created))
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(changed, [ids::BUCKET, ids::DELIVERY_STREAM]);
    assert_eq!(
        failures(
            &audit::audit(&clients, &deployment, &Origin::Provisioned)
                .await
                .unwrap()
        ),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn deploy_through_change_sets_on_localstack_cloudformation() {
    let Some(url) = support::endpoint() else {
        return;
    };
    let region = "eu-north-1";
    let config = sdk_config(&url, region).await;
    let stack = support::stack(StackDefinition::default());
    let (subset, left_out) =
        template::render(&stack).without(&stack::resources::absent_from_emulator());
    let (dir, manifest) = support::lambda_artifacts();
    let s3 = stack::provision::path_style_s3(&config);
    let bucket = "loglab-code-deploy-test";
    let parameters = deploy::upload_functions(&s3, bucket, region, &dir, Architecture::X86_64)
        .await
        .unwrap();
    let keys: Vec<&str> = parameters.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "CodeBucket",
            "FunctionArchitecture",
            "EtlCodeKey",
            "OnboardingCodeKey"
        ]
    );
    assert_eq!(parameters[1].1, "x86_64");
    let etl = manifest
        .artifact("etl-lambda", Architecture::X86_64)
        .unwrap();
    assert_eq!(parameters[2].1, deploy::code_key(etl));
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(&parameters[2].1)
        .send()
        .await
        .unwrap();
    let zip = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(
        zip.as_ref(),
        stack::artifacts::verified_zip(&dir, etl).unwrap()
    );
    // Named by content: a second upload of the same artifacts writes nothing new.
    let modified = |s3: aws_sdk_s3::Client, key: String| async move {
        s3.head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap()
            .last_modified()
            .copied()
    };
    let before = modified(s3.clone(), parameters[2].1.clone()).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = deploy::upload_functions(&s3, bucket, region, &dir, Architecture::X86_64)
        .await
        .unwrap();
    assert_eq!(again, parameters);
    assert_eq!(modified(s3.clone(), parameters[2].1.clone()).await, before);

    let cfn = aws_sdk_cloudformation::Client::new(&config);
    delete_test_stacks(&cfn).await;
    let name = format!("loglab-test-{}", std::process::id());
    let dry = deploy::deploy(&cfn, &name, &subset, &parameters, true)
        .await
        .unwrap();
    assert!(!dry.executed);
    let added: Vec<&str> = dry
        .changes
        .iter()
        .filter(|c| c.action == "Add")
        .map(|c| c.resource.as_str())
        .collect();
    assert!(
        added.contains(&ids::BUCKET) && added.contains(&ids::DELIVERY_STREAM),
        "{added:?}"
    );
    // A resource under a condition that does not hold (the alarm e-mail subscription without
    // an AlarmEmail) is not in the change set.
    let unconditional = subset
        .resources()
        .unwrap()
        .values()
        .filter(|r| r.get("Condition").is_none())
        .count();
    assert_eq!(dry.changes.len(), unconditional);
    let listed = cfn.describe_stacks().stack_name(&name).send().await;
    assert!(
        listed.is_err()
            || listed.unwrap().stacks().iter().all(|s| s
                .stack_status()
                .is_some_and(|st| st.as_str() == "DELETE_COMPLETE")),
        "a dry run leaves no stack"
    );

    let created = deploy::deploy(&cfn, &name, &subset, &parameters, false)
        .await
        .unwrap();
    assert!(created.executed);
    let outputs: std::collections::BTreeMap<_, _> = created.outputs.iter().cloned().collect();
    assert_eq!(
        outputs.get("BucketName").map(String::as_str),
        Some("ccp-logs-000000000000-eu-north-1")
    );
    let again = deploy::deploy(&cfn, &name, &subset, &parameters, false)
        .await
        .unwrap();
    assert!(
        again.changes.is_empty() && !again.executed,
        "{:?}",
        again.changes
    );

    let mut deployment = Deployment::new(&stack, &Placement::localstack(region));
    deployment.use_role_names(
        &deploy::physical_ids(&cfn, &name, "AWS::IAM::Role")
            .await
            .unwrap(),
    );
    let clients = Clients::new(&config, &deployment);
    let findings = audit::audit(&clients, &deployment, &Origin::CloudFormation { left_out })
        .await
        .unwrap();
    assert_eq!(failures(&findings), Vec::<String>::new());
    assert!(
        matches!(verdict_of(&findings, ids::LOG_GROUP, "RetentionInDays"), Verdict::NotHeld(why) if why.contains("drops"))
    );
    assert!(matches!(
        verdict_of(
            &findings,
            ids::BUCKET,
            "LifecycleConfiguration.Rules[0].ExpirationInDays"
        ),
        Verdict::NotHeld(_)
    ));
    assert_eq!(
        *verdict_of(
            &findings,
            ids::DELIVERY_STREAM,
            "ExtendedS3DestinationConfiguration.BufferingHints.SizeInMBs"
        ),
        Verdict::Match
    );
    delete_test_stacks(&cfn).await;
}

/// Deletes the stacks earlier runs of this test left on a long-lived emulator (their resources
/// have fixed names, so a new stack would collide with them), and waits until they are gone.
async fn delete_test_stacks(cfn: &aws_sdk_cloudformation::Client) {
    let stacks = cfn.list_stacks().send().await.unwrap();
    let names: Vec<String> = stacks
        .stack_summaries()
        .iter()
        .filter(|s| {
            s.stack_status()
                .is_some_and(|st| st.as_str() != "DELETE_COMPLETE")
        })
        .filter_map(|s| {
            s.stack_name()
                .filter(|n| n.starts_with("loglab-test-"))
                .map(str::to_owned)
        })
        .collect();
    for name in &names {
        cfn.delete_stack().stack_name(name).send().await.unwrap();
    }
    for name in &names {
        for _ in 0..120 {
            let gone = match cfn.describe_stacks().stack_name(name).send().await {
                Err(_) => true,
                Ok(out) => out.stacks().iter().all(|s| {
                    s.stack_status()
                        .is_some_and(|st| st.as_str() == "DELETE_COMPLETE")
                }),
            };
            if gone {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
}
