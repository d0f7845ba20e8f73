//! NDJSON objects read into the catalog's columns as a JSON SerDe reads them: a JSON number or
//! boolean in a `string` column is read as its text (`4672` as `'4672'`), where DataFusion's own
//! JSON source refuses the file ("expected string got 4672"). That happens when the catalog
//! typed a column from rows in which it was only ever null (a crawler's first run). Athena's
//! SerDe pages are silent on it (a fidelity row); Hive's JsonSerDe takes a string column's token
//! text, so `SELECT win_event_id ...` answers while comparing the column with a number is
//! refused ([`analysis`](crate::analysis)). Text in a number column still fails the query,
//! naming the object.
//!
//! Whole objects only (the table hands every object to one scan, never byte ranges), gunzipped
//! when their key says `.gz`, decoded by arrow-json with primitive coercion on; projection and
//! partition values as DataFusion's own sources do them.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::ReaderBuilder;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, exec_datafusion_err};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileOpenFuture, FileOpener, FileScanConfig, FileSource,
};
use datafusion::datasource::projection::{ProjectionOpener, SplitProjection};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::projection::ProjectionExprs;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::StreamExt as _;
use object_store::{ObjectStore, ObjectStoreExt as _};

/// Batch size when DataFusion has not set one.
const DEFAULT_BATCH_ROWS: usize = 8192;

/// The file source for the catalog's NDJSON objects.
#[derive(Clone)]
pub struct SerDeJsonSource {
    table_schema: TableSchema,
    batch_size: Option<usize>,
    metrics: ExecutionPlanMetricsSet,
    projection: SplitProjection,
}

impl SerDeJsonSource {
    /// A source reading `table_schema`'s file columns.
    pub fn new(table_schema: TableSchema) -> Self {
        Self {
            projection: SplitProjection::unprojected(&table_schema),
            table_schema,
            batch_size: None,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl FileSource for SerDeJsonSource {
    fn create_file_opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        _partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        let file_schema = self.table_schema.file_schema();
        let opener = Arc::new(SerDeJsonOpener {
            batch_size: self.batch_size.unwrap_or(DEFAULT_BATCH_ROWS),
            schema: Arc::new(file_schema.project(&self.projection.file_indices)?),
            gzip: base_config.file_compression_type == FileCompressionType::GZIP,
            store: object_store,
        });
        ProjectionOpener::try_new(self.projection.clone(), opener, file_schema)
    }

    fn table_schema(&self) -> &TableSchema {
        &self.table_schema
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        let mut source = self.clone();
        source.batch_size = Some(batch_size);
        Arc::new(source)
    }

    fn try_pushdown_projection(
        &self,
        projection: &ProjectionExprs,
    ) -> Result<Option<Arc<dyn FileSource>>> {
        let mut source = self.clone();
        let merged = self.projection.source.try_merge(projection)?;
        source.projection = SplitProjection::new(self.table_schema.file_schema(), &merged);
        Ok(Some(Arc::new(source)))
    }

    fn projection(&self) -> Option<&ProjectionExprs> {
        Some(&self.projection.source)
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn file_type(&self) -> &str {
        "json"
    }

    fn supports_repartitioning(&self) -> bool {
        false
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        datafusion::physical_plan::apply_expression_roots(self.projection.source.iter(), f)
    }
}

struct SerDeJsonOpener {
    batch_size: usize,
    schema: SchemaRef,
    gzip: bool,
    store: Arc<dyn ObjectStore>,
}

impl FileOpener for SerDeJsonOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        if file.range.is_some() {
            return Err(DataFusionError::NotImplemented(
                "the catalog's JSON objects are read whole, not by byte range".into(),
            ));
        }
        let store = Arc::clone(&self.store);
        let schema = Arc::clone(&self.schema);
        let (batch_size, gzip) = (self.batch_size, self.gzip);
        Ok(Box::pin(async move {
            let location = file.object_meta.location.clone();
            let body = store.get(&location).await?.bytes().await?;
            // The text sized from the gzip trailer up front (crate::gzip): growing it while
            // inflating copied each object's text about once more.
            let text = if gzip {
                crate::gzip::gunzip(&body, u64::MAX)
                    .map_err(|e| exec_datafusion_err!("cannot gunzip {location}: {e}"))?
            } else {
                Vec::from(body)
            };
            let reader = ReaderBuilder::new(schema)
                .with_batch_size(batch_size)
                .with_coerce_primitive(true)
                .build(std::io::Cursor::new(text))?;
            let named = move |e: datafusion::arrow::error::ArrowError| {
                exec_datafusion_err!("{location}: {e}")
            };
            Ok(futures::stream::iter(reader)
                .map(move |batch| batch.map_err(&named))
                .boxed())
        }))
    }
}
