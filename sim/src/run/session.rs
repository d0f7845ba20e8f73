//! The run session: one method per phase of `loglab run`, in the order [`super::run`] calls
//! them. The session owns what the phases share (clients, clock, ledger, the simulated SSM
//! service and the agents) and one cancellation signal, whose child tokens stop the background
//! parts (onboarding invoker, SSM agents, subscription) when their phase is over.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use lake::Location;
use pipeline::etl::{EtlConfig, EtlHandler, TransformOptions};
use pipeline::filter_pattern::FilterPattern;
use pipeline::firehose::RetryPolicy;
use pipeline::firehose::sdk::FirehoseSink;
use pipeline::onboard::sdk::{Ec2Directory, SsmPorts};
use pipeline::onboard::{Decision, OnboardConfig, OnboardingHandler, OnboardingOutcome, Waits};
use stack::provision::{self, Applied, Clients};
use stack::{Deployment, Names, Placement};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::agents::{Host, Starter, host_facts, write_records};
use super::functions::{self, Deployed, Etl, LambdaSetup, Onboarding};
use super::progress::Progress;
use super::{RunError, RunOptions, queries, report, reset, restart};
use crate::athena;
use crate::clock::SimClock;
use crate::cloudwatch_agent::agent::{AgentReport, wall_now_ms};
use crate::faults::{FaultPlan, RestartGate};
use crate::firehose_model::endpoint::{DeliveryStats, FirehoseModel, StreamConfig};
use crate::firehose_model::s3::S3Objects;
use crate::fleet::{self, Fleet, LaunchedInstance};
use crate::invoker::functions::{DeployedEtl, DeployedOnboarding, EtlFunction, Running};
use crate::invoker::onboarding::{self, OnboardingLog};
use crate::invoker::subscription::{SubscriptionInvoker, Sweep};
use crate::landed::{self, Landed};
use crate::ledger::{Ledger, Reconciliation};
use crate::locked;
use crate::logs::SdkLogs;
use crate::queue::SdkQueue;
use crate::scenario::LoadedScenario;
use crate::ssm_agent::{AgentStarter, CommandLog, HarnessCommands, SimulatedSsm, SsmAgent};

/// Longest real wait for the subscription to read every accepted event after the agents stop.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);
/// Shortest real wait for one command's result, whatever the speed.
pub const COMMAND_WAIT_FLOOR: Duration = Duration::from_secs(30);
/// Real time between two polls of the log group.
pub const SUBSCRIPTION_POLL: Duration = Duration::from_millis(750);
/// Real time between two looks at how many instances have an onboarding outcome.
pub const OUTCOME_POLL: Duration = Duration::from_millis(200);
/// Real slack on top of the handler's own waits before the run stops waiting for outcomes.
pub const OUTCOME_SLACK: Duration = Duration::from_secs(30);
/// How long the onboarding handler retries DescribeInstances for an instance EC2 does not know
/// yet (real time: EC2's eventual consistency does not follow the simulated clock).
pub const INSTANCE_LOOKUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Real time between two polls of the onboarding handler's waits.
pub const HANDLER_POLL: Duration = Duration::from_millis(100);

/// The parts of the emulator the run talks to, and the stack on it.
pub(super) struct RunSession<'a> {
    loaded: &'a LoadedScenario,
    config: &'a SdkConfig,
    options: &'a RunOptions,
    seed: u64,
    real_start: Instant,
    placement: Placement,
    names: Names,
    pattern: FilterPattern,
    clients: Clients,
    ec2: aws_sdk_ec2::Client,
    cancel: CancellationToken,
    applied: Vec<Applied>,
    functions: Vec<stack::FunctionSpec>,
    /// The scenario's fault rules; the run's clients already pass through its layer.
    faults: Arc<FaultPlan>,
    /// The stack as applied (applied again after an emulator restart).
    deployment: Deployment,
    /// Clients outside the fault layer: the stack is applied again after a restart as it was
    /// applied first, with no fault rule hitting it.
    unfaulted: Clients,
    /// The emulator's restarts (`[[faults.restart]]`), as the run's parts see them.
    restarts: Arc<RestartGate>,
}

/// The phases that run on the simulated clock, with what they share.
pub(super) struct Replay<'a> {
    session: RunSession<'a>,
    fleet: Fleet,
    clock: SimClock,
    ledger: Arc<Mutex<Ledger>>,
    simulated: SimulatedSsm,
    starter: Arc<Starter>,
    progress: Progress,
    launched: Vec<LaunchedInstance>,
    ssm_agents: Vec<JoinHandle<(String, Vec<CommandLog>)>>,
    ssm_stop: CancellationToken,
    /// The harness's Firehose, between the ETL and the bucket (LocalStack's writes one plain
    /// object per call with prefixes literal).
    firehose: Arc<FirehoseModel>,
    /// The ETL's Firehose client, on the model's endpoint.
    firehose_client: aws_sdk_firehose::Client,
    /// The task restarting the emulator at the scenario's times, if it restarts.
    restarter: Option<restart::Restarts>,
}

/// The background parts that deliver what the rule and the log group receive.
pub(super) struct Invokers {
    onboarding: JoinHandle<()>,
    onboarding_stop: CancellationToken,
    onboarding_log: Arc<Mutex<OnboardingLog>>,
    subscription: JoinHandle<SubscriptionInvoker<Etl>>,
    subscription_stop: CancellationToken,
    deployed: Option<Deployed>,
}

/// What the read-back phase found.
pub(super) struct ReadBack {
    /// The bucket, as the catalog reads it.
    location: Location,
    landed: Landed,
    ledger: Ledger,
    reconciliation: Reconciliation,
}

/// What the onboarding and shipping phases leave for the report.
pub(super) struct Shipped {
    pub(super) outcomes: BTreeMap<String, Vec<OnboardingOutcome>>,
    pub(super) rejected_events: Vec<String>,
    pub(super) command_logs: BTreeMap<String, Vec<CommandLog>>,
    pub(super) agents: Vec<AgentReport>,
}

impl<'a> RunSession<'a> {
    /// Phase 1, provision: the stack applied to the emulator (idempotent).
    pub(super) async fn provision(
        loaded: &'a LoadedScenario,
        config: &'a SdkConfig,
        unfaulted: &SdkConfig,
        options: &'a RunOptions,
        faults: Arc<FaultPlan>,
    ) -> Result<Self, RunError> {
        let real_start = Instant::now();
        let placement = Placement::localstack(&loaded.scenario.region);
        let deployment = Deployment::new(&loaded.stack, &placement);
        let pattern = FilterPattern::parse(&loaded.stack.definition.logs.filter_pattern)
            .map_err(|e| RunError::Pattern(e.to_string()))?;
        let clients = Clients::new(config, &deployment);
        let applied = provision::apply(&clients, &deployment).await?;
        let functions = deployment.functions()?;
        Ok(Self {
            loaded,
            config,
            options,
            seed: options.seed.unwrap_or(loaded.scenario.seed),
            real_start,
            names: deployment.names.clone(),
            placement,
            pattern,
            clients,
            ec2: aws_sdk_ec2::Client::new(config),
            cancel: CancellationToken::new(),
            applied,
            functions,
            faults,
            unfaulted: Clients::new(unfaulted, &deployment),
            deployment,
            restarts: Arc::new(RestartGate::new()),
        })
    }

    /// Phase 2, reset: what an earlier run left is cleared, the scenario's broken agent
    /// configurations are put, the fleet finds its images, and the simulated clock starts.
    /// Starts the harness's Firehose for the definition's stream, writing to the bucket on
    /// the emulator, and an SDK client on its endpoint for the ETL.
    async fn start_firehose(
        &self,
        clock: SimClock,
    ) -> Result<(Arc<FirehoseModel>, aws_sdk_firehose::Client), RunError> {
        let failed = |message: String| RunError::Call {
            operation: "starting the harness's Firehose for",
            target: self.names.delivery_stream.clone(),
            message,
        };
        let config = StreamConfig::from_definition(
            &self.loaded.stack.definition,
            &self.names.delivery_stream,
            &self.names.bucket,
        )
        .map_err(failed)?;
        let writer = Arc::new(S3Objects {
            client: self.clients.s3.clone(),
            restarts: Some(self.restarts.clone()),
        });
        let model = FirehoseModel::start_with_faults(
            config,
            writer,
            Arc::new(move || clock.now_ms()),
            self.seed,
            self.faults.clone(),
        )
        .await
        .map_err(|e| failed(e.to_string()))?;
        let sdk = pipeline::emulator::sdk_config(model.endpoint(), &self.placement.region).await;
        Ok((Arc::new(model), aws_sdk_firehose::Client::new(&sdk)))
    }

    /// Returns the rule's queue.
    pub(super) async fn reset(self) -> Result<(Replay<'a>, String), RunError> {
        let definition = &self.loaded.stack.definition;
        let queue_url = reset::everything(&self.clients, &self.names, definition).await?;
        reset::put_faults(&self.clients, &self.names, self.loaded).await?;
        let fleet = Fleet::connect(
            self.ec2.clone(),
            self.clients.events.clone(),
            &self.placement.account_id,
            &self.placement.region,
        )
        .await?;
        let scenario = &self.loaded.scenario;
        let clock = SimClock::new(wall_now_ms(), scenario.duration.as_millis(), scenario.speed);
        self.faults.start(clock);
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let starter = Starter::new(
            ledger.clone(),
            clock,
            Arc::new(SdkLogs::new(self.clients.logs.clone())),
        );
        let progress = Progress::new(self.options.progress, &clock, fleet::plan(scenario).len());
        let ssm_stop = self.cancel.child_token();
        let (firehose, firehose_client) = self.start_firehose(clock).await?;
        let restarter = self.options.restart.clone().map(|restarter| {
            restart::spawn(
                &scenario.faults.restart,
                restarter,
                self.restarts.clone(),
                clock,
                ledger.clone(),
                restart::Reprovision {
                    clients: self.unfaulted.clone(),
                    deployment: self.deployment.clone(),
                    loaded: self.loaded.clone(),
                },
            )
        });
        Ok((
            Replay {
                fleet,
                clock,
                ledger,
                simulated: SimulatedSsm::new(clock),
                starter: Arc::new(starter),
                progress,
                launched: Vec::new(),
                ssm_agents: Vec::new(),
                ssm_stop,
                firehose,
                firehose_client,
                restarter,
                session: self,
            },
            queue_url,
        ))
    }
}

impl<'a> Replay<'a> {
    /// Starts the functions (in-process, or the deployed artifacts) and the invokers: the
    /// onboarding function on the rule's queue, and the subscription tailing the log group into
    /// the ETL function, which delivers to Firehose.
    pub(super) async fn start_invokers(&self, queue_url: String) -> Result<Invokers, RunError> {
        let s = &self.session;
        let deployed = match &s.options.lambda {
            LambdaSetup::InProcess => None,
            LambdaSetup::Artifacts { workspace, dir } => Some(
                Deployed::start(
                    workspace,
                    dir,
                    &s.functions,
                    s.config.endpoint_url().unwrap_or_default(),
                    &s.placement.region,
                    self.simulated.clone(),
                    self.onboarding_waits(),
                    self.firehose.endpoint(),
                )
                .await?,
            ),
        };
        let (etl, onboarding): (Etl, Onboarding) = match &deployed {
            None => (
                Running::InProcess(self.etl_handler()),
                Running::InProcess(self.onboarding_handler()),
            ),
            Some(d) => (
                Running::Deployed(DeployedEtl(d.etl.clone())),
                Running::Deployed(DeployedOnboarding(d.onboarding.clone())),
            ),
        };
        let onboarding_log = Arc::new(Mutex::new(OnboardingLog::default()));
        let onboarding_stop = s.cancel.child_token();
        let onboarding = tokio::spawn(onboarding::run(
            SdkQueue::new(s.clients.sqs.clone(), queue_url),
            Arc::new(onboarding),
            [self.clock.real(60_000), self.clock.real(120_000)],
            onboarding_log.clone(),
            onboarding_stop.clone(),
        ));
        let mut invoker = SubscriptionInvoker::new(
            SdkLogs::new(s.clients.logs.clone()),
            &s.placement.account_id,
            &s.names.log_group,
            &s.names.subscription_filter,
            s.pattern.clone(),
            etl,
        )
        .with_redelivery(s.loaded.scenario.subscription.redeliver, s.seed);
        let subscription_stop = s.cancel.child_token();
        let stop = subscription_stop.clone();
        let firehose = self.firehose.clone();
        let restarts = s.restarts.clone();
        let subscription = tokio::spawn(async move {
            invoker.start(wall_now_ms()).await;
            tail(invoker, &firehose, &restarts, &stop).await
        });
        Ok(Invokers {
            onboarding,
            onboarding_stop,
            onboarding_log,
            subscription,
            subscription_stop,
            deployed,
        })
    }

    fn etl_handler(&self) -> EtlHandler<FirehoseSink> {
        let s = &self.session;
        EtlHandler::new(
            FirehoseSink::new(self.firehose_client.clone(), &s.names.delivery_stream),
            EtlConfig {
                delivery_stream: s.names.delivery_stream.clone(),
                transform: TransformOptions::default(),
                retry: RetryPolicy::default(),
            },
        )
    }

    /// The onboarding waits as the deployed function's environment: the same as the
    /// in-process handler's ([`Self::onboarding_handler`]).
    fn onboarding_waits(&self) -> BTreeMap<String, String> {
        let timing = &self.session.loaded.scenario.onboarding;
        functions::waits_environment(
            INSTANCE_LOOKUP_TIMEOUT,
            self.clock.real(timing.registration_timeout.as_millis()),
            self.command_timeout(),
            HANDLER_POLL,
        )
    }

    /// Phase 3, launch: each planned instance at its time on the clock: RunInstances, its
    /// records into the ledger, its SSM agent registered and polling, its `pending` and
    /// `running` events put.
    pub(super) async fn launch(&mut self) -> Result<(), RunError> {
        let s = &self.session;
        let scenario = &s.loaded.scenario;
        let (fleet, clock) = (&self.fleet, self.clock);
        for plan in &fleet::plan(scenario) {
            // The planned time, not the moment the call returned: the same seed writes the
            // same records whatever the emulator's latency.
            let launch_ms = clock.start_ms() + plan.launch_offset_ms;
            clock.sleep_until(launch_ms).await;
            // Not into an emulator that is restarting: the launch would fail the run.
            s.restarts.usable().await;
            let instance = fleet.launch(plan, launch_ms).await?;
            let records = write_records(s.loaded, &instance, s.seed, clock.end_ms(), &self.ledger)?;
            let host = Host {
                name: plan.name.clone(),
                facts: host_facts(&instance, &s.placement),
                records,
            };
            self.starter.add_host(&instance.instance_id, host);
            if plan.registers {
                let registered_at =
                    instance.launched_at_ms + scenario.onboarding.registration_delay.as_millis();
                self.simulated
                    .register(&instance.instance_id, plan.os, registered_at);
                let agent = SsmAgent::new(
                    &instance.instance_id,
                    plan.os,
                    s.clients.ssm.clone(),
                    self.simulated.clone(),
                );
                let starter: Arc<dyn AgentStarter> = self.starter.clone();
                self.ssm_agents
                    .push(tokio::spawn(agent.run(starter, self.ssm_stop.clone())));
            }
            fleet.announce(&instance.instance_id, "pending").await?;
            fleet.announce(&instance.instance_id, "running").await?;
            self.launched.push(instance);
            self.progress.launched(self.launched.len());
        }
        Ok(())
    }

    /// Phase 4, onboard: waits until every instance has an outcome (bounded by the handler's
    /// own waits), then stops the onboarding invoker.
    pub(super) async fn onboard(&self, invokers: &mut Invokers) {
        let timing = &self.session.loaded.scenario.onboarding;
        let clock = &self.clock;
        let deadline = Instant::now()
            + clock.real(self.session.loaded.scenario.duration.as_millis())
            + clock.real(timing.registration_timeout.as_millis())
            + 2 * self.command_timeout()
            + OUTCOME_SLACK;
        loop {
            let decided = {
                let log = locked(&invokers.onboarding_log);
                self.launched
                    .iter()
                    .filter(|i| log.outcomes.contains_key(&i.instance_id))
                    .count()
            };
            self.progress.onboarded(decided);
            if decided == self.launched.len() || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(OUTCOME_POLL).await;
        }
        invokers.onboarding_stop.cancel();
        let _ = (&mut invokers.onboarding).await;
    }

    /// Phase 5, ship: the agents ship until the simulated window is over, then flush; the SSM
    /// agents stop. Instances whose agent never started have their records accounted for.
    pub(super) async fn ship(&mut self, invokers: &Invokers) -> Shipped {
        self.clock.sleep_until(self.clock.end_ms()).await;
        self.progress.clock_done();
        let agents = self.starter.finish().await;
        self.ssm_stop.cancel();
        let mut command_logs = BTreeMap::new();
        for handle in std::mem::take(&mut self.ssm_agents) {
            if let Ok((instance_id, log)) = handle.await {
                command_logs.insert(instance_id, log);
            }
        }
        let (outcomes, rejected_events) = {
            let mut log = locked(&invokers.onboarding_log);
            (
                std::mem::take(&mut log.outcomes),
                std::mem::take(&mut log.rejected),
            )
        };
        account_for_silent_instances(&self.ledger, &self.launched, &outcomes);
        Shipped {
            outcomes,
            rejected_events,
            command_logs,
            agents,
        }
    }

    /// Phases 6 and 7, deliver and drain: the subscription stops tailing, then reads every
    /// stream until it has what the ledger says was accepted there.
    pub(super) async fn drain(
        &self,
        invokers: Invokers,
    ) -> Result<
        (
            SubscriptionInvoker<Etl>,
            report::LambdaReport,
            DeliveryStats,
        ),
        RunError,
    > {
        if let Some(restarter) = &self.restarter {
            // A restart still in progress ends before the drain counts what must be read.
            while !restarter.is_finished() {
                tokio::time::sleep(OUTCOME_POLL).await;
            }
        }
        let expected = locked(&self.ledger).sent_per_stream();
        invokers.subscription_stop.cancel();
        let mut subscription = invokers.subscription.await.map_err(|e| RunError::Call {
            operation: "subscription",
            target: self.session.names.log_group.clone(),
            message: e.to_string(),
        })?;
        self.progress.draining();
        drain(&mut subscription, &expected).await;
        let lambda = match &invokers.deployed {
            None => report::LambdaReport::in_process(),
            Some(deployed) => {
                deployed.stop().await;
                report::LambdaReport::artifacts(deployed.used.clone(), deployed.stats())
            }
        };
        let delivery = self.firehose.finish().await;
        Ok((subscription, lambda, delivery))
    }

    /// Phase 8, read back: the bucket read back (through the same object-store reader as the
    /// catalog) and reconciled with the ledger.
    pub(super) async fn read_back(&self) -> Result<ReadBack, RunError> {
        let s = &self.session;
        let definition = &s.loaded.stack.definition;
        let location = athena::bucket_location(
            &s.names.bucket,
            definition,
            &s.placement.region,
            s.config.endpoint_url(),
        )?;
        let errors = Location {
            root: athena::table_root(&definition.firehose.error_prefix),
            ..location.clone()
        };
        let mut ledger = std::mem::take(&mut *locked(&self.ledger));
        let (landed, reconciliation) =
            landed::read_and_reconcile(&location, &errors, &mut ledger, &s.pattern).await?;
        Ok(ReadBack {
            location,
            landed,
            ledger,
            reconciliation,
        })
    }

    /// Phase 9, query: the bucket read as Athena would, through the catalog, with SQL, each
    /// expected query checked against the same question asked of the ledger.
    pub(super) async fn query(&self, read_back: &ReadBack) -> queries::QueryStage {
        let s = &self.session;
        queries::stage(
            &read_back.location,
            &s.loaded.stack.definition,
            &read_back.ledger,
            &s.pattern,
            &s.loaded.scenario.expect.queries,
        )
        .await
    }

    /// Phase 10, report: every figure and check of the run.
    pub(super) fn report(
        self,
        shipped: Shipped,
        (subscription, lambda, delivery): (
            SubscriptionInvoker<Etl>,
            report::LambdaReport,
            DeliveryStats,
        ),
        read_back: ReadBack,
        query_stage: queries::QueryStage,
    ) -> super::Run {
        self.progress.finish();
        let s = &self.session;
        let ReadBack {
            landed,
            ledger,
            reconciliation,
            ..
        } = read_back;
        let report = report::build(report::Inputs {
            loaded: s.loaded,
            seed: s.seed,
            applied: &s.applied,
            launched: &self.launched,
            outcomes: &shipped.outcomes,
            rejected_events: shipped.rejected_events,
            command_logs: shipped.command_logs,
            agents: shipped.agents,
            subscription: subscription.report,
            lambda,
            delivery,
            faults: s.faults.record(),
            restarts: s.restarts.records(),
            landed: &landed,
            reconciliation,
            query_stage,
            real_seconds: s.real_start.elapsed().as_secs_f64(),
            memory_backend: false,
            ingested_bytes: ledger.sent_bytes(),
            prices: &s
                .options
                .prices
                .clone()
                .unwrap_or_else(crate::cost::Prices::shipped),
        });
        super::Run {
            report,
            ledger,
            pattern: s.pattern.clone(),
        }
    }

    /// A command's wait in real time: the scenario's, never below [`COMMAND_WAIT_FLOOR`] (the
    /// emulator's latency is real time, so a busy emulator cannot fail onboarding).
    fn command_timeout(&self) -> Duration {
        let timing = &self.session.loaded.scenario.onboarding;
        self.clock
            .real(timing.command_timeout.as_millis())
            .max(COMMAND_WAIT_FLOOR)
    }

    /// The onboarding handler as deployed, over EC2 and SSM on the emulator, with registration and
    /// command results from the simulated agents, and its waits in simulated time.
    fn onboarding_handler(
        &self,
    ) -> OnboardingHandler<Ec2Directory, SimulatedSsm, HarnessCommands, SsmPorts> {
        let s = &self.session;
        let timing = &s.loaded.scenario.onboarding;
        let onboarding = &s.loaded.stack.definition.onboarding;
        let config = OnboardConfig {
            linux_parameter: s.names.linux_parameter.clone(),
            windows_parameter: s.names.windows_parameter.clone(),
            waits: Waits {
                lookup_timeout: INSTANCE_LOOKUP_TIMEOUT,
                registration_timeout: self.clock.real(timing.registration_timeout.as_millis()),
                command_timeout: self.command_timeout(),
                poll_interval: HANDLER_POLL,
            },
            ..OnboardConfig::new(&onboarding.tag_key, &onboarding.tag_value)
        };
        let ssm = SsmPorts::new(s.clients.ssm.clone());
        OnboardingHandler::new(
            Ec2Directory::new(s.ec2.clone()),
            self.simulated.clone(),
            HarnessCommands::new(ssm.clone(), self.simulated.clone()),
            ssm,
            config,
        )
    }
}

/// Marks the records of instances whose agent never started as not collected, with why.
pub(super) fn account_for_silent_instances(
    ledger: &Mutex<Ledger>,
    launched: &[LaunchedInstance],
    outcomes: &BTreeMap<String, Vec<OnboardingOutcome>>,
) {
    let reasons: Vec<(&str, String)> = launched
        .iter()
        .map(|instance| {
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
            (instance.plan.name.as_str(), reason)
        })
        .collect();
    // One pass over the ledger for the whole fleet (one per instance was quadratic: a fifth
    // of a 500-instance memory run).
    let by_instance: HashMap<&str, &str> = reasons
        .iter()
        .map(|(name, reason)| (*name, reason.as_str()))
        .collect();
    locked(ledger).not_collected_by(&by_instance);
}

/// The subscription, tailing the log group into the ETL until `stop`; the Firehose model's
/// interval flushes as the simulated clock moves. After an emulator restart it forgets its read
/// positions (new streams: old forward tokens mean nothing).
pub(super) async fn tail<F: EtlFunction, L: crate::logs::LogsReader>(
    mut invoker: SubscriptionInvoker<F, L>,
    firehose: &FirehoseModel,
    restarts: &RestartGate,
    stop: &CancellationToken,
) -> SubscriptionInvoker<F, L> {
    let mut answered = restarts.answered();
    while !stop.is_cancelled() {
        if restarts.answered() != answered {
            answered = restarts.answered();
            invoker.forget_positions();
        }
        if let Err(error) = invoker.poll(Sweep::Changed).await {
            tracing::warn!(%error, "tailing the log group failed; trying again");
        }
        firehose.tick().await;
        tokio::select! {
            () = stop.cancelled() => {}
            () = tokio::time::sleep(SUBSCRIPTION_POLL) => {}
        }
    }
    invoker
}

/// Polls every stream until each has given at least what the ledger says was accepted there,
/// or [`DRAIN_TIMEOUT`] passes (the shortfall is then reported by the checks).
pub(super) async fn drain<F: EtlFunction, L: crate::logs::LogsReader>(
    subscription: &mut SubscriptionInvoker<F, L>,
    expected: &HashMap<String, usize>,
) {
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    loop {
        if let Err(error) = subscription.poll(Sweep::All).await {
            tracing::warn!(%error, "tailing the log group failed; trying again");
        }
        let caught_up = expected
            .iter()
            .all(|(stream, n)| subscription.read_since_restart(stream) >= *n);
        if caught_up || Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(SUBSCRIPTION_POLL).await;
    }
}
