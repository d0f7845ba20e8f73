//! The stack: one definition of the pipeline's infrastructure and everything made from it.
//!
//! - [`definition`] (re-exported at the root): `pipeline.toml`, its sections and defaults, and
//!   its validation against AWS's rules; every broken rule names the key, the value, the rule and
//!   what would be valid.
//! - [`resources`]: one module per resource type (bucket, log group, subscription, functions,
//!   roles, rule, delivery stream, parameters, Glue, Athena), each implementing
//!   [`ResourceType`]: its template fragments, apply order, what the emulator does with it,
//!   and how it is read back and written through the SDK.
//! - [`template`]: the CloudFormation template for AWS, rendered from the resource types.
//! - [`Deployment`]: the template resolved for one account and region ([`resolve`]).
//! - [`provision`] and [`audit`]: the resolved template applied to an emulator through the SDK,
//!   idempotently, and read back property by property.
//! - [`artifacts`]: both functions built with cargo-lambda for `provided.al2023`, zipped
//!   reproducibly, with a manifest (sizes, SHA-256, the newest glibc each binary needs).
//! - [`deploy`]: the same template deployed through CloudFormation change sets (AWS, or the
//!   emulator's CloudFormation).
//!
//! The Lambda functions never use this crate: it belongs to the tools that render, provision and
//! deploy (`loglab`).

pub mod artifacts;
pub mod audit;
mod cfn;
mod clients;
pub mod definition;
pub mod deploy;
mod deployment;
mod function_spec;
pub mod provision;
pub mod redrive;
pub mod resolve;
pub mod resources;
pub mod template;

pub use definition::*;
pub use deployment::{Deployment, Resolved};
pub use function_spec::{FunctionSpec, FunctionSpecError};
pub use resolve::Context;
pub use resources::{
    OnEmulator, Reference, ResourceType, dead_letter_queue_name, harness_queue_name, skip_reason,
};
