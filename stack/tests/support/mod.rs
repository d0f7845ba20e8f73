//! Helpers for the tests that need an emulator or the repository (the sim tests use them too,
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
