//! The subscription payload CloudWatch Logs delivers (the JSON inside the gzip), as typed and
//! borrowed values, and how CloudWatch Logs encodes it for a Lambda subscriber. Reading it is
//! [`super::decode`]'s (with [`super::payload_reader`] for its usual shape).

use std::borrow::Cow;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// A `messageType` that is neither `DATA_MESSAGE` nor `CONTROL_MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown messageType {0:?} (expected DATA_MESSAGE or CONTROL_MESSAGE)")]
pub struct UnknownMessageType(pub String);

/// The kind of a subscription message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// Log events for the subscriber.
    Data,
    /// A reachability check from CloudWatch Logs, to be dropped.
    Control,
}

/// A subscription message, borrowing from the decompressed bytes where it can. It
/// serializes back to the exact field names CloudWatch Logs uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsPayload<'a> {
    /// `DATA_MESSAGE` or `CONTROL_MESSAGE` (see [`LogsPayload::kind`]).
    #[serde(borrow)]
    pub message_type: Cow<'a, str>,
    /// The AWS account id that owns the log group.
    #[serde(borrow)]
    pub owner: Cow<'a, str>,
    /// The log group name.
    #[serde(borrow)]
    pub log_group: Cow<'a, str>,
    /// The log stream name.
    #[serde(borrow)]
    pub log_stream: Cow<'a, str>,
    /// The subscription filters that matched.
    #[serde(borrow, default)]
    pub subscription_filters: Vec<Cow<'a, str>>,
    /// The log events, oldest first.
    #[serde(borrow)]
    pub log_events: Vec<LogEvent<'a>>,
}

/// One log event of a subscription message. Two events are equal when their id, timestamp
/// and message are: `message_json` is the message's own JSON, kept when known.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LogEvent<'a> {
    /// CloudWatch Logs' unique event id (a 56-digit decimal string).
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// Event time in epoch milliseconds.
    pub timestamp: i64,
    /// The log line, verbatim.
    #[serde(borrow)]
    pub message: Cow<'a, str>,
    /// The message as the payload's JSON wrote it, quotes included, when that is byte for byte
    /// how serde_json writes the message (so a row can copy it instead of escaping it again).
    /// Set by the payload's reader; `None` when not known.
    #[serde(skip)]
    pub message_json: Option<&'a str>,
}

impl PartialEq for LogEvent<'_> {
    fn eq(&self, other: &Self) -> bool {
        (&self.id, self.timestamp, &self.message) == (&other.id, other.timestamp, &other.message)
    }
}

impl Eq for LogEvent<'_> {}

impl<'a> LogEvent<'a> {
    /// An event with these fields (its message's JSON not known).
    pub fn new(
        id: impl Into<Cow<'a, str>>,
        timestamp: i64,
        message: impl Into<Cow<'a, str>>,
    ) -> Self {
        Self {
            id: id.into(),
            timestamp,
            message: message.into(),
            message_json: None,
        }
    }
}

impl LogsPayload<'_> {
    /// The message type, or an error naming an unknown one.
    pub fn kind(&self) -> Result<MessageType, UnknownMessageType> {
        match self.message_type.as_ref() {
            "DATA_MESSAGE" => Ok(MessageType::Data),
            "CONTROL_MESSAGE" => Ok(MessageType::Control),
            other => Err(UnknownMessageType(other.to_owned())),
        }
    }
}

impl<'a> LogsPayload<'a> {
    /// A DATA_MESSAGE holding `messages` in order, with synthetic 56-digit event ids and
    /// timestamps one millisecond apart from `first_timestamp_ms`.
    pub fn data_message(
        owner: &'a str,
        log_group: &'a str,
        log_stream: &'a str,
        first_timestamp_ms: i64,
        messages: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let log_events = messages
            .into_iter()
            .zip(0u64..)
            .map(|(message, seq)| {
                let timestamp =
                    first_timestamp_ms.saturating_add(i64::try_from(seq).unwrap_or(i64::MAX));
                LogEvent::new(synthetic_event_id(timestamp, seq), timestamp, message)
            })
            .collect();
        Self {
            message_type: "DATA_MESSAGE".into(),
            owner: owner.into(),
            log_group: log_group.into(),
            log_stream: log_stream.into(),
            subscription_filters: vec!["loglab".into()],
            log_events,
        }
    }

    /// This payload as CloudWatch Logs would deliver it to a Lambda function.
    pub fn to_lambda_event(&self) -> Vec<u8> {
        self.to_lambda_event_at(PAYLOAD_GZIP_LEVEL)
    }

    /// This payload as a Lambda event, gzipped at `level` (0 to 9, zlib's) rather than
    /// [`PAYLOAD_GZIP_LEVEL`]: any level decodes the same.
    pub fn to_lambda_event_at(&self, level: u32) -> Vec<u8> {
        encode_lambda_event_at(&self.to_json(), level)
    }

    /// This payload as the JSON inside the gzip.
    pub fn to_json(&self) -> Vec<u8> {
        // Strings and integers always serialize.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A 56-digit event id in CloudWatch Logs' form, unique per (timestamp, sequence number).
pub fn synthetic_event_id(timestamp_ms: i64, sequence: u64) -> String {
    let mut id = String::with_capacity(56);
    push_zero_padded(&mut id, timestamp_ms.unsigned_abs(), 20);
    push_zero_padded(&mut id, sequence, 36);
    id
}

/// `n` in decimal, zeros before it up to `width` digits (as `{:0width$}` writes it, without
/// the formatting machinery: the harness makes one id per event).
fn push_zero_padded(out: &mut String, n: u64, width: usize) {
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(n);
    out.extend(std::iter::repeat_n('0', width.saturating_sub(digits.len())));
    out.push_str(digits);
}

/// Encodes a payload the way CloudWatch Logs does for Lambda: gzip, then padded base64,
/// wrapped in `{"awslogs":{"data":...}}`. The harness and tests use this.
pub fn encode_lambda_event(payload_json: &[u8]) -> Vec<u8> {
    encode_lambda_event_at(payload_json, PAYLOAD_GZIP_LEVEL)
}

/// [`encode_lambda_event`] with the gzip at `level` (0 to 9, zlib's).
pub fn encode_lambda_event_at(payload_json: &[u8], level: u32) -> Vec<u8> {
    let data = base64::engine::general_purpose::STANDARD.encode(gzip_at(payload_json, level));
    let event = serde_json::json!({ "awslogs": { "data": data } });
    event.to_string().into_bytes()
}

/// The gzip level the harness compresses subscription payloads at. CloudWatch Logs does not
/// document its level; the Lambda developer guide's example payload has XFL 0 in its gzip
/// header, which zlib's convention gives levels 2 to 8 (1 is 4, 9 is 2): the harness takes 2,
/// the fastest of those. Any level decompresses the same.
pub const PAYLOAD_GZIP_LEVEL: u32 = 2;

/// Gzips bytes at [`PAYLOAD_GZIP_LEVEL`] (the form Firehose and Kinesis subscription
/// destinations carry).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    gzip_at(bytes, PAYLOAD_GZIP_LEVEL)
}

/// Gzips bytes at `level` (0 to 9, zlib's).
pub fn gzip_at(bytes: &[u8], level: u32) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::new(level.min(9)),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The id is what `format!("{:020}{:036}")` writes, digit for digit.
        #[test]
        fn event_ids_are_the_formatted_digits(timestamp in any::<i64>(), sequence in any::<u64>()) {
            prop_assert_eq!(
                super::synthetic_event_id(timestamp, sequence),
                format!("{:020}{:036}", timestamp.unsigned_abs(), sequence)
            );
        }
    }

    /// The Lambda developer guide's example payload (`fixtures/cloudwatch-logs/lambda/
    /// lambda-docs-sample.json`) has XFL 0 in its gzip header; so do the harness's payloads.
    #[test]
    fn payloads_carry_the_gzip_header_byte_of_aws_example() {
        use base64::Engine as _;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/cloudwatch-logs/lambda/lambda-docs-sample.json");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let event: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let data = event["awslogs"]["data"].as_str().unwrap_or_default();
        let example = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap_or_default();
        const XFL: usize = 8;
        assert_eq!(example.get(XFL), Some(&0), "AWS's example");
        assert_eq!(
            super::gzip(b"{}").get(XFL),
            Some(&0),
            "the harness's payload"
        );
    }

    /// The memory world sends level 0 (stored blocks): the function's decoding reads it to
    /// the same JSON as the usual level.
    #[test]
    fn every_gzip_level_decodes_to_the_same_payload() {
        use crate::etl::decode::{gunzip_capped, gzip_from_lambda_event_bytes};
        let payload = super::LogsPayload::data_message(
            "123456789012",
            "group",
            "stream",
            1_700_000_000_000,
            ["first line", "second \"quoted\" line"],
        );
        let decoded = |event: Vec<u8>| {
            let gzip = gzip_from_lambda_event_bytes(&event).unwrap_or_default();
            let mut json = Vec::new();
            let read = gunzip_capped(&gzip, 1 << 20, &mut json);
            (read.is_ok(), json)
        };
        for level in 0..=9 {
            assert_eq!(
                decoded(payload.to_lambda_event_at(level)),
                (true, payload.to_json()),
                "level {level}"
            );
        }
    }
}
