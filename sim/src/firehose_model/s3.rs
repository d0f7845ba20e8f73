//! The model's objects written to the emulator's (or any) S3 through the SDK.

use super::endpoint::ObjectWriter;

/// Writes objects with `PutObject`.
#[derive(Debug, Clone)]
pub struct S3Objects {
    /// A path-style client on the emulator.
    pub client: aws_sdk_s3::Client,
}

#[async_trait::async_trait]
impl ObjectWriter for S3Objects {
    async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String> {
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
