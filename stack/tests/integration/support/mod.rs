//! Helpers for the tests that need an emulator or the repository (the stand-ins, harness and CLI
//! tests use them too,
//! through `#[path]`).
#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(clippy::panic, reason = "a missing emulator must stop the test loudly")]

use std::path::PathBuf;

use stack::{Stack, StackDefinition};

/// The emulator's URL (`pipeline::emulator::test_endpoint`): in CI a missing emulator fails
/// the test; elsewhere `LOGLAB_SKIP_LOCALSTACK=1` skips it, saying so.
pub fn endpoint() -> Option<String> {
    pipeline::emulator::test_endpoint().unwrap_or_else(|e| panic!("{e}"))
}

/// The second emulator's URL (`MINISTACK_ENDPOINT`, scripts/ministack-host.sh): in CI a
/// missing one fails the test; elsewhere `LOGLAB_SKIP_MINISTACK=1` skips it, saying so.
pub fn ministack_endpoint() -> Option<String> {
    pipeline::emulator::test_endpoint_of(pipeline::emulator::Emulator::MiniStack)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned()),
    )
    .join("..")
}

/// A validated stack from `definition`.
pub fn stack(definition: StackDefinition) -> Stack {
    Stack::from_definition(definition, &root().join("pipeline.toml"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The profile of the Lambda artifacts the tests use: `LOGLAB_LAMBDA_PROFILE`, else `fast`
/// (what scripts/test.sh builds).
pub fn lambda_profile() -> stack::artifacts::Profile {
    let name = std::env::var("LOGLAB_LAMBDA_PROFILE").unwrap_or_else(|_| "fast".to_owned());
    stack::artifacts::Profile::from_name(&name)
        .unwrap_or_else(|| panic!("LOGLAB_LAMBDA_PROFILE={name}: expected release or fast"))
}

/// The Lambda artifacts `loglab build` wrote (scripts/test.sh builds them before the tests),
/// with their manifest. Missing artifacts fail the test with the command that builds them.
pub fn lambda_artifacts() -> (PathBuf, stack::artifacts::Manifest) {
    let dir = stack::artifacts::default_dir(&root(), lambda_profile());
    let manifest = stack::artifacts::Manifest::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    (dir, manifest)
}
