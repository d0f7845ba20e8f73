//! The harness around the pipeline: where the emulator comes from (LocalStack backends), how the
//! stack definition is applied to it and audited, and how the same definition is deployed to AWS.

pub mod backend;
pub mod stack;
