//! Scenario files: what one replay run simulates. A scenario names the stack definition it runs
//! against, the fleet (groups of instances with their OS, tags, launch times and whether they
//! ever register with SSM), the log profile of each group (one generator per source with its
//! rate, bursts and multi-line events, or a real corpus file replayed), the simulated duration
//! and how fast the simulated clock runs, the subscription filter, and the expected per-stage
//! counts. The format is documented in `docs/scenarios.md`; every mistake is reported with its
//! key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pipeline::agent_config::EventLevel;
use pipeline::cloudwatch_logs::PUT_LOG_EVENTS_MAX_AGE_MS;
use serde::{Deserialize, Serialize};
use stack::template::saved_query_sql;
use stack::{Issue, Stack, StackDefinition, StackError};

mod duration;

pub use duration::SimDuration;

#[cfg(test)]
mod tests;

/// Fastest simulated clock: simulated seconds per real second.
pub const MAX_SPEED: u32 = 3_600;
/// Highest rate of one source, lines per simulated minute.
pub const MAX_PER_MINUTE: f64 = 60_000.0;
/// Most instances one scenario may launch.
pub const MAX_INSTANCES: usize = 500;

/// One scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, used in reports.
    pub name: String,
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// The stack definition, relative to the scenario file.
    #[serde(default = "default_stack")]
    pub stack: PathBuf,
    /// Region the stack is provisioned in.
    #[serde(default = "default_region")]
    pub region: String,
    /// Seed of every random choice (overridden by `--seed`).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated time the fleet runs for.
    pub duration: SimDuration,
    /// Simulated seconds per real second.
    #[serde(default = "default_speed")]
    pub speed: u32,
    /// The subscription filter (replaces the stack's pattern when given).
    #[serde(default)]
    pub subscription: SubscriptionSection,
    /// Simulated waits of the onboarding handler.
    #[serde(default)]
    pub onboarding: OnboardingTimes,
    /// Groups of instances.
    pub fleet: Vec<FleetGroup>,
    /// Log profiles by name: the sources an instance writes.
    pub profiles: BTreeMap<String, Vec<SourceProfile>>,
    /// Faults put in after provisioning.
    #[serde(default)]
    pub faults: Faults,
    /// Expected per-stage counts.
    #[serde(default)]
    pub expect: Expectations,
}

/// `[faults]`: what goes wrong on purpose, after the stack is provisioned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// A file whose text replaces the Linux agent configuration in Parameter Store, unvalidated
    /// (someone pushed a broken configuration), relative to the scenario file.
    pub linux_parameter: Option<PathBuf>,
    /// The same for the Windows agent configuration.
    pub windows_parameter: Option<PathBuf>,
    /// `[[faults.inject]]`: failures injected between the run's clients and the emulator, and
    /// inside the Firehose model, on the simulated clock ([`crate::faults`]).
    #[serde(default)]
    pub inject: Vec<crate::faults::FaultRule>,
    /// `[[faults.restart]]`: the emulator stopped and started again mid-run, the stack applied
    /// again ([`crate::faults::restart`]).
    #[serde(default)]
    pub restart: Vec<crate::faults::RestartRule>,
}

fn default_stack() -> PathBuf {
    PathBuf::from("../pipeline.toml")
}
fn default_region() -> String {
    "us-east-1".to_owned()
}
fn default_seed() -> u64 {
    1
}
fn default_speed() -> u32 {
    60
}

/// `[subscription]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSection {
    /// A CloudWatch Logs filter pattern; the stack's `logs.filter_pattern` when absent.
    pub filter_pattern: Option<String>,
    /// Share of DATA_MESSAGE payloads delivered twice (0 to 1), as CloudWatch Logs'
    /// at-least-once delivery may: the duplicates must be counted, not lost or doubled.
    #[serde(default)]
    pub redeliver: f64,
}

/// `[onboarding]`: the handler's waits, in simulated time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnboardingTimes {
    /// How long the handler waits for SSM registration.
    #[serde(default = "default_registration_timeout")]
    pub registration_timeout: SimDuration,
    /// How long the handler waits for one command's result.
    #[serde(default = "default_command_timeout")]
    pub command_timeout: SimDuration,
    /// How long after launch a registering instance's SSM agent comes online.
    #[serde(default = "default_registration_delay")]
    pub registration_delay: SimDuration,
}

fn default_registration_timeout() -> SimDuration {
    SimDuration(std::time::Duration::from_secs(240))
}
fn default_command_timeout() -> SimDuration {
    SimDuration(std::time::Duration::from_secs(240))
}
fn default_registration_delay() -> SimDuration {
    SimDuration(std::time::Duration::from_secs(20))
}

impl Default for OnboardingTimes {
    fn default() -> Self {
        Self {
            registration_timeout: default_registration_timeout(),
            command_timeout: default_command_timeout(),
            registration_delay: default_registration_delay(),
        }
    }
}

/// The operating system of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    /// Linux (a Linux AMI; `AWS-RunShellScript`).
    Linux,
    /// Windows (a Windows AMI; `AWS-RunPowerShellScript`).
    Windows,
}

/// `[[fleet]]`: identical instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetGroup {
    /// Group name; instances are named `<name>-<n>`.
    pub name: String,
    /// How many instances.
    #[serde(default = "default_count")]
    pub count: usize,
    /// Their operating system.
    pub os: Os,
    /// Their EC2 tags (none: untagged).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Simulated time of the first launch.
    #[serde(default)]
    pub launch_at: SimDuration,
    /// Simulated time between launches within the group.
    #[serde(default)]
    pub launch_every: SimDuration,
    /// Whether the instances' SSM agent ever registers.
    #[serde(default = "default_true")]
    pub registers: bool,
    /// The log profile the instances write.
    pub profile: String,
}

fn default_count() -> usize {
    1
}
fn default_true() -> bool {
    true
}

/// What produces a source's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GeneratorKind {
    /// `/var/log/messages` syslog lines.
    Messages,
    /// `/var/log/secure` syslog lines (sshd, sudo, PAM).
    Secure,
    /// Windows System events as Event XML.
    WindowsSystem,
    /// Windows Application events as Event XML.
    WindowsApplication,
    /// Windows Security events as Event XML.
    WindowsSecurity,
    /// The lines of a real log file, replayed in order with their timestamps moved to the
    /// simulated clock.
    Corpus,
}

impl GeneratorKind {
    /// Whether the generator writes Windows events (as opposed to file lines).
    pub fn is_windows_events(self) -> bool {
        matches!(
            self,
            Self::WindowsSystem | Self::WindowsApplication | Self::WindowsSecurity
        )
    }

    /// The Windows levels the generator writes (empty for file generators).
    pub fn windows_levels(self) -> &'static [EventLevel] {
        match self {
            Self::WindowsSystem => &[EventLevel::Critical, EventLevel::Information],
            Self::WindowsApplication => &[
                EventLevel::Error,
                EventLevel::Warning,
                EventLevel::Information,
            ],
            Self::WindowsSecurity => &[EventLevel::Information],
            Self::Messages | Self::Secure | Self::Corpus => &[],
        }
    }
}

/// A burst: extra lines written at one simulated moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Burst {
    /// Simulated time after the instance's launch.
    pub at: SimDuration,
    /// Lines in the burst.
    pub lines: usize,
}

/// One source of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceProfile {
    /// The file path or Windows event log name, as the agent config's `file_path` or
    /// `event_name` names it. A source the config does not collect is generated and
    /// accounted for as not collected.
    pub source: String,
    /// What writes the lines.
    pub generator: GeneratorKind,
    /// Lines per simulated minute.
    pub per_minute: f64,
    /// Bursts on top of the rate.
    #[serde(default)]
    pub bursts: Vec<Burst>,
    /// Share of file events (0 to 1) that carry continuation lines.
    #[serde(default)]
    pub multi_line: f64,
    /// Windows generators: only these levels are written (all the generator knows when
    /// absent).
    #[serde(default)]
    pub levels: Option<Vec<EventLevel>>,
    /// The corpus file (generator `corpus`), relative to the scenario file.
    #[serde(default)]
    pub corpus: Option<PathBuf>,
}

/// `[expect]`: per-stage counts the run must reach. Absent counts are not checked; landing
/// every shipped event that the filter passes exactly once is always checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// Instances launched.
    pub launched: Option<usize>,
    /// Instances onboarded.
    pub onboarded: Option<usize>,
    /// Instances the handler skipped (wrong or missing tag, not managed by SSM).
    pub skipped: Option<usize>,
    /// Instances whose onboarding failed.
    pub failed: Option<usize>,
    /// Fewest events that must land in S3.
    pub min_events_landed: Option<usize>,
    /// Fewest events the subscription filter must drop.
    pub min_events_filtered: Option<usize>,
    /// Queries over the delivered table whose rows must equal those of a query over the
    /// ledger (`[[expect.queries]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<ExpectedQuery>,
}

/// `[[expect.queries]]`: a query over the delivered table (`sql`, or the stack's saved query
/// `saved`) and the query over the run's ledger (`expected`) that computes its rows. Rows are
/// compared as a multiset unless the first query orders them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedQuery {
    /// What the query checks (names it in the report).
    pub name: String,
    /// SQL over the delivered table; `{table}` is `<database>.<table>`.
    #[serde(default)]
    pub sql: Option<String>,
    /// The name of one of the stack's saved queries, run unchanged.
    #[serde(default)]
    pub saved: Option<String>,
    /// SQL over the ledger (table `ledger`, docs/scenarios.md) giving the expected rows.
    pub expected: String,
}

impl ExpectedQuery {
    /// The SQL over the delivered table, `{table}` filled in; `None` when `saved` names no
    /// saved query of `definition`.
    pub fn delivered_sql(&self, definition: &StackDefinition) -> Option<String> {
        match (&self.sql, &self.saved) {
            (Some(sql), _) => Some(saved_query_sql(definition, sql)),
            (None, Some(name)) => definition
                .athena
                .saved_queries
                .iter()
                .find(|q| &q.name == name)
                .map(|q| saved_query_sql(definition, &q.sql)),
            (None, None) => None,
        }
    }
}

/// A scenario file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key or a wrong type.
    #[error("scenario {path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and key.
        message: String,
    },
    /// Values that break the rules.
    #[error("scenario {path} is invalid:\n{}", .issues.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Each broken rule, with its key, value, rule and what would be valid.
        issues: Vec<Issue>,
    },
    /// The stack definition it names is invalid.
    #[error("scenario {path}: its stack definition")]
    Stack {
        /// The scenario file.
        path: PathBuf,
        /// The definition's error.
        source: StackError,
    },
}

/// A scenario with its stack definition loaded and the subscription filter applied.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    /// The scenario as written.
    pub scenario: Scenario,
    /// The stack it runs against.
    pub stack: Stack,
    /// The directory relative paths start from.
    pub base: PathBuf,
    /// The scenario file.
    pub path: PathBuf,
}

impl LoadedScenario {
    /// The corpus file of `source`, resolved against the scenario's directory.
    pub fn corpus_path(&self, source: &SourceProfile) -> Option<PathBuf> {
        source.corpus.as_ref().map(|p| self.base.join(p))
    }
}

impl Scenario {
    /// Parses a scenario from TOML text; `path` names it in errors. A scenario with
    /// `extends = "<file>"` is that file (in the same directory) with each top-level key the
    /// extending text sets replaced (a whole `[expect]` or `[[fleet]]` list, not merged).
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ScenarioError> {
        let syntax = |path: &Path, e: &dyn std::fmt::Display| ScenarioError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        };
        let mut table: toml::Table = toml::from_str(text).map_err(|e| syntax(path, &e))?;
        let Some(extends) = table.remove("extends") else {
            // Parsed from the text, so that errors carry its lines.
            return toml::from_str(text).map_err(|e| syntax(path, &e));
        };
        let Some(name) = extends.as_str().filter(|n| !n.contains(['/', '\\'])) else {
            return Err(syntax(
                path,
                &format!(
                    "extends = {extends}: this harness's rule: the name of a scenario file in \
                     the same directory (its relative paths then mean the same)"
                ),
            ));
        };
        let base_path = path.parent().unwrap_or(Path::new(".")).join(name);
        let base_text =
            std::fs::read_to_string(&base_path).map_err(|source| ScenarioError::Read {
                path: base_path.clone(),
                source,
            })?;
        let mut base: toml::Table =
            toml::from_str(&base_text).map_err(|e| syntax(&base_path, &e))?;
        if base.contains_key("extends") {
            return Err(syntax(
                path,
                &format!("extends {name}, which extends another: one level only"),
            ));
        }
        base.extend(table);
        table = base;
        toml::Value::Table(table)
            .try_into()
            .map_err(|e| syntax(path, &format!("{e} (in the scenario as it extends {name})")))
    }

    /// Every rule the scenario breaks on its own (before its stack is known), each with its key,
    /// the value as written, the rule and what would be valid; `base` locates corpus files.
    pub fn issues(&self, base: &Path) -> Vec<Issue> {
        let mut issues = Issues::default();
        self.run_issues(&mut issues);
        let total = self.fleet_issues(&mut issues);
        self.profile_issues(&mut issues, base);
        self.fault_issues(&mut issues, base);
        self.expect_issues(&mut issues, total);
        issues.0
    }

    fn run_issues(&self, issues: &mut Issues) {
        if self.name.trim().is_empty() {
            issues.add(
                "name",
                "\"\"",
                "must not be empty",
                "a short name for reports",
            );
        }
        let duration = format!("\"{}\"", self.duration);
        if self.duration.0.is_zero() {
            issues.add(
                "duration",
                &duration,
                "must be longer than 0",
                "for example \"5m\"",
            );
        }
        if self.duration.as_millis() >= PUT_LOG_EVENTS_MAX_AGE_MS {
            issues.add(
                "duration",
                &duration,
                "must be shorter than 14 days: PutLogEvents rejects older events",
                "less than 14d",
            );
        }
        if !(1..=MAX_SPEED).contains(&self.speed) {
            issues.add(
                "speed",
                self.speed,
                "simulated seconds per real second",
                format!("1 to {MAX_SPEED}"),
            );
        }
        if !(0.0..=1.0).contains(&self.subscription.redeliver) {
            issues.add(
                "subscription.redeliver",
                self.subscription.redeliver,
                "a share of payloads",
                "0 to 1",
            );
        }
    }

    /// The fleet's rules; returns its instance count.
    fn fleet_issues(&self, issues: &mut Issues) -> usize {
        if self.fleet.is_empty() {
            issues.add(
                "fleet",
                "[]",
                "needs at least one [[fleet]] group",
                "one or more groups",
            );
        }
        let total: usize = self.fleet.iter().map(|g| g.count).sum();
        if total > MAX_INSTANCES {
            issues.add(
                "fleet",
                format!("{total} instances"),
                "too many instances",
                format!("at most {MAX_INSTANCES}"),
            );
        }
        let mut names = BTreeSet::new();
        for (i, group) in self.fleet.iter().enumerate() {
            let key = |field: &str| format!("fleet[{i}].{field}");
            let name = format!("\"{}\"", group.name);
            if group.name.is_empty()
                || !group
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                issues.add(
                    key("name"),
                    &name,
                    "names instances",
                    "letters, digits and `-` only",
                );
            }
            if !names.insert(group.name.as_str()) {
                issues.add(key("name"), &name, "is used twice", "a name per group");
            }
            if group.count == 0 {
                issues.add(key("count"), 0, "must be at least 1", "1 or more");
            }
            if group.launch_at >= self.duration {
                issues.add(
                    key("launch_at"),
                    format!("\"{}\"", group.launch_at),
                    format!("is not before the end of the run ({})", self.duration),
                    format!("less than {}", self.duration),
                );
            }
            let steps = i64::try_from(group.count.saturating_sub(1)).unwrap_or(i64::MAX);
            let last_launch_ms = group
                .launch_at
                .as_millis()
                .saturating_add(group.launch_every.as_millis().saturating_mul(steps));
            if group.launch_at < self.duration && last_launch_ms >= self.duration.as_millis() {
                issues.add(
                    key("launch_every"),
                    format!("\"{}\"", group.launch_every),
                    format!(
                        "the group's last instance would launch at {} ms, not before the end of the run ({}): it would never register or ship",
                        last_launch_ms, self.duration
                    ),
                    "a shorter launch_every, fewer instances, or a longer duration",
                );
            }
            for tag in group.tags.keys().filter(|t| !is_valid_tag_key(t)) {
                issues.add(
                    key("tags"),
                    format!("\"{tag}\""),
                    "not an EC2 tag key",
                    format!("1 to {MAX_TAG_KEY_LEN} characters, not starting with `aws:`"),
                );
            }
            self.group_profile_issues(issues, &key("profile"), group);
        }
        total
    }

    fn group_profile_issues(&self, issues: &mut Issues, key: &str, group: &FleetGroup) {
        let value = format!("\"{}\"", group.profile);
        let Some(sources) = self.profiles.get(&group.profile) else {
            issues.add(
                key,
                &value,
                "is not a profile",
                format!(
                    "one of: {}",
                    self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
            return;
        };
        for source in sources {
            if source.generator.is_windows_events() && group.os == Os::Linux {
                issues.add(
                    key,
                    &value,
                    format!(
                        "writes Windows events ({}), but the group is Linux",
                        source.source
                    ),
                    "a profile of files for a Linux group",
                );
            }
        }
    }

    fn profile_issues(&self, issues: &mut Issues, base: &Path) {
        for (name, sources) in &self.profiles {
            for (i, source) in sources.iter().enumerate() {
                let key = |field: &str| format!("profiles.{name}[{i}].{field}");
                if !(source.per_minute > 0.0 && source.per_minute <= MAX_PER_MINUTE) {
                    issues.add(
                        key("per_minute"),
                        source.per_minute,
                        "lines per simulated minute",
                        format!("above 0, at most {MAX_PER_MINUTE}"),
                    );
                }
                if !(0.0..=1.0).contains(&source.multi_line) {
                    issues.add(key("multi_line"), source.multi_line, "a share", "0 to 1");
                }
                if source.multi_line > 0.0 && source.generator.is_windows_events() {
                    issues.add(
                        key("multi_line"),
                        source.multi_line,
                        "Windows events are whole XML documents; multi-line applies to files",
                        "0 for a Windows generator",
                    );
                }
                if let Some(levels) = &source.levels {
                    level_issues(
                        issues,
                        &key("levels"),
                        levels,
                        source.generator.windows_levels(),
                    );
                }
                for (b, burst) in source.bursts.iter().enumerate() {
                    if burst.at >= self.duration {
                        issues.add(
                            format!("profiles.{name}[{i}].bursts[{b}].at"),
                            format!("\"{}\"", burst.at),
                            "is not before the end of the run",
                            format!("less than {}", self.duration),
                        );
                    }
                }
                corpus_issues(issues, &key("corpus"), source, base);
            }
        }
    }

    fn fault_issues(&self, issues: &mut Issues, base: &Path) {
        for (key, file) in [
            ("faults.linux_parameter", &self.faults.linux_parameter),
            ("faults.windows_parameter", &self.faults.windows_parameter),
        ] {
            if let Some(file) = file.as_ref().filter(|f| !base.join(f).is_file()) {
                issues.add(
                    key,
                    format!("{:?}", file.display().to_string()),
                    format!("{} is not a file", base.join(file).display()),
                    "an agent configuration file, relative to the scenario",
                );
            }
        }
        for (i, rule) in self.faults.inject.iter().enumerate() {
            for (field, value, rule, valid) in rule.issues(self.duration) {
                issues.add(format!("faults.inject[{i}].{field}"), value, rule, valid);
            }
        }
        for (i, restart) in self.faults.restart.iter().enumerate() {
            for (field, value, rule, valid) in restart.issues(self.duration) {
                issues.add(format!("faults.restart[{i}].{field}"), value, rule, valid);
            }
        }
    }

    fn expect_issues(&self, issues: &mut Issues, total: usize) {
        let expect = &self.expect;
        for (field, value) in [
            ("launched", expect.launched),
            ("onboarded", expect.onboarded),
            ("skipped", expect.skipped),
            ("failed", expect.failed),
        ] {
            if let Some(value) = value.filter(|v| *v > total) {
                issues.add(
                    format!("expect.{field}"),
                    value,
                    format!("more than the {total} instances of the fleet"),
                    format!("0 to {total}"),
                );
            }
        }
        let mut names = BTreeSet::new();
        for (i, query) in expect.queries.iter().enumerate() {
            let key = |field: &str| format!("expect.queries[{i}].{field}");
            let name = format!("\"{}\"", query.name);
            if query.name.trim().is_empty() {
                issues.add(
                    key("name"),
                    &name,
                    "must not be empty",
                    "a name for the check",
                );
            } else if !names.insert(query.name.as_str()) {
                issues.add(key("name"), &name, "is used twice", "a name per query");
            }
            let either = "sql (over {table}) or saved (a saved query of the stack)";
            match (&query.sql, &query.saved) {
                (Some(_), Some(_)) => {
                    issues.add(
                        key("sql"),
                        "(and saved)",
                        "give either sql or saved, not both",
                        either,
                    );
                }
                (None, None) => issues.add(key("sql"), "(missing)", "give sql or saved", either),
                (Some(sql), None) if sql.trim().is_empty() => {
                    issues.add(key("sql"), "\"\"", "must not be empty", either);
                }
                _ => {}
            }
            if query.expected.trim().is_empty() {
                issues.add(
                    key("expected"),
                    "\"\"",
                    "must not be empty",
                    "SQL over the ledger",
                );
            }
        }
    }

    /// Reads and validates a scenario and its stack definition.
    pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        let scenario = Self::from_toml(&text, path)?;
        let base = path.parent().unwrap_or(Path::new(".")).to_owned();
        let mut issues = scenario.issues(&base);
        let stack_path = base.join(&scenario.stack);
        let stack_text =
            std::fs::read_to_string(&stack_path).map_err(|source| ScenarioError::Read {
                path: stack_path.clone(),
                source,
            })?;
        let mut definition =
            StackDefinition::from_toml(&stack_text, &stack_path).map_err(|source| {
                ScenarioError::Stack {
                    path: path.to_owned(),
                    source,
                }
            })?;
        if let Some(pattern) = &scenario.subscription.filter_pattern {
            definition.logs.filter_pattern.clone_from(pattern);
        }
        let retention_ms = definition.logs.retention_days * 86_400_000;
        if scenario.duration.as_millis() >= retention_ms {
            issues.push(Issue {
                key: "duration".to_owned(),
                value: format!("\"{}\"", scenario.duration),
                rule: format!(
                    "must be shorter than the log group's retention ({} days), which CloudWatch Logs also applies to PutLogEvents",
                    definition.logs.retention_days
                ),
                valid: format!("less than {}d", definition.logs.retention_days),
            });
        }
        for (i, query) in scenario.expect.queries.iter().enumerate() {
            if let Some(name) = &query.saved
                && query.delivered_sql(&definition).is_none()
            {
                let known: Vec<&str> = definition
                    .athena
                    .saved_queries
                    .iter()
                    .map(|q| q.name.as_str())
                    .collect();
                issues.push(Issue {
                    key: format!("expect.queries[{i}].saved"),
                    value: format!("\"{name}\""),
                    rule: format!("is not a saved query of {}", stack_path.display()),
                    valid: format!("one of: {}", known.join(", ")),
                });
            }
        }
        let stack = Stack::from_definition(definition, &stack_path).map_err(|source| {
            ScenarioError::Stack {
                path: path.to_owned(),
                source,
            }
        })?;
        if !issues.is_empty() {
            return Err(ScenarioError::Invalid {
                path: path.to_owned(),
                issues,
            });
        }
        Ok(LoadedScenario {
            scenario,
            stack,
            base,
            path: path.to_owned(),
        })
    }
}

/// Longest EC2 tag key.
pub const MAX_TAG_KEY_LEN: usize = 128;

/// Whether EC2 takes `key` as a tag key: 1 to 128 characters, not in the reserved `aws:`
/// namespace.
fn is_valid_tag_key(key: &str) -> bool {
    !key.is_empty() && key.chars().count() <= MAX_TAG_KEY_LEN && !key.starts_with("aws:")
}

/// The issues of one scenario file, as they are found.
#[derive(Debug, Default)]
struct Issues(Vec<Issue>);

impl Issues {
    fn add(
        &mut self,
        key: impl Into<String>,
        value: impl std::fmt::Display,
        rule: impl Into<String>,
        valid: impl Into<String>,
    ) {
        self.0.push(Issue {
            key: key.into(),
            value: value.to_string(),
            rule: rule.into(),
            valid: valid.into(),
        });
    }
}

/// `levels` of a source: Windows generators only, a subset of what the generator writes.
fn level_issues(issues: &mut Issues, key: &str, levels: &[EventLevel], known: &[EventLevel]) {
    let names = |list: &[EventLevel]| list.iter().map(|l| l.name()).collect::<Vec<_>>().join(", ");
    let value = format!("[{}]", names(levels));
    if known.is_empty() {
        issues.add(
            key,
            value,
            "only Windows generators write levels",
            "no levels for files",
        );
    } else if levels.is_empty() || levels.iter().any(|l| !known.contains(l)) {
        issues.add(
            key,
            &value,
            format!("this generator writes {}", names(known)),
            "one or more of them",
        );
    }
}

/// `corpus` of a source: exactly the `corpus` generator reads one, and it must exist.
fn corpus_issues(issues: &mut Issues, key: &str, source: &SourceProfile, base: &Path) {
    let value = |file: &Path| format!("{:?}", file.display().to_string());
    match (source.generator, &source.corpus) {
        (GeneratorKind::Corpus, None) => issues.add(
            key,
            "(missing)",
            "generator `corpus` needs a corpus file",
            "a log file, relative to the scenario",
        ),
        (GeneratorKind::Corpus, Some(file)) if !base.join(file).is_file() => issues.add(
            key,
            value(file),
            format!("{} is not a file", base.join(file).display()),
            "a log file, relative to the scenario",
        ),
        (kind, Some(file)) if kind != GeneratorKind::Corpus => issues.add(
            key,
            value(file),
            "only generator `corpus` reads a corpus file",
            "no corpus for this generator",
        ),
        _ => {}
    }
}
