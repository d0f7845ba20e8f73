//! The model without HTTP, for the memory backend: a [`RecordSink`] that hands the ETL's
//! batches straight to [`FirehoseModel::put_records`], and an [`ObjectWriter`] into any
//! `object_store` (memory), which the read-back and the catalog then read.

use std::sync::Arc;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _};
use pipeline::firehose::{EntryResults, RecordSink, SinkError};

use super::endpoint::{FirehoseModel, ObjectWriter};

/// The ETL's sink on the model itself.
#[derive(Debug, Clone)]
pub struct ModelSink {
    /// The model.
    pub model: Arc<FirehoseModel>,
    /// Its stream's name, for errors.
    pub stream: String,
}

impl RecordSink for ModelSink {
    async fn put_record_batch(&self, records: &[&[u8]]) -> Result<EntryResults, SinkError> {
        self.model
            .put_records(records)
            .await
            .map_err(|(code, message)| SinkError {
                stream: self.stream.clone(),
                code: code.to_owned(),
                message: message.to_owned(),
                retryable: true,
            })
    }
}

/// Objects written into an `object_store` (the bucket is the store; keys are paths in it).
#[derive(Debug, Clone)]
pub struct StoreObjects(pub Arc<dyn ObjectStore>);

#[async_trait::async_trait]
impl ObjectWriter for StoreObjects {
    async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String> {
        self.0
            .put(&Path::from(key), body.into())
            .await
            .map(|_| ())
            .map_err(|e| format!("PutObject s3://{bucket}/{key} (memory): {e}"))
    }
}
