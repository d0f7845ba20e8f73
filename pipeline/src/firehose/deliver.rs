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

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            deadline: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
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
pub async fn deliver<S: RecordSink>(sink: &S, records: &Records, policy: &RetryPolicy) -> Result<DeliveryReport, DeliveryError> {
    let started = Instant::now();
    let total = records.len();
    let mut report = DeliveryReport {
        records: total,
        bytes: records.total_bytes(),
        ..DeliveryReport::default()
    };
    let mut pending: Vec<usize> = (0..total).collect();
    let give_up = |failed, reason, errors| DeliveryError { failed, total, reason, errors };
    while !pending.is_empty() {
        report.attempts += 1;
        let batches = plan_batches(records, &pending)
            .map_err(|e| give_up(pending.len(), GiveUpReason::RecordTooLarge(e), BTreeMap::new()))?;
        let mut failed = Vec::new();
        let mut errors: BTreeMap<String, (usize, String)> = BTreeMap::new();
        let mut note = |code: &str, message: &str| {
            let entry = errors.entry(code.to_owned()).or_insert_with(|| (0, message.to_owned()));
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
                    return Err(give_up(failed.len() + unsent, GiveUpReason::Fatal(error), errors));
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
            return Err(give_up(failed.len(), GiveUpReason::Attempts(report.attempts), errors));
        }
        let ceiling = policy.backoff_ceiling(report.attempts);
        let delay = ceiling.mul_f64(rand::rng().random_range(0.0..=1.0));
        if started.elapsed() + delay > policy.deadline {
            return Err(give_up(failed.len(), GiveUpReason::Deadline(policy.deadline), errors));
        }
        tracing::warn!(failed = failed.len(), attempt = report.attempts, delay_ms = delay.as_millis() as u64, errors = %describe_errors(&errors), "retrying failed Firehose entries");
        tokio::time::sleep(delay).await;
        report.retried_entries += failed.len();
        pending = failed;
    }
    Ok(report)
}
