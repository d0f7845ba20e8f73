//! `AWS::SQS::Queue`: a dead-letter queue for each function. Both are invoked asynchronously
//! (CloudWatch Logs delivers subscription payloads to the ETL function, EventBridge delivers
//! instance events to the onboarding function); Lambda retries a failed asynchronous
//! invocation twice and then discards the event, unless the function has a dead-letter queue,
//! where the event then waits to be inspected and replayed (AWS Lambda developer guide,
//! "Asynchronous invocation" and "Adding a dead-letter queue"). Messages are kept for SQS's
//! maximum, 14 days, and encrypted with SQS's managed keys.
//!
//! The emulator path creates them too (SQS is one of LocalStack's own services), so that the
//! roles' `sqs:SendMessage` grants resolve and the harness can send the events of failed
//! invocations where Lambda would.

use async_trait::async_trait;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};

use super::sdk::{differs, err, existing, text};
use super::{OnEmulator, Reference, ResourceType, Target, entry};
use crate::cfn::ids;
use crate::clients::ProvisionError;
use crate::{Names, Placement, Stack};

/// SQS's longest message retention, seconds (14 days; SQS API reference, `SetQueueAttributes`,
/// `MessageRetentionPeriod`: 60 to 1,209,600).
pub const RETENTION_SECONDS: u32 = 1_209_600;

/// The queue that receives `function`'s failed events.
pub fn queue_name(function: &str) -> String {
    format!("{function}-dead-letters")
}

/// The ARN of the SQS queue `name` at `placement`.
pub(super) fn queue_arn(placement: &Placement, name: &str) -> String {
    format!(
        "arn:aws:sqs:{}:{}:{name}",
        placement.region, placement.account_id
    )
}

/// Dead-letter queues.
pub struct DeadLetterQueue;

#[async_trait]
impl ResourceType for DeadLetterQueue {
    fn type_name(&self) -> &'static str {
        "AWS::SQS::Queue"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let d = &stack.definition;
        let queue = |function: &str| {
            entry(
                self.type_name(),
                json!({
                    "QueueName": queue_name(function),
                    "MessageRetentionPeriod": RETENTION_SECONDS,
                    "SqsManagedSseEnabled": true,
                }),
            )
        };
        vec![
            (
                ids::ETL_DEAD_LETTERS.to_owned(),
                queue(&d.logs.etl_function_name),
            ),
            (
                ids::ONBOARDING_DEAD_LETTERS.to_owned(),
                queue(&d.onboarding.function_name),
            ),
        ]
    }

    fn apply_order(&self) -> u8 {
        1
    }

    fn checkov_skips(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "CKV_AWS_27",
            "Encrypted at rest with SQS-managed keys (SqsManagedSseEnabled: true, SSE-SQS); this check recognises only KmsMasterKeyId (SSE-KMS), which would add a key and its policy for no stronger guarantee here.",
        )]
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::Provisioned
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        let (clients, id, name) = (at.clients, at.id, text(at.desired, "QueueName"));
        let Some(found) = existing(
            clients.sqs.get_queue_url().queue_name(&name).send().await,
            |e| e.is_queue_does_not_exist(),
            id,
            "GetQueueUrl",
        )?
        else {
            return Ok(None);
        };
        let attributes = clients
            .sqs
            .get_queue_attributes()
            .queue_url(found.queue_url().unwrap_or_default())
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .map_err(err(id, "GetQueueAttributes"))?;
        let attribute = |name: QueueAttributeName| {
            attributes
                .attributes()
                .and_then(|a| a.get(&name))
                .cloned()
                .unwrap_or_default()
        };
        Ok(Some(json!({
            "QueueName": name,
            "MessageRetentionPeriod": attribute(QueueAttributeName::MessageRetentionPeriod)
                .parse::<u32>()
                .ok(),
            "SqsManagedSseEnabled": attribute(QueueAttributeName::SqsManagedSseEnabled) == "true",
        })))
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        let changed: Vec<String> = ["MessageRetentionPeriod", "SqsManagedSseEnabled"]
            .into_iter()
            .filter(|key| differs(actual, desired, key))
            .map(str::to_owned)
            .collect();
        if actual.is_some() && changed.is_empty() {
            return Ok(Vec::new());
        }
        let retention = desired["MessageRetentionPeriod"].to_string();
        let sse = desired["SqsManagedSseEnabled"].to_string();
        let name = text(desired, "QueueName");
        if actual.is_none() {
            clients
                .sqs
                .create_queue()
                .queue_name(&name)
                .attributes(QueueAttributeName::MessageRetentionPeriod, retention)
                .attributes(QueueAttributeName::SqsManagedSseEnabled, sse)
                .send()
                .await
                .map_err(err(id, "CreateQueue"))?;
            return Ok(changed);
        }
        let url = clients
            .sqs
            .get_queue_url()
            .queue_name(&name)
            .send()
            .await
            .map_err(err(id, "GetQueueUrl"))?
            .queue_url()
            .unwrap_or_default()
            .to_owned();
        clients
            .sqs
            .set_queue_attributes()
            .queue_url(url)
            .attributes(QueueAttributeName::MessageRetentionPeriod, retention)
            .attributes(QueueAttributeName::SqsManagedSseEnabled, sse)
            .send()
            .await
            .map_err(err(id, "SetQueueAttributes"))?;
        Ok(changed)
    }

    fn references(&self, _: &Stack, names: &Names, placement: &Placement) -> Vec<Reference> {
        [
            (ids::ETL_DEAD_LETTERS, &names.etl_function),
            (ids::ONBOARDING_DEAD_LETTERS, &names.onboarding_function),
        ]
        .into_iter()
        .map(|(id, function)| {
            let name = queue_name(function);
            let arn = queue_arn(placement, &name);
            Reference::new(id, &name, arn)
        })
        .collect()
    }
}

/// `AWS::SQS::QueuePolicy`: EventBridge may send the rule's undeliverable events to the
/// onboarding dead-letter queue, and only this rule's (EventBridge user guide, "Using
/// dead-letter queues to process undelivered events": the queue needs a resource-based policy
/// for `events.amazonaws.com`, scoped with `aws:SourceArn`).
pub struct DeadLetterQueuePolicy;

#[async_trait]
impl ResourceType for DeadLetterQueuePolicy {
    fn type_name(&self) -> &'static str {
        "AWS::SQS::QueuePolicy"
    }

    fn render(&self, _: &Stack) -> Vec<(String, Value)> {
        let properties = json!({
            "Queues": [{ "Ref": ids::ONBOARDING_DEAD_LETTERS }],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "RuleDeadLetters",
                    "Effect": "Allow",
                    "Principal": { "Service": "events.amazonaws.com" },
                    "Action": "sqs:SendMessage",
                    "Resource": { "Fn::GetAtt": [ids::ONBOARDING_DEAD_LETTERS, "Arn"] },
                    "Condition": { "ArnEquals": { "aws:SourceArn": { "Fn::GetAtt": [ids::RULE, "Arn"] } } },
                }],
            },
        });
        vec![(
            ids::ONBOARDING_DEAD_LETTERS_POLICY.to_owned(),
            entry(self.type_name(), properties),
        )]
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::Absent(
            "on the emulator the rule targets the harness's queue, so EventBridge never sends the onboarding dead-letter queue anything; the policy matters on AWS only",
        )
    }

    fn references(&self, _: &Stack, _: &Names, _: &Placement) -> Vec<Reference> {
        vec![Reference::new(ids::ONBOARDING_DEAD_LETTERS_POLICY, "", "")]
    }
}
