//! The stack definition: one config file (`pipeline.toml`) that describes a deployment, from
//! which both the CloudFormation template for AWS and the resources provisioned on an emulator
//! are made, so that what passes locally is what gets deployed.
//!
//! Every section has defaults that follow the seed design, except where AWS would reject it
//! (docs/stack.md says where and why). [`StackDefinition::load`] reads and validates; a file that
//! breaks a rule is refused with every broken rule listed, each naming the key, the bad value,
//! the rule and what would be valid.

mod names;
pub mod rules;
#[cfg(test)]
mod tests;
mod validate;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use pipeline::agent_config::defaults::{DEFAULT_LINUX_PARAMETER, DEFAULT_WINDOWS_PARAMETER};
use pipeline::agent_config::{self, AgentConfig};
use pipeline::onboard::documents::{DEFAULT_LINUX_DOCUMENT, DEFAULT_WINDOWS_DOCUMENT};

pub use names::{Names, Placement, to_cfn_sub};
pub use validate::Issue;

/// The whole definition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StackDefinition {
    /// Whose logs these are.
    pub account: AccountSection,
    /// Which instances are onboarded and with which agent configuration.
    pub onboarding: OnboardingSection,
    /// The log group, its retention and its subscription filter.
    pub logs: LogsSection,
    /// The Firehose stream that writes rows to S3.
    pub firehose: FirehoseSection,
    /// The bucket and its lifecycle.
    pub bucket: BucketSection,
    /// The Glue catalog (crawler or partition projection).
    pub catalog: CatalogSection,
    /// The Athena workgroup and its saved queries.
    pub athena: AthenaSection,
}

/// `[account]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountSection {
    /// The customer's account name: `<AccountName>` in `CCP-logs-<AccountName>-<AccountId>-<Region>`.
    pub name: String,
}

impl Default for AccountSection {
    fn default() -> Self {
        Self {
            name: agent_config::defaults::EXAMPLE_ACCOUNT_NAME.to_owned(),
        }
    }
}

/// `[onboarding]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OnboardingSection {
    /// The management tag's key (exact, case-sensitive).
    pub tag_key: String,
    /// The management tag's value (exact).
    pub tag_value: String,
    /// Parameter Store name of the Linux agent configuration.
    pub linux_parameter: String,
    /// Parameter Store name of the Windows agent configuration.
    pub windows_parameter: String,
    /// The stack's SSM Command document that loads the Linux configuration and starts the agent
    /// (the onboarding function may send no other script).
    pub linux_document: String,
    /// The same for Windows.
    pub windows_document: String,
    /// A file holding the Linux agent configuration; the built-in default when absent.
    /// Relative paths are relative to the definition file.
    pub linux_agent_config: Option<PathBuf>,
    /// A file holding the Windows agent configuration; the built-in default when absent.
    pub windows_agent_config: Option<PathBuf>,
    /// The EventBridge rule that sends `running` state changes to the onboarding function.
    pub rule_name: String,
    /// The onboarding Lambda function.
    pub function_name: String,
}

impl Default for OnboardingSection {
    fn default() -> Self {
        Self {
            tag_key: "CCP-Managed".to_owned(),
            tag_value: "true".to_owned(),
            linux_parameter: DEFAULT_LINUX_PARAMETER.to_owned(),
            windows_parameter: DEFAULT_WINDOWS_PARAMETER.to_owned(),
            linux_document: DEFAULT_LINUX_DOCUMENT.to_owned(),
            windows_document: DEFAULT_WINDOWS_DOCUMENT.to_owned(),
            linux_agent_config: None,
            windows_agent_config: None,
            rule_name: "CreateLoggingEventRule".to_owned(),
            function_name: "ccp-onboarding".to_owned(),
        }
    }
}

/// `[logs]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogsSection {
    /// The log group's name; `{account_name}`, `{account_id}` and `{region}` are filled in.
    pub group_name: String,
    /// Days CloudWatch Logs keeps events (one of the values it accepts).
    pub retention_days: i64,
    /// The subscription filter's name.
    pub subscription_filter_name: String,
    /// Which events the subscription forwards (CloudWatch Logs filter-pattern syntax; empty
    /// forwards everything).
    pub filter_pattern: String,
    /// The ETL Lambda function the subscription invokes.
    pub etl_function_name: String,
}

impl Default for LogsSection {
    fn default() -> Self {
        Self {
            group_name: "CCP-logs-{account_name}-{account_id}-{region}".to_owned(),
            retention_days: 3,
            subscription_filter_name: "ccp-logs-to-etl".to_owned(),
            filter_pattern: String::new(),
            etl_function_name: "ccp-log-etl".to_owned(),
        }
    }
}

/// `[firehose]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FirehoseSection {
    /// The delivery stream's name.
    pub stream_name: String,
    /// Buffer size hint, MiB (1-128).
    pub buffer_size_mb: i64,
    /// Buffer interval hint, seconds (0-900).
    pub buffer_interval_seconds: i64,
    /// UNCOMPRESSED, GZIP, ZIP, Snappy or HADOOP_SNAPPY.
    pub compression: String,
    /// S3 key prefix for rows; without a `!{timestamp:...}` expression Firehose appends
    /// `yyyy/MM/dd/HH/`.
    pub prefix: String,
    /// S3 key prefix for records Firehose could not deliver.
    pub error_prefix: String,
    /// `[firehose.format_conversion]`: Firehose converts the rows to Parquet before it writes
    /// them (absent: the rows land as the ETL writes them, NDJSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_conversion: Option<FormatConversion>,
}

impl FirehoseSection {
    /// The format conversion when it is enabled.
    pub fn converts(&self) -> Option<&FormatConversion> {
        self.format_conversion.as_ref().filter(|c| c.enabled)
    }
}

/// `[firehose.format_conversion]`: Firehose's record format conversion
/// (`DataFormatConversionConfiguration`), reading each row with a JSON SerDe against the Glue
/// table's columns and writing Parquet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FormatConversion {
    /// `Enabled`: false keeps the configuration and delivers the rows unconverted.
    pub enabled: bool,
    /// The serializer: `parquet` (`ParquetSerDe`).
    pub output_format: String,
    /// `ParquetSerDe.Compression`: SNAPPY (Firehose's default), GZIP or UNCOMPRESSED.
    pub parquet_compression: String,
    /// The deserializer: `hive` (Apache Hive JSON SerDe) or `openx` (OpenX JSON SerDe).
    pub deserializer: String,
}

impl Default for FormatConversion {
    fn default() -> Self {
        Self {
            enabled: true,
            output_format: "parquet".to_owned(),
            parquet_compression: "SNAPPY".to_owned(),
            deserializer: "hive".to_owned(),
        }
    }
}

impl Default for FirehoseSection {
    fn default() -> Self {
        Self {
            stream_name: "ccp-logs-to-s3".to_owned(),
            buffer_size_mb: 5,
            buffer_interval_seconds: 300,
            compression: "GZIP".to_owned(),
            prefix: "logs/!{timestamp:yyyy/MM/dd/HH}/".to_owned(),
            error_prefix: "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"
                .to_owned(),
            format_conversion: None,
        }
    }
}

/// `[bucket]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BucketSection {
    /// The bucket's name; `{account_id}` and `{region}` are filled in.
    pub name: String,
    /// Storage-class transitions, in order of days.
    pub transitions: Vec<Transition>,
    /// Days after which objects are deleted.
    pub expiration_days: i64,
}

impl Default for BucketSection {
    fn default() -> Self {
        Self {
            name: "ccp-logs-{account_id}-{region}".to_owned(),
            transitions: vec![
                Transition {
                    days: 30,
                    storage_class: "STANDARD_IA".to_owned(),
                },
                Transition {
                    days: 60,
                    storage_class: "GLACIER_IR".to_owned(),
                },
            ],
            expiration_days: 90,
        }
    }
}

/// `[[bucket.transitions]]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// Days after creation.
    pub days: i64,
    /// STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR (GLACIER and DEEP_ARCHIVE are
    /// refused: Athena cannot read them without a restore).
    pub storage_class: String,
}

/// How the catalog learns about partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogMode {
    /// A Glue crawler on a schedule infers the schema and the partitions.
    Crawler,
    /// A table with partition projection; no crawler.
    Projection,
}

/// What a scheduled crawl reads after the first one (Glue's `RecrawlPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recrawl {
    /// Only folders added since the last run (`CRAWL_NEW_FOLDERS_ONLY`): cheap, new partitions
    /// only; Glue then allows only `LOG` schema-change behaviours.
    NewFoldersOnly,
    /// The whole dataset again (`CRAWL_EVERYTHING`).
    Everything,
}

impl Recrawl {
    /// Glue's name for it.
    pub fn glue_name(self) -> &'static str {
        match self {
            Self::NewFoldersOnly => "CRAWL_NEW_FOLDERS_ONLY",
            Self::Everything => "CRAWL_EVERYTHING",
        }
    }
}

/// `[catalog]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogSection {
    /// Glue database.
    pub database: String,
    /// Table name (the crawler names its table after the folder; projection uses this).
    pub table: String,
    /// `crawler` or `projection`.
    pub mode: CatalogMode,
    /// The crawler's name.
    pub crawler_name: String,
    /// The crawler's schedule, `cron(...)`, at most every 5 minutes.
    pub crawler_schedule: String,
    /// What later crawls read: `new_folders_only` or `everything`.
    pub recrawl: Recrawl,
    /// What a crawl does when the schema changed: `LOG` or `UPDATE_IN_DATABASE`.
    pub schema_update: String,
    /// What a crawl does when objects are gone: `LOG`, `DELETE_FROM_DATABASE` or
    /// `DEPRECATE_IN_DATABASE`.
    pub schema_delete: String,
    /// First hour of the projected `datehour` range, `yyyy/MM/dd/HH`.
    pub projection_start: String,
}

impl Default for CatalogSection {
    fn default() -> Self {
        Self {
            database: "ccp_logs".to_owned(),
            table: "logs".to_owned(),
            mode: CatalogMode::Projection,
            crawler_name: "ccp-logs-crawler".to_owned(),
            crawler_schedule: "cron(0/5 * * * ? *)".to_owned(),
            recrawl: Recrawl::NewFoldersOnly,
            schema_update: "LOG".to_owned(),
            schema_delete: "LOG".to_owned(),
            projection_start: "2026/01/01/00".to_owned(),
        }
    }
}

/// `[athena]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AthenaSection {
    /// The workgroup.
    pub workgroup: String,
    /// Key prefix in the bucket for query results.
    pub results_prefix: String,
    /// Saved (named) queries.
    pub saved_queries: Vec<SavedQuery>,
}

impl Default for AthenaSection {
    fn default() -> Self {
        Self {
            workgroup: "ccp-logs".to_owned(),
            results_prefix: "athena-results/".to_owned(),
            saved_queries: default_saved_queries(),
        }
    }
}

/// `[[athena.saved_queries]]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedQuery {
    /// Name shown in the console.
    pub name: String,
    /// What it answers.
    #[serde(default)]
    pub description: String,
    /// The SQL; `{table}` is replaced by `<database>.<table>`.
    pub sql: String,
}

fn default_saved_queries() -> Vec<SavedQuery> {
    let query = |name: &str, description: &str, sql: &str| SavedQuery {
        name: name.to_owned(),
        description: description.to_owned(),
        sql: sql.to_owned(),
    };
    vec![
        query(
            "errors-per-instance-last-hour",
            "Syslog error-or-worse and Windows Critical/Error events per instance, last hour",
            "SELECT instance_id, count(*) AS errors FROM {table} \
             WHERE (severity <= 3 OR win_level IN (1, 2)) \
             AND event_timestamp_ms >= to_unixtime(current_timestamp - INTERVAL '1' HOUR) * 1000 \
             GROUP BY instance_id ORDER BY errors DESC",
        ),
        query(
            "failed-ssh-logins-by-source",
            "Failed SSH password attempts per source address",
            "SELECT regexp_extract(body, 'from ([0-9a-fA-F.:]+)', 1) AS source_address, \
             count(*) AS attempts FROM {table} \
             WHERE program = 'sshd' AND body LIKE 'Failed password%' \
             GROUP BY 1 ORDER BY attempts DESC",
        ),
        query(
            "failed-windows-logons-by-source",
            "Failed Windows logons (Security 4625) per source address",
            "SELECT json_extract_scalar(win_event_data, '$.IpAddress') AS source_address, \
             count(*) AS attempts FROM {table} \
             WHERE win_channel = 'Security' AND win_event_id = 4625 \
             GROUP BY 1 ORDER BY attempts DESC",
        ),
        query(
            "windows-security-events-by-id",
            "Windows Security channel events per EventID",
            "SELECT win_event_id, count(*) AS events FROM {table} \
             WHERE win_channel = 'Security' GROUP BY win_event_id ORDER BY events DESC",
        ),
        query(
            "log-volume-per-instance-and-source",
            "Rows and message bytes per instance and log source",
            "SELECT instance_id, source, count(*) AS rows, sum(length(message)) AS bytes \
             FROM {table} GROUP BY instance_id, source ORDER BY bytes DESC",
        ),
    ]
}

/// Why a definition could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// The file could not be read.
    #[error("cannot read the stack definition {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not TOML of the expected shape (unknown key, wrong type, ...).
    #[error("stack definition {path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The TOML error, with the key and the line.
        message: String,
    },
    /// The definition breaks rules; every broken rule is listed.
    #[error("stack definition {path} is invalid:\n{}", list_issues(.issues))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every broken rule.
        issues: Vec<Issue>,
    },
    /// An agent configuration the definition names could not be read or is invalid.
    #[error("stack definition {path}: agent configuration {config}: {message}")]
    AgentConfig {
        /// The definition.
        path: PathBuf,
        /// The agent-configuration file.
        config: PathBuf,
        /// What was wrong.
        message: String,
    },
}

fn list_issues(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(|issue| format!("  - {issue}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A definition that has been validated, with its agent configurations loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    /// The definition as written (defaults filled in).
    pub definition: StackDefinition,
    /// The Linux agent configuration stored in Parameter Store.
    pub linux_agent_config: AgentConfig,
    /// The Windows agent configuration stored in Parameter Store.
    pub windows_agent_config: AgentConfig,
}

impl StackDefinition {
    /// Reads TOML; unknown keys and wrong types are errors naming the key and line.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, StackError> {
        toml::from_str(text).map_err(|e| StackError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })
    }

    /// Every rule this definition breaks (empty when valid).
    pub fn issues(&self) -> Vec<Issue> {
        validate::validate(self)
    }
}

impl Stack {
    /// Reads, parses and validates the definition at `path`, and loads the agent
    /// configurations it names.
    pub fn load(path: &Path) -> Result<Self, StackError> {
        let text = std::fs::read_to_string(path).map_err(|source| StackError::Read {
            path: path.to_owned(),
            source,
        })?;
        let definition = StackDefinition::from_toml(&text, path)?;
        Self::from_definition(definition, path)
    }

    /// Validates a parsed definition; `path` locates relative agent-config files and names the
    /// definition in errors.
    pub fn from_definition(definition: StackDefinition, path: &Path) -> Result<Self, StackError> {
        let mut issues = definition.issues();
        let base = path.parent().unwrap_or(Path::new("."));
        let account = definition.account.name.as_str();
        let linux = load_agent_config(
            path,
            base,
            definition.onboarding.linux_agent_config.as_deref(),
            || agent_config::defaults::linux(account),
        )?;
        let windows = load_agent_config(
            path,
            base,
            definition.onboarding.windows_agent_config.as_deref(),
            || agent_config::defaults::windows(account),
        )?;
        issues.extend(validate::agent_configs_match(&definition, &linux, &windows));
        if !issues.is_empty() {
            return Err(StackError::Invalid {
                path: path.to_owned(),
                issues,
            });
        }
        Ok(Self {
            definition,
            linux_agent_config: linux,
            windows_agent_config: windows,
        })
    }

    /// The names of every resource, for one account and region.
    pub fn names(&self, placement: &Placement) -> Names {
        Names::new(&self.definition, placement)
    }
}

fn load_agent_config(
    definition_path: &Path,
    base: &Path,
    file: Option<&Path>,
    default: impl FnOnce() -> AgentConfig,
) -> Result<AgentConfig, StackError> {
    let Some(file) = file else {
        return Ok(default());
    };
    let full = base.join(file);
    let fail = |message: String| StackError::AgentConfig {
        path: definition_path.to_owned(),
        config: full.clone(),
        message,
    };
    let text = std::fs::read_to_string(&full).map_err(|e| fail(e.to_string()))?;
    AgentConfig::parse(&text).map_err(|e| fail(e.to_string()))
}
