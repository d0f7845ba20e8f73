//! The pipeline's default agent configurations, one for Linux and one for Windows, as stored
//! in Parameter Store under [`DEFAULT_LINUX_PARAMETER`] and [`DEFAULT_WINDOWS_PARAMETER`].
//!
//! Every source ships to the one group `CCP-logs-<AccountName>-<AccountId>-<Region>`; the
//! account id and region are agent placeholders, so one parameter serves every account and
//! region that shares an account name. Streams are named `<source>/{instance_id}`, the form
//! from which the ETL recovers the instance id and the source (see
//! [`crate::etl::stream_name`]). Retention is not set here: the stack owns the group and its
//! retention, and an agent-set retention would fight it.
//!
//! `fixtures/agent-config/{linux,windows}.json` hold these configurations rendered for the
//! account name [`EXAMPLE_ACCOUNT_NAME`]; a test keeps them equal.

use super::{
    AgentConfig, EventFormat, EventLevel, FileEntry, Files, LogsCollected, LogsSection, Timezone,
    WindowsEventEntry, WindowsEvents,
};

/// Parameter Store name of the Linux configuration.
pub const DEFAULT_LINUX_PARAMETER: &str = "AmazonCloudWatch-coslinuxloggingconfiguration";
/// Parameter Store name of the Windows configuration.
pub const DEFAULT_WINDOWS_PARAMETER: &str = "AmazonCloudWatch-coswindowsloggingconfiguration";
/// The account name the fixture files are rendered for.
pub const EXAMPLE_ACCOUNT_NAME: &str = "Example";
/// Seconds between the agent's flushes.
pub const FLUSH_INTERVAL_SECONDS: u32 = 5;

/// Linux log files collected by default.
pub const LINUX_FILES: [&str; 2] = ["/var/log/messages", "/var/log/secure"];
/// Windows event logs collected by default.
pub const WINDOWS_EVENT_LOGS: [&str; 3] = ["System", "Application", "Security"];
/// Windows levels collected by default (everything but VERBOSE).
pub const WINDOWS_LEVELS: [EventLevel; 4] = [
    EventLevel::Critical,
    EventLevel::Error,
    EventLevel::Warning,
    EventLevel::Information,
];

/// The log group name as the agent sees it, with the account id and region left to the
/// agent's placeholders.
pub fn log_group_template(account_name: &str) -> String {
    format!("CCP-logs-{account_name}-{{account_id}}-{{aws_region}}")
}

/// The concrete log group name for one account and region.
pub fn log_group_name(account_name: &str, account_id: &str, region: &str) -> String {
    format!("CCP-logs-{account_name}-{account_id}-{region}")
}

/// The default Linux configuration: `/var/log/messages` and `/var/log/secure`, syslog
/// timestamps in local time, continuation lines joined to the line that has a timestamp.
/// The agent runs as root because `/var/log/secure` is readable by root only.
pub fn linux(account_name: &str) -> AgentConfig {
    let group = log_group_template(account_name);
    let collect_list = LINUX_FILES
        .iter()
        .map(|path| FileEntry {
            file_path: (*path).to_owned(),
            log_group_name: Some(group.clone()),
            log_stream_name: Some(format!("{path}/{{instance_id}}")),
            multi_line_start_pattern: Some("{timestamp_format}".to_owned()),
            timestamp_format: Some("%b %d %H:%M:%S".to_owned()),
            timezone: Some(Timezone::Local),
            ..FileEntry::default()
        })
        .collect();
    config(
        Some(serde_json::json!({ "run_as_user": "root" })),
        LogsCollected {
            files: Some(Files {
                collect_list,
                ..Files::default()
            }),
            ..LogsCollected::default()
        },
    )
}

/// The default Windows configuration: System, Application and Security events of every
/// level but VERBOSE, as XML (which carries the event id, provider and level the ETL reads).
pub fn windows(account_name: &str) -> AgentConfig {
    let group = log_group_template(account_name);
    let collect_list = WINDOWS_EVENT_LOGS
        .iter()
        .map(|name| WindowsEventEntry {
            event_name: (*name).to_owned(),
            event_levels: Some(WINDOWS_LEVELS.to_vec()),
            log_group_name: Some(group.clone()),
            log_stream_name: Some(format!("{name}/{{instance_id}}")),
            event_format: Some(EventFormat::Xml),
            ..WindowsEventEntry::default()
        })
        .collect();
    config(
        None,
        LogsCollected {
            windows_events: Some(WindowsEvents {
                collect_list,
                ..WindowsEvents::default()
            }),
            ..LogsCollected::default()
        },
    )
}

fn config(agent: Option<serde_json::Value>, collected: LogsCollected) -> AgentConfig {
    AgentConfig {
        agent,
        logs: Some(LogsSection {
            logs_collected: Some(collected),
            force_flush_interval: Some(FLUSH_INTERVAL_SECONDS),
            ..LogsSection::default()
        }),
        ..AgentConfig::default()
    }
}
