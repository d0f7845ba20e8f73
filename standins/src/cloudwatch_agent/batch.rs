//! PutLogEvents batching within CloudWatch Logs' hard limits: at most 10,000 events and
//! 1,048,576 bytes (message bytes + 26 per event) per call, events in chronological order, one
//! batch spanning at most 24 hours. Events that no batch can carry (a message over the byte
//! limit on its own, a timestamp outside the accepted window) are returned with the reason,
//! never dropped silently.

pub use crate::cloudwatch_logs::LogEvent;
use pipeline::cloudwatch_logs::{
    PUT_LOG_EVENTS_EVENT_OVERHEAD, PUT_LOG_EVENTS_MAX_AGE_MS, PUT_LOG_EVENTS_MAX_BYTES,
    PUT_LOG_EVENTS_MAX_EVENTS, PUT_LOG_EVENTS_MAX_FUTURE_MS, PUT_LOG_EVENTS_MAX_SPAN_MS,
};

impl LogEvent {
    /// Bytes this event counts for in a batch.
    pub fn batch_bytes(&self) -> usize {
        self.message.len() + PUT_LOG_EVENTS_EVENT_OVERHEAD
    }
}

/// Why an event cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsendable {
    /// The message alone is over the batch byte limit.
    #[error(
        "event of {bytes} bytes (with the 26-byte overhead) is over PutLogEvents' {PUT_LOG_EVENTS_MAX_BYTES}-byte batch limit"
    )]
    TooLarge {
        /// Its counted size.
        bytes: usize,
    },
    /// More than 2 hours ahead of now.
    #[error("event time {timestamp_ms} is more than 2 hours after now ({now_ms})")]
    TooNew {
        /// The event's time.
        timestamp_ms: i64,
        /// Now.
        now_ms: i64,
    },
    /// More than 14 days before now.
    #[error("event time {timestamp_ms} is more than 14 days before now ({now_ms})")]
    TooOld {
        /// The event's time.
        timestamp_ms: i64,
        /// Now.
        now_ms: i64,
    },
}

/// The plan for a list of events: batches as index ranges into the sorted events, and the
/// events left out with their reasons.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchPlan {
    /// Consecutive runs of sendable events, each within every limit.
    pub batches: Vec<Vec<usize>>,
    /// Events no batch can carry.
    pub unsendable: Vec<(usize, Unsendable)>,
}

/// Plans the batches for `events`, which must be in chronological order (the agent sorts what
/// it reads); `now_ms` is the clock PutLogEvents would judge the timestamps by.
pub fn plan(events: &[LogEvent], now_ms: i64) -> BatchPlan {
    let mut plan = BatchPlan::default();
    let mut current: Vec<usize> = Vec::new();
    let mut bytes = 0;
    let mut first_ms = 0;
    for (index, event) in events.iter().enumerate() {
        if let Err(reason) = check(event, now_ms) {
            plan.unsendable.push((index, reason));
            continue;
        }
        let size = event.batch_bytes();
        let fits = current.len() < PUT_LOG_EVENTS_MAX_EVENTS
            && bytes + size <= PUT_LOG_EVENTS_MAX_BYTES
            && event.timestamp_ms - first_ms <= PUT_LOG_EVENTS_MAX_SPAN_MS;
        if !current.is_empty() && !fits {
            plan.batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        if current.is_empty() {
            first_ms = event.timestamp_ms;
        }
        current.push(index);
        bytes += size;
    }
    if !current.is_empty() {
        plan.batches.push(current);
    }
    plan
}

fn check(event: &LogEvent, now_ms: i64) -> Result<(), Unsendable> {
    let bytes = event.batch_bytes();
    if bytes > PUT_LOG_EVENTS_MAX_BYTES {
        return Err(Unsendable::TooLarge { bytes });
    }
    if event.timestamp_ms > now_ms + PUT_LOG_EVENTS_MAX_FUTURE_MS {
        return Err(Unsendable::TooNew {
            timestamp_ms: event.timestamp_ms,
            now_ms,
        });
    }
    if event.timestamp_ms < now_ms - PUT_LOG_EVENTS_MAX_AGE_MS {
        return Err(Unsendable::TooOld {
            timestamp_ms: event.timestamp_ms,
            now_ms,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_800_000_000_000;

    fn event(offset_ms: i64, len: usize) -> LogEvent {
        LogEvent {
            timestamp_ms: NOW + offset_ms,
            message: "x".repeat(len),
        }
    }

    #[test]
    fn count_bytes_and_span_each_close_a_batch() {
        let many: Vec<LogEvent> = (0..10_001)
            .map(|i| event(-i64::from(20_000 - i), 1))
            .collect();
        assert_eq!(
            plan(&many, NOW)
                .batches
                .iter()
                .map(Vec::len)
                .collect::<Vec<_>>(),
            [10_000, 1]
        );
        let big = PUT_LOG_EVENTS_MAX_BYTES / 2 - PUT_LOG_EVENTS_EVENT_OVERHEAD;
        let halves = [event(-3, big), event(-2, big), event(-1, 1)];
        assert_eq!(plan(&halves, NOW).batches, [vec![0, 1], vec![2]]);
        let day = PUT_LOG_EVENTS_MAX_SPAN_MS;
        // Exactly 24 hours still fits; a millisecond more closes the batch.
        let spread = [event(-day - 10, 1), event(-10, 1), event(-9, 1)];
        assert_eq!(plan(&spread, NOW).batches, [vec![0, 1], vec![2]]);
    }

    #[test]
    fn unsendable_events_are_named_not_dropped() {
        let events = [
            event(-PUT_LOG_EVENTS_MAX_AGE_MS - 1, 5),
            event(0, PUT_LOG_EVENTS_MAX_BYTES),
            event(1, 5),
            event(PUT_LOG_EVENTS_MAX_FUTURE_MS + 1, 5),
        ];
        let plan = plan(&events, NOW);
        assert_eq!(plan.batches, [vec![2]]);
        let reasons: Vec<String> = plan
            .unsendable
            .iter()
            .map(|(i, r)| format!("{i}: {r}"))
            .collect();
        assert_eq!(reasons.len(), 3);
        assert!(reasons[0].starts_with("0: ") && reasons[0].contains("14 days"));
        assert!(reasons[1].starts_with("1: ") && reasons[1].contains("1048576-byte"));
        assert!(reasons[2].starts_with("3: ") && reasons[2].contains("2 hours"));
    }

    proptest! {
        /// Every sendable event is in exactly one batch, in order; every batch is within every
        /// limit; and a batch was closed only because the next event would have broken one.
        #[test]
        fn batches_cover_everything_within_the_limits(
            gaps in proptest::collection::vec(0i64..3_600_000, 1..400),
            sizes in proptest::collection::vec(prop_oneof![0usize..200, 100_000usize..400_000], 400),
        ) {
            let mut t = NOW - 10 * PUT_LOG_EVENTS_MAX_SPAN_MS;
            let events: Vec<LogEvent> = gaps.iter().zip(&sizes).map(|(gap, size)| { t += gap; LogEvent { timestamp_ms: t, message: "y".repeat(*size) } }).collect();
            let plan = plan(&events, NOW);
            let flat: Vec<usize> = plan.batches.iter().flatten().copied().collect();
            let expected: Vec<usize> = (0..events.len()).filter(|i| plan.unsendable.iter().all(|(u, _)| u != i)).collect();
            prop_assert_eq!(&flat, &expected);
            for (n, batch) in plan.batches.iter().enumerate() {
                let bytes: usize = batch.iter().map(|&i| events[i].batch_bytes()).sum();
                prop_assert!(batch.len() <= PUT_LOG_EVENTS_MAX_EVENTS && bytes <= PUT_LOG_EVENTS_MAX_BYTES);
                let span = events[*batch.last().unwrap()].timestamp_ms - events[batch[0]].timestamp_ms;
                prop_assert!(span <= PUT_LOG_EVENTS_MAX_SPAN_MS);
                if let Some(next) = plan.batches.get(n + 1) {
                    let e = &events[next[0]];
                    let would_break = batch.len() + 1 > PUT_LOG_EVENTS_MAX_EVENTS
                        || bytes + e.batch_bytes() > PUT_LOG_EVENTS_MAX_BYTES
                        || e.timestamp_ms - events[batch[0]].timestamp_ms > PUT_LOG_EVENTS_MAX_SPAN_MS;
                    prop_assert!(would_break, "batch {} closed early", n);
                }
            }
        }
    }
}
