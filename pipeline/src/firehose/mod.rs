//! Delivery to Kinesis Data Firehose: the record-sink port, batching within PutRecordBatch's
//! hard limits, and delivery that retries only the failed entries.
//!
//! Adapters: [`sdk::FirehoseSink`] (aws-sdk-firehose; LocalStack and AWS differ only by
//! endpoint) and [`memory::MemorySink`] (in-process, with fault injection for tests).

use std::future::Future;

pub mod batch;
pub mod deliver;
pub mod memory;
pub mod sdk;

pub use batch::{Records, plan_batches};
pub use deliver::{DeliveryError, DeliveryReport, RetryPolicy, deliver};

/// PutRecordBatch accepts at most this many records per call.
pub const MAX_RECORDS_PER_BATCH: usize = 500;
/// PutRecordBatch accepts at most this many bytes of record data per call (4 MiB).
pub const MAX_BYTES_PER_BATCH: usize = 4 * 1024 * 1024;
/// One Firehose record holds at most 1,000 KiB of data, before base64 encoding.
pub const MAX_RECORD_BYTES: usize = 1000 * 1024;

/// Why one entry of a batch was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFailure {
    /// Firehose's `ErrorCode`, e.g. `ServiceUnavailableException`.
    pub code: String,
    /// Firehose's `ErrorMessage`.
    pub message: String,
}

/// Why a whole PutRecordBatch call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("PutRecordBatch to {stream} failed ({code}): {message}")]
pub struct SinkError {
    /// The delivery stream the call was for.
    pub stream: String,
    /// The error code or kind (`ThrottlingException`, `ResourceNotFoundException`, `dispatch`, …).
    pub code: String,
    /// What the service or the transport said.
    pub message: String,
    /// Whether trying again may succeed (throttling, service unavailable, network).
    pub retryable: bool,
}

/// The result of one PutRecordBatch call: one entry per record, in order.
pub type EntryResults = Vec<Result<(), EntryFailure>>;

/// Where rows go: something that takes a batch of records, like Firehose's PutRecordBatch.
///
/// Implementations return exactly one result per record, in order, and must not split or
/// reorder records. Callers keep batches within [`MAX_RECORDS_PER_BATCH`],
/// [`MAX_BYTES_PER_BATCH`] and [`MAX_RECORD_BYTES`].
pub trait RecordSink: Send + Sync {
    /// Puts one batch of records.
    fn put_record_batch(
        &self,
        records: &[&[u8]],
    ) -> impl Future<Output = Result<EntryResults, SinkError>> + Send;
}

impl<S: RecordSink> RecordSink for &S {
    fn put_record_batch(
        &self,
        records: &[&[u8]],
    ) -> impl Future<Output = Result<EntryResults, SinkError>> + Send {
        (**self).put_record_batch(records)
    }
}
