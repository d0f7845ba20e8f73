//! The Firehose endpoint: PutRecordBatch, PutRecord and DescribeDeliveryStream in Firehose's
//! AWS JSON 1.1 protocol ([`crate::json_protocol`]), for the ETL's real SDK client
//! (`FirehoseSink`), over one [`DeliveryStream`].
//!
//! Limits checked as PutRecordBatch states them (Amazon Data Firehose API Reference), the
//! pipeline's constants ([`pipeline::firehose`]): at most 500 records and 4 MiB per call,
//! 1,000 KiB per record; a missing stream is `ResourceNotFoundException`.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use pipeline::firehose::{MAX_BYTES_PER_BATCH, MAX_RECORD_BYTES, MAX_RECORDS_PER_BATCH};
use serde_json::{Value, json};

use super::buffer::ObjectCompression;
use super::config::{MODEL_ACCOUNT, MODEL_REGION, StreamConfig};
use super::stream::{DeliveryStream, EntryOutcome};
use super::writers::ObjectWriter;
use crate::faults::{Attempt, Injection, Service, responses};
use crate::json_protocol::{self, JsonRequest, StandIn, error, ok};

/// A running endpoint for one stream; stops when dropped.
#[derive(Debug)]
pub struct FirehoseEndpoint {
    served: StandIn,
}

impl FirehoseEndpoint {
    /// Serves `stream` on a free loopback port.
    pub async fn serve<W: ObjectWriter>(stream: Arc<DeliveryStream<W>>) -> std::io::Result<Self> {
        let served = json_protocol::serve(move |request| {
            let stream = stream.clone();
            async move { handle(&stream, request).await }
        })
        .await?;
        Ok(Self { served })
    }

    /// The endpoint URL for an SDK client.
    pub fn url(&self) -> &str {
        &self.served.endpoint
    }
}

async fn handle<W: ObjectWriter>(
    stream: &DeliveryStream<W>,
    request: JsonRequest,
) -> Response<Full<Bytes>> {
    let operation = request
        .target
        .strip_prefix("Firehose_20150804.")
        .unwrap_or_default();
    let name = request.input["DeliveryStreamName"]
        .as_str()
        .unwrap_or_default();
    let failing = if matches!(operation, "PutRecordBatch" | "PutRecord") {
        match meet_faults(stream, &request, operation).await {
            Ok(share) => share,
            Err(answer) => return answer,
        }
    } else {
        None
    };
    let config = stream.config().await;
    if name != config.name {
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
            put(stream, &records, true, failing).await
        }
        "PutRecord" => {
            let record = request.input["Record"].clone();
            put(stream, &[record], false, None).await
        }
        "DescribeDeliveryStream" => ok(&describe(&config)),
        other => error(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            &format!("the harness's Firehose does not model {other:?}"),
        ),
    }
}

/// What the fault plan does to this attempt: an answer in its place, or a share of entries to
/// fail (after any latency).
async fn meet_faults<W: ObjectWriter>(
    stream: &DeliveryStream<W>,
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
    let attempt = Attempt::from_headers(header("amz-sdk-invocation-id"), header("amz-sdk-request"));
    let faults = stream.faults();
    let decision = faults.decide(Service::Firehose, operation, attempt.as_ref());
    faults.ended(attempt.as_ref());
    if let Some(delay) = decision.delay {
        tokio::time::sleep(delay).await;
    }
    let answer = |a: responses::ErrorAnswer| {
        let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        error(status, a.code, a.message)
    };
    match decision.injection {
        None => Ok(None),
        Some(Injection::Throttle) => Err(answer(responses::throttle(Service::Firehose))),
        Some(Injection::ServerError) => Err(answer(responses::server_error(Service::Firehose))),
        Some(Injection::DropConnection | Injection::RefuseConnection) => {
            Err(json_protocol::dropped())
        }
        Some(Injection::PartialFailure(share)) => Ok(Some(share)),
    }
}

async fn put<W: ObjectWriter>(
    stream: &DeliveryStream<W>,
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
    let slices: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
    let outcomes = stream.put(&slices, failing).await;
    let failed_count = outcomes
        .iter()
        .filter(|o| matches!(o, EntryOutcome::Failed))
        .count();
    let ids: Vec<Value> = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            EntryOutcome::Accepted(id) => json!({ "RecordId": id }),
            // PutRecordBatch's per-entry failure (its API Reference: ErrorCode
            // ServiceUnavailableException or InternalFailure, with an ErrorMessage).
            EntryOutcome::Failed => json!({
                "ErrorCode": "ServiceUnavailableException",
                "ErrorMessage": "Slow down."
            }),
        })
        .collect();
    if batch {
        ok(&json!({ "FailedPutCount": failed_count, "Encrypted": false, "RequestResponses": ids }))
    } else {
        ok(&json!({ "RecordId": ids.first().map(|i| i["RecordId"].clone()), "Encrypted": false }))
    }
}

/// The records' data, refusing what PutRecordBatch refuses.
fn decode(records: &[Value]) -> Result<Vec<Vec<u8>>, String> {
    if records.is_empty() || records.len() > MAX_RECORDS_PER_BATCH {
        return Err(format!(
            "Records has {} entries; PutRecordBatch takes 1 to {MAX_RECORDS_PER_BATCH}",
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
    if total > MAX_BYTES_PER_BATCH {
        return Err(format!(
            "the call carries {total} bytes; PutRecordBatch takes at most {MAX_BYTES_PER_BATCH}"
        ));
    }
    Ok(out)
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
