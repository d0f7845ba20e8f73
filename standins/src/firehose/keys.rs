//! S3 object keys as Firehose names them, from the Amazon Data Firehose Developer Guide:
//!
//! - "Configure Amazon S3 object name format" (s3-object-name): a key is
//!   `<evaluated prefix><suffix>`, the suffix
//!   `<stream name>-<stream version>-<year>-<month>-<day>-<hour>-<minute>-<second>-<uuid><file extension>`,
//!   the version starting at 1, times in UTC.
//! - "Custom Prefixes for Amazon S3 Objects" (s3-prefixes, `doc_source/s3-prefixes.md` of
//!   awsdocs/amazon-kinesis-data-firehose-developer-guide): `!{timestamp:<Java DateTimeFormatter>}`
//!   evaluated at the approximate arrival time of the oldest record in the object, every
//!   instance the same instant, single-quoted text literal; `!{firehose:random-string}` a new
//!   11-character random string at each use; `!{firehose:error-output-type}` (error prefix
//!   only) the same error string at each use; a `Prefix` without a timestamp expression gets
//!   `!{timestamp:yyyy/MM/dd/HH/}` appended (the rule names the `Prefix` field only, and the
//!   guide's example `myFirehoseFailures/!{firehose:error-output-type}/` evaluates to
//!   `myFirehoseFailures/processing-failed/`, no time appended); an unspecified
//!   `ErrorOutputPrefix` (allowed only when `Prefix` has no expressions) evaluates to the
//!   `Prefix`, the error output type and the time (the guide's last example:
//!   `myFirehosePrefix/processing-failed/2018/08/27/`); at most 512 characters after
//!   evaluation.
//!
//! Where the guide is silent: the suffix's time is taken from the same instant as the prefix's
//! (the oldest record's arrival), and only the pattern letters below are evaluated; any other
//! letter is refused by name rather than guessed.

use rand::RngExt as _;
use stack::definition::rules::{PrefixSegment, prefix_segments};
use time::OffsetDateTime;

/// Longest evaluated prefix Firehose accepts.
pub const MAX_EVALUATED_PREFIX_LEN: usize = 512;
/// Characters in `!{firehose:random-string}`.
pub const RANDOM_STRING_LEN: usize = 11;
/// What Firehose appends to a prefix that has no timestamp expression.
pub const DEFAULT_TIME_PATTERN: &str = "yyyy/MM/dd/HH/";

/// Why a prefix cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// `!{` without its `}`, or an expression without `namespace:` (the stack's parser
    /// says which, [`stack::definition::rules::prefix_segments`]).
    #[error("prefix {prefix:?}: {problem}")]
    Syntax {
        /// The prefix.
        prefix: String,
        /// What is wrong.
        problem: String,
    },
    /// A date pattern letter the model does not evaluate.
    #[error(
        "!{{timestamp:{pattern}}}: the pattern letter {letter:?} is not modelled by the harness's \
         Firehose (it evaluates y, M, d, H, h, m, s, S, a and quoted text)"
    )]
    UnmodelledLetter {
        /// The pattern.
        pattern: String,
        /// The letter.
        letter: char,
    },
    /// An expression Firehose refuses or the model does not evaluate.
    #[error("!{{{namespace}:{value}}} is not evaluated by the harness's Firehose ({why})")]
    Expression {
        /// The namespace.
        namespace: String,
        /// The value.
        value: String,
        /// Why.
        why: &'static str,
    },
    /// Longer than Firehose allows after evaluation.
    #[error("the evaluated prefix {evaluated:?} has {len} characters; Firehose allows at most 512")]
    TooLong {
        /// The evaluated prefix.
        evaluated: String,
        /// Its length.
        len: usize,
    },
}

/// Evaluates a Java `DateTimeFormatter` pattern at `at` (UTC).
pub fn format_java_date(pattern: &str, at: OffsetDateTime) -> Result<String, KeyError> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // '' is a literal quote; otherwise text up to the next quote is literal.
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            i += 1;
            while i < chars.len() {
                match (chars[i], chars.get(i + 1)) {
                    ('\'', Some('\'')) => {
                        out.push('\'');
                        i += 2;
                    }
                    ('\'', _) => {
                        i += 1;
                        break;
                    }
                    (other, _) => {
                        out.push(other);
                        i += 1;
                    }
                }
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        out.push_str(&field(pattern, c, run, at)?);
        i += run;
    }
    Ok(out)
}

fn field(
    pattern: &str,
    letter: char,
    width: usize,
    at: OffsetDateTime,
) -> Result<String, KeyError> {
    let number = |value: i64| format!("{value:0width$}");
    Ok(match letter {
        'y' | 'u' if width == 2 => format!("{:02}", at.year().rem_euclid(100)),
        'y' | 'u' => number(i64::from(at.year())),
        'M' => number(i64::from(u8::from(at.month()))),
        'd' => number(i64::from(at.day())),
        'H' => number(i64::from(at.hour())),
        'h' => number(i64::from((at.hour() + 11) % 12 + 1)),
        'm' => number(i64::from(at.minute())),
        's' => number(i64::from(at.second())),
        'S' => {
            let nanos = format!("{:09}", at.nanosecond());
            nanos[..width.min(9)].to_owned()
        }
        'a' => (if at.hour() < 12 { "AM" } else { "PM" }).to_owned(),
        other => {
            return Err(KeyError::UnmodelledLetter {
                pattern: pattern.to_owned(),
                letter: other,
            });
        }
    })
}

/// What a prefix is evaluated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixUse<'a> {
    /// The data prefix.
    Data,
    /// The error prefix, with the error output type (`processing-failed`, ...).
    Error(&'a str),
}

/// Evaluates a prefix at `arrival` (the oldest record's approximate arrival).
pub fn evaluate_prefix(
    prefix: &str,
    arrival: OffsetDateTime,
    use_: PrefixUse<'_>,
    rng: &mut impl rand::Rng,
) -> Result<String, KeyError> {
    let evaluated = evaluate_expressions(prefix, arrival, use_, rng)?;
    let len = evaluated.chars().count();
    if len > MAX_EVALUATED_PREFIX_LEN {
        return Err(KeyError::TooLong { evaluated, len });
    }
    Ok(evaluated)
}

/// The error prefix of a stream whose `ErrorOutputPrefix` is unspecified (empty): the data
/// `prefix` (which then has no expressions), the error output type and the time. Where the
/// guide's rule (`<specified-prefix><error-output-type>YYYY/MM/DD/HH/`) and its example
/// (`myFirehosePrefix/processing-failed/2018/08/27/`) differ, a `/` ends the type, as in the
/// example.
pub fn unspecified_error_prefix(prefix: &str) -> String {
    format!("{prefix}!{{firehose:error-output-type}}/!{{timestamp:{DEFAULT_TIME_PATTERN}}}")
}

fn evaluate_expressions(
    prefix: &str,
    arrival: OffsetDateTime,
    use_: PrefixUse<'_>,
    rng: &mut impl rand::Rng,
) -> Result<String, KeyError> {
    let segments = prefix_segments(prefix).map_err(|e| KeyError::Syntax {
        prefix: prefix.to_owned(),
        problem: e.to_string(),
    })?;
    let mut out = String::new();
    let mut has_timestamp = false;
    for segment in segments {
        let expression = match segment {
            PrefixSegment::Literal(text) => {
                out.push_str(text);
                continue;
            }
            PrefixSegment::Expression(expression) => expression,
        };
        let (namespace, value) = (expression.namespace.as_str(), expression.value.as_str());
        let unsupported = |why| KeyError::Expression {
            namespace: namespace.to_owned(),
            value: value.to_owned(),
            why,
        };
        match (namespace, value, use_) {
            ("timestamp", pattern, _) => {
                has_timestamp = true;
                out.push_str(&format_java_date(pattern, arrival)?);
            }
            ("firehose", "random-string", _) => out.push_str(&random_string(rng)),
            ("firehose", "error-output-type", PrefixUse::Error(kind)) => out.push_str(kind),
            ("firehose", "error-output-type", PrefixUse::Data) => {
                return Err(unsupported("Prefix can't contain it"));
            }
            ("partitionKeyFromQuery" | "partitionKeyFromLambda", _, _) => {
                return Err(unsupported("dynamic partitioning is not modelled"));
            }
            _ => return Err(unsupported("not a Firehose expression")),
        }
    }
    if !has_timestamp && use_ == PrefixUse::Data {
        out.push_str(&format_java_date(DEFAULT_TIME_PATTERN, arrival)?);
    }
    Ok(out)
}

/// 11 characters of lowercase hex and `-`, the shape of the guide's example (`046b6c7f-0b`).
fn random_string(rng: &mut impl rand::Rng) -> String {
    let mut out = hex_digits(rng, 8);
    out.push('-');
    out.push_str(&hex_digits(rng, 2));
    out
}

fn hex_digits(rng: &mut impl rand::Rng, count: usize) -> String {
    (0..count)
        .map(|_| char::from_digit(rng.random_range(0..16u32), 16).unwrap_or('0'))
        .collect()
}

/// The object key: evaluated prefix, then `<stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid><ext>`.
pub fn object_key(
    evaluated_prefix: &str,
    stream: &str,
    version: u32,
    arrival: OffsetDateTime,
    uuid: &str,
    extension: &str,
) -> String {
    format!(
        "{evaluated_prefix}{stream}-{version}-{:04}-{:02}-{:02}-{:02}-{:02}-{:02}-{uuid}{extension}",
        arrival.year(),
        u8::from(arrival.month()),
        arrival.day(),
        arrival.hour(),
        arrival.minute(),
        arrival.second()
    )
}

/// A random version-4 UUID, as the suffix carries.
pub fn uuid_v4(rng: &mut impl rand::Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests;
