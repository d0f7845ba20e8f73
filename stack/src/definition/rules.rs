//! AWS's rules that the definition is checked against, as small functions that say what is
//! wrong: S3 lifecycle transitions, Firehose prefix expressions, Glue crawler schedules and
//! S3/Glue names. The limits are named constants.

/// Firehose buffer size hint bounds, MiB.
pub const BUFFER_SIZE_MB: (i64, i64) = (1, 128);
/// Firehose buffer interval hint bounds, seconds.
pub const BUFFER_INTERVAL_SECONDS: (i64, i64) = (0, 900);
/// Firehose's compression formats.
pub const COMPRESSION_FORMATS: [&str; 5] =
    ["UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"];
/// Smallest buffer size hint Firehose accepts for a stream that converts record formats, MiB.
pub const CONVERSION_MIN_BUFFER_SIZE_MB: i64 = 64;
/// Firehose's words (InvalidArgumentException at CreateDeliveryStream) for a smaller buffer
/// with format conversion enabled, as AWS answers them (quoted in the Terraform AWS provider's
/// acceptance tests, which run against AWS).
pub const CONVERSION_BUFFER_ERROR: &str =
    "BufferingHints.SizeInMBs must be at least 64 when data format conversion is enabled.";
/// Firehose's words (InvalidArgumentException) for an S3 compression other than UNCOMPRESSED
/// with format conversion enabled; the Developer Guide ("Enable record format conversion"):
/// "Amazon S3 compression gets disabled when you enable format conversion".
pub const CONVERSION_COMPRESSION_ERROR: &str = "The S3 destination's compression format must be set to UNCOMPRESSED when data format conversion is enabled. To enable compression within the converted output format, set the appropriate serialization option in the output format configuration.";
/// `ParquetSerDe.Compression` values (Firehose API Reference, ParquetSerDe; SNAPPY by default).
pub const PARQUET_COMPRESSIONS: [&str; 3] = ["UNCOMPRESSED", "GZIP", "SNAPPY"];
/// The deserializers Firehose offers (Developer Guide, "Convert input data format"): the
/// Apache Hive JSON SerDe and the OpenX JSON SerDe, by the names the definition uses.
pub const DESERIALIZERS: [&str; 2] = ["hive", "openx"];
/// Longest Firehose prefix or error prefix as written.
pub const MAX_PREFIX_LEN: usize = 1024;
/// Shortest interval between two crawler runs, minutes.
pub const MIN_CRAWLER_INTERVAL_MINUTES: u32 = 5;
/// Days objects must stay in S3 before a transition to STANDARD_IA or ONEZONE_IA, and in
/// those classes before the next transition.
pub const IA_MIN_DAYS: i64 = 30;
/// S3's words at PutBucketLifecycleConfiguration for a transition to an infrequent-access class
/// before [`IA_MIN_DAYS`] (`InvalidRequest`; `{class}` is the storage class).
pub const S3_IA_DAYS_ERROR: &str =
    "'Days' in Transition action must be greater than or equal to 30 for storageClass '{class}'";
/// S3's words for an expiration not after the last transition (`InvalidArgument`; the
/// template's rule has no filter, hence the empty prefix).
pub const S3_EXPIRATION_ERROR: &str = "'Days' in the Expiration action for filter '(prefix=)' must be greater than 'Days' in the Transition action";

/// CloudWatch Logs' words at PutRetentionPolicy (and CreateLogGroup through CloudFormation) for
/// a retention it does not offer (`InvalidParameterException`; `{days}` and `{valid}` filled
/// in): AWS's request-validation message format for an enum member.
pub const LOGS_RETENTION_ERROR: &str = "1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [{valid}]";

/// Storage classes a lifecycle rule may move objects to, and whether Athena reads them
/// without a restore.
pub const TRANSITION_CLASSES: [(&str, bool); 6] = [
    ("STANDARD_IA", true),
    ("ONEZONE_IA", true),
    ("INTELLIGENT_TIERING", true),
    ("GLACIER_IR", true),
    ("GLACIER", false),
    ("DEEP_ARCHIVE", false),
];

/// The transition classes Athena can read, as a readable list.
pub fn readable_classes() -> String {
    TRANSITION_CLASSES
        .iter()
        .filter(|(_, readable)| *readable)
        .map(|(class, _)| *class)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Minimum days before a transition to `class`.
pub fn min_transition_days(class: &str) -> i64 {
    match class {
        "STANDARD_IA" | "ONEZONE_IA" => IA_MIN_DAYS,
        _ => 0,
    }
}

/// A Firehose prefix expression `!{namespace:value}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixExpression {
    /// `timestamp`, `firehose`, `partitionKeyFromQuery`, `partitionKeyFromLambda`.
    pub namespace: String,
    /// What follows the colon.
    pub value: String,
}

/// What is wrong with a Firehose prefix's expressions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// `!{` without its `}`.
    #[error("`!{{` at {0:?} is never closed with `}}`")]
    Unclosed(String),
    /// `!{…}` without `namespace:value`.
    #[error("`!{{{0}}}` has no `namespace:value`")]
    NoNamespace(String),
    /// `!{firehose:error-output-type}` in the data prefix.
    #[error("`!{{firehose:error-output-type}}` is only valid in the error prefix")]
    ErrorOutputTypeInDataPrefix,
    /// `!{firehose:…}` with an unknown value.
    #[error("`!{{firehose:{0}}}` is unknown; Firehose knows random-string and error-output-type")]
    UnknownFirehoseValue(String),
    /// A dynamic-partitioning key.
    #[error(
        "`!{{{namespace}:{value}}}` needs dynamic partitioning, which this pipeline does not enable"
    )]
    DynamicPartitioning {
        /// `partitionKeyFromQuery` or `partitionKeyFromLambda`.
        namespace: String,
        /// The key.
        value: String,
    },
    /// A namespace Firehose does not have.
    #[error("`!{{{0}:...}}` is not a Firehose namespace (timestamp, firehose)")]
    UnknownNamespace(String),
    /// A quote that is never closed in a timestamp pattern.
    #[error("the timestamp pattern {0:?} opens a quote it never closes")]
    UnclosedQuote(String),
    /// `!{timestamp:}`.
    #[error("`!{{timestamp:}}` needs a date pattern such as yyyy/MM/dd/HH")]
    EmptyDatePattern,
    /// A character that is no Java date pattern letter.
    #[error("{letter:?} in the timestamp pattern {pattern:?} is not a Java date pattern letter")]
    DatePatternLetter {
        /// The character.
        letter: char,
        /// The pattern.
        pattern: String,
    },
}

/// One piece of a Firehose prefix: literal text, or a `!{namespace:value}` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrefixSegment<'a> {
    /// Text kept as written.
    Literal(&'a str),
    /// An expression Firehose evaluates.
    Expression(PrefixExpression),
}

/// A prefix split into its literal text and expressions, in order, or what is malformed.
pub fn prefix_segments(prefix: &str) -> Result<Vec<PrefixSegment<'_>>, PrefixError> {
    let mut out = Vec::new();
    let mut rest = prefix;
    while let Some(open) = rest.find("!{") {
        if open > 0 {
            out.push(PrefixSegment::Literal(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find('}') else {
            return Err(PrefixError::Unclosed(rest[open..].to_owned()));
        };
        let body = &after[..close];
        let Some((namespace, value)) = body.split_once(':') else {
            return Err(PrefixError::NoNamespace(body.to_owned()));
        };
        out.push(PrefixSegment::Expression(PrefixExpression {
            namespace: namespace.to_owned(),
            value: value.to_owned(),
        }));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        out.push(PrefixSegment::Literal(rest));
    }
    Ok(out)
}

/// The expressions of a prefix, or what is malformed about it.
pub fn prefix_expressions(prefix: &str) -> Result<Vec<PrefixExpression>, PrefixError> {
    Ok(prefix_segments(prefix)?
        .into_iter()
        .filter_map(|segment| match segment {
            PrefixSegment::Expression(expression) => Some(expression),
            PrefixSegment::Literal(_) => None,
        })
        .collect())
}

/// Checks one expression of a data prefix (`error_prefix` false) or error prefix.
pub fn check_prefix_expression(
    expr: &PrefixExpression,
    error_prefix: bool,
) -> Result<(), PrefixError> {
    match (expr.namespace.as_str(), expr.value.as_str()) {
        ("timestamp", pattern) => check_java_date_pattern(pattern),
        ("firehose", "random-string") => Ok(()),
        ("firehose", "error-output-type") if error_prefix => Ok(()),
        ("firehose", "error-output-type") => Err(PrefixError::ErrorOutputTypeInDataPrefix),
        ("firehose", other) => Err(PrefixError::UnknownFirehoseValue(other.to_owned())),
        ("partitionKeyFromQuery" | "partitionKeyFromLambda", _) => {
            Err(PrefixError::DynamicPartitioning {
                namespace: expr.namespace.clone(),
                value: expr.value.clone(),
            })
        }
        (other, _) => Err(PrefixError::UnknownNamespace(other.to_owned())),
    }
}

/// A Java `DateTimeFormatter` pattern as Firehose takes it: letters outside single quotes are
/// pattern letters, quoted text is literal (`'year='yyyy`, as the Firehose Developer Guide's
/// "Custom Prefixes" examples write it), other characters (`/`, `-`, `=`, `_`) are literal.
fn check_java_date_pattern(pattern: &str) -> Result<(), PrefixError> {
    const LETTERS: &str = "GuyDMLdQqYwWEecFaHhKkmsSAnNVzOXxZ";
    if pattern.is_empty() {
        return Err(PrefixError::EmptyDatePattern);
    }
    let mut quoted = false;
    for c in pattern.chars() {
        if c == '\'' {
            quoted = !quoted;
        } else if !quoted && c.is_ascii_alphabetic() && !LETTERS.contains(c) {
            return Err(PrefixError::DatePatternLetter {
                letter: c,
                pattern: pattern.to_owned(),
            });
        }
    }
    if quoted {
        return Err(PrefixError::UnclosedQuote(pattern.to_owned()));
    }
    Ok(())
}

/// Glue's `SchemaChangePolicy.UpdateBehavior` values (AWS Glue API, SchemaChangePolicy).
pub const SCHEMA_UPDATE_BEHAVIORS: [&str; 2] = ["LOG", "UPDATE_IN_DATABASE"];
/// Glue's `SchemaChangePolicy.DeleteBehavior` values (AWS Glue API, SchemaChangePolicy).
pub const SCHEMA_DELETE_BEHAVIORS: [&str; 3] =
    ["LOG", "DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE"];
/// What Glue's CreateCrawler answers when an incremental crawl (`CRAWL_NEW_FOLDERS_ONLY`) is
/// given any schema-change behaviour but `LOG`.
pub const GLUE_NEW_FOLDERS_ONLY_ERROR: &str = "The SchemaChangePolicy for \"Crawl new folders only\" Amazon S3 target can have only LOG DeleteBehavior value and LOG UpdateBehavior value";

/// Bucket name length bounds (S3).
pub const BUCKET_NAME_LEN: (usize, usize) = (3, 63);
/// Longest Glue database or table name.
pub const MAX_GLUE_NAME_LEN: usize = 255;

/// What is wrong with a resource name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// A bucket name of the wrong length.
    #[error("a bucket name has {min} to {max} characters, this one has {len}", min = BUCKET_NAME_LEN.0, max = BUCKET_NAME_LEN.1)]
    BucketLength {
        /// The name's length.
        len: usize,
    },
    /// A bucket name with a character S3 refuses.
    #[error("{0:?} is not allowed: bucket names use lowercase letters, digits, `-` and `.`")]
    BucketCharacter(char),
    /// A bucket name starting or ending with punctuation.
    #[error("a bucket name starts and ends with a letter or digit")]
    BucketEdge,
    /// A bucket name with `..`.
    #[error("a bucket name cannot contain `..`")]
    BucketDoubleDot,
    /// A Glue name of the wrong length.
    #[error("Glue names have 1 to {MAX_GLUE_NAME_LEN} characters")]
    GlueLength,
    /// A Glue name Athena would need quoted.
    #[error(
        "{0:?} is not allowed: use lowercase letters, digits and `_` so Athena needs no quoting"
    )]
    GlueCharacter(char),
    /// A name of the wrong length.
    #[error("1 to {max} characters")]
    Length {
        /// The limit.
        max: usize,
    },
    /// A name with a character the service refuses.
    #[error("{bad:?} is not allowed (letters, digits and {allowed})")]
    Character {
        /// The character.
        bad: char,
        /// The punctuation allowed, each in backticks.
        allowed: String,
    },
}

/// Checks an S3 bucket name (after placeholders are filled in).
pub fn check_bucket_name(name: &str) -> Result<(), NameError> {
    let (min, max) = BUCKET_NAME_LEN;
    if !(min..=max).contains(&name.len()) {
        return Err(NameError::BucketLength { len: name.len() });
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Err(NameError::BucketCharacter(c));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return Err(NameError::BucketEdge);
    }
    if name.contains("..") {
        return Err(NameError::BucketDoubleDot);
    }
    Ok(())
}

/// Checks a Glue database or table name: lowercase letters, digits and `_`, at most 255.
pub fn check_glue_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() || name.len() > MAX_GLUE_NAME_LEN {
        return Err(NameError::GlueLength);
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Some(c) => Err(NameError::GlueCharacter(c)),
        None => Ok(()),
    }
}

/// Checks a resource name made of letters, digits and some punctuation, with a length limit.
pub fn check_simple_name(name: &str, max: usize, extra: &str) -> Result<(), NameError> {
    if name.is_empty() || name.chars().count() > max {
        return Err(NameError::Length { max });
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || extra.contains(*c)))
    {
        Some(bad) => Err(NameError::Character {
            bad,
            allowed: extra
                .chars()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(" "),
        }),
        None => Ok(()),
    }
}

/// What is wrong with a crawler schedule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Not `cron(...)`.
    #[error("a Glue schedule is written cron(minutes hours day-of-month month day-of-week year)")]
    NotCron,
    /// Not six fields.
    #[error("cron(...) has {CRON_FIELDS} fields, this one has {0}")]
    FieldCount(usize),
    /// Both day fields set.
    #[error("one of day-of-month and day-of-week must be `?`")]
    BothDays,
    /// A step that is not a positive number.
    #[error("step {step:?} in {part:?} is not a positive number")]
    Step {
        /// The step.
        step: String,
        /// The part of the field it is in.
        part: String,
    },
    /// A value that is not a minute.
    #[error("{0:?} in the minute field is not a minute (0-59)")]
    Minute(String),
    /// A range whose end comes before its start.
    #[error("the range {0:?} runs backwards")]
    Backwards(String),
    /// Runs more often than Glue allows.
    #[error(
        "this runs every {0} minute(s); a crawler runs at most every {MIN_CRAWLER_INTERVAL_MINUTES} minutes"
    )]
    TooOften(u32),
}

/// Fields of a Glue cron expression.
pub const CRON_FIELDS: usize = 6;
/// Minutes in an hour.
const MINUTES_PER_HOUR: u32 = 60;

/// The minutes of the hour a cron minute field fires at, or what is malformed.
fn cron_minutes(field: &str) -> Result<Vec<u32>, ScheduleError> {
    let mut minutes = Vec::new();
    for part in field.split(',') {
        let (range, step) =
            match part.split_once('/') {
                Some((range, step)) => {
                    let step: u32 = step.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        ScheduleError::Step {
                            step: step.to_owned(),
                            part: part.to_owned(),
                        }
                    })?;
                    (range, step)
                }
                None => (part, 1),
            };
        let number = |s: &str| -> Result<u32, ScheduleError> {
            s.parse::<u32>()
                .ok()
                .filter(|m| *m < MINUTES_PER_HOUR)
                .ok_or_else(|| ScheduleError::Minute(s.to_owned()))
        };
        let last = MINUTES_PER_HOUR - 1;
        let (start, end) = match range {
            "*" => (0, last),
            r => match r.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                // `a/step` runs from a to the end of the hour.
                None if step > 1 || part.contains('/') => (number(r)?, last),
                None => (number(r)?, number(r)?),
            },
        };
        if start > end {
            return Err(ScheduleError::Backwards(range.to_owned()));
        }
        minutes.extend((start..=end).step_by(step as usize));
    }
    minutes.sort_unstable();
    minutes.dedup();
    Ok(minutes)
}

/// Checks a Glue schedule: `cron(min hour day-of-month month day-of-week year)` firing at
/// most every [`MIN_CRAWLER_INTERVAL_MINUTES`]. Returns the shortest interval in minutes.
pub fn check_crawler_schedule(schedule: &str) -> Result<u32, ScheduleError> {
    let inner = schedule
        .strip_prefix("cron(")
        .and_then(|s| s.strip_suffix(')'))
        .ok_or(ScheduleError::NotCron)?;
    let fields: Vec<&str> = inner.split_whitespace().collect();
    if fields.len() != CRON_FIELDS {
        return Err(ScheduleError::FieldCount(fields.len()));
    }
    if fields[2] != "?" && fields[4] != "?" {
        return Err(ScheduleError::BothDays);
    }
    let minutes = cron_minutes(fields[0])?;
    let every_hour = fields[1] == "*"
        || fields[1].contains('/')
        || fields[1].contains(',')
        || fields[1].contains('-');
    let gaps = minutes.windows(2).map(|w| w[1] - w[0]);
    let wrap = match (minutes.first(), minutes.last()) {
        (Some(first), Some(last)) if every_hour => Some(first + MINUTES_PER_HOUR - last),
        _ => None,
    };
    let shortest = gaps.chain(wrap).min().unwrap_or(MINUTES_PER_HOUR);
    if shortest < MIN_CRAWLER_INTERVAL_MINUTES {
        return Err(ScheduleError::TooOften(shortest));
    }
    Ok(shortest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crawler_schedules() {
        assert_eq!(check_crawler_schedule("cron(0/5 * * * ? *)"), Ok(5));
        assert_eq!(check_crawler_schedule("cron(*/15 * * * ? *)"), Ok(15));
        assert_eq!(check_crawler_schedule("cron(0,30 * * * ? *)"), Ok(30));
        assert_eq!(check_crawler_schedule("cron(15 12 * * ? *)"), Ok(60));
        assert!(
            check_crawler_schedule("cron(* * * * ? *)")
                .unwrap_err()
                .to_string()
                .contains("every 1 minute")
        );
        assert!(
            check_crawler_schedule("cron(0/2 * * * ? *)")
                .unwrap_err()
                .to_string()
                .contains("every 2")
        );
        assert!(
            check_crawler_schedule("cron(0,58 * * * ? *)")
                .unwrap_err()
                .to_string()
                .contains("every 2")
        );
        assert!(
            check_crawler_schedule("rate(5 minutes)")
                .unwrap_err()
                .to_string()
                .contains("cron(")
        );
        assert!(
            check_crawler_schedule("cron(0/5 * * *)")
                .unwrap_err()
                .to_string()
                .contains("6 fields")
        );
        assert!(
            check_crawler_schedule("cron(61 * * * ? *)")
                .unwrap_err()
                .to_string()
                .contains("not a minute")
        );
        assert!(
            check_crawler_schedule("cron(0/5 * * * 1 *)")
                .unwrap_err()
                .to_string()
                .contains("`?`")
        );
    }

    #[test]
    fn prefixes() {
        let exprs =
            prefix_expressions("logs/!{timestamp:yyyy/MM/dd/HH}/!{firehose:random-string}/")
                .unwrap();
        assert_eq!(exprs.len(), 2);
        assert!(check_prefix_expression(&exprs[0], false).is_ok());
        assert!(check_prefix_expression(&exprs[1], false).is_ok());
        assert!(
            prefix_expressions("a/!{timestamp:yyyy")
                .unwrap_err()
                .to_string()
                .contains("never closed")
        );
        let bad = |p: &str, error: bool| {
            let exprs = prefix_expressions(p).unwrap();
            check_prefix_expression(&exprs[0], error)
                .unwrap_err()
                .to_string()
        };
        assert!(
            bad("!{firehose:error-output-type}/", false).contains("only valid in the error prefix")
        );
        assert!(
            check_prefix_expression(
                &prefix_expressions("!{firehose:error-output-type}").unwrap()[0],
                true
            )
            .is_ok()
        );
        assert!(bad("!{partitionKeyFromQuery:id}/", false).contains("dynamic partitioning"));
        assert!(bad("!{timestamp:yyyy/bb}/", false).contains("'b'"));
        assert!(bad("!{time:yyyy}/", false).contains("not a Firehose namespace"));
        // The Firehose Developer Guide's own example ("Custom Prefixes", example prefixes).
        let guide = "myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/!{firehose:error-output-type}";
        for expr in prefix_expressions(guide).unwrap() {
            assert!(check_prefix_expression(&expr, true).is_ok(), "{expr:?}");
        }
        assert!(bad("!{timestamp:'open yyyy}/", false).contains("never closes"));
    }

    #[test]
    fn bucket_names() {
        assert!(check_bucket_name("ccp-logs-123456789012-us-east-1").is_ok());
        assert!(
            check_bucket_name("CCP-logs")
                .unwrap_err()
                .to_string()
                .contains("'C'")
        );
        assert!(
            check_bucket_name("ab")
                .unwrap_err()
                .to_string()
                .contains("3 to 63")
        );
        assert!(
            check_bucket_name("-abc")
                .unwrap_err()
                .to_string()
                .contains("starts and ends")
        );
        assert!(
            check_bucket_name("a..b")
                .unwrap_err()
                .to_string()
                .contains("..")
        );
    }
}
