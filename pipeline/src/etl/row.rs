//! The output row: one JSON object per log event, one per line, with a stable column set.
//!
//! Every column is always present (null when absent) and appears once, in the order of
//! [`Row`], so that Athena's JSON SerDe and a Glue crawler see one schema. The columns are
//! documented in `docs/rows.md`.
//!
//! A row whose JSON would exceed Firehose's per-record limit is split losslessly into
//! parts: every part repeats the event's identity columns, carries a slice of the message
//! (cut on character boundaries), its `part_index` and the `part_count`; parsed columns are
//! null on parts. Concatenating `message` over `part_index` rebuilds the message byte for byte.

use std::cell::Cell;

use serde::Serialize;

use super::json_out;
use super::parse::{self, Parsed};
use super::stream_name::StreamOrigin;
use crate::time_format::IsoMillis;

/// The columns of one row, in output order.
#[derive(Debug, Serialize)]
pub struct Row<'a> {
    /// The AWS account that owns the log group (`owner` in the payload).
    pub account_id: &'a str,
    /// The log group name.
    pub log_group: &'a str,
    /// The log stream name.
    pub log_stream: &'a str,
    /// The EC2 instance id, recovered from the stream name.
    pub instance_id: Option<&'a str>,
    /// The log file path or Windows channel, recovered from the stream name.
    pub source: Option<&'a str>,
    /// CloudWatch Logs' event id (56 digits); with `part_index`, the row's identity.
    pub event_id: &'a str,
    /// The event time in epoch milliseconds, as CloudWatch Logs recorded it.
    pub event_timestamp_ms: i64,
    /// The event time as ISO-8601 UTC with milliseconds; null if outside years 0000-9999.
    pub event_time: Option<IsoMillis>,
    /// When the ETL handler produced the row (ISO-8601 UTC, milliseconds).
    pub ingest_time: IsoMillis,
    /// 0 for a whole event; the part number when the event was split.
    pub part_index: u32,
    /// 1 for a whole event; the number of parts when it was split.
    pub part_count: u32,
    /// The log message, verbatim (or this part's slice of it).
    pub message: &'a str,
    /// Fields lifted out of the message by the parsers.
    #[serde(flatten)]
    pub parsed: Parsed<'a>,
}

/// The identity of one log event, shared by all its rows.
#[derive(Debug, Clone, Copy)]
pub struct EventMeta<'a> {
    /// The account id (payload `owner`).
    pub account_id: &'a str,
    /// The log group.
    pub log_group: &'a str,
    /// The log stream.
    pub log_stream: &'a str,
    /// What the stream name says about the origin.
    pub origin: StreamOrigin<'a>,
    /// The event id.
    pub event_id: &'a str,
    /// Whether the event id is known to need no JSON escape (the payload carried it without
    /// one), so that it is copied without a look at its bytes.
    pub event_id_is_clean: bool,
    /// The event timestamp in epoch milliseconds.
    pub timestamp_ms: i64,
    /// The invocation's ingest time.
    pub ingest_time: IsoMillis,
}

/// How one event turned into rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Rows written: 1, or the number of parts of a split event.
    pub rows: u32,
    /// Whether the event was split into parts.
    pub split: bool,
    /// Whether a parser recognised the message.
    pub parsed: bool,
}

/// NDJSON rows in one buffer, with the end offset of each row.
#[derive(Debug, Default, Clone)]
pub struct RowBuffer {
    /// The rows, each ending in `\n`.
    pub data: Vec<u8>,
    /// The end offset in `data` of each row.
    pub ends: Vec<usize>,
}

impl RowBuffer {
    /// Empties the buffer, keeping its allocation.
    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Iterates over the rows, each without its trailing newline.
    pub fn rows(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(start, end)| &self.data[start..end - 1])
    }
}

/// What every row of one payload starts with, written once per payload: the identity columns
/// up to the event id, and the ingest time.
#[derive(Debug, Clone)]
pub struct RowHead {
    /// `{"account_id":…,"log_group":…,"log_stream":…,"instance_id":…,"source":…,"event_id":`
    identity: Vec<u8>,
    /// `,"ingest_time":"…"`
    ingest: Vec<u8>,
    /// The last event time written, by whole second, and its text: events of one payload
    /// mostly share their second, so only the milliseconds change.
    last_time: Cell<(i64, [u8; 24])>,
}

impl RowHead {
    /// The head of every row of `meta`'s payload (its event id and time are not used).
    pub fn new(meta: &EventMeta<'_>) -> Self {
        let mut identity = Vec::with_capacity(256);
        identity.extend_from_slice(b"{\"account_id\":");
        json_out::string(&mut identity, meta.account_id);
        identity.extend_from_slice(b",\"log_group\":");
        json_out::string(&mut identity, meta.log_group);
        identity.extend_from_slice(b",\"log_stream\":");
        json_out::string(&mut identity, meta.log_stream);
        identity.extend_from_slice(b",\"instance_id\":");
        json_out::string_or_null(&mut identity, meta.origin.instance_id);
        identity.extend_from_slice(b",\"source\":");
        json_out::string_or_null(&mut identity, meta.origin.source);
        identity.extend_from_slice(b",\"event_id\":");
        let mut ingest = Vec::with_capacity(48);
        ingest.extend_from_slice(b",\"ingest_time\":\"");
        ingest.extend_from_slice(&meta.ingest_time.to_ascii());
        ingest.push(b'"');
        Self {
            identity,
            ingest,
            last_time: Cell::new((i64::MIN, [0; 24])),
        }
    }

    /// `time` as `YYYY-MM-DDTHH:MM:SS.mmmZ`, the date and time worked out once per second.
    fn time_text(&self, time: IsoMillis) -> [u8; 24] {
        let millis = time.epoch_millis();
        let second = millis.div_euclid(1_000);
        let (last_second, mut text) = self.last_time.get();
        if last_second != second {
            text = time.to_ascii();
            self.last_time.set((second, text));
            return text;
        }
        let milli = millis.rem_euclid(1_000);
        for (at, digit) in [(20, milli / 100), (21, milli / 10 % 10), (22, milli % 10)] {
            // A decimal digit: 0..=9.
            text[at] = b'0' + u8::try_from(digit).unwrap_or(0);
        }
        text
    }
}

/// Appends the row(s) for one event to `out`, none longer than `max_row_bytes` including
/// its newline. `head` is [`RowHead::new`] of the event's payload. Returns how the event was
/// written.
///
/// `message_is_clean` says the message is known to need no JSON escape (no `"`, `\` or
/// control character), so it is copied without a look at its bytes: a message the payload's
/// JSON carried without an escape sequence is (JSON allows none of those bytes raw).
///
/// `max_row_bytes` must leave room for the identity columns: [`MIN_MAX_ROW_BYTES`] is the
/// smallest accepted value, and identities longer than [`MAX_IDENTITY_BYTES`] are rejected
/// by the transform before this point.
pub fn write_event_rows(
    head: &RowHead,
    meta: &EventMeta<'_>,
    message: &str,
    message_json: Option<&str>,
    max_row_bytes: usize,
    out: &mut RowBuffer,
) -> Written {
    let start = out.data.len();
    let parsed = parse::parse_message(message);
    write_whole_row(head, meta, message, message_json, &parsed, &mut out.data);
    let recognised = parsed.format.is_some();
    if out.data.len() - start <= max_row_bytes {
        out.ends.push(out.data.len());
        return Written {
            rows: 1,
            split: false,
            parsed: recognised,
        };
    }
    out.data.truncate(start);
    let parts = split_message(meta, message, max_row_bytes);
    let count = u32::try_from(parts.len()).unwrap_or(u32::MAX);
    for (index, part) in parts.iter().enumerate() {
        let row = part_row(meta, part, u32::try_from(index).unwrap_or(u32::MAX), count);
        write_line(&row, &mut out.data);
        out.ends.push(out.data.len());
    }
    Written {
        rows: count,
        split: true,
        parsed: recognised,
    }
}

/// The row of a whole event, written directly: the same bytes as serializing its [`Row`]
/// (`whole_rows_are_the_bytes_serde_writes` checks it), with the payload's identity copied
/// from `head` instead of escaped again.
fn write_whole_row(
    head: &RowHead,
    meta: &EventMeta<'_>,
    message: &str,
    message_json: Option<&str>,
    parsed: &Parsed<'_>,
    out: &mut Vec<u8>,
) {
    out.reserve(head.identity.len() + message.len() + 512);
    out.extend_from_slice(&head.identity);
    if meta.event_id_is_clean {
        json_out::clean_string(out, meta.event_id);
    } else {
        json_out::string(out, meta.event_id);
    }
    out.extend_from_slice(b",\"event_timestamp_ms\":");
    json_out::integer(out, meta.timestamp_ms);
    out.extend_from_slice(b",\"event_time\":");
    match IsoMillis::new(meta.timestamp_ms) {
        Some(time) => {
            out.push(b'"');
            out.extend_from_slice(&head.time_text(time));
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(&head.ingest);
    out.extend_from_slice(b",\"part_index\":0,\"part_count\":1,\"message\":");
    // Without an escape, the JSON is the message in quotes: the message is clean.
    let clean = match message_json {
        Some(json) => {
            out.extend_from_slice(json.as_bytes());
            json.len() == message.len() + 2
        }
        None => json_out::string(out, message),
    };
    parsed.write_json_members(out, clean.then_some(message));
    out.extend_from_slice(b"}\n");
}

/// Every row's columns, in the order they are written, with their Hive (Athena/Glue) types.
/// docs/rows.md says what each one means; the catalog and the CloudFormation table use this.
pub const ROW_COLUMNS: [(&str, &str); 32] = [
    ("account_id", "string"),
    ("log_group", "string"),
    ("log_stream", "string"),
    ("instance_id", "string"),
    ("source", "string"),
    ("event_id", "string"),
    ("event_timestamp_ms", "bigint"),
    ("event_time", "string"),
    ("ingest_time", "string"),
    ("part_index", "int"),
    ("part_count", "int"),
    ("message", "string"),
    ("format", "string"),
    ("host", "string"),
    ("program", "string"),
    ("pid", "int"),
    ("facility", "int"),
    ("severity", "int"),
    ("syslog_time", "string"),
    ("msgid", "string"),
    ("structured_data", "string"),
    ("body", "string"),
    ("win_event_id", "int"),
    ("win_provider", "string"),
    ("win_level", "int"),
    ("win_level_name", "string"),
    ("win_channel", "string"),
    ("win_computer", "string"),
    ("win_record_id", "bigint"),
    ("win_time_created", "string"),
    ("win_message", "string"),
    ("win_event_data", "string"),
];

/// The smallest row budget [`write_event_rows`] works with.
pub const MIN_MAX_ROW_BYTES: usize = 4 * 1024;
/// Identity columns (account, group, stream, event id) longer than this in total are
/// rejected: CloudWatch Logs caps group names at 512 and stream names at 512 bytes.
pub const MAX_IDENTITY_BYTES: usize = 2 * 1024;

fn part_row<'a>(meta: &EventMeta<'a>, message: &'a str, index: u32, count: u32) -> Row<'a> {
    Row {
        account_id: meta.account_id,
        log_group: meta.log_group,
        log_stream: meta.log_stream,
        instance_id: meta.origin.instance_id,
        source: meta.origin.source,
        event_id: meta.event_id,
        event_timestamp_ms: meta.timestamp_ms,
        event_time: IsoMillis::new(meta.timestamp_ms),
        ingest_time: meta.ingest_time,
        part_index: index,
        part_count: count,
        message,
        parsed: Parsed::default(),
    }
}

fn write_line(row: &Row<'_>, out: &mut Vec<u8>) {
    // Serializing plain strings, integers and options into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, row);
    out.push(b'\n');
}

/// Cuts `message` into slices whose part rows each fit in `max_row_bytes`.
fn split_message<'m>(meta: &EventMeta<'_>, message: &'m str, max_row_bytes: usize) -> Vec<&'m str> {
    // The size of a part row with an empty message and the widest part numbers.
    let mut probe = Vec::new();
    write_line(&part_row(meta, "", u32::MAX, u32::MAX), &mut probe);
    let budget = max_row_bytes.saturating_sub(probe.len()).max(8);
    let mut parts = Vec::new();
    let (mut part_start, mut escaped_len) = (0, 0);
    for (i, c) in message.char_indices() {
        let width = escaped_width(c);
        if escaped_len + width > budget && i > part_start {
            parts.push(&message[part_start..i]);
            part_start = i;
            escaped_len = 0;
        }
        escaped_len += width;
    }
    parts.push(&message[part_start..]);
    parts
}

/// How many bytes serde_json writes for `c` inside a JSON string.
pub fn escaped_width(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        '\0'..='\u{1f}' => 6,
        _ => c.len_utf8(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The row serde writes for a whole event: the reference for the direct writer.
    fn serde_row(meta: &EventMeta<'_>, message: &str) -> Vec<u8> {
        let row = Row {
            parsed: parse::parse_message(message),
            ..part_row(meta, message, 0, 1)
        };
        let mut out = Vec::new();
        write_line(&row, &mut out);
        out
    }

    /// Lines of every format the parsers know, with the bytes JSON escapes mixed in.
    fn message() -> impl Strategy<Value = String> {
        prop_oneof![
            "(?s).{0,120}",
            "<1[0-9]>1 2024-01-0[1-9]T10:00:00Z host app 12 ID1 \\[a b=\"c\\\\\"\\] m\t\"x\"",
            "[A-Z][a-z]{2} [ 1-9][0-9] 1[0-9]:00:00 ip-10-0-0-1 sshd\\[[0-9]{1,5}\\]: Failed \u{1}",
            "\\[System\\] \\[Information\\] \\[7036\\] \\[Service Control Manager\\] \\[EC2AMAZ\\] \\[m\\\\\\]",
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='x'/><EventID>4625</EventID><Level>2</Level><Channel>Security</Channel><Computer>c\"</Computer></System></Event>",
        ]
    }

    proptest! {
        /// Whatever the event, the row written directly is the row serde writes, byte for
        /// byte (docs/rows.md's format, the snapshot tests' bytes).
        #[test]
        fn whole_rows_are_the_bytes_serde_writes(
            message in message(),
            group in "[A-Za-z0-9_/.\"\\\\-]{1,40}",
            stream in prop_oneof!["/var/log/messages/i-0123456789abcdef0", "(?s).{0,30}"],
            event_id in "[0-9]{56}",
            timestamp_ms in prop_oneof![Just(i64::MIN), Just(i64::MAX), -62_167_219_200_001_i64..=253_402_300_800_000],
            ingest_ms in 0_i64..=253_402_300_799_999,
        ) {
            let meta = EventMeta {
                account_id: "123456789012",
                log_group: &group,
                log_stream: &stream,
                origin: crate::etl::stream_name::parse_stream_name(&stream),
                event_id: &event_id,
                event_id_is_clean: false,
                timestamp_ms,
                ingest_time: IsoMillis::new(ingest_ms).unwrap_or_else(IsoMillis::now),
            };
            let head = RowHead::new(&meta);
            // Events of one payload through one head: the same second, the next, a jump back.
            for step in [0, 1, 999, 1_000, -5_000, 7] {
                // Digits need no escape: known clean or not, the same row.
                let meta = EventMeta { timestamp_ms: timestamp_ms.saturating_add(step), event_id_is_clean: step % 2 == 0, ..meta };
                let mut direct = Vec::new();
                let parsed = parse::parse_message(&message);
                write_whole_row(&head, &meta, &message, None, &parsed, &mut direct);
                let reference = serde_row(&meta, &message);
                prop_assert_eq!(String::from_utf8_lossy(&direct), String::from_utf8_lossy(&reference));
                let json = serde_json::to_string(&message).unwrap();
                let mut copied = Vec::new();
                write_whole_row(&head, &meta, &message, Some(&json), &parsed, &mut copied);
                prop_assert_eq!(&copied, &direct, "the message's JSON copied gives the same row");
            }
        }
    }
}
