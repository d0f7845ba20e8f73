//! `AWS::Events::Rule`: EC2 instances reaching `running` go to the onboarding function. On the
//! emulator the rule's target is an SQS queue that the harness reads, standing in for the
//! function (LocalStack community cannot run it).

use async_trait::async_trait;
use serde_json::{Value, json};

use super::sdk::{differs, err, existing, policy_json, text};
use super::{OnEmulator, Reference, ResourceType, Target, entry};
use crate::cfn::{get_att, ids};
use crate::clients::{Clients, ProvisionError};
use crate::{Names, Placement, Stack};

/// The EventBridge pattern of the onboarding rule.
pub fn rule_event_pattern() -> Value {
    json!({
        "source": ["aws.ec2"],
        "detail-type": ["EC2 Instance State-change Notification"],
        "detail": { "state": ["running"] },
    })
}

/// Name of the SQS queue that stands in for the onboarding function as the rule's target.
pub fn harness_queue_name(names: &Names) -> String {
    format!("{}-harness", names.rule)
}

/// How often EventBridge retries delivering an event to the onboarding function, and for how
/// long: AWS's own defaults (185 attempts, 24 hours; EventBridge user guide, "Retrying events"),
/// written out so that the template says what happens. What still fails goes to the onboarding
/// dead-letter queue, where the function's own failed events go too: both are the event as
/// EventBridge sends it, and `loglab redrive` sends either back.
pub const RULE_RETRY_ATTEMPTS: u32 = 185;
/// The oldest event EventBridge still tries to deliver, seconds.
pub const RULE_MAXIMUM_EVENT_AGE_SECONDS: u32 = 86_400;

/// EventBridge rules.
pub struct Rule;

#[async_trait]
impl ResourceType for Rule {
    fn type_name(&self) -> &'static str {
        "AWS::Events::Rule"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let properties = json!({
            "Name": stack.definition.onboarding.rule_name,
            "Description": "EC2 instances reaching running go to the onboarding function",
            "State": "ENABLED",
            "EventPattern": rule_event_pattern(),
            "Targets": [{
                "Id": "onboarding",
                "Arn": get_att(ids::ONBOARDING_FUNCTION, "Arn"),
                "RetryPolicy": {
                    "MaximumRetryAttempts": RULE_RETRY_ATTEMPTS,
                    "MaximumEventAgeInSeconds": RULE_MAXIMUM_EVENT_AGE_SECONDS,
                },
                "DeadLetterConfig": { "Arn": get_att(ids::ONBOARDING_DEAD_LETTERS, "Arn") },
            }],
        });
        vec![(ids::RULE.to_owned(), entry(self.type_name(), properties))]
    }

    fn apply_order(&self) -> u8 {
        7
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::Provisioned
    }

    fn references(&self, _: &Stack, names: &Names, placement: &Placement) -> Vec<Reference> {
        vec![Reference::new(
            ids::RULE,
            &names.rule,
            format!(
                "arn:aws:events:{}:{}:rule/{}",
                placement.region, placement.account_id, names.rule
            ),
        )]
    }

    fn on_emulator_properties(
        &self,
        names: &Names,
        placement: &Placement,
        properties: Value,
    ) -> Value {
        let arn = super::dead_letter::queue_arn(placement, &harness_queue_name(names));
        let mut properties = properties;
        properties["Targets"] = json!([{ "Id": "onboarding", "Arn": arn }]);
        properties
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        read_rule(clients, id, &text(desired, "Name")).await
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        ensure_target_queues(clients, id, desired).await?;
        let mut written = Vec::new();
        let mut mark = |key: &str| written.push(key.to_owned());
        if ["EventPattern", "State", "Description", "Name"]
            .iter()
            .any(|k| differs(actual, desired, k))
        {
            clients
                .events
                .put_rule()
                .name(text(desired, "Name"))
                .event_pattern(desired["EventPattern"].to_string())
                .state(aws_sdk_eventbridge::types::RuleState::from(
                    text(desired, "State").as_str(),
                ))
                .description(text(desired, "Description"))
                .send()
                .await
                .map_err(err(id, "PutRule"))?;
            mark("EventPattern");
        }
        if differs(actual, desired, "Targets") {
            for target in desired["Targets"].as_array().into_iter().flatten() {
                let target = aws_sdk_eventbridge::types::Target::builder()
                    .id(text(target, "Id"))
                    .arn(text(target, "Arn"))
                    .build()
                    .map_err(err(id, "PutTargets"))?;
                clients
                    .events
                    .put_targets()
                    .rule(text(desired, "Name"))
                    .targets(target)
                    .send()
                    .await
                    .map_err(err(id, "PutTargets"))?;
            }
            mark("Targets");
        }
        Ok(written)
    }
}

/// Creates the SQS queues among the rule's targets (the harness's stand-in for the function on
/// the emulator); idempotent.
async fn ensure_target_queues(
    clients: &Clients,
    id: &str,
    desired: &Value,
) -> Result<(), ProvisionError> {
    for target in desired["Targets"].as_array().into_iter().flatten() {
        let arn = text(target, "Arn");
        let Some(queue) = arn
            .strip_prefix("arn:aws:sqs:")
            .and_then(|rest| rest.rsplit(':').next())
        else {
            continue;
        };
        clients
            .sqs
            .create_queue()
            .queue_name(queue)
            .send()
            .await
            .map_err(err(id, "CreateQueue"))?;
    }
    Ok(())
}

async fn read_rule(
    clients: &Clients,
    id: &str,
    name: &str,
) -> Result<Option<Value>, ProvisionError> {
    let described = clients.events.describe_rule().name(name).send().await;
    let Some(rule) = existing(
        described,
        |s| s.is_resource_not_found_exception(),
        id,
        "DescribeRule",
    )?
    else {
        return Ok(None);
    };
    let targets = clients
        .events
        .list_targets_by_rule()
        .rule(name)
        .send()
        .await
        .map_err(err(id, "ListTargetsByRule"))?;
    let targets: Vec<Value> = targets
        .targets()
        .iter()
        .map(|t| json!({ "Id": t.id(), "Arn": t.arn() }))
        .collect();
    let mut value = json!({
        "Name": name,
        "State": rule.state().map(|s| s.as_str()),
        "EventPattern": rule.event_pattern().map(policy_json),
        "Targets": targets,
    });
    if let Some(description) = rule.description() {
        value["Description"] = json!(description);
    }
    Ok(Some(value))
}
