//! One delivery stream, the model's core: records are buffered ([`super::buffer`]) on the
//! arrival clock the harness gives it, and each delivered object is compressed or converted,
//! named as Firehose names it ([`super::keys`]) and written through an [`ObjectWriter`], with
//! the model's retries. The JSON endpoint ([`super::endpoint`]) and the memory world's sink
//! ([`super::sink`]) both put records here.

use std::sync::Arc;

use rand::SeedableRng as _;
use rand::rngs::StdRng;
use tokio::sync::Mutex;

use super::buffer::{ArrivalRun, DeliveryBuffer, Flushed};
use super::config::StreamConfig;
use super::convert;
use super::keys::{self, PrefixUse};
use super::writers::ObjectWriter;
use crate::faults::{FaultPlan, Injection, LossStage, Service, responses};

/// Firehose bills each record's size rounded up to a multiple of this (Amazon Data Firehose
/// pricing page: ingestion "calculated as the number of data records you send to the service,
/// times the size of each record rounded up to the nearest 5KB").
pub const BILLING_UNIT_BYTES: u64 = 5 * 1024;

/// The bytes Firehose bills for one record of `len` bytes.
pub fn billed_bytes(len: u64) -> u64 {
    len.div_ceil(BILLING_UNIT_BYTES).max(1) * BILLING_UNIT_BYTES
}

/// How long Firehose retries delivering an object to S3, in simulated time: "Amazon Data
/// Firehose retries for up to 24 hours ... If data delivery fails for more than 24 hours ...
/// your data is lost" (Firehose developer guide, "Handle data delivery failure", Amazon S3).
pub const S3_RETRY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// The first wait between PutObject attempts, simulated; it doubles up to
/// [`WRITE_RETRY_MAX_MS`]. AWS does not document the waits of Firehose's S3 retries: these are
/// the harness's, named in the fidelity table.
pub const WRITE_RETRY_BASE_MS: i64 = 1_000;
/// The longest wait between two PutObject attempts, simulated (the harness's, as above).
pub const WRITE_RETRY_MAX_MS: i64 = 60_000;

/// The arrival clock: the harness's simulated now, epoch milliseconds.
pub type ArrivalClock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// What the model delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryStats {
    /// Records accepted.
    pub records: usize,
    /// Rows (newline-ended lines) in the records accepted.
    pub rows_in: usize,
    /// Rows in the objects written (format conversion's failures under the error prefix
    /// apart).
    pub rows_written: usize,
    /// Rows in objects given up.
    pub rows_given_up: usize,
    /// The oldest record's age when its object was written, at most, simulated ms
    /// (Firehose's `DeliveryToS3.DataFreshness`).
    pub max_freshness_ms: i64,
    /// PutRecordBatch entries failed on purpose (`[[faults.inject]]` partial failures).
    pub entries_failed: usize,
    /// Objects written.
    pub objects: usize,
    /// Bytes received.
    pub bytes_in: usize,
    /// Bytes received with each record rounded up as Firehose bills it ([`billed_bytes`]).
    pub billed_bytes: u64,
    /// Bytes written (after compression).
    pub bytes_out: usize,
    /// PutObject calls, retries included.
    pub write_attempts: usize,
    /// PutObject calls retried after a failure (within Firehose's 24-hour window).
    pub write_retries: usize,
    /// Objects that could not be written, with the reason.
    pub write_errors: Vec<String>,
    /// Rows written as Parquet (format conversion).
    pub rows_converted: usize,
    /// Records that failed format conversion (written under the error prefix).
    pub records_failed_conversion: usize,
    /// Objects written under the error prefix.
    pub error_objects: usize,
    /// Each data object written and when it landed, for the crawler's runs (a run sees what
    /// had landed by then) and the read-back's latencies.
    #[serde(skip)]
    pub landed: Vec<LandedObject>,
}

/// A data object written: its key, when it landed, and when its rows had arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandedObject {
    /// The object's key.
    pub key: String,
    /// When PutObject succeeded, simulated epoch milliseconds.
    pub landed_ms: i64,
    /// When its rows arrived at the stream, in the object's row order
    /// ([`super::buffer::row_arrival_ms`]); empty where the rows' order is not the records'
    /// (a format conversion that sent some records to the error prefix).
    pub arrivals: Vec<ArrivalRun>,
}

impl DeliveryStats {
    /// Counts a record of `len` bytes holding `rows` rows, taken into the buffer.
    fn accepted(&mut self, len: usize, rows: usize) {
        self.records += 1;
        self.rows_in += rows;
        self.bytes_in += len;
        self.billed_bytes += billed_bytes(len as u64);
    }
}

/// A whole call refused by the fault plan, in Firehose's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CallRefused {
    /// Firehose's error code (`ServiceUnavailableException`), or `dispatch` for a dropped
    /// connection.
    pub code: &'static str,
    /// Its message.
    pub message: &'static str,
}

/// What happened to one entry of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    /// Buffered, with the record id Firehose gives it.
    Accepted(String),
    /// Failed on purpose (`ServiceUnavailableException`, "Slow down.", as PutRecordBatch's
    /// API Reference lists its per-entry errors).
    Failed,
}

struct StreamState {
    config: StreamConfig,
    buffer: DeliveryBuffer,
    rng: StdRng,
    stats: DeliveryStats,
}

/// One delivery stream, writing through `W`.
pub struct DeliveryStream<W> {
    state: Mutex<StreamState>,
    writer: W,
    clock: ArrivalClock,
    /// Simulated milliseconds per real millisecond (the run's speed): the retry waits and the
    /// 24-hour window are simulated time.
    speed: u32,
    faults: Arc<FaultPlan>,
}

impl<W> std::fmt::Debug for DeliveryStream<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryStream").finish_non_exhaustive()
    }
}

impl<W: ObjectWriter> DeliveryStream<W> {
    /// A stream delivering to `writer`, meeting the `firehose` rules of `faults` (throttling,
    /// 5xx, latency, dropped connections, per-entry failures).
    pub fn new(
        config: StreamConfig,
        writer: W,
        clock: ArrivalClock,
        seed: u64,
        faults: Arc<FaultPlan>,
    ) -> Self {
        Self {
            state: Mutex::new(StreamState {
                buffer: DeliveryBuffer::new(config.hints),
                config,
                rng: StdRng::seed_from_u64(seed),
                stats: DeliveryStats::default(),
            }),
            writer,
            clock,
            speed: 1,
            faults,
        }
    }

    /// The same stream on a clock running `speed` times real time: its S3 retries wait and
    /// give up in simulated time.
    #[must_use]
    pub fn at_speed(mut self, speed: u32) -> Self {
        self.speed = speed.max(1);
        self
    }

    /// A stream without fault rules.
    pub fn without_faults(config: StreamConfig, writer: W, clock: ArrivalClock, seed: u64) -> Self {
        let faults = Arc::new(FaultPlan::new(Vec::new(), seed));
        Self::new(config, writer, clock, seed, faults)
    }

    /// The stream's configuration.
    pub async fn config(&self) -> StreamConfig {
        self.state.lock().await.config.clone()
    }

    /// The fault plan it meets.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// PutRecordBatch without HTTP (the memory world's ETL): the plan's faults first (a whole
    /// call refused is `Err` in Firehose's words), then each record buffered or failed.
    pub async fn put_records(
        &self,
        records: &[&[u8]],
    ) -> Result<pipeline::firehose::EntryResults, CallRefused> {
        let decision = self
            .faults
            .decide(Service::Firehose, "PutRecordBatch", None);
        if let Some(delay) = decision.delay {
            tokio::time::sleep(delay).await;
        }
        let failing = match decision.injection {
            None => None,
            Some(Injection::PartialFailure(share)) => Some(share),
            Some(Injection::Throttle) => {
                let a = responses::throttle(Service::Firehose);
                return Err(CallRefused {
                    code: a.code,
                    message: a.message,
                });
            }
            Some(Injection::ServerError) => {
                let a = responses::server_error(Service::Firehose);
                return Err(CallRefused {
                    code: a.code,
                    message: a.message,
                });
            }
            Some(Injection::DropConnection) => {
                return Err(CallRefused {
                    code: "dispatch",
                    message: crate::json_protocol::DROPPED,
                });
            }
            Some(Injection::RefuseConnection) => {
                return Err(CallRefused {
                    code: "dispatch",
                    message: crate::faults::layer::REFUSED,
                });
            }
        };
        let outcomes = self.put(records, failing).await;
        Ok(outcomes
            .into_iter()
            .map(|outcome| match outcome {
                EntryOutcome::Accepted(_) => Ok(()),
                EntryOutcome::Failed => Err(pipeline::firehose::EntryFailure {
                    code: "ServiceUnavailableException".to_owned(),
                    message: "Slow down.".to_owned(),
                }),
            })
            .collect())
    }

    /// Buffers `records` (a `failing` share of them failed on purpose), delivering what the
    /// buffer releases; one outcome per record.
    pub async fn put(&self, records: &[&[u8]], failing: Option<f64>) -> Vec<EntryOutcome> {
        let failed = failing.map_or_else(
            || vec![false; records.len()],
            |share| self.faults.failed_entries(records.len(), share),
        );
        let mut state = self.state.lock().await;
        let now = (self.clock)();
        let mut outcomes = Vec::with_capacity(records.len());
        for (record, failed) in records.iter().zip(failed) {
            if failed {
                state.stats.entries_failed += 1;
                outcomes.push(EntryOutcome::Failed);
                continue;
            }
            // `[[faults.lose]]` at `etl-row`: the record arrives without its first row, as if
            // the ETL had lost it on the way.
            let record: &[u8] = if self.faults.lose(LossStage::EtlRow) {
                record
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(&[][..], |end| &record[end + 1..])
            } else {
                record
            };
            let rows = rows_in(record);
            state.stats.accepted(record.len(), rows);
            outcomes.push(EntryOutcome::Accepted(record_id(&mut state.rng)));
            // At `firehose-record`: accepted, and never buffered.
            if record.is_empty() || self.faults.lose(LossStage::FirehoseRecord) {
                continue;
            }
            for flushed in state.buffer.push(now, record, rows) {
                self.deliver(&mut state, flushed).await;
            }
        }
        outcomes
    }

    /// Delivers the buffer if its interval has passed (call as the simulated clock moves).
    pub async fn tick(&self) {
        let mut state = self.state.lock().await;
        let now = (self.clock)();
        if let Some(flushed) = state.buffer.tick(now) {
            self.deliver(&mut state, flushed).await;
        }
    }

    /// Delivers what is left and reports.
    pub async fn finish(&self) -> DeliveryStats {
        let mut state = self.state.lock().await;
        if let Some(flushed) = state.buffer.finish() {
            self.deliver(&mut state, flushed).await;
        }
        state.stats.clone()
    }

    async fn deliver(&self, state: &mut StreamState, flushed: Flushed) {
        let arrival = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(flushed.oldest_arrival_ms) * 1_000_000,
        )
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let config = state.config.clone();
        let mut rows = flushed.rows;
        let mut arrivals = flushed.arrivals;
        let (body, extension) = match &config.conversion {
            None if self.faults.lose(LossStage::Duplicate) => (
                config
                    .compression
                    .encode(&duplicate_first_row(&flushed.data), config.gzip_level),
                config.compression.extension(),
            ),
            None => (
                config.compression.encode(&flushed.data, config.gzip_level),
                config.compression.extension(),
            ),
            Some(conversion) => {
                let converted = match conversion.convert(&flushed.data, &flushed.record_ends) {
                    Ok(converted) => converted,
                    Err(e) => {
                        state.stats.write_errors.push(format!(
                            "{} records could not be converted: {e}",
                            flushed.records
                        ));
                        return;
                    }
                };
                state.stats.rows_converted += converted.rows;
                rows = converted.rows;
                if !converted.failed.is_empty() {
                    arrivals.clear();
                    state.stats.records_failed_conversion += converted.failed.len();
                    let documents: Vec<String> = converted
                        .failed
                        .iter()
                        .map(|f| conversion.error_document(f, flushed.oldest_arrival_ms))
                        .collect();
                    let body = (documents.join("\n") + "\n").into_bytes();
                    let prefix = PrefixUse::Error(convert::CONVERSION_FAILED);
                    let records = converted.failed.len();
                    let error_prefix = if config.error_prefix.is_empty() {
                        keys::unspecified_error_prefix(&config.prefix)
                    } else {
                        config.error_prefix.clone()
                    };
                    if let Some(key) = object_key_for(state, &error_prefix, prefix, arrival, "")
                        && self.write(state, &key, body, records).await
                    {
                        state.stats.error_objects += 1;
                    }
                }
                match converted.parquet {
                    Some(parquet) => (parquet, convert::PARQUET_EXTENSION),
                    None => return,
                }
            }
        };
        let Some(key) = object_key_for(state, &config.prefix, PrefixUse::Data, arrival, extension)
        else {
            return;
        };
        if self.faults.lose(LossStage::S3Object) {
            // Counted as written, never written.
            state.stats.objects += 1;
            state.stats.rows_written += rows;
        } else if self.write(state, &key, body, flushed.records).await {
            state.stats.objects += 1;
            state.stats.rows_written += rows;
            let now = (self.clock)();
            state.stats.landed.push(LandedObject {
                key,
                landed_ms: now,
                arrivals,
            });
            let age = now - flushed.oldest_arrival_ms;
            state.stats.max_freshness_ms = state.stats.max_freshness_ms.max(age);
        } else {
            state.stats.rows_given_up += rows;
        }
        state.buffer.recycle(flushed.data, flushed.record_ends);
    }

    /// PutObject with the model's retries; whether the object was written (what was given up
    /// is recorded with its record count).
    async fn write(
        &self,
        state: &mut StreamState,
        key: &str,
        body: Vec<u8>,
        records: usize,
    ) -> bool {
        let size = body.len();
        let bucket = state.config.bucket.clone();
        let first_failure = tokio::time::Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            state.stats.write_attempts += 1;
            let error = match self.writer.put(&bucket, key, body.clone()).await {
                Ok(()) => {
                    state.stats.bytes_out += size;
                    return true;
                }
                Err(e) => e,
            };
            let wait_ms = write_retry_wait_ms(attempt);
            let failing_ms = i64::try_from(first_failure.elapsed().as_millis())
                .unwrap_or(i64::MAX)
                .saturating_mul(i64::from(self.speed));
            if failing_ms + wait_ms > S3_RETRY_WINDOW_MS {
                state.stats.write_errors.push(format!(
                    "{key} ({records} records): {error}; given up after {attempt} attempts over \
                     Firehose's 24-hour retry window (simulated): the data is lost, as on AWS"
                ));
                return false;
            }
            state.stats.write_retries += 1;
            tracing::warn!(%key, %error, attempt, "the Firehose model's PutObject failed; retrying");
            let real_ms = u64::try_from(wait_ms).unwrap_or(0) / u64::from(self.speed);
            tokio::time::sleep(std::time::Duration::from_millis(real_ms)).await;
        }
    }
}

/// The simulated wait after the `attempt`th failed PutObject (1-based): doubling from
/// [`WRITE_RETRY_BASE_MS`], at most [`WRITE_RETRY_MAX_MS`].
pub fn write_retry_wait_ms(attempt: u32) -> i64 {
    WRITE_RETRY_BASE_MS
        .saturating_mul(1_i64 << attempt.saturating_sub(1).min(20))
        .min(WRITE_RETRY_MAX_MS)
}

/// The key of a new object under `prefix` (a failed evaluation is recorded and gives `None`).
fn object_key_for(
    state: &mut StreamState,
    prefix: &str,
    use_: PrefixUse<'_>,
    arrival: time::OffsetDateTime,
    extension: &str,
) -> Option<String> {
    let prefix = match keys::evaluate_prefix(prefix, arrival, use_, &mut state.rng) {
        Ok(prefix) => prefix,
        Err(e) => {
            state.stats.write_errors.push(e.to_string());
            return None;
        }
    };
    let uuid = keys::uuid_v4(&mut state.rng);
    Some(keys::object_key(
        &prefix,
        &state.config.name,
        1,
        arrival,
        &uuid,
        extension,
    ))
}

/// Newline-ended rows in `data` (a last row without its newline counted too).
fn rows_in(data: &[u8]) -> usize {
    let newlines = memchr::memchr_iter(b'\n', data).count();
    newlines + usize::from(data.last().is_some_and(|&b| b != b'\n'))
}

/// `data` with its last row replaced by a copy of its first (`[[faults.lose]]` at
/// `duplicate`); unchanged with fewer than two rows.
fn duplicate_first_row(data: &[u8]) -> Vec<u8> {
    let text = data.strip_suffix(b"\n").unwrap_or(data);
    match (
        text.iter().position(|&b| b == b'\n'),
        text.iter().rposition(|&b| b == b'\n'),
    ) {
        (Some(first_end), Some(last_start)) => {
            let mut out = text[..=last_start].to_vec();
            out.extend_from_slice(&text[..=first_end]);
            out
        }
        _ => data.to_vec(),
    }
}

fn record_id(rng: &mut StdRng) -> String {
    keys::uuid_v4(rng).replace('-', "")
}
