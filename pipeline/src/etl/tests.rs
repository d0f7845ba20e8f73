//! Property tests of the transform: whatever the events, rows preserve every message byte
//! for byte, one valid JSON object per line with the same columns, none over the limit.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::decode::{self, LogsPayload};
use super::{RowBuffer, TransformOptions, transform_gzip};
use crate::time_format::IsoMillis;

/// The column names, in order, that every row must have.
pub(crate) const COLUMNS: [&str; 32] = {
    let mut names = [""; 32];
    let mut i = 0;
    while i < names.len() {
        names[i] = super::row::ROW_COLUMNS[i].0;
        i += 1;
    }
    names
};

/// A JSON object's members in document order, duplicates kept (serde_json's `Map` sorts and
/// dedups, which would hide exactly what these tests look for).
pub(crate) struct OrderedObject(pub Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for OrderedObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<OrderedObject, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(OrderedObject(members))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

impl OrderedObject {
    /// The member named `key` (the first, if duplicated).
    pub(crate) fn get(&self, key: &str) -> &serde_json::Value {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or(&serde_json::Value::Null, |(_, v)| v)
    }
}

fn message_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "[a-zA-Z0-9 :\\[\\]<>\"\\\\\n\r\t\u{0}-\u{1f}é日🚀]{0,200}",
        1 => "Jun 14 15:16:01 host prog\\[[0-9]{1,5}\\]: .{0,80}",
        1 => ("[\u{0}-\u{7f}é日🚀\"\\\\]{1,8}", 500usize..30_000).prop_map(|(unit, n)| unit.repeat(n / unit.len().max(1) + 1)),
    ]
}

fn payload_of(messages: &[String]) -> Vec<u8> {
    let payload = LogsPayload::data_message(
        "123456789012",
        "CCP-logs-Acme-123456789012-eu-west-1",
        "/var/log/messages/i-0123456789abcdef0",
        FIRST_TIMESTAMP_MS,
        messages.iter().map(String::as_str),
    );
    decode::gzip(&payload.to_json())
}

const FIRST_TIMESTAMP_MS: i64 = 1_700_000_000_000;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn rows_preserve_every_message_and_the_count(
        messages in prop::collection::vec(message_strategy(), 0..40),
        max_record_bytes in 4096usize..40_000,
    ) {
        let options = TransformOptions { max_record_bytes, ..TransformOptions::default() };
        let (mut scratch, mut rows) = (Vec::new(), RowBuffer::default());
        let report = transform_gzip(&payload_of(&messages), &options, IsoMillis::now(), &mut scratch, &mut rows).unwrap();
        prop_assert_eq!(report.events, messages.len());
        prop_assert_eq!(report.rows, rows.len());
        prop_assert_eq!(rows.data.iter().filter(|&&b| b == b'\n').count(), rows.len(), "one line per row");

        let mut parts: BTreeMap<String, Vec<(u64, u64, String)>> = BTreeMap::new();
        let mut row_start = 0;
        for (row, &end) in rows.rows().zip(&rows.ends) {
            prop_assert!(end - row_start <= max_record_bytes, "row of {} bytes over {}", end - row_start, max_record_bytes);
            row_start = end;
            let object: OrderedObject = serde_json::from_slice(row).unwrap();
            let keys: Vec<&str> = object.0.iter().map(|(k, _)| k.as_str()).collect();
            prop_assert_eq!(&keys[..], &COLUMNS[..], "stable column set, in order, no duplicates");
            let id = object.get("event_id").as_str().unwrap().to_owned();
            parts.entry(id).or_default().push((
                object.get("part_index").as_u64().unwrap(),
                object.get("part_count").as_u64().unwrap(),
                object.get("message").as_str().unwrap().to_owned(),
            ));
        }
        prop_assert_eq!(parts.len(), messages.len(), "every event has rows");
        for (i, original) in messages.iter().enumerate() {
            let id = decode::synthetic_event_id(FIRST_TIMESTAMP_MS + i as i64, i as u64);
            let mut event_parts = parts.remove(&id).unwrap();
            event_parts.sort();
            let count = event_parts.len() as u64;
            for (expected_index, (index, part_count, _)) in event_parts.iter().enumerate() {
                prop_assert_eq!(*index, expected_index as u64);
                prop_assert_eq!(*part_count, count);
            }
            let rebuilt: String = event_parts.into_iter().map(|(_, _, m)| m).collect();
            prop_assert_eq!(&rebuilt, original, "message preserved byte for byte");
        }
    }
}
