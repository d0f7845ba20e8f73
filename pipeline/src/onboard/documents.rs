//! The stack's own Run Command documents (Linux and Windows): the onboarding function sends
//! these instead of `AWS-RunShellScript` / `AWS-RunPowerShellScript`, which take any command
//! and would let whoever controls the function run anything as root or SYSTEM on the fleet.
//!
//! Each document is an SSM Command document, schema 2.2, with fixed steps; its one input is
//! the name of the agent configuration's parameter, and its `allowedPattern` admits exactly the
//! one name the stack configures, so the document can load no other parameter and nothing can
//! be spliced into its commands. The steps:
//!
//! - Linux, `installCollectd`: collectd where the distribution packages it (the agent's
//!   `collectd` metrics need it), and the `types.db` path the agent needs either way;
//! - `fetchConfigAndStart`: `amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -c
//!   ssm:<parameter> -s`, the agent's own usage example 1 ("apply a SSM parameter store config
//!   on EC2 instance and restart the agent afterwards"; `packaging/dependencies/
//!   amazon-cloudwatch-agent-ctl` in aws/amazon-cloudwatch-agent), which starts a stopped agent
//!   and restarts a running one with the new configuration (`-a start` alone leaves a running
//!   agent as it is: "has already been started"), then `-a status`.
//!
//! Installing or updating the agent stays with AWS's own `AWS-ConfigureAWSPackage`, sent first
//! ([`super::scripts::install_agent`]): its content is AWS's, not the stack's to change.
//!
//! The same JSON is the template's `AWS::SSM::Document` `Content` and what the harness's
//! simulated SSM agent runs (`standins::ssm::agent`), so the harness runs the deployed steps.

use serde_json::{Value, json};

use super::scripts::{LINUX_AGENT_CTL, Platform};

/// The default name of the Linux document.
pub const DEFAULT_LINUX_DOCUMENT: &str = "CCP-ConfigureCloudWatchAgent-Linux";
/// The default name of the Windows document.
pub const DEFAULT_WINDOWS_DOCUMENT: &str = "CCP-ConfigureCloudWatchAgent-Windows";
/// The documents' one input: the agent configuration's Parameter Store name.
pub const CONFIG_PARAMETER_INPUT: &str = "AgentConfigParameter";
/// The Command document schema the documents use (2.2: steps with platform preconditions).
pub const SCHEMA_VERSION: &str = "2.2";
/// Seconds each step may run on the instance (the step's `timeoutSeconds`).
pub const STEP_TIMEOUT_SECONDS: u32 = 600;
/// Shortest and longest SSM document name (CreateDocument: `^[a-zA-Z0-9_\-.]{3,128}$`).
pub const DOCUMENT_NAME_LEN: std::ops::RangeInclusive<usize> = 3..=128;
/// Name prefixes AWS reserves for its own documents (CreateDocument's `Name`, AWS SDK API
/// reference: "You can't use the following strings as document name prefixes").
pub const RESERVED_DOCUMENT_PREFIXES: [&str; 6] = [
    "aws",
    "amazon",
    "amzn",
    "AWSEC2",
    "AWSConfigRemediation",
    "AWSSupport",
];

/// The document's `Content` for `platform`, loading the configuration from `parameter` only.
pub fn content(platform: Platform, parameter: &str) -> Value {
    let mut steps = Vec::new();
    if platform == Platform::Linux {
        steps.push(step(platform, "installCollectd", linux_collectd()));
    }
    steps.push(step(
        platform,
        "fetchConfigAndStart",
        fetch_config(platform),
    ));
    let os = match platform {
        Platform::Linux => "Linux",
        Platform::Windows => "Windows",
    };
    json!({
        "schemaVersion": SCHEMA_VERSION,
        "description": format!(
            "Loads the CloudWatch agent's configuration from Parameter Store parameter {parameter} on a {os} instance and starts (or restarts) the agent with it. Rendered by the loglab stack; the onboarding function may send only this document and AWS-ConfigureAWSPackage."
        ),
        "parameters": {
            CONFIG_PARAMETER_INPUT: {
                "type": "String",
                "description": "The agent configuration's Parameter Store name; only the one this stack configures is allowed.",
                "default": parameter,
                "allowedPattern": allowed_pattern(parameter),
            },
        },
        "mainSteps": steps,
    })
}

/// A pattern (Java regular expression, as SSM takes it) that matches `parameter` and nothing
/// else. Parameter names hold only letters, digits and `_ . - /`, of which only `.` is special.
pub fn allowed_pattern(parameter: &str) -> String {
    format!("^{}$", parameter.replace('.', "\\."))
}

fn step(platform: Platform, name: &str, commands: Vec<String>) -> Value {
    let (action, os) = match platform {
        Platform::Linux => ("aws:runShellScript", "Linux"),
        Platform::Windows => ("aws:runPowerShellScript", "Windows"),
    };
    json!({
        "action": action,
        "name": name,
        "precondition": { "StringEquals": ["platformType", os] },
        "inputs": {
            "timeoutSeconds": STEP_TIMEOUT_SECONDS.to_string(),
            "runCommand": commands,
        },
    })
}

/// The parameter as the steps write it: SSM substitutes it before the script runs, and the
/// `allowedPattern` has already confined it to the one name (letters, digits, `_ . - /`).
fn parameter_placeholder() -> String {
    format!("{{{{ {CONFIG_PARAMETER_INPUT} }}}}")
}

/// collectd is installed where the distribution packages it (from EPEL on RHEL-family and
/// Amazon Linux 2); Amazon Linux 2023 packages neither, and the logs need neither, so the step
/// says so and goes on. The agent's `types.db` path is created either way, because an agent
/// configuration with a `collectd` section will not start without it. POSIX `sh`.
fn linux_collectd() -> Vec<String> {
    [
        "set -eu",
        ". /etc/os-release",
        "MAJOR=${VERSION_ID%%.*}",
        "echo \"distribution: $ID $VERSION_ID\"",
        "case \"$ID:$MAJOR\" in",
        "  amzn:2) amazon-linux-extras install -y epel && yum install -y collectd ;;",
        "  amzn:*) echo \"collectd and EPEL are not packaged for Amazon Linux $VERSION_ID; the logs do not need them\" ;;",
        "  rhel:*|centos:*|rocky:*|almalinux:*|ol:*)",
        "    if command -v dnf >/dev/null 2>&1; then PM=dnf; else PM=yum; fi",
        "    rpm -q epel-release >/dev/null 2>&1 || $PM install -y epel-release || $PM install -y \"https://dl.fedoraproject.org/pub/epel/epel-release-latest-$MAJOR.noarch.rpm\"",
        "    $PM install -y collectd ;;",
        "  ubuntu:*|debian:*) apt-get update -y && DEBIAN_FRONTEND=noninteractive apt-get install -y collectd ;;",
        "  sles:*|opensuse*) zypper --non-interactive install collectd ;;",
        "  *) echo \"unknown distribution $ID; collectd not installed\" ;;",
        "esac",
        "mkdir -p /usr/share/collectd && touch /usr/share/collectd/types.db",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn fetch_config(platform: Platform) -> Vec<String> {
    let parameter = parameter_placeholder();
    match platform {
        Platform::Linux => vec![
            "set -eu".to_owned(),
            format!("PARAMETER='{parameter}'"),
            format!("CTL='{LINUX_AGENT_CTL}'"),
            "\"$CTL\" -a fetch-config -m ec2 -c \"ssm:$PARAMETER\" -s".to_owned(),
            "\"$CTL\" -a status".to_owned(),
        ],
        Platform::Windows => vec![
            "$ErrorActionPreference = 'Stop'".to_owned(),
            format!("$parameter = '{parameter}'"),
            "$ctl = Join-Path $env:ProgramFiles 'Amazon\\AmazonCloudWatchAgent\\amazon-cloudwatch-agent-ctl.ps1'".to_owned(),
            "& $ctl -a fetch-config -m ec2 -c \"ssm:$parameter\" -s".to_owned(),
            "if ($LASTEXITCODE -ne 0) { throw \"fetch-config failed with exit code $LASTEXITCODE\" }".to_owned(),
            "& $ctl -a status".to_owned(),
        ],
    }
}

/// What is wrong with an SSM document name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentNameError {
    /// Too short, too long, or a character SSM refuses.
    #[error(
        "{0:?} is not an SSM document name: 3 to 128 of a-z, A-Z, 0-9, '_', '-', '.' (CreateDocument's pattern ^[a-zA-Z0-9_\\-.]{{3,128}}$)"
    )]
    Shape(String),
    /// Under a prefix AWS reserves for its own documents.
    #[error(
        "{name:?} starts with {prefix:?}, a document name prefix AWS reserves for its own documents (aws, amazon, amzn, AWSEC2, AWSConfigRemediation, AWSSupport)"
    )]
    Reserved {
        /// The name.
        name: String,
        /// The reserved prefix it starts with.
        prefix: &'static str,
    },
}

/// Whether `name` is a name CreateDocument accepts for a document of the account's own.
pub fn check_document_name(name: &str) -> Result<(), DocumentNameError> {
    let shape = DOCUMENT_NAME_LEN.contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !shape {
        return Err(DocumentNameError::Shape(name.to_owned()));
    }
    let lower = name.to_ascii_lowercase();
    match RESERVED_DOCUMENT_PREFIXES
        .iter()
        .find(|prefix| lower.starts_with(&prefix.to_ascii_lowercase()))
    {
        Some(prefix) => Err(DocumentNameError::Reserved {
            name: name.to_owned(),
            prefix,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(document: &Value, step: &str) -> Vec<String> {
        let steps = document["mainSteps"].as_array().unwrap();
        let step = steps.iter().find(|s| s["name"] == step).unwrap();
        step["inputs"]["runCommand"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| line.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_linux_steps_are_valid_sh_once_ssm_fills_the_parameter_in() {
        let name = "AmazonCloudWatch-coslinuxloggingconfiguration";
        let document = content(Platform::Linux, name);
        let dir = std::env::temp_dir().join(format!("onboard-document-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for step in ["installCollectd", "fetchConfigAndStart"] {
            let script = commands(&document, step)
                .join("\n")
                .replace("{{ AgentConfigParameter }}", name);
            let path = dir.join(format!("{step}.sh"));
            std::fs::write(&path, &script).unwrap();
            let check = std::process::Command::new("sh")
                .arg("-n")
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                check.status.success(),
                "{step}: sh -n: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
        let fetch = commands(&document, "fetchConfigAndStart").join("\n");
        assert!(fetch.contains("PARAMETER='{{ AgentConfigParameter }}'"));
        assert!(fetch.contains("\"$CTL\" -a fetch-config -m ec2 -c \"ssm:$PARAMETER\" -s"));
    }

    #[test]
    fn each_document_admits_only_its_one_parameter() {
        let document = content(Platform::Windows, "Amazon.Cloud-Watch/win_cfg");
        let input = &document["parameters"][CONFIG_PARAMETER_INPUT];
        assert_eq!(input["default"], "Amazon.Cloud-Watch/win_cfg");
        let pattern = regex::Regex::new(input["allowedPattern"].as_str().unwrap()).unwrap();
        assert!(pattern.is_match("Amazon.Cloud-Watch/win_cfg"));
        for other in [
            "AmazonXCloud-Watch/win_cfg",
            "Amazon.Cloud-Watch/win_cfg2",
            "x Amazon.Cloud-Watch/win_cfg",
            "Amazon.Cloud-Watch/win_cfg'; rm -rf /; '",
        ] {
            assert!(!pattern.is_match(other), "{other}");
        }
        let steps = document["mainSteps"].as_array().unwrap();
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0]["action"], "aws:runPowerShellScript");
        assert_eq!(
            steps[0]["precondition"]["StringEquals"],
            json!(["platformType", "Windows"])
        );
        assert!(
            commands(&document, "fetchConfigAndStart")
                .join("\n")
                .contains("amazon-cloudwatch-agent-ctl.ps1")
        );
    }

    #[test]
    fn document_names_follow_create_documents_rules() {
        assert!(check_document_name(DEFAULT_LINUX_DOCUMENT).is_ok());
        assert!(check_document_name(DEFAULT_WINDOWS_DOCUMENT).is_ok());
        assert!(matches!(
            check_document_name("AWS-RunShellScript"),
            Err(DocumentNameError::Reserved { prefix: "aws", .. })
        ));
        assert!(matches!(
            check_document_name("amznAgent"),
            Err(DocumentNameError::Reserved { prefix: "amzn", .. })
        ));
        assert!(matches!(
            check_document_name("ab"),
            Err(DocumentNameError::Shape(_))
        ));
        assert!(matches!(
            check_document_name("my/doc"),
            Err(DocumentNameError::Shape(_))
        ));
    }
}
