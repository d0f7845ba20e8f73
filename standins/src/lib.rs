//! The AWS stand-ins: what the emulator cannot do, each a component that speaks AWS's protocol
//! or port, with its configuration, AWS's limits and error texts, its core, and its tests. The
//! harness (`harness`) runs scenarios over them; nothing here knows a scenario or the ledger.
//!
//! - [`cloudwatch_agent`]: the CloudWatch agent on an instance (collection, events, batches,
//!   the sender's retries), reading its host's log files through the [`cloudwatch_agent::AgentHost`]
//!   port.
//! - [`cloudwatch_logs`]: CloudWatch Logs as the agents write it and the subscription reads it
//!   (ports, the SDK adapter, an in-memory log group).
//! - [`subscription`]: a subscription filter delivering to the ETL function (filter pattern,
//!   AWS's payload, at-least-once redelivery).
//! - [`eventbridge`]: the rule's target queue, and the rule's pattern where there is no
//!   EventBridge.
//! - [`lambda`]: the functions as Lambda runs and invokes them (in-process or the built
//!   artifacts in execution environments; asynchronous invocations and their retries).
//! - [`ssm`]: Systems Manager where the emulator has none (registration, command results, the
//!   agent that runs the onboarding documents, an SSM endpoint for the deployed function).
//! - [`firehose`]: Firehose delivery to S3 (buffering, compression, format conversion, object
//!   keys, its JSON endpoint).
//! - [`faults`]: AWS's failures injected into the SDK's HTTP and the stand-ins, and emulator
//!   restarts.
//! - [`clock`]: simulated time, and the one place the wall clock is read.
//! - [`json_protocol`]: the AWS JSON 1.1 server the Firehose and SSM endpoints share.
//! - [`instance`]: what the stand-ins know of an instance (its operating system).

pub mod athena;
pub mod clock;
pub mod cloudwatch_agent;
pub mod cloudwatch_logs;
pub mod eventbridge;
pub mod faults;
pub mod firehose;
pub mod glue;
pub mod iam;
pub mod instance;
pub mod json_protocol;
pub mod lambda;
pub mod ssm;
pub mod subscription;

/// Locks `mutex`, taking the data even when another thread panicked while holding it: shared
/// state (registrations, results, buffers) stays readable for the report.
pub fn locked<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
