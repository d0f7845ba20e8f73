//! Table schemas inferred from NDJSON rows, as the Glue crawler's JSON classifier does: one
//! column per top-level key in first-seen order, each with the narrowest Hive type that holds
//! every value seen. Integers are `int` while they fit 32 bits and `bigint` beyond; they widen
//! to `double` next to fractions; any two other kinds meet at `string`; nulls say nothing (a
//! column only ever null is `string`).

use serde_json::Value;

/// A column's type, in Hive's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ColumnType {
    /// Only nulls so far.
    Unknown,
    /// `boolean`.
    Boolean,
    /// `int` (fits 32 bits).
    Int,
    /// `bigint`.
    BigInt,
    /// `double`.
    Double,
    /// `string` (also where kinds conflict, and for nested values, which rows do not carry).
    String,
}

impl ColumnType {
    /// The type of one JSON value.
    pub fn of(value: &Value) -> Self {
        match value {
            Value::Null => Self::Unknown,
            Value::Bool(_) => Self::Boolean,
            Value::Number(n) if n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()) => Self::Int,
            Value::Number(n) if n.is_i64() || n.is_u64() => Self::BigInt,
            Value::Number(_) => Self::Double,
            Value::String(_) | Value::Array(_) | Value::Object(_) => Self::String,
        }
    }

    /// The Hive type of a Parquet column read as Arrow (Athena's mapping for the types rows
    /// carry; anything else is read as `string`).
    pub fn of_arrow(data_type: &datafusion::arrow::datatypes::DataType) -> Self {
        use datafusion::arrow::datatypes::DataType;
        match data_type {
            DataType::Boolean => Self::Boolean,
            DataType::Int8 | DataType::Int16 | DataType::Int32 => Self::Int,
            DataType::Int64 => Self::BigInt,
            DataType::Float32 | DataType::Float64 => Self::Double,
            _ => Self::String,
        }
    }

    /// The narrowest type holding both.
    pub fn merge(self, other: Self) -> Self {
        match (self, other) {
            (a, b) if a == b => a,
            (Self::Unknown, x) | (x, Self::Unknown) => x,
            (Self::Int, Self::BigInt) | (Self::BigInt, Self::Int) => Self::BigInt,
            (Self::Int | Self::BigInt, Self::Double) | (Self::Double, Self::Int | Self::BigInt) => {
                Self::Double
            }
            _ => Self::String,
        }
    }

    /// The type a declared Hive type name stands for (`int`, `bigint`, `double`, `boolean`);
    /// any other name is read as `string`, as rows carry no other kinds.
    pub fn from_hive(name: &str) -> Self {
        match name {
            "boolean" => Self::Boolean,
            "int" => Self::Int,
            "bigint" => Self::BigInt,
            "double" => Self::Double,
            _ => Self::String,
        }
    }

    /// Hive's name; `string` for a column that was only ever null.
    pub fn hive_name(self) -> &'static str {
        match self {
            Self::Boolean => "boolean",
            Self::Int => "int",
            Self::BigInt => "bigint",
            Self::Double => "double",
            Self::Unknown | Self::String => "string",
        }
    }
}

/// Declared columns (name and Hive type name, as a Glue table declares them) typed as the
/// stand-in types them.
pub fn declared_columns(columns: &[(&str, &str)]) -> Vec<(String, ColumnType)> {
    columns
        .iter()
        .map(|(name, hive)| ((*name).to_owned(), ColumnType::from_hive(hive)))
        .collect()
}

/// The columns of rows, in first-seen order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// Name and type of each column.
    pub columns: Vec<(String, ColumnType)>,
}

impl Schema {
    /// Widens the schema with one row; a row that is not an object is refused with its kind.
    pub fn add_row(&mut self, row: &Value) -> Result<(), &'static str> {
        let Value::Object(fields) = row else {
            return Err(match row {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                Value::Null | Value::Object(_) => "null",
            });
        };
        self.add_fields(fields.iter().map(|(name, value)| (name.as_str(), value)));
        Ok(())
    }

    /// Widens the schema with one row's fields, in the row's order.
    pub fn add_fields<'a>(&mut self, fields: impl IntoIterator<Item = (&'a str, &'a Value)>) {
        self.add_kinds(
            fields
                .into_iter()
                .map(|(name, value)| (name, ColumnType::of(value))),
        );
    }

    /// Widens the schema with one row's fields, each with the type of its value, in the row's
    /// order. Rows of one table write their keys in the same order, so the column at the
    /// field's position is looked at first.
    pub fn add_kinds<'a>(&mut self, fields: impl IntoIterator<Item = (&'a str, ColumnType)>) {
        for (position, (name, kind)) in fields.into_iter().enumerate() {
            let found = match self.columns.get(position) {
                Some((n, _)) if n == name => Some(position),
                _ => self.columns.iter().position(|(n, _)| n == name),
            };
            match found {
                Some(i) => self.columns[i].1 = self.columns[i].1.merge(kind),
                None => self.columns.push((name.to_owned(), kind)),
            }
        }
    }

    /// Widens the schema with typed columns (a Parquet file's), as rows widen it.
    pub fn add_columns(&mut self, columns: impl IntoIterator<Item = (String, ColumnType)>) {
        for (name, kind) in columns {
            match self.columns.iter_mut().find(|(n, _)| *n == name) {
                Some((_, existing)) => *existing = existing.merge(kind),
                None => self.columns.push((name, kind)),
            }
        }
    }

    /// The type of a column.
    pub fn column(&self, name: &str) -> Option<ColumnType> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| *t)
    }
}

/// One NDJSON row's keys, in the order they are written, each with the type of its value: what
/// a crawler's sample needs of a row, read without building its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKinds<'a>(pub Vec<(std::borrow::Cow<'a, str>, ColumnType)>);

impl<'de> serde::Deserialize<'de> for RowKinds<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = RowKinds<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RowKinds<'de>, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(32));
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let Kind(kind) = map.next_value()?;
                    fields.push((key, kind));
                }
                Ok(RowKinds(fields))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// A value's [`ColumnType`], as [`ColumnType::of`] gives it, without building the value.
struct Kind(ColumnType);

impl<'de> serde::Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Kind;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Kind, E> {
                Ok(Kind(ColumnType::Unknown))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Kind, E> {
                Ok(Kind(ColumnType::Boolean))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Kind, E> {
                Ok(Kind(if i32::try_from(n).is_ok() {
                    ColumnType::Int
                } else {
                    ColumnType::BigInt
                }))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Kind, E> {
                Ok(Kind(if i32::try_from(n).is_ok() {
                    ColumnType::Int
                } else {
                    ColumnType::BigInt
                }))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Kind, E> {
                Ok(Kind(ColumnType::Double))
            }
            fn visit_str<E>(self, _: &str) -> Result<Kind, E> {
                Ok(Kind(ColumnType::String))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Kind(ColumnType::String))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Kind(ColumnType::String))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// One NDJSON row with its keys in the order they are written (a crawler names columns in
/// first-seen order; `serde_json::Value` would sort them).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedRow(pub Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for OrderedRow {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = OrderedRow;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<OrderedRow, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    fields.push(entry);
                }
                Ok(OrderedRow(fields))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn types_widen_as_the_crawler_widens_them() {
        let mut schema = Schema::default();
        for row in [
            json!({"a": 1, "b": "x", "c": null, "d": true, "f": 7}),
            json!({"a": 1.5, "b": 2, "e": {"nested": 1}, "f": 5_000_000_000i64}),
            json!({"d": false, "c": null}),
        ] {
            schema.add_row(&row).unwrap();
        }
        let names: Vec<_> = schema
            .columns
            .iter()
            .map(|(n, t)| (n.as_str(), t.hive_name()))
            .collect();
        assert_eq!(
            names,
            [
                ("a", "double"),
                ("b", "string"),
                ("c", "string"),
                ("d", "boolean"),
                ("f", "bigint"),
                ("e", "string")
            ]
        );
        assert_eq!(schema.column("c"), Some(ColumnType::Unknown));
        assert_eq!(Schema::default().add_row(&json!([1])), Err("an array"));
    }

    #[test]
    fn ordered_rows_keep_the_written_key_order() {
        let row: OrderedRow = serde_json::from_str(r#"{"z": 1, "a": null, "m": "x"}"#).unwrap();
        let mut schema = Schema::default();
        schema.add_fields(row.0.iter().map(|(n, v)| (n.as_str(), v)));
        let names: Vec<_> = schema.columns.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["z", "a", "m"]);
        let error = serde_json::from_str::<OrderedRow>("[1]").unwrap_err();
        assert!(
            error.to_string().contains("expected a JSON object"),
            "{error}"
        );
    }

    /// Athena's OpenX JSON SerDe lower-cases keys by default (`case.insensitive` TRUE) and
    /// refuses dots in column names unless `dots.in.keys` is set; the Hive JSON SerDe matches
    /// keys as written ("OpenX JSON SerDe", Athena User Guide). Every column the ETL writes is
    /// lower case without dots, so both SerDes and this stand-in's exact-key reader see the
    /// same columns.
    #[test]
    fn every_pipeline_column_reads_the_same_under_the_openx_and_hive_serdes() {
        for (name, _) in pipeline::etl::row::ROW_COLUMNS {
            assert_eq!(name, name.to_lowercase(), "{name} has upper case");
            assert!(!name.contains('.'), "{name} has a dot");
        }
    }

    #[test]
    fn the_pipelines_rows_infer_the_declared_columns() {
        let row = json!({
            "account_id": "000000000000", "log_group": "g", "log_stream": "s/i-1", "instance_id": "i-1",
            "source": "s", "event_id": "1", "event_timestamp_ms": 1_700_000_000_000i64,
            "event_time": "2023-11-14T22:13:20.000Z", "ingest_time": "2023-11-14T22:13:21.000Z",
            "part_index": 0, "part_count": 1, "message": "m"
        });
        let mut schema = Schema::default();
        schema.add_row(&row).unwrap();
        for (name, hive) in pipeline::etl::row::ROW_COLUMNS {
            if let Some(kind) = schema.column(name) {
                assert_eq!(kind.hive_name(), hive, "{name}");
            }
        }
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            Just(json!([1, {"a": [2]}])),
            Just(json!({"nested": {"b": null}})),
            (-1e9f64..1e9)
                .prop_filter("fractional", |f| f.fract() != 0.0)
                .prop_map(Value::from),
            "[a-z]{0,4}".prop_map(Value::from),
        ]
    }

    proptest! {
        /// The inferred types do not depend on row order, and every value fits its column.
        #[test]
        fn inference_is_order_independent_and_holds_every_value(
            rows in proptest::collection::vec(proptest::collection::btree_map("[a-c]", value(), 0..3), 0..12),
        ) {
            let rows: Vec<Value> = rows.into_iter().map(|m| Value::Object(m.into_iter().collect())).collect();
            let mut forward = Schema::default();
            rows.iter().for_each(|r| forward.add_row(r).unwrap());
            let mut backward = Schema::default();
            rows.iter().rev().for_each(|r| backward.add_row(r).unwrap());
            let sorted = |s: &Schema| { let mut c = s.columns.clone(); c.sort(); c };
            prop_assert_eq!(sorted(&forward), sorted(&backward));
            for row in &rows {
                for (name, value) in row.as_object().unwrap() {
                    let column = forward.column(name).unwrap();
                    prop_assert_eq!(column.merge(ColumnType::of(value)), column);
                }
            }
        }

        /// A row's kinds read without building its values are [`ColumnType::of`] each value,
        /// key for key in the order written (`OrderedRow` and `Value` the reference).
        #[test]
        fn kinds_are_the_types_of_the_values(
            fields in proptest::collection::vec(("[a-z]{1,3}", value()), 0..8),
        ) {
            let text = format!(
                "{{{}}}",
                fields
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let reference: OrderedRow = serde_json::from_str(&text).unwrap();
            let kinds: RowKinds<'_> = serde_json::from_str(&text).unwrap();
            let expected: Vec<(String, ColumnType)> = reference
                .0
                .iter()
                .map(|(k, v)| (k.clone(), ColumnType::of(v)))
                .collect();
            let found: Vec<(String, ColumnType)> =
                kinds.0.iter().map(|(k, t)| (k.to_string(), *t)).collect();
            prop_assert_eq!(found, expected);
        }
    }
}
