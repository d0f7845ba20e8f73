//! The harness's model of Amazon Data Firehose delivery to S3, where LocalStack writes one
//! uncompressed object per call with prefixes kept literally: object keys and prefix
//! expressions ([`keys`]), buffering and compression ([`buffer`]), and an endpoint the ETL's
//! SDK client writes to ([`endpoint`]), writing through S3's API ([`s3`]).
//!
//! [`StreamConfig::from_definition`](endpoint::StreamConfig::from_definition) configures it from
//! the stack definition.

pub mod buffer;
pub mod convert;
pub mod direct;
pub mod endpoint;
pub mod keys;
pub mod s3;
