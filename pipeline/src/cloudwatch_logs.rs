//! CloudWatch Logs naming rules and limits shared by the agent-config model, the stack
//! definition and the harness: valid retention values, and what log group and stream names
//! may contain.

/// The only values `PutRetentionPolicy` (and the agent's `retention_in_days`) accept, in days.
/// Two days is not among them.
pub const VALID_RETENTION_DAYS: [u16; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Most events one `PutLogEvents` call carries.
pub const PUT_LOG_EVENTS_MAX_EVENTS: usize = 10_000;
/// Most bytes one `PutLogEvents` call carries: UTF-8 message bytes plus
/// [`PUT_LOG_EVENTS_EVENT_OVERHEAD`] per event.
pub const PUT_LOG_EVENTS_MAX_BYTES: usize = 1_048_576;
/// Bytes each event counts for on top of its message.
pub const PUT_LOG_EVENTS_EVENT_OVERHEAD: usize = 26;
/// Longest time span of one batch, milliseconds (24 hours).
pub const PUT_LOG_EVENTS_MAX_SPAN_MS: i64 = 24 * 60 * 60 * 1000;
/// Events more than this far in the future are rejected, milliseconds (2 hours).
pub const PUT_LOG_EVENTS_MAX_FUTURE_MS: i64 = 2 * 60 * 60 * 1000;
/// Events older than this are rejected, milliseconds (14 days).
pub const PUT_LOG_EVENTS_MAX_AGE_MS: i64 = 14 * 24 * 60 * 60 * 1000;

/// Longest log group name.
pub const MAX_LOG_GROUP_NAME_LEN: usize = 512;
/// Longest log stream name.
pub const MAX_LOG_STREAM_NAME_LEN: usize = 512;

/// The valid retention values as a readable list, for error messages.
pub fn valid_retention_list() -> String {
    VALID_RETENTION_DAYS
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `days` is a retention CloudWatch Logs accepts.
pub fn is_valid_retention(days: i64) -> bool {
    VALID_RETENTION_DAYS.iter().any(|&d| i64::from(d) == days)
}

/// What is wrong with a log group or log stream name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("a {kind} cannot be empty")]
    Empty {
        /// `log group name` or `log stream name`.
        kind: &'static str,
    },
    /// The name is too long.
    #[error("a {kind} has at most {max} characters, this one has {len}")]
    TooLong {
        /// `log group name` or `log stream name`.
        kind: &'static str,
        /// The limit.
        max: usize,
        /// The name's length.
        len: usize,
    },
    /// The name has a character CloudWatch Logs refuses.
    #[error("{bad:?} is not allowed in a {kind}{allowed}")]
    Character {
        /// `log group name` or `log stream name`.
        kind: &'static str,
        /// The character.
        bad: char,
        /// What is allowed, as ` (allowed: …)`, or empty.
        allowed: &'static str,
    },
}

/// Checks a concrete log group name: 1 to 512 of `a-z A-Z 0-9 _ - / . #`.
pub fn check_log_group_name(name: &str) -> Result<(), NameError> {
    const KIND: &str = "log group name";
    check_length(name, KIND, MAX_LOG_GROUP_NAME_LEN)?;
    match name.chars().find(|c| !is_log_group_char(*c)) {
        Some(bad) => Err(NameError::Character {
            kind: KIND,
            bad,
            allowed: " (allowed: a-z, A-Z, 0-9, '_', '-', '/', '.', '#')",
        }),
        None => Ok(()),
    }
}

/// Checks a concrete log stream name: 1 to 512 characters, no `:` or `*`.
pub fn check_log_stream_name(name: &str) -> Result<(), NameError> {
    const KIND: &str = "log stream name";
    check_length(name, KIND, MAX_LOG_STREAM_NAME_LEN)?;
    match name.chars().find(|c| matches!(c, ':' | '*')) {
        Some(bad) => Err(NameError::Character {
            kind: KIND,
            bad,
            allowed: "",
        }),
        None => Ok(()),
    }
}

fn check_length(name: &str, kind: &'static str, max: usize) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty { kind });
    }
    if name.len() > max {
        return Err(NameError::TooLong {
            kind,
            max,
            len: name.len(),
        });
    }
    Ok(())
}

/// Whether `c` may appear in a log group name.
pub fn is_log_group_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.' | '#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_days_is_not_a_retention() {
        assert!(!is_valid_retention(2));
        assert!(is_valid_retention(3));
        assert!(is_valid_retention(3653));
        assert!(!is_valid_retention(0));
        assert!(valid_retention_list().starts_with("1, 3, 5, 7, 14"));
    }

    #[test]
    fn names_follow_the_service_rules() {
        assert!(check_log_group_name("CCP-logs-Acme-123456789012-eu-west-1").is_ok());
        assert!(check_log_group_name("/aws/lambda/x#1").is_ok());
        assert!(
            check_log_group_name("bad name")
                .unwrap_err()
                .to_string()
                .contains("' ' is not allowed")
        );
        assert!(check_log_group_name(&"a".repeat(513)).is_err());
        assert!(check_log_stream_name("/var/log/messages/i-0123456789abcdef0").is_ok());
        assert!(check_log_stream_name("a:b").is_err());
        assert!(check_log_stream_name("").is_err());
    }
}
