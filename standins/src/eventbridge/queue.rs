//! The queue that stands in for the onboarding function as the EventBridge rule's target, as a
//! port: [`EventQueue`] receives (long polling) and deletes. Adapters: [`SdkQueue`]
//! (aws-sdk-sqs on LocalStack or AWS) and [`MemoryQueue`] (in-process, for tests of the
//! onboarding invoker); one conformance suite (`standins/tests/integration/conformance/`) runs against both.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

/// Most messages one ReceiveMessage returns (SQS's limit).
pub const MAX_MESSAGES_PER_RECEIVE: i32 = 10;
/// Longest long-polling wait of one ReceiveMessage (SQS's limit).
pub const MAX_RECEIVE_WAIT: Duration = Duration::from_secs(20);

/// One message taken from the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// The body (an EventBridge event, as JSON).
    pub body: String,
    /// The handle that deletes it.
    pub receipt_handle: String,
}

/// A failed queue call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} {queue}: {message}")]
pub struct QueueError {
    /// ReceiveMessage or DeleteMessage.
    pub operation: &'static str,
    /// The queue's URL or name.
    pub queue: String,
    /// What the service said.
    pub message: String,
}

/// The rule's target queue as the onboarding invoker reads it.
pub trait EventQueue: Send + Sync {
    /// Up to `max` messages (at most [`MAX_MESSAGES_PER_RECEIVE`]), waiting up to `wait` (at most
    /// [`MAX_RECEIVE_WAIT`]) for the first; empty when none came.
    fn receive(
        &self,
        max: i32,
        wait: Duration,
    ) -> impl Future<Output = Result<Vec<QueueMessage>, QueueError>> + Send;

    /// Deletes a received message.
    fn delete(&self, receipt_handle: &str) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// aws-sdk-sqs on one queue.
#[derive(Debug, Clone)]
pub struct SdkQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SdkQueue {
    /// The queue at `url`.
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    fn error<E: std::error::Error + 'static, R: std::fmt::Debug>(
        &self,
        operation: &'static str,
        error: &aws_sdk_sqs::error::SdkError<E, R>,
    ) -> QueueError {
        QueueError {
            operation,
            queue: self.url.clone(),
            message: aws_sdk_sqs::error::DisplayErrorContext(error).to_string(),
        }
    }
}

impl SdkQueue {
    /// SendMessage with string attributes.
    pub async fn send_with_attributes(
        &self,
        body: &str,
        attributes: &[(&str, &str)],
    ) -> Result<(), QueueError> {
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body);
        for (name, value) in attributes.iter().filter(|(_, v)| !v.is_empty()) {
            let value = aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(*value)
                .build()
                .map_err(|e| QueueError {
                    operation: "SendMessage",
                    queue: self.url.clone(),
                    message: e.to_string(),
                })?;
            request = request.message_attributes(*name, value);
        }
        request
            .send()
            .await
            .map_err(|e| self.error("SendMessage", &e))?;
        Ok(())
    }
}

impl EventQueue for SdkQueue {
    async fn receive(&self, max: i32, wait: Duration) -> Result<Vec<QueueMessage>, QueueError> {
        let wait_seconds = i32::try_from(wait.min(MAX_RECEIVE_WAIT).as_secs()).unwrap_or(0);
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, MAX_MESSAGES_PER_RECEIVE))
            .wait_time_seconds(wait_seconds)
            .send()
            .await
            .map_err(|e| self.error("ReceiveMessage", &e))?;
        Ok(output
            .messages()
            .iter()
            .map(|m| QueueMessage {
                body: m.body().unwrap_or_default().to_owned(),
                receipt_handle: m.receipt_handle().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| self.error("DeleteMessage", &e))?;
        Ok(())
    }
}

impl<Q: EventQueue> EventQueue for std::sync::Arc<Q> {
    fn receive(
        &self,
        max: i32,
        wait: Duration,
    ) -> impl Future<Output = Result<Vec<QueueMessage>, QueueError>> + Send {
        (**self).receive(max, wait)
    }

    fn delete(&self, receipt_handle: &str) -> impl Future<Output = Result<(), QueueError>> + Send {
        (**self).delete(receipt_handle)
    }
}

/// An in-process queue: messages sent with [`MemoryQueue::send`] are received in order, a
/// waiting receive returning as soon as one arrives (SQS's long polling); a received message
/// stays in flight until deleted (there is no visibility timeout: each message is seen once).
#[derive(Debug, Default)]
pub struct MemoryQueue {
    state: Mutex<MemoryQueueState>,
    arrived: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct MemoryQueueState {
    waiting: VecDeque<String>,
    in_flight: Vec<String>,
    received: u64,
}

impl MemoryQueue {
    /// Puts a message at the end of the queue.
    pub fn send(&self, body: impl Into<String>) {
        crate::locked(&self.state).waiting.push_back(body.into());
        self.arrived.notify_one();
    }

    /// Messages received and not deleted.
    pub fn in_flight(&self) -> usize {
        crate::locked(&self.state).in_flight.len()
    }

    /// Messages not received yet.
    pub fn waiting(&self) -> usize {
        crate::locked(&self.state).waiting.len()
    }
}

impl EventQueue for MemoryQueue {
    async fn receive(&self, max: i32, wait: Duration) -> Result<Vec<QueueMessage>, QueueError> {
        let take = |state: &mut MemoryQueueState| {
            let count = usize::try_from(max.clamp(1, MAX_MESSAGES_PER_RECEIVE)).unwrap_or(1);
            let mut out = Vec::new();
            while out.len() < count {
                let Some(body) = state.waiting.pop_front() else {
                    break;
                };
                state.received += 1;
                let receipt_handle = format!("memory-{}", state.received);
                state.in_flight.push(receipt_handle.clone());
                out.push(QueueMessage {
                    body,
                    receipt_handle,
                });
            }
            out
        };
        let messages = take(&mut crate::locked(&self.state));
        if !messages.is_empty() {
            return Ok(messages);
        }
        // Long polling: one more look when a message arrives or the wait is over.
        tokio::select! {
            () = self.arrived.notified() => {}
            () = tokio::time::sleep(wait.min(MAX_RECEIVE_WAIT)) => {}
        }
        Ok(take(&mut crate::locked(&self.state)))
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        let mut state = crate::locked(&self.state);
        let before = state.in_flight.len();
        state.in_flight.retain(|r| r != receipt_handle);
        if state.in_flight.len() == before {
            return Err(QueueError {
                operation: "DeleteMessage",
                queue: "memory".to_owned(),
                message: format!("ReceiptHandleIsInvalid: {receipt_handle}"),
            });
        }
        Ok(())
    }
}
