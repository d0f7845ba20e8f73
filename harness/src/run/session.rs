//! The run session: one method per phase of `loglab run`, in the order [`super::run`] calls
//! them, over any [`World`]. The session owns what the phases share (the clock, the ledger, the
//! simulated SSM service and the agents, the Firehose model, the handlers' configuration) and
//! one cancellation signal, whose child tokens stop the background parts (onboarding invoker,
//! SSM agents, subscription) when their phase is over.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use lake::Location;
use pipeline::etl::{EtlConfig, EtlHandler, TransformOptions};
use pipeline::filter_pattern::FilterPattern;
use pipeline::firehose::RetryPolicy;
use pipeline::onboard::{Decision, OnboardConfig, OnboardingHandler, OnboardingOutcome, Waits};
use stack::provision::Applied;
use stack::{Deployment, Names, Placement};
use standins::clock::{SimClock, wall_now_ms};
use standins::cloudwatch_agent::AgentReport;
use standins::faults::poison::Poisoned;
use standins::faults::{FaultPlan, RestartGate};
use standins::firehose::{DeliveryStats, DeliveryStream, FirehoseEndpoint, StreamConfig};
use standins::lambda::async_invoke::{self, OnboardingLog};
use standins::lambda::functions::{DeployedEtl, DeployedOnboarding, EtlFunction, Running};
use standins::lambda::retries::AsyncRetryPolicy;
use standins::ssm::recorded::Recorded;
use standins::ssm::{AgentStarter, CommandLog, HarnessCommands, SimulatedSsm, SsmAgent};
use standins::subscription::{SubscriptionInvoker, Sweep};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::agents::{Host, Starter, host_facts, write_records};
use super::functions::{Deployed, LambdaSetup};
use super::progress::Progress;
use super::world::World;
use super::{RunError, RunOptions, queries, report, restart};
use crate::catalog;
use crate::fleet::{self, LaunchedInstance};
use crate::landed::{self, Landed};
use crate::ledger::{Ledger, Reconciliation};
use crate::locked;
use crate::scenario::LoadedScenario;

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
/// The onboarding handler of a run in world `W`, in-process.
pub(super) type InProcessOnboarding<W> = OnboardingHandler<
    <W as World>::Instances,
    Recorded<SimulatedSsm>,
    Recorded<HarnessCommands<<W as World>::Commands>>,
    <W as World>::Parameters,
>;
/// The ETL function of a run in world `W`, however it runs, with the scenario's bug
/// (`[[faults.poison]]`, none by default).
pub(super) type Etl<W> = Poisoned<Running<EtlHandler<<W as World>::Sink>, DeployedEtl>>;
/// The onboarding function of a run in world `W`, however it runs.
pub(super) type Onboarding<W> = Running<InProcessOnboarding<W>, DeployedOnboarding>;

/// The run before its clock starts: the world, the stack on it, and what the phases share.
pub(super) struct RunSession<'a, W: World> {
    pub(super) loaded: &'a LoadedScenario,
    pub(super) options: &'a RunOptions,
    pub(super) world: Arc<W>,
    pub(super) seed: u64,
    real_start: std::time::Instant,
    pub(super) placement: Placement,
    pub(super) names: Names,
    pub(super) pattern: FilterPattern,
    cancel: CancellationToken,
    pub(super) applied: Vec<Applied>,
    /// The applied stack read back, where the world can.
    pub(super) audit: Option<report::AuditReport>,
    functions: Vec<stack::FunctionSpec>,
    /// The stack's own Run Command documents, `(name, content)` as rendered: what the
    /// simulated SSM agents run.
    documents: Vec<(String, serde_json::Value)>,
    /// The scenario's fault rules the world meets.
    pub(super) faults: Arc<FaultPlan>,
    /// The emulator's restarts (`[[faults.restart]]`), as the run's parts see them.
    pub(super) restarts: Arc<RestartGate>,
}

/// The phases that run on the simulated clock, with what they share.
pub(super) struct Replay<'a, W: World> {
    pub(super) session: RunSession<'a, W>,
    pub(super) clock: SimClock,
    pub(super) ledger: Arc<Mutex<Ledger>>,
    simulated: SimulatedSsm,
    starter: Arc<Starter<W::Logs>>,
    progress: Progress,
    pub(super) launched: Vec<LaunchedInstance>,
    ssm_agents: Vec<JoinHandle<(String, Vec<CommandLog>)>>,
    ssm_stop: CancellationToken,
    /// The harness's Firehose, between the ETL and the bucket.
    firehose: Arc<DeliveryStream<W::Writer>>,
    /// The ETL's way into it (its endpoint lives as long as this).
    firehose_sink: Option<W::Sink>,
    firehose_endpoint: Option<FirehoseEndpoint>,
    /// The task restarting the emulator at the scenario's times, if it restarts.
    restarter: Option<restart::Restarts>,
    /// Where the restarts ask the subscription to read the log group to its end.
    drains: Option<restart::DrainRequests>,
}

/// The background parts that deliver what the rule and the log group receive.
pub(super) struct Invokers<W: World> {
    onboarding: JoinHandle<()>,
    onboarding_stop: CancellationToken,
    onboarding_log: Arc<Mutex<OnboardingLog>>,
    subscription: JoinHandle<SubscriptionInvoker<Etl<W>, Arc<W::Logs>>>,
    subscription_stop: CancellationToken,
    deployed: Option<Deployed>,
}

/// What the read-back phase found.
pub(super) struct ReadBack {
    /// The bucket, as the catalog reads it.
    location: Location,
    pub(super) landed: Landed,
    pub(super) ledger: Ledger,
    pub(super) reconciliation: Reconciliation,
}

/// What the onboarding and shipping phases leave for the report.
#[derive(Debug)]
pub(super) struct Shipped {
    pub(super) outcomes: BTreeMap<String, Vec<OnboardingOutcome>>,
    pub(super) rejected_events: Vec<String>,
    pub(super) retries: usize,
    /// Onboarding events Lambda gave up on, sent to the function's dead-letter queue.
    pub(super) dead_letters: Vec<standins::lambda::retries::DeadLetter>,
    /// What sending them met (nothing when each was sent).
    pub(super) dead_letter_errors: Vec<String>,
    pub(super) command_logs: BTreeMap<String, Vec<CommandLog>>,
    pub(super) agents: Vec<AgentReport>,
}

/// What the subscription, the functions and the Firehose model did, after the drain.
#[derive(Debug)]
pub(super) struct Delivered {
    pub(super) subscription: standins::subscription::SubscriptionReport,
    /// What the ETL's dead letters met on their way to its dead-letter queue (nothing when
    /// each was sent).
    pub(super) dead_letter_errors: Vec<String>,
    /// What the redrive recovered (`redrive = true`).
    pub(super) redrive: Option<super::redrive::RedriveReport>,
    /// Payloads that met the bug of `[[faults.poison]]` (each must be dead-lettered).
    pub(super) poisoned: usize,
    pub(super) lambda: report::LambdaReport,
    pub(super) delivery: DeliveryStats,
}

impl<'a, W: World> RunSession<'a, W> {
    /// Phase 1, provision: the stack applied to the world (idempotent).
    pub(super) async fn provision(
        loaded: &'a LoadedScenario,
        world: Arc<W>,
        options: &'a RunOptions,
        faults: Arc<FaultPlan>,
    ) -> Result<Self, RunError> {
        let real_start = std::time::Instant::now();
        let placement = Placement::localstack(&loaded.scenario.region);
        let deployment = Deployment::new(&loaded.stack, &placement);
        let pattern = FilterPattern::parse(&loaded.stack.definition.logs.filter_pattern)
            .map_err(|e| RunError::Pattern(e.to_string()))?;
        let applied = world.provision().await?;
        let audit = world
            .audit()
            .await?
            .map(|findings| report::AuditReport::from_findings(&findings));
        let functions = deployment.functions()?;
        let documents = run_command_documents(&deployment)?;
        Ok(Self {
            loaded,
            options,
            world,
            seed: options.seed.unwrap_or(loaded.scenario.seed),
            real_start,
            names: deployment.names,
            placement,
            pattern,
            cancel: CancellationToken::new(),
            applied,
            audit,
            functions,
            documents,
            faults,
            restarts: Arc::new(RestartGate::new()),
        })
    }

    /// Phase 2, reset: what an earlier run left is cleared, the scenario's broken agent
    /// configurations are put, the simulated clock starts, and the harness's Firehose with it.
    pub(super) async fn reset(self) -> Result<Replay<'a, W>, RunError> {
        self.world.reset().await?;
        put_broken_parameters(self.world.as_ref(), self.loaded, &self.names).await?;
        let scenario = &self.loaded.scenario;
        let clock = SimClock::new(wall_now_ms(), scenario.duration.as_millis(), scenario.speed);
        self.faults.start(clock);
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let starter = Starter::new(
            ledger.clone(),
            self.restarts.clone(),
            self.faults.clone(),
            clock,
            self.world.logs(),
        );
        let progress = Progress::new(self.options.progress, &clock, fleet::plan(scenario).len());
        let ssm_stop = self.cancel.child_token();
        let firehose = self.start_firehose(clock)?;
        let intake = self
            .world
            .firehose_intake(firehose.clone(), &self.names.delivery_stream)
            .await?;
        let (drain_asks, drains) = restart::drain_channel();
        let restarter = self.world.restarter().map(|restarter| {
            restart::spawn(
                drain_asks,
                &scenario.faults.restart,
                restarter,
                restart::Reprovision {
                    world: self.world.clone(),
                    loaded: self.loaded.clone(),
                    names: self.names.clone(),
                },
                self.restarts.clone(),
                clock,
                ledger.clone(),
            )
        });
        let simulated = SimulatedSsm::new(clock);
        for (name, content) in &self.documents {
            simulated.add_document(name, content.clone());
        }
        Ok(Replay {
            clock,
            ledger,
            simulated,
            starter: Arc::new(starter),
            progress,
            launched: Vec::new(),
            ssm_agents: Vec::new(),
            ssm_stop,
            firehose,
            firehose_sink: Some(intake.sink),
            firehose_endpoint: intake.endpoint,
            restarter,
            drains: Some(drains),
            session: self,
        })
    }

    /// The harness's Firehose for the definition's stream, writing into the world's bucket.
    fn start_firehose(&self, clock: SimClock) -> Result<Arc<DeliveryStream<W::Writer>>, RunError> {
        let mut config = StreamConfig::from_definition(
            &self.loaded.stack.definition,
            &self.names.delivery_stream,
            &self.names.bucket,
        )
        .map_err(|e| RunError::Call {
            operation: "configuring the harness's Firehose for",
            target: self.names.delivery_stream.clone(),
            message: e.to_string(),
        })?;
        config.gzip_level = self.world.firehose_gzip_level();
        Ok(Arc::new(
            DeliveryStream::new(
                config,
                self.world.object_writer(self.restarts.clone()),
                Arc::new(move || clock.now_ms()),
                self.seed,
                self.faults.clone(),
            )
            .at_speed(clock.speed()),
        ))
    }
}

/// The stack's Run Command documents as the template renders them: `(name, content)`.
fn run_command_documents(
    deployment: &Deployment,
) -> Result<Vec<(String, serde_json::Value)>, RunError> {
    let resources = deployment.resources().map_err(|e| RunError::Call {
        operation: "resolving the template for",
        target: "the SSM documents".to_owned(),
        message: e.to_string(),
    })?;
    Ok(resources
        .into_iter()
        .filter(|r| r.kind == "AWS::SSM::Document")
        .map(|r| {
            let name = r.properties["Name"].as_str().unwrap_or_default().to_owned();
            (name, r.properties["Content"].clone())
        })
        .collect())
}

/// The agent configurations the scenario breaks on purpose, put over the stack's (a run with
/// none puts nothing; the next run's provisioning puts the stack's own back).
pub(super) async fn put_broken_parameters<W: World>(
    world: &W,
    loaded: &LoadedScenario,
    names: &Names,
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
        world.put_parameter(parameter, &text).await?;
    }
    Ok(())
}

impl<'a, W: World> Replay<'a, W> {
    /// Starts the functions (in-process, or the deployed artifacts) and the invokers: the
    /// onboarding function on the rule's queue, and the subscription tailing the log group into
    /// the ETL function, which delivers to Firehose.
    pub(super) async fn start_invokers(&mut self) -> Result<Invokers<W>, RunError> {
        let s = &self.session;
        let deployed = match &s.options.lambda {
            LambdaSetup::InProcess => None,
            LambdaSetup::Artifacts { workspace, dir } => {
                let (Some(emulator), Some(firehose)) = (
                    s.world.endpoint(),
                    self.firehose_endpoint.as_ref().map(FirehoseEndpoint::url),
                ) else {
                    return Err(RunError::ArtifactsNeedEmulator {
                        world: s.world.describe(),
                    });
                };
                Some(
                    Deployed::start(
                        workspace,
                        dir,
                        &s.functions,
                        &emulator,
                        &s.placement.region,
                        self.simulated.clone(),
                        self.onboarding_waits(),
                        firehose,
                    )
                    .await?,
                )
            }
        };
        let sink = self.firehose_sink.take().ok_or_else(|| RunError::Call {
            operation: "starting",
            target: "the ETL function".to_owned(),
            message: "its Firehose sink was already taken".to_owned(),
        })?;
        let (etl, onboarding): (_, Onboarding<W>) = match &deployed {
            None => (
                Running::InProcess(self.etl_handler(sink)),
                Running::InProcess(self.onboarding_handler()),
            ),
            Some(d) => (
                Running::Deployed(DeployedEtl(d.etl.clone())),
                Running::Deployed(DeployedOnboarding(d.onboarding.clone())),
            ),
        };
        let poison = self.session.loaded.scenario.faults.poison.clone();
        let etl: Etl<W> = Poisoned::new(etl, poison, self.clock);
        let s = &self.session;
        let onboarding_log = Arc::new(Mutex::new(OnboardingLog::default()));
        let onboarding_stop = s.cancel.child_token();
        let retries = AsyncRetryPolicy::on(self.clock);
        let onboarding = tokio::spawn(async_invoke::run(
            s.world.queue().await?,
            (s.names.onboarding_function.clone(), Arc::new(onboarding)),
            retries,
            onboarding_log.clone(),
            onboarding_stop.clone(),
        ));
        let mut invoker = SubscriptionInvoker::new(
            s.world.logs(),
            &s.placement.account_id,
            &s.names.log_group,
            &s.names.subscription_filter,
            s.pattern.clone(),
            etl,
        )
        .with_redelivery(s.loaded.scenario.subscription.redeliver, s.seed)
        .with_retries(&s.names.etl_function, retries)
        .with_payload_gzip_level(s.world.subscription_gzip_level())
        .losing(s.faults.clone());
        let subscription_stop = s.cancel.child_token();
        let stop = subscription_stop.clone();
        let firehose = self.firehose.clone();
        let restarts = s.restarts.clone();
        let drains = self.drains.take();
        let subscription = tokio::spawn(async move {
            invoker.start(wall_now_ms()).await;
            tail(invoker, &firehose, &restarts, drains, &stop).await
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

    fn etl_handler(&self, sink: W::Sink) -> EtlHandler<W::Sink> {
        EtlHandler::new(
            sink,
            EtlConfig {
                delivery_stream: self.session.names.delivery_stream.clone(),
                transform: TransformOptions::default(),
                retry: RetryPolicy::default(),
            },
        )
    }

    /// The handler's waits: DescribeInstances in real time, registration and commands in
    /// simulated time (a command's wait never below [`COMMAND_WAIT_FLOOR`]: the emulator's
    /// latency is real time, so a busy emulator cannot fail onboarding).
    fn waits(&self) -> Waits {
        let timing = &self.session.loaded.scenario.onboarding;
        Waits {
            lookup_timeout: INSTANCE_LOOKUP_TIMEOUT,
            registration_timeout: self.clock.real(timing.registration_timeout.as_millis()),
            command_timeout: self.command_timeout(),
            poll_interval: HANDLER_POLL,
        }
    }

    /// The same waits as the deployed function's environment.
    fn onboarding_waits(&self) -> BTreeMap<String, String> {
        super::functions::waits_environment(&self.waits())
    }

    fn command_timeout(&self) -> Duration {
        let timing = &self.session.loaded.scenario.onboarding;
        self.clock
            .real(timing.command_timeout.as_millis())
            .max(COMMAND_WAIT_FLOOR)
    }

    /// The onboarding handler as deployed, over the world's EC2, SSM and Parameter Store, with
    /// registration and command results from the simulated agents.
    fn onboarding_handler(&self) -> InProcessOnboarding<W> {
        let s = &self.session;
        let onboarding = &s.loaded.stack.definition.onboarding;
        let config = OnboardConfig {
            linux_parameter: s.names.linux_parameter.clone(),
            windows_parameter: s.names.windows_parameter.clone(),
            linux_document: s.names.linux_document.clone(),
            windows_document: s.names.windows_document.clone(),
            waits: self.waits(),
            ..OnboardConfig::new(&onboarding.tag_key, &onboarding.tag_value)
        };
        let recorder = s.world.recorder(stack::template::ids::ONBOARDING_ROLE);
        OnboardingHandler::new(
            s.world.instances(),
            Recorded::new(self.simulated.clone(), recorder.clone()),
            Recorded::new(
                HarnessCommands::new(s.world.commands(), self.simulated.clone()),
                recorder,
            ),
            s.world.parameters(),
            config,
        )
    }

    /// Phase 3, launch: each planned instance at its time on the clock: launched, its records
    /// into the ledger, its SSM agent registered and waiting for commands, its `pending` and
    /// `running` events announced.
    pub(super) async fn launch(&mut self) -> Result<(), RunError> {
        let s = &self.session;
        let scenario = &s.loaded.scenario;
        let clock = self.clock;
        for (index, plan) in fleet::plan(scenario).iter().enumerate() {
            // The planned time, not the moment the call returned: the same seed writes the
            // same records whatever the world's latency.
            let launch_ms = clock.start_ms() + plan.launch_offset_ms;
            clock.sleep_until(launch_ms).await;
            // Not into an emulator that is restarting: the launch would fail the run.
            s.restarts.usable().await;
            let instance = s.world.launch(plan, index, launch_ms).await?;
            let records = write_records(s.loaded, &instance, s.seed, clock.end_ms(), &self.ledger)?;
            let host = Host {
                name: plan.name.clone(),
                facts: host_facts(&instance, &s.placement),
                records,
            };
            self.starter.add_host(&instance.instance_id, host);
            if plan.registers {
                let registered_at =
                    instance.registered_at_ms(scenario.onboarding.registration_delay.as_millis());
                self.simulated
                    .register(&instance.instance_id, plan.os, registered_at);
                let agent = SsmAgent::new(
                    &instance.instance_id,
                    plan.os,
                    s.world.agent_ssm(),
                    self.simulated.clone(),
                );
                let starter: Arc<dyn AgentStarter> = self.starter.clone();
                self.ssm_agents
                    .push(tokio::spawn(agent.run(starter, self.ssm_stop.clone())));
            }
            s.world.announce(&instance, "pending", launch_ms).await?;
            s.world.announce(&instance, "running", launch_ms).await?;
            self.launched.push(instance);
            self.progress.launched(self.launched.len());
        }
        Ok(())
    }

    /// Phase 4, onboard: waits until every instance has an outcome (bounded by the handler's
    /// own waits), then stops the onboarding invoker.
    pub(super) async fn onboard(&self, invokers: &mut Invokers<W>) {
        let scenario = &self.session.loaded.scenario;
        let clock = &self.clock;
        // Each of Lambda's attempts may wait out the registration and the commands, and the
        // retries wait one and two minutes between them.
        let attempts = 1 + standins::lambda::retries::DEFAULT_RETRY_ATTEMPTS;
        let retry_waits: i64 = standins::lambda::retries::RETRY_WAITS_MS.iter().sum();
        let deadline = Instant::now()
            + clock.real(scenario.duration.as_millis())
            + clock.real(retry_waits)
            + (clock.real(scenario.onboarding.registration_timeout.as_millis())
                + 2 * self.command_timeout())
                * attempts
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
    pub(super) async fn ship(&mut self, invokers: &Invokers<W>) -> Shipped {
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
        let (outcomes, rejected_events, retries, dead_letters) = {
            let mut log = locked(&invokers.onboarding_log);
            (
                std::mem::take(&mut log.outcomes),
                std::mem::take(&mut log.rejected),
                log.retries,
                std::mem::take(&mut log.dead_letters),
            )
        };
        account_for_silent_instances(&self.ledger, &self.launched, &outcomes);
        let dead_letter_errors = self.send_dead_letters(&dead_letters).await;
        Shipped {
            outcomes,
            rejected_events,
            retries,
            dead_letters,
            dead_letter_errors,
            command_logs,
            agents,
        }
    }

    /// Sends `letters` to their functions' dead-letter queues, as Lambda does; what failed.
    async fn send_dead_letters(
        &self,
        letters: &[standins::lambda::retries::DeadLetter],
    ) -> Vec<String> {
        use standins::lambda::retries::DeadLetterQueue as _;
        let mut errors = Vec::new();
        for letter in letters {
            let sent = match self.session.world.dead_letter_queue(&letter.function).await {
                Ok(queue) => queue.send(letter).await.map_err(|e| e.to_string()),
                Err(error) => Err(error.to_string()),
            };
            if let Err(error) = sent {
                errors.push(format!("{}: {error}", letter.function));
            }
        }
        errors
    }

    /// Phases 6 and 7, deliver and drain: the subscription stops tailing, then reads every
    /// stream until it has what the ledger says was accepted there; the Firehose model
    /// delivers what it holds.
    pub(super) async fn drain(&self, invokers: Invokers<W>) -> Result<Delivered, RunError> {
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
        let dead_letter_errors = self
            .send_dead_letters(&subscription.report.dead_letters)
            .await;
        let poisoned = subscription.function().poisoned();
        let redrive = if self.session.loaded.scenario.redrive {
            subscription.function().fix();
            let queue = self
                .session
                .world
                .dead_letter_queue(&self.session.names.etl_function)
                .await?;
            Some(super::redrive::redrive(&queue, subscription.function()).await)
        } else {
            None
        };
        let lambda = match &invokers.deployed {
            None => report::LambdaReport::in_process(),
            Some(deployed) => {
                deployed.stop().await;
                report::LambdaReport::artifacts(deployed.used.clone(), deployed.stats())
            }
        };
        let delivery = self.firehose.finish().await;
        Ok(Delivered {
            dead_letter_errors,
            redrive,
            poisoned,
            subscription: subscription.report,
            lambda,
            delivery,
        })
    }

    /// Phase 8, read back: the bucket read back (through the same object-store reader as the
    /// catalog) and reconciled with the ledger, each event's latency from the times the
    /// Firehose model kept of its object.
    pub(super) async fn read_back(&self, delivered: &Delivered) -> Result<ReadBack, RunError> {
        let s = &self.session;
        let location = s.world.bucket()?;
        let errors = Location {
            root: catalog::table_root(&s.loaded.stack.definition.firehose.error_prefix),
            ..location.clone()
        };
        let mut ledger = std::mem::take(&mut *locked(&self.ledger));
        let times = &landed::ObjectTimes::of(&delivered.delivery.landed);
        let (landed, reconciliation) =
            landed::read_and_reconcile(&location, &errors, times, &mut ledger, &s.pattern).await?;
        Ok(ReadBack {
            location,
            landed,
            ledger,
            reconciliation,
        })
    }

    /// Phase 9, query: the bucket read as Athena would, through the catalog, with SQL, each
    /// expected query checked against the same question asked of the ledger.
    pub(super) async fn query(
        &self,
        read_back: &ReadBack,
        delivered: &Delivered,
    ) -> queries::QueryStage {
        let s = &self.session;
        let clock = super::crawls::CatalogClock {
            started_ms: self.clock.start_ms(),
            now_ms: self.clock.now_ms(),
            landed: &delivered.delivery.landed,
        };
        queries::stage(
            &read_back.location,
            &s.loaded.stack.definition,
            &read_back.ledger,
            &s.pattern,
            &s.loaded.scenario.expect.queries,
            clock,
        )
        .await
    }

    /// IAM's decisions on the run's calls: the in-process functions' (where the world records
    /// them; the deployed artifacts call from their own processes, which the recorders do not
    /// see) and the crawler's (crawler mode); `None` when there are neither.
    fn permissions(
        &self,
        query_stage: &queries::QueryStage,
        delivered: &Delivered,
    ) -> Option<report::PermissionsReport> {
        let s = &self.session;
        let functions = s
            .world
            .calls()
            .filter(|_| matches!(s.options.lambda, super::LambdaSetup::InProcess));
        let definition = &s.loaded.stack.definition;
        let crawler = query_stage.crawler.as_ref().map(|summary| {
            summary.calls(
                &delivered.delivery.landed,
                super::crawls::CrawlerTarget {
                    account_id: &s.placement.account_id,
                    region: &s.placement.region,
                    bucket: &s.names.bucket,
                    root: stack::template::data_root(&definition.firehose.prefix),
                    database: &definition.catalog.database,
                    table: &definition.catalog.table,
                },
            )
        });
        if functions.is_none() && crawler.is_none() {
            return None;
        }
        let mut principals = Vec::new();
        let mut calls = Vec::new();
        if let Some(log) = functions {
            principals.extend(report::permissions::FUNCTION_ROLES);
            calls.extend(log.calls());
        }
        if let Some(crawler) = crawler {
            principals.push(stack::template::ids::CRAWLER_ROLE);
            calls.extend(crawler);
        }
        let deployment = stack::Deployment::new(&s.loaded.stack, &s.placement);
        Some(report::PermissionsReport::for_deployment(
            &calls,
            &deployment,
            &principals,
        ))
    }

    /// Phase 10, report: every figure and check of the run.
    pub(super) fn report(
        self,
        shipped: Shipped,
        delivered: Delivered,
        read_back: ReadBack,
        query_stage: queries::QueryStage,
        laps: report::Laps,
    ) -> super::Run {
        self.progress.finish();
        let s = &self.session;
        let ReadBack {
            location,
            landed,
            ledger,
            reconciliation,
        } = read_back;
        let crawler_name = &s.loaded.stack.definition.catalog.crawler_name;
        if let Some(last) = query_stage.crawler.as_ref().and_then(|c| c.runs.last()) {
            s.world.record_crawl(crawler_name, last.at_ms);
            if let Some(table) = &query_stage.catalog {
                s.world.record_crawled_table(crawler_name, table);
            }
        }
        let permissions = self.permissions(&query_stage, &delivered);
        let report = report::build(report::Inputs {
            loaded: s.loaded,
            seed: s.seed,
            started_ms: self.clock.start_ms(),
            world: s.world.describe(),
            emulator: s.world.emulator(),
            applied: &s.applied,
            launched: &self.launched,
            shipped,
            delivered,
            faults: s.faults.record(),
            not_applied: super::not_applied_faults(s.loaded, s.world.as_ref()),
            restarts: s.restarts.records(),
            landed: &landed,
            reconciliation,
            query_stage,
            real_seconds: s.real_start.elapsed().as_secs_f64(),
            phases: laps.finish(),
            ingested_bytes: ledger.sent_bytes(),
            permissions,
            audit: s.audit.clone(),
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
            bucket: location,
        }
    }
}

/// Marks the records of instances whose agent never started as not collected, with why.
fn account_for_silent_instances(
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
/// interval flushes as the simulated clock moves. Before an emulator restart stops the
/// emulator it reads every stream to its end (`drains`); after one it forgets its read
/// positions (new streams: old forward tokens mean nothing).
async fn tail<F: EtlFunction, L: standins::cloudwatch_logs::LogsReader, O>(
    mut invoker: SubscriptionInvoker<F, L>,
    firehose: &DeliveryStream<O>,
    restarts: &RestartGate,
    mut drains: Option<restart::DrainRequests>,
    stop: &CancellationToken,
) -> SubscriptionInvoker<F, L>
where
    O: standins::firehose::ObjectWriter,
{
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
        let asked = async {
            match drains.as_mut() {
                Some(drains) => drains.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.cancelled() => {}
            () = tokio::time::sleep(SUBSCRIPTION_POLL) => {}
            ask = asked => match ask {
                Some(reply) => {
                    let _ = reply.send(restart::drain_before_stop(&mut invoker).await);
                }
                None => drains = None,
            },
        }
    }
    invoker
}

/// Polls every stream until each has given at least what the ledger says was accepted there,
/// or [`DRAIN_TIMEOUT`] passes (the shortfall is then reported by the checks).
async fn drain<F: EtlFunction, L: standins::cloudwatch_logs::LogsReader>(
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
