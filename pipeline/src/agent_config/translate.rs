//! What the agent's translator makes of a file entry's `timestamp_format` and
//! `multi_line_start_pattern`, in the agent's own steps, so that the simulated agent splits and
//! joins lines exactly as an instance does.
//!
//! Sources (aws/amazon-cloudwatch-agent, `ruleTimestampFormat.go` as of commit 5deb8c96):
//! - `translator/translate/logs/logs_collected/files/collect_list/ruleTimestampFormat.go`:
//!   the format's regex characters are escaped, each directive becomes its regex
//!   (`TimeFormatRexMap`), a leading `\s{0,1}` is trimmed and the whole is wrapped in `( )`;
//! - `.../ruleMultiLineStartPattern.go`: `{timestamp_format}` becomes `{timestamp_regex}`;
//! - `plugins/inputs/logfile/fileconfig.go`: no pattern means `^[\S]` (a line that does not
//!   begin with whitespace starts an event); `{timestamp_regex}` means the timestamp regex, and
//!   without a `timestamp_format` there is none, so no line starts an event. The pattern is
//!   matched anywhere in the line (Go's `MatchString`), not only at its start.

use super::FileEntry;
use super::validate::TIMESTAMP_FORMAT_PATTERN;

/// The agent's start pattern when an entry names none (`fileconfig.go`).
pub const DEFAULT_MULTI_LINE_START_PATTERN: &str = r"^[\S]";

/// Characters of a format that are special in a regex, escaped first (`TimeFormatRegexEscapeMap`).
const ESCAPED: &str = "^.*?|[](){}$";

/// Each directive and the regex the agent puts in its place (`TimeFormatRexMap`).
const DIRECTIVE_REGEXES: [(&str, &str); 21] = [
    ("%B", r"\w{7}"),
    ("%b", r"\w{3}"),
    ("%-m", r"\s{0,1}\d{1,2}"),
    ("%m", r"\s{0,1}\d{1,2}"),
    ("%A", r"\w{6,9}"),
    ("%a", r"\w{3}"),
    ("%-d", r"\s{0,1}\d{1,2}"),
    ("%d", r"\s{0,1}\d{1,2}"),
    ("%H", r"\d{2}"),
    ("%-I", r"\d{1,2}"),
    ("%I", r"\d{2}"),
    ("%-M", r"\d{1,2}"),
    ("%M", r"\d{2}"),
    ("%-S", r"\d{1,2}"),
    ("%S", r"\d{2}"),
    ("%Y", r"\d{4}"),
    ("%y", r"\d{2}"),
    ("%p", r"\w{2}"),
    ("%Z", r"\w{3}"),
    ("%z", r"[\+-]\d{4}"),
    ("%f", r"(\d{1,9})"),
];

/// The regex the agent derives from a `timestamp_format`.
pub fn timestamp_regex(format: &str) -> String {
    let mut escaped = String::with_capacity(format.len() * 2);
    for c in format.chars() {
        if ESCAPED.contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    // Directives are replaced in one left-to-right pass; no directive is a substring of
    // another's match, so this equals the agent's replace-each-key loop.
    let mut out = String::with_capacity(escaped.len() * 3);
    let mut rest = escaped.as_str();
    'scan: while !rest.is_empty() {
        for (directive, regex) in DIRECTIVE_REGEXES {
            if let Some(after) = rest.strip_prefix(directive) {
                out.push_str(regex);
                rest = after;
                continue 'scan;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    let trimmed = out.strip_prefix(r"\s{0,1}").unwrap_or(&out);
    format!("({trimmed})")
}

/// The regex that starts a new event for `entry`, or `None` when no line can start one
/// (`{timestamp_format}` without a `timestamp_format`).
pub fn multi_line_start_regex(entry: &FileEntry) -> Option<String> {
    match entry.multi_line_start_pattern.as_deref() {
        None | Some("") => Some(DEFAULT_MULTI_LINE_START_PATTERN.to_owned()),
        Some(TIMESTAMP_FORMAT_PATTERN) => entry.timestamp_format.as_deref().map(timestamp_regex),
        Some(pattern) => Some(pattern.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The agent's own expectations (`ruleTimestampFormat_test.go`): `foo` gives `(foo)`;
    /// `%-m %-d %H:%M:%S` gives the regex below, and `%m %d %H:%M:%S` the same one.
    #[test]
    fn formats_become_the_agents_regexes() {
        assert_eq!(timestamp_regex("foo"), "(foo)");
        let agent_expected = r"(\d{1,2} \s{0,1}\d{1,2} \d{2}:\d{2}:\d{2})";
        assert_eq!(timestamp_regex("%-m %-d %H:%M:%S"), agent_expected);
        assert_eq!(timestamp_regex("%m %d %H:%M:%S"), agent_expected);
        // Following the same map: the pipeline's syslog format, an ISO format, escaping.
        assert_eq!(
            timestamp_regex("%b %d %H:%M:%S"),
            r"(\w{3} \s{0,1}\d{1,2} \d{2}:\d{2}:\d{2})"
        );
        assert_eq!(
            timestamp_regex("%Y-%m-%dT%H:%M:%S.%f%z"),
            r"(\d{4}-\s{0,1}\d{1,2}-\s{0,1}\d{1,2}T\d{2}:\d{2}:\d{2}\.(\d{1,9})[\+-]\d{4})"
        );
        assert_eq!(timestamp_regex("[%H]"), r"(\[\d{2}\])");
    }

    #[test]
    fn start_patterns_default_and_follow_the_timestamp() {
        let mut entry = FileEntry::default();
        assert_eq!(multi_line_start_regex(&entry).as_deref(), Some(r"^[\S]"));
        entry.multi_line_start_pattern = Some("{timestamp_format}".to_owned());
        assert_eq!(multi_line_start_regex(&entry), None);
        entry.timestamp_format = Some("%H".to_owned());
        assert_eq!(multi_line_start_regex(&entry).as_deref(), Some(r"(\d{2})"));
        entry.multi_line_start_pattern = Some("^ERROR".to_owned());
        assert_eq!(multi_line_start_regex(&entry).as_deref(), Some("^ERROR"));
    }
}
