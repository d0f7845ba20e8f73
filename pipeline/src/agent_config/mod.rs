//! A typed model of the CloudWatch agent's configuration, the JSON kept in Parameter Store
//! and loaded by `amazon-cloudwatch-agent-ctl -a fetch-config`.
//!
//! The `logs` section is modelled field by field with the agent schema's rules (required
//! fields, enums, retention values, lengths, unknown keys rejected); `agent`, `metrics` and
//! `traces` are kept as opaque JSON because the pipeline does not use them, and the schema
//! allows extra top-level keys, so those are kept too. Parsing reports the JSON path of the
//! bad value (`$.logs.logs_collected.files.collect_list[0].timezone`).
//!
//! Where this model is stricter than the agent's schema it says so on the field; every such
//! rule rejects something the agent would accept but that fails later (an unknown placeholder
//! ends up in a log group name, which CloudWatch Logs rejects; a filter that is not a regular
//! expression stops the agent).
//!
//! - [`placeholders`]: `{instance_id}`, `{hostname}`, … resolved by one function.
//! - [`defaults`]: the default Linux and Windows configurations of the pipeline.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod defaults;
pub mod placeholders;
mod validate;

#[cfg(test)]
mod tests;

pub use placeholders::{HostFacts, PlaceholderError, resolve_placeholders};

/// The agent's whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentConfig {
    /// General agent settings (opaque to the pipeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Value>,
    /// Metrics collection (opaque to the pipeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Value>,
    /// What logs to ship. Stricter than the schema: required, because a configuration
    /// without it ships nothing to the pipeline.
    pub logs: LogsSection,
    /// Traces collection (opaque to the pipeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traces: Option<Value>,
    /// Other top-level keys, which the agent's schema allows.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// The `logs` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
}

/// `logs.credentials`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// The role's ARN (20 to 2048 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// `logs.logs_collected`: at least one of its two members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsCollected {
    /// Log files (Linux, and Windows text files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Files>,
    /// Windows event logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows_events: Option<WindowsEvents>,
}

/// `logs.logs_collected.files`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Files {
    /// One entry per file or glob (1 to 16384 entries, no duplicates).
    pub collect_list: Vec<FileEntry>,
}

/// One log file to collect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Path or glob of the file (required, at most 4096 characters).
    pub file_path: String,
    /// Destination log group; placeholders allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Destination log stream; placeholders allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
    /// `STANDARD` or `INFREQUENT_ACCESS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_class: Option<LogGroupClass>,
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
}

/// `logs.logs_collected.windows_events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowsEvents {
    /// One entry per event log (1 to 16384 entries, no duplicates).
    pub collect_list: Vec<WindowsEventEntry>,
}

/// One Windows event log to collect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// `STANDARD` or `INFREQUENT_ACCESS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_class: Option<LogGroupClass>,
    /// Retention the agent sets on the group it creates (-1: leave it unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<RetentionDays>,
    /// `xml` (the event's XML) or `text` (the agent's one-line rendering).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_format: Option<EventFormat>,
    /// Include or exclude events by regular expression, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
}

/// One include or exclude filter. Stricter than the schema: both members are required,
/// and the expression must be a valid regular expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Include or exclude matching events.
    #[serde(rename = "type")]
    pub kind: FilterKind,
    /// The regular expression.
    pub expression: String,
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

/// A log group class. Stricter than the schema (any string): these are the classes
/// CloudWatch Logs offers for agent-created groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LogGroupClass {
    /// The default class.
    Standard,
    /// Cheaper ingestion with fewer features.
    InfrequentAccess,
}

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

/// One problem in a configuration, at a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Where: `$.logs.logs_collected.files.collect_list[0].file_path`.
    pub path: String,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why a configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentConfigError {
    /// Not JSON, or a value of the wrong type or shape (the first such problem).
    #[error("agent configuration is malformed at {}", .0)]
    Malformed(Issue),
    /// Well-formed, but breaks the agent's rules (every problem found).
    #[error("agent configuration is invalid: {}", join_issues(.0))]
    Invalid(Vec<Issue>),
}

impl AgentConfigError {
    /// Every problem found.
    pub fn issues(&self) -> Vec<&Issue> {
        match self {
            Self::Malformed(issue) => vec![issue],
            Self::Invalid(issues) => issues.iter().collect(),
        }
    }
}

fn join_issues(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(Issue::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl AgentConfig {
    /// Parses and validates a configuration.
    pub fn parse(json: &str) -> Result<Self, AgentConfigError> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let config: Self =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
                AgentConfigError::Malformed(Issue {
                    path: json_path(&error.path().to_string()),
                    message: error.inner().to_string(),
                })
            })?;
        deserializer.end().map_err(|error| {
            AgentConfigError::Malformed(Issue {
                path: "$".to_owned(),
                message: error.to_string(),
            })
        })?;
        let issues = validate::validate(&config);
        if issues.is_empty() {
            Ok(config)
        } else {
            Err(AgentConfigError::Invalid(issues))
        }
    }

    /// The configuration as the pretty-printed JSON kept in Parameter Store.
    pub fn to_json_pretty(&self) -> String {
        let mut out = serde_json::to_string_pretty(self).unwrap_or_default();
        out.push('\n');
        out
    }

    /// The file entries (empty when there are none).
    pub fn files(&self) -> &[FileEntry] {
        self.logs
            .logs_collected
            .as_ref()
            .and_then(|c| c.files.as_ref())
            .map_or(&[], |f| f.collect_list.as_slice())
    }

    /// The Windows event entries (empty when there are none).
    pub fn windows_events(&self) -> &[WindowsEventEntry] {
        self.logs
            .logs_collected
            .as_ref()
            .and_then(|c| c.windows_events.as_ref())
            .map_or(&[], |w| w.collect_list.as_slice())
    }

    /// Where each entry ships, with placeholders resolved for one host: the stream name
    /// falls back to `logs.log_stream_name` and then to `{instance_id}`, as the agent does.
    /// An entry without a log group is an error here: the pipeline only receives what is
    /// sent to its own group.
    pub fn destinations(&self, facts: &HostFacts) -> Result<Vec<Destination>, PlaceholderError> {
        let default_stream = self
            .logs
            .log_stream_name
            .as_deref()
            .unwrap_or(placeholders::DEFAULT_STREAM_NAME);
        let files = self.files().iter().map(|entry| {
            (
                Source::File(entry.file_path.clone()),
                entry.log_group_name.as_deref(),
                entry.log_stream_name.as_deref(),
            )
        });
        let events = self.windows_events().iter().map(|entry| {
            (
                Source::WindowsEvents(entry.event_name.clone()),
                entry.log_group_name.as_deref(),
                entry.log_stream_name.as_deref(),
            )
        });
        files
            .chain(events)
            .map(|(source, group, stream)| {
                let group = group.ok_or_else(|| PlaceholderError::MissingGroup {
                    entry: source.to_string(),
                })?;
                Ok(Destination {
                    log_group: resolve_placeholders(group, facts)?,
                    log_stream: resolve_placeholders(stream.unwrap_or(default_stream), facts)?,
                    source,
                })
            })
            .collect()
    }
}

/// What an entry collects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// A file path or glob.
    File(String),
    /// A Windows event log.
    WindowsEvents(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "file {path}"),
            Self::WindowsEvents(name) => write!(f, "Windows event log {name}"),
        }
    }
}

/// Where one entry's events go on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// What is collected.
    pub source: Source,
    /// The resolved log group name.
    pub log_group: String,
    /// The resolved log stream name.
    pub log_stream: String,
}

/// `serde_path_to_error`'s path (`logs.files[0]`, `.` for the root) as a JSON path.
fn json_path(path: &str) -> String {
    match path {
        "" | "." | "?" => "$".to_owned(),
        p if p.starts_with('[') => format!("${p}"),
        p => format!("$.{p}"),
    }
}
