//! The two CloudWatch Logs calls the agent makes, CreateLogStream and PutLogEvents, as a small
//! trait with an SDK adapter (LocalStack or AWS) and an in-memory one that can throttle, for
//! tests of the agent's retries.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata as _;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;

use super::batch::LogEvent;

/// The events PutLogEvents refused, as index bounds into the batch (its
/// `rejectedLogEventsInfo`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rejected {
    /// Events before this index were too old.
    pub too_old_end: Option<usize>,
    /// Events before this index were older than the group's retention.
    pub expired_end: Option<usize>,
    /// Events from this index on were too far in the future.
    pub too_new_start: Option<usize>,
}

impl Rejected {
    /// Why event `index` of the batch was refused, if it was.
    pub fn reason(&self, index: usize) -> Option<&'static str> {
        if self.too_old_end.is_some_and(|end| index < end) {
            Some("PutLogEvents: too old (more than 14 days)")
        } else if self.expired_end.is_some_and(|end| index < end) {
            Some("PutLogEvents: older than the log group's retention")
        } else if self.too_new_start.is_some_and(|start| index >= start) {
            Some("PutLogEvents: more than 2 hours in the future")
        } else {
            None
        }
    }
}

/// A failed call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} {log_group}/{log_stream} failed ({code}): {message}")]
pub struct LogsError {
    /// The operation.
    pub operation: &'static str,
    /// The group.
    pub log_group: String,
    /// The stream.
    pub log_stream: String,
    /// The error code.
    pub code: String,
    /// What the service said.
    pub message: String,
}

impl LogsError {
    /// A PutLogEvents error on one stream.
    fn put(log_group: &str, log_stream: &str, code: &str, message: String) -> Self {
        Self {
            operation: "PutLogEvents",
            log_group: log_group.to_owned(),
            log_stream: log_stream.to_owned(),
            code: code.to_owned(),
            message,
        }
    }

    /// Whether the call was throttled (and may be retried).
    pub fn is_throttling(&self) -> bool {
        matches!(
            self.code.as_str(),
            "ThrottlingException" | "Throttling" | "ServiceUnavailableException" | "transport"
        )
    }
}

/// CloudWatch Logs as the agent uses it.
pub trait LogsApi: Send + Sync {
    /// Creates the stream; an existing stream is not an error.
    fn create_log_stream(
        &self,
        log_group: &str,
        log_stream: &str,
    ) -> impl Future<Output = Result<(), LogsError>> + Send;

    /// Sends one batch (within the limits, in chronological order).
    fn put_log_events(
        &self,
        log_group: &str,
        log_stream: &str,
        events: &[LogEvent],
    ) -> impl Future<Output = Result<Rejected, LogsError>> + Send;
}

/// aws-sdk-cloudwatchlogs.
#[derive(Debug, Clone)]
pub struct SdkLogs {
    client: aws_sdk_cloudwatchlogs::Client,
}

impl SdkLogs {
    /// Wraps a client.
    pub fn new(client: aws_sdk_cloudwatchlogs::Client) -> Self {
        Self { client }
    }
}

fn sdk_error<
    E: aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
>(
    operation: &'static str,
    log_group: &str,
    log_stream: &str,
    error: &aws_sdk_cloudwatchlogs::error::SdkError<E, R>,
) -> LogsError {
    let (code, message) = match error.as_service_error() {
        Some(service) => (
            service.code().unwrap_or("Unknown").to_owned(),
            service.message().unwrap_or_default().to_owned(),
        ),
        None => (
            "transport".to_owned(),
            aws_sdk_cloudwatchlogs::error::DisplayErrorContext(error).to_string(),
        ),
    };
    LogsError {
        operation,
        log_group: log_group.to_owned(),
        log_stream: log_stream.to_owned(),
        code,
        message,
    }
}

fn index(value: Option<i32>) -> Option<usize> {
    value.and_then(|v| usize::try_from(v).ok())
}

impl LogsApi for SdkLogs {
    async fn create_log_stream(&self, log_group: &str, log_stream: &str) -> Result<(), LogsError> {
        match self
            .client
            .create_log_stream()
            .log_group_name(log_group)
            .log_stream_name(log_stream)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ResourceAlreadyExistsException") => Ok(()),
            Err(e) => Err(sdk_error("CreateLogStream", log_group, log_stream, &e)),
        }
    }

    async fn put_log_events(
        &self,
        log_group: &str,
        log_stream: &str,
        events: &[LogEvent],
    ) -> Result<Rejected, LogsError> {
        let input: Vec<InputLogEvent> = events
            .iter()
            .map(|e| {
                InputLogEvent::builder()
                    .timestamp(e.timestamp_ms)
                    .message(&e.message)
                    .build()
            })
            .collect::<Result<_, _>>()
            .map_err(|e| LogsError::put(log_group, log_stream, "build", e.to_string()))?;
        let output = self
            .client
            .put_log_events()
            .log_group_name(log_group)
            .log_stream_name(log_stream)
            .set_log_events(Some(input))
            .send()
            .await
            .map_err(|e| sdk_error("PutLogEvents", log_group, log_stream, &e))?;
        Ok(output
            .rejected_log_events_info()
            .map(|info| Rejected {
                too_old_end: index(info.too_old_log_event_end_index()),
                expired_end: index(info.expired_log_event_end_index()),
                too_new_start: index(info.too_new_log_event_start_index()),
            })
            .unwrap_or_default())
    }
}

/// In-memory CloudWatch Logs: keeps what it is sent; throttles the first calls when told to.
#[derive(Debug, Default)]
pub struct MemoryLogs {
    state: Mutex<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    streams: BTreeMap<(String, String), Vec<LogEvent>>,
    throttle_next: u32,
    calls: u32,
}

impl MemoryLogs {
    /// Throttles the next `calls` PutLogEvents calls.
    pub fn throttle(&self, calls: u32) {
        self.lock().throttle_next = calls;
    }

    /// The events a stream holds.
    pub fn events(&self, log_group: &str, log_stream: &str) -> Vec<LogEvent> {
        self.lock()
            .streams
            .get(&(log_group.to_owned(), log_stream.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// PutLogEvents calls made, throttled ones included.
    pub fn calls(&self) -> u32 {
        self.lock().calls
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        crate::locked(&self.state)
    }
}

impl LogsApi for MemoryLogs {
    async fn create_log_stream(&self, log_group: &str, log_stream: &str) -> Result<(), LogsError> {
        self.lock()
            .streams
            .entry((log_group.to_owned(), log_stream.to_owned()))
            .or_default();
        Ok(())
    }

    async fn put_log_events(
        &self,
        log_group: &str,
        log_stream: &str,
        events: &[LogEvent],
    ) -> Result<Rejected, LogsError> {
        let mut state = self.lock();
        state.calls += 1;
        if state.throttle_next > 0 {
            state.throttle_next -= 1;
            return Err(LogsError::put(
                log_group,
                log_stream,
                "ThrottlingException",
                "Rate exceeded".to_owned(),
            ));
        }
        let Some(stream) = state
            .streams
            .get_mut(&(log_group.to_owned(), log_stream.to_owned()))
        else {
            return Err(LogsError::put(
                log_group,
                log_stream,
                "ResourceNotFoundException",
                "The specified log stream does not exist.".to_owned(),
            ));
        };
        stream.extend_from_slice(events);
        Ok(Rejected::default())
    }
}
