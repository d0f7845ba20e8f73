//! Durations as scenario files write them: a whole number and a unit, `500ms`, `90s`, `5m`,
//! `2h`, `1d`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration read from text such as `5m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct SimDuration(pub Duration);

impl SimDuration {
    /// The duration in milliseconds.
    pub fn as_millis(self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
    }

    /// Parses `<digits><unit>` with unit `ms`, `s`, `m`, `h` or `d`.
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let text = text.trim();
        let error = |kind| DurationError {
            text: text.to_owned(),
            kind,
        };
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| error(DurationErrorKind::NoUnit))?;
        let (number, unit) = text.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| error(DurationErrorKind::NoNumber))?;
        let millis = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            other => return Err(error(DurationErrorKind::Unit(other.to_owned()))),
        };
        number
            .checked_mul(millis)
            .map(|ms| Self(Duration::from_millis(ms)))
            .ok_or_else(|| error(DurationErrorKind::TooLong))
    }
}

/// A duration that does not parse, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` {kind}")]
pub struct DurationError {
    /// The text as written.
    pub text: String,
    /// What is wrong with it.
    pub kind: DurationErrorKind,
}

/// What is wrong with a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationErrorKind {
    /// Only digits.
    #[error("has no unit: write for example `90s`, `5m` or `2h`")]
    NoUnit,
    /// No digits first.
    #[error("does not start with a whole number")]
    NoNumber,
    /// A unit that is not one of ours.
    #[error("has unit `{0}`; valid units: ms, s, m, h, d")]
    Unit(String),
    /// More milliseconds than fit.
    #[error("is too long")]
    TooLong,
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        for (unit, size) in [
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1_000),
        ] {
            if ms >= size && ms.is_multiple_of(size) {
                return write!(f, "{}{unit}", ms / size);
            }
        }
        write!(f, "{ms}ms")
    }
}

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for SimDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_parse_and_print_back() {
        for (text, ms) in [
            ("500ms", 500),
            ("90s", 90_000),
            ("5m", 300_000),
            ("2h", 7_200_000),
            ("1d", 86_400_000),
        ] {
            let parsed = SimDuration::parse(text).unwrap();
            assert_eq!(parsed.as_millis(), ms, "{text}");
            assert_eq!(parsed.to_string(), text);
        }
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        assert!(
            SimDuration::parse("5")
                .unwrap_err()
                .to_string()
                .contains("no unit")
        );
        assert!(
            SimDuration::parse("5 min")
                .unwrap_err()
                .to_string()
                .contains("valid units")
        );
        assert!(
            SimDuration::parse("m5")
                .unwrap_err()
                .to_string()
                .contains("whole number")
        );
    }
}
