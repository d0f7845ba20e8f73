//! The Run Command requests the handler sends: the agent package install
//! (`AWS-ConfigureAWSPackage`), and the stack's own document for the platform
//! ([`super::documents`]) that loads the agent's configuration from Parameter Store and starts
//! the agent; and the rules for the Parameter Store names they carry.
//!
//! Both are idempotent: running them again reinstalls nothing that is current and restarts
//! the agent with the same configuration, so a repeated event is safe.

use std::collections::BTreeMap;

use super::documents::CONFIG_PARAMETER_INPUT;
use super::ports::CommandRequest;

/// The SSM document that installs or updates an AWS package.
pub const CONFIGURE_PACKAGE_DOCUMENT: &str = "AWS-ConfigureAWSPackage";
/// The CloudWatch agent's package name.
pub const AGENT_PACKAGE: &str = "AmazonCloudWatchAgent";
/// Where the agent's control script lives on Linux.
pub const LINUX_AGENT_CTL: &str =
    "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl";
/// Longest Run Command comment.
pub const MAX_COMMENT_LEN: usize = 100;

/// The operating-system family, which decides the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Linux: the stack's Linux document (`aws:runShellScript` steps).
    Linux,
    /// Windows: the stack's Windows document (`aws:runPowerShellScript` steps).
    Windows,
}

/// The request that installs or updates the CloudWatch agent.
pub fn install_agent(instance_id: &str, delivery_timeout_seconds: i32) -> CommandRequest {
    CommandRequest {
        instance_id: instance_id.to_owned(),
        document: CONFIGURE_PACKAGE_DOCUMENT.to_owned(),
        parameters: BTreeMap::from([
            ("action".to_owned(), vec!["Install".to_owned()]),
            ("name".to_owned(), vec![AGENT_PACKAGE.to_owned()]),
        ]),
        comment: comment("install CloudWatch agent", instance_id),
        delivery_timeout_seconds,
    }
}

/// The request that runs the stack's `document` for the instance's platform: it loads the
/// agent configuration `parameter` (the one the document allows) and starts the agent.
pub fn configure_agent(
    instance_id: &str,
    document: &str,
    parameter: &str,
    delivery_timeout_seconds: i32,
) -> CommandRequest {
    CommandRequest {
        instance_id: instance_id.to_owned(),
        document: document.to_owned(),
        parameters: BTreeMap::from([(
            CONFIG_PARAMETER_INPUT.to_owned(),
            vec![parameter.to_owned()],
        )]),
        comment: comment("configure and start CloudWatch agent", instance_id),
        delivery_timeout_seconds,
    }
}

/// Longest Parameter Store name (SSM's limit for a fully qualified name).
pub const MAX_PARAMETER_NAME_LEN: usize = 1011;

/// What is wrong with a Parameter Store name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParameterNameError {
    /// Empty or too long.
    #[error("{name:?} must have from 1 to {MAX_PARAMETER_NAME_LEN} characters, it has {len}", len = .name.len())]
    Length {
        /// The name.
        name: String,
    },
    /// A character SSM refuses.
    #[error(
        "{0:?} is not allowed in a parameter name (allowed: a-z, A-Z, 0-9, '_', '.', '-', '/')"
    )]
    Character(char),
    /// Under a prefix SSM reserves.
    #[error(
        "{0:?} starts with a reserved prefix (aws or ssm); Parameter Store refuses it: \"{text}\"",
        text = if .0.contains('/') { SSM_PATH_NAME_ERROR } else { SSM_RESERVED_NAME_ERROR }
    )]
    Reserved(String),
}

/// Parameter Store's words (`ValidationException` at PutParameter and GetParameter) for a name
/// under the reserved prefixes.
pub const SSM_RESERVED_NAME_ERROR: &str =
    "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).";
/// Parameter Store's words for a path-formed name under `ssm`, or with a character outside
/// letters, digits and `.-_` in a sub-path.
pub const SSM_PATH_NAME_ERROR: &str = "Parameter name: can't be prefixed with \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_";

/// Whether `name` is a Parameter Store name the scripts can carry unquoted-safe: letters,
/// digits, `_ . - /`, at most 1011 characters, not under the reserved `aws`/`ssm` prefixes.
pub fn check_parameter_name(name: &str) -> Result<(), ParameterNameError> {
    if name.is_empty() || name.len() > MAX_PARAMETER_NAME_LEN {
        return Err(ParameterNameError::Length {
            name: name.to_owned(),
        });
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')))
    {
        return Err(ParameterNameError::Character(bad));
    }
    let lower = name.trim_start_matches('/').to_ascii_lowercase();
    if lower.starts_with("aws") || lower.starts_with("ssm") {
        return Err(ParameterNameError::Reserved(name.to_owned()));
    }
    Ok(())
}

fn comment(what: &str, instance_id: &str) -> String {
    let mut text = format!("loglab onboarding: {what} on {instance_id}");
    text.truncate(MAX_COMMENT_LEN);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_the_documents_parameters() {
        let install = install_agent("i-0123456789abcdef0", 600);
        assert_eq!(install.document, "AWS-ConfigureAWSPackage");
        assert_eq!(install.parameters["action"], ["Install"]);
        assert_eq!(install.parameters["name"], ["AmazonCloudWatchAgent"]);
        assert!(install.comment.len() <= MAX_COMMENT_LEN);
        let configure = configure_agent("i-0123456789abcdef0", "CCP-Configure-Windows", "p", 600);
        assert_eq!(configure.document, "CCP-Configure-Windows");
        assert_eq!(configure.parameters["AgentConfigParameter"], ["p"]);
    }

    #[test]
    fn parameter_names_follow_parameter_store_rules() {
        assert!(check_parameter_name("AmazonCloudWatch-coslinuxloggingconfiguration").is_ok());
        assert!(check_parameter_name("/ccp/agent/linux").is_ok());
        assert!(
            check_parameter_name("bad'name")
                .unwrap_err()
                .to_string()
                .contains("'\\''")
        );
        // Parameter Store's own words (a ValidationException seen from the AWS SDK for Java:
        // "... (Service: AWSSimpleSystemsManagement; Status Code: 400; Error Code:
        // ValidationException ...)").
        let reserved = check_parameter_name("aws-agent").unwrap_err().to_string();
        assert!(
            reserved.ends_with(
                r#"Parameter Store refuses it: "Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).""#
            ),
            "{reserved}"
        );
        let path = check_parameter_name("/ssm/agent").unwrap_err().to_string();
        assert!(path.contains(SSM_PATH_NAME_ERROR), "{path}");
        assert!(
            path.contains("each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_"),
            "{path}"
        );
        assert!(check_parameter_name("").is_err());
    }
}
