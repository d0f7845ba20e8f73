//! `loglab run --backend memory`: the same scenario, workload, onboarding handler, simulated
//! agents, subscription, ETL handler, Firehose model, read-back, catalog, queries and checks,
//! with the in-memory adapters behind every port (`MemoryAccount` for EC2 and SSM,
//! `MemoryLogs`, the model's records handed over without HTTP, an in-memory object store for the
//! bucket). It runs on a current-thread runtime whose clock is paused: simulated waits take no
//! real time, so a run costs only its work. What it leaves out, by design: provisioning (there
//! is no emulator), the EventBridge rule and its queue (each `running` event goes straight to
//! the handler), the SSM agents (an onboarded instance's agent starts with the configuration the
//! handler validated), fault rules of services other than Firehose (they need the HTTP
//! layer), and `[[faults.restart]]` (there is no emulator to restart). The LocalStack path stays the reference; this one is for scale.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use lake::Location;
use object_store::ObjectStore;
use object_store::memory::InMemory;
use pipeline::agent_config::AgentConfig;
use pipeline::etl::{EtlConfig, EtlHandler, TransformOptions};
use pipeline::filter_pattern::FilterPattern;
use pipeline::firehose::RetryPolicy;
use pipeline::onboard::ParameterStore as _;
use pipeline::onboard::memory::MemoryAccount;
use pipeline::onboard::{
    Decision, InstanceDescription, InstanceState, OnboardConfig, OnboardingHandler,
    OnboardingOutcome, StateChange, Waits,
};
use stack::{Deployment, Names, Placement};
use tokio::task::JoinSet;

use super::agents::{Host, Starter, host_facts, write_records};
use super::session::{
    COMMAND_WAIT_FLOOR, HANDLER_POLL, INSTANCE_LOOKUP_TIMEOUT, account_for_silent_instances, drain,
    tail,
};
use super::{Run, RunError, RunOptions, queries, report};
use crate::athena;
use crate::clock::SimClock;
use crate::cloudwatch_agent::agent::wall_now_ms;
use crate::faults::{FaultPlan, RestartGate, Service};
use crate::firehose_model::direct::{ModelSink, StoreObjects};
use crate::firehose_model::endpoint::{FirehoseModel, StreamConfig};
use crate::fleet::{self, LaunchedInstance};
use crate::invoker::subscription::SubscriptionInvoker;
use crate::landed;
use crate::ledger::Ledger;
use crate::locked;
use crate::logs::MemoryLogs;
use crate::scenario::{LoadedScenario, Os};
use crate::ssm_agent::AgentStarter as _;

/// The onboarding handler of a memory run: every port on one in-memory account.
type MemoryOnboarding =
    OnboardingHandler<MemoryAccount, MemoryAccount, MemoryAccount, MemoryAccount>;

/// Runs `loaded` on the memory backend, on a runtime of its own with a paused clock (call it
/// outside any runtime, or from `spawn_blocking`).
pub fn run_blocking(loaded: &LoadedScenario, options: &RunOptions) -> Result<Run, RunError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .map_err(|e| failed("starting", "the memory backend's runtime", e))?;
    runtime.block_on(run(loaded, options))
}

fn failed(operation: &'static str, target: &str, error: impl std::fmt::Display) -> RunError {
    RunError::Call {
        operation,
        target: target.to_owned(),
        message: error.to_string(),
    }
}

/// The memory run itself; on a paused clock, or its simulated waits take real time.
pub async fn run(loaded: &LoadedScenario, options: &RunOptions) -> Result<Run, RunError> {
    let real_start = std::time::Instant::now();
    let scenario = &loaded.scenario;
    let definition = &loaded.stack.definition;
    let seed = options.seed.unwrap_or(scenario.seed);
    let placement = Placement::localstack(&scenario.region);
    let names = Deployment::new(&loaded.stack, &placement).names;
    let pattern = FilterPattern::parse(&definition.logs.filter_pattern)
        .map_err(|e| RunError::Pattern(e.to_string()))?;
    let faults = Arc::new(FaultPlan::new(
        scenario
            .faults
            .inject
            .iter()
            .filter(|rule| rule.service == Service::Firehose)
            .cloned()
            .collect(),
        seed,
    ));
    let clock = SimClock::new(wall_now_ms(), scenario.duration.as_millis(), scenario.speed);
    faults.start(clock);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let logs = Arc::new(MemoryLogs::default());
    let starter = Arc::new(Starter::new(ledger.clone(), clock, logs.clone()));
    let account = MemoryAccount::new();
    put_parameters(&account, loaded, &names)?;

    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let stream = StreamConfig::from_definition(definition, &names.delivery_stream, &names.bucket)
        .map_err(|e| {
        failed(
            "configuring the Firehose model for",
            &names.delivery_stream,
            e,
        )
    })?;
    let model = Arc::new(
        FirehoseModel::start_with_faults(
            stream,
            Arc::new(StoreObjects(store.clone())),
            Arc::new(move || clock.now_ms()),
            seed,
            faults.clone(),
        )
        .await
        .map_err(|e| failed("starting the Firehose model for", &names.delivery_stream, e))?,
    );
    let etl = EtlHandler::new(
        ModelSink {
            model: model.clone(),
            stream: names.delivery_stream.clone(),
        },
        EtlConfig {
            delivery_stream: names.delivery_stream.clone(),
            transform: TransformOptions::default(),
            retry: RetryPolicy::default(),
        },
    );
    let mut invoker = SubscriptionInvoker::new(
        logs.clone(),
        &placement.account_id,
        &names.log_group,
        &names.subscription_filter,
        pattern.clone(),
        etl,
    )
    .with_redelivery(scenario.subscription.redeliver, seed);
    invoker.start(wall_now_ms()).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let subscription = tokio::spawn({
        let (model, stop) = (model.clone(), stop.clone());
        // No emulator, so no restart: the gate never opens again.
        async move { tail(invoker, &model, &RestartGate::new(), &stop).await }
    });

    let handler = Arc::new(onboarding_handler(loaded, &account, &names, &clock));
    let (launched, outcomes) = launch_and_onboard(
        loaded, seed, &placement, &clock, &ledger, &starter, &account, &handler,
    )
    .await?;
    clock.sleep_until(clock.end_ms()).await;
    let agents = starter.finish().await;
    account_for_silent_instances(&ledger, &launched, &outcomes);

    let expected = locked(&ledger).sent_per_stream();
    stop.cancel();
    let mut invoker = subscription
        .await
        .map_err(|e| failed("subscription", &names.log_group, e))?;
    drain(&mut invoker, &expected).await;
    let delivery = model.finish().await;

    let location = Location {
        store,
        url: "memory://".to_owned(),
        root: athena::table_root(&definition.firehose.prefix),
    };
    let errors = Location {
        root: athena::table_root(&definition.firehose.error_prefix),
        ..location.clone()
    };
    let mut ledger = std::mem::take(&mut *locked(&ledger));
    let (landed, reconciliation) =
        landed::read_and_reconcile(&location, &errors, &mut ledger, &pattern).await?;
    let query_stage = queries::stage(
        &location,
        definition,
        &ledger,
        &pattern,
        &scenario.expect.queries,
    )
    .await;
    let report = report::build(report::Inputs {
        loaded,
        seed,
        applied: &[],
        launched: &launched,
        outcomes: &outcomes,
        rejected_events: Vec::new(),
        command_logs: BTreeMap::new(),
        agents,
        subscription: invoker.report,
        lambda: report::LambdaReport::in_process(),
        delivery,
        faults: faults.record(),
        restarts: Vec::new(),
        landed: &landed,
        reconciliation,
        query_stage,
        real_seconds: real_start.elapsed().as_secs_f64(),
        memory_backend: true,
        ingested_bytes: ledger.sent_bytes(),
        prices: &options
            .prices
            .clone()
            .unwrap_or_else(crate::cost::Prices::shipped),
    });
    Ok(Run {
        report,
        ledger,
        pattern,
    })
}

/// The stack's agent configurations in the account's Parameter Store, or the scenario's broken
/// ones in their place.
fn put_parameters(
    account: &MemoryAccount,
    loaded: &LoadedScenario,
    names: &Names,
) -> Result<(), RunError> {
    let faults = &loaded.scenario.faults;
    for (name, config, broken) in [
        (
            &names.linux_parameter,
            &loaded.stack.linux_agent_config,
            &faults.linux_parameter,
        ),
        (
            &names.windows_parameter,
            &loaded.stack.windows_agent_config,
            &faults.windows_parameter,
        ),
    ] {
        let text = match broken {
            None => config.to_json_pretty(),
            Some(file) => {
                let path = loaded.base.join(file);
                std::fs::read_to_string(&path)
                    .map_err(|e| failed("read", &path.display().to_string(), e))?
            }
        };
        account.put_parameter(name, &text);
    }
    Ok(())
}

fn onboarding_handler(
    loaded: &LoadedScenario,
    account: &MemoryAccount,
    names: &Names,
    clock: &SimClock,
) -> MemoryOnboarding {
    let timing = &loaded.scenario.onboarding;
    let onboarding = &loaded.stack.definition.onboarding;
    let config = OnboardConfig {
        linux_parameter: names.linux_parameter.clone(),
        windows_parameter: names.windows_parameter.clone(),
        waits: Waits {
            lookup_timeout: INSTANCE_LOOKUP_TIMEOUT,
            registration_timeout: clock.real(timing.registration_timeout.as_millis()),
            command_timeout: clock
                .real(timing.command_timeout.as_millis())
                .max(COMMAND_WAIT_FLOOR),
            poll_interval: HANDLER_POLL,
        },
        ..OnboardConfig::new(&onboarding.tag_key, &onboarding.tag_value)
    };
    OnboardingHandler::new(
        account.clone(),
        account.clone(),
        account.clone(),
        account.clone(),
        config,
    )
}

/// Each planned instance at its time: its records into the ledger, its description (and SSM
/// registration) in the account, its `running` event to the handler; an onboarded instance's
/// agent starts with the configuration in Parameter Store, as fetch-config loads it.
async fn launch_and_onboard(
    loaded: &LoadedScenario,
    seed: u64,
    placement: &Placement,
    clock: &SimClock,
    ledger: &Arc<Mutex<Ledger>>,
    starter: &Arc<Starter<MemoryLogs>>,
    account: &MemoryAccount,
    handler: &Arc<MemoryOnboarding>,
) -> Result<
    (
        Vec<LaunchedInstance>,
        BTreeMap<String, Vec<OnboardingOutcome>>,
    ),
    RunError,
> {
    let mut launched = Vec::new();
    let mut onboarding = JoinSet::new();
    for (index, plan) in fleet::plan(&loaded.scenario).iter().enumerate() {
        let launch_ms = clock.start_ms() + plan.launch_offset_ms;
        clock.sleep_until(launch_ms).await;
        let instance = LaunchedInstance {
            plan: plan.clone(),
            instance_id: format!("i-{:017x}", (seed << 24) ^ (index as u64 + 1)),
            private_ip: format!("10.0.{}.{}", index / 250, index % 250 + 4),
            launched_at_ms: launch_ms,
        };
        let records = write_records(loaded, &instance, seed, clock.end_ms(), ledger)?;
        let id = instance.instance_id.clone();
        starter.add_host(
            &id,
            Host {
                name: plan.name.clone(),
                facts: host_facts(&instance, placement),
                records,
            },
        );
        let windows = plan.os == Os::Windows;
        account.add_instance(InstanceDescription {
            instance_id: id.clone(),
            state: "running".to_owned(),
            platform: windows.then(|| "windows".to_owned()),
            platform_details: Some(if windows { "Windows" } else { "Linux/UNIX" }.to_owned()),
            tags: plan
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        });
        if plan.registers {
            account.register(&id, if windows { "Windows" } else { "Linux" });
        }
        let (handler, starter, account) = (handler.clone(), starter.clone(), account.clone());
        onboarding.spawn(async move {
            let outcome = handler
                .onboard(&StateChange {
                    event_id: None,
                    instance_id: id.clone(),
                    state: InstanceState::Running,
                    account: None,
                    region: None,
                })
                .await;
            if outcome.decision == Decision::Onboarded {
                start_agent(&starter, &account, &id, &outcome).await;
            }
            (id, outcome)
        });
        launched.push(instance);
    }
    let mut outcomes: BTreeMap<String, Vec<OnboardingOutcome>> = BTreeMap::new();
    while let Some(joined) = onboarding.join_next().await {
        if let Ok((id, outcome)) = joined {
            outcomes.entry(id).or_default().push(outcome);
        }
    }
    Ok((launched, outcomes))
}

/// fetch-config: the parameter the handler named, parsed as the agent parses it.
async fn start_agent(
    starter: &Starter<MemoryLogs>,
    account: &MemoryAccount,
    instance_id: &str,
    outcome: &OnboardingOutcome,
) {
    let Some(parameter) = &outcome.agent_config_parameter else {
        return;
    };
    let Ok(Some(text)) = account.get_parameter(parameter).await else {
        tracing::warn!(%parameter, "the onboarded instance's parameter is gone");
        return;
    };
    match AgentConfig::parse(&text) {
        Ok(config) => {
            if let Err(error) = starter.start(instance_id, config) {
                tracing::warn!(%instance_id, %error, "the CloudWatch agent did not start");
            }
        }
        Err(error) => tracing::warn!(%instance_id, %error, "fetch-config refused the parameter"),
    }
}
