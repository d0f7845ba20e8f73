//! The `pipeline` crate's integration tests as one executable: each module was an executable
//! of its own, each linking the whole graph; one link (and one copy of the shared helpers)
//! serves them all. `cargo test -p pipeline --test integration <module>` runs one module.

mod conformance;
mod support;

mod agent_config_fixtures;
mod filter_pattern_conformance;
mod firehose_localstack;
mod fixtures;
mod onboard_localstack;
mod ports_localstack;
mod ports_memory;
mod ports_ministack;
mod syslog_corpus;
