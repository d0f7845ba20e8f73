//! A query's rows as Athena gives them back: the result set of GetQueryResults (a header row
//! of column names first, every value a `VarCharValue` string, a null as a datum without one,
//! column info with Athena's type names, pages of at most [`MAX_RESULTS`] rows with a
//! `NextToken`), and the result file Athena writes to the output location (`<id>.csv`, every
//! value in double quotes, a null as nothing).
//!
//! Sources: the API Reference's `GetQueryResults`, `ResultSet`, `Row`, `Datum` and
//! `ColumnInfo` (`Nullable` "always shows as UNKNOWN"); the User Guide's "Find query output
//! files in Amazon S3" (`<QueryID>.csv` and `<QueryID>.csv.metadata`, the metadata "saved in
//! binary format and not human readable": its layout is not documented, so the stand-in writes
//! its own, JSON, and says so in the fidelity table).

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::FormatOptions;
use serde_json::{Value, json};

/// At most this many rows in one GetQueryResults page (the API Reference: `MaxResults`, 1 to
/// 1000), the header row counted.
pub const MAX_RESULTS: usize = 1000;

/// A GetQueryResults request the result set cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// `MaxResults` outside 1 to [`MAX_RESULTS`].
    #[error("MaxResults must be between 1 and {MAX_RESULTS}, not {0}")]
    MaxResults(i64),
    /// A `NextToken` this query did not give.
    #[error("NextToken {0:?} is not one this query gave")]
    Token(String),
}

/// A finished query's columns and rows as strings (`None` for null).
#[derive(Debug, Clone, Default)]
pub struct ResultTable {
    /// Column names and Athena's type names.
    pub columns: Vec<(String, &'static str)>,
    /// The rows.
    pub rows: Vec<Vec<Option<String>>>,
}

/// The name Athena's `ColumnInfo.Type` gives a column of `data_type`: the SQL type names of
/// the User Guide's "Data types in Amazon Athena" (as its engine, Trino, names them).
pub fn athena_type(data_type: &DataType) -> &'static str {
    match data_type {
        DataType::Boolean => "boolean",
        DataType::Int8 => "tinyint",
        DataType::Int16 | DataType::UInt8 => "smallint",
        DataType::Int32 | DataType::UInt16 => "integer",
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "bigint",
        DataType::Float16 | DataType::Float32 => "float",
        DataType::Float64 => "double",
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => "decimal",
        DataType::Date32 | DataType::Date64 => "date",
        DataType::Timestamp(..) => "timestamp",
        DataType::Time32(_) | DataType::Time64(_) => "time",
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "varbinary",
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::FixedSizeList(..) => "array",
        DataType::Map(..) => "map",
        DataType::Struct(_) => "row",
        DataType::Interval(_) | DataType::Duration(_) => "interval day to second",
        _ => "varchar",
    }
}

/// How values are written: Athena's timestamp form (`2024-05-01 10:00:00.000`).
fn format_options() -> FormatOptions<'static> {
    FormatOptions::default()
        .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.3f"))
        .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.3f %Z"))
        .with_date_format(Some("%Y-%m-%d"))
}

impl ResultTable {
    /// The rows of `batches` under `schema`.
    pub fn new(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Self, ArrowError> {
        let columns = schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), athena_type(f.data_type())))
            .collect();
        let rows = lake::output::cells(batches, &format_options())?;
        Ok(Self { columns, rows })
    }

    /// `ResultSetMetadata.ColumnInfo`.
    pub fn column_info(&self) -> Vec<Value> {
        self.columns
            .iter()
            .map(|(name, kind)| {
                json!({
                    "CatalogName": "hive",
                    "SchemaName": "",
                    "TableName": "",
                    "Name": name,
                    "Label": name,
                    "Type": kind,
                    "Precision": 0,
                    "Scale": 0,
                    "Nullable": "UNKNOWN",
                    "CaseSensitive": *kind == "varchar",
                })
            })
            .collect()
    }

    /// Rows of the result set, the header row first, from `offset` (0: the header).
    fn row_at(&self, index: usize) -> Option<Value> {
        let datum = |value: Option<&str>| match value {
            Some(v) => json!({ "VarCharValue": v }),
            None => json!({}),
        };
        if index == 0 {
            let data: Vec<Value> = self.columns.iter().map(|(n, _)| datum(Some(n))).collect();
            return Some(json!({ "Data": data }));
        }
        let row = self.rows.get(index - 1)?;
        let data: Vec<Value> = row.iter().map(|v| datum(v.as_deref())).collect();
        Some(json!({ "Data": data }))
    }

    /// One page of GetQueryResults from `token` (none: the first), of at most `max` rows:
    /// the rows and the token of the next page, if there is one.
    pub fn page(
        &self,
        token: Option<&str>,
        max: Option<i64>,
    ) -> Result<(Vec<Value>, Option<String>), PageError> {
        let max = match max {
            None => MAX_RESULTS,
            Some(n) if (1..=MAX_RESULTS as i64).contains(&n) => n as usize,
            Some(n) => return Err(PageError::MaxResults(n)),
        };
        let start = match token {
            None => 0,
            Some(token) => token
                .strip_prefix(TOKEN_PREFIX)
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n <= self.rows.len() + 1)
                .ok_or_else(|| PageError::Token(token.to_owned()))?,
        };
        let total = self.rows.len() + 1;
        let end = (start + max).min(total);
        let rows = (start..end).filter_map(|i| self.row_at(i)).collect();
        let next = (end < total).then(|| format!("{TOKEN_PREFIX}{end}"));
        Ok((rows, next))
    }

    /// `<id>.csv` as Athena writes it: a header line, every value in double quotes (a quote
    /// inside doubled), a null as nothing, lines ending in `\n`.
    pub fn csv(&self) -> String {
        let quote = |v: &str| format!("\"{}\"", v.replace('"', "\"\""));
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|(n, _)| quote(n)).collect();
        out.push_str(&header.join(","));
        out.push('\n');
        for row in &self.rows {
            let fields: Vec<String> = row
                .iter()
                .map(|v| v.as_deref().map(quote).unwrap_or_default())
                .collect();
            out.push_str(&fields.join(","));
            out.push('\n');
        }
        out
    }

    /// `<id>.csv.metadata`: the column info as JSON (Athena's own is an undocumented binary
    /// format; this one is the stand-in's).
    pub fn metadata(&self) -> String {
        json!({ "ColumnInfo": self.column_info(), "written_by": "the harness's Athena stand-in (Athena's own format is binary and undocumented)" })
            .to_string()
    }
}

/// Tokens are the index of the next row, behind a prefix (opaque to clients, as Athena's).
const TOKEN_PREFIX: &str = "loglab-row-";

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    fn table(rows: usize) -> ResultTable {
        let schema = Arc::new(Schema::new(vec![
            Field::new("host", DataType::Utf8, true),
            Field::new("n", DataType::Int64, false),
        ]));
        let hosts: Vec<Option<String>> = (0..rows)
            .map(|i| (i % 3 != 0).then(|| format!("h\"{i}")))
            .collect();
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(hosts)),
                Arc::new(Int64Array::from_iter_values(0..rows as i64)),
            ],
        )
        .unwrap();
        ResultTable::new(&schema, &[batch]).unwrap()
    }

    #[test]
    fn the_first_page_starts_with_the_header_and_pages_hold_at_most_1000_rows() {
        let table = table(2500);
        let (first, token) = table.page(None, None).unwrap();
        assert_eq!(first.len(), 1000);
        assert_eq!(first[0]["Data"][0]["VarCharValue"], "host");
        assert_eq!(first[1]["Data"][0], json!({}), "a null has no VarCharValue");
        assert_eq!(first[1]["Data"][1]["VarCharValue"], "0");
        let (second, token) = table.page(token.as_deref(), None).unwrap();
        assert_eq!(second[0]["Data"][1]["VarCharValue"], "999");
        let (last, token) = table.page(token.as_deref(), None).unwrap();
        assert_eq!(last.len(), 501);
        assert_eq!(token, None);
        assert!(table.page(None, Some(1001)).is_err());
        assert!(table.page(Some("forged"), None).is_err());
    }

    #[test]
    fn the_csv_quotes_every_value_and_leaves_nulls_empty() {
        let csv = table(3).csv();
        assert_eq!(
            csv,
            "\"host\",\"n\"\n,\"0\"\n\"h\"\"1\",\"1\"\n\"h\"\"2\",\"2\"\n"
        );
    }

    #[test]
    fn column_info_names_athenas_types() {
        let info = table(1).column_info();
        assert_eq!(info[0]["Type"], "varchar");
        assert_eq!(info[1]["Type"], "bigint");
        assert_eq!(info[1]["Nullable"], "UNKNOWN");
    }
}
