//! The stack rendered as a CloudFormation template (JSON), for real AWS.
//!
//! Names with `{account_id}` or `{region}` become `Fn::Sub` strings, so one template deploys to
//! any account and region. Function code comes from parameters (bucket and keys), which the
//! deploy command fills after uploading the zips. [`Template::without`] drops resource types an
//! emulator does not support (LocalStack community has no Glue or Athena), together with the
//! outputs that name them.

use serde_json::{Map, Value, json};

use crate::Stack;
pub use crate::cfn::{data_root, ids, saved_query_sql};
use crate::cfn::{get_att, reference};

/// `ReaderRoleArn`: empty, or an IAM role's ARN (any partition); a user, a root principal or a
/// wildcard is refused when the stack is created.
pub const READER_ROLE_PATTERN: &str =
    r"^$|^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$";

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
            if !removed.is_empty() {
                omit_emulator_stand_ins(resources);
            }
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

/// Leaves out the properties the emulator path does not apply because the harness stands in
/// for them (each type's [`crate::ResourceType::emulator_omitted_properties`]).
fn omit_emulator_stand_ins(resources: &mut Map<String, Value>) {
    for resource in resources.values_mut() {
        let kind = resource
            .get("Type")
            .and_then(Value::as_str)
            .and_then(crate::resources::by_type);
        if let (Some(kind), Some(properties)) = (kind, resource.get_mut("Properties")) {
            crate::resources::omit_on_emulator(kind, properties);
        }
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

/// Checks a resource satisfies once it sets the property: its type's skip is left out for it.
const SATISFIED_BY: &[(&str, &str)] = &[("CKV_AWS_115", "ReservedConcurrentExecutions")];

/// `resource` with `Metadata.checkov.skip` listing `skips` (unchanged when there are none),
/// less the checks the resource itself satisfies.
fn with_checkov_skips(mut resource: Value, skips: &[(&str, &str)]) -> Value {
    let satisfied = |check: &str| {
        SATISFIED_BY
            .iter()
            .any(|(id, property)| *id == check && resource["Properties"].get(*property).is_some())
    };
    let skip: Vec<Value> = skips
        .iter()
        .filter(|(id, _)| !satisfied(id))
        .map(|(id, comment)| json!({ "id": id, "comment": comment }))
        .collect();
    if skip.is_empty() {
        return resource;
    }
    if let Some(entry) = resource.as_object_mut() {
        entry.insert(
            "Metadata".to_owned(),
            json!({ "checkov": { "skip": skip } }),
        );
    }
    resource
}

/// Renders the whole stack: every resource type's fragments (with their checkov skips), the
/// parameters the deploy fills, and the outputs.
pub fn render(stack: &Stack) -> Template {
    let account = stack.definition.account.name.as_str();
    let resources: Map<String, Value> = crate::resources::ALL
        .iter()
        .flat_map(|kind| {
            let skips = kind.checkov_skips();
            kind.render(stack)
                .into_iter()
                .map(move |(id, resource)| (id, with_checkov_skips(resource, skips)))
        })
        .collect();
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
                "AllowedPattern": READER_ROLE_PATTERN,
                "ConstraintDescription": "empty, or the ARN of an IAM role (arn:aws:iam::<account>:role/<name>); the bucket policy lets only principals of this account read",
                "Description": "Optional role (analysts, Athena users) of this account granted read access to the rows (the data prefix)",
            },
            "AlarmEmail": {
                "Type": "String", "Default": "",
                "Description": "Optional e-mail address subscribed to the alarm topic (dead letters, function errors and throttles, delivery freshness, failed conversions)",
            },
        },
        "Conditions": {
            "HasReaderRole": { "Fn::Not": [{ "Fn::Equals": [{ "Ref": "ReaderRoleArn" }, ""] }] },
            "HasAlarmEmail": { "Fn::Not": [{ "Fn::Equals": [{ "Ref": "AlarmEmail" }, ""] }] },
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
            "AlarmTopicArn": { "Value": reference(crate::resources::alarms::TOPIC) },
        },
    }))
}
