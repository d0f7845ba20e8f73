//! The simulated CloudWatch agent: what it ships and how it batches it.

pub mod batch;
