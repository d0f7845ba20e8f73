//! The reconciliation of landed events against the ledger, one landed event at a time.
//!
//! The expected events (sent, passed by the filter pattern) are one sorted table of 16-byte
//! entries keyed by a hash of (stream, timestamp, message), with the event id each was matched
//! to beside it (8 bytes): a landed event finds its candidates by the hash and is checked
//! against the ledger's own text, so a hash collision costs a comparison, never a wrong match.
//! A landed event whose key's candidates include one already matched to its event id is a
//! duplicate; one that finds a free candidate is delivered; any other is unexpected (and its
//! later copies duplicates). Within one key, candidates sent after the last restart are
//! matched first, so that what did not land is put down to a restart where it can be.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use pipeline::filter_pattern::FilterPattern;

use super::latency::LatencySamples;
use super::store::{FateCode, Writer};
use super::{
    Counts, LandedEvent, Ledger, LostToRestart, Reconciliation, clip, line_count,
    restart_loss_reason,
};
use standins::cloudwatch_agent::events::{MAX_EVENT_MESSAGE_BYTES, TRUNCATED_SUFFIX};

/// Examples of missing and unexpected events kept for the report.
const EXAMPLES: usize = 5;

/// The hash seed: fixed, so that a run's reconciliation is repeatable.
const SEED: u64 = 0x6c65_6467_6572;

/// An expected event: its key's hash, its event row, and whether it was sent before the last
/// restart.
#[derive(Debug, Clone, Copy)]
struct Expected {
    hash: u64,
    event: u32,
    at_risk: bool,
}

/// Why records were dropped, by reason name, before the reasons are written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Dropped {
    NotCollected(u32),
    Rejected(u32),
    Truncated,
    LostAtRestart(u16),
}

/// A reconciliation in progress: built from the ledger, fed the landed events one at a time
/// ([`Reconciler::landed`]), then [`Reconciler::finish`]ed.
#[derive(Debug)]
pub struct Reconciler<'a> {
    ledger: &'a Ledger,
    result: Reconciliation,
    by_writer: Vec<Counts>,
    /// Duplicates on a stream no record was sent to (counted in the totals only).
    orphan_duplicates: usize,
    dropped: HashMap<Dropped, usize>,
    expected: Vec<Expected>,
    /// Where each range of key hashes starts in `expected`: entry `b` is the first index whose
    /// hash's top `bucket_bits` bits are `b` or more, so a lookup searches one bucket (a
    /// handful of entries) instead of the whole table.
    buckets: Vec<u32>,
    bucket_bits: u32,
    /// Per expected entry: the hash of the event id it was matched to, 0 while unmatched.
    matched: Vec<u64>,
    stream_writer: HashMap<u32, u32, FixedState>,
    /// Event-id hashes of landed events the ledger does not expect.
    strangers: HashSet<u64, FixedState>,
    hasher: FixedState,
    latency: LatencySamples,
}

impl Ledger {
    /// Starts reconciling landed events against what the ledger expects under `pattern`:
    /// counts every record and event once, and sorts the expected events for lookup.
    pub fn reconciler(&self, pattern: &FilterPattern) -> Reconciler<'_> {
        let mut reconciler = Reconciler {
            ledger: self,
            result: Reconciliation::default(),
            by_writer: vec![Counts::default(); self.writers.len()],
            orphan_duplicates: 0,
            dropped: HashMap::new(),
            expected: Vec::new(),
            buckets: Vec::new(),
            bucket_bits: 0,
            matched: Vec::new(),
            stream_writer: HashMap::default(),
            strangers: HashSet::default(),
            hasher: FixedState::with_seed(SEED),
            latency: LatencySamples::default(),
        };
        for record in &self.records {
            reconciler.count_record(record, pattern);
        }
        reconciler
            .expected
            .sort_unstable_by_key(|e| (e.hash, e.at_risk, e.event));
        reconciler.matched = vec![0; reconciler.expected.len()];
        reconciler.index_buckets();
        reconciler
    }
}

impl Reconciler<'_> {
    /// One bucket per expected entry or so (a power of two): the table's sorted hashes are
    /// spread evenly, so a bucket holds about one entry.
    fn index_buckets(&mut self) {
        let len = self.expected.len();
        self.bucket_bits = len.max(2).next_power_of_two().trailing_zeros();
        let count = 1usize << self.bucket_bits;
        let mut buckets = Vec::with_capacity(count + 1);
        let mut entry = 0;
        for bucket in 0..count {
            while entry < len && self.bucket_of(self.expected[entry].hash) < bucket {
                entry += 1;
            }
            buckets.push(super::store::to_u32(entry));
        }
        buckets.push(super::store::to_u32(len));
        self.buckets = buckets;
    }

    fn bucket_of(&self, hash: u64) -> usize {
        usize::try_from(hash >> (64 - self.bucket_bits)).unwrap_or(0)
    }

    /// The first expected entry whose hash is `hash` or more.
    fn first_at_or_after(&self, hash: u64) -> usize {
        let bucket = self.bucket_of(hash);
        let (low, high) = match (self.buckets.get(bucket), self.buckets.get(bucket + 1)) {
            (Some(&low), Some(&high)) => (low as usize, high as usize),
            _ => (0, self.expected.len()),
        };
        low + self.expected[low..high].partition_point(|e| e.hash < hash)
    }

    /// Adds one record's lines and events to its writer's counts, and its expected events to
    /// the table.
    fn count_record(&mut self, record: &super::store::Record, pattern: &FilterPattern) {
        let ledger = self.ledger;
        let Some(counts) = self.by_writer.get_mut(record.writer as usize) else {
            return;
        };
        let lines = record.lines as usize;
        counts.records += 1;
        counts.lines += lines;
        match record.fate {
            FateCode::Written => counts.unaccounted += 1,
            FateCode::NotCollected(why) => {
                counts.not_collected += 1;
                counts.lines_dropped += lines;
                *self.dropped.entry(Dropped::NotCollected(why)).or_default() += 1;
            }
            FateCode::Rejected(why) => {
                counts.rejected += 1;
                counts.lines_dropped += lines;
                *self.dropped.entry(Dropped::Rejected(why)).or_default() += 1;
            }
            FateCode::Sent { first, count } => {
                let mut sent_lines = 0;
                for (offset, event) in ledger.events_of(first, count).iter().enumerate() {
                    self.stream_writer.insert(event.stream, record.writer);
                    let message = ledger.text.get(event.message());
                    if event.truncated {
                        *self.dropped.entry(Dropped::Truncated).or_default() += 1;
                    }
                    let event_lines = line_count(message);
                    sent_lines += event_lines;
                    counts.events_sent += 1;
                    let at_risk = ledger.lost_with_a_restart(u32::from(event.restarts_before));
                    self.result.events_sent_before_restart += usize::from(at_risk);
                    if pattern.matches(message) {
                        counts.events_expected += 1;
                        self.result.events_expected_before_restart += usize::from(at_risk);
                        self.expected.push(Expected {
                            hash: key_hash(&self.hasher, event.stream, event.timestamp_ms, message),
                            event: first + super::store::to_u32(offset),
                            at_risk,
                        });
                    } else {
                        counts.events_filtered += 1;
                        counts.lines_filtered += event_lines;
                    }
                }
                // Lines of a record PutLogEvents refused in part.
                counts.lines_dropped += lines.saturating_sub(sent_lines);
            }
        }
    }

    /// Never 0 (0 marks an unmatched entry).
    fn id_hash(&self, event: &LandedEvent<'_>) -> u64 {
        self.hasher
            .hash_one((event.log_stream.as_ref(), event.event_id.as_ref()))
            | 1
    }

    /// Reconciles one landed event (one delivered copy).
    pub fn landed(&mut self, event: &LandedEvent<'_>) {
        let id = self.id_hash(event);
        let stream = self.ledger.names.find(&event.log_stream);
        if let Some(stream) = stream {
            match self.match_expected(stream, event, id) {
                Match::Delivered {
                    writer,
                    event: sent,
                } => {
                    self.result.events_landed += 1;
                    let lines = line_count(&event.message);
                    if let Some(counts) = self.by_writer.get_mut(writer as usize) {
                        counts.lines_delivered += lines;
                    }
                    if let (Some(arrival), Some(sent)) =
                        (event.arrival, self.ledger.events.get(sent as usize))
                    {
                        self.latency
                            .add(writer, (sent.timestamp_ms, sent.sent_ms), lines, arrival);
                    }
                    return;
                }
                Match::Duplicate(writer) => {
                    self.duplicate(Some(writer));
                    return;
                }
                Match::None => {}
            }
        }
        let writer = stream.and_then(|s| self.stream_writer.get(&s).copied());
        if !self.strangers.insert(id) {
            self.duplicate(writer);
            return;
        }
        self.result.events_landed += 1;
        self.result.unexpected += 1;
        if self.result.unexpected_examples.len() < EXAMPLES {
            self.result.unexpected_examples.push(format!(
                "{} @{}: {}",
                event.log_stream,
                event.timestamp_ms,
                clip(&event.message)
            ));
        }
    }

    /// The expected entries with the landed event's key: one already matched to its id (a
    /// duplicate), else the first free one (delivered), else none.
    fn match_expected(&mut self, stream: u32, event: &LandedEvent<'_>, id: u64) -> Match {
        let hash = key_hash(&self.hasher, stream, event.timestamp_ms, &event.message);
        let start = self.first_at_or_after(hash);
        let mut free = None;
        for (i, entry) in self.expected[start..]
            .iter()
            .enumerate()
            .take_while(|(_, e)| e.hash == hash)
        {
            let Some(sent) = self.ledger.events.get(entry.event as usize) else {
                continue;
            };
            let same = sent.stream == stream
                && sent.timestamp_ms == event.timestamp_ms
                && self.ledger.text.get(sent.message()) == event.message;
            if !same {
                continue;
            }
            let writer = self.writer_of(sent.record);
            match self.matched[start + i] {
                m if m == id => return Match::Duplicate(writer),
                0 if free.is_none() => free = Some((start + i, writer)),
                _ => {}
            }
        }
        match free {
            Some((i, writer)) => {
                self.matched[i] = id;
                Match::Delivered {
                    writer,
                    event: self.expected[i].event,
                }
            }
            None => Match::None,
        }
    }

    fn writer_of(&self, record: u32) -> u32 {
        self.ledger
            .records
            .get(record as usize)
            .map_or(u32::MAX, |r| r.writer)
    }

    fn duplicate(&mut self, writer: Option<u32>) {
        self.result.duplicates += 1;
        match writer.and_then(|w| self.by_writer.get_mut(w as usize)) {
            Some(counts) => counts.duplicates += 1,
            None => self.orphan_duplicates += 1,
        }
    }

    /// The reconciliation, and the expected events that did not land although they were sent
    /// before an emulator restart (for [`Ledger::mark_lost`]).
    pub fn finish(mut self) -> (Reconciliation, LostToRestart) {
        let ledger = self.ledger;
        let mut lost = Vec::new();
        let mut missing = Vec::new();
        for (entry, _) in self
            .expected
            .iter()
            .zip(&self.matched)
            .filter(|(_, m)| **m == 0)
        {
            let Some(event) = ledger.events.get(entry.event as usize) else {
                continue;
            };
            if !entry.at_risk {
                missing.push(entry.event);
                continue;
            }
            lost.push(entry.event);
            let writer = self.writer_of(event.record);
            if let Some(counts) = self.by_writer.get_mut(writer as usize) {
                counts.lines_lost_to_restart += line_count(ledger.text.get(event.message()));
            }
            let restart = event.restarts_before.saturating_add(1);
            *self
                .dropped
                .entry(Dropped::LostAtRestart(restart))
                .or_default() += 1;
        }
        self.result.lost_to_restart = lost.len();
        self.result.missing = missing.len();
        self.result.missing_examples = self.examples(&mut missing);
        self.write_counts();
        self.write_reasons();
        self.result.latency = std::mem::take(&mut self.latency).finish(ledger);
        (self.result, LostToRestart(lost))
    }

    /// A few of the `missing` events, in (stream, timestamp, message) order.
    fn examples(&self, missing: &mut [u32]) -> Vec<String> {
        let ledger = self.ledger;
        let key = |event: &u32| {
            ledger.events.get(*event as usize).map(|e| {
                (
                    ledger.names.name(e.stream),
                    e.timestamp_ms,
                    ledger.text.get(e.message()),
                )
            })
        };
        let first = if missing.len() > EXAMPLES {
            missing.select_nth_unstable_by(EXAMPLES, |a, b| key(a).cmp(&key(b)));
            &mut missing[..EXAMPLES]
        } else {
            missing
        };
        first.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
        first
            .iter()
            .filter_map(key)
            .map(|(stream, timestamp, message)| format!("{stream} @{timestamp}: {}", clip(message)))
            .collect()
    }

    /// The counts per instance and source, and the totals.
    fn write_counts(&mut self) {
        let ledger = self.ledger;
        let mut by_source: BTreeMap<String, BTreeMap<String, Counts>> = BTreeMap::new();
        let mut totals = Counts::default();
        for (writer, counts) in ledger.writers.iter().zip(&self.by_writer) {
            let Writer {
                instance, source, ..
            } = *writer;
            by_source
                .entry(ledger.names.name(instance).to_owned())
                .or_default()
                .entry(ledger.names.name(source).to_owned())
                .or_default()
                .absorb(counts);
            totals.absorb(counts);
        }
        totals.duplicates += self.orphan_duplicates;
        self.result.by_source = by_source;
        self.result.totals = totals;
    }

    /// Why lines were dropped, in words, with counts.
    fn write_reasons(&mut self) {
        let names = &self.ledger.names;
        for (&why, &n) in &self.dropped {
            let reason = match why {
                Dropped::NotCollected(r) => format!("not collected: {}", names.name(r)),
                Dropped::Rejected(r) => format!("rejected: {}", names.name(r)),
                Dropped::Truncated => format!(
                    "sent truncated: the agent cuts an event to {MAX_EVENT_MESSAGE_BYTES} bytes \
                     ending in {TRUNCATED_SUFFIX} (lines past the cut are dropped)"
                ),
                Dropped::LostAtRestart(restart) => restart_loss_reason(u32::from(restart)),
            };
            *self.result.reasons.entry(reason).or_default() += n;
        }
    }
}

/// An expected event's key, hashed: stream, timestamp, message.
fn key_hash(hasher: &FixedState, stream: u32, timestamp_ms: i64, message: &str) -> u64 {
    hasher.hash_one((stream, timestamp_ms, message))
}

/// What a landed event found among the expected ones (with the writer of the event found).
enum Match {
    /// The first copy of an expected event: its writer and event row.
    Delivered {
        writer: u32,
        event: u32,
    },
    Duplicate(u32),
    None,
}
