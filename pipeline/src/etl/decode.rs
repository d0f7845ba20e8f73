//! Decoding what CloudWatch Logs delivers to a subscriber into a typed, borrowed payload.
//!
//! Two envelopes reach the ETL handler:
//! - a Lambda subscription event, `{"awslogs":{"data":"<base64 of gzip of JSON>"}}`
//!   (AWS pads the base64; we accept it padded or not);
//! - the raw gzip bytes that Kinesis and Firehose destinations carry.
//!
//! Gzip is decoded with a cap on the decompressed size, so a small hostile payload cannot
//! exhaust the function's memory. Every failure is a [`DecodeError`] naming what was wrong.

use std::io::Read;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

pub use super::payload::{
    LogEvent, LogsPayload, MessageType, PAYLOAD_GZIP_LEVEL, UnknownMessageType,
    encode_lambda_event, gzip, gzip_at, synthetic_event_id,
};

/// Default cap on the decompressed size of one payload. CloudWatch Logs sends at most
/// 1 MiB of log events per subscription delivery; JSON framing and escaping add to that.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: usize = 32 * 1024 * 1024;

/// The first two bytes of every gzip member.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Standard-alphabet base64 that accepts the padded form AWS sends and the unpadded form
/// some libraries produce.
const BASE64_PADDING_INDIFFERENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What went wrong while decoding a subscription delivery.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The Lambda event is not JSON at all.
    #[error("the Lambda event is not valid JSON: {0}")]
    EventNotJson(#[source] serde_json::Error),
    /// The Lambda event is JSON but not `{"awslogs":{"data":"..."}}`.
    #[error(
        "the Lambda event has no string at awslogs.data (expected {{\"awslogs\":{{\"data\":\"<base64>\"}}}}), found {found}"
    )]
    MissingData {
        /// A short description of what was there instead.
        found: String,
    },
    /// `awslogs.data` is not base64.
    #[error("awslogs.data is not valid base64: {0}")]
    Base64(#[source] base64::DecodeError),
    /// The bytes do not start with the gzip magic number.
    #[error("the payload is not gzip: it starts with {prefix:02x?}, expected 1f 8b")]
    NotGzip {
        /// Up to the first four bytes.
        prefix: Vec<u8>,
    },
    /// The gzip stream is truncated or corrupt.
    #[error("the gzip stream is corrupt after {decoded} decompressed bytes: {source}")]
    Gzip {
        /// How many bytes decoded before the fault.
        decoded: usize,
        /// The decoder's error.
        #[source]
        source: std::io::Error,
    },
    /// The decompressed payload is larger than the configured cap.
    #[error(
        "the decompressed payload exceeds the cap of {limit} bytes (ETL_MAX_DECOMPRESSED_BYTES)"
    )]
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// The decompressed bytes are not UTF-8 (JSON text is).
    #[error("the decompressed payload is not UTF-8 text: {0}")]
    PayloadNotUtf8(#[source] std::str::Utf8Error),
    /// The decompressed bytes are not a subscription message.
    #[error("the decompressed payload is not a CloudWatch Logs subscription message: {0}")]
    PayloadJson(#[source] serde_json::Error),
    /// `messageType` is neither `DATA_MESSAGE` nor `CONTROL_MESSAGE`.
    #[error("unknown messageType {0:?} (expected DATA_MESSAGE or CONTROL_MESSAGE)")]
    UnknownMessageType(String),
}

impl From<UnknownMessageType> for DecodeError {
    fn from(unknown: UnknownMessageType) -> Self {
        Self::UnknownMessageType(unknown.0)
    }
}

/// Extracts and base64-decodes `awslogs.data` from a Lambda subscription event.
pub fn gzip_from_lambda_event(event: &serde_json::Value) -> Result<Vec<u8>, DecodeError> {
    let data = event
        .get("awslogs")
        .and_then(|awslogs| awslogs.get("data"))
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| DecodeError::MissingData {
            found: describe_json(event),
        })?;
    BASE64_PADDING_INDIFFERENT
        .decode(data.trim_end())
        .map_err(DecodeError::Base64)
}

/// Parses a Lambda subscription event from its JSON bytes and extracts the gzip bytes.
pub fn gzip_from_lambda_event_bytes(event: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let value: serde_json::Value =
        serde_json::from_slice(event).map_err(DecodeError::EventNotJson)?;
    gzip_from_lambda_event(&value)
}

/// Decompresses `gzip` into `out`, failing once more than `limit` bytes would be written.
pub fn gunzip_capped(gzip: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), DecodeError> {
    if !gzip.starts_with(&GZIP_MAGIC) {
        return Err(DecodeError::NotGzip {
            prefix: gzip.iter().take(4).copied().collect(),
        });
    }
    // One byte over the limit: reading that many shows the payload is too large.
    let cap = limit.saturating_add(1);
    let mut decoder =
        flate2::read::MultiGzDecoder::new(gzip).take(u64::try_from(cap).unwrap_or(u64::MAX));
    // Decompressed over the bytes `out` already holds, so that a buffer passed again is not
    // zeroed again (`read_to_end` zeroes its spare capacity on every call). When it is full,
    // a small read comes first, so that a payload that ends there grows nothing.
    let mut filled = 0;
    let mut probe = [0_u8; PROBE_BYTES];
    loop {
        let full = filled == out.len();
        let into = if full {
            &mut probe[..]
        } else {
            &mut out[filled..]
        };
        let read = match decoder.read(into) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                out.clear();
                return Err(DecodeError::Gzip {
                    decoded: filled,
                    source,
                });
            }
        };
        if full {
            out.extend_from_slice(&probe[..read]);
            let grow = out.len().max(MIN_GROWTH_BYTES).min(cap);
            out.resize(out.len() + grow, 0);
        }
        filled += read;
    }
    out.truncate(filled);
    if out.len() > limit {
        out.clear();
        return Err(DecodeError::TooLarge { limit });
    }
    Ok(())
}

/// The least `gunzip_capped` grows its output by when it is full.
const MIN_GROWTH_BYTES: usize = 64 * 1024;

/// The size of `gunzip_capped`'s read when its output is full.
const PROBE_BYTES: usize = 1024;

/// Parses decompressed bytes as a subscription message and checks its type.
pub fn parse_payload(json: &[u8]) -> Result<LogsPayload<'_>, DecodeError> {
    // One UTF-8 check of the whole text, then a parse that does not check each string again.
    let text = std::str::from_utf8(json).map_err(DecodeError::PayloadNotUtf8)?;
    // The payload's usual shape is read by a reader made for it; anything else by serde_json,
    // which also names what is wrong with a payload that is not valid.
    let payload = match super::payload_reader::read_payload(text) {
        Some(payload) => payload,
        None => serde_json::from_str(text).map_err(DecodeError::PayloadJson)?,
    };
    payload.kind()?;
    Ok(payload)
}

fn describe_json(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => {
            let keys: Vec<&str> = map.keys().map(String::as_str).take(5).collect();
            if keys.is_empty() {
                "an empty object".to_owned()
            } else {
                format!("an object with keys {keys:?}")
            }
        }
        serde_json::Value::Array(_) => "an array".to_owned(),
        serde_json::Value::String(_) => "a string".to_owned(),
        serde_json::Value::Number(_) => "a number".to_owned(),
        serde_json::Value::Bool(_) => "a boolean".to_owned(),
        serde_json::Value::Null => "null".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_that_is_not_utf8_is_refused_with_where() {
        let mut json = LogsPayload::data_message("1", "g", "s", 0, ["ok"]).to_json();
        let at = json.windows(2).position(|w| w == b"ok").unwrap();
        json[at] = 0xff;
        let error = parse_payload(&json).unwrap_err().to_string();
        assert!(
            error.contains("not UTF-8") && error.contains(&format!("index {at}")),
            "{error}"
        );
    }

    #[test]
    fn gunzip_round_trips_and_enforces_the_cap() {
        let text = b"hello world ".repeat(1000);
        let mut out = Vec::new();
        gunzip_capped(&gzip(&text), text.len(), &mut out).unwrap();
        assert_eq!(out, text);
        let err = gunzip_capped(&gzip(&text), text.len() - 1, &mut out).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge { limit } if limit == text.len() - 1));
        assert!(out.is_empty(), "nothing partial is left behind");
    }

    #[test]
    fn a_buffer_passed_again_holds_exactly_the_new_payload() {
        let big = b"0123456789abcdef".repeat(20_000);
        let small = b"small payload".to_vec();
        let mut out = Vec::new();
        for text in [&big, &small, &big, &small] {
            gunzip_capped(&gzip(text), 1 << 20, &mut out).unwrap();
            assert_eq!(&out, text);
        }
        let zipped = gzip(&big);
        assert!(gunzip_capped(&zipped[..zipped.len() / 2], 1 << 20, &mut out).is_err());
        assert!(out.is_empty(), "nothing partial is left behind");
    }

    #[test]
    fn gunzip_names_non_gzip_and_truncated_input() {
        let mut out = Vec::new();
        let err = gunzip_capped(b"{\"a\":1}", 100, &mut out).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the payload is not gzip: it starts with [7b, 22, 61, 22], expected 1f 8b"
        );
        let zipped = gzip(&b"some log text ".repeat(200));
        let err = gunzip_capped(&zipped[..zipped.len() / 2], 1 << 20, &mut out).unwrap_err();
        assert!(
            err.to_string().starts_with("the gzip stream is corrupt"),
            "{err}"
        );
    }

    #[test]
    fn base64_padded_and_unpadded_are_both_accepted() {
        let zipped = gzip(b"{}");
        let padded = base64::engine::general_purpose::STANDARD.encode(&zipped);
        let unpadded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&zipped);
        assert_ne!(padded, unpadded, "the fixture must need padding");
        for data in [padded, unpadded] {
            let event = serde_json::json!({"awslogs": {"data": data}});
            assert_eq!(gzip_from_lambda_event(&event).unwrap(), zipped);
        }
    }

    #[test]
    fn missing_data_says_what_was_found() {
        let err = gzip_from_lambda_event(&serde_json::json!({"Records": []})).unwrap_err();
        assert!(err.to_string().contains("keys [\"Records\"]"), "{err}");
        let err = gzip_from_lambda_event(&serde_json::json!({"awslogs": {"data": 5}})).unwrap_err();
        assert!(matches!(err, DecodeError::MissingData { .. }));
    }

    #[test]
    fn unknown_message_type_is_named() {
        let json = br#"{"messageType":"DATA_MSG","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[]}"#;
        let err = parse_payload(json).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown messageType \"DATA_MSG\" (expected DATA_MESSAGE or CONTROL_MESSAGE)"
        );
    }
}
