//! The `standins` crate's integration tests as one executable: each module was an executable
//! of its own, each linking the whole graph; one link (and one copy of the shared helpers)
//! serves them all. `cargo test -p standins --test integration <module>` runs one module.

// The emulator and repository helpers are the stack tests' own, shared rather than copied.
mod conformance;
#[path = "../../../stack/tests/integration/support/mod.rs"]
mod support;

mod athena;
mod firehose;
mod glue;
mod lambda_runtime;
mod ports_localstack;
mod ports_memory;
mod ports_ministack;
mod subscription_payloads;
