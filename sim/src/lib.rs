//! The harness around the pipeline: where the emulator comes from (LocalStack backends), how the
//! stack definition is applied to it and audited, and how the same definition is deployed to AWS;
//! and the simulated CloudWatch agent's PutLogEvents batching (the replay harness grows here).

pub mod backend;
pub mod cloudwatch_agent;
pub mod generate;
pub mod stack;
