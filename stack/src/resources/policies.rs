//! Least-privilege IAM: one role per function, one for Firehose, one for the crawler, and the
//! bucket policy (TLS only; only the Firehose role writes; only the readers read).

use serde_json::{Value, json};

use crate::Stack;
use crate::cfn::{data_root, get_att, ids, reference};

fn assume(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": service },
            "Action": "sts:AssumeRole",
        }],
    })
}

fn policy(name: &str, statements: Value) -> Value {
    json!({
        "PolicyName": name,
        "PolicyDocument": { "Version": "2012-10-17", "Statement": statements },
    })
}

/// Writing the function's own logs, and nothing else in CloudWatch Logs. The stack declares the
/// log group (with the stack's retention), so the function may not create one.
fn own_logs(function_name: &str) -> Value {
    json!({
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": { "Fn::Sub": format!(
            "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/aws/lambda/{function_name}:*"
        )},
    })
}

/// Lambda sends a failed asynchronous event to the function's dead-letter queue with the
/// function's own role (AWS Lambda developer guide, "Adding a dead-letter queue": the execution
/// role needs `sqs:SendMessage`).
fn dead_letters(queue: &str) -> Value {
    json!({
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": get_att(queue, "Arn"),
    })
}

pub(crate) fn etl_role(stack: &Stack) -> Value {
    let d = &stack.definition;
    json!({
        "AssumeRolePolicyDocument": assume("lambda.amazonaws.com"),
        "Policies": [policy("etl", json!([
            own_logs(&d.logs.etl_function_name),
            {
                "Effect": "Allow",
                "Action": "firehose:PutRecordBatch",
                "Resource": get_att(ids::DELIVERY_STREAM, "Arn"),
            },
            dead_letters(ids::ETL_DEAD_LETTERS),
        ]))],
    })
}

pub(crate) fn onboarding_role(stack: &Stack) -> Value {
    let d = &stack.definition;
    // AWS's own documents have no account in their ARN; the account's own documents do.
    let aws_document =
        |name: &str| format!("arn:${{AWS::Partition}}:ssm:${{AWS::Region}}::document/{name}");
    let own_document = |name: &str| {
        format!("arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:document/{name}")
    };
    json!({
        "AssumeRolePolicyDocument": assume("lambda.amazonaws.com"),
        "Policies": [policy("onboarding", json!([
            own_logs(&d.onboarding.function_name),
            dead_letters(ids::ONBOARDING_DEAD_LETTERS),
            {
                "Sid": "DescribeCallsHaveNoResourceLevelPermissions",
                "Effect": "Allow",
                "Action": ["ec2:DescribeInstances", "ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation"],
                "Resource": "*",
            },
            {
                "Sid": "RunOnlyTheAgentDocuments",
                "Effect": "Allow",
                "Action": "ssm:SendCommand",
                "Resource": [
                    { "Fn::Sub": aws_document("AWS-ConfigureAWSPackage") },
                    { "Fn::Sub": own_document(&d.onboarding.linux_document) },
                    { "Fn::Sub": own_document(&d.onboarding.windows_document) },
                ],
            },
            {
                "Sid": "OnlyOnManagedInstances",
                "Effect": "Allow",
                "Action": "ssm:SendCommand",
                "Resource": { "Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*" },
                "Condition": { "StringEquals": {
                    format!("ssm:resourceTag/{}", d.onboarding.tag_key): d.onboarding.tag_value,
                }},
            },
            {
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": [
                    { "Fn::Sub": format!("arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{}", d.onboarding.linux_parameter.trim_start_matches('/')) },
                    { "Fn::Sub": format!("arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{}", d.onboarding.windows_parameter.trim_start_matches('/')) },
                ],
            },
        ]))],
    })
}

pub(crate) fn firehose_role(stack: &Stack) -> Value {
    let mut statements = json!([
        {
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            "Resource": get_att(ids::BUCKET, "Arn"),
        },
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
            "Resource": { "Fn::Sub": format!("${{{}.Arn}}/*", ids::BUCKET) },
        },
        {
            "Effect": "Allow",
            "Action": "logs:PutLogEvents",
            "Resource": { "Fn::Sub": format!("${{{}.Arn}}", ids::FIREHOSE_LOG_GROUP) },
        },
    ]);
    if stack.definition.firehose.format_conversion.is_some() {
        // Format conversion reads the table's schema (Firehose Developer Guide, "Controlling
        // access": glue:GetTable, GetTableVersion, GetTableVersions).
        let database = &stack.definition.catalog.database;
        let table = &stack.definition.catalog.table;
        if let Some(list) = statements.as_array_mut() {
            list.push(json!({
                "Effect": "Allow",
                "Action": ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
                "Resource": [
                    { "Fn::Sub": "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:catalog" },
                    { "Fn::Sub": format!("arn:${{AWS::Partition}}:glue:${{AWS::Region}}:${{AWS::AccountId}}:database/{database}") },
                    { "Fn::Sub": format!("arn:${{AWS::Partition}}:glue:${{AWS::Region}}:${{AWS::AccountId}}:table/{database}/{table}") },
                ],
            }));
        }
    }
    json!({
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "Service": "firehose.amazonaws.com" },
                "Action": "sts:AssumeRole",
                "Condition": { "StringEquals": { "sts:ExternalId": { "Ref": "AWS::AccountId" } } },
            }],
        },
        "Policies": [policy("deliver-to-s3", statements)],
    })
}

/// The Data Catalog actions a crawler over one S3 table takes: read the database, create and
/// update its table, read and add partitions. Glue's guide asks for `AWSGlueServiceRole` "or
/// equivalent (or a scoped down version of this policy)" and lists no exact set; this is our
/// scoped-down reading of it (a fidelity row), on this database and its tables only.
pub const CRAWLER_CATALOG_ACTIONS: &[&str] = &[
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:CreateTable",
    "glue:UpdateTable",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
    "glue:CreatePartition",
    "glue:BatchCreatePartition",
    "glue:UpdatePartition",
    "glue:BatchUpdatePartition",
];

pub(crate) fn crawler_role(stack: &Stack) -> Value {
    let root = data_root(&stack.definition.firehose.prefix);
    let database = &stack.definition.catalog.database;
    let catalog_arn = |path: &str| json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:glue:${{AWS::Region}}:${{AWS::AccountId}}:{path}") });
    json!({
        "AssumeRolePolicyDocument": assume("glue.amazonaws.com"),
        "Policies": [
            policy("catalog-this-table", json!([
                {
                    "Effect": "Allow",
                    "Action": CRAWLER_CATALOG_ACTIONS,
                    "Resource": [
                        catalog_arn("catalog"),
                        catalog_arn(&format!("database/{database}")),
                        catalog_arn(&format!("table/{database}/*")),
                    ],
                },
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": { "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws-glue/crawlers*" },
                },
            ])),
            policy("read-rows", json!([
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": get_att(ids::BUCKET, "Arn"),
            },
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": { "Fn::Sub": format!("${{{}.Arn}}/{root}*", ids::BUCKET) },
            },
        ])),
        ],
    })
}

/// TLS only; the Firehose role writes; the crawler and the optional reader role read the rows
/// (the data prefix only: not the error prefix, not Athena's results), and only principals of
/// this account (`aws:PrincipalAccount`), whatever `ReaderRoleArn` names.
pub(crate) fn bucket_policy(stack: &Stack) -> Value {
    let crawler = matches!(stack.definition.catalog.mode, crate::CatalogMode::Crawler);
    let bucket_arn = get_att(ids::BUCKET, "Arn");
    let objects = json!({ "Fn::Sub": format!("${{{}.Arn}}/*", ids::BUCKET) });
    let root = data_root(&stack.definition.firehose.prefix);
    let rows = json!({ "Fn::Sub": format!("${{{}.Arn}}/{root}*", ids::BUCKET) });
    let optional_reader = json!({ "Fn::If": ["HasReaderRole", { "Ref": "ReaderRoleArn" }, { "Ref": "AWS::NoValue" }] });
    let read = |principals: Value| {
        json!({
            "Sid": "ReadersRead",
            "Effect": "Allow",
            "Principal": { "AWS": principals },
            "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": [bucket_arn, rows],
            "Condition": { "StringEquals": { "aws:PrincipalAccount": reference("AWS::AccountId") } },
        })
    };
    // Without a crawler the reader role is the only reader, so the statement itself is optional.
    let readers = if crawler {
        read(json!([get_att(ids::CRAWLER_ROLE, "Arn"), optional_reader]))
    } else {
        json!({ "Fn::If": ["HasReaderRole", read(json!({ "Ref": "ReaderRoleArn" })), { "Ref": "AWS::NoValue" }] })
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyWithoutTLS",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, objects],
                "Condition": { "Bool": { "aws:SecureTransport": "false" } },
            },
            {
                "Sid": "FirehoseWrites",
                "Effect": "Allow",
                "Principal": { "AWS": get_att(ids::FIREHOSE_ROLE, "Arn") },
                "Action": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                "Resource": [bucket_arn, objects],
            },
            readers,
        ],
    })
}
