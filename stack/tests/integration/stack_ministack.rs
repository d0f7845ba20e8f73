//! The stack definition on MiniStack, the second emulator (scripts/ministack-host.sh), through
//! the same provisioner and audit as on LocalStack: the first apply creates what the emulator
//! holds (or finds it there), the second changes nothing, and the audit reads every provisioned property back
//! equal.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use crate::support;

use pipeline::emulator::sdk_config;
use stack::audit::{self, Origin};
use stack::provision::{self, Clients, Outcome};
use stack::{Deployment, Placement, StackDefinition};

#[tokio::test]
async fn the_stack_applies_idempotently_and_audits_clean_on_ministack() {
    let Some(url) = support::ministack_endpoint() else {
        return;
    };
    let region = "eu-north-1";
    let mut definition = StackDefinition::default();
    definition.account.name = "MiniStackTest".into();
    let stack = support::stack(definition);
    let config = sdk_config(&url, region).await;
    let deployment = Deployment::new(&stack, &Placement::localstack(region));
    let clients = Clients::new(&config, &deployment);

    let first = provision::apply(&clients, &deployment).await.unwrap();
    // Created, or already there when the emulator was kept running between test runs.
    let provisioned = first
        .iter()
        .filter(|a| matches!(a.outcome, Outcome::Created | Outcome::Unchanged))
        .count();
    assert!(provisioned >= 10, "{first:?}");
    let second = provision::apply(&clients, &deployment).await.unwrap();
    for applied in &second {
        assert!(
            matches!(applied.outcome, Outcome::Unchanged | Outcome::Skipped(_)),
            "second apply changed {}: {:?}",
            applied.id,
            applied.outcome
        );
    }
    let findings = audit::audit(&clients, &deployment, &Origin::Provisioned)
        .await
        .unwrap();
    let failures: Vec<String> = findings
        .iter()
        .filter(|f| f.is_failure())
        .map(ToString::to_string)
        .collect();
    assert_eq!(failures, Vec::<String>::new());
    assert!(findings.len() > 100, "{} findings", findings.len());
}
