//! A catalogued table as a DataFusion [`TableProvider`]: NDJSON objects read straight from
//! their store by DataFusion's JSON source and Parquet objects by its Parquet source (only the
//! columns a query names are read, as Athena reads Parquet), partition columns filled from the catalog (the
//! crawler's unnamed `partition_0..3`, `name=value` folders, or projection's `datehour`), and
//! filters on partition columns pruning whole partitions before any object is opened.
//!
//! DataFusion's own `ListingTable` only understands `name=value` folders, which Firehose's
//! default layout is not; hence this provider.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array as _, ArrayRef, AsArray as _, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::listing::helpers::expr_applicable_for_cols;
use datafusion::datasource::physical_plan::{
    FileGroup, FileScanConfigBuilder, FileSource, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;

use crate::serde_json_source::SerDeJsonSource;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::union::UnionExec;

use crate::crawl::{DataObject, ObjectFormat, TableEntry};
use crate::schema::ColumnType;

/// The Arrow type DataFusion reads a Hive column as.
pub fn arrow_type(column: ColumnType) -> DataType {
    match column {
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Int => DataType::Int32,
        ColumnType::BigInt => DataType::Int64,
        ColumnType::Double => DataType::Float64,
        ColumnType::Unknown | ColumnType::String => DataType::Utf8,
    }
}

/// A catalogued table of delivered objects.
#[derive(Debug)]
pub struct DeliveredTable {
    entry: Arc<TableEntry>,
    file_schema: SchemaRef,
    partition_fields: Vec<FieldRef>,
    schema: SchemaRef,
}

impl DeliveredTable {
    /// The table of a crawl.
    pub fn new(entry: Arc<TableEntry>) -> Self {
        let file_fields: Vec<Field> = entry
            .columns
            .iter()
            .map(|(name, column)| Field::new(name, arrow_type(*column), true))
            .collect();
        let partition_fields: Vec<FieldRef> = entry
            .partition_columns
            .iter()
            .map(|name| Arc::new(Field::new(name, DataType::Utf8, false)))
            .collect();
        let mut all: Vec<FieldRef> = file_fields.iter().cloned().map(Arc::new).collect();
        all.extend(partition_fields.iter().cloned());
        Self {
            entry,
            file_schema: Arc::new(Schema::new(file_fields)),
            partition_fields,
            schema: Arc::new(Schema::new(all)),
        }
    }

    /// The catalog entry behind the table.
    pub fn entry(&self) -> &TableEntry {
        &self.entry
    }

    /// The partitions whose values pass every filter (filters on partition columns only).
    fn prune(
        &self,
        state: &dyn Session,
        filters: &[Expr],
    ) -> Result<Vec<(&Vec<String>, &Vec<DataObject>)>> {
        let partitions: Vec<_> = self.entry.partitions.iter().collect();
        let names = self.partition_names();
        let filters: Vec<&Expr> = filters
            .iter()
            .filter(|f| !names.is_empty() && expr_applicable_for_cols(&names, f))
            .collect();
        if filters.is_empty() || partitions.is_empty() {
            return Ok(partitions);
        }
        let schema = Arc::new(Schema::new(self.partition_fields.clone()));
        let columns: Vec<ArrayRef> = (0..names.len())
            .map(|i| {
                Arc::new(StringArray::from_iter_values(
                    partitions.iter().map(|(values, _)| values[i].as_str()),
                )) as ArrayRef
            })
            .collect();
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
        let df_schema = DFSchema::try_from(schema)?;
        let mut keep = vec![true; partitions.len()];
        for filter in filters {
            let predicate = state.create_physical_expr(filter.clone(), &df_schema)?;
            let verdicts = predicate.evaluate(&batch)?.into_array(partitions.len())?;
            let verdicts = verdicts.as_boolean();
            for (i, keep) in keep.iter_mut().enumerate() {
                *keep &= verdicts.is_valid(i) && verdicts.value(i);
            }
        }
        Ok(partitions
            .into_iter()
            .zip(keep)
            .filter_map(|(partition, keep)| keep.then_some(partition))
            .collect())
    }

    fn partition_names(&self) -> Vec<&str> {
        self.entry
            .partition_columns
            .iter()
            .map(String::as_str)
            .collect()
    }

    /// One scan of `files` (all of `format`), spread over `groups` file groups.
    fn scan_files(
        &self,
        files: Vec<PartitionedFile>,
        format: ObjectFormat,
        groups: usize,
        projection: Option<&Vec<usize>>,
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut file_groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); groups.max(1)];
        // Largest first onto the lightest group: even work per core.
        let mut files = files;
        files.sort_by_key(|f| std::cmp::Reverse(f.object_meta.size));
        let mut loads = vec![0u64; file_groups.len()];
        for file in files {
            let lightest = (0..loads.len()).min_by_key(|i| loads[*i]).unwrap_or(0);
            loads[lightest] += file.object_meta.size;
            file_groups[lightest].push(file);
        }
        let table_schema = TableSchema::builder(Arc::clone(&self.file_schema))
            .with_table_partition_cols(self.partition_fields.clone())
            .build();
        let (source, compression): (Arc<dyn FileSource>, _) = match format {
            ObjectFormat::Parquet => (
                Arc::new(ParquetSource::new(table_schema)),
                FileCompressionType::UNCOMPRESSED,
            ),
            ObjectFormat::JsonGzip => (
                Arc::new(SerDeJsonSource::new(table_schema)),
                FileCompressionType::GZIP,
            ),
            ObjectFormat::Json => (
                Arc::new(SerDeJsonSource::new(table_schema)),
                FileCompressionType::UNCOMPRESSED,
            ),
        };
        let url = ObjectStoreUrl::parse(&self.entry.location.url)?;
        let config = FileScanConfigBuilder::new(url, source)
            .with_file_groups(
                file_groups
                    .into_iter()
                    .filter(|g| !g.is_empty())
                    .map(FileGroup::new)
                    .collect(),
            )
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .with_file_compression_type(compression)
            .build();
        Ok(DataSourceExec::from_data_source(config))
    }
}

#[async_trait]
impl TableProvider for DeliveredTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut by_format: [(ObjectFormat, Vec<PartitionedFile>); 3] = [
            (ObjectFormat::JsonGzip, Vec::new()),
            (ObjectFormat::Json, Vec::new()),
            (ObjectFormat::Parquet, Vec::new()),
        ];
        for (values, objects) in self.prune(state, filters)? {
            for object in objects {
                let file = PartitionedFile::new(object.key.clone(), object.size)
                    .with_partition_values(
                        values
                            .iter()
                            .map(|v| ScalarValue::Utf8(Some(v.clone())))
                            .collect(),
                    );
                if let Some((_, files)) = by_format.iter_mut().find(|(f, _)| *f == object.format) {
                    files.push(file);
                }
            }
        }
        let groups = state.config_options().execution.target_partitions;
        let mut plans = Vec::new();
        for (format, files) in by_format {
            if !files.is_empty() {
                plans.push(self.scan_files(files, format, groups, projection, limit)?);
            }
        }
        match plans.len() {
            0 => {
                let schema = match projection {
                    Some(indices) => Arc::new(self.schema.project(indices)?),
                    None => Arc::clone(&self.schema),
                };
                Ok(Arc::new(EmptyExec::new(schema)))
            }
            1 => Ok(plans.remove(0)),
            _ => UnionExec::try_new(plans),
        }
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        let names = self.partition_names();
        Ok(filters
            .iter()
            .map(|filter| {
                if !names.is_empty() && expr_applicable_for_cols(&names, filter) {
                    // Pruning evaluates the whole filter on the partition values.
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }
}
