//! Least privilege from what the code calls: every action a function's role grants is an SDK
//! operation that function's code calls (read from its SDK adapter's source), or one Lambda
//! itself performs with the role (its logs, its dead-letter queue), named with why; and every
//! SDK operation the code calls is granted. A grant nobody uses, or a call nobody granted, fails.
//!
//! This reads the code, not a run: which resources and conditions each call meets is the
//! template tests' and parliament's (scripts/parliament.sh) to check.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use std::collections::BTreeSet;

use serde_json::Value;
use stack::Stack;
use stack::template::{self, ids};

use crate::support;

/// Actions Lambda performs with a function's role, not the function's code.
const PERFORMED_BY_LAMBDA: &[(&str, &str)] = &[
    (
        "logs:CreateLogStream",
        "Lambda writes the function's output to its log group",
    ),
    (
        "logs:PutLogEvents",
        "Lambda writes the function's output to its log group",
    ),
    (
        "sqs:SendMessage",
        "Lambda sends a failed asynchronous event to the function's dead-letter queue",
    ),
];

/// `ec2:DescribeInstances` as the SDK's operation, `describe_instances`.
fn operation(action: &str) -> String {
    let (_, name) = action.split_once(':').unwrap();
    let mut snake = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

/// The SDK operations `path` calls on its client (`client.send_command()`, across lines).
fn calls(path: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(support::root().join(path)).unwrap();
    let call = regex::Regex::new(r"client\s*\.\s*([a-z_]+)\(\)").unwrap();
    call.captures_iter(&text)
        .map(|c| c[1].to_owned())
        .filter(|op| op != "clone")
        .collect()
}

fn granted(template: &Value, role: &str) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    let policies = &template["Resources"][role]["Properties"]["Policies"];
    for policy in policies.as_array().unwrap() {
        for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
            match &statement["Action"] {
                Value::String(a) => {
                    actions.insert(a.clone());
                }
                Value::Array(list) => {
                    actions.extend(list.iter().map(|a| a.as_str().unwrap().to_owned()));
                }
                other => panic!("{role}: {other}"),
            }
        }
    }
    actions
}

fn check(role: &str, code: &str) {
    let stack =
        Stack::load(&support::root().join("pipeline.toml")).unwrap_or_else(|e| panic!("{e}"));
    let template = template::render(&stack).0;
    let grants = granted(&template, role);
    let called = calls(code);
    assert!(!called.is_empty(), "{code} calls nothing");
    for action in &grants {
        let by_lambda = PERFORMED_BY_LAMBDA.iter().any(|(a, _)| a == action);
        assert!(
            by_lambda || called.contains(&operation(action)),
            "{role} grants {action}, which {code} never calls ({called:?})"
        );
    }
    let granted_operations: BTreeSet<String> = grants.iter().map(|a| operation(a)).collect();
    for op in &called {
        assert!(
            granted_operations.contains(op),
            "{code} calls {op}, which {role} does not grant ({grants:?})"
        );
    }
}

#[test]
fn the_etl_role_grants_exactly_what_the_etl_calls() {
    check(ids::ETL_ROLE, "pipeline/src/firehose/sdk.rs");
}

#[test]
fn the_onboarding_role_grants_exactly_what_onboarding_calls() {
    check(ids::ONBOARDING_ROLE, "pipeline/src/onboard/sdk.rs");
}

#[test]
fn a_grant_nobody_uses_is_caught() {
    assert_eq!(operation("ec2:DescribeInstances"), "describe_instances");
    assert_eq!(operation("firehose:PutRecordBatch"), "put_record_batch");
    let called = calls("pipeline/src/firehose/sdk.rs");
    assert!(called.contains("put_record_batch"), "{called:?}");
    // The grant removed in this issue: the ETL never calls PutRecord.
    assert!(!called.contains(&operation("firehose:PutRecord")));
}
