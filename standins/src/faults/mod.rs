//! Faults, end to end: the scenario's `[[faults.inject]]` rules ([`config`]), decided per HTTP
//! attempt by a seeded [`plan::FaultPlan`] on the simulated clock, and injected between the
//! run's SDK clients and the emulator by the [`layer`] (throttling and 5xx answers in each
//! service's own words from [`responses`], latency, dropped connections), and inside the
//! harness's Firehose model (the same, plus per-entry failures of PutRecordBatch). The plan
//! records every attempt the SDK made, so the report carries retries and backoff delays beside
//! what was injected. [`restart`] restarts the emulator itself (`[[faults.restart]]`).

pub mod config;
pub mod layer;
pub mod plan;
pub mod poison;
pub mod responses;
pub mod restart;

#[cfg(test)]
mod tests;

pub use config::{FaultKind, FaultRule, LossRule, LossStage, OutageAnswer, OutageRule, Service};
pub use plan::{Attempt, Decision, FaultPlan, FaultRecord, Injection};
pub use restart::{
    EmulatorRestart, GatedLogs, RestartError, RestartGate, RestartRecord, RestartRule,
};
