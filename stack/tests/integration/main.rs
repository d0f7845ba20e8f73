//! The `stack` crate's integration tests as one executable: each module was an executable
//! of its own, each linking the whole graph; one link (and one copy of the shared helpers)
//! serves them all. `cargo test -p stack --test integration <module>` runs one module.

mod support;

mod lambda_artifacts;
mod least_privilege;
mod redrive_localstack;
mod stack_localstack;
mod stack_ministack;
mod stack_template;
