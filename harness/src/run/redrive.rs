//! `redrive = true`: after the delivery, the bug of `[[faults.poison]]` is fixed and the ETL's
//! dead letters are sent back to it from its dead-letter queue, as an operator does after a fix
//! (receive, invoke, delete what succeeded). What it recovers is counted; every recovered event
//! must then land like any other.

use std::time::Duration;

use serde::Serialize;
use standins::eventbridge::queue::{EventQueue, MAX_MESSAGES_PER_RECEIVE};
use standins::lambda::functions::EtlFunction;

/// How long one receive waits for a dead letter before the queue counts as empty.
pub const REDRIVE_RECEIVE_WAIT: Duration = Duration::from_secs(1);

/// What the redrive did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RedriveReport {
    /// Dead letters received from the queue.
    pub letters: usize,
    /// Of those, sent back successfully (and deleted from the queue).
    pub recovered: usize,
    /// Log events in the recovered payloads.
    pub events: usize,
    /// Rows the function made of them.
    pub rows: usize,
    /// What failed, each with its reason (left in the queue).
    pub failed: Vec<String>,
}

/// Sends every message of `queue` back to `function`; a message that succeeds is deleted.
pub(super) async fn redrive<Q: EventQueue, F: EtlFunction>(
    queue: &Q,
    function: &F,
) -> RedriveReport {
    let mut report = RedriveReport::default();
    loop {
        let messages = match queue
            .receive(MAX_MESSAGES_PER_RECEIVE, REDRIVE_RECEIVE_WAIT)
            .await
        {
            Ok(messages) if messages.is_empty() => return report,
            Ok(messages) => messages,
            Err(error) => {
                report.failed.push(error.to_string());
                return report;
            }
        };
        for message in messages {
            report.letters += 1;
            let event = match serde_json::from_str::<serde_json::Value>(&message.body) {
                Ok(event) => event,
                Err(error) => {
                    report
                        .failed
                        .push(format!("a dead letter is not JSON: {error}"));
                    continue;
                }
            };
            match function.invoke(&event).await {
                Ok(result) => {
                    report.recovered += 1;
                    report.events += result.events;
                    report.rows += result.rows;
                    if let Err(error) = queue.delete(&message.receipt_handle).await {
                        report.failed.push(error.to_string());
                    }
                }
                Err(error) => report
                    .failed
                    .push(format!("sent back, failed again: {error}")),
            }
        }
    }
}
