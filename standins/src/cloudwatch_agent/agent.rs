//! One simulated CloudWatch agent, started on one instance with the configuration it fetched.
//!
//! At start it decides, for every record the instance wrote, whether the configuration collects
//! it: the source must have a `collect_list` entry; a Windows event must have one of the
//! configured levels *and* one of the configured event ids, since the agent queries
//! `(Level=…) and (EventID=…)` (`plugins/inputs/windows_event_log/wineventlog/utils.go`,
//! `createFilterQuery`; an absent or empty list filters nothing); include and exclude filters
//! must all pass. Then, every `force_flush_interval` of simulated time (at most once per
//! [`MIN_REAL_FLUSH`] of real time, to spare the emulator), it ships what has been written
//! since, per stream: a file's lines made into events by the entry's start pattern and
//! oversized events cut as the agent cuts them ([`super::events`]), one event per Windows
//! record, batched within PutLogEvents' limits, in order, retrying throttled calls. Every
//! record's fate goes back to its host ([`super::host::AgentHost`]).

use std::sync::Arc;
use std::time::Duration;

use pipeline::agent_config::{
    AgentConfig, EventFormat, EventLevel, FilterKind, HostFacts, Source, translate,
};
use regex::Regex;
use serde::Serialize;

use super::batch::{self, LogEvent};
use super::events::{EventSplitter, truncate_like_agent};
use super::host::{AgentHost, EventOutcome, HostRecord, SentEvent};
use super::retry::{
    AGENT_RETRY_DURATION_MS, AGENT_STOP_GRACE_MS, RetryCounts, RetryDecision, retry_decision,
};
use crate::clock::{SimClock, wall_now_ms};
use crate::cloudwatch_logs::LogsApi;

/// The agent's default flush interval, seconds.
pub const DEFAULT_FORCE_FLUSH_SECONDS: u32 = 5;
/// Shortest real time between two flushes of one agent.
pub const MIN_REAL_FLUSH: Duration = Duration::from_millis(500);
/// Why the agent refuses a configuration (the fetch-config step fails with this).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentStartError {
    /// A placeholder cannot be resolved, or an entry has no group.
    #[error("{0}")]
    Destination(String),
    /// A filter is not a valid regular expression.
    #[error("filter `{expression}` of {entry}: {message}")]
    Filter {
        /// The entry.
        entry: String,
        /// The expression.
        expression: String,
        /// The regex error.
        message: String,
    },
    /// A start pattern that is not a regular expression (the agent does not start either).
    #[error("multi_line_start_pattern of {entry}: {message}")]
    StartPattern {
        /// The entry.
        entry: String,
        /// The regex error.
        message: String,
    },
    /// The simulation renders Windows events as XML only.
    #[error(
        "{entry}: the simulated agent ships Windows events as XML only; set \"event_format\": \"xml\""
    )]
    TextFormat {
        /// The entry.
        entry: String,
    },
}

/// What one source of the configuration collects and where it goes.
#[derive(Debug)]
struct Collector {
    source: String,
    log_group: String,
    log_stream: String,
    /// How a file's lines become events; `None` for Windows events (one per record).
    splitter: Option<EventSplitter>,
    levels: Option<Vec<EventLevel>>,
    event_ids: Option<Vec<u32>>,
    filters: Vec<(FilterKind, Regex)>,
    /// Host ids of the records it ships, in time order, and how many are shipped.
    records: Vec<(i64, usize)>,
    shipped: usize,
    stream_created: bool,
}

/// What an agent did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AgentReport {
    /// The instance.
    pub instance: String,
    /// When the agent started, simulated epoch milliseconds.
    pub started_ms: i64,
    /// PutLogEvents calls that succeeded.
    pub batches: usize,
    /// Events accepted.
    pub events_sent: usize,
    /// Events refused or given up.
    pub events_rejected: usize,
    /// Batches the agent gave up: not retried (`InvalidParameterException`), out of retry
    /// duration, or still failing when the harness stopped the agent. On AWS these are lost.
    pub batches_dropped: usize,
    /// PutLogEvents calls retried (the agent's own retries, after the SDK's).
    pub put_retries: usize,
    /// Simulated milliseconds the agent waited before those retries.
    pub put_retry_wait_ms: u64,
    /// Calls that failed for another reason.
    pub errors: Vec<String>,
    /// Events cut to the agent's size limit.
    pub events_truncated: usize,
    /// Records whose first line the agent would have joined to the previous record's event
    /// (the harness starts a new event there; see [`super::events`]).
    pub records_starting_mid_event: usize,
}

/// A started agent.
#[derive(Debug)]
pub struct CloudWatchAgent {
    instance: String,
    collectors: Vec<Collector>,
    flush_ms: i64,
}

impl CloudWatchAgent {
    /// Starts an agent on `instance` with `config`: resolves its destinations for `facts` and
    /// decides which of the instance's records (the host's ids in `records`) it collects; the
    /// host is told the others are not collected, and why.
    pub fn start<H: AgentHost>(
        instance: &str,
        config: &AgentConfig,
        facts: &HostFacts,
        host: &H,
        records: &[usize],
    ) -> Result<Self, AgentStartError> {
        let destinations = config
            .destinations(facts)
            .map_err(|e| AgentStartError::Destination(e.to_string()))?;
        let mut collectors = Vec::new();
        for destination in destinations {
            let (source, splitter, levels, event_ids, filters) = match &destination.source {
                Source::File(path) => {
                    let entry = config.files().iter().find(|e| &e.file_path == path);
                    let pattern = entry.map_or_else(
                        || Some(translate::DEFAULT_MULTI_LINE_START_PATTERN.to_owned()),
                        translate::multi_line_start_regex,
                    );
                    let splitter = EventSplitter::new(pattern.as_deref()).map_err(|e| {
                        AgentStartError::StartPattern {
                            entry: path.clone(),
                            message: e.to_string(),
                        }
                    })?;
                    (
                        path.clone(),
                        Some(splitter),
                        None,
                        None,
                        entry.and_then(|e| e.filters.clone()).unwrap_or_default(),
                    )
                }
                Source::WindowsEvents(name) => {
                    let entry = config
                        .windows_events()
                        .iter()
                        .find(|e| &e.event_name == name);
                    if entry.is_some_and(|e| e.format() != EventFormat::Xml) {
                        return Err(AgentStartError::TextFormat {
                            entry: name.clone(),
                        });
                    }
                    (
                        name.clone(),
                        None,
                        entry.and_then(|e| e.event_levels.clone()),
                        entry.and_then(|e| e.event_ids.clone()),
                        entry.and_then(|e| e.filters.clone()).unwrap_or_default(),
                    )
                }
            };
            let filters = filters
                .into_iter()
                .map(|f| {
                    let kind = f.kind.ok_or_else(|| AgentStartError::Filter {
                        entry: source.clone(),
                        expression: f.expression().to_owned(),
                        message: pipeline::agent_config::AGENT_FILTER_TYPE_ERROR.to_owned(),
                    })?;
                    Regex::new(f.expression())
                        .map(|re| (kind, re))
                        .map_err(|e| AgentStartError::Filter {
                            entry: source.clone(),
                            expression: f.expression().to_owned(),
                            message: e.to_string(),
                        })
                })
                .collect::<Result<_, _>>()?;
            collectors.push(Collector {
                source,
                log_group: destination.log_group,
                log_stream: destination.log_stream,
                splitter,
                levels,
                event_ids,
                filters,
                records: Vec::new(),
                shipped: 0,
                stream_created: false,
            });
        }
        let mut not_collected = Vec::new();
        host.read(records, &mut |index, record| {
            let decision = match collectors.iter().position(|c| c.source == record.source) {
                None => Err(format!("no collect_list entry for {}", record.source)),
                Some(i) => collectors[i].collects(&record).map(|()| i),
            };
            match decision {
                Ok(i) => collectors[i].records.push((record.timestamp_ms, index)),
                Err(reason) => not_collected.push((index, reason)),
            }
        });
        if !not_collected.is_empty() {
            host.not_collected(&not_collected);
        }
        for collector in &mut collectors {
            collector.records.sort_by_key(|&(t, _)| t);
        }
        let flush_seconds = config
            .logs
            .as_ref()
            .and_then(|l| l.force_flush_interval)
            .unwrap_or(DEFAULT_FORCE_FLUSH_SECONDS);
        Ok(Self {
            instance: instance.to_owned(),
            collectors,
            flush_ms: i64::from(flush_seconds.max(1)) * 1000,
        })
    }

    /// Ships until the simulated window is over, then ships the rest and reports.
    pub async fn run<H: AgentHost, L: LogsApi>(
        mut self,
        clock: SimClock,
        host: Arc<H>,
        logs: Arc<L>,
    ) -> AgentReport {
        let mut report = AgentReport {
            instance: self.instance.clone(),
            started_ms: clock.now_ms(),
            ..AgentReport::default()
        };
        loop {
            let over = clock.is_over();
            let now = clock.now_ms();
            for collector in &mut self.collectors {
                collector
                    .flush(now, &clock, host.as_ref(), logs.as_ref(), &mut report)
                    .await;
            }
            if over {
                return report;
            }
            tokio::time::sleep(clock.real(self.flush_ms).max(MIN_REAL_FLUSH)).await;
        }
    }
}

impl Collector {
    /// Whether this entry collects the record; the reason when it does not.
    fn collects(&self, record: &HostRecord<'_>) -> Result<(), String> {
        if let Some(level) = record.level {
            let level = EventLevel::from_windows_level(level);
            if let Some(levels) = self.levels.as_ref().filter(|l| !l.is_empty())
                && !level.is_some_and(|l| levels.contains(&l))
            {
                return Err(format!(
                    "level {} not in event_levels",
                    level.map_or("unknown", EventLevel::name)
                ));
            }
            if let Some(ids) = self.event_ids.as_ref().filter(|i| !i.is_empty())
                && !record.event_id.is_some_and(|id| ids.contains(&id))
            {
                let id = record
                    .event_id
                    .map_or_else(|| "?".to_owned(), |id| id.to_string());
                return Err(format!("event id {id} not in event_ids"));
            }
        }
        let message = record.text;
        for (kind, expression) in &self.filters {
            let matched = expression.is_match(message);
            match kind {
                FilterKind::Include if !matched => {
                    return Err(format!("not matched by include filter `{expression}`"));
                }
                FilterKind::Exclude if matched => {
                    return Err(format!("matched by exclude filter `{expression}`"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Ships the records written up to `now_ms` that are not shipped yet.
    async fn flush<H: AgentHost, L: LogsApi>(
        &mut self,
        now_ms: i64,
        clock: &SimClock,
        host: &H,
        logs: &L,
        report: &mut AgentReport,
    ) {
        let due = self.records[self.shipped..]
            .iter()
            .take_while(|&&(t, _)| t <= now_ms)
            .count();
        if due == 0 {
            return;
        }
        let taken: Vec<usize> = self.records[self.shipped..self.shipped + due]
            .iter()
            .map(|&(_, i)| i)
            .collect();
        self.shipped += due;
        // The events in order, the host record each comes from, and whether it was cut.
        let mut plain: Vec<LogEvent> = Vec::new();
        let mut owners: Vec<usize> = Vec::new();
        let mut cut: Vec<bool> = Vec::new();
        // Read before the calls: the host's rule (an event sent before an emulator restart
        // completes may be lost with the emulator's state).
        let generation = host.generation();
        host.read(&taken, &mut |index, record| {
            let messages = match &self.splitter {
                None => vec![record.text.to_owned()],
                Some(splitter) => {
                    let split = splitter.events(record.lines());
                    report.records_starting_mid_event += usize::from(split.first_line_continues);
                    split.messages
                }
            };
            for message in messages {
                let (message, truncated) = truncate_like_agent(message);
                report.events_truncated += usize::from(truncated);
                plain.push(LogEvent {
                    timestamp_ms: record.timestamp_ms,
                    message,
                });
                cut.push(truncated);
            }
            owners.resize(plain.len(), index);
        });
        let mut outcomes: Vec<(usize, EventOutcome)> = Vec::new();
        let plan = batch::plan(&plain, wall_now_ms());
        for (i, reason) in &plan.unsendable {
            outcomes.push((owners[*i], EventOutcome::Refused(reason.to_string())));
        }
        for batch in &plan.batches {
            let sending: Vec<LogEvent> = batch.iter().map(|&i| plain[i].clone()).collect();
            let result = self.put_with_retries(logs, &sending, clock, report).await;
            let sent_ms = clock.now_ms();
            for (position, &i) in batch.iter().enumerate() {
                let event = || SentEvent {
                    log_stream: self.log_stream.clone(),
                    timestamp_ms: plain[i].timestamp_ms,
                    message: plain[i].message.clone(),
                    sent_ms,
                    truncated: cut[i],
                };
                let outcome = match &result {
                    Ok(rejected) => match rejected.reason(position) {
                        Some(why) => EventOutcome::Refused(why.to_owned()),
                        None => EventOutcome::Sent(event()),
                    },
                    Err(PutFailure::Refused(why)) => EventOutcome::Refused(why.clone()),
                    Err(PutFailure::Unanswered(why)) => EventOutcome::Unanswered {
                        event: event(),
                        why: why.clone(),
                    },
                };
                outcomes.push((owners[i], outcome));
            }
        }
        settle(host, generation, outcomes, report);
    }

    /// PutLogEvents as the agent's sender does it (`pusher/sender.go`): an error is retried
    /// after the wait of `pusher/retry.go` (in simulated time) until the agent's retry duration
    /// would pass, connection errors with the long strategy ([`retry_decision`]);
    /// `InvalidParameterException` and `DataAlreadyAcceptedException` are not retried. The
    /// stream is created first (the target manager's `InitTarget`), and again on
    /// `ResourceNotFoundException`; a failed creation is retried like a failed put. A batch
    /// still failing [`AGENT_STOP_GRACE_MS`] after the run's window is dropped as a stopped
    /// agent drops it.
    async fn put_with_retries<L: LogsApi>(
        &mut self,
        logs: &L,
        events: &[LogEvent],
        clock: &SimClock,
        report: &mut AgentReport,
    ) -> Result<crate::cloudwatch_logs::Rejected, PutFailure> {
        let mut retries = RetryCounts::default();
        let mut waited_ms = 0;
        loop {
            let error = match self.put_once(logs, events).await {
                Ok(rejected) => {
                    report.batches += 1;
                    return Ok(rejected);
                }
                Err(error) => error,
            };
            report.errors.push(error.to_string());
            if error.code == "ResourceNotFoundException" {
                // InitTarget again: the stream is gone (with a restarted emulator's state, say).
                self.stream_created = false;
            }
            let retried = retries.short + retries.long;
            let unanswered = error.code == "transport";
            let mut give_up = |why: String| {
                report.batches_dropped += 1;
                Err(if unanswered {
                    PutFailure::Unanswered(why)
                } else {
                    PutFailure::Refused(why)
                })
            };
            let wait_ms = match retry_decision(&error.code) {
                RetryDecision::NotRetried => {
                    return give_up(format!(
                        "{error}: the agent does not retry {} (pusher/sender.go)",
                        error.code
                    ));
                }
                RetryDecision::Retry(strategy) => retries.next_wait_ms(strategy),
            };
            if waited_ms + wait_ms > AGENT_RETRY_DURATION_MS {
                return give_up(format!(
                    "All {retried} retries to {}/{} failed for PutLogEvents, request dropped ({}; pusher/sender.go, the agent's retry duration of 14 days and 10 minutes)",
                    self.log_group, self.log_stream, error.code
                ));
            }
            if clock.past_end_ms() + wait_ms > AGENT_STOP_GRACE_MS {
                return give_up(format!(
                    "Stop requested after {retried} retries to {}/{} failed for PutLogEvents, request dropped ({}; pusher/sender.go; the harness stops its agents {} minutes after the run's window, its rule)",
                    self.log_group,
                    self.log_stream,
                    error.code,
                    AGENT_STOP_GRACE_MS / 60_000
                ));
            }
            waited_ms += wait_ms;
            report.put_retries += 1;
            report.put_retry_wait_ms += u64::try_from(wait_ms).unwrap_or(0);
            tracing::debug!(%error, wait_ms, "PutLogEvents failed; the agent retries");
            tokio::time::sleep(clock.real(wait_ms)).await;
        }
    }
}

impl Collector {
    /// One attempt: the stream created first when it is not (yet, or any more), then the put.
    async fn put_once<L: LogsApi>(
        &mut self,
        logs: &L,
        events: &[LogEvent],
    ) -> Result<crate::cloudwatch_logs::Rejected, crate::cloudwatch_logs::LogsError> {
        if !self.stream_created {
            logs.create_log_stream(&self.log_group, &self.log_stream)
                .await?;
            self.stream_created = true;
        }
        logs.put_log_events(&self.log_group, &self.log_stream, events)
            .await
    }
}

/// Why a batch was not accepted.
#[derive(Debug, Clone)]
enum PutFailure {
    /// The service refused it, or the agent (or the harness) gave it up.
    Refused(String),
    /// No answer came (a connection error): the service may have taken it.
    Unanswered(String),
}

/// Counts the outcomes and hands them to the host, ordered by record, so that a record's
/// events stay together and in the order they were sent.
fn settle<H: AgentHost>(
    host: &H,
    generation: u32,
    mut outcomes: Vec<(usize, EventOutcome)>,
    report: &mut AgentReport,
) {
    outcomes.sort_by_key(|(index, _)| *index);
    for (_, outcome) in &outcomes {
        match outcome {
            EventOutcome::Sent(_) => report.events_sent += 1,
            EventOutcome::Refused(_) | EventOutcome::Unanswered { .. } => {
                report.events_rejected += 1;
            }
        }
    }
    host.settle(generation, outcomes);
}
