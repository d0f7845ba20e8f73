//! The CloudWatch agent's configuration, the JSON kept in Parameter Store and loaded by
//! `amazon-cloudwatch-agent-ctl -a fetch-config`, checked as the agent checks it.
//!
//! [`AgentConfig::parse`] validates in the agent's order and says whose rule each problem
//! breaks ([`Authority`]):
//! 1. the whole document against the agent's own JSON Schema ([`schema`]); every schema error,
//!    each with its JSON path. A document the schema refuses stops here, as the agent stops;
//! 2. the typed model ([`model`]), which reads what the pipeline needs and keeps every other
//!    key: it never refuses what the schema accepts;
//! 3. the rules the agent applies when it starts (regular expressions, filter types), the
//!    names CloudWatch Logs accepts, and the pipeline's own rules, each labelled as such.
//!
//! - [`placeholders`]: `{instance_id}`, `{hostname}`, … resolved by one function.
//! - [`defaults`]: the default Linux and Windows configurations of the pipeline.

use std::fmt;

use serde_json::Value;

pub mod defaults;
mod model;
pub mod placeholders;
pub mod schema;
pub mod translate;
mod validate;

#[cfg(test)]
mod tests;

pub use model::*;
pub use placeholders::{HostFacts, PlaceholderError, resolve_placeholders};
pub use validate::AGENT_FILTER_TYPE_ERROR;

/// Whose rule a configuration breaks, so that "AWS refuses this" reads differently from
/// "this pipeline needs this".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Authority {
    /// The agent's JSON Schema: the agent refuses the file before anything else.
    AgentSchema,
    /// The agent itself, when it translates or starts (its source file is named in the
    /// message).
    Agent,
    /// CloudWatch Logs: the name is refused when the agent creates the group or stream.
    CloudWatchLogs,
    /// This pipeline: AWS would accept it, but the pipeline would not receive or recognise
    /// the logs.
    Pipeline,
}

impl Authority {
    /// The label printed before each message.
    pub fn label(self) -> &'static str {
        match self {
            Self::AgentSchema => "agent schema",
            Self::Agent => "agent",
            Self::CloudWatchLogs => "CloudWatch Logs",
            Self::Pipeline => "pipeline rule, not AWS's",
        }
    }
}

/// One problem in a configuration, at a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Where: `$.logs.logs_collected.files.collect_list[0].file_path`.
    pub path: String,
    /// What is wrong and what would be valid.
    pub message: String,
    /// Whose rule it breaks.
    pub authority: Authority,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: [{}] {}",
            self.path,
            self.authority.label(),
            self.message
        )
    }
}

/// Why a configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentConfigError {
    /// Not JSON, so neither the agent nor the pipeline can read it.
    #[error("agent configuration is malformed at {}", .0)]
    Malformed(Issue),
    /// Well-formed, but breaks the agent's schema, the agent's own checks or the pipeline's
    /// rules (every problem found).
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
    /// Parses and validates a configuration: the agent's schema first, then the typed model,
    /// then the agent's, CloudWatch Logs' and the pipeline's rules.
    pub fn parse(json: &str) -> Result<Self, AgentConfigError> {
        let document: Value = serde_json::from_str(json).map_err(|error| {
            AgentConfigError::Malformed(Issue {
                path: "$".to_owned(),
                message: error.to_string(),
                authority: Authority::Agent,
            })
        })?;
        let schema_issues = schema::schema_issues(&document);
        if !schema_issues.is_empty() {
            return Err(AgentConfigError::Invalid(schema_issues));
        }
        let config: Self = serde_path_to_error::deserialize(&document).map_err(|error| {
            AgentConfigError::Malformed(Issue {
                path: json_path(&error.path().to_string()),
                message: format!(
                    "the agent's schema accepts this but the pipeline's model cannot read it \
                     (a defect of the pipeline): {}",
                    error.inner()
                ),
                authority: Authority::Pipeline,
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

    /// The logs collected (none when the `logs` section or `logs_collected` is absent).
    pub fn logs_collected(&self) -> Option<&LogsCollected> {
        self.logs.as_ref().and_then(|l| l.logs_collected.as_ref())
    }

    /// The file entries (empty when there are none).
    pub fn files(&self) -> &[FileEntry] {
        self.logs_collected()
            .and_then(|c| c.files.as_ref())
            .map_or(&[], |f| f.collect_list.as_slice())
    }

    /// The Windows event entries (empty when there are none).
    pub fn windows_events(&self) -> &[WindowsEventEntry] {
        self.logs_collected()
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
            .as_ref()
            .and_then(|l| l.log_stream_name.as_deref())
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
