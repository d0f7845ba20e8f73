//! `deploy/verify-policy.json`, the IAM policy `loglab verify`'s caller needs, is what
//! `harness::verify::policy` renders for the default stack deployed as `ccp-logs` in
//! 123456789012 / us-east-1 (`loglab verify --print-policy` prints it for a real stack).
//! `UPDATE_EXPECTED=1` rewrites it; `scripts/parliament.sh` lints it.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use harness::verify::StackOutputs;
use harness::verify::policy::{PolicyScope, caller_policy};
use stack::{Deployment, Placement, StackDefinition};

use crate::support;

#[test]
fn deploy_verify_policy_json_is_current() {
    let stack = support::stack(StackDefinition::default());
    let mut placement = Placement::localstack("us-east-1");
    placement.account_id = "123456789012".into();
    let deployment = Deployment::new(&stack, &placement);
    let definition = &stack.definition;
    let outputs = StackOutputs {
        bucket: deployment.names.bucket.clone(),
        log_group: deployment.names.log_group.clone(),
        database: Some(definition.catalog.database.clone()),
        workgroup: Some(definition.athena.workgroup.clone()),
        account_id: Some(placement.account_id.clone()),
    };
    let policy = caller_policy(&PolicyScope {
        partition: "aws",
        region: "us-east-1",
        account_id: &placement.account_id,
        stack_name: "ccp-logs",
        outputs: &outputs,
        definition,
    });
    let rendered = format!("{}\n", serde_json::to_string_pretty(&policy).unwrap());
    let path = support::root().join("deploy/verify-policy.json");
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let held = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        held == rendered,
        "{} is stale: run UPDATE_EXPECTED=1 cargo test --workspace --test integration verify_policy_doc",
        path.display()
    );
}
