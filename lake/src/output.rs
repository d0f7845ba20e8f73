//! Query results for people and programs: a bordered table (the default of `loglab query`),
//! CSV with a header, or JSON (one array of objects), and rows as display strings for
//! comparing results.

use datafusion::arrow::array::{Array as _, RecordBatch};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::util::pretty::pretty_format_batches;

use crate::session::QueryResult;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A bordered table.
    #[default]
    Table,
    /// CSV with a header line.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// Renders `result` in `format`.
pub fn render(result: &QueryResult, format: Format) -> Result<String, ArrowError> {
    match format {
        Format::Table => {
            if result.row_count() == 0 {
                let names: Vec<&str> = result
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect();
                return Ok(format!("(no rows; columns: {})", names.join(", ")));
            }
            Ok(pretty_format_batches(&result.batches)?.to_string())
        }
        Format::Csv => {
            let mut out = Vec::new();
            {
                let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut out);
                if result.batches.is_empty() {
                    writer.write(&RecordBatch::new_empty(result.schema.clone()))?;
                }
                for batch in &result.batches {
                    writer.write(batch)?;
                }
            }
            Ok(String::from_utf8_lossy(&out).into_owned())
        }
        Format::Json => {
            let mut out = Vec::new();
            {
                let mut writer = datafusion::arrow::json::ArrayWriter::new(&mut out);
                for batch in &result.batches {
                    writer.write(batch)?;
                }
                writer.finish()?;
            }
            if out.is_empty() {
                out.extend_from_slice(b"[]");
            }
            Ok(String::from_utf8_lossy(&out).into_owned())
        }
    }
}

/// Every row as display strings (`NULL` for nulls), in result order.
pub fn rows(result: &QueryResult) -> Result<Vec<Vec<String>>, ArrowError> {
    Ok(cells(&result.batches, &FormatOptions::default())?
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|cell| cell.unwrap_or_else(|| "NULL".to_owned()))
                .collect()
        })
        .collect())
}

/// Every cell of `batches` in result order as `options` formats it, `None` for a null.
pub fn cells(
    batches: &[RecordBatch],
    options: &FormatOptions<'_>,
) -> Result<Vec<Vec<Option<String>>>, ArrowError> {
    let mut rows = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .zip(&formatters)
                    .map(|(column, f)| (!column.is_null(row)).then(|| f.value(row).to_string()))
                    .collect(),
            );
        }
    }
    Ok(rows)
}
