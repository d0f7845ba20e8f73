//! The payloads CloudWatch Logs sends a subscribed Lambda function, byte-compatible with AWS's
//! documented shape: `{"awslogs":{"data":"<padded base64 of gzip of JSON>"}}`.

use pipeline::etl::decode::{LogEvent, LogsPayload, synthetic_event_id};

/// The owner CloudWatch Logs puts in a CONTROL_MESSAGE.
pub const CONTROL_OWNER: &str = "CloudwatchLogs";
/// The message of a CONTROL_MESSAGE's one event.
pub const CONTROL_TEXT: &str =
    "CWL CONTROL MESSAGE: Checking health of destination Lambda function.";

/// The CONTROL_MESSAGE sent when a subscription is created, at `timestamp_ms`.
pub fn control_message(timestamp_ms: i64) -> LogsPayload<'static> {
    LogsPayload {
        message_type: "CONTROL_MESSAGE".into(),
        owner: CONTROL_OWNER.into(),
        log_group: "".into(),
        log_stream: "".into(),
        subscription_filters: Vec::new(),
        log_events: vec![LogEvent::new("", timestamp_ms, CONTROL_TEXT)],
    }
}

/// One event read from a stream, with the id the subscription gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEvent {
    /// 56-digit event id.
    pub id: String,
    /// Epoch milliseconds.
    pub timestamp_ms: i64,
    /// The message.
    pub message: String,
}

impl StreamEvent {
    /// An event with an id made from its timestamp and the subscription's sequence number,
    /// in CloudWatch Logs' 56-digit form.
    pub fn new(timestamp_ms: i64, sequence: u64, message: String) -> Self {
        Self {
            id: synthetic_event_id(timestamp_ms, sequence),
            timestamp_ms,
            message,
        }
    }
}

/// A DATA_MESSAGE of one stream's events, oldest first.
pub fn data_message<'a>(
    owner: &'a str,
    log_group: &'a str,
    log_stream: &'a str,
    filter_name: &'a str,
    events: &'a [StreamEvent],
) -> LogsPayload<'a> {
    LogsPayload {
        message_type: "DATA_MESSAGE".into(),
        owner: owner.into(),
        log_group: log_group.into(),
        log_stream: log_stream.into(),
        subscription_filters: vec![filter_name.into()],
        log_events: events
            .iter()
            .map(|e| LogEvent::new(e.id.as_str(), e.timestamp_ms, e.message.as_str()))
            .collect(),
    }
}

/// The Lambda event for a payload, as JSON.
pub fn lambda_event(payload: &LogsPayload<'_>) -> Result<serde_json::Value, serde_json::Error> {
    lambda_event_at(payload, pipeline::etl::payload::PAYLOAD_GZIP_LEVEL)
}

/// [`lambda_event`] with the payload gzipped at `level` (0 to 9, zlib's).
pub fn lambda_event_at(
    payload: &LogsPayload<'_>,
    level: u32,
) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_slice(&payload.to_lambda_event_at(level))
}
