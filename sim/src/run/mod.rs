//! `loglab run`: one scenario end to end on an emulator.
//!
//! 1. Provision the stack (idempotent) and clear what an earlier run left ([`reset`]).
//! 2. Start the simulated clock, the onboarding invoker (reading the rule's SQS target) and the
//!    subscription invoker (tailing the log group into the ETL handler and Firehose).
//! 3. Launch the fleet on the clock: RunInstances, the instance's records written into the
//!    ledger, its SSM agent registered and polling, its `pending` and `running` events put.
//! 4. The onboarding handler sends commands; the SSM agents carry them out and start the
//!    CloudWatch agents, which ship until the simulated window is over.
//! 5. Wait until every instance has an outcome, every agent has flushed and the subscription has
//!    read every accepted event; read the bucket back and reconcile it against the ledger.
//!
//! The result is a [`report::RunReport`]; its checks decide the exit status.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use pipeline::agent_config::{AgentConfig, HostFacts};
use pipeline::etl::{EtlConfig, EtlHandler, TransformOptions};
use pipeline::filter_pattern::FilterPattern;
use pipeline::firehose::sdk::FirehoseSink;
use pipeline::firehose::{RecordSink, RetryPolicy};
use pipeline::onboard::sdk::{Ec2Directory, SsmPorts};
use pipeline::onboard::{Decision, OnboardConfig, OnboardingHandler, OnboardingOutcome, Waits};
use pipeline::stack::{Names, Placement};
use tokio::task::JoinHandle;

use crate::clock::SimClock;
use crate::cloudwatch_agent::agent::{AgentReport, CloudWatchAgent, wall_now_ms};
use crate::cloudwatch_agent::logs_api::SdkLogs;
use crate::fleet::{self, Fleet, FleetError, LaunchedInstance};
use crate::invoker::onboarding::{self, OnboardingLog};
use crate::invoker::subscription::{SubscriptionInvoker, Sweep};
use crate::landed::{self, LandedError};
use crate::ledger::{Fate, Ledger, LedgerRecord};
use crate::locked;
use crate::scenario::LoadedScenario;
use crate::ssm_agent::{AgentStarter, CommandLog, HarnessCommands, SimulatedSsm, SsmAgent};
use crate::stack::Deployment;
use crate::stack::provision::{self, Clients, ProvisionError};
use crate::workload::{self, CorpusError, Writer};

pub mod junit;
mod progress;
pub mod queries;
pub mod report;
pub mod reset;
pub mod summary;

pub use report::RunReport;

/// A finished run: its report, and the ledger it was checked against.
#[derive(Debug)]
pub struct Run {
    /// Counts, instances, reconciliation, checks.
    pub report: RunReport,
    /// Every record and its fate.
    pub ledger: Ledger,
    /// The subscription's filter pattern.
    pub pattern: FilterPattern,
}

impl Run {
    /// Writes the ledger as NDJSON ([`Ledger::write_ndjson`]).
    pub fn write_ledger(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        self.ledger.write_ndjson(&self.pattern, out)
    }
}

/// Runtime choices of one run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Replaces the scenario's seed.
    pub seed: Option<u64>,
    /// Draw progress bars (on a terminal).
    pub progress: bool,
}

/// Longest real wait for the subscription to read every accepted event after the agents stop.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);
/// Shortest real wait for one command's result, whatever the speed.
pub const COMMAND_WAIT_FLOOR: Duration = Duration::from_secs(30);
/// Real time between two polls of the log group.
pub const SUBSCRIPTION_POLL: Duration = Duration::from_millis(750);

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Provisioning the stack failed.
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    /// Launching or announcing an instance failed.
    #[error(transparent)]
    Fleet(#[from] FleetError),
    /// A corpus file cannot be replayed.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// The bucket could not be read back.
    #[error(transparent)]
    Landed(#[from] LandedError),
    /// Another AWS call failed.
    #[error("{operation} {target}: {message}")]
    Call {
        /// The operation.
        operation: &'static str,
        /// What it was called on.
        target: String,
        /// What the service said.
        message: String,
    },
    /// The subscription's filter pattern does not parse.
    #[error("filter pattern: {0}")]
    Pattern(String),
}

impl RunError {
    pub(crate) fn call<E: std::error::Error + 'static, R: std::fmt::Debug>(
        operation: &'static str,
        target: &str,
        error: &aws_sdk_s3::error::SdkError<E, R>,
    ) -> Self {
        Self::Call {
            operation,
            target: target.to_owned(),
            message: aws_sdk_s3::error::DisplayErrorContext(error).to_string(),
        }
    }
}

/// What the harness knows about an instance for its agents.
#[derive(Debug, Clone)]
struct Host {
    name: String,
    facts: HostFacts,
    records: Vec<usize>,
}

/// Starts simulated CloudWatch agents for the SSM agents.
#[derive(Debug)]
struct Starter {
    ledger: Arc<Mutex<Ledger>>,
    clock: SimClock,
    logs: Arc<SdkLogs>,
    hosts: Mutex<HashMap<String, Host>>,
    agents: Mutex<Vec<JoinHandle<AgentReport>>>,
    started: Mutex<HashSet<String>>,
}

impl AgentStarter for Starter {
    fn start(&self, instance_id: &str, config: AgentConfig) -> Result<(), String> {
        if locked(&self.started).contains(instance_id) {
            // fetch-config -s on a running agent restarts it with the same configuration.
            return Ok(());
        }
        let host = locked(&self.hosts)
            .get(instance_id)
            .cloned()
            .ok_or_else(|| format!("{instance_id} is not an instance of this run"))?;
        let agent = CloudWatchAgent::start(
            &host.name,
            &config,
            &host.facts,
            &self.ledger,
            &host.records,
        )
        .map_err(|e| e.to_string())?;
        locked(&self.started).insert(instance_id.to_owned());
        let handle = tokio::spawn(agent.run(self.clock, self.ledger.clone(), self.logs.clone()));
        locked(&self.agents).push(handle);
        Ok(())
    }
}

/// Runs a loaded scenario against the emulator `config` points at.
pub async fn run(
    loaded: &LoadedScenario,
    config: &SdkConfig,
    options: &RunOptions,
) -> Result<Run, RunError> {
    let real_start = Instant::now();
    let scenario = &loaded.scenario;
    let seed = options.seed.unwrap_or(scenario.seed);
    let placement = Placement::localstack(&scenario.region);
    let deployment = Deployment::new(&loaded.stack, &placement);
    let names = deployment.names.clone();
    let definition = &loaded.stack.definition;
    let pattern = FilterPattern::parse(&definition.logs.filter_pattern)
        .map_err(|e| RunError::Pattern(e.to_string()))?;
    let clients = Clients::new(config, &deployment);
    let applied = provision::apply(&clients, &deployment).await?;

    let queue_url = reset::everything(&clients, &names, definition).await?;
    put_faults(&clients, &names, loaded).await?;

    let ec2 = aws_sdk_ec2::Client::new(config);
    let fleet = Fleet::connect(
        ec2.clone(),
        clients.events.clone(),
        &placement.account_id,
        &placement.region,
    )
    .await?;
    let clock = SimClock::new(wall_now_ms(), scenario.duration.as_millis(), scenario.speed);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let simulated = SimulatedSsm::new(clock);
    let starter = Arc::new(Starter {
        ledger: ledger.clone(),
        clock,
        logs: Arc::new(SdkLogs::new(clients.logs.clone())),
        hosts: Mutex::default(),
        agents: Mutex::default(),
        started: Mutex::default(),
    });

    let timing = &scenario.onboarding;
    let handler = Arc::new(onboarding_handler(
        ec2, &clients, &simulated, &names, loaded, &clock,
    ));
    let onboarding_log = Arc::new(Mutex::new(OnboardingLog::default()));
    let stop_onboarding = Arc::new(AtomicBool::new(false));
    let onboarding_task = tokio::spawn(onboarding::run(
        clients.sqs.clone(),
        queue_url,
        handler,
        onboarding_log.clone(),
        stop_onboarding.clone(),
    ));

    // The subscription: the deployed ETL code, delivering to Firehose on the emulator.
    let etl = EtlHandler::new(
        FirehoseSink::new(clients.firehose.clone(), &names.delivery_stream),
        EtlConfig {
            delivery_stream: names.delivery_stream.clone(),
            transform: TransformOptions::default(),
            retry: RetryPolicy::default(),
        },
    );
    let mut subscription = SubscriptionInvoker::new(
        clients.logs.clone(),
        &placement.account_id,
        &names.log_group,
        &names.subscription_filter,
        pattern.clone(),
        etl,
    )
    .with_redelivery(scenario.subscription.redeliver, seed);
    let stop_subscription = Arc::new(AtomicBool::new(false));
    let subscription_task = {
        let stop = stop_subscription.clone();
        tokio::spawn(async move {
            subscription.start(wall_now_ms()).await;
            while !stop.load(Ordering::Relaxed) {
                if let Err(error) = subscription.poll(Sweep::Changed).await {
                    tracing::warn!(%error, "tailing the log group failed; trying again");
                }
                tokio::time::sleep(SUBSCRIPTION_POLL).await;
            }
            subscription
        })
    };

    let planned = fleet::plan(scenario);
    let progress = progress::Progress::new(options.progress, &clock, planned.len());
    let stop_ssm = Arc::new(AtomicBool::new(false));
    let mut ssm_agents: Vec<JoinHandle<Vec<CommandLog>>> = Vec::new();
    let mut launched: Vec<LaunchedInstance> = Vec::new();
    for plan in &planned {
        clock
            .sleep_until(clock.start_ms() + plan.launch_offset_ms)
            .await;
        // The planned time, not the moment the call returned: the same seed writes the same
        // records whatever the emulator's latency.
        let instance = fleet
            .launch(plan, clock.start_ms() + plan.launch_offset_ms)
            .await?;
        let records = write_records(loaded, &instance, seed, clock.end_ms(), &ledger)?;
        locked(&starter.hosts).insert(
            instance.instance_id.clone(),
            Host {
                name: plan.name.clone(),
                facts: host_facts(&instance, &placement),
                records,
            },
        );
        if plan.registers {
            simulated.register(
                &instance.instance_id,
                plan.os,
                instance.launched_at_ms + timing.registration_delay.as_millis(),
            );
            let agent = SsmAgent::new(
                &instance.instance_id,
                plan.os,
                clients.ssm.clone(),
                simulated.clone(),
            );
            let starter: Arc<dyn AgentStarter> = starter.clone();
            ssm_agents.push(tokio::spawn(agent.run(starter, stop_ssm.clone())));
        }
        fleet.announce(&instance.instance_id, "pending").await?;
        fleet.announce(&instance.instance_id, "running").await?;
        launched.push(instance);
        progress.launched(launched.len());
    }

    // Every instance's onboarding ends (bounded by the handler's own waits).
    let outcome_deadline = Instant::now()
        + clock.real(scenario.duration.as_millis())
        + clock.real(timing.registration_timeout.as_millis())
        + 2 * clock
            .real(timing.command_timeout.as_millis())
            .max(COMMAND_WAIT_FLOOR)
        + Duration::from_secs(30);
    loop {
        let decided = {
            let log = locked(&onboarding_log);
            launched
                .iter()
                .filter(|i| log.outcomes.contains_key(&i.instance_id))
                .count()
        };
        progress.onboarded(decided);
        if decided == launched.len() || Instant::now() >= outcome_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop_onboarding.store(true, Ordering::Relaxed);
    let _ = onboarding_task.await;

    // The agents ship until the window is over, then flush.
    clock.sleep_until(clock.end_ms()).await;
    progress.clock_done();
    let handles: Vec<_> = std::mem::take(&mut *locked(&starter.agents));
    let mut agent_reports = Vec::new();
    for handle in handles {
        if let Ok(report) = handle.await {
            agent_reports.push(report);
        }
    }
    stop_ssm.store(true, Ordering::Relaxed);
    let mut command_logs = Vec::new();
    for handle in ssm_agents {
        command_logs.push(handle.await.unwrap_or_default());
    }
    let (outcomes, rejected_events) = {
        let mut log = locked(&onboarding_log);
        (
            std::mem::take(&mut log.outcomes),
            std::mem::take(&mut log.rejected),
        )
    };
    account_for_silent_instances(&ledger, &launched, &outcomes);

    // The subscription reads everything accepted, then stops.
    let expected = locked(&ledger).sent_per_stream();
    stop_subscription.store(true, Ordering::Relaxed);
    let mut subscription = subscription_task.await.map_err(|e| RunError::Call {
        operation: "subscription",
        target: names.log_group.clone(),
        message: e.to_string(),
    })?;
    progress.draining();
    drain(&mut subscription, &expected).await;
    let landed = landed::read(
        &clients.s3,
        &names.bucket,
        &definition.firehose.prefix,
        &definition.firehose.error_prefix,
    )
    .await?;
    let ledger = std::mem::take(&mut *locked(&ledger));
    let reconciliation = ledger.reconcile(&pattern, &landed.events);
    // The query stage reads the bucket as Athena would: through the catalog, with SQL.
    let query_stage = match crate::athena::bucket_location(
        &names.bucket,
        definition,
        &placement.region,
        config.endpoint_url(),
    ) {
        Ok(location) => {
            queries::stage(
                &location,
                definition,
                &ledger,
                &pattern,
                &scenario.expect.queries,
            )
            .await
        }
        Err(e) => queries::QueryStage {
            error: Some(e.to_string()),
            ..queries::QueryStage::default()
        },
    };
    progress.finish();
    let report = report::build(report::Inputs {
        loaded,
        seed,
        applied: &applied,
        launched: &launched,
        outcomes: &outcomes,
        rejected_events,
        command_logs,
        agents: agent_reports,
        subscription: subscription.report,
        landed: &landed,
        reconciliation,
        query_stage,
        real_seconds: real_start.elapsed().as_secs_f64(),
    });
    Ok(Run {
        report,
        ledger,
        pattern,
    })
}

/// Overwrites the agent configurations the scenario breaks on purpose (the next run's
/// provisioning puts the stack's own back).
async fn put_faults(
    clients: &Clients,
    names: &Names,
    loaded: &LoadedScenario,
) -> Result<(), RunError> {
    let faults = &loaded.scenario.faults;
    for (parameter, file) in [
        (&names.linux_parameter, &faults.linux_parameter),
        (&names.windows_parameter, &faults.windows_parameter),
    ] {
        let Some(file) = file else { continue };
        let path = loaded.base.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| RunError::Call {
            operation: "read",
            target: path.display().to_string(),
            message: e.to_string(),
        })?;
        clients
            .ssm
            .put_parameter()
            .name(parameter)
            .value(text)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| RunError::call("PutParameter", parameter, &e))?;
    }
    Ok(())
}

/// The onboarding handler as deployed, over EC2 and SSM on the emulator, with registration and
/// command results from the simulated agents, and its waits in simulated time.
fn onboarding_handler(
    ec2: aws_sdk_ec2::Client,
    clients: &Clients,
    simulated: &SimulatedSsm,
    names: &Names,
    loaded: &LoadedScenario,
    clock: &SimClock,
) -> OnboardingHandler<Ec2Directory, SimulatedSsm, HarnessCommands, SsmPorts> {
    let timing = &loaded.scenario.onboarding;
    let onboarding = &loaded.stack.definition.onboarding;
    let config = OnboardConfig {
        linux_parameter: names.linux_parameter.clone(),
        windows_parameter: names.windows_parameter.clone(),
        waits: Waits {
            lookup_timeout: Duration::from_secs(30),
            registration_timeout: clock.real(timing.registration_timeout.as_millis()),
            // The emulator's latency is real time, not simulated time: a command's wait never
            // drops below COMMAND_WAIT_FLOOR, so a busy emulator cannot fail onboarding.
            command_timeout: clock
                .real(timing.command_timeout.as_millis())
                .max(COMMAND_WAIT_FLOOR),
            poll_interval: Duration::from_millis(100),
        },
        ..OnboardConfig::new(&onboarding.tag_key, &onboarding.tag_value)
    };
    OnboardingHandler::new(
        Ec2Directory::new(ec2),
        simulated.clone(),
        HarnessCommands::new(SsmPorts::new(clients.ssm.clone()), simulated.clone()),
        SsmPorts::new(clients.ssm.clone()),
        config,
    )
}

/// Marks the records of instances whose agent never started as not collected, with why.
fn account_for_silent_instances(
    ledger: &Mutex<Ledger>,
    launched: &[LaunchedInstance],
    outcomes: &BTreeMap<String, Vec<OnboardingOutcome>>,
) {
    let mut ledger = locked(ledger);
    for instance in launched {
        let reason = match outcomes.get(&instance.instance_id).and_then(|o| o.last()) {
            Some(outcome) if outcome.decision == Decision::Onboarded => {
                "the CloudWatch agent did not start".to_owned()
            }
            Some(outcome) => format!(
                "instance not onboarded ({})",
                report::decision_name(outcome.decision)
            ),
            None => "no onboarding outcome".to_owned(),
        };
        ledger.not_collected(&instance.plan.name, &reason);
    }
}

/// Polls every stream until each has given at least what the ledger says was accepted there,
/// or [`DRAIN_TIMEOUT`] passes (the shortfall is then reported by the checks).
async fn drain<S: RecordSink>(
    subscription: &mut SubscriptionInvoker<S>,
    expected: &HashMap<String, usize>,
) {
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    loop {
        if let Err(error) = subscription.poll(Sweep::All).await {
            tracing::warn!(%error, "tailing the log group failed; trying again");
        }
        let caught_up = expected
            .iter()
            .all(|(stream, n)| subscription.report.read.get(stream).copied().unwrap_or(0) >= *n);
        if caught_up || Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(SUBSCRIPTION_POLL).await;
    }
}

/// Writes every record of the instance's profile into the ledger; returns their indices.
fn write_records(
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
        let count = records.len();
        let first = locked(ledger).add(records.into_iter().map(|r| LedgerRecord {
            instance: instance.plan.name.clone(),
            instance_id: instance.instance_id.clone(),
            source: source.source.clone(),
            timestamp_ms: r.timestamp_ms,
            lines: r.lines,
            level: r.level,
            event_id: r.event_id,
            fate: Fate::Written,
        }));
        indices.extend(first..first + count);
    }
    Ok(indices)
}

fn host_facts(instance: &LaunchedInstance, placement: &Placement) -> HostFacts {
    let date = time::OffsetDateTime::now_utc().date();
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
        date: format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        ),
    }
}
