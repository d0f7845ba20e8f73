//! The simulated CloudWatch agent: what it collects and ships ([`agent`]), how it batches
//! ([`batch`]); the CloudWatch Logs calls it makes are the [`crate::logs`] port.

pub mod agent;
pub mod batch;

#[cfg(test)]
mod tests;
