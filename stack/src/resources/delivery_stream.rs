//! `AWS::KinesisFirehose::DeliveryStream`: the Direct PUT stream the ETL function writes rows
//! to, delivering to the bucket with the definition's buffering, compression and prefixes, and
//! (`[firehose.format_conversion]`) converting the rows to Parquet against the stack's Glue
//! table.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::sdk::{err, existing, int, text};
use super::{OnEmulator, Reference, ResourceType, Target, entry};
use crate::cfn::{get_att, ids, reference};
use crate::clients::{Clients, ProvisionError};
use crate::{Names, Placement, Stack};

/// Firehose delivery streams.
pub struct DeliveryStream;

#[async_trait]
impl ResourceType for DeliveryStream {
    fn type_name(&self) -> &'static str {
        "AWS::KinesisFirehose::DeliveryStream"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let f = &stack.definition.firehose;
        let mut properties = json!({
            "DeliveryStreamName": f.stream_name,
            "DeliveryStreamType": "DirectPut",
            "ExtendedS3DestinationConfiguration": {
                "BucketARN": get_att(ids::BUCKET, "Arn"),
                "RoleARN": get_att(ids::FIREHOSE_ROLE, "Arn"),
                "Prefix": f.prefix,
                "ErrorOutputPrefix": f.error_prefix,
                "BufferingHints": { "SizeInMBs": f.buffer_size_mb, "IntervalInSeconds": f.buffer_interval_seconds },
                "CompressionFormat": f.compression,
                "CloudWatchLoggingOptions": {
                    "Enabled": true,
                    "LogGroupName": reference(ids::FIREHOSE_LOG_GROUP),
                    "LogStreamName": reference(ids::FIREHOSE_LOG_STREAM),
                },
            },
        });
        if let Some(conversion) = &f.format_conversion {
            properties["ExtendedS3DestinationConfiguration"]["DataFormatConversionConfiguration"] =
                conversion_configuration(conversion);
        }
        vec![(
            ids::DELIVERY_STREAM.to_owned(),
            entry(self.type_name(), properties),
        )]
    }

    fn apply_order(&self) -> u8 {
        6
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::Provisioned
    }

    /// The format conversion: its schema is a Glue table, which LocalStack community does not
    /// have; the harness's Firehose model converts instead (`standins::firehose`).
    fn emulator_omitted_properties(&self) -> &'static [&'static str] {
        &["/ExtendedS3DestinationConfiguration/DataFormatConversionConfiguration"]
    }

    fn references(&self, _: &Stack, names: &Names, placement: &Placement) -> Vec<Reference> {
        vec![Reference::new(
            ids::DELIVERY_STREAM,
            &names.delivery_stream,
            format!(
                "arn:aws:firehose:{}:{}:deliverystream/{}",
                placement.region, placement.account_id, names.delivery_stream
            ),
        )]
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        read_stream(clients, id, &text(desired, "DeliveryStreamName")).await
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        write_stream(at, actual).await
    }
}

/// `DataFormatConversionConfiguration`: a JSON SerDe reads each row against the stack's Glue
/// table (its latest version) and the ParquetSerDe writes it.
fn conversion_configuration(conversion: &crate::definition::FormatConversion) -> Value {
    let deserializer = if conversion.deserializer == "openx" {
        json!({ "OpenXJsonSerDe": {} })
    } else {
        json!({ "HiveJsonSerDe": {} })
    };
    json!({
        "Enabled": conversion.enabled,
        "InputFormatConfiguration": { "Deserializer": deserializer },
        "OutputFormatConfiguration": {
            "Serializer": { "ParquetSerDe": { "Compression": conversion.parquet_compression } },
        },
        "SchemaConfiguration": {
            "CatalogId": reference("AWS::AccountId"),
            "DatabaseName": reference(ids::DATABASE),
            "TableName": reference(ids::TABLE),
            "Region": reference("AWS::Region"),
            "RoleARN": get_att(ids::FIREHOSE_ROLE, "Arn"),
            "VersionId": "LATEST",
        },
    })
}

async fn read_stream(
    clients: &Clients,
    id: &str,
    name: &str,
) -> Result<Option<Value>, ProvisionError> {
    let described = clients
        .firehose
        .describe_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await;
    let Some(out) = existing(
        described,
        |s| s.is_resource_not_found_exception(),
        id,
        "DescribeDeliveryStream",
    )?
    else {
        return Ok(None);
    };
    let Some(description) = out.delivery_stream_description() else {
        return Ok(None);
    };
    let mut value = json!({ "DeliveryStreamName": name, "DeliveryStreamType": description.delivery_stream_type().as_str() });
    if let Some(s3) = description
        .destinations()
        .first()
        .and_then(|d| d.extended_s3_destination_description())
    {
        let mut destination = json!({
            "BucketARN": s3.bucket_arn(),
            "RoleARN": s3.role_arn(),
            "CompressionFormat": s3.compression_format().as_str(),
        });
        if let Some(prefix) = s3.prefix() {
            destination["Prefix"] = json!(prefix);
        }
        if let Some(prefix) = s3.error_output_prefix() {
            destination["ErrorOutputPrefix"] = json!(prefix);
        }
        if let Some(hints) = s3.buffering_hints() {
            destination["BufferingHints"] = json!({ "SizeInMBs": hints.size_in_mbs(), "IntervalInSeconds": hints.interval_in_seconds() });
        }
        if let Some(logging) = s3.cloud_watch_logging_options() {
            destination["CloudWatchLoggingOptions"] = json!({ "Enabled": logging.enabled(), "LogGroupName": logging.log_group_name(), "LogStreamName": logging.log_stream_name() });
        }
        value["ExtendedS3DestinationConfiguration"] = destination;
    }
    value["_version"] = json!(description.version_id());
    value["_destination"] = json!(
        description
            .destinations()
            .first()
            .map(|d| d.destination_id())
    );
    Ok(Some(value))
}

/// Creates the stream or updates its destination where it differs; returns what was written.
async fn write_stream(
    at: Target<'_>,
    actual: Option<&Value>,
) -> Result<Vec<String>, ProvisionError> {
    let (clients, id, desired) = (at.clients, at.id, at.desired);
    let mut written = Vec::new();
    let mut mark = |key: &str| written.push(key.to_owned());
    use aws_sdk_firehose::types as fh;
    let d = &desired["ExtendedS3DestinationConfiguration"];
    let hints = fh::BufferingHints::builder()
        .size_in_mbs(int(&d["BufferingHints"]["SizeInMBs"]))
        .interval_in_seconds(int(&d["BufferingHints"]["IntervalInSeconds"]))
        .build();
    let logging = fh::CloudWatchLoggingOptions::builder()
        .enabled(
            d["CloudWatchLoggingOptions"]["Enabled"]
                .as_bool()
                .unwrap_or(false),
        )
        .log_group_name(text(&d["CloudWatchLoggingOptions"], "LogGroupName"))
        .log_stream_name(text(&d["CloudWatchLoggingOptions"], "LogStreamName"))
        .build();
    let compression = fh::CompressionFormat::from(text(d, "CompressionFormat").as_str());
    match actual {
        None => {
            let config = fh::ExtendedS3DestinationConfiguration::builder()
                .bucket_arn(text(d, "BucketARN"))
                .role_arn(text(d, "RoleARN"))
                .prefix(text(d, "Prefix"))
                .error_output_prefix(text(d, "ErrorOutputPrefix"))
                .buffering_hints(hints)
                .compression_format(compression)
                .cloud_watch_logging_options(logging)
                .build()
                .map_err(err(id, "CreateDeliveryStream"))?;
            clients
                .firehose
                .create_delivery_stream()
                .delivery_stream_name(text(desired, "DeliveryStreamName"))
                .delivery_stream_type(fh::DeliveryStreamType::from(
                    text(desired, "DeliveryStreamType").as_str(),
                ))
                .extended_s3_destination_configuration(config)
                .send()
                .await
                .map_err(err(id, "CreateDeliveryStream"))?;
            mark("ExtendedS3DestinationConfiguration");
        }
        Some(actual) if actual.get("ExtendedS3DestinationConfiguration") != Some(d) => {
            let update = fh::ExtendedS3DestinationUpdate::builder()
                .bucket_arn(text(d, "BucketARN"))
                .role_arn(text(d, "RoleARN"))
                .prefix(text(d, "Prefix"))
                .error_output_prefix(text(d, "ErrorOutputPrefix"))
                .buffering_hints(hints)
                .compression_format(compression)
                .cloud_watch_logging_options(logging)
                .build();
            clients
                .firehose
                .update_destination()
                .delivery_stream_name(text(desired, "DeliveryStreamName"))
                .current_delivery_stream_version_id(text(actual, "_version"))
                .destination_id(text(actual, "_destination"))
                .extended_s3_destination_update(update)
                .send()
                .await
                .map_err(err(id, "UpdateDestination"))?;
            mark("ExtendedS3DestinationConfiguration");
        }
        Some(_) => {}
    }
    Ok(written)
}
