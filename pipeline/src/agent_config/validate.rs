//! The agent schema's rules that a typed parse cannot express: lengths, list sizes,
//! duplicates, "at least one of", regular expressions, timestamp formats and placeholders.
//! Every problem is reported with its JSON path; validation does not stop at the first.

use std::collections::HashSet;

use super::placeholders::{placeholders_in, with_sample_values};
use super::{AgentConfig, FileEntry, Filter, Issue, WindowsEventEntry};
use crate::cloudwatch_logs::{check_log_group_name, check_log_stream_name};

/// Most entries in one `collect_list`.
pub const MAX_COLLECT_LIST_ENTRIES: usize = 16_384;
/// Longest `file_path`, pattern or format.
pub const MAX_PATH_LEN: usize = 4096;
/// Longest Windows `event_name`.
pub const MAX_EVENT_NAME_LEN: usize = 255;
/// Longest interval in seconds (`force_flush_interval`).
pub const MAX_INTERVAL_SECONDS: u32 = 172_800;
/// The value of `multi_line_start_pattern` that means "a line starting with a timestamp".
pub const TIMESTAMP_FORMAT_PATTERN: &str = "{timestamp_format}";

/// strftime directives the agent understands in `timestamp_format` (each may take a `-`
/// flag, as in `%-d`, except `%%`-style literals, which the agent does not support).
const TIMESTAMP_DIRECTIVES: &str = "yYbBaAdmHIlpMSfZz";

pub(super) fn validate(config: &AgentConfig) -> Vec<Issue> {
    let mut issues = Issues::default();
    let logs = &config.logs;
    if logs.logs_collected.is_none() && logs.metrics_collected.is_none() {
        issues.push(
            "$.logs",
            "needs logs_collected (or metrics_collected); as it is, nothing is shipped",
        );
    }
    if let Some(stream) = &logs.log_stream_name {
        issues.stream_name("$.logs.log_stream_name", stream);
    }
    if let Some(interval) = logs.force_flush_interval
        && !(1..=MAX_INTERVAL_SECONDS).contains(&interval)
    {
        issues.push(
            "$.logs.force_flush_interval",
            format!("{interval} is out of range: seconds from 1 to {MAX_INTERVAL_SECONDS}"),
        );
    }
    if let Some(arn) = logs.credentials.as_ref().and_then(|c| c.role_arn.as_ref()) {
        issues.length("$.logs.credentials.role_arn", arn, 20, 2048);
    }
    if let Some(endpoint) = &logs.endpoint_override {
        issues.length("$.logs.endpoint_override", endpoint, 4, 2048);
    }
    if let Some(collected) = &logs.logs_collected {
        if collected.files.is_none() && collected.windows_events.is_none() {
            issues.push(
                "$.logs.logs_collected",
                "needs files or windows_events (or both)",
            );
        }
        if let Some(files) = &collected.files {
            let base = "$.logs.logs_collected.files.collect_list";
            issues.list_shape(base, &files.collect_list);
            for (index, entry) in files.collect_list.iter().enumerate() {
                file_entry(&mut issues, &format!("{base}[{index}]"), entry);
            }
        }
        if let Some(events) = &collected.windows_events {
            let base = "$.logs.logs_collected.windows_events.collect_list";
            issues.list_shape(base, &events.collect_list);
            for (index, entry) in events.collect_list.iter().enumerate() {
                windows_entry(&mut issues, &format!("{base}[{index}]"), entry);
            }
        }
    }
    issues.0
}

fn file_entry(issues: &mut Issues, path: &str, entry: &FileEntry) {
    issues.length(
        &format!("{path}.file_path"),
        &entry.file_path,
        1,
        MAX_PATH_LEN,
    );
    issues.destination(
        path,
        entry.log_group_name.as_deref(),
        entry.log_stream_name.as_deref(),
    );
    if let Some(format) = &entry.timestamp_format {
        let at = format!("{path}.timestamp_format");
        issues.length(&at, format, 1, MAX_PATH_LEN);
        if let Err(message) = check_timestamp_format(format) {
            issues.push(&at, message);
        }
    }
    if let Some(pattern) = &entry.multi_line_start_pattern {
        let at = format!("{path}.multi_line_start_pattern");
        issues.length(&at, pattern, 1, MAX_PATH_LEN);
        if pattern == TIMESTAMP_FORMAT_PATTERN {
            if entry.timestamp_format.is_none() {
                issues.push(
                    &at,
                    "{timestamp_format} needs timestamp_format to be set in the same entry",
                );
            }
        } else {
            issues.regex(&at, pattern);
        }
    }
    if let Some(encoding) = &entry.encoding {
        issues.length(&format!("{path}.encoding"), encoding, 1, MAX_PATH_LEN);
    }
    if let Some(blacklist) = &entry.blacklist {
        let at = format!("{path}.blacklist");
        issues.length(&at, blacklist, 1, MAX_PATH_LEN);
        issues.regex(&at, blacklist);
    }
    issues.filters(path, entry.filters.as_deref());
}

fn windows_entry(issues: &mut Issues, path: &str, entry: &WindowsEventEntry) {
    let at = format!("{path}.event_name");
    issues.length(&at, &entry.event_name, 1, MAX_EVENT_NAME_LEN);
    if entry.event_name == "Forwarded Events" {
        issues.push(&at, "the agent cannot collect \"Forwarded Events\"");
    }
    if entry.event_levels.is_none() && entry.event_ids.is_none() && entry.filters.is_none() {
        issues.push(
            path,
            "needs event_levels, event_ids or filters; without one the agent collects nothing",
        );
    }
    if let Some(levels) = &entry.event_levels {
        let at = format!("{path}.event_levels");
        if levels.is_empty() {
            issues.push(&at, "must list at least one level");
        }
        let mut seen = HashSet::new();
        for (index, level) in levels.iter().enumerate() {
            if !seen.insert(level) {
                issues.push(
                    &format!("{at}[{index}]"),
                    format!("{level:?} is listed twice"),
                );
            }
        }
    }
    if let Some(ids) = &entry.event_ids {
        let at = format!("{path}.event_ids");
        if ids.is_empty() {
            issues.push(&at, "must list at least one event id");
        }
        for (index, id) in ids.iter().enumerate() {
            if *id > u32::from(u16::MAX) {
                issues.push(
                    &format!("{at}[{index}]"),
                    format!("{id} is not a Windows event id (0 to 65535)"),
                );
            }
        }
    }
    issues.destination(
        path,
        entry.log_group_name.as_deref(),
        entry.log_stream_name.as_deref(),
    );
    issues.filters(path, entry.filters.as_deref());
}

/// Checks the directives of a strftime-style format against what the agent supports.
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
                    "%{d} is not a directive the agent supports (supported: {})",
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
    fn push(&mut self, path: &str, message: impl Into<String>) {
        self.0.push(Issue {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn length(&mut self, path: &str, value: &str, min: usize, max: usize) {
        let len = value.chars().count();
        if len < min || len > max {
            self.push(
                path,
                format!("has {len} characters; it must have from {min} to {max}"),
            );
        }
    }

    fn list_shape<T: PartialEq>(&mut self, path: &str, list: &[T]) {
        if list.is_empty() {
            self.push(path, "must have at least one entry");
        }
        if list.len() > MAX_COLLECT_LIST_ENTRIES {
            self.push(
                path,
                format!(
                    "has {} entries; at most {MAX_COLLECT_LIST_ENTRIES} are allowed",
                    list.len()
                ),
            );
        }
        for (index, item) in list.iter().enumerate() {
            if let Some(first) = list[..index].iter().position(|other| other == item) {
                self.push(
                    &format!("{path}[{index}]"),
                    format!("duplicates entry [{first}]; entries must be unique"),
                );
            }
        }
    }

    fn regex(&mut self, path: &str, pattern: &str) {
        if let Err(error) = regex::Regex::new(pattern) {
            let first_line = error.to_string();
            let detail = first_line.lines().last().unwrap_or_default().trim();
            self.push(
                path,
                format!("{pattern:?} is not a valid regular expression: {detail}"),
            );
        }
    }

    fn filters(&mut self, path: &str, filters: Option<&[Filter]>) {
        for (index, filter) in filters.unwrap_or_default().iter().enumerate() {
            self.regex(
                &format!("{path}.filters[{index}].expression"),
                &filter.expression,
            );
        }
    }

    fn destination(&mut self, path: &str, group: Option<&str>, stream: Option<&str>) {
        if let Some(group) = group {
            let at = format!("{path}.log_group_name");
            match with_sample_values(group) {
                Ok(sample) => {
                    if let Err(message) = check_log_group_name(&sample) {
                        self.push(&at, format!("{group:?}: {message}"));
                    }
                }
                Err(error) => self.push(&at, error.to_string()),
            }
        }
        if let Some(stream) = stream {
            self.stream_name(&format!("{path}.log_stream_name"), stream);
        }
    }

    fn stream_name(&mut self, path: &str, stream: &str) {
        if let Err(error) = placeholders_in(stream) {
            self.push(path, error.to_string());
            return;
        }
        if let Ok(sample) = with_sample_values(stream)
            && let Err(message) = check_log_stream_name(&sample)
        {
            self.push(path, format!("{stream:?}: {message}"));
        }
    }
}
