//! The deployable log pipeline.
//!
//! - [`agent_config`]: the CloudWatch agent's configuration (the JSON in Parameter Store),
//!   validated against the agent's schema, with the pipeline's defaults and placeholders.
//! - [`aws_sdk`]: the SDK configuration every client is built from (one HTTPS client).
//! - [`cloudwatch_logs`]: CloudWatch Logs naming rules and retention values.
//! - [`emulator`]: the SDK configuration for an emulator endpoint and its test credentials.
//! - [`etl`]: CloudWatch Logs subscription payloads to query-ready JSON rows (the ETL handler).
//! - [`filter_pattern`]: CloudWatch Logs filter patterns, parsed and evaluated (LocalStack
//!   ignores them; the harness honours them with this).
//! - [`firehose`]: the record-sink port, PutRecordBatch batching within Firehose's hard limits,
//!   delivery with retries, and the AWS SDK and in-memory adapters.
//! - [`onboard`]: the onboarding handler (EC2 state change to a configured CloudWatch agent),
//!   its ports and their AWS SDK and in-memory adapters.
//!
//! Lambda entry points and the CLI live in `src/bin/`; they are thin and hand SDK clients,
//! built once, to the handlers here.

pub mod agent_config;
pub mod aws_sdk;
pub mod cloudwatch_logs;
pub mod emulator;
pub mod env_config;
pub mod etl;
pub mod filter_pattern;
pub mod firehose;
pub mod onboard;
pub mod time_format;
