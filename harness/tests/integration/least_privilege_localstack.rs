//! Least privilege at run time: quickstart, mixed-fleet and faults on LocalStack, every AWS call
//! the functions make recorded at the SDK layer (service, action, resource ARN, the condition
//! keys that apply), each evaluated with IAM's logic against the roles the stack renders.
//!
//! Both directions: every call is allowed; and every grant of the functions' roles is used by
//! some scenario, or is one Lambda uses on AWS only (named below with why). The evaluation is
//! shown to catch a missing grant: without any one of the roles' statements, some recorded call
//! is refused, so no statement is there for nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop loudly"
)]

use std::collections::{BTreeMap, BTreeSet};

use harness::backend::sdk_config;
use harness::run::RunOptions;
use harness::scenario::Scenario;
use standins::iam::{Call, CallResource, Roles};

use crate::support::{endpoint, root};

/// Grants Lambda uses with the function's role on AWS, which no run here makes through the
/// function's SDK clients: `(action, why)`.
const AWS_ONLY: &[(&str, &str)] = &[
    (
        "logs:CreateLogStream",
        "Lambda writes the function's output to its log group; the harness runs the handlers, whose output is the run's own log",
    ),
    (
        "logs:PutLogEvents",
        "Lambda writes the function's output to its log group",
    ),
    (
        "sqs:SendMessage",
        "Lambda sends an event that failed every attempt to the function's dead-letter queue; none does in these three scenarios (scenarios/poison.toml's test sends them)",
    ),
];

/// The scenarios and the regions they run in (no other test against the same emulator, in
/// any crate, uses them).
const SCENARIOS: [(&str, &str); 3] = [
    ("quickstart.toml", "ap-northeast-2"),
    ("mixed-fleet.toml", "ap-southeast-1"),
    ("faults.toml", "us-east-2"),
];

/// The roles as rendered for a scenario's LocalStack placement.
fn roles(loaded: &harness::scenario::LoadedScenario) -> Roles {
    let placement = stack::Placement::localstack(&loaded.scenario.region);
    let deployment = stack::Deployment::new(&loaded.stack, &placement);
    Roles::from_deployment(&deployment).unwrap()
}

/// The roles' statements with statement `index` of `role` left out.
fn without(roles: &Roles, role: &str, index: usize) -> Roles {
    let mut statements = roles.statements().clone();
    statements.get_mut(role).unwrap().remove(index);
    Roles::from_statements(statements)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_call_is_allowed_and_every_grant_is_used_or_needed_on_aws_only() {
    let Some(url) = endpoint() else { return };
    let mut runs: Vec<(String, Roles, Vec<Call>)> = Vec::new();
    let mut used: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut table = String::new();
    for (file, region) in SCENARIOS {
        let mut loaded = Scenario::load(&root().join("scenarios").join(file)).unwrap();
        loaded.scenario.region = region.to_owned();
        // faults.toml's emulator restart needs an emulator of its own (its test in
        // scenarios_localstack has one); what it adds is the harness re-applying the stack,
        // not a call of the functions, so it is left out here and every other fault stays.
        loaded.scenario.faults.restart.clear();
        let config = sdk_config(&url, region).await;
        let options = RunOptions {
            progress: false,
            ..RunOptions::default()
        };
        let run = harness::run::on_emulator(&loaded, &config, None, &options)
            .await
            .unwrap();
        let permissions = run
            .report
            .permissions
            .clone()
            .expect("LocalStack runs record calls");
        assert_eq!(permissions.error, None, "{file}");
        let refused: Vec<_> = permissions.refused().collect();
        assert!(refused.is_empty(), "{file}: refused {refused:#?}");
        assert!(
            run.report
                .checks
                .iter()
                .any(|c| c.name.starts_with("IAM allows every call") && c.passed),
            "{file}: the run's own check"
        );
        for grant in &permissions.grants {
            *used
                .entry((grant.role.clone(), grant.action.clone()))
                .or_default() += grant.calls;
        }
        table.push_str(&format!(
            "{file}: {} calls, {} distinct requests, all allowed\n",
            permissions.calls,
            permissions.requests.len()
        ));
        // Each distinct request once, as a call, for the leave-one-out below.
        let calls = permissions
            .requests
            .iter()
            .map(|r| Call {
                principal: r.principal.clone(),
                action: r.action.clone(),
                resources: vec![CallResource {
                    arn: r.resource.clone(),
                    context: r.context.clone(),
                }],
            })
            .collect();
        runs.push((file.to_owned(), roles(&loaded), calls));
    }

    // Every grant used, or needed on AWS only.
    let aws_only: BTreeMap<&str, &str> = AWS_ONLY.iter().copied().collect();
    for ((role, action), calls) in &used {
        let why = aws_only.get(action.as_str());
        table.push_str(&format!(
            "  {role:<16} {action:<36} {}\n",
            match (calls, why) {
                (0, Some(why)) => format!("AWS only: {why}"),
                (0, None) => "UNUSED".to_owned(),
                (n, _) => format!("{n} calls"),
            }
        ));
    }
    eprintln!("{table}");
    let unused: Vec<_> = used
        .iter()
        .filter(|((_, action), calls)| **calls == 0 && !aws_only.contains_key(action.as_str()))
        .collect();
    assert!(
        unused.is_empty(),
        "granted and never used: {unused:?}\n{table}"
    );
    let granted: BTreeSet<&str> = used.keys().map(|(_, a)| a.as_str()).collect();
    for (action, _) in AWS_ONLY {
        assert!(
            granted.contains(action),
            "{action} is listed but no longer granted"
        );
    }

    // Without any one statement of the functions' roles, some recorded call is refused (the
    // AWS-only statements excepted): the evaluation catches a missing grant, and no statement
    // is there for nothing.
    for (file, roles, calls) in &runs {
        for role in harness::run::report::permissions::FUNCTION_ROLES {
            for (index, statement) in roles.statements()[role].iter().enumerate() {
                let actions = standins::iam::policy::actions(statement);
                if actions.iter().all(|a| aws_only.contains_key(a.as_str())) {
                    continue;
                }
                let reduced = without(roles, role, index);
                let refused = standins::iam::authorize(&reduced, calls)
                    .unwrap()
                    .into_iter()
                    .filter(|r| !r.allowed)
                    .count();
                let relevant = calls
                    .iter()
                    .any(|c| c.principal == role && actions.iter().any(|a| a == &c.action));
                if relevant {
                    assert!(
                        refused > 0,
                        "{file}: {role} without {statement} still allows every call"
                    );
                }
            }
        }
    }
}
