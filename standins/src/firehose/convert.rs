//! Record format conversion as Firehose does it (Amazon Data Firehose Developer Guide, "Convert
//! input data format"): each buffered record is read by a JSON SerDe against the Glue table's
//! columns, and the object is written as Parquet with the `ParquetSerDe`'s compression
//! (`.parquet`, "Configure Amazon S3 object name format"). A record may hold several JSON
//! documents (`{"a":1}{"a":2}`, the guide's own example); keys the table does not declare are
//! left out ("the converted data will not contain attributes that are not specified in the
//! schema"); a declared column a document lacks is null.
//!
//! A record that cannot be read is written to the error prefix instead (`format-conversion-
//! failed`), one JSON document per record in the schema of "Handling errors for data format
//! conversion", and the rest of the object still converts. Where AWS is silent, written down
//! here: the error codes (`DataFormatConversion.ParseError` for text that is not JSON
//! objects, `DataFormatConversion.MalformedData` for a value of the wrong kind; AWS documents no
//! codes, these are the ones observed on AWS and reported by the floci emulator's authors), how
//! Hive's SerDe coerces a value of another JSON kind (here: refused, the record fails), and the
//! Direct PUT `sequenceNumber` (here: null).
//!
//! The two deserializers differ as the guide states ("Choosing the JSON deserializer"): the
//! Apache Hive JSON SerDe refuses a field whose schema type is numeric and whose JSON value is a
//! string (`{"a":"123"}` for an int: an error, the record fails as `MalformedData`); the OpenX
//! JSON SerDe converts JSON keys to lowercase before deserializing (its `CaseInsensitive`
//! option, true by default: API Reference, OpenXJsonSerDe) and reads a numeric string into a
//! numeric column.

use std::sync::Arc;

use base64::Engine as _;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::json::ReaderBuilder;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, GzipLevel};
use datafusion::parquet::file::properties::WriterProperties;
use lake::schema::ColumnType;
use serde_json::json;

/// The key extension of a converted object.
pub const PARQUET_EXTENSION: &str = ".parquet";
/// `!{firehose:error-output-type}` of a record that failed conversion.
pub const CONVERSION_FAILED: &str = "format-conversion-failed";
/// The error code of a record whose text is not JSON objects.
pub const PARSE_ERROR: &str = "DataFormatConversion.ParseError";
/// The error code of a record with a value of the wrong kind for its column.
pub const MALFORMED_DATA: &str = "DataFormatConversion.MalformedData";

/// The Glue table the schema comes from (the error documents name it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTable {
    /// Account id.
    pub catalog_id: String,
    /// Database.
    pub database: String,
    /// Table.
    pub table: String,
    /// Region.
    pub region: String,
}

/// A stream's conversion: the table's columns as Arrow fields and the Parquet writer settings.
#[derive(Debug, Clone)]
pub struct Conversion {
    schema: SchemaRef,
    compression: Compression,
    table: CatalogTable,
    deserializer: Deserializer,
}

/// The JSON deserializer of a conversion (`InputFormatConfiguration.Deserializer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deserializer {
    /// The Apache Hive JSON SerDe (`HiveJsonSerDe`).
    #[default]
    HiveJson,
    /// The OpenX JSON SerDe (`OpenXJsonSerDe`) with its defaults.
    OpenXJson,
}

impl Deserializer {
    /// The stack definition's name for it (`hive` or `openx`).
    pub fn from_definition(name: &str) -> Option<Self> {
        match name {
            "hive" => Some(Self::HiveJson),
            "openx" => Some(Self::OpenXJson),
            _ => None,
        }
    }
}

/// One record that did not convert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRecord {
    /// The record's text as sent.
    pub data: Vec<u8>,
    /// [`PARSE_ERROR`] or [`MALFORMED_DATA`].
    pub code: &'static str,
    /// What was wrong.
    pub message: String,
}

/// What one buffer converted to.
#[derive(Debug)]
pub struct Converted {
    /// The Parquet object, when any record converted.
    pub parquet: Option<Vec<u8>>,
    /// Rows in it.
    pub rows: usize,
    /// Records that did not convert.
    pub failed: Vec<FailedRecord>,
}

/// Why a conversion cannot be set up, or a buffer not written as Parquet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    /// A `ParquetSerDe` compression Firehose does not offer.
    #[error(
        "ParquetSerDe compression {0:?} is not one Firehose offers (SNAPPY, GZIP, UNCOMPRESSED)"
    )]
    Compression(String),
    /// The Parquet writer failed.
    #[error("writing Parquet: {0}")]
    Write(String),
}

impl Conversion {
    /// The conversion for a table of `columns` (the table's declared columns,
    /// [`lake::schema::declared_columns`] of the ETL's rows, each written as the stand-in reads it) with
    /// `ParquetSerDe` compression `compression` (SNAPPY, GZIP or UNCOMPRESSED).
    pub fn new(
        columns: &[(String, ColumnType)],
        compression: &str,
        table: CatalogTable,
    ) -> Result<Self, ConversionError> {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, column)| Field::new(name, lake::table::arrow_type(*column), true))
            .collect();
        let compression = match compression {
            "SNAPPY" => Compression::SNAPPY,
            "GZIP" => Compression::GZIP(GzipLevel::default()),
            "UNCOMPRESSED" => Compression::UNCOMPRESSED,
            other => return Err(ConversionError::Compression(other.to_owned())),
        };
        Ok(Self {
            schema: Arc::new(Schema::new(fields)),
            compression,
            table,
            deserializer: Deserializer::default(),
        })
    }

    /// The same conversion read by `deserializer`.
    #[must_use]
    pub fn with_deserializer(mut self, deserializer: Deserializer) -> Self {
        self.deserializer = deserializer;
        self
    }

    /// The Arrow schema the rows are read with.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Converts the records of one buffer (`data`, the records concatenated, each ending at the
    /// matching offset of `record_ends`).
    pub fn convert(
        &self,
        data: &[u8],
        record_ends: &[usize],
    ) -> Result<Converted, ConversionError> {
        let mut batches = Vec::new();
        let mut failed = Vec::new();
        let mut start = 0;
        for &end in record_ends {
            let record = data.get(start..end).unwrap_or_default();
            start = end;
            match self.read_record(record) {
                Ok(Some(batch)) => batches.push(batch),
                Ok(None) => {}
                Err((code, message)) => failed.push(FailedRecord {
                    data: record.to_vec(),
                    code,
                    message,
                }),
            }
        }
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        let parquet = if batches.is_empty() {
            None
        } else {
            Some(
                self.write(&batches)
                    .map_err(|e| ConversionError::Write(e.to_string()))?,
            )
        };
        Ok(Converted {
            parquet,
            rows,
            failed,
        })
    }

    /// One record's documents as a batch (`None` when it holds only whitespace).
    fn read_record(&self, record: &[u8]) -> Result<Option<RecordBatch>, (&'static str, String)> {
        let first = record.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b != b'{') {
            return Err((
                PARSE_ERROR,
                "the record is not JSON objects (an array or a scalar is not valid input)"
                    .to_owned(),
            ));
        }
        let lowered;
        let record = match self.deserializer {
            Deserializer::HiveJson => {
                self.hive_refusals(record)?;
                record
            }
            Deserializer::OpenXJson => {
                lowered = keys_lowercased(record)?;
                lowered.as_slice()
            }
        };
        // A record cannot hold more documents than bytes: one batch takes them all.
        let mut decoder = ReaderBuilder::new(Arc::clone(&self.schema))
            .with_batch_size(record.len().max(1))
            .build_decoder()
            .map_err(|e| (PARSE_ERROR, e.to_string()))?;
        let read = decoder
            .decode(record)
            .map_err(|e| (PARSE_ERROR, e.to_string()))?;
        if read != record.len() {
            return Err((PARSE_ERROR, format!("unread text after byte {read}")));
        }
        decoder.flush().map_err(|e| {
            let text = e.to_string();
            let code = if text.contains("expected") || text.contains("failed to parse") {
                MALFORMED_DATA
            } else {
                PARSE_ERROR
            };
            (code, text)
        })
    }

    /// What the Hive JSON SerDe refuses before reading: a numeric column whose JSON value is a
    /// string.
    fn hive_refusals(&self, record: &[u8]) -> Result<(), (&'static str, String)> {
        for document in serde_json::Deserializer::from_slice(record)
            .into_iter::<serde_json::Map<String, serde_json::Value>>()
        {
            // Text that is not JSON objects is the decoder's to name.
            let Ok(document) = document else {
                return Ok(());
            };
            for field in self.schema.fields() {
                if let Some(serde_json::Value::String(text)) = document.get(field.name())
                    && field.data_type().is_numeric()
                {
                    return Err((
                        MALFORMED_DATA,
                        format!(
                            "the Hive JSON SerDe does not read the string {text:?} into the \
                             numeric column {} (Firehose guide, \"Choosing the JSON \
                             deserializer\")",
                            field.name()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn write(&self, batches: &[RecordBatch]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let batch = concat_batches(&self.schema, batches)?;
        let properties = WriterProperties::builder()
            .set_compression(self.compression)
            .set_created_by("loglab firehose model".to_owned())
            .build();
        let mut writer =
            ArrowWriter::try_new(Vec::new(), Arc::clone(&self.schema), Some(properties))?;
        writer.write(&batch)?;
        Ok(writer.into_inner()?)
    }

    /// The error document Firehose writes for a record that failed conversion, one line.
    pub fn error_document(&self, failed: &FailedRecord, arrival_ms: i64) -> String {
        let table = &self.table;
        json!({
            "attemptsMade": 1,
            "arrivalTimestamp": arrival_ms,
            "lastErrorCode": failed.code,
            "lastErrorMessage": failed.message,
            "attemptEndingTimestamp": arrival_ms,
            "rawData": base64::engine::general_purpose::STANDARD.encode(&failed.data),
            "sequenceNumber": null,
            "subSequenceNumber": null,
            "dataCatalogTable": {
                "catalogId": table.catalog_id,
                "databaseName": table.database,
                "tableName": table.table,
                "region": table.region,
                "versionId": "LATEST",
                "catalogArn": format!("arn:aws:glue:{}:{}:catalog", table.region, table.catalog_id),
            },
        })
        .to_string()
    }
}

/// `record`'s documents with their keys lowercased (the OpenX JSON SerDe's `CaseInsensitive`).
fn keys_lowercased(record: &[u8]) -> Result<Vec<u8>, (&'static str, String)> {
    let mut out = Vec::with_capacity(record.len());
    for document in serde_json::Deserializer::from_slice(record)
        .into_iter::<serde_json::Map<String, serde_json::Value>>()
    {
        let document = document.map_err(|e| (PARSE_ERROR, e.to_string()))?;
        let lowered: serde_json::Map<String, serde_json::Value> = document
            .into_iter()
            .map(|(key, value)| (key.to_lowercase(), value))
            .collect();
        out.extend_from_slice(serde_json::Value::Object(lowered).to_string().as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
