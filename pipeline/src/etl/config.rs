//! The ETL handler's settings, read from the Lambda function's environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `FIREHOSE_DELIVERY_STREAM` | the delivery stream rows go to | required |
//! | `ETL_MAX_DECOMPRESSED_BYTES` | cap on one payload's decompressed size | 33554432 |
//! | `ETL_MAX_RECORD_BYTES` | largest Firehose record (and row) written | 1024000 |
//! | `ETL_PACK_ROWS` | pack several rows into one Firehose record | true |
//! | `ETL_RETRY_MAX_ATTEMPTS` | delivery rounds, the first included | 40 |
//! | `ETL_RETRY_BASE_DELAY_MS` | first backoff, doubled each round | 100 |
//! | `ETL_RETRY_MAX_DELAY_MS` | longest backoff | 5000 |
//! | `ETL_RETRY_DEADLINE_MS` | no retry round starts after this (and never later than 15 s before the invocation times out) | 90000 |

use std::time::Duration;

use super::decode::DEFAULT_MAX_DECOMPRESSED_BYTES;
use super::row::MIN_MAX_ROW_BYTES;
pub use crate::env_config::ConfigError;
use crate::env_config::{parsed, ranged};
use crate::firehose::{MAX_RECORD_BYTES, RetryPolicy};

/// How the ETL handler transforms and delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtlConfig {
    /// The Firehose delivery stream.
    pub delivery_stream: String,
    /// Transform limits.
    pub transform: TransformOptions,
    /// Delivery retries.
    pub retry: RetryPolicy,
}

/// Limits of the transform, independent of where rows go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransformOptions {
    /// Cap on the decompressed size of one payload.
    pub max_decompressed_bytes: usize,
    /// Largest row and Firehose record, in bytes.
    pub max_record_bytes: usize,
    /// Pack several rows into one Firehose record.
    pub pack_rows: bool,
}

impl Default for TransformOptions {
    fn default() -> Self {
        Self {
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
            max_record_bytes: MAX_RECORD_BYTES,
            pack_rows: true,
        }
    }
}

impl EtlConfig {
    /// Reads the settings through `var` (the process environment in the Lambda binary).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let delivery_stream = var("FIREHOSE_DELIVERY_STREAM")
            .filter(|s| !s.trim().is_empty())
            .ok_or(ConfigError::Missing {
                name: "FIREHOSE_DELIVERY_STREAM",
                meaning: "the Firehose delivery stream that receives the rows",
            })?;
        let defaults = TransformOptions::default();
        let retry_defaults = RetryPolicy::default();
        let transform = TransformOptions {
            max_decompressed_bytes: ranged(
                &var,
                "ETL_MAX_DECOMPRESSED_BYTES",
                defaults.max_decompressed_bytes,
                1024,
                1 << 30,
            )?,
            max_record_bytes: ranged(
                &var,
                "ETL_MAX_RECORD_BYTES",
                defaults.max_record_bytes,
                MIN_MAX_ROW_BYTES,
                MAX_RECORD_BYTES,
            )?,
            pack_rows: parsed(&var, "ETL_PACK_ROWS", defaults.pack_rows, "true or false")?,
        };
        let millis = |name, default: Duration, max| -> Result<Duration, ConfigError> {
            let ms = ranged(
                &var,
                name,
                u64::try_from(default.as_millis()).unwrap_or(u64::MAX),
                0,
                max,
            )?;
            Ok(Duration::from_millis(ms))
        };
        let retry = RetryPolicy {
            max_attempts: ranged(
                &var,
                "ETL_RETRY_MAX_ATTEMPTS",
                retry_defaults.max_attempts,
                1,
                100,
            )?,
            base_delay: millis("ETL_RETRY_BASE_DELAY_MS", retry_defaults.base_delay, 60_000)?,
            max_delay: millis("ETL_RETRY_MAX_DELAY_MS", retry_defaults.max_delay, 300_000)?,
            deadline: millis("ETL_RETRY_DEADLINE_MS", retry_defaults.deadline, 900_000)?,
        };
        Ok(Self {
            delivery_stream,
            transform,
            retry,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env_config::lookup;

    #[test]
    fn defaults_apply_when_only_the_stream_is_set() {
        let config =
            EtlConfig::from_lookup(lookup(&[("FIREHOSE_DELIVERY_STREAM", "logs")])).unwrap();
        assert_eq!(config.delivery_stream, "logs");
        assert_eq!(config.transform, TransformOptions::default());
        assert_eq!(config.retry, RetryPolicy::default());
    }

    #[test]
    fn errors_name_the_variable_the_value_and_the_rule() {
        let err = EtlConfig::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "FIREHOSE_DELIVERY_STREAM is not set: the Firehose delivery stream that receives the rows"
        );
        let err = EtlConfig::from_lookup(lookup(&[
            ("FIREHOSE_DELIVERY_STREAM", "s"),
            ("ETL_MAX_RECORD_BYTES", "2000000"),
        ]))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ETL_MAX_RECORD_BYTES=\"2000000\" is invalid: an integer from 4096 to 1024000"
        );
        let err = EtlConfig::from_lookup(lookup(&[
            ("FIREHOSE_DELIVERY_STREAM", "s"),
            ("ETL_PACK_ROWS", "yes"),
        ]))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ETL_PACK_ROWS=\"yes\" is invalid: true or false"
        );
        let err = EtlConfig::from_lookup(lookup(&[
            ("FIREHOSE_DELIVERY_STREAM", "s"),
            ("ETL_RETRY_MAX_ATTEMPTS", "0"),
        ]))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ETL_RETRY_MAX_ATTEMPTS=\"0\" is invalid: an integer from 1 to 100"
        );
    }
}
