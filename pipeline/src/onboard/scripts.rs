//! The Run Command requests the handler sends: the agent package install, and the Linux
//! shell or Windows PowerShell script that loads the agent's configuration from Parameter
//! Store and starts the agent.
//!
//! The scripts are idempotent: running them again reinstalls nothing that is current and
//! restarts the agent with the same configuration, so a repeated event is safe.

use std::collections::BTreeMap;

use super::ports::CommandRequest;

/// The SSM document that installs or updates an AWS package.
pub const CONFIGURE_PACKAGE_DOCUMENT: &str = "AWS-ConfigureAWSPackage";
/// The CloudWatch agent's package name.
pub const AGENT_PACKAGE: &str = "AmazonCloudWatchAgent";
/// The SSM document that runs a shell script on Linux.
pub const LINUX_SCRIPT_DOCUMENT: &str = "AWS-RunShellScript";
/// The SSM document that runs a PowerShell script on Windows.
pub const WINDOWS_SCRIPT_DOCUMENT: &str = "AWS-RunPowerShellScript";
/// Where the agent's control script lives on Linux.
pub const LINUX_AGENT_CTL: &str =
    "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl";
/// Longest Run Command comment.
pub const MAX_COMMENT_LEN: usize = 100;
/// Seconds a script may run on the instance (the documents' `executionTimeout`).
pub const SCRIPT_EXECUTION_TIMEOUT_SECONDS: u32 = 600;

/// The operating-system family, which decides the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Linux: `AWS-RunShellScript`.
    Linux,
    /// Windows: `AWS-RunPowerShellScript`.
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

/// The request that loads the agent configuration `parameter` and starts the agent.
pub fn configure_agent(
    platform: Platform,
    instance_id: &str,
    parameter: &str,
    delivery_timeout_seconds: i32,
) -> CommandRequest {
    let (document, commands) = match platform {
        Platform::Linux => (LINUX_SCRIPT_DOCUMENT, linux_script(parameter)),
        Platform::Windows => (WINDOWS_SCRIPT_DOCUMENT, windows_script(parameter)),
    };
    CommandRequest {
        instance_id: instance_id.to_owned(),
        document: document.to_owned(),
        parameters: BTreeMap::from([
            ("commands".to_owned(), commands),
            (
                "executionTimeout".to_owned(),
                vec![SCRIPT_EXECUTION_TIMEOUT_SECONDS.to_string()],
            ),
        ]),
        comment: comment("configure and start CloudWatch agent", instance_id),
        delivery_timeout_seconds,
    }
}

/// The Linux script, one line per element as `AWS-RunShellScript` takes it. POSIX `sh`:
/// Debian's `dash` runs it as well as `bash`.
///
/// collectd is installed where the distribution packages it (from EPEL on RHEL-family and
/// Amazon Linux 2); Amazon Linux 2023 packages neither, and the logs need neither, so the
/// script says so and goes on. The agent's `types.db` path is created either way, because
/// an agent configuration with a `collectd` section will not start without it.
pub fn linux_script(parameter: &str) -> Vec<String> {
    vec![
        "set -eu".to_owned(),
        format!("PARAMETER='{parameter}'"),
        format!("CTL='{LINUX_AGENT_CTL}'"),
        ". /etc/os-release".to_owned(),
        "MAJOR=${VERSION_ID%%.*}".to_owned(),
        "echo \"distribution: $ID $VERSION_ID\"".to_owned(),
        "case \"$ID:$MAJOR\" in".to_owned(),
        "  amzn:2) amazon-linux-extras install -y epel && yum install -y collectd ;;".to_owned(),
        "  amzn:*) echo \"collectd and EPEL are not packaged for Amazon Linux $VERSION_ID; the logs do not need them\" ;;".to_owned(),
        "  rhel:*|centos:*|rocky:*|almalinux:*|ol:*)".to_owned(),
        "    if command -v dnf >/dev/null 2>&1; then PM=dnf; else PM=yum; fi".to_owned(),
        "    rpm -q epel-release >/dev/null 2>&1 || $PM install -y epel-release || $PM install -y \"https://dl.fedoraproject.org/pub/epel/epel-release-latest-$MAJOR.noarch.rpm\"".to_owned(),
        "    $PM install -y collectd ;;".to_owned(),
        "  ubuntu:*|debian:*) apt-get update -y && DEBIAN_FRONTEND=noninteractive apt-get install -y collectd ;;".to_owned(),
        "  sles:*|opensuse*) zypper --non-interactive install collectd ;;".to_owned(),
        "  *) echo \"unknown distribution $ID; collectd not installed\" ;;".to_owned(),
        "esac".to_owned(),
        "mkdir -p /usr/share/collectd && touch /usr/share/collectd/types.db".to_owned(),
        "\"$CTL\" -a fetch-config -m ec2 -c \"ssm:$PARAMETER\" -s".to_owned(),
        "\"$CTL\" -a status".to_owned(),
    ]
}

/// The Windows script, one line per element as `AWS-RunPowerShellScript` takes it.
pub fn windows_script(parameter: &str) -> Vec<String> {
    vec![
        "$ErrorActionPreference = 'Stop'".to_owned(),
        format!("$parameter = '{parameter}'"),
        "$ctl = Join-Path $env:ProgramFiles 'Amazon\\AmazonCloudWatchAgent\\amazon-cloudwatch-agent-ctl.ps1'".to_owned(),
        "& $ctl -a fetch-config -m ec2 -c \"ssm:$parameter\" -s".to_owned(),
        "if ($LASTEXITCODE -ne 0) { throw \"fetch-config failed with exit code $LASTEXITCODE\" }".to_owned(),
        "& $ctl -a status".to_owned(),
    ]
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
    fn the_linux_script_is_valid_sh_and_names_the_parameter() {
        let script = linux_script("AmazonCloudWatch-coslinuxloggingconfiguration").join("\n");
        let dir = std::env::temp_dir().join(format!("onboard-script-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("configure.sh");
        std::fs::write(&path, &script).unwrap();
        let check = std::process::Command::new("sh")
            .arg("-n")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "sh -n: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        assert!(script.contains("\"$CTL\" -a fetch-config -m ec2 -c \"ssm:$PARAMETER\" -s"));
        assert!(script.contains("PARAMETER='AmazonCloudWatch-coslinuxloggingconfiguration'"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_windows_script_uses_the_powershell_ctl() {
        let script = windows_script("AmazonCloudWatch-coswindowsloggingconfiguration").join("\n");
        assert!(script.contains("amazon-cloudwatch-agent-ctl.ps1"));
        assert!(script.contains("-a fetch-config -m ec2 -c \"ssm:$parameter\" -s"));
        assert!(script.contains("$parameter = 'AmazonCloudWatch-coswindowsloggingconfiguration'"));
    }

    #[test]
    fn requests_carry_the_documents_parameters() {
        let install = install_agent("i-0123456789abcdef0", 600);
        assert_eq!(install.document, "AWS-ConfigureAWSPackage");
        assert_eq!(install.parameters["action"], ["Install"]);
        assert_eq!(install.parameters["name"], ["AmazonCloudWatchAgent"]);
        assert!(install.comment.len() <= MAX_COMMENT_LEN);
        let configure = configure_agent(Platform::Windows, "i-0123456789abcdef0", "p", 600);
        assert_eq!(configure.document, "AWS-RunPowerShellScript");
        assert_eq!(configure.parameters["executionTimeout"], ["600"]);
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
