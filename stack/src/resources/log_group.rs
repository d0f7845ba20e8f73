//! `AWS::Logs::LogGroup` and `AWS::Logs::LogStream`: the log group the agents write to (and its
//! retention), Firehose's own error log group and stream, and the functions' own log groups
//! (`/aws/lambda/<name>`, which Lambda would otherwise create with no expiry) with the stack's
//! retention.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::sdk::{differs, err, int, text};
use super::{OnEmulator, Reference, ResourceType, Target, entry};
use crate::cfn::{ids, reference, sub};
use crate::clients::ProvisionError;
use crate::{Names, Placement, Stack, to_cfn_sub};

/// Days Firehose's error log group keeps its events.
pub const FIREHOSE_ERROR_LOG_RETENTION_DAYS: i64 = 14;
/// The stream Firehose writes S3 delivery errors to.
pub const FIREHOSE_ERROR_LOG_STREAM: &str = "S3Delivery";

/// The log group Lambda writes `function`'s output to.
pub fn function_log_group(function: &str) -> String {
    format!("/aws/lambda/{function}")
}

/// The name of Firehose's error log group for `stream`.
pub fn firehose_error_log_group(stream: &str) -> String {
    format!("/aws/kinesisfirehose/{stream}")
}

fn log_group_arn(placement: &Placement, name: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{name}:*",
        placement.region, placement.account_id
    )
}

/// Log groups.
pub struct LogGroup;

#[async_trait]
impl ResourceType for LogGroup {
    fn type_name(&self) -> &'static str {
        "AWS::Logs::LogGroup"
    }

    fn checkov_skips(&self) -> &'static [(&'static str, &'static str)] {
        LOG_GROUP_CHECKOV_SKIPS
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let d = &stack.definition;
        let agents = json!({
            "LogGroupName": sub(to_cfn_sub(&d.logs.group_name, &d.account.name)),
            "RetentionInDays": d.logs.retention_days,
        });
        let firehose = json!({
            "LogGroupName": firehose_error_log_group(&d.firehose.stream_name),
            "RetentionInDays": FIREHOSE_ERROR_LOG_RETENTION_DAYS,
        });
        let function = |name: &str| {
            json!({
                "LogGroupName": function_log_group(name),
                "RetentionInDays": d.logs.retention_days,
            })
        };
        vec![
            (ids::LOG_GROUP.to_owned(), entry(self.type_name(), agents)),
            (
                ids::FIREHOSE_LOG_GROUP.to_owned(),
                entry(self.type_name(), firehose),
            ),
            (
                ids::ETL_LOG_GROUP.to_owned(),
                entry(self.type_name(), function(&d.logs.etl_function_name)),
            ),
            (
                ids::ONBOARDING_LOG_GROUP.to_owned(),
                entry(self.type_name(), function(&d.onboarding.function_name)),
            ),
        ]
    }

    fn apply_order(&self) -> u8 {
        3
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::Provisioned
    }

    fn emulator_cloudformation_drops(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "RetentionInDays",
            "LocalStack's CloudFormation drops the log group's retention (PutRetentionPolicy through the SDK keeps it)",
        )]
    }

    fn references(&self, _: &Stack, names: &Names, placement: &Placement) -> Vec<Reference> {
        let firehose = firehose_error_log_group(&names.delivery_stream);
        let (etl, onboarding) = (
            function_log_group(&names.etl_function),
            function_log_group(&names.onboarding_function),
        );
        vec![
            Reference::new(ids::ETL_LOG_GROUP, &etl, log_group_arn(placement, &etl)),
            Reference::new(
                ids::ONBOARDING_LOG_GROUP,
                &onboarding,
                log_group_arn(placement, &onboarding),
            ),
            Reference::new(
                ids::LOG_GROUP,
                &names.log_group,
                log_group_arn(placement, &names.log_group),
            ),
            Reference::new(
                ids::FIREHOSE_LOG_GROUP,
                &firehose,
                log_group_arn(placement, &firehose),
            ),
        ]
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        let name = text(desired, "LogGroupName");
        let out = clients
            .logs
            .describe_log_groups()
            .log_group_name_prefix(&name)
            .send()
            .await
            .map_err(err(id, "DescribeLogGroups"))?;
        Ok(out
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name.as_str()))
            .map(|g| {
                let mut v = json!({ "LogGroupName": name });
                if let Some(days) = g.retention_in_days() {
                    v["RetentionInDays"] = json!(days);
                }
                v
            }))
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        let mut written = Vec::new();
        let mut mark = |key: &str| written.push(key.to_owned());
        let name = text(desired, "LogGroupName");
        if actual.is_none() {
            clients
                .logs
                .create_log_group()
                .log_group_name(&name)
                .send()
                .await
                .map_err(err(id, "CreateLogGroup"))?;
            mark("LogGroupName");
        }
        if differs(actual, desired, "RetentionInDays") {
            clients
                .logs
                .put_retention_policy()
                .log_group_name(&name)
                .retention_in_days(int(&desired["RetentionInDays"]))
                .send()
                .await
                .map_err(err(id, "PutRetentionPolicy"))?;
            mark("RetentionInDays");
        }
        Ok(written)
    }
}

/// Log streams.
pub struct LogStream;

#[async_trait]
impl ResourceType for LogStream {
    fn type_name(&self) -> &'static str {
        "AWS::Logs::LogStream"
    }

    fn render(&self, _: &Stack) -> Vec<(String, Value)> {
        let properties = json!({
            "LogGroupName": reference(ids::FIREHOSE_LOG_GROUP),
            "LogStreamName": FIREHOSE_ERROR_LOG_STREAM,
        });
        vec![(
            ids::FIREHOSE_LOG_STREAM.to_owned(),
            entry(self.type_name(), properties),
        )]
    }

    fn apply_order(&self) -> u8 {
        4
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::Provisioned
    }

    fn references(&self, _: &Stack, _: &Names, _: &Placement) -> Vec<Reference> {
        vec![Reference::new(
            ids::FIREHOSE_LOG_STREAM,
            FIREHOSE_ERROR_LOG_STREAM,
            "",
        )]
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        let (group, stream) = (
            text(desired, "LogGroupName"),
            text(desired, "LogStreamName"),
        );
        let out = clients
            .logs
            .describe_log_streams()
            .log_group_name(&group)
            .log_stream_name_prefix(&stream)
            .send()
            .await
            .map_err(err(id, "DescribeLogStreams"))?;
        Ok(out
            .log_streams()
            .iter()
            .any(|s| s.log_stream_name() == Some(stream.as_str()))
            .then(|| json!({ "LogGroupName": group, "LogStreamName": stream })))
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        if actual.is_some() {
            return Ok(Vec::new());
        }
        clients
            .logs
            .create_log_stream()
            .log_group_name(text(desired, "LogGroupName"))
            .log_stream_name(text(desired, "LogStreamName"))
            .send()
            .await
            .map_err(err(id, "CreateLogStream"))?;
        Ok(vec!["LogStreamName".to_owned()])
    }
}

/// checkov findings on the log groups that the stack does not fix, with why.
const LOG_GROUP_CHECKOV_SKIPS: &[(&str, &str)] = &[(
    "CKV_AWS_158",
    "Encrypted at rest with CloudWatch Logs' service-managed keys. A customer-managed KMS key needs a key policy for the logs service principal and is each customer's choice; the stack definition has no key setting yet.",
)];
