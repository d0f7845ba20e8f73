//! End-to-end latency on the simulated clock: for each expected event that landed, from its
//! write on the instance to its object in S3, in three stages the harness can see apart:
//!
//! - **agent**: the write to PutLogEvents' answer (the agent's file polling, its batching and
//!   flush interval, its retries);
//! - **subscription and ETL**: PutLogEvents' answer to the row's arrival at Firehose
//!   (CloudWatch Logs' subscription delivery, Lambda's queue and retries, the ETL's run and its
//!   PutRecordBatch). The ETL's own run takes no simulated time in the harness, so the two are
//!   one stage here; its billed milliseconds are in the report's subscription section;
//! - **Firehose**: the arrival to the object written (the buffer's interval or size, then
//!   PutObject and its retries).
//!
//! Each stage's spread is given as p50, p95 and max (nearest rank: the p-th percentile is the
//! smallest value with at least p % of the events at or below it) and as a histogram over
//! fixed bins. The timeline counts lines per source over simulated time at each point the
//! harness sees: written, sent (accepted by PutLogEvents), at Firehose, landed.
//!
//! The times come from the harness's own clock and models, never from the rows' `ingest_time`
//! (the ETL's wall clock). An event landed twice counts once, at its first copy.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Ledger;
use super::store::FateCode;

/// The histogram's bins' upper bounds (inclusive), milliseconds; a last bin holds the rest.
pub const HISTOGRAM_BOUNDS_MS: [u32; 13] = [
    1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
    1_800_000, 3_600_000,
];

/// The timeline's bucket widths, milliseconds: the narrowest that keeps a run within
/// [`TIMELINE_BUCKETS`] buckets is used.
const TIMELINE_WIDTHS_MS: [i64; 11] = [
    5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000,
];

/// A sample's Firehose arrival when the object's row order is not known.
const UNKNOWN_MS: u32 = u32::MAX;

/// Most buckets a timeline aims for.
pub const TIMELINE_BUCKETS: i64 = 60;

/// When a landed event reached Firehose and S3 (simulated epoch ms): known where the
/// harness's Firehose model wrote the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// When its row arrived at the delivery stream (`None` where the object's row order is
    /// not known).
    pub firehose_ms: Option<i64>,
    /// When its object was written.
    pub landed_ms: i64,
}

impl Arrival {
    /// The later of two arrivals (an event split across rows is whole when its last part is).
    #[must_use]
    pub fn latest(self, other: Self) -> Self {
        Self {
            firehose_ms: match (self.firehose_ms, other.firehose_ms) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            },
            landed_ms: self.landed_ms.max(other.landed_ms),
        }
    }
}

/// One landed event's times, relative to its write (24 bytes).
#[derive(Debug, Clone, Copy)]
struct Sample {
    write_ms: i64,
    /// The ledger's writer (instance and source).
    writer: u32,
    agent_ms: u32,
    /// From the write to Firehose; [`UNKNOWN_MS`] when not known.
    to_firehose_ms: u32,
    total_ms: u32,
    lines: u32,
}

impl Sample {
    fn landed_ms(&self) -> i64 {
        self.write_ms + i64::from(self.total_ms)
    }

    fn firehose_ms(&self) -> Option<i64> {
        (self.to_firehose_ms != UNKNOWN_MS).then(|| self.write_ms + i64::from(self.to_firehose_ms))
    }
}

/// The samples of a reconciliation in progress.
#[derive(Debug, Default)]
pub(super) struct LatencySamples {
    samples: Vec<Sample>,
}

impl LatencySamples {
    /// Records an event of `writer` written at `write_ms`, accepted at `sent_ms`, of `lines`
    /// lines, that arrived as `arrival` says. Negative spans (an instance clock ahead of the
    /// simulated one) count as 0.
    pub(super) fn add(
        &mut self,
        writer: u32,
        (write_ms, sent_ms): (i64, i64),
        lines: usize,
        arrival: Arrival,
    ) {
        let span = |to: i64| u32::try_from(to.saturating_sub(write_ms).max(0)).unwrap_or(u32::MAX);
        self.samples.push(Sample {
            write_ms,
            writer,
            agent_ms: span(sent_ms),
            to_firehose_ms: arrival.firehose_ms.map_or(UNKNOWN_MS, span),
            total_ms: span(arrival.landed_ms),
            lines: u32::try_from(lines).unwrap_or(u32::MAX),
        });
    }

    /// The latencies and the timeline, with the ledger's writes and sends.
    pub(super) fn finish(self, ledger: &Ledger) -> Latency {
        if self.samples.is_empty() {
            return Latency::default();
        }
        let mut by_source: BTreeMap<&str, Vec<Sample>> = BTreeMap::new();
        let mut first_landed_ms: BTreeMap<String, i64> = BTreeMap::new();
        for sample in &self.samples {
            let Some(writer) = ledger.writers.get(sample.writer as usize) else {
                continue;
            };
            by_source
                .entry(ledger.names.name(writer.source))
                .or_default()
                .push(*sample);
            let landed_ms = sample.landed_ms();
            first_landed_ms
                .entry(ledger.names.name(writer.instance).to_owned())
                .and_modify(|first| *first = (*first).min(landed_ms))
                .or_insert(landed_ms);
        }
        Latency {
            events: self.samples.len(),
            all: StageLatencies::of(&self.samples),
            by_source: by_source
                .iter()
                .map(|(source, samples)| ((*source).to_owned(), StageLatencies::of(samples)))
                .collect(),
            timeline: Some(Timeline::of(ledger, &self.samples)),
            first_landed_ms,
        }
    }
}

/// End-to-end latency of a run's landed events, on the simulated clock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Latency {
    /// Landed events measured (0 where the harness did not write the objects, as against AWS).
    pub events: usize,
    /// Over every source.
    pub all: StageLatencies,
    /// Per source (file path or event log name).
    pub by_source: BTreeMap<String, StageLatencies>,
    /// Lines over simulated time, per source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Timeline>,
    /// When each instance's first event landed (simulated epoch ms), by instance name (in the
    /// report's instances).
    #[serde(skip)]
    pub first_landed_ms: BTreeMap<String, i64>,
}

/// The stages' spreads over a set of events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StageLatencies {
    /// Events measured.
    pub events: usize,
    /// From the write to the object in S3.
    pub end_to_end: Spread,
    /// From the write to PutLogEvents' answer.
    pub agent: Spread,
    /// From PutLogEvents' answer to the row's arrival at Firehose (events whose arrival is
    /// known).
    pub subscription_and_etl: Spread,
    /// From the arrival at Firehose to the object in S3 (events whose arrival is known).
    pub firehose: Spread,
}

impl StageLatencies {
    fn of(samples: &[Sample]) -> Self {
        let known: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.firehose_ms().is_some())
            .collect();
        Self {
            events: samples.len(),
            end_to_end: Spread::of(samples.iter().map(|s| s.total_ms).collect()),
            agent: Spread::of(samples.iter().map(|s| s.agent_ms).collect()),
            subscription_and_etl: Spread::of(
                known
                    .iter()
                    .map(|s| s.to_firehose_ms.saturating_sub(s.agent_ms))
                    .collect(),
            ),
            firehose: Spread::of(
                known
                    .iter()
                    .map(|s| s.total_ms.saturating_sub(s.to_firehose_ms))
                    .collect(),
            ),
        }
    }
}

/// How a latency is spread, milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Spread {
    /// Values measured.
    pub count: usize,
    /// Median (nearest rank).
    pub p50_ms: u32,
    /// 95th percentile (nearest rank).
    pub p95_ms: u32,
    /// Largest.
    pub max_ms: u32,
    /// Counts per bin of [`HISTOGRAM_BOUNDS_MS`], then the rest.
    pub histogram: Vec<usize>,
}

impl Spread {
    fn of(mut values: Vec<u32>) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        values.sort_unstable();
        let mut histogram = vec![0; HISTOGRAM_BOUNDS_MS.len() + 1];
        for value in &values {
            histogram[HISTOGRAM_BOUNDS_MS.partition_point(|bound| bound < value)] += 1;
        }
        Self {
            count: values.len(),
            p50_ms: nearest_rank(&values, 50),
            p95_ms: nearest_rank(&values, 95),
            max_ms: values.last().copied().unwrap_or(0),
            histogram,
        }
    }
}

/// The `percent`-th percentile of sorted, non-empty `values` by nearest rank.
fn nearest_rank(sorted: &[u32], percent: usize) -> u32 {
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted.get(rank - 1).copied().unwrap_or(0)
}

/// Lines per source over simulated time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// The first bucket's start: the first write (simulated epoch ms).
    pub start_ms: i64,
    /// Each bucket's width, milliseconds.
    pub width_ms: i64,
    /// Per source, per bucket.
    pub by_source: BTreeMap<String, Vec<TimelineBucket>>,
}

/// Lines in one bucket of the timeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TimelineBucket {
    /// Written on the instances.
    pub written: usize,
    /// Accepted by PutLogEvents.
    pub sent: usize,
    /// Arrived at Firehose (where known).
    pub at_firehose: usize,
    /// Landed in S3 (each event once).
    pub landed: usize,
}

impl Timeline {
    fn of(ledger: &Ledger, samples: &[Sample]) -> Self {
        let start_ms = ledger
            .records
            .iter()
            .map(|r| r.timestamp_ms)
            .min()
            .unwrap_or(0);
        let end_ms = samples
            .iter()
            .map(Sample::landed_ms)
            .chain(ledger.events.iter().map(|e| e.sent_ms))
            .chain(ledger.records.iter().map(|r| r.timestamp_ms))
            .max()
            .unwrap_or(start_ms);
        let span = end_ms.saturating_sub(start_ms).max(1);
        let width_ms = TIMELINE_WIDTHS_MS
            .iter()
            .copied()
            .find(|w| span / w < TIMELINE_BUCKETS)
            .unwrap_or(span / TIMELINE_BUCKETS + 1);
        let mut grid = Grid {
            start_ms,
            width_ms,
            buckets: usize::try_from(span / width_ms + 1).unwrap_or(0),
            by_source: BTreeMap::new(),
        };
        let source_of = |writer: u32| ledger.writers.get(writer as usize).map(|w| w.source);
        for record in &ledger.records {
            let Some(source) = source_of(record.writer) else {
                continue;
            };
            if let Some(bucket) = grid.at(source, record.timestamp_ms) {
                bucket.written += record.lines as usize;
            }
            if let FateCode::Sent { first, count } = record.fate {
                for event in ledger.events_of(first, count) {
                    if let Some(bucket) = grid.at(source, event.sent_ms) {
                        bucket.sent += super::line_count(ledger.text.get(event.message()));
                    }
                }
            }
        }
        for sample in samples {
            let lines = sample.lines as usize;
            let Some(source) = source_of(sample.writer) else {
                continue;
            };
            if let Some(bucket) = sample.firehose_ms().and_then(|ms| grid.at(source, ms)) {
                bucket.at_firehose += lines;
            }
            if let Some(bucket) = grid.at(source, sample.landed_ms()) {
                bucket.landed += lines;
            }
        }
        Self {
            start_ms,
            width_ms,
            by_source: grid
                .by_source
                .into_iter()
                .map(|(source, buckets)| (ledger.names.name(source).to_owned(), buckets))
                .collect(),
        }
    }
}

/// The timeline's buckets while they are counted: a row per source (its name's id).
struct Grid {
    start_ms: i64,
    width_ms: i64,
    buckets: usize,
    by_source: BTreeMap<u32, Vec<TimelineBucket>>,
}

impl Grid {
    /// The bucket of `source` that holds `ms` (`None` outside the timeline).
    fn at(&mut self, source: u32, ms: i64) -> Option<&mut TimelineBucket> {
        let index = usize::try_from(ms.saturating_sub(self.start_ms) / self.width_ms).ok()?;
        let buckets = self.buckets;
        self.by_source
            .entry(source)
            .or_insert_with(|| vec![TimelineBucket::default(); buckets])
            .get_mut(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<u32> = (1..=20).collect();
        assert_eq!(nearest_rank(&values, 50), 10);
        assert_eq!(nearest_rank(&values, 95), 19);
        assert_eq!(nearest_rank(&[7], 95), 7);
        let spread = Spread::of(vec![500, 1_000, 1_001, 4_000_000]);
        assert_eq!((spread.p50_ms, spread.max_ms), (1_000, 4_000_000));
        // 1,000 is in the first bin (inclusive bound), 1,001 in the second, 4e6 past the last.
        assert_eq!(spread.histogram[0], 2);
        assert_eq!(spread.histogram[1], 1);
        assert_eq!(spread.histogram[HISTOGRAM_BOUNDS_MS.len()], 1);
        assert_eq!(spread.histogram.iter().sum::<usize>(), 4);
    }

    #[test]
    fn stages_add_up_to_the_whole() {
        let mut samples = LatencySamples::default();
        let arrival = Arrival {
            firehose_ms: Some(70_000),
            landed_ms: 370_000,
        };
        samples.add(0, (10_000, 15_000), 1, arrival);
        let stages = StageLatencies::of(&samples.samples);
        assert_eq!(stages.agent.max_ms, 5_000);
        assert_eq!(stages.subscription_and_etl.max_ms, 55_000);
        assert_eq!(stages.firehose.max_ms, 300_000);
        assert_eq!(stages.end_to_end.max_ms, 360_000);
        // An arrival at Firehose not known: the end-to-end figure stands, the split does not.
        samples.add(
            0,
            (0, 0),
            1,
            Arrival {
                firehose_ms: None,
                landed_ms: 1_000,
            },
        );
        let stages = StageLatencies::of(&samples.samples);
        assert_eq!((stages.end_to_end.count, stages.firehose.count), (2, 1));
    }
}
