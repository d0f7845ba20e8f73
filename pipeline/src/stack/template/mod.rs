//! The stack rendered as a CloudFormation template (JSON), for real AWS.
//!
//! Names with `{account_id}` or `{region}` become `Fn::Sub` strings, so one template deploys to
//! any account and region. Function code comes from parameters (bucket and keys), which the
//! deploy command fills after uploading the zips. [`Template::without`] drops resource types an
//! emulator does not support (LocalStack community has no Glue or Athena), together with the
//! outputs that name them.

mod iam;

use serde_json::{Map, Value, json};

use super::names::to_cfn_sub;
use super::{CatalogMode, Stack};
use crate::etl::row::ROW_COLUMNS;

/// Logical ids, shared with the provisioner and the audit.
pub mod ids {
    /// The S3 bucket.
    pub const BUCKET: &str = "LogBucket";
    /// Its policy.
    pub const BUCKET_POLICY: &str = "LogBucketPolicy";
    /// The log group the agents write to.
    pub const LOG_GROUP: &str = "LogGroup";
    /// The subscription filter.
    pub const SUBSCRIPTION: &str = "LogSubscription";
    /// The ETL function.
    pub const ETL_FUNCTION: &str = "EtlFunction";
    /// Permission for CloudWatch Logs to invoke it.
    pub const ETL_PERMISSION: &str = "EtlInvokePermission";
    /// Its role.
    pub const ETL_ROLE: &str = "EtlRole";
    /// The onboarding function.
    pub const ONBOARDING_FUNCTION: &str = "OnboardingFunction";
    /// Permission for EventBridge to invoke it.
    pub const ONBOARDING_PERMISSION: &str = "OnboardingInvokePermission";
    /// Its role.
    pub const ONBOARDING_ROLE: &str = "OnboardingRole";
    /// The EventBridge rule.
    pub const RULE: &str = "OnboardingRule";
    /// The Firehose stream.
    pub const DELIVERY_STREAM: &str = "DeliveryStream";
    /// The role Firehose assumes.
    pub const FIREHOSE_ROLE: &str = "FirehoseRole";
    /// Firehose's own error log group.
    pub const FIREHOSE_LOG_GROUP: &str = "FirehoseErrorLogGroup";
    /// Its stream.
    pub const FIREHOSE_LOG_STREAM: &str = "FirehoseErrorLogStream";
    /// The Linux agent configuration.
    pub const LINUX_PARAMETER: &str = "LinuxAgentConfigParameter";
    /// The Windows agent configuration.
    pub const WINDOWS_PARAMETER: &str = "WindowsAgentConfigParameter";
    /// The Glue database.
    pub const DATABASE: &str = "GlueDatabase";
    /// The crawler (crawler mode).
    pub const CRAWLER: &str = "GlueCrawler";
    /// The crawler's role.
    pub const CRAWLER_ROLE: &str = "CrawlerRole";
    /// The projected table (projection mode).
    pub const TABLE: &str = "GlueTable";
    /// The Athena workgroup.
    pub const WORKGROUP: &str = "AthenaWorkGroup";
}

/// Largest value of a Standard-tier SSM parameter, bytes.
pub const SSM_STANDARD_MAX_BYTES: usize = 4096;
/// Resource types LocalStack community cannot create through CloudFormation on our machines:
/// Glue and Athena are not in the community edition, and a Lambda function's creation fetches
/// LocalStack's runtime from GitHub, which fails without internet. Resources that refer to
/// them (permissions, the subscription filter, the rule) go with them.
pub const LOCALSTACK_UNSUPPORTED: [&str; 3] =
    ["AWS::Glue::", "AWS::Athena::", "AWS::Lambda::Function"];

/// A rendered template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(pub Value);

impl Template {
    /// Pretty JSON with a trailing newline, as checked in at `deploy/template.json`.
    pub fn to_json_pretty(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.0).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The resources, by logical id.
    pub fn resources(&self) -> Option<&Map<String, Value>> {
        self.0.get("Resources")?.as_object()
    }

    /// A copy without resources whose type starts with one of `type_prefixes`, without the
    /// resources that refer to a removed one (transitively), and without the outputs that
    /// name them. Returns the template and the logical ids removed, in removal order.
    pub fn without(&self, type_prefixes: &[&str]) -> (Self, Vec<String>) {
        let mut copy = self.0.clone();
        let mut removed: Vec<String> = Vec::new();
        if let Some(resources) = copy.get_mut("Resources").and_then(Value::as_object_mut) {
            resources.retain(|id, resource| {
                let kind = resource
                    .get("Type")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let keep = !type_prefixes.iter().any(|p| kind.starts_with(p));
                if !keep {
                    removed.push(id.clone());
                }
                keep
            });
            loop {
                let dependent: Vec<String> = resources
                    .iter()
                    .filter(|(_, resource)| removed.iter().any(|id| refers_to(resource, id)))
                    .map(|(id, _)| id.clone())
                    .collect();
                if dependent.is_empty() {
                    break;
                }
                for id in dependent {
                    resources.remove(&id);
                    removed.push(id);
                }
            }
        }
        if let Some(outputs) = copy.get_mut("Outputs").and_then(Value::as_object_mut) {
            outputs.retain(|_, output| !removed.iter().any(|id| refers_to(output, id)));
        }
        (Self(copy), removed)
    }
}

/// Whether `value` names the resource `id`: `Ref`, `Fn::GetAtt`, `DependsOn` or `${id}` /
/// `${id.Attribute}` inside an `Fn::Sub` string.
fn refers_to(value: &Value, id: &str) -> bool {
    match value {
        Value::String(s) => {
            s == id || s.contains(&format!("${{{id}}}")) || s.contains(&format!("${{{id}."))
        }
        Value::Array(items) => items.iter().any(|v| refers_to(v, id)),
        Value::Object(map) => map.values().any(|v| refers_to(v, id)),
        _ => false,
    }
}

fn sub(text: String) -> Value {
    if text.contains("${") {
        json!({ "Fn::Sub": text })
    } else {
        Value::String(text)
    }
}

fn get_att(id: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [id, attribute] })
}

fn reference(id: &str) -> Value {
    json!({ "Ref": id })
}

/// The static part of the data prefix (the table's root), e.g. `logs/`.
pub fn data_root(prefix: &str) -> &str {
    prefix.split("!{").next().unwrap_or_default()
}

/// The SQL of a saved query with `{table}` filled in.
pub fn saved_query_sql(stack: &Stack, sql: &str) -> String {
    let catalog = &stack.definition.catalog;
    sql.replace(
        "{table}",
        &format!("{}.{}", catalog.database, catalog.table),
    )
}

/// Renders the whole stack.
pub fn render(stack: &Stack) -> Template {
    let d = &stack.definition;
    let account = d.account.name.as_str();
    let bucket_name = to_cfn_sub(&d.bucket.name, account);
    let log_group_name = to_cfn_sub(&d.logs.group_name, account);
    let mut resources = Map::new();
    let mut add = |id: &str, kind: &str, properties: Value| {
        resources.insert(
            id.to_owned(),
            json!({ "Type": kind, "Properties": properties }),
        );
    };

    let mut lifecycle_rule = json!({
        "Id": "tiers-then-expire",
        "Status": "Enabled",
        "ExpirationInDays": d.bucket.expiration_days,
        "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 7 },
    });
    if !d.bucket.transitions.is_empty() {
        lifecycle_rule["Transitions"] = d
            .bucket
            .transitions
            .iter()
            .map(|t| json!({ "StorageClass": t.storage_class, "TransitionInDays": t.days }))
            .collect();
    }
    add(
        ids::BUCKET,
        "AWS::S3::Bucket",
        json!({
            "BucketName": sub(bucket_name),
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": true, "BlockPublicPolicy": true,
                "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
            },
            "BucketEncryption": { "ServerSideEncryptionConfiguration": [
                { "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" }, "BucketKeyEnabled": true }
            ]},
            "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] },
            "LifecycleConfiguration": { "Rules": [lifecycle_rule] },
        }),
    );
    add(
        ids::BUCKET_POLICY,
        "AWS::S3::BucketPolicy",
        json!({
            "Bucket": reference(ids::BUCKET),
            "PolicyDocument": iam::bucket_policy(stack),
        }),
    );

    add(
        ids::LOG_GROUP,
        "AWS::Logs::LogGroup",
        json!({
            "LogGroupName": sub(log_group_name),
            "RetentionInDays": d.logs.retention_days,
        }),
    );
    resources.insert(
        ids::SUBSCRIPTION.to_owned(),
        json!({
            "Type": "AWS::Logs::SubscriptionFilter",
            "DependsOn": ids::ETL_PERMISSION,
            "Properties": {
                "FilterName": d.logs.subscription_filter_name,
                "LogGroupName": reference(ids::LOG_GROUP),
                "FilterPattern": d.logs.filter_pattern,
                "DestinationArn": get_att(ids::ETL_FUNCTION, "Arn"),
            },
        }),
    );
    let mut add = |id: &str, kind: &str, properties: Value| {
        resources.insert(
            id.to_owned(),
            json!({ "Type": kind, "Properties": properties }),
        );
    };
    add(
        ids::ETL_PERMISSION,
        "AWS::Lambda::Permission",
        json!({
            "FunctionName": get_att(ids::ETL_FUNCTION, "Arn"),
            "Action": "lambda:InvokeFunction",
            "Principal": "logs.amazonaws.com",
            "SourceAccount": reference("AWS::AccountId"),
            "SourceArn": get_att(ids::LOG_GROUP, "Arn"),
        }),
    );
    add(
        ids::ETL_FUNCTION,
        "AWS::Lambda::Function",
        json!({
            "FunctionName": d.logs.etl_function_name,
            "Description": "CloudWatch Logs subscription payloads to JSON rows, to Firehose",
            "Runtime": "provided.al2023",
            "Handler": "bootstrap",
            "Architectures": [{ "Ref": "FunctionArchitecture" }],
            "MemorySize": 512,
            "Timeout": 120,
            "Code": { "S3Bucket": reference("CodeBucket"), "S3Key": reference("EtlCodeKey") },
            "Role": get_att(ids::ETL_ROLE, "Arn"),
            "Environment": { "Variables": {
                "FIREHOSE_DELIVERY_STREAM": reference(ids::DELIVERY_STREAM),
                "RUST_LOG": "info",
            }},
        }),
    );
    add(ids::ETL_ROLE, "AWS::IAM::Role", iam::etl_role(stack));

    add(
        ids::ONBOARDING_FUNCTION,
        "AWS::Lambda::Function",
        json!({
            "FunctionName": d.onboarding.function_name,
            "Description": "EC2 running -> tag check -> CloudWatch agent installed and configured via SSM",
            "Runtime": "provided.al2023",
            "Handler": "bootstrap",
            "Architectures": [{ "Ref": "FunctionArchitecture" }],
            "MemorySize": 256,
            "Timeout": 900,
            "Code": { "S3Bucket": reference("CodeBucket"), "S3Key": reference("OnboardingCodeKey") },
            "Role": get_att(ids::ONBOARDING_ROLE, "Arn"),
            "Environment": { "Variables": {
                "MANAGEMENT_TAG_KEY": d.onboarding.tag_key,
                "MANAGEMENT_TAG_VALUE": d.onboarding.tag_value,
                "LINUX_AGENT_CONFIG_PARAMETER": reference(ids::LINUX_PARAMETER),
                "WINDOWS_AGENT_CONFIG_PARAMETER": reference(ids::WINDOWS_PARAMETER),
                "RUST_LOG": "info",
            }},
        }),
    );
    add(
        ids::ONBOARDING_ROLE,
        "AWS::IAM::Role",
        iam::onboarding_role(stack),
    );
    add(
        ids::RULE,
        "AWS::Events::Rule",
        json!({
            "Name": d.onboarding.rule_name,
            "Description": "EC2 instances reaching running go to the onboarding function",
            "State": "ENABLED",
            "EventPattern": rule_event_pattern(),
            "Targets": [{ "Id": "onboarding", "Arn": get_att(ids::ONBOARDING_FUNCTION, "Arn") }],
        }),
    );
    add(
        ids::ONBOARDING_PERMISSION,
        "AWS::Lambda::Permission",
        json!({
            "FunctionName": get_att(ids::ONBOARDING_FUNCTION, "Arn"),
            "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com",
            "SourceArn": get_att(ids::RULE, "Arn"),
        }),
    );

    let f = &d.firehose;
    add(
        ids::FIREHOSE_LOG_GROUP,
        "AWS::Logs::LogGroup",
        json!({
            "LogGroupName": format!("/aws/kinesisfirehose/{}", f.stream_name),
            "RetentionInDays": 14,
        }),
    );
    add(
        ids::FIREHOSE_LOG_STREAM,
        "AWS::Logs::LogStream",
        json!({
            "LogGroupName": reference(ids::FIREHOSE_LOG_GROUP),
            "LogStreamName": "S3Delivery",
        }),
    );
    add(
        ids::FIREHOSE_ROLE,
        "AWS::IAM::Role",
        iam::firehose_role(stack),
    );
    add(
        ids::DELIVERY_STREAM,
        "AWS::KinesisFirehose::DeliveryStream",
        json!({
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
        }),
    );

    for (id, name, config, platform) in [
        (
            ids::LINUX_PARAMETER,
            &d.onboarding.linux_parameter,
            &stack.linux_agent_config,
            "Linux",
        ),
        (
            ids::WINDOWS_PARAMETER,
            &d.onboarding.windows_parameter,
            &stack.windows_agent_config,
            "Windows",
        ),
    ] {
        let value = config.to_json_pretty();
        let tier = if value.len() > SSM_STANDARD_MAX_BYTES {
            "Advanced"
        } else {
            "Standard"
        };
        add(
            id,
            "AWS::SSM::Parameter",
            json!({
                "Name": name,
                "Type": "String",
                "Tier": tier,
                "Description": format!("CloudWatch agent configuration for {platform} instances"),
                "Value": value,
            }),
        );
    }

    let catalog = &d.catalog;
    add(
        ids::DATABASE,
        "AWS::Glue::Database",
        json!({
            "CatalogId": reference("AWS::AccountId"),
            "DatabaseInput": { "Name": catalog.database, "Description": "Rows written by the log pipeline" },
        }),
    );
    let data_location = format!("s3://${{{}}}/{}", ids::BUCKET, data_root(&f.prefix));
    match catalog.mode {
        CatalogMode::Crawler => {
            add(
                ids::CRAWLER_ROLE,
                "AWS::IAM::Role",
                iam::crawler_role(stack),
            );
            add(
                ids::CRAWLER,
                "AWS::Glue::Crawler",
                json!({
                    "Name": catalog.crawler_name,
                    "Role": get_att(ids::CRAWLER_ROLE, "Arn"),
                    "DatabaseName": reference(ids::DATABASE),
                    "Targets": { "S3Targets": [{ "Path": { "Fn::Sub": data_location } }] },
                    "Schedule": { "ScheduleExpression": catalog.crawler_schedule },
                    "SchemaChangePolicy": { "UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG" },
                    "RecrawlPolicy": { "RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY" },
                    "Configuration": "{\"Version\":1.0,\"Grouping\":{\"TableGroupingPolicy\":\"CombineCompatibleSchemas\"},\"CrawlerOutput\":{\"Partitions\":{\"AddOrUpdateBehavior\":\"InheritFromTable\"}}}",
                }),
            );
        }
        CatalogMode::Projection => {
            add(
                ids::TABLE,
                "AWS::Glue::Table",
                projected_table(stack, &data_location),
            );
        }
    }
    add(
        ids::WORKGROUP,
        "AWS::Athena::WorkGroup",
        json!({
            "Name": d.athena.workgroup,
            "Description": "Queries over the log pipeline's rows",
            "State": "ENABLED",
            "RecursiveDeleteOption": true,
            "WorkGroupConfiguration": {
                "EnforceWorkGroupConfiguration": true,
                "PublishCloudWatchMetricsEnabled": true,
                "ResultConfiguration": {
                    "OutputLocation": { "Fn::Sub": format!("s3://${{{}}}/{}", ids::BUCKET, d.athena.results_prefix) },
                    "EncryptionConfiguration": { "EncryptionOption": "SSE_S3" },
                },
            },
        }),
    );
    for (i, query) in d.athena.saved_queries.iter().enumerate() {
        add(
            &format!("SavedQuery{}", i + 1),
            "AWS::Athena::NamedQuery",
            json!({
                "Name": query.name,
                "Description": query.description,
                "Database": reference(ids::DATABASE),
                "WorkGroup": reference(ids::WORKGROUP),
                "QueryString": saved_query_sql(stack, &query.sql),
            }),
        );
    }

    Template(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "Log pipeline for account {account}: EC2 onboarding, CloudWatch Logs, ETL, Firehose, S3, Glue, Athena. Rendered from the stack definition by `loglab render`; do not edit by hand."
        ),
        "Parameters": {
            "CodeBucket": { "Type": "String", "Description": "Bucket holding the functions' zip files" },
            "EtlCodeKey": { "Type": "String", "Description": "Key of the ETL function's zip" },
            "OnboardingCodeKey": { "Type": "String", "Description": "Key of the onboarding function's zip" },
            "FunctionArchitecture": {
                "Type": "String", "Default": "x86_64", "AllowedValues": ["x86_64", "arm64"],
                "Description": "Instruction set the bootstrap binaries were built for",
            },
            "ReaderRoleArn": {
                "Type": "String", "Default": "",
                "Description": "Optional role (analysts, Athena users) granted read access to the bucket",
            },
        },
        "Conditions": {
            "HasReaderRole": { "Fn::Not": [{ "Fn::Equals": [{ "Ref": "ReaderRoleArn" }, ""] }] },
        },
        "Resources": resources,
        "Outputs": {
            "BucketName": { "Value": reference(ids::BUCKET) },
            "LogGroupName": { "Value": reference(ids::LOG_GROUP) },
            "DeliveryStreamName": { "Value": reference(ids::DELIVERY_STREAM) },
            "EtlFunctionArn": { "Value": get_att(ids::ETL_FUNCTION, "Arn") },
            "OnboardingFunctionArn": { "Value": get_att(ids::ONBOARDING_FUNCTION, "Arn") },
            "GlueDatabaseName": { "Value": reference(ids::DATABASE) },
            "AthenaWorkGroupName": { "Value": reference(ids::WORKGROUP) },
        },
    }))
}

/// The EventBridge pattern of the onboarding rule.
pub fn rule_event_pattern() -> Value {
    json!({
        "source": ["aws.ec2"],
        "detail-type": ["EC2 Instance State-change Notification"],
        "detail": { "state": ["running"] },
    })
}

fn projected_table(stack: &Stack, data_location: &str) -> Value {
    let catalog = &stack.definition.catalog;
    let columns: Vec<Value> = ROW_COLUMNS
        .iter()
        .map(|(name, kind)| json!({ "Name": name, "Type": kind }))
        .collect();
    json!({
        "CatalogId": reference("AWS::AccountId"),
        "DatabaseName": reference(ids::DATABASE),
        "TableInput": {
            "Name": catalog.table,
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{ "Name": "datehour", "Type": "string" }],
            "Parameters": {
                "classification": "json",
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
                "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                "SerdeInfo": { "SerializationLibrary": "org.apache.hive.hcatalog.data.JsonSerDe" },
            },
        },
    })
}
