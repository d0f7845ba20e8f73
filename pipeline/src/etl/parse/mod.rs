//! Parsers that lift fields out of a log line: syslog (RFC 3164 and RFC 5424) and Windows
//! Event Log records as the CloudWatch agent ships them (XML and the agent's text format).
//!
//! Parsing never fails a row: a line no parser recognises keeps its raw message and gets
//! [`Parsed::default()`], all fields null.

use std::borrow::Cow;

use serde::Serialize;

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
}

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
