//! Where delivered objects go: the [`ObjectWriter`] port, and its adapters: S3 through the SDK
//! ([`S3Objects`], the emulator's bucket in runs), any `object_store` ([`StoreObjects`], the
//! memory world's bucket), and a list in memory ([`MemoryObjects`], tests).

use std::future::Future;
use std::sync::{Arc, Mutex};

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _};

use crate::faults::RestartGate;

/// A PutObject that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("PutObject s3://{bucket}/{key}: {message}")]
pub struct WriteError {
    /// The bucket.
    pub bucket: String,
    /// The object's key.
    pub key: String,
    /// What the store said.
    pub message: String,
}

impl WriteError {
    fn new(bucket: &str, key: &str, message: impl ToString) -> Self {
        Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            message: message.to_string(),
        }
    }
}

/// Where delivered objects go.
pub trait ObjectWriter: Send + Sync + 'static {
    /// Writes one object.
    fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<(), WriteError>> + Send;
}

impl<W: ObjectWriter> ObjectWriter for Arc<W> {
    fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<(), WriteError>> + Send {
        (**self).put(bucket, key, body)
    }
}

/// Writes objects with `PutObject` through the SDK.
#[derive(Debug, Clone)]
pub struct S3Objects {
    /// A path-style client on the emulator.
    pub client: aws_sdk_s3::Client,
    /// The run's emulator restarts: a write waits while one is in progress, and a write that
    /// failed because of one is made again (Firehose retries S3 for up to 24 hours).
    pub restarts: Option<Arc<RestartGate>>,
}

impl ObjectWriter for S3Objects {
    async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), WriteError> {
        let Some(gate) = &self.restarts else {
            return self.put_once(bucket, key, body).await;
        };
        loop {
            // Held while the write is in flight: a restart stops the emulator only after it.
            let _write = gate.enter_write().await;
            let answered = gate.answered();
            match self.put_once(bucket, key, body.clone()).await {
                Err(_) if gate.is_restarting() || gate.answered() != answered => {
                    tracing::info!(%key, "PutObject failed during an emulator restart; writing again once it is back");
                }
                done => return done,
            }
        }
    }
}

impl S3Objects {
    async fn put_once(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), WriteError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| WriteError::new(bucket, key, aws_sdk_s3::error::DisplayErrorContext(e)))
    }
}

/// Objects written into an `object_store` (the bucket is the store; keys are paths in it).
#[derive(Debug, Clone)]
pub struct StoreObjects(pub Arc<dyn ObjectStore>);

impl ObjectWriter for StoreObjects {
    async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), WriteError> {
        self.0
            .put(&Path::from(key), body.into())
            .await
            .map(|_| ())
            .map_err(|e| WriteError::new(bucket, key, e))
    }
}

/// Objects kept in a list (tests).
#[derive(Debug, Default)]
pub struct MemoryObjects {
    objects: Mutex<Vec<(String, Vec<u8>)>>,
}

impl MemoryObjects {
    /// Every object written, in order: key and body.
    pub fn objects(&self) -> Vec<(String, Vec<u8>)> {
        crate::locked(&self.objects).clone()
    }
}

impl ObjectWriter for MemoryObjects {
    async fn put(&self, _bucket: &str, key: &str, body: Vec<u8>) -> Result<(), WriteError> {
        crate::locked(&self.objects).push((key.to_owned(), body));
        Ok(())
    }
}
