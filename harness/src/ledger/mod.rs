//! The ledger: every record the simulated instances write, and its fate, kept by the harness
//! apart from the pipeline. At the end of a run the ledger says what should have landed in S3
//! (every event PutLogEvents accepted that the subscription filter passes) and the landed rows
//! are reconciled against it ([`Reconciler`]): missing, unexpected and duplicated events are
//! counted, so that a line lost anywhere in the pipeline shows up.
//!
//! The ledger holds every line of a run, so it is built to be small ([`store`]): texts in one
//! arena, names interned, records and events as fixed-size rows. It is read through views
//! ([`RecordView`], [`EventView`]) and changed through the operations the run needs (write,
//! not collected, an agent's outcome, lost at a restart). The reconciliation takes the landed
//! events one at a time, so that they need not be held.

mod file;
mod host;
mod latency;
mod reconcile;
mod store;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

pub use host::LedgerHost;
pub use latency::{
    Arrival, HISTOGRAM_BOUNDS_MS, Latency, Spread, StageLatencies, Timeline, TimelineBucket,
};
pub use reconcile::Reconciler;
use store::{Arena, Event, FateCode, Names, Record, Span, Writer, to_u16, to_u32};

/// What happened to a record (the owned form, for [`Ledger::add`] and for comparisons; the
/// ledger keeps it compact and gives it back as a [`FateView`]).
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
    /// When PutLogEvents accepted it, simulated epoch milliseconds.
    pub sent_ms: i64,
    /// Emulator restarts completed when the agent called PutLogEvents (0 in a run without
    /// `[[faults.restart]]`): an event sent before a restart may have been in the emulator's
    /// state when it was lost.
    pub restarts_before: u32,
    /// Set by the reconciliation: the restart (1-based) whose lost state took this event.
    pub lost_at_restart: Option<u32>,
    /// Whether the agent cut the message to its size limit (the lines past the cut were never
    /// sent).
    pub truncated: bool,
}

impl ShippedEvent {
    /// An event PutLogEvents accepted after `restarts_before` emulator restarts, whole, at its
    /// own time (use [`ShippedEvent::at`] for a later call).
    pub fn new(log_stream: &str, timestamp_ms: i64, message: String, restarts_before: u32) -> Self {
        Self {
            log_stream: log_stream.to_owned(),
            timestamp_ms,
            message,
            sent_ms: timestamp_ms,
            restarts_before,
            lost_at_restart: None,
            truncated: false,
        }
    }

    /// The same event, accepted at `sent_ms` (simulated epoch milliseconds).
    #[must_use]
    pub fn at(self, sent_ms: i64) -> Self {
        Self { sent_ms, ..self }
    }

    /// The event an agent sent, accepted after `restarts_before` emulator restarts.
    pub fn sent(event: standins::cloudwatch_agent::SentEvent, restarts_before: u32) -> Self {
        Self {
            log_stream: event.log_stream,
            timestamp_ms: event.timestamp_ms,
            message: event.message,
            sent_ms: event.sent_ms,
            restarts_before,
            lost_at_restart: None,
            truncated: event.truncated,
        }
    }
}

/// Why an event lost at a restart is accounted for (the harness's rule, named in the report).
pub fn restart_loss_reason(restart: u32) -> String {
    format!(
        "lost with the emulator's state at restart {restart}: sent before it (accepted, or in \
         flight when it went away), then gone with the log group or the bucket (LocalStack's \
         community edition keeps no state across a restart; the harness's rule, AWS does not \
         restart)"
    )
}

/// One record written by one instance to one source, owned (what [`Ledger::add`] takes).
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

/// A record as an instance writes it (what [`Ledger::write`] takes), borrowed.
#[derive(Debug, Clone, Copy)]
pub struct NewRecord<'a> {
    /// The instance's scenario name (`web-1`).
    pub instance: &'a str,
    /// Its EC2 id.
    pub instance_id: &'a str,
    /// The source (file path or event log name).
    pub source: &'a str,
    /// Simulated epoch milliseconds.
    pub timestamp_ms: i64,
    /// The physical lines.
    pub lines: &'a [String],
    /// The Windows event level, for Windows events.
    pub level: Option<u8>,
    /// The Windows event id, for Windows events.
    pub event_id: Option<u32>,
}

/// Every record of a run.
#[derive(Debug, Default)]
pub struct Ledger {
    names: Names,
    writers: Vec<Writer>,
    writer_index: HashMap<Writer, u32, foldhash::fast::FixedState>,
    text: Arena,
    records: Vec<Record>,
    events: Vec<Event>,
    /// Emulator restarts completed so far ([`Ledger::restart_completed`]).
    restarts: u32,
    /// For each restart, whether it carried across what AWS keeps (the log group read to its
    /// end, the bucket kept): events sent before one that did are not at risk.
    carried: Vec<bool>,
}

/// An event read back from S3: its rows joined by part, borrowed from the object's text where
/// it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandedEvent<'a> {
    /// The log stream.
    pub log_stream: Cow<'a, str>,
    /// CloudWatch Logs' event id.
    pub event_id: Cow<'a, str>,
    /// Event time, epoch milliseconds.
    pub timestamp_ms: i64,
    /// The message, parts joined.
    pub message: Cow<'a, str>,
    /// When it reached Firehose and S3, where the harness's Firehose model wrote its object.
    pub arrival: Option<Arrival>,
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

impl Counts {
    /// Adds `other`'s counts to these.
    fn absorb(&mut self, other: &Counts) {
        self.records += other.records;
        self.lines += other.lines;
        self.not_collected += other.not_collected;
        self.rejected += other.rejected;
        self.unaccounted += other.unaccounted;
        self.events_sent += other.events_sent;
        self.events_filtered += other.events_filtered;
        self.events_expected += other.events_expected;
        self.lines_delivered += other.lines_delivered;
        self.lines_filtered += other.lines_filtered;
        self.lines_dropped += other.lines_dropped;
        self.lines_lost_to_restart += other.lines_lost_to_restart;
        self.duplicates += other.duplicates;
    }
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
    /// End-to-end latency of the events that landed, on the simulated clock.
    pub latency: Latency,
}

impl Reconciliation {
    /// Whether everything expected landed exactly once and nothing else did.
    pub fn is_exact(&self) -> bool {
        self.missing == 0 && self.unexpected == 0 && self.totals.unaccounted == 0
    }
}

/// A record of the ledger, read in place.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    ledger: &'a Ledger,
    record: &'a Record,
}

impl<'a> RecordView<'a> {
    /// The instance's scenario name (`web-1`).
    pub fn instance(&self) -> &'a str {
        self.ledger.writer_name(self.record.writer, |w| w.instance)
    }

    /// Its EC2 id.
    pub fn instance_id(&self) -> &'a str {
        self.ledger
            .writer_name(self.record.writer, |w| w.instance_id)
    }

    /// The source (file path or event log name).
    pub fn source(&self) -> &'a str {
        self.ledger.writer_name(self.record.writer, |w| w.source)
    }

    /// Simulated epoch milliseconds.
    pub fn timestamp_ms(&self) -> i64 {
        self.record.timestamp_ms
    }

    /// The record's text: its lines joined by `\n` (what the agent reads as one event when it
    /// does not split).
    pub fn text(&self) -> &'a str {
        self.ledger.text.get(self.record.text())
    }

    /// The record's physical lines, split from its text at `\n`. A file's lines never hold a
    /// `\n` (they are split at it), so these are the lines written; a Windows event is one
    /// "line" whose rendering may hold several (see [`RecordView::line_count`]).
    pub fn lines(&self) -> std::str::Split<'a, char> {
        self.text().split('\n')
    }

    /// The number of physical lines written (the unit of the ledger's counts).
    pub fn line_count(&self) -> usize {
        self.record.lines as usize
    }

    /// The Windows event level, for Windows events.
    pub fn level(&self) -> Option<u8> {
        self.record.level()
    }

    /// The Windows event id, for Windows events.
    pub fn event_id(&self) -> Option<u32> {
        self.record.event_id()
    }

    /// What happened to it.
    pub fn fate(&self) -> FateView<'a> {
        match self.record.fate {
            FateCode::Written => FateView::Written,
            FateCode::NotCollected(why) => FateView::NotCollected(self.ledger.names.name(why)),
            FateCode::Rejected(why) => FateView::Rejected(self.ledger.names.name(why)),
            FateCode::Sent { .. } => FateView::Sent(self.events()),
        }
    }

    /// The events PutLogEvents accepted of it (none unless it was sent).
    pub fn events(&self) -> Vec<EventView<'a>> {
        let FateCode::Sent { first, count } = self.record.fate else {
            return Vec::new();
        };
        let (first, count) = (first as usize, count as usize);
        self.ledger
            .events
            .get(first..first + count)
            .unwrap_or_default()
            .iter()
            .map(|event| self.ledger.event_view(event))
            .collect()
    }
}

/// A record's fate, read in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FateView<'a> {
    /// On the instance; no agent has taken it (yet).
    Written,
    /// The agent did not collect it, for the reason given.
    NotCollected(&'a str),
    /// PutLogEvents refused it, for the reason given.
    Rejected(&'a str),
    /// PutLogEvents accepted it, as these events.
    Sent(Vec<EventView<'a>>),
}

impl FateView<'_> {
    /// The owned fate (for comparisons).
    pub fn to_fate(&self) -> Fate {
        match self {
            Self::Written => Fate::Written,
            Self::NotCollected(why) => Fate::NotCollected((*why).to_owned()),
            Self::Rejected(why) => Fate::Rejected((*why).to_owned()),
            Self::Sent(events) => Fate::Sent(events.iter().map(EventView::to_shipped).collect()),
        }
    }
}

/// An event PutLogEvents accepted, read in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventView<'a> {
    /// The log stream.
    pub log_stream: &'a str,
    /// Event time, epoch milliseconds.
    pub timestamp_ms: i64,
    /// The message.
    pub message: &'a str,
    /// When PutLogEvents accepted it, simulated epoch milliseconds.
    pub sent_ms: i64,
    /// Emulator restarts completed when the agent called PutLogEvents.
    pub restarts_before: u32,
    /// The restart (1-based) whose lost state took this event, set by the reconciliation.
    pub lost_at_restart: Option<u32>,
    /// Whether the agent cut the message to its size limit.
    pub truncated: bool,
}

impl EventView<'_> {
    /// The owned event.
    pub fn to_shipped(&self) -> ShippedEvent {
        ShippedEvent {
            log_stream: self.log_stream.to_owned(),
            timestamp_ms: self.timestamp_ms,
            message: self.message.to_owned(),
            sent_ms: self.sent_ms,
            restarts_before: self.restarts_before,
            lost_at_restart: self.lost_at_restart,
            truncated: self.truncated,
        }
    }
}

impl Ledger {
    /// Writes records with their fates; returns the index of the first.
    pub fn add(&mut self, records: impl IntoIterator<Item = LedgerRecord>) -> usize {
        let first = self.records.len();
        for record in records {
            let index = self.write(NewRecord {
                instance: &record.instance,
                instance_id: &record.instance_id,
                source: &record.source,
                timestamp_ms: record.timestamp_ms,
                lines: &record.lines,
                level: record.level,
                event_id: record.event_id,
            });
            match record.fate {
                Fate::Written => {}
                Fate::NotCollected(why) => self.not_collected(index, &why),
                Fate::Rejected(why) => self.refused(index, &why),
                Fate::Sent(events) => {
                    for event in &events {
                        self.accepted(index, event);
                    }
                }
            }
        }
        first
    }

    /// Writes one record, not yet taken by an agent; returns its index.
    pub fn write(&mut self, record: NewRecord<'_>) -> usize {
        let writer = Writer {
            instance: self.names.intern(record.instance),
            instance_id: self.names.intern(record.instance_id),
            source: self.names.intern(record.source),
        };
        let writer = match self.writer_index.get(&writer) {
            Some(&id) => id,
            None => {
                let id = to_u32(self.writers.len());
                self.writers.push(writer);
                self.writer_index.insert(writer, id);
                id
            }
        };
        let text = self
            .text
            .push_joined(record.lines.iter().map(String::as_str), '\n');
        self.records.push(Record::new(
            record.timestamp_ms,
            text,
            to_u32(record.lines.len()),
            writer,
            record.event_id,
            record.level,
        ));
        self.records.len() - 1
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record was written.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The record at `index`.
    pub fn get(&self, index: usize) -> Option<RecordView<'_>> {
        self.records.get(index).map(|record| RecordView {
            ledger: self,
            record,
        })
    }

    /// Bytes of the text the ledger holds (records' lines and the messages kept apart).
    pub fn text_bytes(&self) -> usize {
        self.text.len()
    }

    /// Bytes of every event PutLogEvents accepted (its message, UTF-8), each copy once.
    pub fn sent_bytes(&self) -> u64 {
        self.records()
            .map(|record| match record.fate() {
                FateView::Sent(events) => events.iter().map(|e| e.message.len() as u64).sum(),
                _ => 0,
            })
            .sum()
    }

    /// Every record, in the order written.
    pub fn records(&self) -> impl ExactSizeIterator<Item = RecordView<'_>> {
        self.records.iter().map(|record| RecordView {
            ledger: self,
            record,
        })
    }

    /// Marks a record not collected by the agent, for `reason`.
    pub fn not_collected(&mut self, index: usize, reason: &str) {
        let reason = self.names.intern(reason);
        if let Some(record) = self.records.get_mut(index) {
            record.fate = FateCode::NotCollected(reason);
        }
    }

    /// PutLogEvents accepted `event` of the record at `index`: the record is sent, with this
    /// event after any accepted before.
    pub fn accepted(&mut self, index: usize, event: &ShippedEvent) {
        let Some(record) = self.records.get(index) else {
            return;
        };
        let text = record.text();
        let (first, count) = match record.fate {
            FateCode::Sent { first, count } => (first, count),
            _ => (to_u32(self.events.len()), 0),
        };
        let message = self.message_span(text, first, count, &event.message);
        // A record's events are one run of the event table; one sent again after other
        // records' events moves its run to the end (the agent settles a record's events
        // together, so this does not happen in a run).
        let end = first as usize + count as usize;
        let first = if end == self.events.len() {
            first
        } else {
            self.events.extend_from_within(first as usize..end);
            to_u32(self.events.len() - count as usize)
        };
        let stream = self.names.intern(&event.log_stream);
        self.events.push(Event::new(
            (event.timestamp_ms, event.sent_ms),
            message,
            stream,
            to_u32(index),
            to_u16(event.restarts_before),
            event.truncated,
        ));
        if let Some(record) = self.records.get_mut(index) {
            record.fate = FateCode::Sent {
                first,
                count: count + 1,
            };
        }
    }

    /// Where an accepted event's `message` is kept: the record's text, or the piece of it after
    /// the record's last event (one event per line), when it is that; else a copy in the arena
    /// (a truncated event).
    fn message_span(&mut self, text: Span, first: u32, count: u32, message: &str) -> Span {
        let after_last = count
            .checked_sub(1)
            .and_then(|last| self.events.get((first + last) as usize))
            .map_or(text.start, |last| last.message().end() + 1);
        self.text
            .find_at(after_last, text, message)
            .or_else(|| self.text.find_at(text.start, text, message))
            .unwrap_or_else(|| self.text.push(message))
    }

    /// PutLogEvents refused an event of the record at `index`, for `reason`: the record is
    /// rejected, unless an event of it was accepted (its other lines are then counted dropped).
    pub fn refused(&mut self, index: usize, reason: &str) {
        let sent = self
            .records
            .get(index)
            .is_some_and(|r| matches!(r.fate, FateCode::Sent { .. }));
        if !sent {
            let reason = self.names.intern(reason);
            if let Some(record) = self.records.get_mut(index) {
                record.fate = FateCode::Rejected(reason);
            }
        }
    }

    /// Marks records not collected, in one pass over the ledger: every record still written of
    /// an instance in `reasons` gets that instance's reason.
    pub fn not_collected_by(&mut self, reasons: &HashMap<&str, &str>) {
        let by_instance: HashMap<u32, u32> = reasons
            .iter()
            .filter_map(|(instance, reason)| {
                let instance = self.names.find(instance)?;
                Some((instance, self.names.intern(reason)))
            })
            .collect();
        for record in &mut self.records {
            if record.fate == FateCode::Written
                && let Some(writer) = self.writers.get(record.writer as usize)
                && let Some(&reason) = by_instance.get(&writer.instance)
            {
                record.fate = FateCode::NotCollected(reason);
            }
        }
    }

    /// Records an emulator restart as complete (`carried`: having carried across what AWS
    /// keeps): events accepted from now on are in the restarted emulator's state.
    pub fn restart_completed(&mut self, carried: bool) {
        self.restarts += 1;
        self.carried.push(carried);
    }

    /// Whether an event sent after `restarts_before` restarts was in an emulator's state that
    /// a restart then lost: the next restart came and did not carry its state across.
    pub fn lost_with_a_restart(&self, restarts_before: u32) -> bool {
        restarts_before < self.restarts
            && !self
                .carried
                .get(restarts_before as usize)
                .copied()
                .unwrap_or(false)
    }

    /// Emulator restarts completed so far.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// Events sent since the last emulator restart, per stream: what the subscription must
    /// still find in the log group (what was sent before a restart went with its state).
    pub fn sent_per_stream(&self) -> HashMap<String, usize> {
        let current = to_u16(self.restarts);
        let mut by_stream: HashMap<u32, usize> = HashMap::new();
        for record in &self.records {
            if let FateCode::Sent { first, count } = record.fate {
                let events = self.events_of(first, count);
                for event in events.iter().filter(|e| e.restarts_before == current) {
                    *by_stream.entry(event.stream).or_insert(0) += 1;
                }
            }
        }
        by_stream
            .into_iter()
            .map(|(stream, n)| (self.names.name(stream).to_owned(), n))
            .collect()
    }

    /// Reconciles the landed events against what the ledger expects under `pattern` (the
    /// landed events held; [`Ledger::reconciler`] takes them one at a time). Expected events
    /// that did not land and were accepted before an emulator restart are marked lost at that
    /// restart and counted apart from the missing.
    pub fn reconcile<'e>(
        &mut self,
        pattern: &pipeline::filter_pattern::FilterPattern,
        landed: impl IntoIterator<Item = &'e LandedEvent<'e>>,
    ) -> Reconciliation {
        let mut reconciler = self.reconciler(pattern);
        for event in landed {
            reconciler.landed(event);
        }
        let (result, lost) = reconciler.finish();
        self.mark_lost(&lost);
        result
    }

    /// Marks the events at `lost` (event rows) lost at the first restart after they were sent.
    pub fn mark_lost(&mut self, lost: &LostToRestart) {
        for &event in &lost.0 {
            if let Some(event) = self.events.get_mut(event as usize) {
                event.lost = true;
            }
        }
    }

    fn events_of(&self, first: u32, count: u32) -> &[Event] {
        let (first, count) = (first as usize, count as usize);
        self.events.get(first..first + count).unwrap_or_default()
    }

    fn event_view(&self, event: &Event) -> EventView<'_> {
        EventView {
            log_stream: self.names.name(event.stream),
            timestamp_ms: event.timestamp_ms,
            message: self.text.get(event.message()),
            sent_ms: event.sent_ms,
            restarts_before: u32::from(event.restarts_before),
            lost_at_restart: event.lost.then_some(u32::from(event.restarts_before) + 1),
            truncated: event.truncated,
        }
    }

    fn writer_name(&self, writer: u32, part: impl Fn(&Writer) -> u32) -> &str {
        self.writers
            .get(writer as usize)
            .map_or("", |w| self.names.name(part(w)))
    }
}

/// The expected events that did not land although they were accepted before an emulator
/// restart (event rows), from [`Reconciler::finish`], for [`Ledger::mark_lost`].
#[derive(Debug, Default)]
pub struct LostToRestart(Vec<u32>);

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
