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

/// Credentials resolved by the caller (the AWS SDK's chain: profiles, SSO, roles), for a store
/// that reads AWS as the SDK's clients do.
#[derive(Debug, Clone)]
pub struct S3Credentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token of temporary credentials.
    pub session_token: Option<String>,
}

/// An S3 bucket read with `credentials`: at `endpoint` (path-style) when given, else AWS.
pub fn s3_with_credentials(
    bucket: &str,
    region: &str,
    endpoint: Option<&str>,
    credentials: &S3Credentials,
) -> Result<Arc<dyn ObjectStore>, StoreError> {
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(region)
        .with_access_key_id(&credentials.access_key_id)
        .with_secret_access_key(&credentials.secret_access_key);
    if let Some(token) = &credentials.session_token {
        builder = builder.with_token(token);
    }
    if let Some(url) = endpoint {
        builder = builder
            .with_endpoint(url)
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false);
    }
    let store = builder.build().map_err(|source| StoreError {
        url: format!("s3://{bucket}"),
        source,
    })?;
    Ok(Arc::new(store))
}

/// `s3://bucket/prefix` split into the bucket and the root under it (the prefix ending in `/`,
/// or empty, as [`crate::crawl::Location::root`] has it); `None` when `text` is not an
/// `s3://` URL, and `Some(("", _))` when it names no bucket.
pub fn split_s3_url(text: &str) -> Option<(&str, String)> {
    let rest = text.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let root = match prefix.trim_end_matches('/') {
        "" => String::new(),
        p => format!("{p}/"),
    };
    Some((bucket, root))
}

/// A local folder as a store (URL `file:///`; keys are paths below `/`).
pub fn local() -> Arc<dyn ObjectStore> {
    Arc::new(object_store::local::LocalFileSystem::new())
}

/// A store that counts the bytes read from it: what a scan fetches from S3, the measure Athena
/// bills a query by (bytes scanned; compressed objects count as stored). Every other call
/// passes through.
#[derive(Debug)]
pub struct ScanCountingStore {
    inner: Arc<dyn ObjectStore>,
    bytes_read: std::sync::atomic::AtomicU64,
}

impl ScanCountingStore {
    /// Counts what is read from `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self {
            inner,
            bytes_read: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Bytes read since the last call (and starts counting again).
    pub fn take_bytes_read(&self) -> u64 {
        self.bytes_read
            .swap(0, std::sync::atomic::Ordering::Relaxed)
    }

    fn count(&self, bytes: u64) {
        self.bytes_read
            .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
    }
}

impl std::fmt::Display for ScanCountingStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ScanCounting({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for ScanCountingStore {
    async fn put_opts(
        &self,
        location: &object_store::path::Path,
        payload: object_store::PutPayload,
        opts: object_store::PutOptions,
    ) -> object_store::Result<object_store::PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &object_store::path::Path,
        opts: object_store::PutMultipartOptions,
    ) -> object_store::Result<Box<dyn object_store::MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &object_store::path::Path,
        options: object_store::GetOptions,
    ) -> object_store::Result<object_store::GetResult> {
        let head = options.head;
        let result = self.inner.get_opts(location, options).await?;
        if !head {
            self.count(result.range.end.saturating_sub(result.range.start));
        }
        Ok(result)
    }

    async fn get_ranges(
        &self,
        location: &object_store::path::Path,
        ranges: &[std::ops::Range<u64>],
    ) -> object_store::Result<Vec<bytes::Bytes>> {
        let parts = self.inner.get_ranges(location, ranges).await?;
        self.count(parts.iter().map(|p| p.len() as u64).sum());
        Ok(parts)
    }

    fn delete_stream(
        &self,
        locations: futures::stream::BoxStream<
            'static,
            object_store::Result<object_store::path::Path>,
        >,
    ) -> futures::stream::BoxStream<'static, object_store::Result<object_store::path::Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(
        &self,
        prefix: Option<&object_store::path::Path>,
    ) -> futures::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&object_store::path::Path>,
        offset: &object_store::path::Path,
    ) -> futures::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(
        &self,
        prefix: Option<&object_store::path::Path>,
    ) -> object_store::Result<object_store::ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &object_store::path::Path,
        to: &object_store::path::Path,
        options: object_store::CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use object_store::memory::InMemory;
    use object_store::path::Path;
    use object_store::{GetOptions, GetRange, ObjectStoreExt as _};

    use super::*;

    #[tokio::test]
    async fn reads_are_counted_by_the_bytes_returned_and_heads_are_not() {
        let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = Path::from("a/b.parquet");
        inner.put(&path, vec![7u8; 1000].into()).await.unwrap();
        let store = ScanCountingStore::new(inner);
        store.get(&path).await.unwrap().bytes().await.unwrap();
        assert_eq!(store.bytes_read(), 1000);
        store
            .get_opts(
                &path,
                GetOptions {
                    range: Some(GetRange::Suffix(8)),
                    ..GetOptions::default()
                },
            )
            .await
            .unwrap();
        store.get_ranges(&path, &[0..10, 100..150]).await.unwrap();
        store.head(&path).await.unwrap();
        assert_eq!(store.take_bytes_read(), 1000 + 8 + 60);
        assert_eq!(store.bytes_read(), 0);
    }
}
