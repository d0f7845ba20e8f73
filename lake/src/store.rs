//! Object stores for tables: S3 (on an emulator's endpoint or on AWS) and local folders.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;

/// Why a store could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot reach {url}: {source}")]
pub struct StoreError {
    /// The store's URL.
    pub url: String,
    /// The cause.
    pub source: object_store::Error,
}

/// An S3 bucket. With `endpoint` (an emulator), path-style requests with the emulator's test
/// credentials; without, AWS with credentials from the environment (`AWS_ACCESS_KEY_ID`, …).
pub fn s3(
    bucket: &str,
    region: &str,
    endpoint: Option<&str>,
) -> Result<Arc<dyn ObjectStore>, StoreError> {
    let builder = match endpoint {
        Some(endpoint) => AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .with_access_key_id("test")
            .with_secret_access_key("test"),
        None => AmazonS3Builder::from_env(),
    };
    let store = builder
        .with_bucket_name(bucket)
        .with_region(region)
        .build()
        .map_err(|source| StoreError {
            url: format!("s3://{bucket}"),
            source,
        })?;
    Ok(Arc::new(store))
}

/// A local folder as a store (URL `file:///`; keys are paths below `/`).
pub fn local() -> Arc<dyn ObjectStore> {
    Arc::new(object_store::local::LocalFileSystem::new())
}
