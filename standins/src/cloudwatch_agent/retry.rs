//! How the agent's sender retries a failed PutLogEvents call, as the agent's source has it
//! (`plugins/outputs/cloudwatchlogs/internal/pusher/retry.go` and `sender.go`,
//! `plugins/outputs/cloudwatchlogs/cloudwatchlogs.go`), and where the harness stops sooner.

use rand::RngExt as _;

/// How long after the run's simulated window the harness stops its agents: a batch still
/// being retried then is dropped as `sender.go` drops one when the agent is stopped ("Stop
/// requested after N retries ... request dropped"). The harness's rule (a run must end; the
/// agent itself retries for [`AGENT_RETRY_DURATION_MS`]); such a drop fails the run's checks.
pub const AGENT_STOP_GRACE_MS: i64 = 15 * 60_000;
/// How long the agent retries one batch: `maxRetryTimeout` in
/// `plugins/outputs/cloudwatchlogs/cloudwatchlogs.go` (14 days and 10 minutes).
pub const AGENT_RETRY_DURATION_MS: i64 = (14 * 24 * 60 + 10) * 60_000;
/// `pusher/retry.go`: base waits of the short and long strategies, the consecutive retries
/// that double them, and the wait after that (1 minute).
pub const RETRY_SHORT_BASE_MS: i64 = 200;
/// The long strategy's base wait.
pub const RETRY_LONG_BASE_MS: i64 = 2_000;
/// Doublings of the short strategy.
pub const RETRY_SHORT_DOUBLINGS: u32 = 5;
/// Doublings of the long strategy.
pub const RETRY_LONG_DOUBLINGS: u32 = 2;
/// The longest wait.
pub const RETRY_MAX_WAIT_MS: i64 = 60_000;

/// Which wait a failed PutLogEvents gets (`chooseRetryWaitStrategy` in `pusher/retry.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryStrategy {
    /// Most errors.
    Short,
    /// Throttling, ServiceUnavailable, RequestTimeout, 500 and 503, connection errors.
    Long,
}

/// What the sender does after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Retried after the strategy's wait.
    Retry(RetryStrategy),
    /// Not retried, dropped with an error (InvalidParameter, DataAlreadyAccepted).
    NotRetried,
}

/// The sender's decision for an error with `code` (`transport`: a connection refused, reset or
/// timed out, no answer at all; `Unknown`: an AWS answer without a code, a bare 5xx).
///
/// A connection error is retried with the long strategy: the agent's SDK (aws-sdk-go v1)
/// wraps it in an `awserr.Error` (`RequestError`, "send request failed"), so `sender.go`'s
/// "Non aws error ... will not retry" branch does not take it, and `chooseRetryWaitStrategy`
/// picks the long wait for "connection refused", "connection reset" and timeouts
/// (`retry_test.go`: `awserr.New("SomeError", "connection refused", nil)` -> `retryLong`).
pub fn retry_decision(code: &str) -> RetryDecision {
    match code {
        "InvalidParameterException" | "DataAlreadyAcceptedException" => RetryDecision::NotRetried,
        "transport"
        | "ThrottlingException"
        | "ServiceUnavailableException"
        | "RequestTimeout"
        | "Unknown" => RetryDecision::Retry(RetryStrategy::Long),
        _ => RetryDecision::Retry(RetryStrategy::Short),
    }
}

/// Consecutive retries of one batch per strategy.
#[derive(Debug, Default)]
pub(super) struct RetryCounts {
    pub(super) short: u32,
    pub(super) long: u32,
}

impl RetryCounts {
    /// The next wait, jittered into `[d/2, d)` as `withJitter` does.
    pub(super) fn next_wait_ms(&mut self, strategy: RetryStrategy) -> i64 {
        let (count, base, doublings) = match strategy {
            RetryStrategy::Short => (&mut self.short, RETRY_SHORT_BASE_MS, RETRY_SHORT_DOUBLINGS),
            RetryStrategy::Long => (&mut self.long, RETRY_LONG_BASE_MS, RETRY_LONG_DOUBLINGS),
        };
        let wait = retry_wait_ms(base, doublings, *count);
        *count += 1;
        rand::rng().random_range(wait / 2..wait)
    }
}

/// The wait before retry `count` (0 first): `base * 2^count` below `doublings`, then a minute.
pub fn retry_wait_ms(base: i64, doublings: u32, count: u32) -> i64 {
    if count < doublings {
        base << count
    } else {
        RETRY_MAX_WAIT_MS
    }
}
