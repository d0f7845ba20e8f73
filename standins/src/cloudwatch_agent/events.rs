//! How the agent turns a file's lines into log events, and what it does with an event that is
//! too large. Each rule follows the agent's source (aws/amazon-cloudwatch-agent):
//!
//! - `plugins/inputs/logfile/fileconfig.go` (`init`, `isMultilineStart`) and
//!   `pipeline::agent_config::translate`: a line starts a new event when the start pattern
//!   matches anywhere in it (Go's `MatchString`); the default pattern `^[\S]` makes every line
//!   that does not begin with whitespace an event of its own and joins the rest to it;
//!   `{timestamp_format}` without a `timestamp_format` starts no event at all. Go's regexes are
//!   byte-oriented with ASCII `\w`, `\d`, `\s`; so are these (`regex::bytes`, Unicode off).
//! - `plugins/outputs/cloudwatchlogs/internal/pusher/truncation_fix_test.go` with
//!   `fileconfig.go`'s `defaultTruncateSuffix`: a message longer than 256 KiB minus the
//!   26-byte event overhead (262,118 bytes) is cut to exactly that size, ending in
//!   `[Truncated...]`.
//!
//! Where the harness differs: a record's first line always begins an event here, since
//! records are the unit the ledger accounts for; on an instance a first line the pattern does
//! not match would join the previous record's event. Such records are counted
//! ([`EventSplitter::events`] says so) and the run reports them by name.

use regex::bytes::{Regex, RegexBuilder};

/// Bytes of one event the agent sends at most: 256 KiB less PutLogEvents' 26-byte overhead.
pub const MAX_EVENT_MESSAGE_BYTES: usize = 256 * 1024 - 26;
/// What the agent appends to a cut message.
pub const TRUNCATED_SUFFIX: &str = "[Truncated...]";

/// Splits one file's lines into events.
#[derive(Debug)]
pub enum EventSplitter {
    /// A line matching the pattern starts an event.
    StartPattern(Regex),
    /// No line starts an event (`{timestamp_format}` without a format).
    NoStart,
}

/// A record's lines as events.
#[derive(Debug, PartialEq, Eq)]
pub struct SplitRecord {
    /// The messages, lines joined with `\n`.
    pub messages: Vec<String>,
    /// Whether the record's first line is one the agent would have joined to the event
    /// before it.
    pub first_line_continues: bool,
}

impl EventSplitter {
    /// The splitter for a start pattern (`None`: no line starts an event).
    pub fn new(pattern: Option<&str>) -> Result<Self, regex::Error> {
        match pattern {
            None => Ok(Self::NoStart),
            Some(pattern) => RegexBuilder::new(pattern)
                .unicode(false)
                .build()
                .map(Self::StartPattern),
        }
    }

    fn starts(&self, line: &str) -> bool {
        match self {
            Self::StartPattern(regex) => regex.is_match(line.as_bytes()),
            Self::NoStart => false,
        }
    }

    /// The events of one record's lines.
    pub fn events<'a>(&self, lines: impl IntoIterator<Item = &'a str>) -> SplitRecord {
        let mut messages: Vec<String> = Vec::new();
        let mut first_line_continues = false;
        for line in lines {
            match messages.last_mut() {
                Some(current) if !self.starts(line) => {
                    current.push('\n');
                    current.push_str(line);
                }
                last => {
                    first_line_continues = last.is_none() && !self.starts(line);
                    messages.push(line.to_owned());
                }
            }
        }
        SplitRecord {
            messages,
            first_line_continues,
        }
    }
}

/// `message` as the agent sends it, and whether it was cut.
pub fn truncate_like_agent(message: String) -> (String, bool) {
    if message.len() <= MAX_EVENT_MESSAGE_BYTES {
        return (message, false);
    }
    // Go cuts at a byte; a Rust string must end on a character boundary, so a multi-byte
    // character straddling the cut is dropped whole (the agent would send its first bytes,
    // which CloudWatch Logs replaces with U+FFFD).
    let mut keep = MAX_EVENT_MESSAGE_BYTES - TRUNCATED_SUFFIX.len();
    while !message.is_char_boundary(keep) {
        keep -= 1;
    }
    let mut cut = message;
    cut.truncate(keep);
    cut.push_str(TRUNCATED_SUFFIX);
    (cut, true)
}

/// Whether a message is one the agent cut.
pub fn was_truncated(message: &str) -> bool {
    message.len() > MAX_EVENT_MESSAGE_BYTES - 4 && message.ends_with(TRUNCATED_SUFFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pattern_joins_lines_that_begin_with_whitespace() {
        let split = EventSplitter::new(Some(r"^[\S]")).unwrap();
        let got = split.events([
            "java.lang.Error: boom",
            "\tat a.b(C.java:1)",
            "  at d.e(F.java:2)",
            "next event",
        ]);
        assert_eq!(
            got.messages,
            [
                "java.lang.Error: boom\n\tat a.b(C.java:1)\n  at d.e(F.java:2)",
                "next event"
            ]
        );
        assert!(!got.first_line_continues);
        assert!(split.events([" indented first"]).first_line_continues);
    }

    #[test]
    fn a_timestamp_pattern_matches_anywhere_in_the_line_as_go_does() {
        let regex = pipeline::agent_config::translate::timestamp_regex("%H:%M:%S");
        let split = EventSplitter::new(Some(&regex)).unwrap();
        let got = split.events([
            "12:00:01 start",
            "continued",
            "copied at 12:00:02 from elsewhere",
        ]);
        assert_eq!(
            got.messages,
            [
                "12:00:01 start\ncontinued",
                "copied at 12:00:02 from elsewhere"
            ]
        );
        let none = EventSplitter::new(None).unwrap();
        assert_eq!(none.events(["a", "b"]).messages, ["a\nb"]);
    }

    #[test]
    fn ascii_classes_as_in_go() {
        let split = EventSplitter::new(Some(r"^\w")).unwrap();
        let got = split.events(["start", "\u{e9}t\u{e9}"]);
        assert_eq!(got.messages, ["start\n\u{e9}t\u{e9}"]);
    }

    #[test]
    fn oversized_events_are_cut_to_the_agents_limit_with_its_suffix() {
        let (short, cut) = truncate_like_agent("x".repeat(MAX_EVENT_MESSAGE_BYTES));
        assert!(!cut);
        assert_eq!(short.len(), MAX_EVENT_MESSAGE_BYTES);
        let (long, cut) = truncate_like_agent("y".repeat(MAX_EVENT_MESSAGE_BYTES + 1));
        assert!(cut);
        assert_eq!(long.len(), 262_118);
        assert!(long.ends_with("[Truncated...]"));
        assert!(long.starts_with("yyy"));
        assert!(was_truncated(&long));
        assert!(!was_truncated(&short));
        let (multi, _) = truncate_like_agent("\u{e9}".repeat(MAX_EVENT_MESSAGE_BYTES));
        assert!(multi.len() <= MAX_EVENT_MESSAGE_BYTES);
        assert!(multi.ends_with(TRUNCATED_SUFFIX));
    }
}
