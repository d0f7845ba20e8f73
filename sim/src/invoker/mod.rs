//! The Lambda invoker: stands in for Lambda, which LocalStack community cannot run, and calls
//! the same handler code the deployed functions run.
//!
//! - [`onboarding`]: the EventBridge rule's target is an SQS queue on the emulator; the invoker
//!   receives each event from it exactly as EventBridge delivered it and invokes the onboarding
//!   handler with it, concurrently, as Lambda would.
//! - [`subscription`]: tails the log group as CloudWatch Logs' subscription would, applies the
//!   filter pattern with the pipeline's evaluator (LocalStack ignores patterns), and invokes the
//!   ETL handler with AWS's Lambda subscription payload ([`payload`]): per stream, padded
//!   base64 of gzip JSON with owner, group, stream, filter names and 56-digit event ids, after a
//!   CONTROL_MESSAGE when the subscription starts.

pub mod functions;
pub mod onboarding;
pub mod payload;
pub mod subscription;
