//! The model's objects written to the emulator's (or any) S3 through the SDK.

use std::sync::Arc;

use super::endpoint::ObjectWriter;
use crate::faults::RestartGate;

/// Writes objects with `PutObject`.
#[derive(Debug, Clone)]
pub struct S3Objects {
    /// A path-style client on the emulator.
    pub client: aws_sdk_s3::Client,
    /// The run's emulator restarts: a write waits while one is in progress, and a write that
    /// failed because of one is made again (Firehose retries S3 for up to 24 hours).
    pub restarts: Option<Arc<RestartGate>>,
}

#[async_trait::async_trait]
impl ObjectWriter for S3Objects {
    async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String> {
        let Some(gate) = &self.restarts else {
            return self.put_once(bucket, key, body).await;
        };
        loop {
            gate.usable().await;
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
    async fn put_once(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "PutObject s3://{bucket}/{key}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            })
    }
}
