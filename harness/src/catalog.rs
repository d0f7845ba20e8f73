//! The stack's Athena table on a backend: where its objects are (the stack's bucket and
//! Firehose prefix, on the emulator or on AWS, or any `s3://` or local location), how it is
//! catalogued (the stack's `catalog.mode`: crawler inference, or projection with the declared
//! row schema), the saved queries with `{table}` filled in, and the text of `loglab catalog`.

use std::fmt::Write as _;

use lake::crawl::{self, CrawlOptions, Location, ObjectFormat, TableEntry};
use lake::partitions::Layout;
use lake::schema::ColumnType;
use lake::{Lake, QueryError};
use stack::{CatalogMode, StackDefinition};

/// Why the table could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum AthenaError {
    /// A location that is neither `s3://bucket/prefix/` nor a folder.
    #[error("location {location:?}: {why}")]
    Location {
        /// What was given.
        location: String,
        /// What is wrong with it.
        why: String,
    },
    /// The store could not be set up.
    #[error(transparent)]
    Store(#[from] lake::store::StoreError),
    /// Crawling failed.
    #[error(transparent)]
    Crawl(#[from] crawl::CrawlError),
    /// The stack's crawler schedule is not one the crawler model follows.
    #[error(transparent)]
    Schedule(#[from] lake::crawler::ScheduleError),
    /// Registering or querying failed.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// Copying the objects failed.
    #[error("copying {what}: {message}")]
    Copy {
        /// The object or file.
        what: String,
        /// Why.
        message: String,
    },
}

/// The columns the stack declares for its table (`docs/rows.md`), as projection uses them.
pub fn declared_columns() -> Vec<(String, ColumnType)> {
    lake::schema::declared_columns(&pipeline::etl::row::ROW_COLUMNS)
}

/// The table's root under the bucket: the Firehose prefix up to its first `!{…}` expression.
pub fn table_root(prefix: &str) -> String {
    let fixed = prefix.split("!{").next().unwrap_or_default();
    match fixed.rfind('/') {
        Some(end) => fixed[..=end].to_owned(),
        None => String::new(),
    }
}

/// How the stack's table is catalogued.
pub fn crawl_options(definition: &StackDefinition, root: &str) -> CrawlOptions {
    let catalog = &definition.catalog;
    let (layout, declared_columns) = match catalog.mode {
        CatalogMode::Crawler => (Layout::Crawler, None),
        CatalogMode::Projection => (Layout::Projection, Some(declared_columns())),
    };
    CrawlOptions {
        table: catalog.table.clone(),
        database: catalog.database.clone(),
        layout,
        declared_columns,
        sample_objects: crawl::DEFAULT_SAMPLE_OBJECTS,
        exclude_prefixes: [
            &definition.firehose.error_prefix,
            &definition.athena.results_prefix,
        ]
        .into_iter()
        .filter(|p| !p.is_empty() && p.starts_with(root))
        .cloned()
        .collect(),
    }
}

/// The emulator at `url` as an S3 endpoint, with the credentials it accepts.
fn emulator_s3(url: &str) -> lake::store::S3Endpoint<'_> {
    lake::store::S3Endpoint {
        url,
        access_key_id: pipeline::emulator::ACCESS_KEY_ID,
        secret_access_key: pipeline::emulator::SECRET_ACCESS_KEY,
    }
}

/// The stack's bucket on the emulator at `endpoint` (or on AWS when `None`).
pub fn bucket_location(
    bucket: &str,
    definition: &StackDefinition,
    region: &str,
    endpoint: Option<&str>,
) -> Result<Location, AthenaError> {
    Ok(Location {
        store: lake::store::s3(bucket, region, endpoint.map(emulator_s3))?,
        url: format!("s3://{bucket}"),
        root: table_root(&definition.firehose.prefix),
    })
}

/// A location given by hand: `s3://bucket/prefix/` (on the emulator at `endpoint`, or AWS),
/// or a local folder (`file:///abs/path/` or a path).
pub fn parse_location(
    text: &str,
    region: &str,
    endpoint: Option<&str>,
) -> Result<Location, AthenaError> {
    if let Some((bucket, root)) = lake::store::split_s3_url(text) {
        if bucket.is_empty() {
            return Err(AthenaError::Location {
                location: text.to_owned(),
                why: "no bucket name after s3://".into(),
            });
        }
        return Ok(Location {
            store: lake::store::s3(bucket, region, endpoint.map(emulator_s3))?,
            url: format!("s3://{bucket}"),
            root,
        });
    }
    let path = std::path::Path::new(text.strip_prefix("file://").unwrap_or(text));
    let absolute = std::fs::canonicalize(path).map_err(|e| AthenaError::Location {
        location: text.to_owned(),
        why: format!("not an s3:// location, and not a folder here: {e}"),
    })?;
    if !absolute.is_dir() {
        return Err(AthenaError::Location {
            location: text.to_owned(),
            why: "not a folder".into(),
        });
    }
    let root = absolute
        .to_string_lossy()
        .trim_start_matches('/')
        .to_owned();
    Ok(Location {
        store: lake::store::local(),
        url: "file:///".into(),
        root: if root.is_empty() {
            root
        } else {
            format!("{root}/")
        },
    })
}

/// Copies every object under `location`'s root into `folder`, keys as paths (what
/// `loglab query --run` reads once the emulator is gone). Returns objects and bytes copied.
pub async fn copy_to_folder(
    location: &Location,
    folder: &std::path::Path,
) -> Result<(usize, u64), AthenaError> {
    let copy_error = |what: &str, message: String| AthenaError::Copy {
        what: what.to_owned(),
        message,
    };
    let metas = crawl::list(location, &[]).await?;
    let (mut objects, mut bytes) = (0, 0);
    for (key, meta) in metas {
        let body = crawl::read(location, &meta).await?;
        let path = folder.join(&key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| copy_error(&parent.display().to_string(), e.to_string()))?;
        }
        std::fs::write(&path, &body)
            .map_err(|e| copy_error(&path.display().to_string(), e.to_string()))?;
        objects += 1;
        bytes += body.len() as u64;
    }
    Ok((objects, bytes))
}

/// Crawls `location` and opens a session with the table registered.
pub async fn open(
    location: &Location,
    options: &CrawlOptions,
) -> Result<(Lake, TableEntry), AthenaError> {
    let entry = crawl::crawl(location, options).await?;
    let lake = Lake::new(&options.database);
    lake.register(entry.clone())?;
    Ok((lake, entry))
}

/// `loglab catalog`'s text: the table, its columns and its partitions.
pub fn describe(entry: &TableEntry, layout: Layout) -> String {
    let mut out = String::new();
    let objects = entry.objects().count();
    let count = |format| entry.objects().filter(|o| o.format == format).count();
    let formats = match (count(ObjectFormat::JsonGzip), count(ObjectFormat::Parquet)) {
        (gzip, 0) => format!("{gzip} gzip"),
        (gzip, parquet) => format!("{gzip} gzip, {parquet} parquet"),
    };
    let _ = writeln!(
        out,
        "table {} ({}), at {}",
        entry.qualified_name(),
        match layout {
            Layout::Crawler => "as the Glue crawler infers it",
            Layout::Projection => "partition projection, declared columns",
        },
        entry.location.display()
    );
    let _ = writeln!(
        out,
        "  {objects} objects ({formats}), {} bytes, {} partitions",
        entry.bytes(),
        entry.partitions.len()
    );
    if layout == Layout::Crawler {
        let _ = writeln!(
            out,
            "  schema inferred from {} rows of {} objects",
            entry.sampled_rows, entry.sampled_objects
        );
    }
    let _ = writeln!(out, "\ncolumns:");
    for (name, column) in &entry.columns {
        let _ = writeln!(out, "  {name:<22} {}", column.hive_name());
    }
    for name in &entry.partition_columns {
        let _ = writeln!(out, "  {name:<22} string (partition)");
    }
    let _ = writeln!(
        out,
        "\npartitions ({}):",
        entry.partition_columns.join(", ")
    );
    for (values, objects) in &entry.partitions {
        let bytes: u64 = objects.iter().map(|o| o.size).sum();
        let _ = writeln!(
            out,
            "  {:<24} {:>6} objects {:>12} bytes",
            values.join("/"),
            objects.len(),
            bytes
        );
    }
    if !entry.unreachable.is_empty() {
        let _ = writeln!(
            out,
            "\n{} objects no projected partition reaches (Athena never reads them), e.g.:",
            entry.unreachable.len()
        );
        for key in entry.unreachable.iter().take(5) {
            let _ = writeln!(out, "  {key}");
        }
    }
    if entry.bad_row_count > 0 {
        let _ = writeln!(
            out,
            "\n{} sampled rows are not JSON objects (queries fail on them), e.g.:",
            entry.bad_row_count
        );
        for row in &entry.bad_rows {
            let _ = writeln!(out, "  {row}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use stack::template::saved_query_sql;

    #[test]
    fn the_table_root_stops_before_the_first_expression() {
        assert_eq!(table_root("logs/"), "logs/");
        assert_eq!(table_root("logs/!{timestamp:yyyy/MM/dd/HH}/"), "logs/");
        assert_eq!(table_root("a/b/c!{x}"), "a/b/");
        assert_eq!(table_root(""), "");
    }

    #[test]
    fn declared_columns_follow_the_row_schema() {
        let columns = declared_columns();
        assert_eq!(columns.len(), pipeline::etl::row::ROW_COLUMNS.len());
        assert!(columns.contains(&("win_record_id".into(), ColumnType::BigInt)));
        assert!(columns.contains(&("pid".into(), ColumnType::Int)));
    }

    #[tokio::test]
    async fn every_default_saved_query_runs_unchanged_on_the_declared_table() {
        let definition = StackDefinition::default();
        let location = Location {
            store: std::sync::Arc::new(object_store::memory::InMemory::new()),
            url: "memory://".into(),
            root: "logs/".into(),
        };
        let mut options = crawl_options(&definition, "logs/");
        options.layout = Layout::Projection;
        options.declared_columns = Some(declared_columns());
        let (lake, entry) = open(&location, &options).await.unwrap();
        assert_eq!(entry.qualified_name(), "ccp_logs.logs");
        assert_eq!(definition.athena.saved_queries.len(), 5);
        for query in &definition.athena.saved_queries {
            let sql = saved_query_sql(&definition, &query.sql);
            assert!(sql.contains("FROM ccp_logs.logs"), "{sql}");
            let result = lake.query(&sql).await;
            assert!(result.is_ok(), "{}: {:?}", query.name, result.err());
        }
    }

    #[test]
    fn locations_name_what_is_wrong() {
        let error = parse_location("s3:///logs", "us-east-1", None).unwrap_err();
        assert!(error.to_string().contains("no bucket name"), "{error}");
        let error = parse_location("/nonexistent/folder", "us-east-1", None).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/folder"), "{error}");
        let location = parse_location("s3://b/logs", "us-east-1", Some("http://x:1")).unwrap();
        assert_eq!(
            (location.url.as_str(), location.root.as_str()),
            ("s3://b", "logs/")
        );
    }
}
