//! Invokes the onboarding handler with the events the EventBridge rule delivered to its SQS
//! target: each message is taken off the queue and handed to one concurrent invocation, as
//! EventBridge hands an event to Lambda; every outcome is kept for the report.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pipeline::onboard::{
    CommandRunner, InstanceDirectory, ManagedInstances, OnboardingHandler, OnboardingOutcome,
    ParameterStore,
};
use tokio::task::JoinSet;

/// What the invoker saw.
#[derive(Debug, Default)]
pub struct OnboardingLog {
    /// The outcome of every invocation, by instance id, in order.
    pub outcomes: BTreeMap<String, Vec<OnboardingOutcome>>,
    /// Messages that were not a valid event, with the handler's error.
    pub rejected: Vec<String>,
}

/// Receives from `queue_url` until `stop` is set and every invocation has returned.
pub async fn run<D, M, C, P>(
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    handler: Arc<OnboardingHandler<D, M, C, P>>,
    log: Arc<Mutex<OnboardingLog>>,
    stop: Arc<AtomicBool>,
) where
    D: InstanceDirectory + 'static,
    M: ManagedInstances + 'static,
    C: CommandRunner + 'static,
    P: ParameterStore + 'static,
{
    let mut running = JoinSet::new();
    while !stop.load(Ordering::Relaxed) {
        let received = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await;
        let messages = match received {
            Ok(output) => output.messages.unwrap_or_default(),
            Err(error) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&error), "ReceiveMessage failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        for message in messages {
            let body = message.body().unwrap_or_default().to_owned();
            // EventBridge hands an event to Lambda once: take it off the queue before the
            // handler runs, so a handler that waits longer than the queue's visibility timeout
            // is not invoked a second time for the same event.
            if let Err(error) = sqs
                .delete_message()
                .queue_url(&queue_url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
            {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&error), "DeleteMessage failed");
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
