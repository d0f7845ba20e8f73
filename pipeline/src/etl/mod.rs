//! The ETL handler: CloudWatch Logs subscription payloads to query-ready JSON rows in Firehose.
//!
//! ```text
//! Lambda event / raw gzip ─► decode (base64, capped gunzip, JSON) ─► CONTROL_MESSAGE? drop+count
//!   ─► per event: stream origin + parsers ─► NDJSON row(s) (split when over the record limit)
//!   ─► records (rows packed) ─► PutRecordBatch batches ─► deliver with retries
//! ```
//!
//! [`transform_gzip`] is the pure part (no I/O), shared by the Lambda handler, the CLI, the
//! harness and the benches; [`EtlHandler`] adds delivery through a [`RecordSink`].

pub mod config;
pub mod decode;
pub mod json_out;
pub mod parse;
pub mod payload;
mod payload_reader;
pub mod row;
pub mod stream_name;

#[cfg(test)]
mod tests;

use std::borrow::Cow;

use serde::Serialize;

pub use config::{ConfigError, EtlConfig, TransformOptions};
pub use decode::DecodeError;
pub use row::RowBuffer;

use crate::firehose::batch::RecordTooLarge;
use crate::firehose::{DeliveryError, DeliveryReport, RecordSink, Records, deliver};
use crate::time_format::IsoMillis;
use decode::MessageType;
use row::{EventMeta, MAX_IDENTITY_BYTES, RowHead};

/// Why an invocation failed. Lambda retries a failed invocation; nothing is dropped silently.
#[derive(Debug, thiserror::Error)]
pub enum EtlError {
    /// The payload could not be decoded.
    #[error("cannot decode the subscription payload: {0}")]
    Decode(#[from] DecodeError),
    /// The identity columns alone would not fit in a row.
    #[error(
        "log event {event_id:.60} of {log_group:.100}/{log_stream:.100}: identity columns are {len} bytes, over {MAX_IDENTITY_BYTES}"
    )]
    IdentityTooLong {
        /// The log group.
        log_group: String,
        /// The log stream.
        log_stream: String,
        /// The event id.
        event_id: String,
        /// Their combined length.
        len: usize,
    },
    /// A record exceeded Firehose's limit (rows are split before this; a bug if seen).
    #[error(transparent)]
    RecordTooLarge(#[from] RecordTooLarge),
    /// Records could not be delivered.
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
}

impl EtlError {
    /// A short category for the Lambda error response's `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Decode(_) => "MalformedPayload",
            Self::IdentityTooLong { .. } => "IdentityTooLong",
            Self::RecordTooLarge(_) => "RecordTooLarge",
            Self::Delivery(_) => "DeliveryFailed",
        }
    }
}

/// What one payload turned into.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TransformReport {
    /// `DATA_MESSAGE` or `CONTROL_MESSAGE`.
    pub message_type: String,
    /// The log group of the payload.
    pub log_group: String,
    /// The log stream of the payload.
    pub log_stream: String,
    /// Decompressed payload size.
    pub decompressed_bytes: usize,
    /// Log events in the payload (0 for a control message).
    pub events: usize,
    /// Rows written (events plus extra parts of split events).
    pub rows: usize,
    /// Events split into parts because they exceeded the record limit.
    pub split_events: usize,
    /// Events no parser recognised (kept with their raw message).
    pub unparsed_events: usize,
    /// CONTROL_MESSAGE payloads dropped (0 or 1).
    pub control_messages_dropped: usize,
}

/// Decodes one gzip payload and appends its rows to `rows`. `scratch` holds the
/// decompressed JSON; pass the same buffers again to reuse their allocations.
pub fn transform_gzip(
    gzip: &[u8],
    options: &TransformOptions,
    ingest_time: IsoMillis,
    scratch: &mut Vec<u8>,
    rows: &mut RowBuffer,
) -> Result<TransformReport, EtlError> {
    decode::gunzip_capped(gzip, options.max_decompressed_bytes, scratch)?;
    let payload = decode::parse_payload(scratch)?;
    let mut report = TransformReport {
        message_type: payload.message_type.to_string(),
        log_group: payload.log_group.to_string(),
        log_stream: payload.log_stream.to_string(),
        decompressed_bytes: scratch.len(),
        ..TransformReport::default()
    };
    if payload.kind().map_err(decode::DecodeError::from)? == MessageType::Control {
        report.control_messages_dropped = 1;
        tracing::info!(log_group = %payload.log_group, "dropped CONTROL_MESSAGE");
        return Ok(report);
    }
    let origin = stream_name::parse_stream_name(&payload.log_stream);
    let max_row_bytes = options.max_record_bytes.max(row::MIN_MAX_ROW_BYTES);
    // The identity columns and ingest time, the same for every row of the payload: written
    // once.
    let mut head = None;
    for event in &payload.log_events {
        let identity = payload.owner.len()
            + payload.log_group.len()
            + payload.log_stream.len()
            + event.id.len();
        if identity > MAX_IDENTITY_BYTES {
            return Err(EtlError::IdentityTooLong {
                log_group: payload.log_group.to_string(),
                log_stream: payload.log_stream.to_string(),
                event_id: event.id.to_string(),
                len: identity,
            });
        }
        let meta = EventMeta {
            account_id: &payload.owner,
            log_group: &payload.log_group,
            log_stream: &payload.log_stream,
            origin,
            event_id: &event.id,
            // Borrowed: the payload's JSON carried it without an escape, so it needs none.
            event_id_is_clean: matches!(event.id, Cow::Borrowed(_)),
            timestamp_ms: event.timestamp,
            ingest_time,
        };
        let head = head.get_or_insert_with(|| RowHead::new(&meta));
        let written = row::write_event_rows(
            head,
            &meta,
            &event.message,
            event.message_json,
            max_row_bytes,
            rows,
        );
        report.events += 1;
        report.rows += written.rows as usize;
        report.split_events += usize::from(written.split);
        report.unparsed_events += usize::from(!written.parsed);
    }
    Ok(report)
}

/// What one invocation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InvocationReport {
    /// The transform's counts.
    pub transform: TransformReport,
    /// Delivery, when there were rows to deliver.
    pub delivery: Option<DeliveryReport>,
}

/// The ETL Lambda handler, generic over where records go.
#[derive(Debug)]
pub struct EtlHandler<S> {
    sink: S,
    config: EtlConfig,
}

impl<S: RecordSink> EtlHandler<S> {
    /// A handler delivering through `sink` (built once per process).
    pub fn new(sink: S, config: EtlConfig) -> Self {
        Self { sink, config }
    }

    /// The sink records go to.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Handles a Lambda subscription event, `{"awslogs":{"data":"..."}}`.
    pub async fn handle_lambda_event(
        &self,
        event: &serde_json::Value,
    ) -> Result<InvocationReport, EtlError> {
        let gzip = decode::gzip_from_lambda_event(event)?;
        self.handle_gzip(&gzip, &self.config.retry).await
    }

    /// The same, in an invocation with `remaining` time before it times out: the delivery's
    /// retries end before it does ([`RetryPolicy::within`]).
    pub async fn handle_lambda_event_within(
        &self,
        event: &serde_json::Value,
        remaining: std::time::Duration,
    ) -> Result<InvocationReport, EtlError> {
        let gzip = decode::gzip_from_lambda_event(event)?;
        self.handle_gzip(&gzip, &self.config.retry.within(remaining))
            .await
    }

    /// Handles the raw gzip bytes a Kinesis or Firehose subscription destination carries,
    /// delivering with `retry`.
    pub async fn handle_gzip(
        &self,
        gzip: &[u8],
        retry: &crate::firehose::RetryPolicy,
    ) -> Result<InvocationReport, EtlError> {
        let (mut scratch, mut rows) = (Vec::new(), RowBuffer::default());
        let transform = transform_gzip(
            gzip,
            &self.config.transform,
            IsoMillis::now(),
            &mut scratch,
            &mut rows,
        )?;
        if rows.is_empty() {
            return Ok(InvocationReport {
                transform,
                delivery: None,
            });
        }
        let options = &self.config.transform;
        let records = Records::from_rows(
            rows.data,
            &rows.ends,
            options.max_record_bytes,
            options.pack_rows,
        )?;
        let delivery = deliver(&self.sink, &records, retry).await?;
        tracing::info!(
            log_group = %transform.log_group,
            log_stream = %transform.log_stream,
            events = transform.events,
            rows = transform.rows,
            split_events = transform.split_events,
            records = delivery.records,
            calls = delivery.calls,
            retried = delivery.retried_entries,
            "delivered"
        );
        Ok(InvocationReport {
            transform,
            delivery: Some(delivery),
        })
    }
}
