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

use serde::Serialize;

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

/// Appends the row(s) for one event to `out`, none longer than `max_row_bytes` including
/// its newline. Returns how the event was written.
///
/// `max_row_bytes` must leave room for the identity columns: [`MIN_MAX_ROW_BYTES`] is the
/// smallest accepted value, and identities longer than [`MAX_IDENTITY_BYTES`] are rejected
/// by the transform before this point.
pub fn write_event_rows(
    meta: &EventMeta<'_>,
    message: &str,
    max_row_bytes: usize,
    out: &mut RowBuffer,
) -> Written {
    let start = out.data.len();
    let row = Row {
        account_id: meta.account_id,
        log_group: meta.log_group,
        log_stream: meta.log_stream,
        instance_id: meta.origin.instance_id,
        source: meta.origin.source,
        event_id: meta.event_id,
        event_timestamp_ms: meta.timestamp_ms,
        event_time: IsoMillis::new(meta.timestamp_ms),
        ingest_time: meta.ingest_time,
        part_index: 0,
        part_count: 1,
        message,
        parsed: parse::parse_message(message),
    };
    let parsed = row.parsed.format.is_some();
    write_line(&row, &mut out.data);
    if out.data.len() - start <= max_row_bytes {
        out.ends.push(out.data.len());
        return Written {
            rows: 1,
            split: false,
            parsed,
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
        parsed,
    }
}

/// Every row's columns, in the order they are written, with their Hive (Athena/Glue) types.
/// docs/rows.md says what each one means; the catalog and the CloudFormation table use this.
pub const ROW_COLUMNS: [(&str, &str); 31] = [
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
