//! The typed model of the agent's configuration: what the pipeline reads, nothing more.
//!
//! The agent's schema ([`super::schema`]) decides what is valid; this model never refuses a
//! document the schema accepts. It names the keys the pipeline or the simulated agent use
//! and keeps every other key in `other`, so a configuration round-trips unchanged (the
//! onboarding function stores what it read). `agent`, `metrics` and `traces` stay opaque JSON:
//! the schema validates them, the pipeline does not use them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The agent's whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentConfig {
    /// General agent settings (opaque to the pipeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Value>,
    /// Metrics collection (opaque to the pipeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Value>,
    /// What logs to ship. Optional in the schema; the pipeline's own rule requires it
    /// (without it nothing reaches the pipeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<LogsSection>,
    /// Traces collection (opaque to the pipeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traces: Option<Value>,
    /// Other top-level keys, which the agent's schema allows.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// The `logs` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogsSection {
    /// Log files and Windows event logs to collect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs_collected: Option<LogsCollected>,
    /// Embedded-metric-format collection (opaque to the pipeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_collected: Option<Value>,
    /// Default stream name for entries that do not name one (the agent's own default is
    /// `{instance_id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
    /// Seconds between flushes (1 to 172800; the agent's default is 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_flush_interval: Option<u32>,
    /// A role the agent assumes to ship logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Credentials>,
    /// Another CloudWatch Logs endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_override: Option<String>,
    /// Concurrent PutLogEvents workers (at least 1; the agent's default sends one batch per
    /// stream at a time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Keys the schema allows that the pipeline does not read, kept as written.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `logs.credentials`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The role's ARN (20 to 2048 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Keys the schema allows that the pipeline does not read, kept as written.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `logs.logs_collected`: at least one member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsCollected {
    /// Log files (Linux, and Windows text files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Files>,
    /// Windows event logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows_events: Option<WindowsEvents>,
    /// systemd journal entries (Linux). The simulated agent does not collect them; a run
    /// names them as not simulated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journald: Option<Value>,
    /// Keys the schema allows that the pipeline does not read, kept as written.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `logs.logs_collected.files`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Files {
    /// One entry per file or glob (1 to 16384 entries, no duplicates).
    pub collect_list: Vec<FileEntry>,
    /// Keys the schema allows that the pipeline does not read, kept as written.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One log file to collect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path or glob of the file (required, at most 4096 characters).
    pub file_path: String,
    /// Destination log group; placeholders allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Destination log stream; placeholders allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
    /// The class of a group the agent creates: any string for the schema; CloudWatch Logs
    /// takes `STANDARD` or `INFREQUENT_ACCESS` (see [`LOG_GROUP_CLASSES`]; the agent ignores any other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_class: Option<String>,
    /// A regular expression that starts a new event, or `{timestamp_format}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_line_start_pattern: Option<String>,
    /// strftime-style format of the timestamp at the start of each line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_format: Option<String>,
    /// How to read `timestamp_format`'s time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<Timezone>,
    /// The file's character encoding (`utf-8` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Delete a file once it has rotated and been read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_removal: Option<bool>,
    /// A regular expression of file names to skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blacklist: Option<String>,
    /// Ship every file matched by a glob to its own stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_multi_logs: Option<bool>,
    /// Retention the agent sets on the group it creates (-1: leave it unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<RetentionDays>,
    /// Include or exclude events by regular expression, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    /// Remove the parsed timestamp from the message the agent ships.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim_timestamp: Option<bool>,
    /// Keys the schema allows that the pipeline does not read, kept as written.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `logs.logs_collected.windows_events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowsEvents {
    /// One entry per event log (1 to 16384 entries, no duplicates).
    pub collect_list: Vec<WindowsEventEntry>,
    /// Keys the schema allows that the pipeline does not read, kept as written.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One Windows event log to collect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowsEventEntry {
    /// The event log's name: `System`, `Application`, `Security`, … (not `Forwarded Events`).
    pub event_name: String,
    /// Levels to collect. At least one of `event_levels`, `event_ids` and `filters` is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_levels: Option<Vec<EventLevel>>,
    /// Event IDs to collect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ids: Option<Vec<u32>>,
    /// Destination log group; placeholders allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Destination log stream; placeholders allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
    /// The class of a group the agent creates: any string for the schema; CloudWatch Logs
    /// takes `STANDARD` or `INFREQUENT_ACCESS` (see [`LOG_GROUP_CLASSES`]; the agent ignores any other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_class: Option<String>,
    /// Retention the agent sets on the group it creates (-1: leave it unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<RetentionDays>,
    /// `xml` (the event's XML) or `text` (the agent's one-line rendering); absent means XML,
    /// as the agent's translator defaults it (see [`WindowsEventEntry::format`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_format: Option<EventFormat>,
    /// Include or exclude events by regular expression, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    /// Keys the schema allows that the pipeline does not read, kept as written.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl WindowsEventEntry {
    /// How the agent renders this log's events: an absent `event_format` is XML, because the
    /// agent renders `FormatDefault` as it renders `FormatXml`
    /// (`plugins/inputs/windows_event_log/wineventlog/wineventlog.go`, `getRecord`).
    pub fn format(&self) -> EventFormat {
        self.event_format.unwrap_or(EventFormat::Xml)
    }
}

/// One include or exclude filter. The schema requires neither member; the agent refuses a
/// missing or unknown `type` and an expression that is not a regular expression when it
/// starts (`plugins/inputs/logfile/logfilter.go`, `wineventlog/eventfilter.go`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Include or exclude matching events.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FilterKind>,
    /// The regular expression; absent reads as empty, which matches every event (Go's
    /// `regexp.Compile("")`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

impl Filter {
    /// The expression as the agent compiles it.
    pub fn expression(&self) -> &str {
        self.expression.as_deref().unwrap_or_default()
    }
}

/// Whether a filter keeps or drops what it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilterKind {
    /// Keep only matching events.
    Include,
    /// Drop matching events.
    Exclude,
}

/// The time zone of parsed timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Timezone {
    /// The host's local time.
    Local,
    /// The host's local time (the schema's upper-case spelling).
    #[serde(rename = "LOCAL")]
    LocalUpper,
    /// UTC.
    #[serde(rename = "UTC")]
    Utc,
}

/// A Windows event level as the agent names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EventLevel {
    /// Level 1.
    Critical,
    /// Level 2.
    Error,
    /// Level 3.
    Warning,
    /// Level 4 (and 0, which Windows also renders as Information).
    Information,
    /// Level 5.
    Verbose,
}

impl EventLevel {
    /// The name the agent configuration uses (`CRITICAL`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Critical => "CRITICAL",
            Self::Error => "ERROR",
            Self::Warning => "WARNING",
            Self::Information => "INFORMATION",
            Self::Verbose => "VERBOSE",
        }
    }

    /// The level named by a Windows event's numeric `Level`.
    pub fn from_windows_level(level: u8) -> Option<Self> {
        match level {
            1 => Some(Self::Critical),
            2 => Some(Self::Error),
            3 => Some(Self::Warning),
            0 | 4 => Some(Self::Information),
            5 => Some(Self::Verbose),
            _ => None,
        }
    }
}

/// How Windows events are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventFormat {
    /// The agent's one-line text rendering.
    Text,
    /// The event's XML.
    Xml,
}

/// The log group classes the agent passes to CreateLogGroup (case-insensitively). Any other
/// value is accepted and ignored: the agent logs that it will not set the class
/// (`translator/util.go`, `DefaultLogGroupClassCase`).
pub const LOG_GROUP_CLASSES: [&str; 2] = ["STANDARD", "INFREQUENT_ACCESS"];

/// A retention the agent may set: -1 (leave unchanged) or one of
/// [`crate::cloudwatch_logs::VALID_RETENTION_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct RetentionDays(i32);

impl RetentionDays {
    /// Days, or -1 for "leave unchanged".
    pub fn days(self) -> i32 {
        self.0
    }
}

/// A `retention_in_days` CloudWatch Logs does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0} is not a valid retention_in_days; valid values are -1 (leave unchanged), {list}",
    list = crate::cloudwatch_logs::valid_retention_list()
)]
pub struct InvalidRetention(pub i64);

impl TryFrom<i64> for RetentionDays {
    type Error = InvalidRetention;

    fn try_from(days: i64) -> Result<Self, InvalidRetention> {
        match i32::try_from(days) {
            Ok(valid) if days == -1 || crate::cloudwatch_logs::is_valid_retention(days) => {
                Ok(Self(valid))
            }
            _ => Err(InvalidRetention(days)),
        }
    }
}

impl From<RetentionDays> for i64 {
    fn from(days: RetentionDays) -> Self {
        i64::from(days.0)
    }
}
