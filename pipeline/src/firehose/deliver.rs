//! Delivering records with retries: only the failed entries of a partial failure are sent
//! again, with exponential backoff and full jitter, bounded by attempts and a deadline.
//!
//! Delivery is at least once. If records still fail when the bounds are reached, the
//! result is a [`DeliveryError`] saying how many and why, so that the Lambda invocation
//! fails and is retried: duplicates are acceptable, loss is not.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::RngExt as _;
use tokio::time::Instant;

use super::batch::{RecordTooLarge, Records, plan_batches};
use super::{RecordSink, SinkError};

/// Bounds and pacing of delivery retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Rounds of calls, the first included (at least 1).
    pub max_attempts: u32,
    /// Backoff before the second round; doubles every round.
    pub base_delay: Duration,
    /// Upper bound of one backoff.
    pub max_delay: Duration,
    /// No new round starts once this much time has passed since the first.
    pub deadline: Duration,
}

/// Time an invocation keeps back from its remaining time for the last round's call and its
/// answer: the retry deadline ends this long before the function would time out.
pub const INVOCATION_RESERVE: Duration = Duration::from_secs(15);

impl Default for RetryPolicy {
    /// A budget spent by time, within the ETL function's 120 s timeout: rounds until 90 s have
    /// passed (a throttling episode of a minute or more is ridden out inside one invocation),
    /// at most 40 of them (100 ms doubling to 5 s: about 6 s of backoff before the waits
    /// reach 5 s).
    fn default() -> Self {
        Self {
            max_attempts: 40,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            deadline: Duration::from_secs(90),
        }
    }
}

impl RetryPolicy {
    /// The same policy for an invocation with `remaining` time before its timeout: the
    /// deadline ends [`INVOCATION_RESERVE`] before it, if that is sooner.
    #[must_use]
    pub fn within(&self, remaining: Duration) -> Self {
        Self {
            deadline: self
                .deadline
                .min(remaining.saturating_sub(INVOCATION_RESERVE)),
            ..self.clone()
        }
    }

    /// The longest backoff before round `attempt + 1` (full jitter picks in `0..=` this).
    pub fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// What a successful delivery took.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    /// Records delivered.
    pub records: usize,
    /// Bytes of record data delivered.
    pub bytes: usize,
    /// PutRecordBatch calls made.
    pub calls: usize,
    /// Rounds of calls (1 when nothing failed).
    pub attempts: u32,
    /// Entries sent again after a failure.
    pub retried_entries: usize,
}

/// Why delivery stopped with records undelivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GiveUpReason {
    /// `max_attempts` rounds were made.
    Attempts(u32),
    /// The next backoff would pass the deadline.
    Deadline(Duration),
    /// The sink said retrying cannot help.
    Fatal(SinkError),
    /// A record is over Firehose's size limit (a bug upstream: rows are split before this).
    RecordTooLarge(RecordTooLarge),
}

impl std::fmt::Display for GiveUpReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Attempts(n) => write!(f, "gave up after {n} attempts"),
            Self::Deadline(d) => write!(f, "gave up at the {} ms deadline", d.as_millis()),
            Self::Fatal(e) => write!(f, "not retryable: {e}"),
            Self::RecordTooLarge(e) => write!(f, "{e}"),
        }
    }
}

/// Records that could not be delivered, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{failed} of {total} records were not delivered to Firehose ({reason}); last errors: {}", describe_errors(.errors))]
pub struct DeliveryError {
    /// Records not delivered.
    pub failed: usize,
    /// Records in all.
    pub total: usize,
    /// Why delivery stopped.
    pub reason: GiveUpReason,
    /// The last round's errors: code -> (count, one message).
    pub errors: BTreeMap<String, (usize, String)>,
}

fn describe_errors(errors: &BTreeMap<String, (usize, String)>) -> String {
    if errors.is_empty() {
        return "none".to_owned();
    }
    let parts: Vec<String> = errors
        .iter()
        .map(|(code, (count, message))| format!("{code} x{count} ({message})"))
        .collect();
    parts.join(", ")
}

/// Delivers every record through `sink`, retrying failed entries under `policy`.
pub async fn deliver<S: RecordSink>(
    sink: &S,
    records: &Records,
    policy: &RetryPolicy,
) -> Result<DeliveryReport, DeliveryError> {
    let started = Instant::now();
    let total = records.len();
    let mut report = DeliveryReport {
        records: total,
        bytes: records.total_bytes(),
        ..DeliveryReport::default()
    };
    let mut pending: Vec<usize> = (0..total).collect();
    let give_up = |failed, reason, errors| DeliveryError {
        failed,
        total,
        reason,
        errors,
    };
    while !pending.is_empty() {
        report.attempts += 1;
        let batches = plan_batches(records, &pending).map_err(|e| {
            give_up(
                pending.len(),
                GiveUpReason::RecordTooLarge(e),
                BTreeMap::new(),
            )
        })?;
        let mut failed = Vec::new();
        let mut errors: BTreeMap<String, (usize, String)> = BTreeMap::new();
        let mut note = |code: &str, message: &str| {
            let entry = errors
                .entry(code.to_owned())
                .or_insert_with(|| (0, message.to_owned()));
            entry.0 += 1;
        };
        for (batch_no, batch) in batches.iter().enumerate() {
            let data: Vec<&[u8]> = batch.iter().map(|&i| records.get(i)).collect();
            report.calls += 1;
            match sink.put_record_batch(&data).await {
                Ok(results) if results.len() == batch.len() => {
                    for (&index, result) in batch.iter().zip(results) {
                        if let Err(failure) = result {
                            note(&failure.code, &failure.message);
                            failed.push(index);
                        }
                    }
                }
                Ok(results) => {
                    let message = format!("{} results for {} records", results.len(), batch.len());
                    note("MismatchedResponse", &message);
                    failed.extend_from_slice(batch);
                }
                Err(error) if !error.retryable => {
                    let unsent: usize = batches[batch_no..].iter().map(Vec::len).sum();
                    note(&error.code, &error.message);
                    return Err(give_up(
                        failed.len() + unsent,
                        GiveUpReason::Fatal(error),
                        errors,
                    ));
                }
                Err(error) => {
                    note(&error.code, &error.message);
                    failed.extend_from_slice(batch);
                }
            }
        }
        if failed.is_empty() {
            break;
        }
        if report.attempts >= policy.max_attempts {
            return Err(give_up(
                failed.len(),
                GiveUpReason::Attempts(report.attempts),
                errors,
            ));
        }
        let ceiling = policy.backoff_ceiling(report.attempts);
        let delay = ceiling.mul_f64(rand::rng().random_range(0.0..=1.0));
        if started.elapsed() + delay > policy.deadline {
            return Err(give_up(
                failed.len(),
                GiveUpReason::Deadline(policy.deadline),
                errors,
            ));
        }
        tracing::warn!(failed = failed.len(), attempt = report.attempts, delay_ms = delay.as_millis() as u64, errors = %describe_errors(&errors), "retrying failed Firehose entries");
        tokio::time::sleep(delay).await;
        report.retried_entries += failed.len();
        pending = failed;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firehose::memory::{Faults, MemorySink};
    use crate::firehose::{EntryResults, MAX_RECORD_BYTES};
    use proptest::prelude::*;

    fn records(n: usize, row_len: usize) -> Records {
        let mut data = Vec::new();
        let mut ends = Vec::new();
        for i in 0..n {
            let row = format!("{{\"n\":{i:>width$}}}\n", width = row_len.saturating_sub(8));
            data.extend_from_slice(row.as_bytes());
            ends.push(data.len());
        }
        Records::from_rows(data, &ends, MAX_RECORD_BYTES, false).unwrap()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
    }

    #[test]
    fn backoff_doubles_up_to_the_ceiling() {
        let policy = RetryPolicy::default();
        let ceilings: Vec<u128> = (1..=8)
            .map(|a| policy.backoff_ceiling(a).as_millis())
            .collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    }

    #[test]
    fn a_clean_sink_takes_everything_in_one_round() {
        let sink = MemorySink::new("s");
        let recs = records(1234, 40);
        let report = runtime()
            .block_on(deliver(&sink, &recs, &RetryPolicy::default()))
            .unwrap();
        assert_eq!(
            (
                report.records,
                report.calls,
                report.attempts,
                report.retried_entries
            ),
            (1234, 3, 1, 0)
        );
        assert_eq!(sink.accepted_bytes(), recs.concatenated());
    }

    /// A sink that always fails one code, to check the error says how many and why.
    struct AlwaysFailing(bool);
    impl RecordSink for AlwaysFailing {
        async fn put_record_batch(&self, records: &[&[u8]]) -> Result<EntryResults, SinkError> {
            if self.0 {
                return Err(SinkError {
                    stream: "s".into(),
                    code: "ResourceNotFoundException".into(),
                    message: "no stream s".into(),
                    retryable: false,
                });
            }
            Ok(records
                .iter()
                .map(|_| {
                    Err(crate::firehose::EntryFailure {
                        code: "ServiceUnavailableException".into(),
                        message: "Slow down.".into(),
                    })
                })
                .collect())
        }
    }

    #[test]
    fn persistent_entry_failures_exhaust_attempts_and_say_how_many_and_why() {
        let policy = RetryPolicy {
            max_attempts: 3,
            deadline: Duration::from_secs(3600),
            ..RetryPolicy::default()
        };
        let err = runtime()
            .block_on(deliver(&AlwaysFailing(false), &records(7, 20), &policy))
            .unwrap_err();
        assert_eq!((err.failed, err.total), (7, 7));
        assert_eq!(err.reason, GiveUpReason::Attempts(3));
        assert_eq!(
            err.to_string(),
            "7 of 7 records were not delivered to Firehose (gave up after 3 attempts); last errors: ServiceUnavailableException x7 (Slow down.)"
        );
    }

    #[test]
    fn a_fatal_call_error_stops_at_once() {
        let err = runtime()
            .block_on(deliver(
                &AlwaysFailing(true),
                &records(600, 20),
                &RetryPolicy::default(),
            ))
            .unwrap_err();
        assert_eq!((err.failed, err.total), (600, 600));
        assert!(matches!(err.reason, GiveUpReason::Fatal(_)));
        assert!(
            err.to_string().contains("ResourceNotFoundException"),
            "{err}"
        );
    }

    #[test]
    fn an_invocation_spends_its_retries_before_its_timeout() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.within(Duration::from_secs(120)).deadline,
            Duration::from_secs(90)
        );
        assert_eq!(
            policy.within(Duration::from_secs(45)).deadline,
            Duration::from_secs(30)
        );
        assert_eq!(
            policy.within(Duration::from_secs(5)).deadline,
            Duration::ZERO
        );
        // The attempts are not what ends the budget: together their longest backoffs pass
        // the deadline.
        let backoffs: Duration = (1..policy.max_attempts)
            .map(|attempt| policy.backoff_ceiling(attempt))
            .sum();
        assert!(backoffs > policy.deadline, "{backoffs:?}");
    }

    #[test]
    fn the_deadline_bounds_retries() {
        let policy = RetryPolicy {
            max_attempts: 100,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(10),
            deadline: Duration::from_secs(30),
        };
        let err = runtime()
            .block_on(deliver(&AlwaysFailing(false), &records(3, 20), &policy))
            .unwrap_err();
        assert_eq!(err.reason, GiveUpReason::Deadline(Duration::from_secs(30)));
        assert_eq!(err.failed, 3);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// With a sink failing random entries and calls, nothing is lost: either everything
        /// arrives, or the error counts exactly the records that did not.
        #[test]
        fn retries_lose_nothing(
            n in 0usize..1500,
            entry_failure in 0.0f64..0.6,
            call_throttled in 0.0f64..0.3,
            max_attempts in 1u32..12,
            seed: u64,
        ) {
            let sink = MemorySink::with_faults("s", Faults { entry_failure, call_throttled }, seed);
            let recs = records(n, 30);
            let policy = RetryPolicy { max_attempts, deadline: Duration::from_secs(3600), ..RetryPolicy::default() };
            let result = runtime().block_on(deliver(&sink, &recs, &policy));
            let mut accepted = sink.accepted();
            accepted.sort();
            let before = accepted.len();
            accepted.dedup();
            prop_assert_eq!(before, accepted.len(), "the memory sink never duplicates");
            let mut expected: Vec<Vec<u8>> = (0..recs.len()).map(|i| recs.get(i).to_vec()).collect();
            expected.sort();
            match result {
                Ok(report) => {
                    prop_assert_eq!(report.records, n);
                    prop_assert_eq!(accepted, expected);
                }
                Err(err) => {
                    prop_assert_eq!(err.total, n);
                    prop_assert_eq!(accepted.len() + err.failed, n, "{}", err);
                    prop_assert!(accepted.iter().all(|r| expected.binary_search(r).is_ok()));
                }
            }
        }
    }
}
