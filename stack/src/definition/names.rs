//! Resource names: the definition's name templates (`{account_name}`, `{account_id}`,
//! `{region}`) resolved for one account and region, or turned into CloudFormation `Fn::Sub`
//! strings that AWS resolves at deploy time.

use super::StackDefinition;

/// The placeholders a name template may use.
pub(super) const NAME_PLACEHOLDERS: [&str; 3] = ["{account_name}", "{account_id}", "{region}"];

/// Where a stack is placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// 12-digit account id.
    pub account_id: String,
    /// Region, e.g. `us-east-1`.
    pub region: String,
}

impl Placement {
    /// LocalStack's default account in `region`.
    pub fn localstack(region: &str) -> Self {
        Self {
            account_id: "000000000000".to_owned(),
            region: region.to_owned(),
        }
    }
}

/// Every name of one deployment, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// Log group.
    pub log_group: String,
    /// Bucket.
    pub bucket: String,
    /// Firehose delivery stream.
    pub delivery_stream: String,
    /// Subscription filter.
    pub subscription_filter: String,
    /// ETL function.
    pub etl_function: String,
    /// Onboarding function.
    pub onboarding_function: String,
    /// EventBridge rule.
    pub rule: String,
    /// Linux agent-config parameter.
    pub linux_parameter: String,
    /// Windows agent-config parameter.
    pub windows_parameter: String,
    /// The SSM document that configures the agent on Linux.
    pub linux_document: String,
    /// The SSM document that configures the agent on Windows.
    pub windows_document: String,
    /// IAM role Firehose assumes.
    pub firehose_role: String,
    /// IAM role of the ETL function.
    pub etl_role: String,
    /// IAM role of the onboarding function.
    pub onboarding_role: String,
    /// IAM role of the Glue crawler.
    pub crawler_role: String,
}

impl Names {
    /// Resolves every name of `definition` at `placement`.
    pub fn new(definition: &StackDefinition, placement: &Placement) -> Self {
        let resolve = |template: &str| resolve(template, &definition.account.name, placement);
        let stream = &definition.firehose.stream_name;
        Self {
            log_group: resolve(&definition.logs.group_name),
            bucket: resolve(&definition.bucket.name),
            delivery_stream: stream.clone(),
            subscription_filter: definition.logs.subscription_filter_name.clone(),
            etl_function: definition.logs.etl_function_name.clone(),
            onboarding_function: definition.onboarding.function_name.clone(),
            rule: definition.onboarding.rule_name.clone(),
            linux_parameter: definition.onboarding.linux_parameter.clone(),
            windows_parameter: definition.onboarding.windows_parameter.clone(),
            linux_document: definition.onboarding.linux_document.clone(),
            windows_document: definition.onboarding.windows_document.clone(),
            firehose_role: role_name(stream, "firehose", placement),
            etl_role: role_name(&definition.logs.etl_function_name, "etl", placement),
            onboarding_role: role_name(&definition.onboarding.function_name, "onboard", placement),
            crawler_role: role_name(&definition.catalog.crawler_name, "crawler", placement),
        }
    }
}

/// IAM role names are global to the account, so they carry the region; at most 64 characters.
fn role_name(base: &str, what: &str, placement: &Placement) -> String {
    let mut name = format!("{base}-{what}-{}", placement.region);
    name.truncate(64);
    name
}

/// Fills the placeholders of a name template.
pub fn resolve(template: &str, account_name: &str, placement: &Placement) -> String {
    template
        .replace("{account_name}", account_name)
        .replace("{account_id}", &placement.account_id)
        .replace("{region}", &placement.region)
}

/// The template as a CloudFormation `Fn::Sub` string: the account name is written in, the
/// account id and region become pseudo parameters.
pub fn to_cfn_sub(template: &str, account_name: &str) -> String {
    template
        .replace("${", "${!")
        .replace("{account_name}", account_name)
        .replace("{account_id}", "${AWS::AccountId}")
        .replace("{region}", "${AWS::Region}")
}

/// Placeholders in `template` that are not [`NAME_PLACEHOLDERS`].
pub(super) fn unknown_placeholders(template: &str) -> Vec<String> {
    let mut unknown = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(len) = rest[open..].find('}') else {
            unknown.push(rest[open..].to_owned());
            break;
        };
        let placeholder = &rest[open..open + len + 1];
        if !NAME_PLACEHOLDERS.contains(&placeholder) {
            unknown.push(placeholder.to_owned());
        }
        rest = &rest[open + len + 1..];
    }
    unknown
}
