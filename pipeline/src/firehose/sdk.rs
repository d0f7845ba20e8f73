//! The record sink over aws-sdk-firehose's PutRecordBatch. The same adapter serves
//! LocalStack and AWS; only the client's endpoint differs.

use aws_sdk_firehose::Client;
use aws_sdk_firehose::error::{ProvideErrorMetadata as _, SdkError};
use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::Record;

use super::{EntryFailure, EntryResults, RecordSink, SinkError};

/// Service error codes after which a retry may succeed.
const RETRYABLE_CODES: [&str; 4] = [
    "ServiceUnavailableException",
    "ThrottlingException",
    "LimitExceededException",
    "InternalFailure",
];

/// Puts records to one Firehose delivery stream.
#[derive(Debug, Clone)]
pub struct FirehoseSink {
    client: Client,
    stream: String,
}

impl FirehoseSink {
    /// A sink for `stream` through `client` (built once per process).
    pub fn new(client: Client, stream: impl Into<String>) -> Self {
        Self {
            client,
            stream: stream.into(),
        }
    }

    /// The delivery stream name.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    fn error(
        &self,
        code: impl Into<String>,
        message: impl Into<String>,
        retryable: bool,
    ) -> SinkError {
        SinkError {
            stream: self.stream.clone(),
            code: code.into(),
            message: message.into(),
            retryable,
        }
    }
}

impl RecordSink for FirehoseSink {
    async fn put_record_batch(&self, records: &[&[u8]]) -> Result<EntryResults, SinkError> {
        let mut entries = Vec::with_capacity(records.len());
        for data in records {
            let record = Record::builder()
                .data(Blob::new(data.to_vec()))
                .build()
                .map_err(|e| self.error("BuildError", e.to_string(), false))?;
            entries.push(record);
        }
        let response = self
            .client
            .put_record_batch()
            .delivery_stream_name(&self.stream)
            .set_records(Some(entries))
            .send()
            .await
            .map_err(|err| match &err {
                SdkError::ServiceError(service) => {
                    let code = service.err().code().unwrap_or("Unknown").to_owned();
                    let message = service.err().message().unwrap_or_default().to_owned();
                    let retryable = RETRYABLE_CODES.contains(&code.as_str());
                    self.error(code, message, retryable)
                }
                SdkError::TimeoutError(_) => self.error("Timeout", format!("{err:?}"), true),
                SdkError::DispatchFailure(_) => {
                    self.error("DispatchFailure", format!("{err:?}"), true)
                }
                SdkError::ResponseError(_) => self.error("ResponseError", format!("{err:?}"), true),
                _ => self.error("ConstructionFailure", format!("{err:?}"), false),
            })?;
        let results = response
            .request_responses()
            .iter()
            .map(|entry| match entry.error_code() {
                None => Ok(()),
                Some(code) => Err(EntryFailure {
                    code: code.to_owned(),
                    message: entry.error_message().unwrap_or_default().to_owned(),
                }),
            })
            .collect();
        Ok(results)
    }
}
