//! An in-memory record sink: fast and deterministic, for tests and throughput runs, with
//! optional fault injection (failed entries and throttled calls) driven by a seeded RNG.

use std::sync::Mutex;

use rand::{RngExt as _, SeedableRng as _, rngs::StdRng};

use super::{EntryFailure, EntryResults, RecordSink, SinkError};

/// Faults to inject, as probabilities in `0.0..=1.0`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// Each entry fails with `ServiceUnavailableException` with this probability.
    pub entry_failure: f64,
    /// Each whole call fails with a retryable `ThrottlingException` with this probability.
    pub call_throttled: f64,
}

/// Keeps every accepted record, in arrival order.
#[derive(Debug)]
pub struct MemorySink {
    name: String,
    faults: Faults,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    rng: StdRng,
    accepted: Vec<Vec<u8>>,
    calls: usize,
}

impl MemorySink {
    /// A sink that accepts everything.
    pub fn new(name: impl Into<String>) -> Self {
        Self::with_faults(name, Faults::default(), 0)
    }

    /// A sink that injects `faults`, reproducibly for a given `seed`.
    pub fn with_faults(name: impl Into<String>, faults: Faults, seed: u64) -> Self {
        Self {
            name: name.into(),
            faults,
            state: Mutex::new(State {
                rng: StdRng::seed_from_u64(seed),
                accepted: Vec::new(),
                calls: 0,
            }),
        }
    }

    /// The records accepted so far, in arrival order.
    pub fn accepted(&self) -> Vec<Vec<u8>> {
        self.lock().accepted.clone()
    }

    /// The accepted records concatenated (what Firehose would write to S3).
    pub fn accepted_bytes(&self) -> Vec<u8> {
        self.lock().accepted.concat()
    }

    /// How many calls were made.
    pub fn calls(&self) -> usize {
        self.lock().calls
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the Vec half-written.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl RecordSink for MemorySink {
    async fn put_record_batch(&self, records: &[&[u8]]) -> Result<EntryResults, SinkError> {
        let mut state = self.lock();
        state.calls += 1;
        if self.faults.call_throttled > 0.0 && state.rng.random_bool(self.faults.call_throttled) {
            return Err(SinkError {
                stream: self.name.clone(),
                code: "ThrottlingException".to_owned(),
                message: "Rate exceeded (injected)".to_owned(),
                retryable: true,
            });
        }
        let mut results = Vec::with_capacity(records.len());
        for record in records {
            if self.faults.entry_failure > 0.0 && state.rng.random_bool(self.faults.entry_failure) {
                results.push(Err(EntryFailure {
                    code: "ServiceUnavailableException".to_owned(),
                    message: "Slow down (injected)".to_owned(),
                }));
            } else {
                state.accepted.push(record.to_vec());
                results.push(Ok(()));
            }
        }
        Ok(results)
    }
}
