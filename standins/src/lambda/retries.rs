//! Lambda's asynchronous invocation, as the Lambda developer guide has it ("How Lambda handles
//! errors and retries with asynchronous invocation"): "If the function returns an error, by
//! default Lambda attempts to run it two more times, with a one-minute wait between the first
//! two attempts, and two minutes between the second and third attempts. Function errors
//! include errors returned by the function's code and errors returned by the function's
//! runtime, such as timeouts." An event that fails every attempt, or stays longer than its
//! maximum age, goes to the function's dead-letter queue ("Adding a dead-letter queue": the
//! event as it was, with `RequestID`, `ErrorCode` and `ErrorMessage` attributes).
//!
//! `MaximumRetryAttempts` (0 to 2) and `MaximumEventAgeInSeconds` (60 to 21,600) come from the
//! template's `AWS::Lambda::EventInvokeConfig` where it has one, AWS's defaults otherwise. The
//! waits are simulated time.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use crate::clock::SimClock;
use crate::eventbridge::queue::{MemoryQueue, QueueError, SdkQueue};

/// The waits before the first and the second retry, simulated milliseconds.
pub const RETRY_WAITS_MS: [i64; 2] = [60_000, 120_000];
/// `MaximumRetryAttempts` when the template sets none.
pub const DEFAULT_RETRY_ATTEMPTS: u32 = 2;
/// `MaximumEventAgeInSeconds` when the template sets none (6 hours), in milliseconds.
pub const DEFAULT_MAX_EVENT_AGE_MS: i64 = 6 * 60 * 60 * 1000;

/// How one function's asynchronous invocations are retried.
#[derive(Debug, Clone, Copy)]
pub struct AsyncRetryPolicy {
    /// Retries after the first attempt (0 to 2).
    pub retry_attempts: u32,
    /// How old an event may get before Lambda discards it (to the dead-letter queue).
    pub max_event_age_ms: i64,
    /// Simulated milliseconds per real millisecond: the waits are simulated time.
    pub speed: u32,
    /// The run's clock, to stamp dead letters with their simulated time.
    pub clock: Option<SimClock>,
}

impl Default for AsyncRetryPolicy {
    fn default() -> Self {
        Self {
            retry_attempts: DEFAULT_RETRY_ATTEMPTS,
            max_event_age_ms: DEFAULT_MAX_EVENT_AGE_MS,
            speed: 1,
            clock: None,
        }
    }
}

impl AsyncRetryPolicy {
    /// AWS's defaults on a clock running `speed` times real time.
    pub fn at_speed(speed: u32) -> Self {
        Self {
            speed: speed.max(1),
            ..Self::default()
        }
    }

    /// AWS's defaults on the run's `clock`.
    pub fn on(clock: SimClock) -> Self {
        Self {
            clock: Some(clock),
            ..Self::at_speed(clock.speed())
        }
    }

    /// Simulated milliseconds since the run's start, when the policy has the run's clock.
    pub fn elapsed_ms(&self) -> Option<i64> {
        self.clock.map(|c| c.now_ms() - c.start_ms())
    }

    /// After failed attempt `attempt` (1 for the first) of an event `age_ms` old: the real time
    /// to wait before the next attempt, or why there is none.
    pub fn next_wait(&self, attempt: u32, age_ms: i64) -> Result<Duration, GaveUp> {
        if attempt > self.retry_attempts {
            return Err(GaveUp::Attempts(attempt));
        }
        let wait_ms = Self::wait_ms(attempt);
        if age_ms + wait_ms > self.max_event_age_ms {
            return Err(GaveUp::Age(age_ms + wait_ms));
        }
        let real = u64::try_from(wait_ms).unwrap_or(0) / u64::from(self.speed.max(1));
        Ok(Duration::from_millis(real))
    }

    /// The simulated wait before the retry after attempt `attempt`.
    pub fn wait_ms(attempt: u32) -> i64 {
        let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
        RETRY_WAITS_MS[index.min(RETRY_WAITS_MS.len() - 1)]
    }
}

/// Why Lambda stopped retrying an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaveUp {
    /// Every attempt failed (the count of attempts).
    Attempts(u32),
    /// The event would be older than its maximum age (the age it would reach, ms).
    Age(i64),
}

impl std::fmt::Display for GaveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Attempts(n) => write!(f, "failed all {n} attempts"),
            Self::Age(ms) => write!(
                f,
                "the event would be {} s old, past its maximum event age",
                ms / 1000
            ),
        }
    }
}

/// An event Lambda sent to a function's dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    /// The function.
    pub function: String,
    /// The event, as the function received it.
    pub body: String,
    /// The last attempt's error type (Lambda's `ErrorCode` attribute).
    pub error_code: String,
    /// Its message (`ErrorMessage`).
    pub error_message: String,
    /// Why Lambda gave up.
    pub gave_up: String,
    /// Log events in it (the ETL's payloads; 0 for an onboarding event).
    pub log_events: usize,
    /// When Lambda sent it, simulated milliseconds since the run's start (when known).
    pub at_ms: Option<i64>,
}

/// A function's dead-letter queue, as Lambda writes to it.
pub trait DeadLetterQueue: Send + Sync {
    /// Sends `letter` as Lambda does: the event as the body, the error in attributes.
    fn send(&self, letter: &DeadLetter) -> impl Future<Output = Result<(), QueueError>> + Send;
}

impl DeadLetterQueue for SdkQueue {
    async fn send(&self, letter: &DeadLetter) -> Result<(), QueueError> {
        self.send_with_attributes(
            &letter.body,
            &[
                ("ErrorCode", &letter.error_code),
                ("ErrorMessage", &letter.error_message),
            ],
        )
        .await
    }
}

impl DeadLetterQueue for MemoryQueue {
    async fn send(&self, letter: &DeadLetter) -> Result<(), QueueError> {
        MemoryQueue::send(self, letter.body.clone());
        Ok(())
    }
}

impl<Q: DeadLetterQueue> DeadLetterQueue for std::sync::Arc<Q> {
    fn send(&self, letter: &DeadLetter) -> impl Future<Output = Result<(), QueueError>> + Send {
        (**self).send(letter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Lambda developer guide's rule: two retries, after one and then two minutes, for
    /// every function error; `MaximumRetryAttempts` and `MaximumEventAgeInSeconds` bound them.
    #[test]
    fn retries_wait_one_then_two_minutes_within_the_attempts_and_the_age() {
        let policy = AsyncRetryPolicy::at_speed(60);
        assert_eq!(policy.next_wait(1, 0), Ok(Duration::from_secs(1)));
        assert_eq!(policy.next_wait(2, 60_000), Ok(Duration::from_secs(2)));
        assert_eq!(policy.next_wait(3, 180_000), Err(GaveUp::Attempts(3)));
        let none = AsyncRetryPolicy {
            retry_attempts: 0,
            ..policy
        };
        assert_eq!(none.next_wait(1, 0), Err(GaveUp::Attempts(1)));
        let young = AsyncRetryPolicy {
            max_event_age_ms: 90_000,
            ..policy
        };
        assert_eq!(young.next_wait(1, 0), Ok(Duration::from_secs(1)));
        assert_eq!(young.next_wait(2, 60_000), Err(GaveUp::Age(180_000)));
    }
}
