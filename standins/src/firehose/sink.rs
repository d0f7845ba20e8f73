//! The memory world's way into the model: a [`RecordSink`] that hands the ETL's batches
//! straight to [`DeliveryStream::put_records`], without HTTP.

use std::sync::Arc;

use pipeline::firehose::{EntryResults, RecordSink, SinkError};

use super::stream::DeliveryStream;
use super::writers::ObjectWriter;

/// The ETL's sink on a delivery stream itself.
#[derive(Debug)]
pub struct ModelSink<W> {
    /// The stream.
    pub stream: Arc<DeliveryStream<W>>,
    /// Its name, for errors.
    pub name: String,
}

impl<W> Clone for ModelSink<W> {
    fn clone(&self) -> Self {
        Self {
            stream: self.stream.clone(),
            name: self.name.clone(),
        }
    }
}

impl<W: ObjectWriter> RecordSink for ModelSink<W> {
    async fn put_record_batch(&self, records: &[&[u8]]) -> Result<EntryResults, SinkError> {
        self.stream
            .put_records(records)
            .await
            .map_err(|refused| SinkError {
                stream: self.name.clone(),
                code: refused.code.to_owned(),
                message: refused.message.to_owned(),
                retryable: true,
            })
    }
}
