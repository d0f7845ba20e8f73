//! `loglab agent-config`: checks CloudWatch agent configurations the way the onboarding handler
//! does before it sends any command, and prints the pipeline's default configurations.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};
use pipeline::agent_config::{AgentConfig, HostFacts, defaults};

/// What `loglab agent-config` does.
#[derive(Debug, Subcommand)]
pub enum AgentConfigCommand {
    /// Validate configuration files; every problem is printed with its JSON path, and the
    /// exit status is 1 when any file is invalid.
    Check {
        /// Agent configuration files (the JSON kept in Parameter Store).
        files: Vec<PathBuf>,
        /// Also show where each entry ships for this instance id.
        #[arg(long)]
        instance_id: Option<String>,
        /// Region for --instance-id.
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// Account id for --instance-id.
        #[arg(long, default_value = "123456789012")]
        account_id: String,
    },
    /// Print the pipeline's default configuration for a platform.
    Default {
        /// Which platform.
        #[arg(long, value_enum)]
        platform: PlatformArg,
        /// The account name in `CCP-logs-<AccountName>-<AccountId>-<Region>`.
        #[arg(long, default_value = defaults::EXAMPLE_ACCOUNT_NAME)]
        account_name: String,
    },
}

/// A platform the pipeline has a default configuration for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PlatformArg {
    /// Amazon Linux, RHEL, Debian, Ubuntu.
    Linux,
    /// Windows Server.
    Windows,
}

/// Runs `command`; exit status 1 when a checked file is invalid.
pub fn run(command: AgentConfigCommand) -> anyhow::Result<ExitCode> {
    match command {
        AgentConfigCommand::Check {
            files,
            instance_id,
            region,
            account_id,
        } => {
            let mut invalid = 0;
            for file in &files {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("reading {}", file.display()))?;
                match AgentConfig::parse(&text) {
                    Ok(config) => {
                        println!("{}: valid", file.display());
                        if let Some(id) = &instance_id {
                            show_destinations(&config, id, &region, &account_id);
                        }
                    }
                    Err(error) => {
                        invalid += 1;
                        println!("{}: invalid", file.display());
                        for issue in error.issues() {
                            println!("  {issue}");
                        }
                    }
                }
            }
            Ok(if invalid > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        AgentConfigCommand::Default {
            platform,
            account_name,
        } => {
            let config = match platform {
                PlatformArg::Linux => defaults::linux(&account_name),
                PlatformArg::Windows => defaults::windows(&account_name),
            };
            print!("{}", config.to_json_pretty());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn show_destinations(config: &AgentConfig, instance_id: &str, region: &str, account_id: &str) {
    let facts = HostFacts {
        instance_id: instance_id.to_owned(),
        hostname: format!("ip-10-0-0-1.{region}.compute.internal"),
        local_hostname: "localhost".to_owned(),
        ip_address: "10.0.0.1".to_owned(),
        aws_region: region.to_owned(),
        account_id: account_id.to_owned(),
        date: "1970-01-01".to_owned(),
        environment: std::collections::BTreeMap::new(),
    };
    match config.destinations(&facts) {
        Ok(destinations) => {
            for d in destinations {
                println!("  {} -> {} / {}", d.source, d.log_group, d.log_stream);
            }
        }
        Err(error) => println!("  {error}"),
    }
}
