//! The harness around the pipeline: where the emulator comes from (LocalStack backends), and the
//! replay harness: scenarios, the simulated clock, fleet, SSM and CloudWatch agents, the Lambda
//! invoker, the ledger, the query stage on the Athena stand-in, and `loglab run`. The stack
//! definition and what provisions, audits and deploys it live in the `stack` crate.

pub mod athena;
pub mod backend;
pub mod clock;
pub mod cloudwatch_agent;
pub mod cost;
pub mod faults;
pub mod fidelity;
pub mod firehose_model;
pub mod fleet;
pub mod generate;
pub mod invoker;
pub mod json_standin;
pub mod lambda;
pub mod landed;
pub mod ledger;
pub mod logs;
pub mod queue;
pub mod run;
pub mod scenario;
pub mod ssm_agent;
pub mod workload;

/// Locks `mutex`, taking the data even when another thread panicked while holding it: the
/// harness's shared state (ledger, registrations, results) stays readable for the report.
pub(crate) fn locked<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
