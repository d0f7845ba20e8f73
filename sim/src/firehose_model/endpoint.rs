//! The harness's Firehose endpoint: PutRecordBatch, PutRecord and DescribeDeliveryStream in
//! Firehose's AWS JSON 1.1 protocol, for the ETL's real SDK client (`FirehoseSink`). Records are
//! buffered ([`super::buffer`]) on the arrival clock the harness gives it, and each delivered
//! object is compressed and named as Firehose names it ([`super::keys`]) and handed to an
//! [`ObjectWriter`] (the emulator's S3 in runs, memory in tests).
//!
//! Limits checked as PutRecordBatch states them (Amazon Data Firehose API Reference): at most
//! 500 records and 4 MiB per call, 1,000 KiB per record; a missing stream is
//! `ResourceNotFoundException`.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::buffer::{BufferingHints, DeliveryBuffer, Flushed, ObjectCompression};
use super::convert::{self, CatalogTable, Conversion};
use super::keys::{self, PrefixUse};
use crate::faults::{Attempt, FaultPlan, Injection, Service, responses};
use crate::json_standin::{self, JsonRequest, StandIn, error, ok};

/// Most records in one PutRecordBatch call.
pub const MAX_RECORDS_PER_CALL: usize = 500;
/// Most bytes in one PutRecordBatch call.
pub const MAX_BYTES_PER_CALL: usize = 4 * 1024 * 1024;
/// Most bytes in one record.
pub const MAX_RECORD_BYTES: usize = 1000 * 1024;
/// Firehose bills each record's size rounded up to a multiple of this (Amazon Data Firehose
/// pricing page: ingestion "calculated as the number of data records you send to the service,
/// times the size of each record rounded up to the nearest 5KB").
pub const BILLING_UNIT_BYTES: u64 = 5 * 1024;

/// The bytes Firehose bills for one record of `len` bytes.
pub fn billed_bytes(len: u64) -> u64 {
    len.div_ceil(BILLING_UNIT_BYTES).max(1) * BILLING_UNIT_BYTES
}

/// Attempts of one object's PutObject before the model gives it up. Firehose retries for up
/// to 24 hours ("Data Delivery Failure Handling"); a run cannot wait that long, so the model
/// retries a few times in real time and names what it gave up.
pub const WRITE_ATTEMPTS: u32 = 4;
/// The first wait between attempts; it doubles.
pub const WRITE_RETRY_BASE: std::time::Duration = std::time::Duration::from_millis(200);

/// Where delivered objects go.
#[async_trait::async_trait]
pub trait ObjectWriter: Send + Sync + 'static {
    /// Writes one object; the error names what failed.
    async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String>;
}

/// Objects kept in memory (tests, the memory backend).
#[derive(Debug, Default)]
pub struct MemoryObjects {
    objects: std::sync::Mutex<Vec<(String, Vec<u8>)>>,
}

impl MemoryObjects {
    /// Every object written, in order: key and body.
    pub fn objects(&self) -> Vec<(String, Vec<u8>)> {
        self.objects
            .lock()
            .map(|objects| objects.clone())
            .unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl ObjectWriter for MemoryObjects {
    async fn put(&self, _bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String> {
        self.objects
            .lock()
            .map_err(|_| "the object store's lock is poisoned".to_owned())?
            .push((key.to_owned(), body));
        Ok(())
    }
}

/// One delivery stream's configuration, from the stack definition.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// The stream's name.
    pub name: String,
    /// The destination bucket.
    pub bucket: String,
    /// `Prefix`.
    pub prefix: String,
    /// `ErrorOutputPrefix`.
    pub error_prefix: String,
    /// The buffering hints.
    pub hints: BufferingHints,
    /// `CompressionFormat`.
    pub compression: ObjectCompression,
    /// `DataFormatConversionConfiguration`, when enabled: objects are Parquet.
    pub conversion: Option<Conversion>,
}

/// The account and region the model's descriptions and error documents name (it serves one
/// stream and knows no placement).
pub const MODEL_ACCOUNT: &str = "000000000000";
/// See [`MODEL_ACCOUNT`].
pub const MODEL_REGION: &str = "us-east-1";

impl StreamConfig {
    /// The stream the stack definition declares, delivering to `bucket`.
    pub fn from_definition(
        definition: &stack::definition::StackDefinition,
        stream: &str,
        bucket: &str,
    ) -> Result<Self, String> {
        let firehose = &definition.firehose;
        let conversion = firehose
            .converts()
            .map(|conversion| {
                Conversion::new(
                    &crate::athena::declared_columns(),
                    &conversion.parquet_compression,
                    CatalogTable {
                        catalog_id: MODEL_ACCOUNT.to_owned(),
                        database: definition.catalog.database.clone(),
                        table: definition.catalog.table.clone(),
                        region: MODEL_REGION.to_owned(),
                    },
                )
            })
            .transpose()?;
        Ok(Self {
            name: stream.to_owned(),
            bucket: bucket.to_owned(),
            prefix: firehose.prefix.clone(),
            error_prefix: firehose.error_prefix.clone(),
            hints: BufferingHints {
                size_mib: usize::try_from(firehose.buffer_size_mb).unwrap_or(1),
                interval_seconds: u64::try_from(firehose.buffer_interval_seconds).unwrap_or(0),
            },
            compression: ObjectCompression::from_format(&firehose.compression)?,
            conversion,
        })
    }
}

/// What the model delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryStats {
    /// Records accepted.
    pub records: usize,
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
    /// Objects that could not be written, with the reason.
    pub write_errors: Vec<String>,
    /// Rows written as Parquet (format conversion).
    pub rows_converted: usize,
    /// Records that failed format conversion (written under the error prefix).
    pub records_failed_conversion: usize,
    /// Objects written under the error prefix.
    pub error_objects: usize,
}

impl DeliveryStats {
    /// Counts a record of `len` bytes taken into the buffer.
    fn accepted(&mut self, len: usize) {
        self.records += 1;
        self.bytes_in += len;
        self.billed_bytes += billed_bytes(len as u64);
    }
}

struct Stream {
    config: StreamConfig,
    buffer: DeliveryBuffer,
    rng: StdRng,
    stats: DeliveryStats,
}

/// The arrival clock: the harness's simulated now, epoch milliseconds.
pub type ArrivalClock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// A running model endpoint.
pub struct FirehoseModel {
    state: Handler,
    endpoint: StandIn,
}

impl std::fmt::Debug for FirehoseModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirehoseModel")
            .field("endpoint", &self.endpoint.endpoint)
            .finish_non_exhaustive()
    }
}

impl FirehoseModel {
    /// Serves `config` on a free local port.
    pub async fn start(
        config: StreamConfig,
        writer: Arc<dyn ObjectWriter>,
        clock: ArrivalClock,
        seed: u64,
    ) -> std::io::Result<Self> {
        let faults = Arc::new(FaultPlan::new(Vec::new(), seed));
        Self::start_with_faults(config, writer, clock, seed, faults).await
    }

    /// Serves `config`, meeting the `firehose` rules of `faults` on PutRecordBatch and
    /// PutRecord: throttling (`ServiceUnavailableException`), 5xx, latency, dropped
    /// connections, and per-entry failures.
    pub async fn start_with_faults(
        config: StreamConfig,
        writer: Arc<dyn ObjectWriter>,
        clock: ArrivalClock,
        seed: u64,
        faults: Arc<FaultPlan>,
    ) -> std::io::Result<Self> {
        let stream = Arc::new(Mutex::new(Stream {
            buffer: DeliveryBuffer::new(config.hints),
            config,
            rng: StdRng::seed_from_u64(seed),
            stats: DeliveryStats::default(),
        }));
        let state = Handler {
            stream,
            writer,
            clock,
            faults,
        };
        let handler = state.clone();
        let endpoint = json_standin::serve(move |request| {
            let handler = handler.clone();
            async move { handler.handle(request).await }
        })
        .await?;
        Ok(Self { state, endpoint })
    }

    /// The endpoint URL for the SDK client.
    pub fn endpoint(&self) -> &str {
        &self.endpoint.endpoint
    }

    /// PutRecordBatch without HTTP (the memory backend's ETL): the records buffered as the
    /// endpoint buffers them, one result per record, after the plan's faults (a whole-call
    /// failure is `Err` with Firehose's code and message).
    pub async fn put_records(
        &self,
        records: &[&[u8]],
    ) -> Result<pipeline::firehose::EntryResults, (&'static str, &'static str)> {
        let decision = self
            .state
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
                return Err((a.code, a.message));
            }
            Some(Injection::ServerError) => {
                let a = responses::server_error(Service::Firehose);
                return Err((a.code, a.message));
            }
            Some(Injection::DropConnection) => return Err(("dispatch", json_standin::DROPPED)),
        };
        let failed = failing.map_or_else(
            || vec![false; records.len()],
            |share| self.state.faults.failed_entries(records.len(), share),
        );
        let mut stream = self.state.stream.lock().await;
        let now = (self.state.clock)();
        let mut results = Vec::with_capacity(records.len());
        for (record, failed) in records.iter().zip(failed) {
            if failed {
                stream.stats.entries_failed += 1;
                results.push(Err(pipeline::firehose::EntryFailure {
                    code: "ServiceUnavailableException".to_owned(),
                    message: "Slow down.".to_owned(),
                }));
                continue;
            }
            stream.stats.accepted(record.len());
            for flushed in stream.buffer.push(now, record) {
                deliver(&mut stream, self.state.writer.as_ref(), flushed).await;
            }
            results.push(Ok(()));
        }
        Ok(results)
    }

    /// Delivers the buffer if its interval has passed (call as the simulated clock moves).
    pub async fn tick(&self) {
        let mut stream = self.state.stream.lock().await;
        let now = (self.state.clock)();
        if let Some(flushed) = stream.buffer.tick(now) {
            deliver(&mut stream, self.state.writer.as_ref(), flushed).await;
        }
    }

    /// Delivers what is left and reports.
    pub async fn finish(&self) -> DeliveryStats {
        let mut stream = self.state.stream.lock().await;
        if let Some(flushed) = stream.buffer.finish() {
            deliver(&mut stream, self.state.writer.as_ref(), flushed).await;
        }
        stream.stats.clone()
    }
}

/// The stream and what it delivers with: shared by the endpoint's requests and by
/// [`FirehoseModel::tick`] and [`FirehoseModel::finish`].
#[derive(Clone)]
struct Handler {
    stream: Arc<Mutex<Stream>>,
    writer: Arc<dyn ObjectWriter>,
    clock: ArrivalClock,
    faults: Arc<FaultPlan>,
}

impl Handler {
    /// What the fault plan does to this attempt: an answer in its place, or a share of entries
    /// to fail (after any latency).
    async fn meet_faults(
        &self,
        request: &JsonRequest,
        operation: &str,
    ) -> Result<Option<f64>, Response<Full<Bytes>>> {
        let header = |name| {
            request
                .parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
        };
        let attempt =
            Attempt::from_headers(header("amz-sdk-invocation-id"), header("amz-sdk-request"));
        let decision = self
            .faults
            .decide(Service::Firehose, operation, attempt.as_ref());
        self.faults.ended(attempt.as_ref());
        if let Some(delay) = decision.delay {
            tokio::time::sleep(delay).await;
        }
        let answer = |a: responses::ErrorAnswer| {
            let status =
                StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error(status, a.code, a.message)
        };
        match decision.injection {
            None => Ok(None),
            Some(Injection::Throttle) => Err(answer(responses::throttle(Service::Firehose))),
            Some(Injection::ServerError) => Err(answer(responses::server_error(Service::Firehose))),
            Some(Injection::DropConnection) => Err(json_standin::dropped()),
            Some(Injection::PartialFailure(share)) => Ok(Some(share)),
        }
    }

    async fn handle(&self, request: JsonRequest) -> Response<Full<Bytes>> {
        let operation = request
            .target
            .strip_prefix("Firehose_20150804.")
            .unwrap_or_default();
        let name = request.input["DeliveryStreamName"]
            .as_str()
            .unwrap_or_default();
        let failing = if matches!(operation, "PutRecordBatch" | "PutRecord") {
            match self.meet_faults(&request, operation).await {
                Ok(share) => share,
                Err(answer) => return answer,
            }
        } else {
            None
        };
        let mut stream = self.stream.lock().await;
        if name != stream.config.name {
            return error(
                StatusCode::BAD_REQUEST,
                "ResourceNotFoundException",
                &format!("Firehose {name} not found."),
            );
        }
        match operation {
            "PutRecordBatch" => {
                let records = request.input["Records"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                self.put(&mut stream, &records, true, failing).await
            }
            "PutRecord" => {
                let record = request.input["Record"].clone();
                self.put(&mut stream, &[record], false, None).await
            }
            "DescribeDeliveryStream" => ok(&describe(&stream.config)),
            other => error(
                StatusCode::BAD_REQUEST,
                "UnknownOperationException",
                &format!("the harness's Firehose does not model {other:?}"),
            ),
        }
    }

    async fn put(
        &self,
        stream: &mut Stream,
        records: &[Value],
        batch: bool,
        failing: Option<f64>,
    ) -> Response<Full<Bytes>> {
        let data = match decode(records) {
            Ok(data) => data,
            Err(message) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgumentException",
                    &message,
                );
            }
        };
        let now = (self.clock)();
        let failed = failing.map_or_else(
            || vec![false; data.len()],
            |share| self.faults.failed_entries(data.len(), share),
        );
        let mut ids = Vec::with_capacity(data.len());
        for (record, failed) in data.iter().zip(&failed) {
            if *failed {
                // PutRecordBatch's per-entry failure (its API Reference: ErrorCode
                // ServiceUnavailableException or InternalFailure, with an ErrorMessage).
                stream.stats.entries_failed += 1;
                ids.push(json!({
                    "ErrorCode": "ServiceUnavailableException",
                    "ErrorMessage": "Slow down."
                }));
                continue;
            }
            stream.stats.accepted(record.len());
            ids.push(json!({ "RecordId": record_id(&mut stream.rng) }));
            for flushed in stream.buffer.push(now, record) {
                deliver(stream, self.writer.as_ref(), flushed).await;
            }
        }
        if batch {
            let failed_count = failed.iter().filter(|f| **f).count();
            ok(
                &json!({ "FailedPutCount": failed_count, "Encrypted": false, "RequestResponses": ids }),
            )
        } else {
            ok(
                &json!({ "RecordId": ids.first().map(|i| i["RecordId"].clone()), "Encrypted": false }),
            )
        }
    }
}

/// The records' data, refusing what PutRecordBatch refuses.
fn decode(records: &[Value]) -> Result<Vec<Vec<u8>>, String> {
    if records.is_empty() || records.len() > MAX_RECORDS_PER_CALL {
        return Err(format!(
            "Records has {} entries; PutRecordBatch takes 1 to {MAX_RECORDS_PER_CALL}",
            records.len()
        ));
    }
    let mut out = Vec::with_capacity(records.len());
    let mut total = 0;
    for (index, record) in records.iter().enumerate() {
        let data = base64::engine::general_purpose::STANDARD
            .decode(record["Data"].as_str().unwrap_or_default())
            .map_err(|e| format!("Records[{index}].Data is not base64: {e}"))?;
        if data.len() > MAX_RECORD_BYTES {
            return Err(format!(
                "Records[{index}] has {} bytes; a record holds at most {MAX_RECORD_BYTES}",
                data.len()
            ));
        }
        total += data.len();
        out.push(data);
    }
    if total > MAX_BYTES_PER_CALL {
        return Err(format!(
            "the call carries {total} bytes; PutRecordBatch takes at most {MAX_BYTES_PER_CALL}"
        ));
    }
    Ok(out)
}

async fn deliver(stream: &mut Stream, writer: &dyn ObjectWriter, flushed: Flushed) {
    let arrival = time::OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(flushed.oldest_arrival_ms) * 1_000_000,
    )
    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let config = stream.config.clone();
    let (body, extension) = match &config.conversion {
        None => (
            config.compression.encode(&flushed.data),
            config.compression.extension(),
        ),
        Some(conversion) => {
            let converted = match conversion.convert(&flushed.data, &flushed.record_ends) {
                Ok(converted) => converted,
                Err(e) => {
                    stream.stats.write_errors.push(format!(
                        "{} records could not be converted: {e}",
                        flushed.records
                    ));
                    return;
                }
            };
            stream.stats.rows_converted += converted.rows;
            if !converted.failed.is_empty() {
                stream.stats.records_failed_conversion += converted.failed.len();
                let documents: Vec<String> = converted
                    .failed
                    .iter()
                    .map(|f| conversion.error_document(f, flushed.oldest_arrival_ms))
                    .collect();
                let body = (documents.join("\n") + "\n").into_bytes();
                let prefix = PrefixUse::Error(convert::CONVERSION_FAILED);
                let records = converted.failed.len();
                if let Some(key) = object_key_for(stream, &config.error_prefix, prefix, arrival, "")
                    && put_with_retries(stream, writer, &key, body, records).await
                {
                    stream.stats.error_objects += 1;
                }
            }
            match converted.parquet {
                Some(parquet) => (parquet, convert::PARQUET_EXTENSION),
                None => return,
            }
        }
    };
    let Some(key) = object_key_for(stream, &config.prefix, PrefixUse::Data, arrival, extension)
    else {
        return;
    };
    if put_with_retries(stream, writer, &key, body, flushed.records).await {
        stream.stats.objects += 1;
    }
}

/// The key of a new object under `prefix` (a failed evaluation is recorded and gives `None`).
fn object_key_for(
    stream: &mut Stream,
    prefix: &str,
    use_: PrefixUse<'_>,
    arrival: time::OffsetDateTime,
    extension: &str,
) -> Option<String> {
    let prefix = match keys::evaluate_prefix(prefix, arrival, use_, &mut stream.rng) {
        Ok(prefix) => prefix,
        Err(e) => {
            stream.stats.write_errors.push(e.to_string());
            return None;
        }
    };
    let uuid = keys::uuid_v4(&mut stream.rng);
    Some(keys::object_key(
        &prefix,
        &stream.config.name,
        1,
        arrival,
        &uuid,
        extension,
    ))
}

/// PutObject with the model's retries; whether the object was written (what was given up is
/// recorded with its record count).
async fn put_with_retries(
    stream: &mut Stream,
    writer: &dyn ObjectWriter,
    key: &str,
    body: Vec<u8>,
    records: usize,
) -> bool {
    let size = body.len();
    let bucket = stream.config.bucket.clone();
    let mut attempt = 0;
    loop {
        attempt += 1;
        stream.stats.write_attempts += 1;
        match writer.put(&bucket, key, body.clone()).await {
            Ok(()) => {
                stream.stats.bytes_out += size;
                return true;
            }
            Err(e) if attempt < WRITE_ATTEMPTS => {
                tracing::warn!(%key, error = %e, attempt, "the Firehose model's PutObject failed; retrying");
                tokio::time::sleep(WRITE_RETRY_BASE * 2u32.pow(attempt - 1)).await;
            }
            Err(e) => {
                stream.stats.write_errors.push(format!(
                    "{key} ({records} records): {e}; given up after {attempt} attempts (Firehose \
                     retries for up to 24 hours, then the data is lost)"
                ));
                return false;
            }
        }
    }
}

fn record_id(rng: &mut StdRng) -> String {
    keys::uuid_v4(rng).replace('-', "")
}

fn describe(config: &StreamConfig) -> Value {
    let compression = match config.compression {
        ObjectCompression::Gzip => "GZIP",
        ObjectCompression::Uncompressed => "UNCOMPRESSED",
    };
    json!({ "DeliveryStreamDescription": {
        "DeliveryStreamName": config.name,
        "DeliveryStreamARN": format!("arn:aws:firehose:{MODEL_REGION}:{MODEL_ACCOUNT}:deliverystream/{}", config.name),
        "DeliveryStreamStatus": "ACTIVE",
        "DeliveryStreamType": "DirectPut",
        "VersionId": "1",
        "HasMoreDestinations": false,
        "Destinations": [{
            "DestinationId": "destinationId-000000000001",
            "ExtendedS3DestinationDescription": {
                "BucketARN": format!("arn:aws:s3:::{}", config.bucket),
                "RoleARN": "arn:aws:iam::000000000000:role/firehose",
                "Prefix": config.prefix,
                "ErrorOutputPrefix": config.error_prefix,
                "BufferingHints": {
                    "SizeInMBs": config.hints.size_mib,
                    "IntervalInSeconds": config.hints.interval_seconds
                },
                "CompressionFormat": compression,
                "EncryptionConfiguration": { "NoEncryptionConfig": "NoEncryption" }
            }
        }]
    }})
}
