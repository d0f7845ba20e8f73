//! The building blocks of the CloudFormation template that the resource types and the
//! template share: the logical ids, and the intrinsic functions as JSON (`Ref`,
//! `Fn::GetAtt`, `Fn::Sub`).

use serde_json::{Value, json};

use crate::StackDefinition;

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
    /// The ETL function's dead-letter queue.
    pub const ETL_DEAD_LETTERS: &str = "EtlDeadLetterQueue";
    /// The onboarding function's dead-letter queue.
    pub const ONBOARDING_DEAD_LETTERS: &str = "OnboardingDeadLetterQueue";
    /// The policy letting the rule's target send its undeliverable events to that queue.
    pub const ONBOARDING_DEAD_LETTERS_POLICY: &str = "OnboardingDeadLetterQueuePolicy";
    /// The Firehose stream.
    pub const DELIVERY_STREAM: &str = "DeliveryStream";
    /// The role Firehose assumes.
    pub const FIREHOSE_ROLE: &str = "FirehoseRole";
    /// Firehose's own error log group.
    pub const FIREHOSE_LOG_GROUP: &str = "FirehoseErrorLogGroup";
    /// The ETL function's own log group (`/aws/lambda/<name>`).
    pub const ETL_LOG_GROUP: &str = "EtlLogGroup";
    /// The onboarding function's own log group.
    pub const ONBOARDING_LOG_GROUP: &str = "OnboardingLogGroup";
    /// Its stream.
    pub const FIREHOSE_LOG_STREAM: &str = "FirehoseErrorLogStream";
    /// The Linux agent configuration.
    pub const LINUX_PARAMETER: &str = "LinuxAgentConfigParameter";
    /// The Windows agent configuration.
    pub const WINDOWS_PARAMETER: &str = "WindowsAgentConfigParameter";
    /// The stack's Linux Run Command document.
    pub const LINUX_DOCUMENT: &str = "LinuxAgentDocument";
    /// The stack's Windows Run Command document.
    pub const WINDOWS_DOCUMENT: &str = "WindowsAgentDocument";
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

/// A string, as `Fn::Sub` when it holds `${…}` references.
pub(crate) fn sub(text: String) -> Value {
    if text.contains("${") {
        json!({ "Fn::Sub": text })
    } else {
        Value::String(text)
    }
}

/// `Fn::GetAtt [id, attribute]`.
pub(crate) fn get_att(id: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [id, attribute] })
}

/// `Ref id`.
pub(crate) fn reference(id: &str) -> Value {
    json!({ "Ref": id })
}

/// The static part of the data prefix (the table's root), e.g. `logs/`.
pub fn data_root(prefix: &str) -> &str {
    prefix.split("!{").next().unwrap_or_default()
}

/// `sql` with `{table}` replaced by the definition's `<database>.<table>`.
pub fn saved_query_sql(definition: &StackDefinition, sql: &str) -> String {
    let catalog = &definition.catalog;
    sql.replace(
        "{table}",
        &format!("{}.{}", catalog.database, catalog.table),
    )
}
