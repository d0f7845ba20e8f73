//! The simulated CloudWatch agent: what it collects and ships ([`agent`]), how it makes events
//! of lines and cuts oversized ones ([`events`]), how it batches ([`batch`]); the CloudWatch
//! Logs calls it makes are the [`crate::logs`] port.

pub mod agent;
pub mod batch;
pub mod events;

#[cfg(test)]
mod tests;
