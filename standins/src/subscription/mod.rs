//! The subscription side of the invoker: tails every stream of the log group with
//! DescribeLogStreams and GetLogEvents (forward tokens), keeps the events the filter pattern
//! matches, and invokes the ETL handler with one DATA_MESSAGE per stream and poll, after one
//! CONTROL_MESSAGE when the subscription starts. A share of the payloads may be delivered twice
//! (`[subscription] redeliver`), as CloudWatch Logs' at-least-once delivery does. A failed
//! invocation is retried as Lambda retries an asynchronous one ([`crate::lambda::retries`]:
//! after one and two minutes of simulated time), and then sent to the dead-letter queue: the
//! report keeps the letter, with its stream and event count.

pub mod payload;

use std::collections::{BTreeMap, HashMap};

use pipeline::filter_pattern::FilterPattern;
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use serde::Serialize;

use crate::cloudwatch_logs::{LogsError, LogsReader, SdkLogs};
use crate::lambda::functions::EtlFunction;
use crate::lambda::retries::{AsyncRetryPolicy, DeadLetter};
use payload::StreamEvent;

/// Which streams a poll reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sweep {
    /// Only streams with new ingestion since the last poll.
    Changed,
    /// Every stream.
    All,
}

/// What the subscription delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubscriptionReport {
    /// Events read from each stream.
    pub read: BTreeMap<String, usize>,
    /// Events the filter pattern passed.
    pub matched: usize,
    /// Events it dropped.
    pub filtered: usize,
    /// Invocations of the ETL handler (the control message included).
    pub invocations: usize,
    /// CONTROL_MESSAGEs sent.
    pub control_messages: usize,
    /// Events the handler read from the payloads of its successful invocations.
    pub etl_events: usize,
    /// Rows the handler produced.
    pub rows: usize,
    /// Firehose records delivered.
    pub records: usize,
    /// Events in invocations that failed after every attempt.
    pub failed_events: usize,
    /// Invocation attempts that failed and were made again.
    pub retried_invocations: usize,
    /// Payloads that failed every attempt: what Lambda sends to the dead-letter queue.
    pub dead_letters: Vec<crate::lambda::retries::DeadLetter>,
    /// DATA_MESSAGE payloads delivered a second time (at-least-once delivery).
    pub redelivered_payloads: usize,
    /// Events in those payloads: the duplicates that must land.
    pub redelivered_events: usize,
    /// Why invocations failed.
    pub errors: Vec<String>,
    /// The handler's measured time, each invocation rounded up to a millisecond as Lambda
    /// bills it.
    pub handler_billed_ms: u64,
}

/// Tails one log group into the ETL function.
#[derive(Debug)]
pub struct SubscriptionInvoker<F, L = SdkLogs> {
    logs: L,
    owner: String,
    log_group: String,
    filter_name: String,
    pattern: FilterPattern,
    function: F,
    tokens: HashMap<String, String>,
    ingested: HashMap<String, Option<i64>>,
    /// Events read per stream since the positions were last forgotten: what the emulator's
    /// current state has given.
    read_now: HashMap<String, usize>,
    sequence: u64,
    redeliver: f64,
    rng: StdRng,
    /// Where `[[faults.lose]]` may take a payload (`subscription-payload`).
    losses: Option<std::sync::Arc<crate::faults::FaultPlan>>,
    /// How a failed invocation is retried.
    retries: AsyncRetryPolicy,
    /// The function's name, for its dead letters.
    function_name: String,
    /// The gzip level of the payloads it sends.
    payload_gzip_level: u32,
    /// What it did so far.
    pub report: SubscriptionReport,
}

impl<F: EtlFunction, L: LogsReader> SubscriptionInvoker<F, L> {
    /// A subscription of `filter_name` with `pattern` on `log_group`, owned by `owner`, reading
    /// through `logs`.
    pub fn new(
        logs: L,
        owner: &str,
        log_group: &str,
        filter_name: &str,
        pattern: FilterPattern,
        function: F,
    ) -> Self {
        Self {
            logs,
            owner: owner.to_owned(),
            log_group: log_group.to_owned(),
            filter_name: filter_name.to_owned(),
            pattern,
            function,
            tokens: HashMap::new(),
            ingested: HashMap::new(),
            read_now: HashMap::new(),
            sequence: 0,
            redeliver: 0.0,
            rng: StdRng::seed_from_u64(0),
            losses: None,
            retries: AsyncRetryPolicy::default(),
            function_name: "etl".to_owned(),
            payload_gzip_level: pipeline::etl::payload::PAYLOAD_GZIP_LEVEL,
            report: SubscriptionReport::default(),
        }
    }

    /// Delivers a `share` of the DATA_MESSAGE payloads twice, chosen by `seed`.
    #[must_use]
    pub fn with_redelivery(mut self, share: f64, seed: u64) -> Self {
        self.redeliver = share.clamp(0.0, 1.0);
        self.rng = StdRng::seed_from_u64(seed);
        self
    }

    /// Retries failed invocations by `policy`, naming `function` in the dead letters.
    #[must_use]
    pub fn with_retries(mut self, function: &str, policy: AsyncRetryPolicy) -> Self {
        self.function_name = function.to_owned();
        self.retries = policy;
        self
    }

    /// Gzips its payloads at `level` (0 to 9, zlib's) rather than
    /// [`PAYLOAD_GZIP_LEVEL`](pipeline::etl::payload::PAYLOAD_GZIP_LEVEL): the function decodes
    /// any level the same, so only speed and the payloads' size change.
    #[must_use]
    pub fn with_payload_gzip_level(mut self, level: u32) -> Self {
        self.payload_gzip_level = level.min(9);
        self
    }

    /// Loses the payloads `plan` says to (`[[faults.lose]]` at `subscription-payload`): read,
    /// counted as passed, never delivered.
    #[must_use]
    pub fn losing(mut self, plan: std::sync::Arc<crate::faults::FaultPlan>) -> Self {
        self.losses = Some(plan);
        self
    }

    /// Forgets every stream's read position: after an emulator restart the streams are new,
    /// and are read from their start. What was read stays in the report.
    pub fn forget_positions(&mut self) {
        self.tokens.clear();
        self.ingested.clear();
        self.read_now.clear();
    }

    /// The function it invokes.
    pub fn function(&self) -> &F {
        &self.function
    }

    /// Events read from `stream` since the positions were last forgotten.
    pub fn read_since_restart(&self, stream: &str) -> usize {
        self.read_now.get(stream).copied().unwrap_or(0)
    }

    /// Sends the CONTROL_MESSAGE CloudWatch Logs sends when a subscription is created.
    pub async fn start(&mut self, timestamp_ms: i64) {
        self.report.control_messages += 1;
        match payload::lambda_event(&payload::control_message(timestamp_ms)) {
            Ok(event) => {
                self.invoke(&event, "", 0).await;
            }
            Err(error) => self.report.errors.push(format!("control message: {error}")),
        }
    }

    /// Reads what is new and delivers it; returns the events read. With `Sweep::Changed`, a
    /// stream whose `lastIngestionTime` has not moved since the last read is not asked (to
    /// spare the emulator while agents ship; AWS updates that field only eventually, so the
    /// final drain uses `Sweep::All`).
    pub async fn poll(&mut self, sweep: Sweep) -> Result<usize, LogsError> {
        let mut streams = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .logs
                .describe_log_streams(&self.log_group, next.as_deref())
                .await?;
            for listed in page.streams {
                let seen = self
                    .ingested
                    .insert(listed.name.clone(), listed.last_ingestion_ms);
                let ingested = listed.last_ingestion_ms;
                if sweep == Sweep::All || ingested.is_none() || seen != Some(ingested) {
                    streams.push(listed.name);
                }
            }
            next = page.next_token;
            if next.is_none() {
                break;
            }
        }
        let mut read = 0;
        for stream in streams {
            read += self.poll_stream(&stream).await?;
        }
        Ok(read)
    }

    async fn poll_stream(&mut self, stream: &str) -> Result<usize, LogsError> {
        let mut read = 0;
        loop {
            let page = self
                .logs
                .get_log_events(
                    &self.log_group,
                    stream,
                    self.tokens.get(stream).map(String::as_str),
                )
                .await?;
            if let Some(token) = page.next_forward_token {
                self.tokens.insert(stream.to_owned(), token);
            }
            let events = page.events;
            if events.is_empty() {
                return Ok(read);
            }
            read += events.len();
            *self.report.read.entry(stream.to_owned()).or_default() += events.len();
            *self.read_now.entry(stream.to_owned()).or_default() += events.len();
            let mut matched = Vec::new();
            for event in events {
                if self.pattern.matches(&event.message) {
                    self.sequence += 1;
                    matched.push(StreamEvent::new(
                        event.timestamp_ms,
                        self.sequence,
                        event.message,
                    ));
                } else {
                    self.report.filtered += 1;
                }
            }
            self.report.matched += matched.len();
            let lost = !matched.is_empty()
                && self
                    .losses
                    .as_ref()
                    .is_some_and(|plan| plan.lose(crate::faults::LossStage::SubscriptionPayload));
            if !matched.is_empty() && !lost {
                let event = match payload::lambda_event_at(
                    &payload::data_message(
                        &self.owner,
                        &self.log_group,
                        stream,
                        &self.filter_name,
                        &matched,
                    ),
                    self.payload_gzip_level,
                ) {
                    Ok(event) => event,
                    Err(error) => {
                        self.report.failed_events += matched.len();
                        self.report
                            .errors
                            .push(format!("{stream}: payload: {error}"));
                        continue;
                    }
                };
                let delivered = self.invoke(&event, stream, matched.len()).await;
                if delivered
                    && self.rng.random_bool(self.redeliver)
                    && self.invoke(&event, stream, matched.len()).await
                {
                    self.report.redelivered_payloads += 1;
                    self.report.redelivered_events += matched.len();
                }
            }
        }
    }

    /// Invokes the function, retried as Lambda retries an asynchronous invocation; whether it
    /// succeeded. A payload that fails every attempt becomes a dead letter.
    async fn invoke(&mut self, event: &serde_json::Value, stream: &str, events: usize) -> bool {
        let mut attempt = 0;
        let mut age_ms = 0;
        let (error, gave_up) = loop {
            attempt += 1;
            self.report.invocations += 1;
            let started = std::time::Instant::now();
            let outcome = self.function.invoke(event).await;
            let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.report.handler_billed_ms += micros.div_ceil(1000).max(1);
            let error = match outcome {
                Ok(result) => {
                    self.report.etl_events += result.events;
                    self.report.rows += result.rows;
                    self.report.records += result.records;
                    return true;
                }
                Err(error) => error,
            };
            match self.retries.next_wait(attempt, age_ms) {
                Ok(wait) => {
                    self.report.retried_invocations += 1;
                    age_ms += AsyncRetryPolicy::wait_ms(attempt);
                    tracing::warn!(%error, attempt, "the ETL invocation failed; Lambda retries it");
                    tokio::time::sleep(wait).await;
                }
                Err(gave_up) => break (error, gave_up),
            }
        };
        self.report.failed_events += events;
        self.report.errors.push(format!(
            "{stream}: {events} events: {gave_up}, sent to the dead-letter queue: {error}"
        ));
        let (error_code, error_message) = error.code_and_message();
        self.report.dead_letters.push(DeadLetter {
            function: self.function_name.clone(),
            body: event.to_string(),
            error_code,
            error_message,
            gave_up: gave_up.to_string(),
            log_events: events,
            at_ms: self.retries.elapsed_ms(),
        });
        false
    }
}

#[cfg(test)]
mod tests {
    use pipeline::etl::{EtlConfig, EtlHandler, TransformOptions};
    use pipeline::firehose::RetryPolicy;
    use pipeline::firehose::memory::MemorySink;

    use super::*;
    use crate::clock::wall_now_ms;
    use crate::cloudwatch_logs::{LogEvent, LogsApi as _, MemoryLogs};

    const GROUP: &str = "CCP-logs-Test-000000000000-us-east-1";

    fn invoker<'s>(
        logs: &'s MemoryLogs,
        sink: &'s MemorySink,
        pattern: &str,
    ) -> SubscriptionInvoker<EtlHandler<&'s MemorySink>, &'s MemoryLogs> {
        let config = EtlConfig {
            delivery_stream: "rows".to_owned(),
            transform: TransformOptions::default(),
            retry: RetryPolicy::default(),
        };
        SubscriptionInvoker::new(
            logs,
            "000000000000",
            GROUP,
            "to-etl",
            FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{e}")),
            EtlHandler::new(sink, config),
        )
    }

    async fn put(logs: &MemoryLogs, stream: &str, messages: &[&str]) {
        logs.create_log_stream(GROUP, stream)
            .await
            .unwrap_or_default();
        let now = wall_now_ms();
        let events: Vec<LogEvent> = messages
            .iter()
            .map(|m| LogEvent {
                timestamp_ms: now,
                message: (*m).to_owned(),
            })
            .collect();
        logs.put_log_events(GROUP, stream, &events)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[tokio::test]
    async fn the_pattern_selects_and_each_event_is_read_once() {
        let (logs, sink) = (MemoryLogs::default(), MemorySink::new("rows"));
        let mut subscription = invoker(&logs, &sink, "ERROR");
        subscription.start(wall_now_ms()).await;
        let stream = "/var/log/messages/i-0123456789abcdef0";
        put(
            &logs,
            stream,
            &[
                "Dec 10 07:00:00 host app[1]: ERROR disk full",
                "Dec 10 07:00:01 host app[1]: all good",
            ],
        )
        .await;
        assert_eq!(subscription.poll(Sweep::Changed).await.ok(), Some(2));
        // Nothing new: the forward token holds, no stream changed.
        assert_eq!(subscription.poll(Sweep::All).await.ok(), Some(0));
        put(&logs, stream, &["Dec 10 07:00:02 host app[1]: ERROR again"]).await;
        assert_eq!(subscription.poll(Sweep::Changed).await.ok(), Some(1));

        let report = &subscription.report;
        assert_eq!(report.read.get(stream), Some(&3));
        assert_eq!((report.matched, report.filtered), (2, 1));
        assert_eq!(report.control_messages, 1);
        assert_eq!(report.rows, 2);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let delivered = String::from_utf8(sink.accepted_bytes()).unwrap_or_default();
        assert_eq!(delivered.lines().count(), 2, "{delivered}");
        assert!(delivered.contains("disk full") && delivered.contains("again"));
        assert!(!delivered.contains("all good"));
    }

    #[tokio::test]
    async fn a_missing_stream_is_an_error_naming_it() {
        let (logs, sink) = (MemoryLogs::default(), MemorySink::new("rows"));
        let mut subscription = invoker(&logs, &sink, "");
        let error = subscription
            .poll_stream("no-such-stream")
            .await
            .map(|_| ())
            .unwrap_err();
        assert_eq!(error.code, "ResourceNotFoundException");
        assert!(error.to_string().contains("no-such-stream"), "{error}");
    }
}
