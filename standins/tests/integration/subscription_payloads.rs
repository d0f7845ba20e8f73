//! The invoker's subscription payloads against the fixtures of AWS's documented shapes
//! (`fixtures/cloudwatch-logs/`): the JSON inside the gzip holds the same values, with the keys
//! in the documented order; the Lambda event is padded base64 of gzip; and the ETL handler's decoder
//! reads it back to the same payload.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use crate::support;

use base64::Engine as _;
use pipeline::etl::decode::{self, LogsPayload};
use standins::subscription::payload::{StreamEvent, control_message, data_message, lambda_event};

fn fixture(name: &str) -> String {
    let path = support::root()
        .join("fixtures/cloudwatch-logs/payloads")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The payload's keys in the order the text first names them.
fn key_order(text: &str) -> Vec<&'static str> {
    let mut keys: Vec<(usize, &'static str)> = [
        "messageType",
        "owner",
        "logGroup",
        "logStream",
        "subscriptionFilters",
        "logEvents",
        "id",
        "timestamp",
        "message",
    ]
    .into_iter()
    .map(|key| (text.find(&format!("\"{key}\"")).unwrap(), key))
    .collect();
    keys.sort_unstable();
    keys.into_iter().map(|(_, key)| key).collect()
}

/// Same values, same key order.
fn assert_same_payload(expected: &str, actual: &[u8], name: &str) {
    let actual = std::str::from_utf8(actual).unwrap();
    let parsed = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
    assert_eq!(parsed(actual), parsed(expected), "{name}: values");
    assert_eq!(key_order(actual), key_order(expected), "{name}: key order");
    assert!(!actual.contains('\n'), "{name}: compact JSON, one line");
}

fn rebuilt(name: &str) -> (String, Vec<u8>) {
    let text = fixture(name);
    let original: LogsPayload<'_> = serde_json::from_str(&text).unwrap();
    let events: Vec<StreamEvent> = original
        .log_events
        .iter()
        .map(|e| StreamEvent {
            id: e.id.to_string(),
            timestamp_ms: e.timestamp,
            message: e.message.to_string(),
        })
        .collect();
    let payload = data_message(
        &original.owner,
        &original.log_group,
        &original.log_stream,
        &original.subscription_filters[0],
        &events,
    );
    let json = payload.to_json();
    (text, json)
}

#[test]
fn data_messages_match_the_documented_fixtures() {
    for name in [
        "linux-messages.json",
        "linux-secure.json",
        "windows-system-xml.json",
        "windows-application-xml.json",
        "windows-security-xml.json",
        "windows-text.json",
    ] {
        let (expected, actual) = rebuilt(name);
        assert_same_payload(&expected, &actual, name);
    }
}

#[test]
fn the_control_message_matches_the_documented_fixture() {
    let text = fixture("control-message.json");
    let original: LogsPayload<'_> = serde_json::from_str(&text).unwrap();
    let built = control_message(original.log_events[0].timestamp);
    assert_same_payload(&text, &built.to_json(), "control-message.json");
}

#[test]
fn the_lambda_event_is_padded_base64_of_gzip_and_decodes_back() {
    let events = vec![
        StreamEvent::new(
            1_700_000_000_000,
            1,
            "Nov 14 22:13:20 ip-10-0-0-1 sshd[7]: Failed password for root".into(),
        ),
        StreamEvent::new(1_700_000_000_001, 2, "x".repeat(3)),
    ];
    let payload = data_message(
        "000000000000",
        "CCP-logs-Example-000000000000-us-east-1",
        "/var/log/secure/i-0123456789abcdef0",
        "ccp-logs-to-etl",
        &events,
    );
    let event = lambda_event(&payload).unwrap();
    let data = event["awslogs"]["data"].as_str().unwrap();
    assert_eq!(data.len() % 4, 0, "padded base64");
    let gzip = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    assert_eq!(&gzip[..2], &[0x1f, 0x8b], "gzip magic");
    let mut json = Vec::new();
    decode::gunzip_capped(&gzip, 1 << 20, &mut json).unwrap();
    let back = decode::parse_payload(&json).unwrap();
    assert_eq!(back, payload);
    assert!(
        back.log_events
            .iter()
            .all(|e| e.id.len() == 56 && e.id.bytes().all(|b| b.is_ascii_digit()))
    );
    assert_ne!(back.log_events[0].id, back.log_events[1].id);
}
