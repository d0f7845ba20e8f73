//! The scenario file's sections as typed values (`serde`, unknown keys refused), with their
//! defaults.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pipeline::agent_config::EventLevel;
use serde::{Deserialize, Serialize};
use stack::StackDefinition;
use stack::template::saved_query_sql;

use super::{Os, SimDuration};

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
    /// After the delivery: the bug of `[[faults.poison]]` fixed and the ETL's dead letters sent
    /// back to it from its dead-letter queue, as an operator would (each recovered event must
    /// then land).
    #[serde(default)]
    pub redrive: bool,
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
    /// inside the Firehose model, on the simulated clock ([`standins::faults`]).
    #[serde(default)]
    pub inject: Vec<standins::faults::FaultRule>,
    /// `[[faults.restart]]`: the emulator stopped and started again mid-run, the stack applied
    /// again ([`standins::faults::restart`]).
    #[serde(default)]
    pub restart: Vec<standins::faults::RestartRule>,
    /// `[[faults.outage]]`: a service's endpoint down for a window of simulated time (every
    /// call refused, or answered with its 5xx error); nothing may be lost.
    #[serde(default)]
    pub outage: Vec<standins::faults::OutageRule>,
    /// `[[faults.lose]]`: data lost silently on purpose at a stage, to prove the checks catch
    /// it (the run must fail, naming the stage).
    #[serde(default)]
    pub lose: Vec<standins::faults::LossRule>,
    /// `[[faults.poison]]`: a bug in the ETL that fails every payload of a source delivered in
    /// a window, on every attempt, until the fix (`redrive = true`).
    #[serde(default)]
    pub poison: Vec<standins::faults::poison::PoisonRule>,
}

impl Faults {
    /// Every fault rule of the scenario: each `[[faults.outage]]` as the rule it is, first (a
    /// refused connection comes before any answer, so an outage wins over the other rules in
    /// its window), then `[[faults.inject]]`.
    pub fn rules(&self) -> Vec<standins::faults::FaultRule> {
        self.outage
            .iter()
            .map(standins::faults::OutageRule::as_fault_rule)
            .chain(self.inject.iter().cloned())
            .collect()
    }
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
    /// Environment variables the instances' CloudWatch agent sees: what a `${NAME}` in its
    /// configuration expands to (unset: empty, as the agent expands it).
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
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
    /// Events Lambda sends to the functions' dead-letter queues after every attempt failed
    /// (a poison payload); 0 when absent: a dead letter fails the run unless declared.
    pub dead_lettered: Option<usize>,
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
