//! Invokes the onboarding function with the events the EventBridge rule delivered to its SQS
//! target: each message is taken off the queue and handed to one concurrent asynchronous
//! invocation, as EventBridge hands an event to Lambda, with Lambda's two retries; every outcome
//! is kept for the report.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pipeline::onboard::{Decision, OnboardingOutcome};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::functions::{OnboardingFunction, OnboardingResult};
use crate::eventbridge::queue::{EventQueue, MAX_MESSAGES_PER_RECEIVE};

/// Real time before ReceiveMessage is tried again after it failed.
pub const RECEIVE_RETRY: Duration = Duration::from_millis(200);
/// How long one ReceiveMessage waits for a message (long polling).
pub const RECEIVE_WAIT: Duration = Duration::from_secs(1);

/// What the invoker saw.
#[derive(Debug, Default)]
pub struct OnboardingLog {
    /// The outcome of every invocation, by instance id, in order.
    pub outcomes: BTreeMap<String, Vec<OnboardingOutcome>>,
    /// Messages that were not a valid event, with the handler's error.
    pub rejected: Vec<String>,
    /// Retries of failed invocations (Lambda's asynchronous retries).
    pub retries: usize,
}

/// An event the function cannot handle (retrying cannot help), with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RejectedEvent(pub String);

/// Attempts of one asynchronous invocation: the call and Lambda's two retries (AWS Lambda
/// developer guide, "Asynchronous invocation").
pub const INVOKE_ATTEMPTS: usize = 3;

/// Receives from `queue` until `stop` is cancelled and every invocation has returned. Each
/// event is invoked asynchronously as Lambda does it: a failure Lambda retries (a retryable
/// outcome, an error, a crash or a timeout) is tried again after `retry_delays` (Lambda waits
/// one minute, then two), and after the last attempt it is recorded as a failed outcome.
pub async fn run<Q, F>(
    queue: Q,
    function: Arc<F>,
    retry_delays: [Duration; 2],
    log: Arc<Mutex<OnboardingLog>>,
    stop: CancellationToken,
) where
    Q: EventQueue,
    F: OnboardingFunction,
{
    let mut running = JoinSet::new();
    while !stop.is_cancelled() {
        let messages = match queue.receive(MAX_MESSAGES_PER_RECEIVE, RECEIVE_WAIT).await {
            Ok(messages) => messages,
            Err(error) => {
                tracing::warn!(%error, "ReceiveMessage failed");
                tokio::time::sleep(RECEIVE_RETRY).await;
                continue;
            }
        };
        for message in messages {
            let body = message.body;
            // EventBridge hands an event to Lambda once: take it off the queue before the
            // handler runs, so a handler that waits longer than the queue's visibility timeout
            // is not invoked a second time for the same event.
            if let Err(error) = queue.delete(&message.receipt_handle).await {
                tracing::warn!(%error, "DeleteMessage failed");
            }
            let (function, log) = (function.clone(), log.clone());
            running.spawn(async move {
                let recorded = match serde_json::from_str::<serde_json::Value>(&body) {
                    Ok(event) => invoke_with_retries(&*function, &event, retry_delays, &log).await,
                    Err(e) => Err(RejectedEvent(format!("not JSON: {e}"))),
                };
                let mut log = crate::locked(&log);
                match recorded {
                    Ok(outcome) => log
                        .outcomes
                        .entry(outcome.instance_id.clone())
                        .or_default()
                        .push(outcome),
                    Err(error) => log.rejected.push(format!("{error}: {body}")),
                }
            });
        }
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
}

async fn invoke_with_retries<F: OnboardingFunction>(
    function: &F,
    event: &serde_json::Value,
    retry_delays: [Duration; 2],
    log: &Mutex<OnboardingLog>,
) -> Result<OnboardingOutcome, RejectedEvent> {
    let mut last = String::new();
    for attempt in 0..INVOKE_ATTEMPTS {
        if attempt > 0 {
            crate::locked(log).retries += 1;
            tokio::time::sleep(retry_delays[attempt - 1]).await;
        }
        match function.invoke(event).await {
            OnboardingResult::Outcome(outcome) => return Ok(outcome),
            OnboardingResult::Rejected(error) => return Err(RejectedEvent(error)),
            OnboardingResult::Retry(reason) => last = reason,
        }
    }
    failed_after_retries(event, &last)
}

/// The record of an event whose every attempt failed: what Lambda would send to the
/// function's dead-letter queue, with the last error.
fn failed_after_retries(
    event: &serde_json::Value,
    last_error: &str,
) -> Result<OnboardingOutcome, RejectedEvent> {
    let detail = &event["detail"];
    let Some(instance_id) = detail["instance-id"].as_str() else {
        return Err(RejectedEvent(format!(
            "failed {INVOKE_ATTEMPTS} attempts: {last_error}"
        )));
    };
    Ok(OnboardingOutcome {
        instance_id: instance_id.to_owned(),
        event_state: detail["state"].as_str().unwrap_or_default().to_owned(),
        decision: Decision::Failed,
        reason: format!(
            "failed {INVOKE_ATTEMPTS} attempts (the dead-letter queue would get the event): {last_error}"
        ),
        failed_step: None,
        retryable: true,
        platform: None,
        agent_config_parameter: None,
        commands: Vec::new(),
        duration_ms: 0,
    })
}
