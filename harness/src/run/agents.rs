//! The simulated CloudWatch agents of a run: the SSM agents start them through [`Starter`],
//! each with its host's facts and the ledger records it ships; and the records themselves,
//! written into the ledger when an instance launches.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use pipeline::agent_config::{AgentConfig, HostFacts};
use stack::Placement;
use tokio::task::JoinHandle;

use standins::clock::SimClock;
use standins::cloudwatch_agent::{AgentReport, CloudWatchAgent};
use standins::cloudwatch_logs::LogsApi;
use standins::faults::GatedLogs;
use standins::ssm::{AgentStartError, AgentStarter};

use crate::fleet::LaunchedInstance;
use crate::ledger::{Ledger, LedgerHost, NewRecord};
use crate::locked;
use crate::scenario::LoadedScenario;
use crate::workload::{self, CorpusError, Writer};

/// What the harness knows about an instance for its agent.
#[derive(Debug, Clone)]
pub(super) struct Host {
    pub(super) name: String,
    pub(super) facts: HostFacts,
    pub(super) records: Vec<usize>,
}

/// The hosts of the run, and the agents started on them.
#[derive(Debug, Default)]
struct Agents {
    hosts: HashMap<String, Host>,
    started: HashSet<String>,
    running: Vec<JoinHandle<AgentReport>>,
}

/// Starts simulated CloudWatch agents for the SSM agents, shipping through `L`, their host the
/// run's ledger.
#[derive(Debug)]
pub(super) struct Starter<L> {
    host: Arc<LedgerHost>,
    clock: SimClock,
    /// CloudWatch Logs behind the restart gate: refused while the emulator restarts.
    logs: Arc<GatedLogs<L>>,
    agents: Mutex<Agents>,
}

impl<L: LogsApi + 'static> Starter<L> {
    pub(super) fn new(
        ledger: Arc<Mutex<Ledger>>,
        restarts: Arc<standins::faults::RestartGate>,
        faults: Arc<standins::faults::FaultPlan>,
        clock: SimClock,
        logs: Arc<L>,
    ) -> Self {
        Self {
            logs: Arc::new(GatedLogs::new(logs, restarts.clone()).losing(faults)),
            host: Arc::new(LedgerHost::new(ledger, restarts)),
            clock,
            agents: Mutex::default(),
        }
    }

    /// Makes `instance_id` known, so that its agent can start.
    pub(super) fn add_host(&self, instance_id: &str, host: Host) {
        locked(&self.agents)
            .hosts
            .insert(instance_id.to_owned(), host);
    }

    /// Waits for every started agent to flush and stop; their reports.
    pub(super) async fn finish(&self) -> Vec<AgentReport> {
        let handles = std::mem::take(&mut locked(&self.agents).running);
        let mut reports = Vec::new();
        for handle in handles {
            if let Ok(report) = handle.await {
                reports.push(report);
            }
        }
        reports
    }
}

impl<L: LogsApi + 'static> AgentStarter for Starter<L> {
    fn start(&self, instance_id: &str, config: AgentConfig) -> Result<(), AgentStartError> {
        let mut agents = locked(&self.agents);
        if agents.started.contains(instance_id) {
            // fetch-config -s on a running agent restarts it with the same configuration.
            return Ok(());
        }
        let host = agents
            .hosts
            .get(instance_id)
            .ok_or_else(|| AgentStartError::UnknownInstance(instance_id.to_owned()))?;
        let facts = facts_at_load(&host.facts, self.clock.now_ms());
        let agent = CloudWatchAgent::start(
            &host.name,
            &config,
            &facts,
            self.host.as_ref(),
            &host.records,
        )
        .map_err(|e| AgentStartError::Config(e.to_string()))?;
        agents.started.insert(instance_id.to_owned());
        let handle = tokio::spawn(agent.run(self.clock, self.host.clone(), self.logs.clone()));
        agents.running.push(handle);
        Ok(())
    }
}

/// Writes every record of the instance's profile into the ledger; returns their indices.
pub(super) fn write_records(
    loaded: &LoadedScenario,
    instance: &LaunchedInstance,
    seed: u64,
    end_ms: i64,
    ledger: &Mutex<Ledger>,
) -> Result<Vec<usize>, CorpusError> {
    let host = instance.host();
    let computer = instance.computer();
    let writer = Writer {
        host: &host,
        computer: &computer,
    };
    let mut indices = Vec::new();
    let sources = loaded
        .scenario
        .profiles
        .get(&instance.plan.profile)
        .map_or(&[][..], Vec::as_slice);
    for source in sources {
        let corpus = loaded.corpus_path(source);
        let records = workload::records(
            source,
            corpus.as_deref(),
            &writer,
            workload::source_seed(seed, &instance.plan.name, &source.source),
            instance.launched_at_ms,
            end_ms,
        )?;
        let mut ledger = locked(ledger);
        indices.extend(records.iter().map(|r| {
            ledger.write(NewRecord {
                instance: &instance.plan.name,
                instance_id: &instance.instance_id,
                source: &source.source,
                timestamp_ms: r.timestamp_ms,
                lines: &r.lines,
                level: r.level,
                event_id: r.event_id,
            })
        }));
    }
    Ok(indices)
}

/// The facts the agent fills its placeholders with on `instance`, `{date}` as at launch
/// (the agent resolves it when it loads its configuration: [`facts_at_load`]).
pub(super) fn host_facts(instance: &LaunchedInstance, placement: &Placement) -> HostFacts {
    HostFacts {
        instance_id: instance.instance_id.clone(),
        hostname: format!("{}.ec2.internal", instance.host()),
        local_hostname: match instance.plan.os {
            crate::scenario::Os::Linux => instance.host(),
            crate::scenario::Os::Windows => instance.computer(),
        },
        ip_address: instance.private_ip.clone(),
        aws_region: placement.region.clone(),
        account_id: placement.account_id.clone(),
        date: local_date(instance.launched_at_ms, time::UtcOffset::UTC),
        environment: instance.plan.environment.clone(),
    }
}

/// `facts` as the agent sees them when it loads its configuration at `now_ms` (the
/// onboarding's fetch-config): `{date}` is the host's local date then (the agent's placeholder
/// util formats `time.Now()` as `2006-01-02`), in UTC, the time zone Amazon Linux and Windows
/// AMIs run in unless changed (the scenario has no per-instance zone).
fn facts_at_load(facts: &HostFacts, now_ms: i64) -> HostFacts {
    HostFacts {
        date: local_date(now_ms, time::UtcOffset::UTC),
        ..facts.clone()
    }
}

/// The `YYYY-MM-DD` date at `epoch_ms` in a host whose clock runs at `offset`.
fn local_date(epoch_ms: i64, offset: time::UtcOffset) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(epoch_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset);
    format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

#[cfg(test)]
mod tests {
    use super::{facts_at_load, local_date};

    #[test]
    fn the_date_placeholder_is_the_hosts_local_date() {
        // 2025-12-02T02:30:00Z
        let ms = 1_764_642_600_000;
        assert_eq!(local_date(ms, time::UtcOffset::UTC), "2025-12-02");
        let new_york = time::UtcOffset::from_hms(-5, 0, 0).unwrap();
        assert_eq!(local_date(ms, new_york), "2025-12-01");
    }

    /// An instance launched before midnight whose agent loads its configuration after it
    /// names its `{date}` streams with the later day (agent `translator/util`
    /// ResolvePlaceholder: `time.Now()` when the configuration is translated).
    #[test]
    fn the_date_placeholder_is_taken_when_the_agent_loads_its_configuration() {
        let launched = pipeline::agent_config::HostFacts {
            instance_id: "i-0abc".to_owned(),
            hostname: "ip-10-0-0-1.ec2.internal".to_owned(),
            local_hostname: "ip-10-0-0-1".to_owned(),
            ip_address: "10.0.0.1".to_owned(),
            aws_region: "us-east-1".to_owned(),
            account_id: "000000000000".to_owned(),
            date: "2025-12-01".to_owned(),
            environment: std::collections::BTreeMap::new(),
        };
        // 2025-12-02T00:04:00Z, four minutes after midnight.
        let loaded = facts_at_load(&launched, 1_764_633_840_000);
        assert_eq!(loaded.date, "2025-12-02");
        assert_eq!(loaded.instance_id, launched.instance_id);
    }
}
