//! `[[faults.poison]]`: a bug in the ETL that fails every payload from one source's streams
//! delivered within a window of simulated time, on every attempt, until it is fixed (the
//! scenario's `[redrive]`, after the run's delivery). Lambda retries such a payload and then
//! sends it to the dead-letter queue; the redrive sends it back to the fixed function. The
//! error is named as the harness's: no AWS service makes it.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::{SimClock, SimDuration};
use crate::lambda::InvokeError;
use crate::lambda::functions::{EtlFunction, EtlResult};

/// The error type the poisoned function fails with.
pub const POISON_ERROR: &str = "PoisonPayload";

/// One poison rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoisonRule {
    /// The source whose streams' payloads fail (a log stream name starts with it:
    /// `/var/log/secure`, `System`).
    pub source: String,
    /// Start of the window of first delivery, simulated time since the run's start.
    pub from: SimDuration,
    /// End of the window.
    pub until: SimDuration,
}

impl PoisonRule {
    /// Each rule this one breaks: (field, value, rule, what would be valid).
    pub fn issues(&self, duration: SimDuration) -> Vec<super::config::RuleIssue> {
        super::config::window_issues(self.from, Some(self.until), duration)
    }
}

/// The ETL function with the bug of `rules` until [`Poisoned::fix`].
#[derive(Debug)]
pub struct Poisoned<F> {
    inner: F,
    rules: Vec<PoisonRule>,
    clock: SimClock,
    /// The payloads that met the bug (their text): they fail on every attempt until the fix.
    poisoned: Mutex<HashSet<String>>,
    fixed: AtomicBool,
}

impl<F> Poisoned<F> {
    /// `inner` with the bug of `rules` (none: `inner` as it is), windows on `clock`.
    pub fn new(inner: F, rules: Vec<PoisonRule>, clock: SimClock) -> Self {
        Self {
            inner,
            rules,
            clock,
            poisoned: Mutex::default(),
            fixed: AtomicBool::new(false),
        }
    }

    /// The bug is fixed: every payload goes to the function from now on.
    pub fn fix(&self) {
        self.fixed.store(true, Ordering::SeqCst);
    }

    /// Payloads that met the bug.
    pub fn poisoned(&self) -> usize {
        crate::locked(&self.poisoned).len()
    }

    fn meets_bug(&self, event: &Value) -> bool {
        if self.rules.is_empty() || self.fixed.load(Ordering::SeqCst) {
            return false;
        }
        let key = event.to_string();
        let mut poisoned = crate::locked(&self.poisoned);
        if poisoned.contains(&key) {
            return true;
        }
        let elapsed = self.clock.now_ms() - self.clock.start_ms();
        let stream = payload_stream(event).unwrap_or_default();
        let hit = self.rules.iter().any(|rule| {
            stream.starts_with(&rule.source)
                && elapsed >= rule.from.as_millis()
                && elapsed < rule.until.as_millis()
        });
        if hit {
            poisoned.insert(key);
        }
        hit
    }
}

/// The log stream of a CloudWatch Logs subscription event (`awslogs.data`, gzip and base64).
fn payload_stream(event: &Value) -> Option<String> {
    use pipeline::etl::decode;
    let gzip = decode::gzip_from_lambda_event(event).ok()?;
    let mut json = Vec::new();
    decode::gunzip_capped(&gzip, POISON_PAYLOAD_LIMIT, &mut json).ok()?;
    let payload = decode::parse_payload(&json).ok()?;
    Some(payload.log_stream.into_owned())
}

/// The most payload text the poison reads to find a stream (a subscription payload is at most
/// 1 MB compressed; its stream name is near the start, but the whole text is parsed).
const POISON_PAYLOAD_LIMIT: usize = 64 << 20;

impl<F: EtlFunction> EtlFunction for Poisoned<F> {
    async fn invoke(&self, event: &Value) -> Result<EtlResult, InvokeError> {
        if self.meets_bug(event) {
            return Err(InvokeError::Function {
                error_type: POISON_ERROR.to_owned(),
                message: "the harness's injected bug ([[faults.poison]]) fails this payload until it is fixed".to_owned(),
            });
        }
        self.inner.invoke(event).await
    }
}
