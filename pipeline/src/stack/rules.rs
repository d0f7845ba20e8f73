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
/// Longest Firehose prefix or error prefix as written.
pub const MAX_PREFIX_LEN: usize = 1024;
/// Shortest interval between two crawler runs, minutes.
pub const MIN_CRAWLER_INTERVAL_MINUTES: u32 = 5;
/// Days objects must stay in S3 before a transition to STANDARD_IA or ONEZONE_IA, and in
/// those classes before the next transition.
pub const IA_MIN_DAYS: i64 = 30;
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

/// The expressions of a prefix, or what is malformed about it.
pub fn prefix_expressions(prefix: &str) -> Result<Vec<PrefixExpression>, String> {
    let mut out = Vec::new();
    let mut rest = prefix;
    while let Some(open) = rest.find("!{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find('}') else {
            return Err(format!(
                "`!{{` at {:?} is never closed with `}}`",
                &rest[open..]
            ));
        };
        let body = &after[..close];
        let Some((namespace, value)) = body.split_once(':') else {
            return Err(format!("`!{{{body}}}` has no `namespace:value`"));
        };
        out.push(PrefixExpression {
            namespace: namespace.to_owned(),
            value: value.to_owned(),
        });
        rest = &after[close + 1..];
    }
    Ok(out)
}

/// Checks one expression of a data prefix (`error_prefix` false) or error prefix.
pub fn check_prefix_expression(expr: &PrefixExpression, error_prefix: bool) -> Result<(), String> {
    match (expr.namespace.as_str(), expr.value.as_str()) {
        ("timestamp", pattern) => check_java_date_pattern(pattern),
        ("firehose", "random-string") => Ok(()),
        ("firehose", "error-output-type") if error_prefix => Ok(()),
        ("firehose", "error-output-type") => {
            Err("`!{firehose:error-output-type}` is only valid in the error prefix".to_owned())
        }
        ("firehose", other) => Err(format!(
            "`!{{firehose:{other}}}` is unknown; Firehose knows random-string and error-output-type"
        )),
        ("partitionKeyFromQuery" | "partitionKeyFromLambda", _) => Err(format!(
            "`!{{{}:{}}}` needs dynamic partitioning, which this pipeline does not enable",
            expr.namespace, expr.value
        )),
        (other, _) => Err(format!(
            "`!{{{other}:...}}` is not a Firehose namespace (timestamp, firehose)"
        )),
    }
}

/// A Java `DateTimeFormatter` pattern as Firehose takes it: letters are pattern letters, other
/// characters (`/`, `-`, `=`, `_`) are literal; quoted text is not allowed in a key prefix.
fn check_java_date_pattern(pattern: &str) -> Result<(), String> {
    const LETTERS: &str = "GuyDMLdQqYwWEecFaHhKkmsSAnNVzOXxZ";
    if pattern.is_empty() {
        return Err("`!{timestamp:}` needs a date pattern such as yyyy/MM/dd/HH".to_owned());
    }
    match pattern
        .chars()
        .find(|c| (c.is_ascii_alphabetic() && !LETTERS.contains(*c)) || *c == '\'')
    {
        Some(c) => Err(format!(
            "{c:?} in the timestamp pattern {pattern:?} is not a Java date pattern letter"
        )),
        None => Ok(()),
    }
}

/// Checks an S3 bucket name (after placeholders are filled in).
pub fn check_bucket_name(name: &str) -> Result<(), String> {
    if !(3..=63).contains(&name.len()) {
        return Err(format!(
            "a bucket name has 3 to 63 characters, this one has {}",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Err(format!(
            "{c:?} is not allowed: bucket names use lowercase letters, digits, `-` and `.`"
        ));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return Err("a bucket name starts and ends with a letter or digit".to_owned());
    }
    if name.contains("..") {
        return Err("a bucket name cannot contain `..`".to_owned());
    }
    Ok(())
}

/// Checks a Glue database or table name: lowercase letters, digits and `_`, at most 255.
pub fn check_glue_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 255 {
        return Err("Glue names have 1 to 255 characters".to_owned());
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Some(c) => Err(format!(
            "{c:?} is not allowed: use lowercase letters, digits and `_` so Athena needs no quoting"
        )),
        None => Ok(()),
    }
}

/// Checks a resource name made of letters, digits and some punctuation, with a length limit.
pub fn check_simple_name(name: &str, max: usize, extra: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > max {
        return Err(format!("1 to {max} characters"));
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || extra.contains(*c)))
    {
        Some(c) => Err(format!(
            "{c:?} is not allowed (letters, digits and {})",
            extra
                .chars()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(" ")
        )),
        None => Ok(()),
    }
}

/// The minutes of the hour a cron minute field fires at, or what is malformed.
fn cron_minutes(field: &str) -> Result<Vec<u32>, String> {
    let mut minutes = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: u32 =
                    step.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        format!("step {step:?} in {part:?} is not a positive number")
                    })?;
                (range, step)
            }
            None => (part, 1),
        };
        let number = |s: &str| -> Result<u32, String> {
            s.parse::<u32>()
                .ok()
                .filter(|m| *m < 60)
                .ok_or_else(|| format!("{s:?} in the minute field is not a minute (0-59)"))
        };
        let (start, end) = match range {
            "*" => (0, 59),
            r => match r.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                // `a/step` runs from a to the end of the hour.
                None if step > 1 || part.contains('/') => (number(r)?, 59),
                None => (number(r)?, number(r)?),
            },
        };
        if start > end {
            return Err(format!("the range {range:?} runs backwards"));
        }
        minutes.extend((start..=end).step_by(step as usize));
    }
    minutes.sort_unstable();
    minutes.dedup();
    Ok(minutes)
}

/// Checks a Glue schedule: `cron(min hour day-of-month month day-of-week year)` firing at
/// most every [`MIN_CRAWLER_INTERVAL_MINUTES`]. Returns the shortest interval in minutes.
pub fn check_crawler_schedule(schedule: &str) -> Result<u32, String> {
    let inner = schedule
        .strip_prefix("cron(")
        .and_then(|s| s.strip_suffix(')'))
        .ok_or(
            "a Glue schedule is written cron(minutes hours day-of-month month day-of-week year)",
        )?;
    let fields: Vec<&str> = inner.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(format!(
            "cron(...) has 6 fields, this one has {}",
            fields.len()
        ));
    }
    if fields[2] != "?" && fields[4] != "?" {
        return Err("one of day-of-month and day-of-week must be `?`".to_owned());
    }
    let minutes = cron_minutes(fields[0])?;
    let every_hour = fields[1] == "*"
        || fields[1].contains('/')
        || fields[1].contains(',')
        || fields[1].contains('-');
    let gaps = minutes.windows(2).map(|w| w[1] - w[0]);
    let wrap = match (minutes.first(), minutes.last()) {
        (Some(first), Some(last)) if every_hour => Some(first + 60 - last),
        _ => None,
    };
    let shortest = gaps.chain(wrap).min().unwrap_or(60);
    if shortest < MIN_CRAWLER_INTERVAL_MINUTES {
        return Err(format!(
            "this runs every {shortest} minute(s); a crawler runs at most every \
             {MIN_CRAWLER_INTERVAL_MINUTES} minutes"
        ));
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
                .contains("every 1 minute")
        );
        assert!(
            check_crawler_schedule("cron(0/2 * * * ? *)")
                .unwrap_err()
                .contains("every 2")
        );
        assert!(
            check_crawler_schedule("cron(0,58 * * * ? *)")
                .unwrap_err()
                .contains("every 2")
        );
        assert!(
            check_crawler_schedule("rate(5 minutes)")
                .unwrap_err()
                .contains("cron(")
        );
        assert!(
            check_crawler_schedule("cron(0/5 * * *)")
                .unwrap_err()
                .contains("6 fields")
        );
        assert!(
            check_crawler_schedule("cron(61 * * * ? *)")
                .unwrap_err()
                .contains("not a minute")
        );
        assert!(
            check_crawler_schedule("cron(0/5 * * * 1 *)")
                .unwrap_err()
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
                .contains("never closed")
        );
        let bad = |p: &str, error: bool| {
            let exprs = prefix_expressions(p).unwrap();
            check_prefix_expression(&exprs[0], error).unwrap_err()
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
    }

    #[test]
    fn bucket_names() {
        assert!(check_bucket_name("ccp-logs-123456789012-us-east-1").is_ok());
        assert!(check_bucket_name("CCP-logs").unwrap_err().contains("'C'"));
        assert!(check_bucket_name("ab").unwrap_err().contains("3 to 63"));
        assert!(
            check_bucket_name("-abc")
                .unwrap_err()
                .contains("starts and ends")
        );
        assert!(check_bucket_name("a..b").unwrap_err().contains(".."));
    }
}
