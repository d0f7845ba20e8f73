//! A deployed stack's names, from its CloudFormation outputs (`loglab deploy` renders them:
//! `BucketName`, `LogGroupName`, `GlueDatabaseName`, `AthenaWorkGroupName`).

use super::VerifyError;

/// What `verify` needs of a deployed stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackOutputs {
    /// The delivery bucket.
    pub bucket: String,
    /// The log group the subscription filter reads.
    pub log_group: String,
    /// The Glue database (absent: the stack's Athena resources were left out).
    pub database: Option<String>,
    /// The Athena workgroup (absent likewise).
    pub workgroup: Option<String>,
    /// The account, from the stack's id (`arn:aws:cloudformation:<region>:<account>:stack/…`).
    pub account_id: Option<String>,
}

impl StackOutputs {
    /// DescribeStacks on `stack_name`.
    pub async fn read(
        cfn: &aws_sdk_cloudformation::Client,
        stack_name: &str,
    ) -> Result<Self, VerifyError> {
        let answer = cfn
            .describe_stacks()
            .stack_name(stack_name)
            .send()
            .await
            .map_err(|e| VerifyError::call("DescribeStacks", stack_name, &e))?;
        let Some(stack) = answer.stacks().first() else {
            return Err(VerifyError::Stack {
                stack: stack_name.to_owned(),
                why: "DescribeStacks answered no stack".to_owned(),
            });
        };
        let output = |key: &str| {
            stack
                .outputs()
                .iter()
                .find(|o| o.output_key() == Some(key))
                .and_then(|o| o.output_value())
                .map(str::to_owned)
        };
        let required = |key: &str| {
            output(key).ok_or_else(|| VerifyError::Stack {
                stack: stack_name.to_owned(),
                why: format!("it has no output {key} (was it deployed with loglab deploy?)"),
            })
        };
        Ok(Self {
            bucket: required("BucketName")?,
            log_group: required("LogGroupName")?,
            database: output("GlueDatabaseName"),
            workgroup: output("AthenaWorkGroupName"),
            account_id: stack
                .stack_id()
                .and_then(|arn| arn.split(':').nth(4))
                .map(str::to_owned),
        })
    }
}
