//! The IAM policy `loglab verify`'s caller needs, no more: what it calls itself (CloudFormation,
//! CloudWatch Logs on the stack's log group, S3 on the table's and the results' prefixes,
//! Athena in the stack's workgroup), and what Athena does with the caller's permissions when it
//! runs a query (reads the Glue database and table, reads the data, writes and reads the
//! result file). Rendered into `deploy/verify-policy.json` for the default stack; each call
//! `verify` makes is checked against it with IAM's evaluation logic (`standins::iam`).
//!
//! Sources: the Service Authorization Reference (each action's resource types); the Athena
//! User Guide, "Access to Amazon S3" and "Fine-grained access to databases and tables in the
//! AWS Glue Data Catalog" (what a query needs of S3 and Glue).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::StackOutputs;
use crate::catalog;

/// Where the policy applies.
#[derive(Debug, Clone)]
pub struct PolicyScope<'a> {
    /// `aws` (or `aws-cn`, `aws-us-gov`).
    pub partition: &'a str,
    /// The stack's region.
    pub region: &'a str,
    /// The account.
    pub account_id: &'a str,
    /// The stack's name.
    pub stack_name: &'a str,
    /// Its outputs.
    pub outputs: &'a StackOutputs,
    /// The definition it was deployed from (prefixes, table).
    pub definition: &'a stack::StackDefinition,
}

impl PolicyScope<'_> {
    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account_id
        )
    }

    fn bucket(&self, key: &str) -> String {
        format!("arn:{}:s3:::{}{key}", self.partition, self.outputs.bucket)
    }

    fn roots(&self) -> (String, String, String) {
        let d = self.definition;
        (
            catalog::table_root(&d.firehose.prefix),
            catalog::table_root(&d.firehose.error_prefix),
            d.athena.results_prefix.clone(),
        )
    }
}

/// The caller's policy document.
pub fn caller_policy(scope: &PolicyScope<'_>) -> Value {
    let (data, errors, results) = scope.roots();
    let group = &scope.outputs.log_group;
    let workgroup = scope.outputs.workgroup.as_deref().unwrap_or("*");
    let database = scope.outputs.database.as_deref().unwrap_or("*");
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadTheStacksOutputs",
                "Effect": "Allow",
                "Action": ["cloudformation:DescribeStacks"],
                "Resource": [scope.arn("cloudformation", &format!("stack/{}/*", scope.stack_name))],
            },
            {
                "Sid": "WriteAndDeleteTheRunsStreams",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DeleteLogStream"],
                "Resource": [
                    scope.arn("logs", &format!("log-group:{group}")),
                    scope.arn("logs", &format!("log-group:{group}:log-stream:*")),
                ],
            },
            {
                "Sid": "ListTheTableErrorsAndResults",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [scope.bucket("")],
                "Condition": { "StringLike": { "s3:prefix": [format!("{data}*"), format!("{errors}*"), format!("{results}*")] } },
            },
            {
                "Sid": "QueriesFindTheBucket",
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                "Resource": [scope.bucket("")],
            },
            {
                "Sid": "ReadTheRows",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [scope.bucket(&format!("/{data}*"))],
            },
            {
                "Sid": "QueryResultsWrittenReadAndDeleted",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                "Resource": [scope.bucket(&format!("/{results}*"))],
            },
            {
                "Sid": "RunTheSavedQueries",
                "Effect": "Allow",
                "Action": ["athena:ListNamedQueries", "athena:BatchGetNamedQuery", "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults"],
                "Resource": [scope.arn("athena", &format!("workgroup/{workgroup}"))],
            },
            {
                "Sid": "QueriesReadTheCatalog",
                "Effect": "Allow",
                "Action": ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"],
                "Resource": [
                    scope.arn("glue", "catalog"),
                    scope.arn("glue", &format!("database/{database}")),
                    scope.arn("glue", &format!("table/{database}/*")),
                ],
            },
        ],
    })
}

/// One request `verify` (or Athena, for it) makes: action, resource ARN, condition keys.
pub type Call = (&'static str, String, BTreeMap<String, String>);

/// Every kind of request a verification makes, with the resources the Service Authorization
/// Reference names for it.
pub fn calls(scope: &PolicyScope<'_>) -> Vec<Call> {
    let (data, errors, results) = scope.roots();
    let group = &scope.outputs.log_group;
    let stream = scope.arn(
        "logs",
        &format!("log-group:{group}:log-stream:/var/log/secure/i-0123456789abcdef0"),
    );
    let workgroup = scope.arn(
        "athena",
        &format!(
            "workgroup/{}",
            scope.outputs.workgroup.as_deref().unwrap_or_default()
        ),
    );
    let database = scope.outputs.database.as_deref().unwrap_or_default();
    let table = &scope.definition.catalog.table;
    let none = BTreeMap::new;
    let listing = |prefix: &str| BTreeMap::from([("s3:prefix".to_owned(), prefix.to_owned())]);
    let result_key = scope.bucket(&format!("/{results}0f1e2d3c.csv"));
    vec![
        (
            "cloudformation:DescribeStacks",
            scope.arn(
                "cloudformation",
                &format!("stack/{}/0a1b", scope.stack_name),
            ),
            none(),
        ),
        (
            "logs:CreateLogStream",
            scope.arn("logs", &format!("log-group:{group}")),
            none(),
        ),
        ("logs:PutLogEvents", stream.clone(), none()),
        ("logs:DeleteLogStream", stream, none()),
        ("s3:ListBucket", scope.bucket(""), listing(&data)),
        ("s3:ListBucket", scope.bucket(""), listing(&errors)),
        (
            "s3:GetObject",
            scope.bucket(&format!("/{data}2026/12/05/13/ccp-1.gz")),
            none(),
        ),
        ("athena:ListNamedQueries", workgroup.clone(), none()),
        ("athena:BatchGetNamedQuery", workgroup.clone(), none()),
        ("athena:StartQueryExecution", workgroup.clone(), none()),
        ("athena:GetQueryExecution", workgroup.clone(), none()),
        ("athena:GetQueryResults", workgroup, none()),
        (
            "glue:GetDatabase",
            scope.arn("glue", &format!("database/{database}")),
            none(),
        ),
        (
            "glue:GetTable",
            scope.arn("glue", &format!("table/{database}/{table}")),
            none(),
        ),
        (
            "glue:GetPartitions",
            scope.arn("glue", &format!("table/{database}/{table}")),
            none(),
        ),
        ("s3:GetBucketLocation", scope.bucket(""), none()),
        ("s3:PutObject", result_key.clone(), none()),
        ("s3:GetObject", result_key.clone(), none()),
        ("s3:DeleteObject", result_key, none()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs() -> StackOutputs {
        StackOutputs {
            bucket: "ccp-logs-123456789012-eu-west-1".into(),
            log_group: "CCP-logs-Example-123456789012-eu-west-1".into(),
            database: Some("ccp_logs".into()),
            workgroup: Some("ccp-logs".into()),
            account_id: Some("123456789012".into()),
        }
    }

    fn decide(policy: &Value, (action, resource, context): &Call) -> bool {
        let statements = policy["Statement"].as_array().unwrap();
        standins::iam::policy::evaluate(
            statements,
            &standins::iam::policy::Request {
                action,
                resource,
                context,
            },
        )
        .unwrap()
        .is_allowed()
    }

    #[test]
    fn the_policy_allows_every_call_verify_makes_and_no_more() {
        let definition = stack::StackDefinition::default();
        let outputs = outputs();
        let scope = PolicyScope {
            partition: "aws",
            region: "eu-west-1",
            account_id: "123456789012",
            stack_name: "ccp-logs",
            outputs: &outputs,
            definition: &definition,
        };
        let policy = caller_policy(&scope);
        for call in calls(&scope) {
            assert!(decide(&policy, &call), "{call:?} is refused");
        }
        let none = BTreeMap::new();
        let beyond: [Call; 5] = [
            (
                "s3:DeleteObject",
                scope.bucket("/logs/2026/12/05/13/ccp-1.gz"),
                none.clone(),
            ),
            (
                "s3:PutObject",
                scope.bucket("/logs/forged.gz"),
                none.clone(),
            ),
            (
                "logs:PutLogEvents",
                scope.arn("logs", "log-group:other:log-stream:x"),
                none.clone(),
            ),
            (
                "athena:StartQueryExecution",
                scope.arn("athena", "workgroup/primary"),
                none.clone(),
            ),
            (
                "s3:ListBucket",
                scope.bucket(""),
                BTreeMap::from([("s3:prefix".to_owned(), "secrets/".to_owned())]),
            ),
        ];
        for call in beyond {
            assert!(!decide(&policy, &call), "{call:?} is allowed");
        }
    }
}
