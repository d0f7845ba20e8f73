//! `AWS::Glue::Database`, `AWS::Glue::Crawler` and `AWS::Glue::Table`: the catalog of the
//! delivered rows, by a scheduled crawler or (projection mode) a declared table with partition
//! projection. Not in LocalStack community: they are applied to and audited at the harness's Glue
//! stand-in (`standins::glue`) where the run has one; the harness's crawler model runs the
//! crawler and catalogs the objects itself (`lake`).

use async_trait::async_trait;
use pipeline::etl::row::ROW_COLUMNS;
use serde_json::{Value, json};

use super::{OnEmulator, Reference, ResourceType, Target, entry, glue_sdk};
use crate::cfn::{data_root, get_att, ids, reference};
use crate::clients::ProvisionError;
use crate::{CatalogMode, Names, Placement, Stack};

const NOT_IN_COMMUNITY: &str =
    "not in LocalStack community; the harness catalogs the delivered objects itself";
/// The database, table and crawler: applied to and audited at the harness's Glue stand-in
/// where the run has one, as on AWS.
const THROUGH_STAND_IN: OnEmulator = OnEmulator::HarnessStandIn {
    service: super::StandInService::Glue,
    otherwise: NOT_IN_COMMUNITY,
};

/// `s3://${LogBucket}/<data root>`, for `Fn::Sub`.
fn data_location(stack: &Stack) -> String {
    format!(
        "s3://${{{}}}/{}",
        ids::BUCKET,
        data_root(&stack.definition.firehose.prefix)
    )
}

/// Glue databases.
pub struct Database;

#[async_trait]
impl ResourceType for Database {
    fn type_name(&self) -> &'static str {
        "AWS::Glue::Database"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let catalog = &stack.definition.catalog;
        let properties = json!({
            "CatalogId": reference("AWS::AccountId"),
            "DatabaseInput": { "Name": catalog.database, "Description": "Rows written by the log pipeline" },
        });
        vec![(
            ids::DATABASE.to_owned(),
            entry(self.type_name(), properties),
        )]
    }

    fn on_emulator(&self) -> OnEmulator {
        THROUGH_STAND_IN
    }

    fn apply_order(&self) -> u8 {
        8
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        glue_sdk::read_database(at).await
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        glue_sdk::write_database(at, actual).await
    }

    fn references(&self, stack: &Stack, _: &Names, _: &Placement) -> Vec<Reference> {
        vec![Reference::new(
            ids::DATABASE,
            &stack.definition.catalog.database,
            "",
        )]
    }
}

/// Glue crawlers (crawler mode).
pub struct Crawler;

#[async_trait]
impl ResourceType for Crawler {
    fn type_name(&self) -> &'static str {
        "AWS::Glue::Crawler"
    }

    fn checkov_skips(&self) -> &'static [(&'static str, &'static str)] {
        CRAWLER_CHECKOV_SKIPS
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let catalog = &stack.definition.catalog;
        if catalog.mode != CatalogMode::Crawler {
            return Vec::new();
        }
        let data_location = data_location(stack);
        let properties = json!({
            "Name": catalog.crawler_name,
            "Role": get_att(ids::CRAWLER_ROLE, "Arn"),
            "DatabaseName": reference(ids::DATABASE),
            "Targets": { "S3Targets": [{ "Path": { "Fn::Sub": data_location } }] },
            "Schedule": { "ScheduleExpression": catalog.crawler_schedule },
            "SchemaChangePolicy": { "UpdateBehavior": catalog.schema_update, "DeleteBehavior": catalog.schema_delete },
            "RecrawlPolicy": { "RecrawlBehavior": catalog.recrawl.glue_name() },
            "Configuration": "{\"Version\":1.0,\"Grouping\":{\"TableGroupingPolicy\":\"CombineCompatibleSchemas\"},\"CrawlerOutput\":{\"Partitions\":{\"AddOrUpdateBehavior\":\"InheritFromTable\"}}}",
        });
        vec![(ids::CRAWLER.to_owned(), entry(self.type_name(), properties))]
    }

    fn on_emulator(&self) -> OnEmulator {
        THROUGH_STAND_IN
    }

    fn apply_order(&self) -> u8 {
        9
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        glue_sdk::read_crawler(at).await
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        glue_sdk::write_crawler(at, actual).await
    }

    fn references(&self, stack: &Stack, _: &Names, _: &Placement) -> Vec<Reference> {
        vec![Reference::new(
            ids::CRAWLER,
            &stack.definition.catalog.crawler_name,
            "",
        )]
    }
}

/// Glue tables (projection mode).
pub struct Table;

#[async_trait]
impl ResourceType for Table {
    fn type_name(&self) -> &'static str {
        "AWS::Glue::Table"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        if stack.definition.catalog.mode != CatalogMode::Projection {
            return Vec::new();
        }
        let properties = projected_table(stack, &data_location(stack));
        vec![(ids::TABLE.to_owned(), entry(self.type_name(), properties))]
    }

    fn on_emulator(&self) -> OnEmulator {
        THROUGH_STAND_IN
    }

    fn apply_order(&self) -> u8 {
        9
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        glue_sdk::read_table(at).await
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        glue_sdk::write_table(at, actual).await
    }

    fn references(&self, stack: &Stack, _: &Names, _: &Placement) -> Vec<Reference> {
        vec![Reference::new(
            ids::TABLE,
            &stack.definition.catalog.table,
            "",
        )]
    }
}

fn projected_table(stack: &Stack, data_location: &str) -> Value {
    let catalog = &stack.definition.catalog;
    let columns: Vec<Value> = ROW_COLUMNS
        .iter()
        .map(|(name, kind)| json!({ "Name": name, "Type": kind }))
        .collect();
    // Parquet when Firehose converts the rows (Athena's Parquet SerDe and Hive's Parquet
    // formats, as the Firehose Developer Guide's conversion example declares them), else the
    // Hive JSON SerDe over text.
    let parquet = stack.definition.firehose.converts().is_some();
    let (classification, input, output, serde) = if parquet {
        (
            "parquet",
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        )
    } else {
        (
            "json",
            "org.apache.hadoop.mapred.TextInputFormat",
            "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "org.apache.hive.hcatalog.data.JsonSerDe",
        )
    };
    json!({
        "CatalogId": reference("AWS::AccountId"),
        "DatabaseName": reference(ids::DATABASE),
        "TableInput": {
            "Name": catalog.table,
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{ "Name": "datehour", "Type": "string" }],
            "Parameters": {
                "classification": classification,
                "projection.enabled": "true",
                "projection.datehour.type": "date",
                "projection.datehour.format": "yyyy/MM/dd/HH",
                "projection.datehour.range": format!("{},NOW", catalog.projection_start),
                "projection.datehour.interval": "1",
                "projection.datehour.interval.unit": "HOURS",
                "storage.location.template": { "Fn::Sub": format!("{data_location}${{!datehour}}/") },
            },
            "StorageDescriptor": {
                "Columns": columns,
                "Location": { "Fn::Sub": data_location },
                "InputFormat": input,
                "OutputFormat": output,
                "SerdeInfo": { "SerializationLibrary": serde },
            },
        },
    })
}

/// checkov findings on the crawler that the stack does not fix, with why.
const CRAWLER_CHECKOV_SKIPS: &[(&str, &str)] = &[(
    "CKV_AWS_195",
    "A Glue security configuration sets KMS keys for S3 output, job bookmarks and the crawler's CloudWatch logs. This crawler writes no S3 objects and has no bookmarks; its run logs go to /aws-glue/crawlers, which CloudWatch Logs encrypts at rest with its own keys. Add a security configuration with a customer-managed key where policy requires CMK-encrypted logs.",
)];
