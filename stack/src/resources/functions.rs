//! `AWS::Lambda::Function` and `AWS::Lambda::Permission`: the ETL and onboarding functions
//! (`provided.al2023`, code from the template's parameters), and the permissions that let
//! CloudWatch Logs and EventBridge invoke them. The emulator path does not create them: the
//! harness runs the same handlers itself.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{OnEmulator, Reference, ResourceType, entry};
use crate::cfn::{get_att, ids, reference};
use crate::{Names, Placement, Stack};

/// Memory of the ETL function, MB.
pub const ETL_MEMORY_MB: u32 = 512;
/// Timeout of the ETL function, seconds.
pub const ETL_TIMEOUT_SECONDS: u32 = 120;
/// Memory of the onboarding function, MB.
pub const ONBOARDING_MEMORY_MB: u32 = 256;
/// Timeout of the onboarding function, seconds: Lambda's maximum, because it waits for SSM
/// commands to finish.
pub const ONBOARDING_TIMEOUT_SECONDS: u32 = 900;
/// At most this many onboardings run at once: each makes SSM calls (SendCommand,
/// GetCommandInvocation, DescribeInstanceInformation) whose API rate is per account, and a
/// fleet launched at once would otherwise spend it in one burst. Events beyond it are
/// throttled and retried by Lambda's asynchronous invocation (up to six hours), not lost.
pub const ONBOARDING_RESERVED_CONCURRENCY: i64 = 10;

fn function_arn(placement: &Placement, name: &str) -> String {
    format!(
        "arn:aws:lambda:{}:{}:function:{name}",
        placement.region, placement.account_id
    )
}

/// The functions' logs: Lambda's advanced logging controls, JSON at INFO for what a function
/// writes, WARN for Lambda's own lines. Lambda passes them to the process as
/// `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_LOG_LEVEL`, which the runtime's tracing setup
/// honours (AWS Lambda Developer Guide, "Configuring advanced logging controls for Lambda
/// functions"; `lambda_runtime_api_client::tracing::init_default_subscriber`).
fn logging_config() -> Value {
    json!({ "LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN" })
}

/// Lambda functions.
pub struct Function;

#[async_trait]
impl ResourceType for Function {
    fn type_name(&self) -> &'static str {
        "AWS::Lambda::Function"
    }

    fn checkov_skips(&self) -> &'static [(&'static str, &'static str)] {
        FUNCTION_CHECKOV_SKIPS
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let d = &stack.definition;
        let etl = json!({
            "FunctionName": d.logs.etl_function_name,
            "Description": "CloudWatch Logs subscription payloads to JSON rows, to Firehose",
            "Runtime": "provided.al2023",
            "Handler": "bootstrap",
            "Architectures": [{ "Ref": "FunctionArchitecture" }],
            "MemorySize": ETL_MEMORY_MB,
            "Timeout": ETL_TIMEOUT_SECONDS,
            "Code": { "S3Bucket": reference("CodeBucket"), "S3Key": reference("EtlCodeKey") },
            "Role": get_att(ids::ETL_ROLE, "Arn"),
            "DeadLetterConfig": { "TargetArn": get_att(ids::ETL_DEAD_LETTERS, "Arn") },
            "Environment": { "Variables": {
                "FIREHOSE_DELIVERY_STREAM": reference(ids::DELIVERY_STREAM),
            }},
            "LoggingConfig": logging_config(),
        });
        let onboarding = json!({
            "FunctionName": d.onboarding.function_name,
            "Description": "EC2 running -> tag check -> CloudWatch agent installed and configured via SSM",
            "Runtime": "provided.al2023",
            "Handler": "bootstrap",
            "Architectures": [{ "Ref": "FunctionArchitecture" }],
            "MemorySize": ONBOARDING_MEMORY_MB,
            "Timeout": ONBOARDING_TIMEOUT_SECONDS,
            "ReservedConcurrentExecutions": ONBOARDING_RESERVED_CONCURRENCY,
            "Code": { "S3Bucket": reference("CodeBucket"), "S3Key": reference("OnboardingCodeKey") },
            "Role": get_att(ids::ONBOARDING_ROLE, "Arn"),
            "DeadLetterConfig": { "TargetArn": get_att(ids::ONBOARDING_DEAD_LETTERS, "Arn") },
            "Environment": { "Variables": {
                "MANAGEMENT_TAG_KEY": d.onboarding.tag_key,
                "MANAGEMENT_TAG_VALUE": d.onboarding.tag_value,
                "LINUX_AGENT_CONFIG_PARAMETER": reference(ids::LINUX_PARAMETER),
                "WINDOWS_AGENT_CONFIG_PARAMETER": reference(ids::WINDOWS_PARAMETER),
                "LINUX_AGENT_DOCUMENT": reference(ids::LINUX_DOCUMENT),
                "WINDOWS_AGENT_DOCUMENT": reference(ids::WINDOWS_DOCUMENT),
            }},
            "LoggingConfig": logging_config(),
        });
        vec![
            (ids::ETL_FUNCTION.to_owned(), entry(self.type_name(), etl)),
            (
                ids::ONBOARDING_FUNCTION.to_owned(),
                entry(self.type_name(), onboarding),
            ),
        ]
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::Absent(
            "LocalStack community cannot run functions without Docker-in-Docker and fetches its runtime from GitHub; the harness invokes the same handlers in-process",
        )
    }

    fn references(&self, _: &Stack, names: &Names, placement: &Placement) -> Vec<Reference> {
        vec![
            Reference::new(
                ids::ETL_FUNCTION,
                &names.etl_function,
                function_arn(placement, &names.etl_function),
            ),
            Reference::new(
                ids::ONBOARDING_FUNCTION,
                &names.onboarding_function,
                function_arn(placement, &names.onboarding_function),
            ),
        ]
    }
}

/// Permissions to invoke the functions.
pub struct Permission;

#[async_trait]
impl ResourceType for Permission {
    fn type_name(&self) -> &'static str {
        "AWS::Lambda::Permission"
    }

    fn render(&self, _: &Stack) -> Vec<(String, Value)> {
        let etl = json!({
            "FunctionName": get_att(ids::ETL_FUNCTION, "Arn"),
            "Action": "lambda:InvokeFunction",
            "Principal": "logs.amazonaws.com",
            "SourceAccount": reference("AWS::AccountId"),
            "SourceArn": get_att(ids::LOG_GROUP, "Arn"),
        });
        let onboarding = json!({
            "FunctionName": get_att(ids::ONBOARDING_FUNCTION, "Arn"),
            "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com",
            "SourceArn": get_att(ids::RULE, "Arn"),
        });
        vec![
            (ids::ETL_PERMISSION.to_owned(), entry(self.type_name(), etl)),
            (
                ids::ONBOARDING_PERMISSION.to_owned(),
                entry(self.type_name(), onboarding),
            ),
        ]
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::StoodInFor("belongs to the functions, which the harness stands in for")
    }
}

/// checkov findings on the functions that the stack does not fix, with why.
const FUNCTION_CHECKOV_SKIPS: &[(&str, &str)] = &[
    (
        "CKV_AWS_117",
        "Not in a VPC: the functions call only AWS APIs (Firehose; EC2 and SSM) and reach no private resource. In a VPC each would need a NAT gateway or an interface endpoint per service, which this stack does not own.",
    ),
    (
        "CKV_AWS_115",
        "The ETL has no reserved concurrency: a cap would throttle subscription delivery, which CloudWatch Logs retries only for a limited time before the payload is lost; the account's concurrency limit bounds it. (Onboarding has one, so this finding is not skipped there.)",
    ),
    (
        "CKV_AWS_173",
        "The environment holds only resource names (delivery stream, Parameter Store names, tag key and value) and a log level, no secrets; Lambda encrypts it at rest with its service key.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The ETL spends its delivery retries inside its own timeout, with time kept back for the
    /// last call: a throttling episode is ridden out in one invocation where it can be, and an
    /// invocation is never stopped mid-retry by Lambda.
    #[test]
    fn the_etls_retry_budget_fits_its_timeout() {
        let retry = pipeline::firehose::RetryPolicy::default();
        let budget = retry.deadline + pipeline::firehose::deliver::INVOCATION_RESERVE;
        assert!(
            budget <= std::time::Duration::from_secs(u64::from(ETL_TIMEOUT_SECONDS)),
            "{budget:?}"
        );
        assert!(retry.deadline >= std::time::Duration::from_secs(60));
    }
}
