//! Parsers that lift fields out of a log line: syslog (RFC 3164 and RFC 5424) and Windows
//! Event Log records as the CloudWatch agent ships them (XML and the agent's text format).
//!
//! Parsing never fails a row: a line no parser recognises keeps its raw message and gets
//! [`Parsed::default()`], all fields null.

use std::borrow::Cow;

use serde::Serialize;

mod event_xml;
pub mod syslog;
pub mod windows;

/// Which parser recognised a line (the `format` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// BSD syslog, as written to `/var/log/messages` and `/var/log/secure`.
    Rfc3164,
    /// IETF syslog with version, structured data and message id.
    Rfc5424,
    /// A Windows Event Log record rendered as Event XML (`event_format: xml`).
    WindowsXml,
    /// The CloudWatch agent's text rendering of a Windows event (`event_format: text`).
    WindowsText,
}

/// The parsed columns of a row. Serialized flattened into the row, in this order; every
/// field is always present (null when absent) so that the JSON schema is stable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Parsed<'a> {
    /// Which parser recognised the line; null when none did.
    pub format: Option<Format>,
    /// Syslog: the host name field.
    pub host: Option<Cow<'a, str>>,
    /// Syslog: the program (TAG or APP-NAME).
    pub program: Option<Cow<'a, str>>,
    /// Syslog: the process id, when numeric.
    pub pid: Option<u32>,
    /// Syslog: facility from the PRI part, when present.
    pub facility: Option<u8>,
    /// Syslog: severity from the PRI part, when present.
    pub severity: Option<u8>,
    /// Syslog: the timestamp as written in the line (RFC 3164 has no year).
    pub syslog_time: Option<Cow<'a, str>>,
    /// RFC 5424: MSGID.
    pub msgid: Option<Cow<'a, str>>,
    /// RFC 5424: the STRUCTURED-DATA part, verbatim.
    pub structured_data: Option<Cow<'a, str>>,
    /// Syslog: the message after the header.
    pub body: Option<Cow<'a, str>>,
    /// Windows: EventID.
    pub win_event_id: Option<u32>,
    /// Windows: the provider (event source) name.
    pub win_provider: Option<Cow<'a, str>>,
    /// Windows: the level number (0 LogAlways … 5 Verbose).
    pub win_level: Option<u8>,
    /// Windows: the level name as the CloudWatch agent spells it (INFORMATION, ERROR, …).
    pub win_level_name: Option<Cow<'a, str>>,
    /// Windows: the channel (System, Application, Security, …).
    pub win_channel: Option<Cow<'a, str>>,
    /// Windows: the computer name.
    pub win_computer: Option<Cow<'a, str>>,
    /// Windows: EventRecordID.
    pub win_record_id: Option<u64>,
    /// Windows: TimeCreated/@SystemTime, verbatim.
    pub win_time_created: Option<Cow<'a, str>>,
    /// Windows: the rendered message text.
    pub win_message: Option<Cow<'a, str>>,
    /// Windows: the `EventData` items (`Data Name=…`) as a JSON object (docs/rows.md).
    pub win_event_data: Option<Cow<'a, str>>,
}

impl Format {
    /// The name written in the `format` column (serde's snake case of the variant).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rfc3164 => "rfc3164",
            Self::Rfc5424 => "rfc5424",
            Self::WindowsXml => "windows_xml",
            Self::WindowsText => "windows_text",
        }
    }
}

impl Parsed<'_> {
    /// Writes the parsed columns as members of the row's JSON object (each preceded by a
    /// comma), in the order and with the bytes serde writes them for the flattened struct.
    /// A row has either syslog or Windows columns: the other group, all null, is one constant.
    /// `clean` is the event's message when it needed no escape: parsed columns that are parts
    /// of it are then copied without a second look.
    pub fn write_json_members(&self, out: &mut Vec<u8>, clean: Option<&str>) {
        use crate::etl::json_out::string_or_null;
        out.extend_from_slice(b",\"format\":");
        string_or_null(out, self.format.map(Format::name));
        if self.has_syslog_columns() {
            self.write_syslog_members(out, clean);
        } else {
            out.extend_from_slice(NULL_SYSLOG_MEMBERS);
        }
        if self.has_windows_columns() {
            self.write_windows_members(out, clean);
        } else {
            out.extend_from_slice(NULL_WINDOWS_MEMBERS);
        }
    }

    fn has_syslog_columns(&self) -> bool {
        self.host.is_some()
            || self.program.is_some()
            || self.pid.is_some()
            || self.facility.is_some()
            || self.severity.is_some()
            || self.syslog_time.is_some()
            || self.msgid.is_some()
            || self.structured_data.is_some()
            || self.body.is_some()
    }

    fn has_windows_columns(&self) -> bool {
        self.win_event_id.is_some()
            || self.win_provider.is_some()
            || self.win_level.is_some()
            || self.win_level_name.is_some()
            || self.win_channel.is_some()
            || self.win_computer.is_some()
            || self.win_record_id.is_some()
            || self.win_time_created.is_some()
            || self.win_message.is_some()
            || self.win_event_data.is_some()
    }

    fn write_syslog_members(&self, out: &mut Vec<u8>, clean: Option<&str>) {
        use crate::etl::json_out::integer_or_null;
        let string_or_null = |out: &mut Vec<u8>, value| {
            crate::etl::json_out::string_or_null_within(out, value, clean)
        };
        out.extend_from_slice(b",\"host\":");
        string_or_null(out, self.host.as_deref());
        out.extend_from_slice(b",\"program\":");
        string_or_null(out, self.program.as_deref());
        out.extend_from_slice(b",\"pid\":");
        integer_or_null(out, self.pid);
        out.extend_from_slice(b",\"facility\":");
        integer_or_null(out, self.facility);
        out.extend_from_slice(b",\"severity\":");
        integer_or_null(out, self.severity);
        out.extend_from_slice(b",\"syslog_time\":");
        string_or_null(out, self.syslog_time.as_deref());
        out.extend_from_slice(b",\"msgid\":");
        string_or_null(out, self.msgid.as_deref());
        out.extend_from_slice(b",\"structured_data\":");
        string_or_null(out, self.structured_data.as_deref());
        out.extend_from_slice(b",\"body\":");
        string_or_null(out, self.body.as_deref());
    }

    fn write_windows_members(&self, out: &mut Vec<u8>, clean: Option<&str>) {
        use crate::etl::json_out::integer_or_null;
        let string_or_null = |out: &mut Vec<u8>, value| {
            crate::etl::json_out::string_or_null_within(out, value, clean)
        };
        out.extend_from_slice(b",\"win_event_id\":");
        integer_or_null(out, self.win_event_id);
        out.extend_from_slice(b",\"win_provider\":");
        string_or_null(out, self.win_provider.as_deref());
        out.extend_from_slice(b",\"win_level\":");
        integer_or_null(out, self.win_level);
        out.extend_from_slice(b",\"win_level_name\":");
        string_or_null(out, self.win_level_name.as_deref());
        out.extend_from_slice(b",\"win_channel\":");
        string_or_null(out, self.win_channel.as_deref());
        out.extend_from_slice(b",\"win_computer\":");
        string_or_null(out, self.win_computer.as_deref());
        out.extend_from_slice(b",\"win_record_id\":");
        integer_or_null(out, self.win_record_id);
        out.extend_from_slice(b",\"win_time_created\":");
        string_or_null(out, self.win_time_created.as_deref());
        out.extend_from_slice(b",\"win_message\":");
        string_or_null(out, self.win_message.as_deref());
        out.extend_from_slice(b",\"win_event_data\":");
        string_or_null(out, self.win_event_data.as_deref());
    }
}

/// The syslog columns of a row that has none.
const NULL_SYSLOG_MEMBERS: &[u8] = b",\"host\":null,\"program\":null,\"pid\":null,\"facility\":null,\"severity\":null,\"syslog_time\":null,\"msgid\":null,\"structured_data\":null,\"body\":null";

/// The Windows columns of a row that has none.
const NULL_WINDOWS_MEMBERS: &[u8] = b",\"win_event_id\":null,\"win_provider\":null,\"win_level\":null,\"win_level_name\":null,\"win_channel\":null,\"win_computer\":null,\"win_record_id\":null,\"win_time_created\":null,\"win_message\":null,\"win_event_data\":null";

/// Parses a log line with whichever parser recognises it.
pub fn parse_message(message: &str) -> Parsed<'_> {
    let parsed = match message.as_bytes().first() {
        Some(b'<') if message.starts_with("<Event") => windows::parse_xml(message),
        Some(b'[') => windows::parse_text(message),
        Some(_) => syslog::parse(message),
        None => None,
    };
    parsed.unwrap_or_default()
}
