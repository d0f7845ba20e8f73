//! The onboarding handler's settings, read from the Lambda function's environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `MANAGEMENT_TAG_KEY` | the tag key that marks instances to onboard (exact, case-sensitive) | required |
//! | `MANAGEMENT_TAG_VALUE` | the tag value that marks instances to onboard (exact) | required |
//! | `LINUX_AGENT_CONFIG_PARAMETER` | Parameter Store name of the Linux agent config | `AmazonCloudWatch-coslinuxloggingconfiguration` |
//! | `WINDOWS_AGENT_CONFIG_PARAMETER` | Parameter Store name of the Windows agent config | `AmazonCloudWatch-coswindowsloggingconfiguration` |
//! | `LINUX_AGENT_DOCUMENT` | the stack's SSM document that configures and starts the agent on Linux | `CCP-ConfigureCloudWatchAgent-Linux` |
//! | `WINDOWS_AGENT_DOCUMENT` | the same on Windows | `CCP-ConfigureCloudWatchAgent-Windows` |
//! | `ONBOARD_LOOKUP_TIMEOUT_MS` | how long an instance EC2 does not know yet is looked for | 30000 |
//! | `ONBOARD_REGISTRATION_TIMEOUT_MS` | how long to wait for SSM registration (ping Online) | 240000 |
//! | `ONBOARD_COMMAND_TIMEOUT_MS` | how long to wait for each command's result | 240000 |
//! | `ONBOARD_POLL_INTERVAL_MS` | pause between polls | 5000 |
//!
//! With the defaults the worst case is 30 + 240 + 240 + 240 s = 12.5 minutes, inside Lambda's
//! 15-minute limit; the stack gives the function a 900-second timeout.

use std::time::Duration;

use super::documents::{DEFAULT_LINUX_DOCUMENT, DEFAULT_WINDOWS_DOCUMENT, check_document_name};
use super::scripts::check_parameter_name;
use crate::agent_config::defaults::{DEFAULT_LINUX_PARAMETER, DEFAULT_WINDOWS_PARAMETER};
use crate::env_config::{ConfigError, ranged, required};

/// How the onboarding handler decides and waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardConfig {
    /// The management tag's key.
    pub tag_key: String,
    /// The management tag's value.
    pub tag_value: String,
    /// Parameter Store name of the Linux agent configuration.
    pub linux_parameter: String,
    /// Parameter Store name of the Windows agent configuration.
    pub windows_parameter: String,
    /// The stack's SSM document run on Linux instances.
    pub linux_document: String,
    /// The stack's SSM document run on Windows instances.
    pub windows_document: String,
    /// Bounds on waiting.
    pub waits: Waits,
}

/// Bounds on the handler's waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waits {
    /// How long an instance EC2 does not know yet is looked for.
    pub lookup_timeout: Duration,
    /// How long to wait for SSM registration.
    pub registration_timeout: Duration,
    /// How long to wait for one command's result.
    pub command_timeout: Duration,
    /// Pause between polls.
    pub poll_interval: Duration,
}

impl Default for Waits {
    fn default() -> Self {
        Self {
            lookup_timeout: Duration::from_secs(30),
            registration_timeout: Duration::from_secs(240),
            command_timeout: Duration::from_secs(240),
            poll_interval: Duration::from_secs(5),
        }
    }
}

impl OnboardConfig {
    /// A configuration with the default parameter names and waits.
    pub fn new(tag_key: impl Into<String>, tag_value: impl Into<String>) -> Self {
        Self {
            tag_key: tag_key.into(),
            tag_value: tag_value.into(),
            linux_parameter: DEFAULT_LINUX_PARAMETER.to_owned(),
            windows_parameter: DEFAULT_WINDOWS_PARAMETER.to_owned(),
            linux_document: DEFAULT_LINUX_DOCUMENT.to_owned(),
            windows_document: DEFAULT_WINDOWS_DOCUMENT.to_owned(),
            waits: Waits::default(),
        }
    }

    /// Reads the settings through `var` (the process environment in the Lambda binary).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let tag_key = required(
            &var,
            "MANAGEMENT_TAG_KEY",
            "the tag key that marks instances to onboard",
        )?;
        let tag_value = required(
            &var,
            "MANAGEMENT_TAG_VALUE",
            "the tag value that marks instances to onboard",
        )?;
        let parameter = |name, default| named(&var, name, default, check_parameter_name);
        let document = |name, default| named(&var, name, default, check_document_name);
        let defaults = Waits::default();
        let millis = |name, default: Duration, min, max| -> Result<Duration, ConfigError> {
            let default = u64::try_from(default.as_millis()).unwrap_or(u64::MAX);
            Ok(Duration::from_millis(ranged(
                &var, name, default, min, max,
            )?))
        };
        Ok(Self {
            linux_parameter: parameter("LINUX_AGENT_CONFIG_PARAMETER", DEFAULT_LINUX_PARAMETER)?,
            windows_parameter: parameter(
                "WINDOWS_AGENT_CONFIG_PARAMETER",
                DEFAULT_WINDOWS_PARAMETER,
            )?,
            linux_document: document("LINUX_AGENT_DOCUMENT", DEFAULT_LINUX_DOCUMENT)?,
            windows_document: document("WINDOWS_AGENT_DOCUMENT", DEFAULT_WINDOWS_DOCUMENT)?,
            waits: Waits {
                lookup_timeout: millis(
                    "ONBOARD_LOOKUP_TIMEOUT_MS",
                    defaults.lookup_timeout,
                    0,
                    600_000,
                )?,
                registration_timeout: millis(
                    "ONBOARD_REGISTRATION_TIMEOUT_MS",
                    defaults.registration_timeout,
                    0,
                    840_000,
                )?,
                command_timeout: millis(
                    "ONBOARD_COMMAND_TIMEOUT_MS",
                    defaults.command_timeout,
                    1_000,
                    840_000,
                )?,
                poll_interval: millis(
                    "ONBOARD_POLL_INTERVAL_MS",
                    defaults.poll_interval,
                    1,
                    60_000,
                )?,
            },
            tag_key,
            tag_value,
        })
    }
}

/// The name in variable `name` (`default` when unset), checked by `check`.
fn named<E: std::fmt::Display>(
    var: impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
    check: fn(&str) -> Result<(), E>,
) -> Result<String, ConfigError> {
    let value = var(name).unwrap_or_else(|| default.to_owned());
    check(&value).map_err(|error| ConfigError::Invalid {
        name,
        value: value.clone(),
        rule: error.to_string(),
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env_config::lookup;

    #[test]
    fn defaults_apply_when_only_the_tag_is_set() {
        let config = OnboardConfig::from_lookup(lookup(&[
            ("MANAGEMENT_TAG_KEY", "CCP-Managed"),
            ("MANAGEMENT_TAG_VALUE", "true"),
        ]))
        .unwrap();
        assert_eq!(config, OnboardConfig::new("CCP-Managed", "true"));
    }

    #[test]
    fn errors_name_the_variable_and_the_rule() {
        let err = OnboardConfig::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "MANAGEMENT_TAG_KEY is not set: the tag key that marks instances to onboard"
        );
        let err = OnboardConfig::from_lookup(lookup(&[
            ("MANAGEMENT_TAG_KEY", "k"),
            ("MANAGEMENT_TAG_VALUE", "v"),
            ("LINUX_AGENT_CONFIG_PARAMETER", "my config"),
        ]))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "LINUX_AGENT_CONFIG_PARAMETER=\"my config\" is invalid: ' ' is not allowed in a parameter name (allowed: a-z, A-Z, 0-9, '_', '.', '-', '/')"
        );
        let err = OnboardConfig::from_lookup(lookup(&[
            ("MANAGEMENT_TAG_KEY", "k"),
            ("MANAGEMENT_TAG_VALUE", "v"),
            ("LINUX_AGENT_DOCUMENT", "AWS-RunShellScript"),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().starts_with("LINUX_AGENT_DOCUMENT=\"AWS-RunShellScript\" is invalid: \"AWS-RunShellScript\" starts with \"aws\", a document name prefix AWS reserves"),
            "{err}"
        );
        let err = OnboardConfig::from_lookup(lookup(&[
            ("MANAGEMENT_TAG_KEY", "k"),
            ("MANAGEMENT_TAG_VALUE", "v"),
            ("ONBOARD_POLL_INTERVAL_MS", "0"),
        ]))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ONBOARD_POLL_INTERVAL_MS=\"0\" is invalid: an integer from 1 to 60000"
        );
    }
}
