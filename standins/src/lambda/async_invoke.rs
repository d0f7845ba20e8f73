//! Invokes the onboarding function with the events the EventBridge rule delivered to its SQS
//! target: each message is taken off the queue and handed to one concurrent asynchronous
//! invocation, as EventBridge hands an event to Lambda, with Lambda's retries
//! ([`super::retries`]: every function error, a refused event included, after one and two
//! minutes of simulated time, then the dead-letter queue); every outcome is kept for the report.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pipeline::onboard::{Decision, OnboardingOutcome};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::functions::{OnboardingFunction, OnboardingResult};
use super::retries::{AsyncRetryPolicy, DeadLetter};
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
    /// Events that failed every attempt: what Lambda sends to the dead-letter queue.
    pub dead_letters: Vec<DeadLetter>,
}

/// An event the function cannot handle (retrying cannot help), with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RejectedEvent(pub String);

/// Receives from `queue` until `stop` is cancelled and every invocation has returned. Each
/// event is invoked asynchronously as Lambda does it: a function error (a retryable outcome,
/// an event the handler refuses, a crash or a timeout) is tried again by `retries`, and after
/// the last attempt the event is a dead letter, and a failed outcome for its instance.
pub async fn run<Q, F>(
    queue: Q,
    (function_name, function): (String, Arc<F>),
    retries: AsyncRetryPolicy,
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
            let (function, log, name) = (function.clone(), log.clone(), function_name.clone());
            running.spawn(async move {
                let recorded = match serde_json::from_str::<serde_json::Value>(&body) {
                    Ok(event) => {
                        invoke_with_retries((&name, &*function), &event, retries, &log).await
                    }
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
    (name, function): (&str, &F),
    event: &serde_json::Value,
    retries: AsyncRetryPolicy,
    log: &Mutex<OnboardingLog>,
) -> Result<OnboardingOutcome, RejectedEvent> {
    let mut attempt = 0;
    let mut age_ms = 0;
    let (code, last, gave_up) = loop {
        attempt += 1;
        let (code, error) = match function.invoke(event).await {
            OnboardingResult::Outcome(outcome) => return Ok(outcome),
            OnboardingResult::Rejected(error) => ("MalformedEvent", error),
            OnboardingResult::Retry(reason) => ("OnboardingFailed", reason),
        };
        match retries.next_wait(attempt, age_ms) {
            Ok(wait) => {
                crate::locked(log).retries += 1;
                age_ms += AsyncRetryPolicy::wait_ms(attempt);
                tokio::time::sleep(wait).await;
            }
            Err(gave_up) => break (code, error, gave_up),
        }
    };
    crate::locked(log).dead_letters.push(DeadLetter {
        function: name.to_owned(),
        body: event.to_string(),
        error_code: code.to_owned(),
        error_message: last.clone(),
        gave_up: gave_up.to_string(),
        log_events: 0,
        at_ms: retries.elapsed_ms(),
    });
    if code == "MalformedEvent" {
        return Err(RejectedEvent(format!(
            "{last} ({gave_up}; sent to the dead-letter queue)"
        )));
    }
    failed_after_retries(
        event,
        &format!("{gave_up}; sent to the dead-letter queue: {last}"),
    )
}

/// The record of an event whose every attempt failed, for its instance.
fn failed_after_retries(
    event: &serde_json::Value,
    why: &str,
) -> Result<OnboardingOutcome, RejectedEvent> {
    let detail = &event["detail"];
    let Some(instance_id) = detail["instance-id"].as_str() else {
        return Err(RejectedEvent(why.to_owned()));
    };
    Ok(OnboardingOutcome {
        instance_id: instance_id.to_owned(),
        event_state: detail["state"].as_str().unwrap_or_default().to_owned(),
        decision: Decision::Failed,
        reason: why.to_owned(),
        failed_step: None,
        retryable: true,
        platform: None,
        agent_config_parameter: None,
        commands: Vec::new(),
        duration_ms: 0,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::eventbridge::queue::MemoryQueue;

    /// Fails every invocation, retryably or by refusing the event.
    struct Failing {
        calls: AtomicUsize,
        refuse: bool,
    }

    impl OnboardingFunction for Failing {
        async fn invoke(&self, _event: &serde_json::Value) -> OnboardingResult {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.refuse {
                OnboardingResult::Rejected("malformed EC2 state-change event".to_owned())
            } else {
                OnboardingResult::Retry("instance i-1 is not managed by Systems Manager".to_owned())
            }
        }
    }

    /// Lambda developer guide, "How Lambda handles errors and retries with asynchronous
    /// invocation": every function error (an event the handler refuses included) is tried
    /// twice more, after one and then two minutes, and then goes to the dead-letter queue.
    #[tokio::test(start_paused = true)]
    async fn every_function_error_is_retried_after_one_and_two_minutes_then_dead_lettered() {
        for refuse in [false, true] {
            let queue = Arc::new(MemoryQueue::default());
            queue.send(r#"{"detail":{"instance-id":"i-1","state":"running"}}"#);
            let function = Arc::new(Failing {
                calls: AtomicUsize::new(0),
                refuse,
            });
            let log = Arc::new(Mutex::new(OnboardingLog::default()));
            let stop = CancellationToken::new();
            let started = tokio::time::Instant::now();
            let invoker = tokio::spawn(run(
                queue.clone(),
                ("ccp-onboarding".to_owned(), function.clone()),
                AsyncRetryPolicy::default(),
                log.clone(),
                stop.clone(),
            ));
            while crate::locked(&log).dead_letters.is_empty() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            stop.cancel();
            invoker.await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(function.calls.load(Ordering::SeqCst), 3);
            assert!(
                started.elapsed() >= Duration::from_secs(180),
                "{:?}",
                started.elapsed()
            );
            let log = crate::locked(&log);
            assert_eq!(log.retries, 2);
            let letter = &log.dead_letters[0];
            assert_eq!(letter.function, "ccp-onboarding");
            assert_eq!(letter.gave_up, "failed all 3 attempts");
            assert!(letter.body.contains("i-1"));
            if refuse {
                assert_eq!(letter.error_code, "MalformedEvent");
                assert_eq!(log.rejected.len(), 1);
            } else {
                assert_eq!(letter.error_code, "OnboardingFailed");
                assert_eq!(log.outcomes["i-1"][0].decision, Decision::Failed);
            }
        }
    }
}
