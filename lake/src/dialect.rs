//! Athena (Trino) functions that DataFusion lacks, registered under Athena's names so that the
//! stack's saved queries run unchanged on both engines. The differences that remain are listed
//! in `docs/queries.md` and covered by `lake/tests/dialect.rs`.
//!
//! - `regexp_extract(string, pattern [, group])`: the first match (or its group), NULL when
//!   nothing matches. Patterns are Rust `regex` syntax: Java's look-around and
//!   back-references are refused with an error naming the pattern.
//! - `from_iso8601_timestamp(string)`: an ISO-8601 string as a UTC timestamp (milliseconds).
//! - `json_extract_scalar(json, path)`: the scalar (string, number or boolean, as a string)
//!   at a JSONPath, NULL when the text is not JSON or the path leads to nothing, an object, an
//!   array or null (Trino's rules). Paths: `$` then `.key`, `["key"]` or `[index]` steps; any
//!   other path is refused with an error naming it.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray as _, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion::prelude::SessionContext;

/// Registers the Athena functions on `context`.
pub fn register(context: &SessionContext) {
    context.register_udf(ScalarUDF::from(RegexpExtract::new()));
    context.register_udf(ScalarUDF::from(FromIso8601Timestamp::new()));
    context.register_udf(ScalarUDF::from(JsonExtractScalar::new()));
}

/// `regexp_extract(string, pattern [, group])`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexpExtract {
    signature: Signature,
}

impl RegexpExtract {
    fn new() -> Self {
        Self {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Exact(vec![DataType::Utf8, DataType::Utf8]),
                    TypeSignature::Exact(vec![DataType::Utf8, DataType::Utf8, DataType::Int64]),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

fn compile(pattern: &str) -> Result<regex::Regex> {
    match regex::Regex::new(pattern) {
        Ok(regex) => Ok(regex),
        Err(e) => exec_err!("regexp_extract: pattern {pattern:?} is not supported: {e}"),
    }
}

impl ScalarUDFImpl for RegexpExtract {
    fn name(&self) -> &str {
        "regexp_extract"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let group = match args.args.get(2) {
            None => 0,
            Some(ColumnarValue::Scalar(ScalarValue::Int64(Some(group)))) => usize::try_from(*group)
                .or_else(|_| exec_err!("regexp_extract: group {group} is negative"))?,
            Some(_) => return plan_err!("regexp_extract: the group must be a constant"),
        };
        let strings = args.args[0].to_array(rows)?;
        let patterns = args.args[1].to_array(rows)?;
        let (strings, patterns) = (strings.as_string::<i32>(), patterns.as_string::<i32>());
        let mut compiled: Option<(String, regex::Regex)> = None;
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            if strings.is_null(row) || patterns.is_null(row) {
                out.push(None);
                continue;
            }
            let pattern = patterns.value(row);
            if compiled.as_ref().is_none_or(|(p, _)| p != pattern) {
                let regex = compile(pattern)?;
                if group > regex.captures_len() - 1 {
                    return exec_err!(
                        "regexp_extract: pattern {pattern:?} has {} groups, not {group}",
                        regex.captures_len() - 1
                    );
                }
                compiled = Some((pattern.to_owned(), regex));
            }
            let Some((_, regex)) = &compiled else {
                continue;
            };
            out.push(
                regex
                    .captures(strings.value(row))
                    .and_then(|c| c.get(group))
                    .map(|m| m.as_str().to_owned()),
            );
        }
        let array: ArrayRef = Arc::new(StringArray::from(out));
        answer(array, all_scalar(&args))
    }
}

/// Whether every argument is a constant (the answer is then a constant too).
fn all_scalar(args: &ScalarFunctionArgs) -> bool {
    args.args
        .iter()
        .all(|a| matches!(a, ColumnarValue::Scalar(_)))
}

/// A function's answer: its one value when the arguments were constants, else the array.
fn answer(array: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    if scalar {
        return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &array, 0,
        )?));
    }
    Ok(ColumnarValue::Array(array))
}

/// `from_iso8601_timestamp(string)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromIso8601Timestamp {
    signature: Signature,
}

impl FromIso8601Timestamp {
    fn new() -> Self {
        Self {
            signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
        }
    }
}

fn utc_millis() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

impl ScalarUDFImpl for FromIso8601Timestamp {
    fn name(&self) -> &str {
        "from_iso8601_timestamp"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(utc_millis())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args);
        let strings = args.args[0].to_array(args.number_rows)?;
        answer(cast(&strings, &utc_millis())?, scalar)
    }
}

/// `json_extract_scalar(json, path)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonExtractScalar {
    signature: Signature,
}

impl JsonExtractScalar {
    fn new() -> Self {
        Self {
            signature: Signature::exact(
                vec![DataType::Utf8, DataType::Utf8],
                Volatility::Immutable,
            ),
        }
    }
}

/// One step of a JSONPath.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The steps of `path` (`$.a["b"][0]`), or an error naming it.
fn json_path(path: &str) -> Result<Vec<Step>> {
    let refuse = || {
        exec_err!(
            "json_extract_scalar: path {path:?} is not supported (use $ with .key, [\"key\"] or [index] steps)"
        )
    };
    let Some(mut rest) = path.trim().strip_prefix('$') else {
        return refuse();
    };
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(after.len());
            if end == 0 {
                return refuse();
            }
            steps.push(Step::Key(after[..end].to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix("[\"") {
            let Some(end) = after.find("\"]") else {
                return refuse();
            };
            steps.push(Step::Key(after[..end].to_owned()));
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let Some(end) = after.find(']') else {
                return refuse();
            };
            let Ok(index) = after[..end].trim().parse() else {
                return refuse();
            };
            steps.push(Step::Index(index));
            rest = &after[end + 1..];
        } else {
            return refuse();
        }
    }
    Ok(steps)
}

/// The scalar at `steps` in `json`, as Trino's `json_extract_scalar` gives it.
fn extract_scalar(json: &str, steps: &[Step]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let mut at = &value;
    for step in steps {
        at = match step {
            Step::Key(key) => at.as_object()?.get(key)?,
            Step::Index(index) => at.as_array()?.get(*index)?,
        };
    }
    match at {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl ScalarUDFImpl for JsonExtractScalar {
    fn name(&self) -> &str {
        "json_extract_scalar"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let scalar = all_scalar(&args);
        let texts = args.args[0].to_array(rows)?;
        let paths = args.args[1].to_array(rows)?;
        let (texts, paths) = (texts.as_string::<i32>(), paths.as_string::<i32>());
        let mut parsed: Option<(String, Vec<Step>)> = None;
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            if texts.is_null(row) || paths.is_null(row) {
                out.push(None);
                continue;
            }
            let path = paths.value(row);
            if parsed.as_ref().is_none_or(|(p, _)| p != path) {
                parsed = Some((path.to_owned(), json_path(path)?));
            }
            out.push(
                parsed
                    .as_ref()
                    .and_then(|(_, steps)| extract_scalar(texts.value(row), steps)),
            );
        }
        answer(Arc::new(StringArray::from(out)), scalar)
    }
}
