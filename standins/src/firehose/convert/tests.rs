//! The conversion against the Developer Guide's statements ("Convert input data format",
//! "Handling errors for data format conversion", "Configure Amazon S3 object name format").

use bytes::Bytes;
use datafusion::arrow::array::{Array as _, AsArray as _};
use datafusion::arrow::datatypes::{Int32Type, Int64Type};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::Compression;

use super::*;

fn columns() -> Vec<(String, ColumnType)> {
    vec![
        ("message".into(), ColumnType::String),
        ("part_index".into(), ColumnType::Int),
        ("ms".into(), ColumnType::BigInt),
    ]
}

fn table() -> CatalogTable {
    CatalogTable {
        catalog_id: "123456789012".into(),
        database: "ccp_logs".into(),
        table: "logs".into(),
        region: "eu-west-1".into(),
    }
}

fn conversion(compression: &str) -> Conversion {
    Conversion::new(&columns(), compression, table()).unwrap()
}

/// The records concatenated and where each ends.
fn records(list: &[&str]) -> (Vec<u8>, Vec<usize>) {
    let mut data = Vec::new();
    let mut ends = Vec::new();
    for record in list {
        data.extend_from_slice(record.as_bytes());
        ends.push(data.len());
    }
    (data, ends)
}

fn read_back(parquet: &[u8]) -> RecordBatch {
    let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(parquet.to_vec()))
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    concat_batches(&batches[0].schema(), &batches).unwrap()
}

/// "When combining multiple JSON documents into the same record … `{"a": 1}{"b": 1}`" is valid
/// input; attributes the schema does not declare are not in the converted data.
#[test]
fn documents_of_a_record_become_rows_with_the_tables_columns_only() {
    let (data, ends) = records(&[
        "{\"message\":\"a\",\"part_index\":1,\"ms\":5000000000,\"extra\":true}{\"message\":\"b\"}",
        "{\"message\":\"c\\n\\u00e9\",\"part_index\":3,\"ms\":7}\n",
    ]);
    let converted = conversion("SNAPPY").convert(&data, &ends).unwrap();
    assert!(converted.failed.is_empty(), "{:?}", converted.failed);
    assert_eq!(converted.rows, 3);
    let parquet = converted.parquet.unwrap();
    assert_eq!(&parquet[..4], b"PAR1");
    let batch = read_back(&parquet);
    assert_eq!(batch.num_columns(), 3, "no column for `extra`");
    let messages = batch.column(0).as_string::<i32>();
    assert_eq!(
        (messages.value(0), messages.value(1), messages.value(2)),
        ("a", "b", "c\né")
    );
    let parts = batch.column(1).as_primitive::<Int32Type>();
    assert_eq!(parts.value(0), 1);
    assert!(parts.is_null(1), "a column the document lacks is null");
    assert_eq!(
        batch.column(2).as_primitive::<Int64Type>().value(0),
        5_000_000_000
    );
}

/// The ParquetSerDe's compression is the column chunks' codec (SNAPPY by default, per the API
/// Reference's ParquetSerDe), not an object-level compression.
#[test]
fn the_parquet_serde_compression_is_the_column_codec() {
    let (data, ends) = records(&["{\"message\":\"a\",\"part_index\":1,\"ms\":2}"]);
    for (name, codec) in [
        ("SNAPPY", Compression::SNAPPY),
        ("UNCOMPRESSED", Compression::UNCOMPRESSED),
    ] {
        let parquet = conversion(name)
            .convert(&data, &ends)
            .unwrap()
            .parquet
            .unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(parquet)).unwrap();
        let column = reader.metadata().row_group(0).column(0).compression();
        assert_eq!(column, codec, "{name}");
    }
    assert!(Conversion::new(&columns(), "ZSTD", table()).is_err());
}

/// "When Amazon Data Firehose can't parse or deserialize a record (for example, when the data
/// doesn't match the schema), it writes it to Amazon S3 with an error prefix", one document per
/// record in the guide's schema; the other records still convert.
#[test]
fn records_that_do_not_convert_are_set_aside_with_the_guides_error_document() {
    let (data, ends) = records(&[
        "{\"message\":\"kept\",\"part_index\":1,\"ms\":2}",
        "[{\"message\":\"an array\"}]",
        "{\"message\":\"cut",
        "{\"message\":\"wrong kind\",\"part_index\":\"one\",\"ms\":2}",
        "{\"message\":\"kept too\"}",
    ]);
    let model = conversion("SNAPPY");
    let converted = model.convert(&data, &ends).unwrap();
    assert_eq!(converted.rows, 2);
    let codes: Vec<&str> = converted.failed.iter().map(|f| f.code).collect();
    assert_eq!(codes, [PARSE_ERROR, PARSE_ERROR, MALFORMED_DATA]);
    assert_eq!(converted.failed[0].data, b"[{\"message\":\"an array\"}]");
    let document: serde_json::Value =
        serde_json::from_str(&model.error_document(&converted.failed[2], 1_700_000_000_000))
            .unwrap();
    let mut keys: Vec<&str> = document
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "arrivalTimestamp",
            "attemptEndingTimestamp",
            "attemptsMade",
            "dataCatalogTable",
            "lastErrorCode",
            "lastErrorMessage",
            "rawData",
            "sequenceNumber",
            "subSequenceNumber"
        ]
    );
    let raw = base64::engine::general_purpose::STANDARD
        .decode(document["rawData"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw, converted.failed[2].data);
    assert_eq!(document["dataCatalogTable"]["tableName"], "logs");
    assert_eq!(
        document["dataCatalogTable"]["catalogArn"],
        "arn:aws:glue:eu-west-1:123456789012:catalog"
    );
}

/// "Choosing the JSON deserializer": the Hive JSON SerDe does not allow "fields that have
/// numerical types in the schema, but that are strings in the JSON. For example, if the schema
/// is (an int), and the JSON is {"a":"123"}, the Hive SerDe gives an error."
#[test]
fn the_hive_serde_refuses_a_numeric_string_that_openx_reads() {
    let (data, ends) = records(&[
        "{\"message\":\"number\",\"part_index\":\"123\",\"ms\":2}",
        "{\"message\":\"fine\",\"part_index\":4,\"ms\":2}",
    ]);
    let hive = conversion("SNAPPY").convert(&data, &ends).unwrap();
    assert_eq!(hive.rows, 1);
    assert_eq!(hive.failed.len(), 1);
    assert_eq!(hive.failed[0].code, MALFORMED_DATA);
    assert!(
        hive.failed[0].message.contains("part_index"),
        "{}",
        hive.failed[0].message
    );
    let openx = conversion("SNAPPY")
        .with_deserializer(Deserializer::OpenXJson)
        .convert(&data, &ends)
        .unwrap();
    assert_eq!((openx.rows, openx.failed.len()), (2, 0));
    let batch = read_back(&openx.parquet.unwrap());
    let part = batch
        .column_by_name("part_index")
        .unwrap()
        .as_primitive::<Int32Type>();
    assert_eq!((part.value(0), part.value(1)), (123, 4));
}

/// OpenXJsonSerDe (API Reference): `CaseInsensitive`, true by default, converts JSON keys to
/// lowercase before deserializing; the Hive SerDe matches them as written.
#[test]
fn the_openx_serde_lowercases_keys_and_the_hive_serde_does_not() {
    let (data, ends) = records(&["{\"Message\":\"upper\",\"PART_INDEX\":7}"]);
    let openx = conversion("SNAPPY")
        .with_deserializer(Deserializer::OpenXJson)
        .convert(&data, &ends)
        .unwrap();
    let batch = read_back(&openx.parquet.unwrap());
    assert_eq!(
        batch
            .column_by_name("message")
            .unwrap()
            .as_string::<i32>()
            .value(0),
        "upper"
    );
    let hive = conversion("SNAPPY").convert(&data, &ends).unwrap();
    let batch = read_back(&hive.parquet.unwrap());
    assert!(batch.column_by_name("message").unwrap().is_null(0));
}
