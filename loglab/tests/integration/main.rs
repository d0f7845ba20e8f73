//! The `loglab` crate's integration tests as one executable: each module was an executable
//! of its own, each linking the whole graph; one link (and one copy of the shared helpers)
//! serves them all. `cargo test -p loglab --test integration <module>` runs one module.

// The emulator and repository helpers are the stack tests' own, shared rather than copied.
#[path = "../../../stack/tests/integration/support/mod.rs"]
mod support;
// The stack on the emulator with the Glue and Athena stand-ins, shared likewise.
#[path = "../../../standins/tests/integration/with_stand_ins.rs"]
mod with_stand_ins;

mod cli_generate_event;
mod cli_query;
mod cli_test_filter;
mod cli_up;
mod cli_verify;
mod report_page;
