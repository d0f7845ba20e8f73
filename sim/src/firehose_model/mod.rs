//! The harness's model of Amazon Data Firehose delivery to S3, where LocalStack writes one
//! uncompressed object per call with prefixes kept literally: object keys and prefix
//! expressions ([`keys`]), buffering and compression ([`buffer`]), and an endpoint the ETL's
//! SDK client writes to ([`endpoint`]).

pub mod buffer;
pub mod endpoint;
pub mod keys;
