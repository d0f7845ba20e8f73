//! The `harness` crate's integration tests as one executable: each module was an executable
//! of its own, each linking the whole graph; one link (and one copy of the shared helpers)
//! serves them all. `cargo test -p harness --test integration <module>` runs one module.
//!
//! The modules' tests run in parallel against one emulator: each run uses a region no other
//! test of this executable uses (a run clears its region's streams, prefixes and queue).

// The emulator and repository helpers are the stack tests' own, shared rather than copied.
#[path = "../../../stack/tests/integration/support/mod.rs"]
mod support;
// The stack on the emulator with the Glue and Athena stand-ins, shared likewise.
#[path = "../../../standins/tests/integration/with_stand_ins.rs"]
mod with_stand_ins;

mod athena_api_localstack;
mod backends;
mod fidelity_doc;
mod glue_catalog_localstack;
mod lambda_artifacts_localstack;
mod least_privilege_localstack;
mod loopback;
mod scenarios_localstack;
mod scenarios_memory;
mod scenarios_ministack;
mod silent_losses;
mod verify_localstack;
mod verify_policy_doc;
