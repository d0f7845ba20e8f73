//! The ledger: every record the simulated instances write, and its fate, kept by the harness
//! apart from the pipeline. At the end of a run the ledger says what should have landed in S3
//! (every event PutLogEvents accepted that the subscription filter passes) and the landed rows
//! are reconciled against it: missing, unexpected and duplicated events are counted, so that a
//! line lost anywhere in the pipeline shows up.

use std::collections::{BTreeMap, HashMap};

use foldhash::fast::FixedState;
use pipeline::filter_pattern::FilterPattern;
use serde::Serialize;

/// What happened to a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// On the instance; no agent has taken it (yet).
    Written,
    /// The agent did not collect it, for the reason given.
    NotCollected(String),
    /// PutLogEvents refused it, for the reason given.
    Rejected(String),
    /// PutLogEvents accepted it, as these events (one, or one per line when the agent does
    /// not join continuation lines).
    Sent(Vec<ShippedEvent>),
}

/// One event as PutLogEvents accepted it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShippedEvent {
    /// The log stream.
    pub log_stream: String,
    /// Event time, epoch milliseconds.
    pub timestamp_ms: i64,
    /// The message.
    pub message: String,
    /// Emulator restarts completed when the agent called PutLogEvents (0 in a run without
    /// `[[faults.restart]]`): an event sent before a restart may have been in the emulator's
    /// state when it was lost.
    pub restarts_before: u32,
    /// Set by the reconciliation: the restart (1-based) whose lost state took this event.
    pub lost_at_restart: Option<u32>,
}

impl ShippedEvent {
    /// An event PutLogEvents accepted after `restarts_before` emulator restarts.
    pub fn new(log_stream: &str, timestamp_ms: i64, message: String, restarts_before: u32) -> Self {
        Self {
            log_stream: log_stream.to_owned(),
            timestamp_ms,
            message,
            restarts_before,
            lost_at_restart: None,
        }
    }
}

/// Why an event lost at a restart is accounted for (the harness's rule, named in the report).
pub fn restart_loss_reason(restart: u32) -> String {
    format!(
        "lost with the emulator's state at restart {restart}: accepted before it, then gone with \
         the log group or the bucket (LocalStack's community edition keeps no state across a \
         restart; the harness's rule, AWS does not restart)"
    )
}

/// One record written by one instance to one source.
#[derive(Debug, Clone)]
pub struct LedgerRecord {
    /// The instance's scenario name (`web-1`).
    pub instance: String,
    /// Its EC2 id.
    pub instance_id: String,
    /// The source (file path or event log name).
    pub source: String,
    /// Simulated epoch milliseconds.
    pub timestamp_ms: i64,
    /// The physical lines.
    pub lines: Vec<String>,
    /// The Windows event level, for Windows events.
    pub level: Option<u8>,
    /// The Windows event id, for Windows events.
    pub event_id: Option<u32>,
    /// What happened to it.
    pub fate: Fate,
}

/// Every record of a run.
#[derive(Debug, Default)]
pub struct Ledger {
    records: Vec<LedgerRecord>,
    /// Emulator restarts completed so far ([`Ledger::restart_completed`]).
    restarts: u32,
}

/// An event read back from S3: its rows joined by part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandedEvent {
    /// The log stream.
    pub log_stream: String,
    /// CloudWatch Logs' event id.
    pub event_id: String,
    /// Event time, epoch milliseconds.
    pub timestamp_ms: i64,
    /// The message, parts joined.
    pub message: String,
}

/// Counts of one instance's source, or of the whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Records written.
    pub records: usize,
    /// Physical lines written.
    pub lines: usize,
    /// Records the agent did not collect.
    pub not_collected: usize,
    /// Records PutLogEvents refused.
    pub rejected: usize,
    /// Records never taken by an agent (must be 0 after a run).
    pub unaccounted: usize,
    /// Events PutLogEvents accepted.
    pub events_sent: usize,
    /// Sent events the subscription filter drops.
    pub events_filtered: usize,
    /// Sent events that should land.
    pub events_expected: usize,
    /// Lines that landed in S3 (each event once, however often it was delivered).
    pub lines_delivered: usize,
    /// Lines of events the subscription filter drops.
    pub lines_filtered: usize,
    /// Lines dropped by a stated rule: not collected, or refused by PutLogEvents (the
    /// reasons are in [`Reconciliation::reasons`]).
    pub lines_dropped: usize,
    /// Lines of expected events that were accepted before an emulator restart and did not
    /// land: lost with the emulator's state ([`restart_loss_reason`]).
    pub lines_lost_to_restart: usize,
    /// Landed copies beyond the first of an event (at-least-once delivery).
    pub duplicates: usize,
}

impl Counts {
    /// Lines neither delivered, filtered nor dropped by a stated rule: lost somewhere. Zero
    /// for every instance and source after a good run.
    pub fn lines_unaccounted(&self) -> usize {
        self.lines.saturating_sub(
            self.lines_delivered
                + self.lines_filtered
                + self.lines_dropped
                + self.lines_lost_to_restart,
        )
    }
}

/// The counts of the instance and source that write a stream.
fn counts_of<'a>(
    result: &'a mut Reconciliation,
    writer: Option<(&str, &str)>,
) -> Option<&'a mut Counts> {
    let (instance, source) = writer?;
    result
        .by_source
        .get_mut(instance)
        .and_then(|sources| sources.get_mut(source))
}

/// The number of physical lines in an event's message.
pub(crate) fn line_count(message: &str) -> usize {
    message.split('\n').count()
}

/// The reconciliation of landed events against the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    /// Totals over the run.
    pub totals: Counts,
    /// Counts per instance and source.
    pub by_source: BTreeMap<String, BTreeMap<String, Counts>>,
    /// Why records were not collected or were rejected, with counts.
    pub reasons: BTreeMap<String, usize>,
    /// Distinct events landed (after removing duplicates by event id).
    pub events_landed: usize,
    /// Landed rows that repeat an event id already seen.
    pub duplicates: usize,
    /// Expected events that did not land (those lost to an emulator restart apart).
    pub missing: usize,
    /// Expected events accepted before an emulator restart that did not land: lost with its
    /// state, by a stated rule ([`restart_loss_reason`]).
    pub lost_to_restart: usize,
    /// Landed events the ledger does not expect.
    pub unexpected: usize,
    /// Events accepted before the last emulator restart (0 without restarts): the subscription
    /// may not have read them before they went with the emulator's state.
    pub events_sent_before_restart: usize,
    /// Of those, the ones the filter pattern passes.
    pub events_expected_before_restart: usize,
    /// A few missing events, for the report.
    pub missing_examples: Vec<String>,
    /// A few unexpected events, for the report.
    pub unexpected_examples: Vec<String>,
}

impl Reconciliation {
    /// Whether everything expected landed exactly once and nothing else did.
    pub fn is_exact(&self) -> bool {
        self.missing == 0 && self.unexpected == 0 && self.totals.unaccounted == 0
    }
}

const EXAMPLES: usize = 5;

impl Ledger {
    /// Adds records; returns the index of the first.
    pub fn add(&mut self, records: impl IntoIterator<Item = LedgerRecord>) -> usize {
        let first = self.records.len();
        self.records.extend(records);
        first
    }

    /// The record at `index`.
    pub fn get(&self, index: usize) -> Option<&LedgerRecord> {
        self.records.get(index)
    }

    /// Sets a record's fate.
    pub fn set_fate(&mut self, index: usize, fate: Fate) {
        if let Some(record) = self.records.get_mut(index) {
            record.fate = fate;
        }
    }

    /// Marks records not collected, in one pass over the ledger: every record still
    /// [`Fate::Written`] of an instance in `reasons` gets that instance's reason.
    pub fn not_collected_by(&mut self, reasons: &HashMap<&str, &str>) {
        for record in &mut self.records {
            if record.fate == Fate::Written
                && let Some(reason) = reasons.get(record.instance.as_str())
            {
                record.fate = Fate::NotCollected((*reason).to_owned());
            }
        }
    }

    /// Every record.
    pub fn records(&self) -> &[LedgerRecord] {
        &self.records
    }

    /// Records an emulator restart as complete: events accepted from now on are in the
    /// restarted emulator's state.
    pub fn restart_completed(&mut self) {
        self.restarts += 1;
    }

    /// Emulator restarts completed so far.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// Events sent since the last emulator restart, per stream: what the subscription must
    /// still find in the log group (what was sent before a restart went with its state).
    pub fn sent_per_stream(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for record in &self.records {
            if let Fate::Sent(events) = &record.fate {
                for event in events.iter().filter(|e| e.restarts_before == self.restarts) {
                    *counts.entry(event.log_stream.clone()).or_insert(0) += 1;
                }
            }
        }
        counts
    }

    /// Reconciles the landed events against what the ledger expects under `pattern`. Expected
    /// events that did not land and were accepted before an emulator restart are marked lost
    /// at that restart ([`ShippedEvent::lost_at_restart`]) and counted apart from the missing.
    pub fn reconcile(&mut self, pattern: &FilterPattern, landed: &[LandedEvent]) -> Reconciliation {
        let (mut result, losses) = self.tally(pattern, landed);
        self.mark_lost(losses, &mut result);
        result
    }

    /// The reconciliation, and the expected events (by key) that did not land although they
    /// could have been lost at a restart, with how many.
    fn tally(
        &self,
        pattern: &FilterPattern,
        landed: &[LandedEvent],
    ) -> (Reconciliation, Vec<(EventKey, usize)>) {
        let mut result = Reconciliation::default();
        // Per key: how many are expected, and how many of those were sent before the last
        // restart.
        let mut expected: FastMap<(&str, i64, &str), (usize, usize)> = FastMap::default();
        // Which instance and source write each stream.
        let mut writers: HashMap<&str, (&str, &str)> = HashMap::new();
        for record in &self.records {
            let counts = result
                .by_source
                .entry(record.instance.clone())
                .or_default()
                .entry(record.source.clone())
                .or_default();
            count_record(counts, record, pattern);
            count_record(&mut result.totals, record, pattern);
            match &record.fate {
                Fate::NotCollected(why) => {
                    *result
                        .reasons
                        .entry(format!("not collected: {why}"))
                        .or_default() += 1;
                }
                Fate::Rejected(why) => {
                    *result
                        .reasons
                        .entry(format!("rejected: {why}"))
                        .or_default() += 1;
                }
                Fate::Sent(events) => {
                    for event in events {
                        writers.insert(&event.log_stream, (&record.instance, &record.source));
                        if crate::cloudwatch_agent::events::was_truncated(&event.message) {
                            *result
                                .reasons
                                .entry(format!(
                                    "sent truncated: the agent cuts an event to {} bytes ending \
                                     in {} (lines past the cut are dropped)",
                                    crate::cloudwatch_agent::events::MAX_EVENT_MESSAGE_BYTES,
                                    crate::cloudwatch_agent::events::TRUNCATED_SUFFIX
                                ))
                                .or_default() += 1;
                        }
                    }
                    for event in events {
                        let at_risk = usize::from(event.restarts_before < self.restarts);
                        result.events_sent_before_restart += at_risk;
                        if pattern.matches(&event.message) {
                            result.events_expected_before_restart += at_risk;
                            let entry = expected
                                .entry((&event.log_stream, event.timestamp_ms, &event.message))
                                .or_default();
                            entry.0 += 1;
                            entry.1 += at_risk;
                        }
                    }
                }
                Fate::Written => {}
            }
        }
        let mut seen_ids: std::collections::HashSet<_, FixedState> =
            std::collections::HashSet::default();
        for event in landed {
            let writer = writers.get(event.log_stream.as_str()).copied();
            if !seen_ids.insert((&event.log_stream, &event.event_id)) {
                result.duplicates += 1;
                result.totals.duplicates += 1;
                if let Some(counts) = counts_of(&mut result, writer) {
                    counts.duplicates += 1;
                }
                continue;
            }
            result.events_landed += 1;
            let key = (
                event.log_stream.as_str(),
                event.timestamp_ms,
                event.message.as_str(),
            );
            match expected.get_mut(&key) {
                Some((n, _)) if *n > 0 => {
                    *n -= 1;
                    let lines = line_count(&event.message);
                    result.totals.lines_delivered += lines;
                    if let Some(counts) = counts_of(&mut result, writer) {
                        counts.lines_delivered += lines;
                    }
                }
                _ => {
                    result.unexpected += 1;
                    if result.unexpected_examples.len() < EXAMPLES {
                        result.unexpected_examples.push(format!(
                            "{} @{}: {}",
                            event.log_stream,
                            event.timestamp_ms,
                            clip(&event.message)
                        ));
                    }
                }
            }
        }
        let mut missing: Vec<_> = expected.into_iter().filter(|(_, (n, _))| *n > 0).collect();
        missing.sort_unstable();
        let mut losses = Vec::new();
        for ((stream, timestamp, message), (n, at_risk)) in missing {
            let lost = n.min(at_risk);
            if lost > 0 {
                losses.push(((stream.to_owned(), timestamp, message.to_owned()), lost));
            }
            let n = n - lost;
            result.missing += n;
            if n > 0 && result.missing_examples.len() < EXAMPLES {
                result
                    .missing_examples
                    .push(format!("{stream} @{timestamp}: {}", clip(message)));
            }
        }
        (result, losses)
    }

    /// Marks `losses` (expected events sent before a restart that did not land) as lost at the
    /// first restart after they were sent, and counts them.
    fn mark_lost(&mut self, losses: Vec<(EventKey, usize)>, result: &mut Reconciliation) {
        if losses.is_empty() {
            return;
        }
        let mut left: HashMap<EventKey, usize> = losses.into_iter().collect();
        let restarts = self.restarts;
        for record in &mut self.records {
            let Fate::Sent(events) = &mut record.fate else {
                continue;
            };
            for event in events.iter_mut().filter(|e| e.restarts_before < restarts) {
                let key = (
                    event.log_stream.clone(),
                    event.timestamp_ms,
                    event.message.clone(),
                );
                let Some(n) = left.get_mut(&key).filter(|n| **n > 0) else {
                    continue;
                };
                *n -= 1;
                let restart = event.restarts_before + 1;
                event.lost_at_restart = Some(restart);
                let lines = line_count(&event.message);
                result.lost_to_restart += 1;
                result.totals.lines_lost_to_restart += lines;
                if let Some(counts) = result
                    .by_source
                    .get_mut(&record.instance)
                    .and_then(|sources| sources.get_mut(&record.source))
                {
                    counts.lines_lost_to_restart += lines;
                }
                *result
                    .reasons
                    .entry(restart_loss_reason(restart))
                    .or_default() += 1;
            }
        }
    }
}

/// The reconciliation's maps: millions of keys the harness made itself, hashed with foldhash
/// rather than SipHash (a sixth of a memory run's time was SipHash).
type FastMap<K, V> = HashMap<K, V, FixedState>;

/// An event's identity in the reconciliation: stream, timestamp, message.
type EventKey = (String, i64, String);

/// Adds one record's lines and events to `counts`.
fn count_record(counts: &mut Counts, record: &LedgerRecord, pattern: &FilterPattern) {
    counts.records += 1;
    counts.lines += record.lines.len();
    match &record.fate {
        Fate::Written => counts.unaccounted += 1,
        Fate::NotCollected(_) => {
            counts.not_collected += 1;
            counts.lines_dropped += record.lines.len();
        }
        Fate::Rejected(_) => {
            counts.rejected += 1;
            counts.lines_dropped += record.lines.len();
        }
        Fate::Sent(events) => {
            let mut sent_lines = 0;
            for event in events {
                counts.events_sent += 1;
                sent_lines += line_count(&event.message);
                if pattern.matches(&event.message) {
                    counts.events_expected += 1;
                } else {
                    counts.events_filtered += 1;
                    counts.lines_filtered += line_count(&event.message);
                }
            }
            // Lines of a record PutLogEvents refused in part.
            counts.lines_dropped += record.lines.len().saturating_sub(sent_lines);
        }
    }
}

/// One ledger record as a line of the ledger file.
#[derive(Debug, Serialize)]
struct RecordLine<'a> {
    instance: &'a str,
    instance_id: &'a str,
    source: &'a str,
    timestamp_ms: i64,
    lines: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    windows_level: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    windows_event_id: Option<u32>,
    /// `written`, `not_collected`, `rejected` or `sent`.
    fate: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// The events PutLogEvents accepted, with whether the filter pattern passes each.
    events: Vec<EventLine<'a>>,
}

#[derive(Debug, Serialize)]
struct EventLine<'a> {
    log_stream: &'a str,
    timestamp_ms: i64,
    message: &'a str,
    passes_filter: bool,
    /// The restart whose lost state took the event (set by the reconciliation).
    #[serde(skip_serializing_if = "Option::is_none")]
    lost_at_restart: Option<u32>,
}

impl Ledger {
    /// Writes the ledger as NDJSON, one record per line, with each sent event and whether the
    /// filter `pattern` passes it: what a later check (or a person) needs to know what should
    /// be in the bucket, without the pipeline.
    pub fn write_ndjson(
        &self,
        pattern: &FilterPattern,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        for record in &self.records {
            let (fate, reason, events) = match &record.fate {
                Fate::Written => ("written", None, Vec::new()),
                Fate::NotCollected(why) => ("not_collected", Some(why.as_str()), Vec::new()),
                Fate::Rejected(why) => ("rejected", Some(why.as_str()), Vec::new()),
                Fate::Sent(events) => (
                    "sent",
                    None,
                    events
                        .iter()
                        .map(|e| EventLine {
                            log_stream: &e.log_stream,
                            timestamp_ms: e.timestamp_ms,
                            message: &e.message,
                            passes_filter: pattern.matches(&e.message),
                            lost_at_restart: e.lost_at_restart,
                        })
                        .collect(),
                ),
            };
            let line = RecordLine {
                instance: &record.instance,
                instance_id: &record.instance_id,
                source: &record.source,
                timestamp_ms: record.timestamp_ms,
                lines: record.lines.len(),
                windows_level: record.level,
                windows_event_id: record.event_id,
                fate,
                reason,
                events,
            };
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

fn clip(message: &str) -> String {
    let mut end = message.len().min(120);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let clipped = &message[..end];
    if end < message.len() {
        format!("{clipped}…")
    } else {
        clipped.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(instance: &str, message: &str, fate: Fate) -> LedgerRecord {
        LedgerRecord {
            instance: instance.into(),
            instance_id: "i-1".into(),
            source: "/var/log/secure".into(),
            timestamp_ms: 1_000,
            lines: vec![message.into()],
            level: None,
            event_id: None,
            fate,
        }
    }

    fn sent(message: &str) -> Fate {
        sent_after(message, 0)
    }

    fn sent_after(message: &str, restarts: u32) -> Fate {
        Fate::Sent(vec![ShippedEvent::new(
            "/var/log/secure/i-1",
            1_000,
            message.into(),
            restarts,
        )])
    }

    fn landed(id: &str, message: &str) -> LandedEvent {
        LandedEvent {
            log_stream: "/var/log/secure/i-1".into(),
            event_id: id.into(),
            timestamp_ms: 1_000,
            message: message.into(),
        }
    }

    #[test]
    fn every_fate_is_counted_and_landed_events_are_matched_once() {
        let mut ledger = Ledger::default();
        ledger.add([
            record("a", "Failed password", sent("Failed password")),
            record("a", "Failed password", sent("Failed password")),
            record("a", "Accepted publickey", sent("Accepted publickey")),
            record("a", "x", Fate::NotCollected("level".into())),
            record("b", "y", Fate::Written),
        ]);
        let pattern = FilterPattern::parse("Failed").unwrap();
        let result = ledger.reconcile(
            &pattern,
            &[
                landed("1", "Failed password"),
                landed("1", "Failed password"),
                landed("3", "something else"),
            ],
        );
        assert_eq!(result.totals.records, 5);
        assert_eq!(result.totals.events_sent, 3);
        assert_eq!(result.totals.events_filtered, 1);
        assert_eq!(result.totals.events_expected, 2);
        assert_eq!(result.totals.not_collected, 1);
        assert_eq!(result.totals.unaccounted, 1);
        assert_eq!(result.duplicates, 1);
        assert_eq!(result.events_landed, 2);
        assert_eq!(
            result.missing, 1,
            "two identical lines were sent; one landed"
        );
        assert_eq!(result.unexpected, 1);
        assert!(result.unexpected_examples[0].contains("something else"));
        assert!(!result.is_exact());
        assert_eq!(result.reasons.get("not collected: level"), Some(&1));
    }

    #[test]
    fn the_ledger_file_has_one_line_per_record_with_fates_and_filter_verdicts() {
        let mut ledger = Ledger::default();
        ledger.add([
            record("a", "Failed password", sent("Failed password")),
            record("a", "x", Fate::NotCollected("level".into())),
        ]);
        let mut out = Vec::new();
        ledger
            .write_ndjson(&FilterPattern::parse("Accepted").unwrap(), &mut out)
            .unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["fate"], "sent");
        assert_eq!(lines[0]["instance_id"], "i-1");
        assert_eq!(lines[0]["events"][0]["passes_filter"], false);
        assert_eq!(lines[1]["fate"], "not_collected");
        assert_eq!(lines[1]["reason"], "level");
    }

    proptest::proptest! {
        /// Whatever subset of the expected events lands, and however often each copy lands,
        /// the reconciliation counts exactly the missing, the duplicated and the foreign ones.
        #[test]
        fn reconciliation_counts_missing_duplicates_and_strangers(
            messages in proptest::collection::vec("[a-c]{1,2}", 0..40),
            copies in proptest::collection::vec(0usize..3, 40),
            strangers in 0usize..5,
        ) {
            let mut ledger = Ledger::default();
            ledger.add(messages.iter().map(|m| record("a", m, sent(m))));
            let mut landed_events = Vec::new();
            let mut expect_missing = 0;
            let mut expect_duplicates = 0;
            for (i, message) in messages.iter().enumerate() {
                let id = format!("{i:056}");
                match copies[i] {
                    0 => expect_missing += 1,
                    n => {
                        expect_duplicates += n - 1;
                        landed_events.extend((0..n).map(|_| landed(&id, message)));
                    }
                }
            }
            for s in 0..strangers {
                landed_events.push(landed(&format!("x{s}"), "never written"));
            }
            let result = ledger.reconcile(&FilterPattern::match_all(), &landed_events);
            proptest::prop_assert_eq!(result.missing, expect_missing);
            proptest::prop_assert_eq!(result.duplicates, expect_duplicates);
            proptest::prop_assert_eq!(result.unexpected, strangers);
            proptest::prop_assert_eq!(result.events_landed, messages.len() - expect_missing + strangers);
        }
    }

    #[test]
    fn every_line_is_delivered_filtered_or_dropped_and_duplicates_count_per_source() {
        let mut ledger = Ledger::default();
        // Two lines joined into one event, delivered twice.
        let mut joined = record("a", "Failed password", sent("Failed password\n  again"));
        joined.lines.push("  again".into());
        ledger.add([
            joined,
            // Filtered.
            record("a", "Accepted", sent("Accepted")),
            // Not collected: dropped by a stated rule.
            record("a", "x", Fate::NotCollected("level".into())),
            // Sent but never landed: unaccounted.
            record("a", "Failed again", sent("Failed again")),
        ]);
        let pattern = FilterPattern::parse("Failed").unwrap();
        let result = ledger.reconcile(
            &pattern,
            &[
                landed("1", "Failed password\n  again"),
                landed("1", "Failed password\n  again"),
            ],
        );
        let counts = &result.by_source["a"]["/var/log/secure"];
        assert_eq!(counts.lines, 5);
        assert_eq!(counts.lines_delivered, 2);
        assert_eq!(counts.lines_filtered, 1);
        assert_eq!(counts.lines_dropped, 1);
        assert_eq!(counts.duplicates, 1);
        assert_eq!(counts.lines_unaccounted(), 1, "the line that never landed");
        assert_eq!(result.totals.lines_delivered, 2);
    }

    #[test]
    fn events_sent_before_a_restart_that_did_not_land_are_lost_to_it_by_name() {
        let mut ledger = Ledger::default();
        ledger.add([
            // Sent before the restart: one landed (read before it), one went with the state.
            record("a", "before landed", sent_after("before landed", 0)),
            record("a", "before lost", sent_after("before lost", 0)),
        ]);
        ledger.restart_completed();
        ledger.add([
            // Sent after it: must land; this one did not, and is missing, not excused.
            record("a", "after lost", sent_after("after lost", 1)),
            record("a", "after landed", sent_after("after landed", 1)),
        ]);
        assert_eq!(
            ledger.sent_per_stream().get("/var/log/secure/i-1"),
            Some(&2),
            "only what was sent since the restart is still in the log group"
        );
        let result = ledger.reconcile(
            &FilterPattern::match_all(),
            &[landed("1", "before landed"), landed("2", "after landed")],
        );
        assert_eq!(result.lost_to_restart, 1);
        assert_eq!(result.missing, 1);
        assert!(result.missing_examples[0].contains("after lost"));
        assert_eq!(result.totals.lines_lost_to_restart, 1);
        assert_eq!(
            result.totals.lines_unaccounted(),
            1,
            "the line sent after the restart"
        );
        assert_eq!(result.reasons.get(&restart_loss_reason(1)), Some(&1));
        let lost: Vec<_> = ledger
            .records()
            .iter()
            .filter_map(|r| match &r.fate {
                Fate::Sent(events) => events.iter().find(|e| e.lost_at_restart.is_some()),
                _ => None,
            })
            .collect();
        assert_eq!(lost.len(), 1);
        assert_eq!(lost[0].message, "before lost");
        assert_eq!(lost[0].lost_at_restart, Some(1));
    }

    #[test]
    fn an_exact_run_reconciles_cleanly() {
        let mut ledger = Ledger::default();
        ledger.add([record("a", "m", sent("m"))]);
        ledger.not_collected_by(&HashMap::from([("a", "never onboarded")]));
        let result = ledger.reconcile(&FilterPattern::match_all(), &[landed("9", "m")]);
        assert!(result.is_exact(), "{result:?}");
        assert_eq!(
            ledger.sent_per_stream().get("/var/log/secure/i-1"),
            Some(&1)
        );
    }
}
