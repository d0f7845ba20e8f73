//! The default stack on the tests' emulator with the harness's Glue and Athena stand-ins
//! beside it, as `loglab up` serves them: shared by the harness's and the CLI's tests through
//! `#[path]` (the tests of crates that depend on `standins`).
#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(
    clippy::panic,
    reason = "stand-ins that do not start must stop the test loudly"
)]

use std::sync::Arc;

use stack::provision::Clients;
use stack::{Deployment, Placement, Stack, StackDefinition};
use standins::athena::{CatalogStandIns, Ports, S3Buckets};

/// A stack on the emulator with the stand-ins.
pub struct WithStandIns {
    /// The stack (the default definition, under its own account name).
    pub stack: Stack,
    /// Its names in the region.
    pub deployment: Deployment,
    /// The Glue and Athena stand-ins, served while this lives.
    pub stand_ins: CatalogStandIns,
    /// The emulator's SDK configuration.
    pub config: aws_config::SdkConfig,
    /// The emulator's clients, Glue and Athena at the stand-ins.
    pub clients: Clients,
}

/// The default definition named `account_name` in `region` on the emulator at `url`, with
/// stand-ins of its own; `apply` provisions it.
pub async fn with_stand_ins(
    url: &str,
    region: &str,
    account_name: &str,
    stack: impl FnOnce(StackDefinition) -> Stack,
) -> WithStandIns {
    let mut definition = StackDefinition::default();
    definition.account.name = account_name.into();
    let stack = stack(definition);
    let deployment = Deployment::new(&stack, &Placement::localstack(region));
    let stand_ins = CatalogStandIns::start(
        &deployment.placement.account_id,
        Arc::new(S3Buckets::emulator(url, region)),
        Ports::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("starting the stand-ins: {e}"));
    let config = pipeline::emulator::sdk_config(url, region).await;
    let clients = stand_ins.attach(Clients::new(&config, &deployment), &config);
    WithStandIns {
        stack,
        deployment,
        stand_ins,
        config,
        clients,
    }
}
