//! Invokes the onboarding handler with the events the EventBridge rule delivered to its SQS
//! target: each message is taken off the queue and handed to one concurrent invocation, as
//! EventBridge hands an event to Lambda; every outcome is kept for the report.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pipeline::onboard::{
    CommandRunner, InstanceDirectory, ManagedInstances, OnboardingHandler, OnboardingOutcome,
    ParameterStore,
};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::queue::{EventQueue, MAX_MESSAGES_PER_RECEIVE};

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
}

/// Receives from `queue` until `stop` is cancelled and every invocation has returned.
pub async fn run<Q, D, M, C, P>(
    queue: Q,
    handler: Arc<OnboardingHandler<D, M, C, P>>,
    log: Arc<Mutex<OnboardingLog>>,
    stop: CancellationToken,
) where
    Q: EventQueue,
    D: InstanceDirectory + 'static,
    M: ManagedInstances + 'static,
    C: CommandRunner + 'static,
    P: ParameterStore + 'static,
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
            let (handler, log) = (handler.clone(), log.clone());
            running.spawn(async move {
                let result = match serde_json::from_str::<serde_json::Value>(&body) {
                    Ok(event) => handler
                        .handle_event(&event)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(format!("not JSON: {e}")),
                };
                let mut log = crate::locked(&log);
                match result {
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
