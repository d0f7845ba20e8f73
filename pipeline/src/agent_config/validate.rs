//! The rules beyond the agent's schema, each labelled with whose rule it is ([`Authority`]):
//! what the agent refuses when it starts (regular expressions, filter types), the names
//! CloudWatch Logs refuses when the agent creates a group or stream, and the pipeline's own
//! rules. Every problem is reported with its JSON path; validation does not stop at the first.
//! The schema has already passed, so lengths, enums and list shapes are not checked again.

use super::placeholders::{placeholders_in, with_sample_values};
use super::{AgentConfig, Authority, FileEntry, Filter, Issue, WindowsEventEntry};
use crate::cloudwatch_logs::{check_log_group_name, check_log_stream_name};

/// The value of `multi_line_start_pattern` that means "a line starting with a timestamp".
pub const TIMESTAMP_FORMAT_PATTERN: &str = "{timestamp_format}";

/// strftime directives the agent translates in `timestamp_format` (each may take a `-` flag,
/// as in `%-d`): the keys of `TimeFormatMap` in the agent's
/// `translator/translate/logs/logs_collected/files/collect_list/ruleTimestampFormat.go`.
pub const TIMESTAMP_DIRECTIVES: &str = "BbmAadHIMSYypZzf";

/// What the agent says of a filter without `include` or `exclude` as its type (its
/// `filter.init()` with an empty type, `logfilter.go` and `eventfilter.go`).
pub const AGENT_FILTER_TYPE_ERROR: &str =
    "filter type  is incorrect, valid types are: [include exclude]";

/// Where the agent compiles and applies file entries.
const AGENT_FILE_SOURCE: &str = "plugins/inputs/logfile/fileconfig.go";
/// Where the agent checks filters.
const AGENT_FILTER_SOURCE: &str = "plugins/inputs/logfile/logfilter.go, plugins/inputs/windows_event_log/wineventlog/eventfilter.go";

pub(super) fn validate(config: &AgentConfig) -> Vec<Issue> {
    let mut issues = Issues::default();
    let Some(logs) = &config.logs else {
        issues.pipeline(
            "$",
            "needs a logs section: without one nothing reaches the pipeline",
        );
        return issues.0;
    };
    if let Some(stream) = &logs.log_stream_name {
        issues.stream_name("$.logs.log_stream_name", stream);
    }
    let Some(collected) = &logs.logs_collected else {
        issues.pipeline(
            "$.logs",
            "needs logs_collected: with metrics_collected alone nothing reaches the pipeline",
        );
        return issues.0;
    };
    if let Some(files) = &collected.files {
        for (index, entry) in files.collect_list.iter().enumerate() {
            let path = format!("$.logs.logs_collected.files.collect_list[{index}]");
            file_entry(&mut issues, &path, entry);
        }
    }
    if let Some(events) = &collected.windows_events {
        for (index, entry) in events.collect_list.iter().enumerate() {
            let path = format!("$.logs.logs_collected.windows_events.collect_list[{index}]");
            windows_entry(&mut issues, &path, entry);
        }
    }
    issues.0
}

fn file_entry(issues: &mut Issues, path: &str, entry: &FileEntry) {
    if entry.file_path.is_empty() {
        issues.pipeline(
            &format!("{path}.file_path"),
            "is empty: the schema allows it, but it names no file, so nothing is collected",
        );
    }
    issues.destination(
        path,
        entry.log_group_name.as_deref(),
        entry.log_stream_name.as_deref(),
    );
    if let Some(format) = &entry.timestamp_format
        && let Err(message) = check_timestamp_format(format)
    {
        issues.pipeline(&format!("{path}.timestamp_format"), message);
    }
    if let Some(pattern) = &entry.multi_line_start_pattern {
        let at = format!("{path}.multi_line_start_pattern");
        if pattern == TIMESTAMP_FORMAT_PATTERN {
            if entry.timestamp_format.is_none() {
                issues.pipeline(
                    &at,
                    format!(
                        "{{timestamp_format}} without timestamp_format: the agent accepts it, but \
                         then no line starts an event ({AGENT_FILE_SOURCE}, isMultilineStart), \
                         so lines run together"
                    ),
                );
            }
        } else {
            issues.regex(&at, pattern, AGENT_FILE_SOURCE);
        }
    }
    if let Some(blacklist) = &entry.blacklist {
        issues.regex(&format!("{path}.blacklist"), blacklist, AGENT_FILE_SOURCE);
    }
    issues.filters(path, entry.filters.as_deref());
}

fn windows_entry(issues: &mut Issues, path: &str, entry: &WindowsEventEntry) {
    issues.destination(
        path,
        entry.log_group_name.as_deref(),
        entry.log_stream_name.as_deref(),
    );
    issues.filters(path, entry.filters.as_deref());
}

/// Checks the directives of a strftime-style format against those the agent translates. An
/// unknown directive is not refused by the agent: it stays in the timestamp regex literally,
/// so no line's timestamp is ever found. That makes this the pipeline's rule.
pub(crate) fn check_timestamp_format(format: &str) -> Result<(), String> {
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        let mut directive = chars.next();
        if directive == Some('-') {
            directive = chars.next();
        }
        match directive {
            Some(d) if TIMESTAMP_DIRECTIVES.contains(d) => {}
            Some(d) => {
                return Err(format!(
                    "%{d} is not a directive the agent translates (it knows {}); the agent would \
                     look for a literal %{d} and find no timestamp",
                    TIMESTAMP_DIRECTIVES
                        .chars()
                        .map(|d| format!("%{d}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
            None => return Err("ends with a lone '%'".to_owned()),
        }
    }
    Ok(())
}

#[derive(Default)]
struct Issues(Vec<Issue>);

impl Issues {
    fn push(&mut self, path: &str, authority: Authority, message: impl Into<String>) {
        self.0.push(Issue {
            path: path.to_owned(),
            message: message.into(),
            authority,
        });
    }

    fn pipeline(&mut self, path: &str, message: impl Into<String>) {
        self.push(path, Authority::Pipeline, message);
    }

    fn regex(&mut self, path: &str, pattern: &str, source: &str) {
        if let Err(error) = regex::Regex::new(pattern) {
            let text = error.to_string();
            let detail = text.lines().last().unwrap_or_default().trim();
            self.push(
                path,
                Authority::Agent,
                format!(
                    "{pattern:?} is not a valid regular expression, so the agent does not start \
                     ({source}): {detail}"
                ),
            );
        }
    }

    fn filters(&mut self, path: &str, filters: Option<&[Filter]>) {
        for (index, filter) in filters.unwrap_or_default().iter().enumerate() {
            let at = format!("{path}.filters[{index}]");
            if filter.kind.is_none() {
                self.push(
                    &format!("{at}.type"),
                    Authority::Agent,
                    format!("{AGENT_FILTER_TYPE_ERROR} (the agent's words; {AGENT_FILTER_SOURCE})"),
                );
            }
            self.regex(
                &format!("{at}.expression"),
                filter.expression(),
                AGENT_FILTER_SOURCE,
            );
        }
    }

    fn destination(&mut self, path: &str, group: Option<&str>, stream: Option<&str>) {
        if let Some(group) = group {
            let at = format!("{path}.log_group_name");
            match with_sample_values(group) {
                Ok(sample) => {
                    if let Err(message) = check_log_group_name(&sample) {
                        self.push(
                            &at,
                            Authority::CloudWatchLogs,
                            format!("{group:?}: {message}"),
                        );
                    }
                }
                Err(error) => self.push(
                    &at,
                    Authority::CloudWatchLogs,
                    format!(
                        "{error}; the agent leaves it as written, and '{{' is not allowed in a \
                         log group name"
                    ),
                ),
            }
        }
        if let Some(stream) = stream {
            self.stream_name(&format!("{path}.log_stream_name"), stream);
        }
    }

    fn stream_name(&mut self, path: &str, stream: &str) {
        if let Err(error) = placeholders_in(stream) {
            self.pipeline(
                path,
                format!(
                    "{error}; the agent leaves it as written, so the stream would be named with \
                     the braces and the ETL could not recover the instance"
                ),
            );
            return;
        }
        if let Ok(sample) = with_sample_values(stream)
            && let Err(message) = check_log_stream_name(&sample)
        {
            self.push(
                path,
                Authority::CloudWatchLogs,
                format!("{stream:?}: {message}"),
            );
        }
    }
}
