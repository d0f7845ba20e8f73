//! CloudWatch Logs as the harness uses it, as two ports: [`LogsApi`], the calls the agent makes
//! (CreateLogStream, PutLogEvents), and [`LogsReader`], the reads the subscription makes
//! (DescribeLogStreams, GetLogEvents with forward tokens). Each has an SDK adapter
//! ([`SdkLogs`]: LocalStack or AWS) and an in-memory one ([`MemoryLogs`], which can throttle,
//! for tests of the agent's retries); one conformance suite (`standins/tests/integration/conformance/`) runs
//! against both.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata as _;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;

/// One log event as PutLogEvents takes it and GetLogEvents gives it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// Event time, epoch milliseconds.
    pub timestamp_ms: i64,
    /// The message.
    pub message: String,
}

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

    /// `operation` on the stream got no answer: the connection was refused (the endpoint is
    /// down), as the SDK's dispatch failure (`transport`).
    pub fn refused(operation: &'static str, log_group: &str, log_stream: &str, why: &str) -> Self {
        Self {
            operation,
            log_group: log_group.to_owned(),
            log_stream: log_stream.to_owned(),
            code: "transport".to_owned(),
            message: format!("connection refused: {why}"),
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

/// One stream as DescribeLogStreams lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// Its name.
    pub name: String,
    /// When it last received events, epoch milliseconds (CloudWatch Logs updates it only
    /// eventually; absent before the first event).
    pub last_ingestion_ms: Option<i64>,
}

/// One page of DescribeLogStreams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamsPage {
    /// The streams of the page.
    pub streams: Vec<StreamInfo>,
    /// The token of the next page, if any.
    pub next_token: Option<String>,
}

/// One page of GetLogEvents read forward from the head.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsPage {
    /// The events, oldest first.
    pub events: Vec<LogEvent>,
    /// Where the next read starts: CloudWatch Logs returns the token it was given when there is
    /// nothing new.
    pub next_forward_token: Option<String>,
}

/// CloudWatch Logs as the subscription reads it.
pub trait LogsReader: Send + Sync {
    /// One page of the group's streams, from `next_token` (the first page without).
    fn describe_log_streams(
        &self,
        log_group: &str,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<StreamsPage, LogsError>> + Send;

    /// The stream's events from the head, or from `next_token` (a forward token of an earlier
    /// page).
    fn get_log_events(
        &self,
        log_group: &str,
        log_stream: &str,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<EventsPage, LogsError>> + Send;
}

impl<R: LogsReader> LogsReader for &R {
    fn describe_log_streams(
        &self,
        log_group: &str,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<StreamsPage, LogsError>> + Send {
        (**self).describe_log_streams(log_group, next_token)
    }

    fn get_log_events(
        &self,
        log_group: &str,
        log_stream: &str,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<EventsPage, LogsError>> + Send {
        (**self).get_log_events(log_group, log_stream, next_token)
    }
}

impl<R: LogsReader> LogsReader for std::sync::Arc<R> {
    fn describe_log_streams(
        &self,
        log_group: &str,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<StreamsPage, LogsError>> + Send {
        (**self).describe_log_streams(log_group, next_token)
    }

    fn get_log_events(
        &self,
        log_group: &str,
        log_stream: &str,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<EventsPage, LogsError>> + Send {
        (**self).get_log_events(log_group, log_stream, next_token)
    }
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

impl LogsReader for SdkLogs {
    async fn describe_log_streams(
        &self,
        log_group: &str,
        next_token: Option<&str>,
    ) -> Result<StreamsPage, LogsError> {
        let page = self
            .client
            .describe_log_streams()
            .log_group_name(log_group)
            .set_next_token(next_token.map(str::to_owned))
            .send()
            .await
            .map_err(|e| sdk_error("DescribeLogStreams", log_group, "", &e))?;
        Ok(StreamsPage {
            streams: page
                .log_streams()
                .iter()
                .filter_map(|s| {
                    Some(StreamInfo {
                        name: s.log_stream_name()?.to_owned(),
                        last_ingestion_ms: s.last_ingestion_time(),
                    })
                })
                .collect(),
            next_token: page.next_token().map(str::to_owned),
        })
    }

    async fn get_log_events(
        &self,
        log_group: &str,
        log_stream: &str,
        next_token: Option<&str>,
    ) -> Result<EventsPage, LogsError> {
        let page = self
            .client
            .get_log_events()
            .log_group_name(log_group)
            .log_stream_name(log_stream)
            .start_from_head(true)
            .set_next_token(next_token.map(str::to_owned))
            .send()
            .await
            .map_err(|e| sdk_error("GetLogEvents", log_group, log_stream, &e))?;
        Ok(EventsPage {
            events: page
                .events()
                .iter()
                .map(|e| LogEvent {
                    timestamp_ms: e.timestamp().unwrap_or_default(),
                    message: e.message().unwrap_or_default().to_owned(),
                })
                .collect(),
            next_forward_token: page.next_forward_token().map(str::to_owned),
        })
    }
}

/// In-memory CloudWatch Logs: keeps what it is sent; throttles the first calls when told to.
#[derive(Debug, Default)]
pub struct MemoryLogs {
    state: Mutex<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    streams: BTreeMap<(String, String), MemoryStream>,
    throttle_next: u32,
    /// The next calls (of either kind) meet a refused connection.
    refuse_next: u32,
    calls: u32,
    /// Drop every stream before the next PutLogEvents, as an emulator restarted between two
    /// calls would.
    lose_streams: bool,
}

#[derive(Debug, Default)]
struct MemoryStream {
    events: Vec<LogEvent>,
    last_ingestion_ms: Option<i64>,
}

/// Events one in-memory GetLogEvents page holds at most (AWS: up to 10,000 events or 1 MB).
pub const MEMORY_EVENTS_PER_PAGE: usize = 10_000;

/// A forward token of the in-memory adapter: the index of the next event.
fn forward_token(index: usize) -> String {
    format!("f/{index:020}")
}

impl MemoryLogs {
    /// Throttles the next `calls` PutLogEvents calls.
    pub fn throttle(&self, calls: u32) {
        self.lock().throttle_next = calls;
    }

    /// Refuses the connection of the next `calls` calls (an endpoint down): the SDK's
    /// `transport` error, no answer.
    pub fn refuse(&self, calls: u32) {
        self.lock().refuse_next = calls;
    }

    /// Drops every stream just before the next PutLogEvents (a restart without persistence).
    pub fn lose_streams_before_next_put(&self) {
        self.lock().lose_streams = true;
    }

    /// The events a stream holds.
    pub fn events(&self, log_group: &str, log_stream: &str) -> Vec<LogEvent> {
        self.lock()
            .streams
            .get(&(log_group.to_owned(), log_stream.to_owned()))
            .map(|s| s.events.clone())
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
        let mut state = self.lock();
        if state.refuse_next > 0 {
            state.refuse_next -= 1;
            return Err(LogsError::refused(
                "CreateLogStream",
                log_group,
                log_stream,
                "the in-memory endpoint is down",
            ));
        }
        state
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
        if std::mem::take(&mut state.lose_streams) {
            state.streams.clear();
        }
        if state.refuse_next > 0 {
            state.refuse_next -= 1;
            return Err(LogsError::refused(
                "PutLogEvents",
                log_group,
                log_stream,
                "the in-memory endpoint is down",
            ));
        }
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
        stream.events.extend_from_slice(events);
        // Strictly increasing, so that two puts in one millisecond still show as new ingestion.
        let now = crate::clock::wall_now_ms();
        stream.last_ingestion_ms = Some(
            stream
                .last_ingestion_ms
                .map_or(now, |last| now.max(last + 1)),
        );
        Ok(Rejected::default())
    }
}

impl LogsReader for MemoryLogs {
    async fn describe_log_streams(
        &self,
        log_group: &str,
        next_token: Option<&str>,
    ) -> Result<StreamsPage, LogsError> {
        if next_token.is_some() {
            // Every stream is on the first page.
            return Ok(StreamsPage::default());
        }
        let state = self.lock();
        Ok(StreamsPage {
            streams: state
                .streams
                .iter()
                .filter(|((group, _), _)| group == log_group)
                .map(|((_, name), stream)| StreamInfo {
                    name: name.clone(),
                    last_ingestion_ms: stream.last_ingestion_ms,
                })
                .collect(),
            next_token: None,
        })
    }

    async fn get_log_events(
        &self,
        log_group: &str,
        log_stream: &str,
        next_token: Option<&str>,
    ) -> Result<EventsPage, LogsError> {
        let state = self.lock();
        let not_found = |message: &str| LogsError {
            operation: "GetLogEvents",
            log_group: log_group.to_owned(),
            log_stream: log_stream.to_owned(),
            code: "ResourceNotFoundException".to_owned(),
            message: message.to_owned(),
        };
        let stream = state
            .streams
            .get(&(log_group.to_owned(), log_stream.to_owned()))
            .ok_or_else(|| not_found("The specified log stream does not exist."))?;
        let start = match next_token {
            None => 0,
            Some(token) => token
                .strip_prefix("f/")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| LogsError {
                    code: "InvalidParameterException".to_owned(),
                    ..not_found("The specified nextToken is invalid.")
                })?,
        };
        let start = start.min(stream.events.len());
        let end = (start + MEMORY_EVENTS_PER_PAGE).min(stream.events.len());
        Ok(EventsPage {
            events: stream.events[start..end].to_vec(),
            next_forward_token: Some(forward_token(end)),
        })
    }
}
