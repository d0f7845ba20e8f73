//! The fault plan: the scenario's rules, the seeded draws that decide which calls they hit,
//! and the record of every attempt the SDK made (retries and the delays between them), read
//! from the headers the SDK sends on each attempt (`amz-sdk-invocation-id`,
//! `amz-sdk-request: attempt=N; max=M`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use serde::Serialize;

use super::config::{FaultKind, FaultRule, LossRule, LossStage, Service};
use crate::clock::{SimClock, SimDuration};
use crate::locked;

/// What one attempt meets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Injection {
    /// The service's throttling error.
    Throttle,
    /// The service's 5xx error.
    ServerError,
    /// The connection drops before the request is sent.
    DropConnection,
    /// The connection is refused (the endpoint is down).
    RefuseConnection,
    /// This share of PutRecordBatch's entries fail.
    PartialFailure(f64),
}

/// What the plan decided for one attempt: an optional delay, then an optional failure.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Decision {
    /// Real time to wait before answering.
    pub delay: Option<Duration>,
    /// The failure, if any; the call goes through otherwise.
    pub injection: Option<Injection>,
}

/// An attempt as the SDK labels it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// `amz-sdk-invocation-id`: the same for every attempt of one call.
    pub invocation: String,
    /// `attempt=N` of `amz-sdk-request` (1 for the first).
    pub number: u32,
}

impl Attempt {
    /// Reads the SDK's attempt headers; `None` for a client that sends none.
    pub fn from_headers(invocation: Option<&str>, request: Option<&str>) -> Option<Self> {
        let number = request?
            .split(';')
            .find_map(|part| part.trim().strip_prefix("attempt="))?
            .parse()
            .ok()?;
        Some(Self {
            invocation: invocation?.to_owned(),
            number,
        })
    }
}

/// Per operation: the SDK's attempts and retries, and what the plan did to them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OperationFaults {
    /// HTTP attempts (first attempts and retries).
    pub attempts: u64,
    /// Attempts after the first of a call: the SDK's retries.
    pub retries: u64,
    /// Most attempts one call took.
    pub max_attempts: u32,
    /// Real milliseconds between a failed attempt's end and the retry (the SDK's backoff),
    /// summed.
    pub retry_delay_ms_total: u64,
    /// The longest of those.
    pub retry_delay_ms_max: u64,
    /// Injected, by kind.
    pub injected: BTreeMap<String, u64>,
}

/// Per rule: how often it hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleFaults {
    /// The rule (`logs:PutLogEvents throttle 30% 1m..3m`).
    pub rule: String,
    /// Attempts it covered (in its window, its service and operation).
    pub covered: u64,
    /// Attempts it hit.
    pub injected: u64,
    /// Its window: from, simulated ms since the run's start.
    pub from_ms: i64,
    /// To (`None`: the end of the run).
    pub until_ms: Option<i64>,
}

/// The plan's record, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FaultRecord {
    /// Each rule.
    pub rules: Vec<RuleFaults>,
    /// `service:Operation` -> attempts, retries, backoff and injections.
    pub operations: BTreeMap<String, OperationFaults>,
    /// `[[faults.lose]]`: silent losses made on purpose, per stage.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub losses: BTreeMap<String, usize>,
}

impl FaultRecord {
    /// Faults injected in all.
    pub fn injected(&self) -> u64 {
        self.rules.iter().map(|r| r.injected).sum()
    }

    /// The SDK's retries in all.
    pub fn retries(&self) -> u64 {
        self.operations.values().map(|o| o.retries).sum()
    }
}

#[derive(Debug)]
struct PlanState {
    rng: StdRng,
    record: FaultRecord,
    /// Invocation id -> when its last attempt ended.
    ended: HashMap<String, Instant>,
}

/// The scenario's fault rules, live for one run.
#[derive(Debug)]
pub struct FaultPlan {
    rules: Vec<FaultRule>,
    /// `[[faults.lose]]`: each stage's silent losses still to make, and those made.
    losses: Mutex<BTreeMap<LossStage, (usize, usize)>>,
    clock: OnceLock<SimClock>,
    state: Mutex<PlanState>,
}

impl FaultPlan {
    /// A plan of `rules`, drawing from `seed`. Nothing is injected until [`Self::start`].
    pub fn new(rules: Vec<FaultRule>, seed: u64) -> Self {
        let record = FaultRecord {
            rules: rules
                .iter()
                .map(|r| RuleFaults {
                    rule: r.describe(),
                    covered: 0,
                    injected: 0,
                    from_ms: r.from.as_millis(),
                    until_ms: r.until.map(SimDuration::as_millis),
                })
                .collect(),
            operations: BTreeMap::new(),
            losses: BTreeMap::new(),
        };
        Self {
            rules,
            losses: Mutex::default(),
            clock: OnceLock::new(),
            state: Mutex::new(PlanState {
                rng: StdRng::seed_from_u64(seed ^ 0xfa17_5eed),
                record,
                ended: HashMap::new(),
            }),
        }
    }

    /// The same plan, losing data silently at the stages of `losses` (`[[faults.lose]]`).
    #[must_use]
    pub fn with_losses(self, losses: &[LossRule]) -> Self {
        {
            let mut planned = locked(&self.losses);
            for loss in losses {
                planned.entry(loss.stage).or_default().0 += loss.count;
            }
        }
        self
    }

    /// Whether to lose the item at `stage` now (`[[faults.lose]]`); counts the loss.
    pub fn lose(&self, stage: LossStage) -> bool {
        let mut losses = locked(&self.losses);
        match losses.get_mut(&stage) {
            Some((left, made)) if *left > 0 => {
                *left -= 1;
                *made += 1;
                true
            }
            _ => false,
        }
    }

    /// The silent losses made, per stage name.
    pub fn losses_made(&self) -> BTreeMap<String, usize> {
        locked(&self.losses)
            .iter()
            .map(|(stage, (_, made))| (stage.name().to_owned(), *made))
            .collect()
    }

    /// Whether the plan has rules at all.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether any rule names `service`.
    pub fn touches(&self, service: Service) -> bool {
        self.rules.iter().any(|r| r.service == service)
    }

    /// Starts the windows: simulated time counts from `clock`'s start.
    pub fn start(&self, clock: SimClock) {
        let _ = self.clock.set(clock);
    }

    /// Decides what `attempt` of `operation` on `service` meets, and records the attempt (a
    /// retry's delay is measured from the previous attempt's end). Rules are drawn in order;
    /// the first failure drawn wins, and delays of every latency rule drawn add up.
    pub fn decide(&self, service: Service, operation: &str, attempt: Option<&Attempt>) -> Decision {
        let mut state = locked(&self.state);
        let key = format!("{service}:{operation}");
        let retry_delay = attempt.and_then(|a| {
            (a.number > 1)
                .then(|| state.ended.get(&a.invocation).map(Instant::elapsed))
                .flatten()
        });
        let mut decision = Decision::default();
        if let Some(clock) = self.clock.get() {
            let elapsed = clock.now_ms() - clock.start_ms();
            for (index, rule) in self.rules.iter().enumerate() {
                if !rule.covers(service, operation, elapsed) {
                    continue;
                }
                state.record.rules[index].covered += 1;
                let hit = state.rng.random_bool(rule.rate);
                if !hit || (decision.injection.is_some() && rule.kind != FaultKind::Latency) {
                    continue;
                }
                state.record.rules[index].injected += 1;
                *state
                    .record
                    .operations
                    .entry(key.clone())
                    .or_default()
                    .injected
                    .entry(rule.kind.name().to_owned())
                    .or_default() += 1;
                match rule.kind {
                    FaultKind::Latency => {
                        let real = clock.real(rule.delay.unwrap_or_default().as_millis());
                        decision.delay = Some(decision.delay.unwrap_or_default() + real);
                    }
                    FaultKind::Throttle => decision.injection = Some(Injection::Throttle),
                    FaultKind::ServerError => decision.injection = Some(Injection::ServerError),
                    FaultKind::DropConnection => {
                        decision.injection = Some(Injection::DropConnection);
                    }
                    FaultKind::RefuseConnection => {
                        decision.injection = Some(Injection::RefuseConnection);
                    }
                    FaultKind::PartialFailure => {
                        decision.injection =
                            Some(Injection::PartialFailure(rule.entries.unwrap_or(0.0)));
                    }
                }
            }
        }
        let operation = state.record.operations.entry(key).or_default();
        operation.attempts += 1;
        if let Some(attempt) = attempt {
            operation.max_attempts = operation.max_attempts.max(attempt.number);
            if attempt.number > 1 {
                operation.retries += 1;
            }
        }
        if let Some(delay) = retry_delay {
            let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            operation.retry_delay_ms_total += ms;
            operation.retry_delay_ms_max = operation.retry_delay_ms_max.max(ms);
        }
        decision
    }

    /// Notes that `attempt` ended (its answer, or its failure, is back): the next attempt of
    /// the same call measures its backoff from now.
    pub fn ended(&self, attempt: Option<&Attempt>) {
        if let Some(attempt) = attempt {
            locked(&self.state)
                .ended
                .insert(attempt.invocation.clone(), Instant::now());
        }
    }

    /// Which of `count` entries fail when a share of them must: at least one, at most
    /// `share` of them (rounded down, at least one), drawn from the plan's seed.
    pub fn failed_entries(&self, count: usize, share: f64) -> Vec<bool> {
        let mut state = locked(&self.state);
        let most = ((count as f64 * share).floor() as usize).max(1).min(count);
        let mut failed = vec![false; count];
        let mut chosen = 0;
        while chosen < most {
            let index = state.rng.random_range(0..count);
            if !failed[index] {
                failed[index] = true;
                chosen += 1;
            }
        }
        failed
    }

    /// The record so far: the rules' hits, the operations' attempts and retries (only
    /// operations with a retry or a fault).
    pub fn record(&self) -> FaultRecord {
        let mut record = locked(&self.state).record.clone();
        record.losses = self.losses_made();
        record
            .operations
            .retain(|_, o| o.retries > 0 || !o.injected.is_empty());
        record
    }
}
