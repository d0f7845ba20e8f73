//! Shared helpers for the tests that need an emulator.
#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(clippy::panic, reason = "a missing emulator must stop the test loudly")]

use std::path::PathBuf;

use pipeline::stack::{Stack, StackDefinition};

/// The emulator the tests use: `LOCALSTACK_ENDPOINT`. In CI a missing endpoint fails the test;
/// elsewhere `LOGLAB_SKIP_LOCALSTACK=1` skips it, saying so.
pub fn endpoint() -> Option<String> {
    if let Ok(url) = std::env::var("LOCALSTACK_ENDPOINT") {
        return Some(url);
    }
    if std::env::var_os("CI").is_none() && std::env::var_os("LOGLAB_SKIP_LOCALSTACK").is_some() {
        eprintln!("SKIPPED: LOGLAB_SKIP_LOCALSTACK is set and LOCALSTACK_ENDPOINT is not");
        return None;
    }
    panic!(
        "LOCALSTACK_ENDPOINT is not set: run scripts/test.sh (it starts LocalStack), or point it at a running emulator"
    );
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
