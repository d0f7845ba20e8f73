//! Settings read from a Lambda function's environment: the error type that names the
//! variable, the value and the rule, the parsers the handlers' configs share, and the
//! functions' logging set-up.

use std::str::FromStr;

/// A setting that is missing or invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("{name} is not set: {meaning}")]
    Missing {
        /// The variable.
        name: &'static str,
        /// What it is for.
        meaning: &'static str,
    },
    /// A variable's value is invalid.
    #[error("{name}={value:?} is invalid: {rule}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// The value found.
        value: String,
        /// What would be valid.
        rule: String,
    },
}

pub(crate) fn parsed<T: FromStr>(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    rule: &str,
) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(value) => value.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            value,
            rule: rule.to_owned(),
        }),
    }
}

pub(crate) fn ranged<T>(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + Copy + std::fmt::Display,
{
    let rule = format!("an integer from {min} to {max}");
    let value: T = parsed(var, name, default, &rule)?;
    if value < min || value > max {
        return Err(ConfigError::Invalid {
            name,
            value: value.to_string(),
            rule,
        });
    }
    Ok(value)
}

/// A required, non-blank variable.
pub(crate) fn required(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    meaning: &'static str,
) -> Result<String, ConfigError> {
    var(name)
        .filter(|value| !value.trim().is_empty())
        .ok_or(ConfigError::Missing { name, meaning })
}

/// A lookup over fixed pairs, standing in for the environment in tests.
#[cfg(test)]
pub(crate) fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// Sets up `tracing` for a Lambda function as the runtime's own setup does, honouring Lambda's
/// advanced logging controls: JSON lines when `AWS_LAMBDA_LOG_FORMAT` is `JSON` (the stack's
/// `LoggingConfig`), text otherwise; the level from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`,
/// else INFO; no timestamps (Lambda adds them).
pub fn init_lambda_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}
