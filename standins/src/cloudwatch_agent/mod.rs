//! The simulated CloudWatch agent: what it collects and ships ([`agent`]), how it makes events
//! of lines and cuts oversized ones ([`events`]), how it batches ([`batch`]), how its sender
//! retries ([`retry`]), and the host it reads and reports to ([`host`]); the CloudWatch
//! Logs calls it makes are the [`crate::cloudwatch_logs`] port.

pub mod agent;
pub mod batch;
pub mod events;
pub mod host;
pub mod retry;

pub use agent::{AgentReport, AgentStartError, CloudWatchAgent};
pub use host::{AgentHost, EventOutcome, HostFate, HostRecord, MemoryHost, OwnedRecord, SentEvent};

#[cfg(test)]
mod tests;
