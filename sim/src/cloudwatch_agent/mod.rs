//! The simulated CloudWatch agent: what it collects and ships ([`agent`]), how it batches
//! ([`batch`]), and the CloudWatch Logs calls it makes ([`logs_api`]).

pub mod agent;
pub mod batch;
pub mod logs_api;

#[cfg(test)]
mod tests;
