//! The harness's model of Amazon Data Firehose delivery to S3, where LocalStack writes one
//! uncompressed object per call with prefixes kept literally: object keys and prefix
//! expressions ([`keys`]), buffering and compression ([`buffer`]).

pub mod buffer;
pub mod keys;
