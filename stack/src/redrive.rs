//! `loglab redrive`: a function's dead letters sent back to it, as an operator does after
//! fixing what failed them. Lambda puts the event of an asynchronous invocation that failed
//! every attempt into the function's dead-letter queue as it was (Lambda Developer Guide,
//! "Adding a dead-letter queue"); sending it back is invoking the function with that body,
//! asynchronously (`InvocationType` `Event`, as CloudWatch Logs and EventBridge invoked it),
//! then deleting the message. A message whose invocation is refused stays in the queue, named.

use std::future::Future;

use crate::dead_letter_queue_name;

/// Most messages one ReceiveMessage returns (SQS's limit).
const RECEIVE_MAX: i32 = 10;
/// Long polling per receive: an empty answer after it means the queue is drained.
const RECEIVE_WAIT_SECONDS: i32 = 2;
/// How long a received message stays hidden from other readers while it is sent back.
const VISIBILITY_SECONDS: i32 = 60;

/// Why a redrive could not run.
#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    /// The queue or a queue call failed.
    #[error("{operation} on {queue}: {message}")]
    Queue {
        /// The SQS operation.
        operation: &'static str,
        /// The queue.
        queue: String,
        /// What SQS said.
        message: String,
    },
}

/// Lambda did not accept an event: what it said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invoke {function}: {message}")]
pub struct InvokeRefused {
    /// The function.
    pub function: String,
    /// Lambda's code and message, or the failure of the call.
    pub message: String,
}

/// Invokes a function asynchronously with one event.
pub trait InvokeAsync: Send + Sync {
    /// Hands `payload` to `function` (Lambda: `Invoke`, `InvocationType` `Event`, answered
    /// 202).
    fn invoke_async(
        &self,
        function: &str,
        payload: &str,
    ) -> impl Future<Output = Result<(), InvokeRefused>> + Send;
}

impl InvokeAsync for aws_sdk_lambda::Client {
    async fn invoke_async(&self, function: &str, payload: &str) -> Result<(), InvokeRefused> {
        self.invoke()
            .function_name(function)
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload.as_bytes()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| InvokeRefused {
                function: function.to_owned(),
                message: short(&e),
            })
    }
}

/// What a redrive did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redriven {
    /// The queue read.
    pub queue: String,
    /// Messages received.
    pub received: usize,
    /// Sent back and deleted.
    pub sent_back: usize,
    /// Left in the queue, each with why.
    pub failed: Vec<String>,
}

/// Sends up to `max` dead letters of `function` back to it (`dry_run`: receives and counts,
/// sends nothing, deletes nothing; a received message is hidden from the next receive for the
/// visibility timeout, so each is counted once, and they are back in the queue after it).
pub async fn redrive<I: InvokeAsync>(
    sqs: &aws_sdk_sqs::Client,
    lambda: &I,
    function: &str,
    max: usize,
    dry_run: bool,
) -> Result<Redriven, RedriveError> {
    let queue = dead_letter_queue_name(function);
    let queue_error = |operation, message: String| RedriveError::Queue {
        operation,
        queue: queue.clone(),
        message,
    };
    let url = sqs
        .get_queue_url()
        .queue_name(&queue)
        .send()
        .await
        .map_err(|e| {
            let missing = e
                .as_service_error()
                .is_some_and(aws_sdk_sqs::operation::get_queue_url::GetQueueUrlError::is_queue_does_not_exist);
            let why = if missing {
                "no such queue: is the stack deployed in this account and region, and is the function name right?".to_owned()
            } else {
                short(&e)
            };
            queue_error("GetQueueUrl", why)
        })?
        .queue_url()
        .unwrap_or_default()
        .to_owned();
    let mut done = Redriven {
        queue: queue.clone(),
        ..Redriven::default()
    };
    while done.received < max {
        let page = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(
                RECEIVE_MAX.min(i32::try_from(max - done.received).unwrap_or(RECEIVE_MAX)),
            )
            .wait_time_seconds(RECEIVE_WAIT_SECONDS)
            .visibility_timeout(VISIBILITY_SECONDS)
            .send()
            .await
            .map_err(|e| queue_error("ReceiveMessage", short(&e)))?;
        if page.messages().is_empty() {
            break;
        }
        for message in page.messages() {
            done.received += 1;
            if dry_run {
                continue;
            }
            let id = message.message_id().unwrap_or("?");
            if let Err(why) = lambda
                .invoke_async(function, message.body().unwrap_or_default())
                .await
            {
                done.failed.push(format!("message {id}: {why}"));
                continue;
            }
            let deleted = sqs
                .delete_message()
                .queue_url(&url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await;
            match deleted {
                Ok(_) => done.sent_back += 1,
                Err(e) => done.failed.push(format!(
                    "message {id}: sent back, not deleted (it will be sent again): {}",
                    short(&e)
                )),
            }
        }
    }
    Ok(done)
}

/// A service error as its code and message (`ResourceNotFoundException: Function not found:
/// ...`); anything else (no answer, a dispatch failure) with its whole chain of causes.
fn short<E>(error: &E) -> String
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error,
{
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => {
            let mut text = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            text
        }
    }
}
