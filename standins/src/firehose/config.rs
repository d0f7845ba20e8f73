//! One delivery stream's configuration, as the stack definition declares it (the template's
//! `ExtendedS3DestinationConfiguration`).

use super::buffer::{BufferingHints, ObjectCompression};
use super::convert::{CatalogTable, Conversion, Deserializer};

/// The gzip level of the model's objects: zlib's default. Firehose does not document its
/// level; the XFL byte of its objects' gzip headers is 0, which zlib's convention gives levels
/// 2 to 8, and 6 is the default of zlib and of Java's `GZIPOutputStream`.
pub const FIREHOSE_GZIP_LEVEL: u32 = 6;

/// The account and region the model's descriptions and error documents name (it serves one
/// stream and knows no placement).
pub const MODEL_ACCOUNT: &str = "000000000000";
/// See [`MODEL_ACCOUNT`].
pub const MODEL_REGION: &str = "us-east-1";

/// Why the definition's stream cannot be modelled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delivery stream {stream}: {message}")]
pub struct StreamConfigError {
    /// The stream's name.
    pub stream: String,
    /// What cannot be modelled, and what can.
    pub message: String,
}

/// One delivery stream's configuration.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// The stream's name.
    pub name: String,
    /// The destination bucket.
    pub bucket: String,
    /// `Prefix`.
    pub prefix: String,
    /// `ErrorOutputPrefix`.
    pub error_prefix: String,
    /// The buffering hints.
    pub hints: BufferingHints,
    /// `CompressionFormat`.
    pub compression: ObjectCompression,
    /// The gzip level of `GZIP` objects ([`FIREHOSE_GZIP_LEVEL`]).
    pub gzip_level: u32,
    /// `DataFormatConversionConfiguration`, when enabled: objects are Parquet.
    pub conversion: Option<Conversion>,
}

impl StreamConfig {
    /// The stream the stack definition declares, delivering to `bucket`; a conversion takes
    /// the columns of the table the stack declares (the ETL's row columns).
    pub fn from_definition(
        definition: &stack::definition::StackDefinition,
        stream: &str,
        bucket: &str,
    ) -> Result<Self, StreamConfigError> {
        let refused = |message: String| StreamConfigError {
            stream: stream.to_owned(),
            message,
        };
        let firehose = &definition.firehose;
        let conversion = firehose
            .converts()
            .map(|conversion| {
                Conversion::new(
                    &lake::schema::declared_columns(&pipeline::etl::row::ROW_COLUMNS),
                    &conversion.parquet_compression,
                    CatalogTable {
                        catalog_id: MODEL_ACCOUNT.to_owned(),
                        database: definition.catalog.database.clone(),
                        table: definition.catalog.table.clone(),
                        region: MODEL_REGION.to_owned(),
                    },
                )
                .map(|c| {
                    c.with_deserializer(
                        Deserializer::from_definition(&conversion.deserializer).unwrap_or_default(),
                    )
                })
            })
            .transpose()
            .map_err(|e| refused(e.to_string()))?;
        Ok(Self {
            name: stream.to_owned(),
            bucket: bucket.to_owned(),
            prefix: firehose.prefix.clone(),
            error_prefix: firehose.error_prefix.clone(),
            hints: BufferingHints {
                size_mib: usize::try_from(firehose.buffer_size_mb).unwrap_or(1),
                interval_seconds: u64::try_from(firehose.buffer_interval_seconds).unwrap_or(0),
            },
            compression: ObjectCompression::from_format(&firehose.compression)
                .map_err(|e| refused(e.to_string()))?,
            gzip_level: FIREHOSE_GZIP_LEVEL,
            conversion,
        })
    }
}
