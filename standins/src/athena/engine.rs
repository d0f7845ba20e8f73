//! Where the Athena stand-in reads and writes: the tables of a database as the Glue stand-in's
//! catalog holds them (each table's `StorageDescriptor.Location`, its columns, its partition
//! projection), crawled by `lake` as `loglab query` crawls the stack's table, and the buckets
//! holding their objects and the query results ([`Buckets`]: the emulator's S3, or memory).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use lake::crawl::{self, CrawlOptions, Location};
use lake::partitions::Layout;
use lake::schema::ColumnType;
use lake::store::StoreError;
use lake::{Lake, TableEntry};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};
use serde_json::Value;

use crate::glue::SharedCatalog;

/// Why a database's tables could not be opened, or results not written.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A table's location is not one the stand-in reads.
    #[error("table {table}: location {location:?} is not an s3://bucket/prefix/ location")]
    Location {
        /// `database.table`.
        table: String,
        /// What the catalog holds.
        location: String,
    },
    /// A bucket's store could not be set up.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Crawling a table's objects failed.
    #[error("table {table}: {source}")]
    Crawl {
        /// `database.table`.
        table: String,
        /// Why.
        source: crawl::CrawlError,
    },
    /// Registering a table failed.
    #[error(transparent)]
    Register(#[from] lake::QueryError),
    /// Writing a result object failed.
    #[error("writing {location}: {message}")]
    Write {
        /// `s3://bucket/key`.
        location: String,
        /// Why.
        message: String,
    },
}

/// Buckets by name.
pub trait Buckets: Send + Sync + std::fmt::Debug {
    /// The store holding bucket `name`.
    fn bucket(&self, name: &str) -> Result<Arc<dyn ObjectStore>, StoreError>;
}

/// The buckets of an S3 endpoint (an emulator's, with its credentials), or AWS's.
#[derive(Debug, Clone)]
pub struct S3Buckets {
    /// The endpoint URL; `None` for AWS (credentials from the environment).
    pub endpoint: Option<String>,
    /// The region.
    pub region: String,
    /// The access key id the endpoint accepts.
    pub access_key_id: String,
    /// The secret access key it accepts.
    pub secret_access_key: String,
}

impl Buckets for S3Buckets {
    fn bucket(&self, name: &str) -> Result<Arc<dyn ObjectStore>, StoreError> {
        let endpoint = self.endpoint.as_deref().map(|url| lake::store::S3Endpoint {
            url,
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
        });
        lake::store::s3(name, &self.region, endpoint)
    }
}

impl S3Buckets {
    /// The buckets of the emulator at `endpoint`, with the credentials emulators accept.
    pub fn emulator(endpoint: &str, region: &str) -> Self {
        Self {
            endpoint: Some(endpoint.to_owned()),
            region: region.to_owned(),
            access_key_id: pipeline::emulator::ACCESS_KEY_ID.to_owned(),
            secret_access_key: pipeline::emulator::SECRET_ACCESS_KEY.to_owned(),
        }
    }
}

/// Buckets held in memory (tests and the memory backend), created on first use.
#[derive(Debug, Default)]
pub struct MemoryBuckets {
    buckets: Mutex<HashMap<String, Arc<InMemory>>>,
}

impl Buckets for MemoryBuckets {
    fn bucket(&self, name: &str) -> Result<Arc<dyn ObjectStore>, StoreError> {
        let mut buckets = crate::locked(&self.buckets);
        let store = buckets.entry(name.to_owned()).or_default();
        Ok(Arc::clone(store) as Arc<dyn ObjectStore>)
    }
}

/// `s3://bucket/root/` as a lake location over `buckets`; `None` when it is not one.
fn location(buckets: &dyn Buckets, url: &str) -> Result<Option<Location>, StoreError> {
    let Some((bucket, root)) = lake::store::split_s3_url(url).filter(|(b, _)| !b.is_empty()) else {
        return Ok(None);
    };
    Ok(Some(Location {
        store: buckets.bucket(bucket)?,
        url: format!("s3://{bucket}"),
        root,
    }))
}

/// How the catalogued `table` is read: projection when its parameters enable it (the
/// declared partitions), else the partitions its keys show; its columns as the catalog has
/// them (inferred from the objects where it has none); `exclude` (s3:// URLs: result
/// locations) left out where they fall under its location.
fn crawl_options(
    database: &str,
    table: &Value,
    root_url: &str,
    exclude: &[String],
) -> CrawlOptions {
    let projection = table["Parameters"]["projection.enabled"].as_str() == Some("true");
    let columns: Vec<(String, ColumnType)> = table["StorageDescriptor"]["Columns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["Name"].as_str().unwrap_or_default().to_owned(),
                ColumnType::from_hive(c["Type"].as_str().unwrap_or_default()),
            )
        })
        .collect();
    let (bucket, root) = lake::store::split_s3_url(root_url).unwrap_or_default();
    CrawlOptions {
        table: table["Name"].as_str().unwrap_or_default().to_owned(),
        database: database.to_owned(),
        layout: if projection {
            Layout::Projection
        } else {
            Layout::Crawler
        },
        declared_columns: (!columns.is_empty()).then_some(columns),
        sample_objects: crawl::DEFAULT_SAMPLE_OBJECTS,
        exclude_prefixes: exclude
            .iter()
            .filter_map(|url| lake::store::split_s3_url(url))
            .filter(|(b, key)| *b == bucket && key.starts_with(&root))
            .map(|(_, key)| key)
            .collect(),
    }
}

/// A session over `database`'s tables in the Glue stand-in's catalog, each crawled from its
/// location in `buckets`. A database the catalog does not hold gives a session without tables
/// (a query naming one fails as Athena's does, `TABLE_NOT_FOUND`).
pub async fn open(
    glue: &SharedCatalog,
    buckets: &dyn Buckets,
    database: &str,
    exclude: &[String],
) -> Result<Lake, EngineError> {
    let tables = crate::locked(glue).get_tables(database).unwrap_or_default();
    let lake = Lake::new(database);
    for table in tables {
        let name = format!("{database}.{}", table["Name"].as_str().unwrap_or_default());
        let url = table["StorageDescriptor"]["Location"]
            .as_str()
            .unwrap_or_default();
        let Some(location) = location(buckets, url)? else {
            return Err(EngineError::Location {
                table: name,
                location: url.to_owned(),
            });
        };
        let options = crawl_options(database, &table, url, exclude);
        let entry: TableEntry =
            crawl::crawl(&location, &options)
                .await
                .map_err(|source| EngineError::Crawl {
                    table: name,
                    source,
                })?;
        lake.register(entry)?;
    }
    Ok(lake)
}

/// Writes `body` to `url` (`s3://bucket/key`) in `buckets`.
pub async fn put(buckets: &dyn Buckets, url: &str, body: Vec<u8>) -> Result<(), EngineError> {
    let fail = |message: String| EngineError::Write {
        location: url.to_owned(),
        message,
    };
    let Some((bucket, key)) = url
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(b, k)| !b.is_empty() && !k.is_empty())
    else {
        return Err(fail("not an s3://bucket/key location".to_owned()));
    };
    let store = buckets.bucket(bucket)?;
    store
        .put(&Path::from(key), PutPayload::from(Bytes::from(body)))
        .await
        .map_err(|e| fail(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn result_locations_under_a_table_are_left_out_of_it() {
        let table = json!({ "Name": "logs", "StorageDescriptor": { "Columns": [{ "Name": "host", "Type": "string" }] } });
        let options = crawl_options(
            "ccp_logs",
            &table,
            "s3://bucket/logs/",
            &[
                "s3://bucket/logs/athena/".into(),
                "s3://bucket/athena/".into(),
                "s3://other/logs/x/".into(),
            ],
        );
        assert_eq!(options.exclude_prefixes, ["logs/athena/"]);
        assert_eq!(options.layout, Layout::Crawler);
        assert_eq!(
            options.declared_columns,
            Some(vec![("host".into(), ColumnType::String)])
        );
    }
}
