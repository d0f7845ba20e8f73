//! The crawl: what a Glue crawler (or partition projection) makes of the objects under a
//! table's root. Lists every object, infers the partitions from the keys ([`partitions`]), and
//! the schema from the start of a sample of the objects ([`schema`]), decompressing `.gz`
//! objects as Athena does (by extension). Rows that are not JSON objects are reported with
//! their object and line, never skipped silently.
//!
//! [`partitions`]: crate::partitions
//! [`schema`]: crate::schema

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::TryStreamExt as _;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt as _};

use crate::partitions::{self, Layout, PartitionError};
use crate::schema::{ColumnType, RowKinds, Schema};

/// How much of an object the schema inference reads, compressed (as the crawler, which
/// classifies a file by its first megabyte).
pub const SAMPLE_BYTES_PER_OBJECT: u64 = 1024 * 1024;
/// At most this much decompressed text per sampled object (a size cap for the gzip decoder).
pub const MAX_SAMPLE_TEXT: u64 = 16 * 1024 * 1024;
/// Objects sampled for the schema: spread evenly over the partitions.
pub const DEFAULT_SAMPLE_OBJECTS: usize = 64;
/// At most this many bad rows are listed in a crawl (all are counted).
const LISTED_BAD_ROWS: usize = 20;

/// Where a table's objects are.
#[derive(Debug, Clone)]
pub struct Location {
    /// The store (S3 on the backend, a local folder, or memory).
    pub store: Arc<dyn ObjectStore>,
    /// The store's URL as DataFusion registers it (`s3://bucket`, `file:///`, `memory://`).
    pub url: String,
    /// The table's root in the store: a prefix ending in `/` (`logs/`), or empty.
    pub root: String,
}

impl Location {
    /// `s3://bucket/logs/` or `file:///data/logs/`, for messages.
    pub fn display(&self) -> String {
        if self.url.ends_with('/') {
            format!("{}{}", self.url, self.root)
        } else {
            format!("{}/{}", self.url, self.root)
        }
    }
}

/// How a table is catalogued.
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    /// The table's name in the catalog.
    pub table: String,
    /// The database (schema) it is registered in.
    pub database: String,
    /// Crawler (inferred) or projection (declared) partitions.
    pub layout: Layout,
    /// A declared schema (projection mode's `CREATE TABLE`); `None` infers it from rows.
    pub declared_columns: Option<Vec<(String, ColumnType)>>,
    /// How many objects the schema inference samples.
    pub sample_objects: usize,
    /// Key prefixes under the root that are not table data (the error prefix, query results).
    pub exclude_prefixes: Vec<String>,
}

/// How an object's rows are stored, as its key's extension says (Firehose names them so:
/// `.gz` for GZIP, `.parquet` for Parquet conversion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectFormat {
    /// NDJSON text.
    Json,
    /// Gzip NDJSON (`.gz`): Athena gunzips it.
    JsonGzip,
    /// Parquet (`.parquet`).
    Parquet,
}

impl ObjectFormat {
    /// The format `key` names.
    pub fn of_key(key: &str) -> Self {
        if key.ends_with(".parquet") {
            Self::Parquet
        } else if key.ends_with(".gz") {
            Self::JsonGzip
        } else {
            Self::Json
        }
    }
}

/// One object of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct DataObject {
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// How its rows are stored.
    pub format: ObjectFormat,
}

/// A catalogued table: what `SHOW PARTITIONS` and `DESCRIBE` would say.
#[derive(Debug, Clone)]
pub struct TableEntry {
    /// Database.
    pub database: String,
    /// Table name.
    pub name: String,
    /// Where it reads from.
    pub location: Location,
    /// Data columns and their Hive types, in order.
    pub columns: Vec<(String, ColumnType)>,
    /// Partition columns (all `string`), outermost first.
    pub partition_columns: Vec<String>,
    /// Each partition's values and its objects.
    pub partitions: BTreeMap<Vec<String>, Vec<DataObject>>,
    /// Objects under the root that no partition reaches (projection only).
    pub unreachable: Vec<String>,
    /// Sampled rows that are not JSON objects: `key:line: why` (the first few).
    pub bad_rows: Vec<String>,
    /// How many sampled rows were bad.
    pub bad_row_count: usize,
    /// Objects and rows the schema was inferred from.
    pub sampled_objects: usize,
    /// Rows read for the schema.
    pub sampled_rows: usize,
}

impl TableEntry {
    /// Every object of the table.
    pub fn objects(&self) -> impl Iterator<Item = &DataObject> {
        self.partitions.values().flatten()
    }

    /// Total bytes stored.
    pub fn bytes(&self) -> u64 {
        self.objects().map(|o| o.size).sum()
    }

    /// `database.name`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.database, self.name)
    }
}

/// Why a crawl failed.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// Listing the root failed.
    #[error("cannot list {location}: {source}")]
    List {
        /// `s3://bucket/prefix/`.
        location: String,
        /// The store's error.
        source: object_store::Error,
    },
    /// Reading an object failed.
    #[error("cannot read {location}{key}: {source}")]
    Read {
        /// The store URL.
        location: String,
        /// The key.
        key: String,
        /// The store's error.
        source: object_store::Error,
    },
    /// A Parquet object's footer could not be read.
    #[error("cannot read the Parquet footer of {location}{key}: {message}")]
    Parquet {
        /// The store URL.
        location: String,
        /// The key.
        key: String,
        /// What the Parquet reader said.
        message: String,
    },
    /// The objects do not make one table.
    #[error(transparent)]
    Partitions(#[from] PartitionError),
}

/// Crawls the objects under `location` into a table entry.
pub async fn crawl(location: &Location, options: &CrawlOptions) -> Result<TableEntry, CrawlError> {
    let metas = list(location, &options.exclude_prefixes).await?;
    crawl_listed(location, options, &metas).await
}

/// Catalogues the objects `metas` (a listing under `location`'s root, or a part of one): their
/// partitions, and their schema unless `options` declares it.
pub async fn crawl_listed(
    location: &Location,
    options: &CrawlOptions,
    metas: &BTreeMap<String, ObjectMeta>,
) -> Result<TableEntry, CrawlError> {
    let keys: Vec<String> = metas.keys().cloned().collect();
    let inferred = partitions::infer(&location.root, &keys, options.layout)?;
    let mut partitions = BTreeMap::new();
    for (values, keys) in inferred.partitions {
        let objects = keys
            .iter()
            .filter_map(|key| metas.get(key))
            .map(|meta| DataObject {
                key: meta.location.to_string(),
                size: meta.size,
                format: ObjectFormat::of_key(meta.location.as_ref()),
            })
            .collect();
        partitions.insert(values, objects);
    }
    let mut entry = TableEntry {
        database: options.database.clone(),
        name: options.table.clone(),
        location: location.clone(),
        columns: options.declared_columns.clone().unwrap_or_default(),
        partition_columns: inferred.columns,
        partitions,
        unreachable: inferred.unreachable,
        bad_rows: Vec::new(),
        bad_row_count: 0,
        sampled_objects: 0,
        sampled_rows: 0,
    };
    if options.declared_columns.is_none() {
        infer_schema(&mut entry, options.sample_objects).await?;
    }
    Ok(entry)
}

/// Every object under `location`'s root (keys outside `exclude`, empty objects left out),
/// by key.
pub async fn list(
    location: &Location,
    exclude: &[String],
) -> Result<BTreeMap<String, ObjectMeta>, CrawlError> {
    let prefix = Path::from(location.root.trim_end_matches('/'));
    let prefix = (!location.root.is_empty()).then_some(&prefix);
    let metas: Vec<ObjectMeta> =
        location
            .store
            .list(prefix)
            .try_collect()
            .await
            .map_err(|source| CrawlError::List {
                location: location.display(),
                source,
            })?;
    Ok(metas
        .into_iter()
        .filter(|meta| {
            let key = meta.location.as_ref();
            !exclude.iter().any(|p| key.starts_with(p.as_str())) && meta.size > 0
        })
        .map(|meta| (meta.location.to_string(), meta))
        .collect())
}

/// The whole of the object `meta` names under `location`.
pub async fn read(location: &Location, meta: &ObjectMeta) -> Result<bytes::Bytes, CrawlError> {
    let read_error = |source| CrawlError::Read {
        location: format!("{}/", location.url.trim_end_matches('/')),
        key: meta.location.to_string(),
        source,
    };
    location
        .store
        .get(&meta.location)
        .await
        .map_err(read_error)?
        .bytes()
        .await
        .map_err(read_error)
}

/// Picks up to `count` objects spread evenly over the partitions (each partition's first
/// object first, then second objects, …).
fn sample(entry: &TableEntry, count: usize) -> Vec<DataObject> {
    let lists: Vec<&Vec<DataObject>> = entry.partitions.values().collect();
    let mut picked = Vec::new();
    let mut round = 0;
    while picked.len() < count {
        let before = picked.len();
        let stride = (lists.len() / count.max(1)).max(1);
        for list in lists.iter().step_by(stride) {
            if let Some(object) = list.get(round) {
                picked.push(object.clone());
                if picked.len() == count {
                    break;
                }
            }
        }
        if picked.len() == before {
            break;
        }
        round += 1;
    }
    picked
}

async fn infer_schema(entry: &mut TableEntry, sample_objects: usize) -> Result<(), CrawlError> {
    let mut schema = Schema::default();
    for object in sample(entry, sample_objects) {
        if object.format == ObjectFormat::Parquet {
            let (columns, rows) = parquet_columns(&entry.location, &object).await?;
            entry.sampled_objects += 1;
            entry.sampled_rows += rows;
            schema.add_columns(columns);
            continue;
        }
        let truncated = object.size > SAMPLE_BYTES_PER_OBJECT;
        let options = GetOptions {
            range: truncated.then_some(GetRange::Bounded(0..SAMPLE_BYTES_PER_OBJECT)),
            ..GetOptions::default()
        };
        let path = Path::from(object.key.as_str());
        let read_error = |source| CrawlError::Read {
            location: format!("{}/", entry.location.url.trim_end_matches('/')),
            key: object.key.clone(),
            source,
        };
        let bytes = entry
            .location
            .store
            .get_opts(&path, options)
            .await
            .map_err(read_error)?
            .bytes()
            .await
            .map_err(read_error)?;
        let gzip = object.format == ObjectFormat::JsonGzip;
        let text = if gzip {
            // A sample ends anywhere: keep what decoded.
            crate::gzip::gunzip_prefix(&bytes, MAX_SAMPLE_TEXT)
        } else {
            bytes.to_vec()
        };
        let mut lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        if truncated || gzip {
            // The last line may be cut off by the sample's end.
            lines.pop();
        }
        entry.sampled_objects += 1;
        for (number, line) in lines.iter().enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            entry.sampled_rows += 1;
            let problem = match serde_json::from_slice::<RowKinds<'_>>(line) {
                Ok(row) => {
                    schema.add_kinds(row.0.iter().map(|(name, kind)| (name.as_ref(), *kind)));
                    None
                }
                Err(e) if e.is_data() => Some(format!("not a JSON object: {e}")),
                Err(e) => Some(format!("not JSON: {e}")),
            };
            if let Some(problem) = problem {
                entry.bad_row_count += 1;
                if entry.bad_rows.len() < LISTED_BAD_ROWS {
                    entry
                        .bad_rows
                        .push(format!("{}:{}: {problem}", object.key, number + 1));
                }
            }
        }
    }
    entry.columns = schema.columns;
    Ok(())
}

/// A Parquet object's columns, from its footer (the crawler's Parquet classifier reads the
/// file's schema rather than rows), and its row count. Two ranged reads: the 8-byte tail
/// (footer length and `PAR1`), then the footer.
async fn parquet_columns(
    location: &Location,
    object: &DataObject,
) -> Result<(Vec<(String, ColumnType)>, usize), CrawlError> {
    use datafusion::parquet::arrow::parquet_to_arrow_schema;
    use datafusion::parquet::file::metadata::ParquetMetaDataReader;
    let path = Path::from(object.key.as_str());
    let fail = |message: String| CrawlError::Parquet {
        location: format!("{}/", location.url.trim_end_matches('/')),
        key: object.key.clone(),
        message,
    };
    let read = |range: std::ops::Range<u64>| {
        let store = Arc::clone(&location.store);
        let path = path.clone();
        async move { store.get_range(&path, range).await }
    };
    if object.size < 12 {
        return Err(fail(format!(
            "{} bytes is too short for Parquet",
            object.size
        )));
    }
    let tail = read(object.size - 8..object.size)
        .await
        .map_err(|e| fail(e.to_string()))?;
    if &tail[4..] != b"PAR1" {
        return Err(fail("no PAR1 magic at the end".to_owned()));
    }
    let footer_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    let footer_start = (object.size - 8)
        .checked_sub(footer_len)
        .ok_or_else(|| fail(format!("a footer of {footer_len} bytes does not fit")))?;
    let footer = read(footer_start..object.size - 8)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let metadata =
        ParquetMetaDataReader::decode_metadata(&footer).map_err(|e| fail(e.to_string()))?;
    let file = metadata.file_metadata();
    let schema = parquet_to_arrow_schema(file.schema_descr(), file.key_value_metadata())
        .map_err(|e| fail(e.to_string()))?;
    let rows = usize::try_from(file.num_rows()).unwrap_or(0);
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            (
                field.name().clone(),
                ColumnType::of_arrow(field.data_type()),
            )
        })
        .collect();
    Ok((columns, rows))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use object_store::PutPayload;
    use object_store::memory::InMemory;

    fn gzip(text: &str) -> Vec<u8> {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    /// An in-memory store holding `objects`, the table's root `logs/`.
    pub(crate) async fn store(objects: &[(&str, Vec<u8>)]) -> Location {
        let store = InMemory::new();
        for (key, body) in objects {
            store
                .put(&Path::from(*key), PutPayload::from(body.clone()))
                .await
                .unwrap();
        }
        Location {
            store: Arc::new(store),
            url: "memory://".into(),
            root: "logs/".into(),
        }
    }

    fn options(layout: Layout) -> CrawlOptions {
        CrawlOptions {
            table: "logs".into(),
            database: "ccp_logs".into(),
            layout,
            declared_columns: None,
            sample_objects: DEFAULT_SAMPLE_OBJECTS,
            exclude_prefixes: vec!["logs/errors/".into()],
        }
    }

    #[tokio::test]
    async fn a_crawl_finds_partitions_schema_compression_and_bad_rows() {
        let location = store(&[
            (
                "logs/2026/11/24/10/a.gz",
                gzip("{\"n\":1,\"s\":\"x\"}\n{\"n\":5000000000}\n"),
            ),
            (
                "logs/2026/11/24/11/b",
                b"{\"s\":null,\"f\":1.5}\n[1]\nnot json\n".to_vec(),
            ),
            ("logs/errors/2026/11/24/11/c", b"junk".to_vec()),
        ])
        .await;
        let entry = crawl(&location, &options(Layout::Crawler)).await.unwrap();
        assert_eq!(
            entry.partition_columns,
            ["partition_0", "partition_1", "partition_2", "partition_3"]
        );
        assert_eq!(entry.partitions.len(), 2);
        let objects: Vec<_> = entry
            .objects()
            .map(|o| (o.key.as_str(), o.format == ObjectFormat::JsonGzip))
            .collect();
        assert_eq!(
            objects,
            [
                ("logs/2026/11/24/10/a.gz", true),
                ("logs/2026/11/24/11/b", false)
            ]
        );
        assert_eq!(entry.sampled_rows, 5);
        let types: BTreeMap<_, _> = entry.columns.iter().cloned().collect();
        assert_eq!(types["n"], ColumnType::BigInt);
        assert_eq!(types["s"], ColumnType::String);
        assert_eq!(types["f"], ColumnType::Double);
        assert_eq!(entry.bad_row_count, 2);
        assert!(
            entry.bad_rows[0].starts_with("logs/2026/11/24/11/b:2: not a JSON object"),
            "{:?}",
            entry.bad_rows
        );
        assert!(entry.bad_rows[1].starts_with("logs/2026/11/24/11/b:3: not JSON"));
    }

    #[tokio::test]
    async fn projection_reads_only_datehour_folders_and_keeps_the_declared_columns() {
        let location = store(&[
            ("logs/2026/11/24/10/a", b"{\"n\":1}\n".to_vec()),
            ("logs/!{timestamp:yyyy}/b", b"{\"n\":1}\n".to_vec()),
        ])
        .await;
        let mut options = options(Layout::Projection);
        options.declared_columns = Some(vec![("n".into(), ColumnType::BigInt)]);
        let entry = crawl(&location, &options).await.unwrap();
        assert_eq!(entry.partition_columns, ["datehour"]);
        assert_eq!(
            entry.partitions.keys().collect::<Vec<_>>(),
            [&vec!["2026/11/24/10".to_owned()]]
        );
        // object_store keeps `{` and `}` percent-encoded in keys.
        assert_eq!(entry.unreachable, ["logs/!%7Btimestamp:yyyy%7D/b"]);
        assert_eq!(entry.columns, [("n".to_owned(), ColumnType::BigInt)]);
        assert_eq!(
            entry.sampled_objects, 0,
            "a declared schema is not inferred"
        );
    }

    #[test]
    fn the_sample_spreads_over_partitions_before_taking_seconds() {
        let object = |key: &str| DataObject {
            key: key.into(),
            size: 1,
            format: ObjectFormat::Json,
        };
        let mut entry = TableEntry {
            database: "d".into(),
            name: "t".into(),
            location: Location {
                store: Arc::new(object_store::memory::InMemory::new()),
                url: "memory://".into(),
                root: String::new(),
            },
            columns: Vec::new(),
            partition_columns: vec!["p".into()],
            partitions: BTreeMap::new(),
            unreachable: Vec::new(),
            bad_rows: Vec::new(),
            bad_row_count: 0,
            sampled_objects: 0,
            sampled_rows: 0,
        };
        entry
            .partitions
            .insert(vec!["1".into()], vec![object("a1"), object("a2")]);
        entry
            .partitions
            .insert(vec!["2".into()], vec![object("b1")]);
        let keys = |n| {
            sample(&entry, n)
                .into_iter()
                .map(|o| o.key)
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(1), ["a1"]);
        assert_eq!(keys(2), ["a1", "b1"]);
        assert_eq!(keys(10), ["a1", "b1", "a2"]);
    }
}
