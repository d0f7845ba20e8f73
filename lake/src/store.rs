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

/// An emulator's S3: where it answers and the credentials it accepts (the caller's, so that
/// this crate stays free of any one emulator's settings).
#[derive(Debug, Clone, Copy)]
pub struct S3Endpoint<'a> {
    /// Its URL, e.g. `http://127.0.0.1:4566`.
    pub url: &'a str,
    /// The access key id it accepts.
    pub access_key_id: &'a str,
    /// The secret access key it accepts.
    pub secret_access_key: &'a str,
}

/// An S3 bucket. With `endpoint` (an emulator), path-style requests with its credentials;
/// without, AWS with credentials from the environment (`AWS_ACCESS_KEY_ID`, …).
pub fn s3(
    bucket: &str,
    region: &str,
    endpoint: Option<S3Endpoint<'_>>,
) -> Result<Arc<dyn ObjectStore>, StoreError> {
    let builder = match endpoint {
        Some(endpoint) => AmazonS3Builder::new()
            .with_endpoint(endpoint.url)
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .with_access_key_id(endpoint.access_key_id)
            .with_secret_access_key(endpoint.secret_access_key),
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
