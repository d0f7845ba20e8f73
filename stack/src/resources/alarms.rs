//! The alarms that make failures visible on AWS, and the topic they notify. One list of
//! [`AlarmSpec`]s is rendered as `AWS::CloudWatch::Alarm`s and evaluated by the harness against
//! each run's own measurements (so a run's report says which alarm would have fired and why):
//!
//! - each function's dead-letter queue holding a message (`AWS/SQS`
//!   `ApproximateNumberOfMessagesVisible` >= 1): Lambda gave up on an event;
//! - each function's errors and throttles (`AWS/Lambda` `Errors`, `Throttles` >= 1 in five
//!   minutes): an onboarding that failed (it fails the invocation rather than succeed in
//!   silence) or an ETL payload that did not go through;
//! - the delivery stream's freshness (`AWS/Firehose` `DeliveryToS3.DataFreshness`, the age of
//!   the oldest record not yet in S3, above three buffering intervals: our threshold, AWS gives
//!   none) and its failed format conversions (`FailedConversion.Records` >= 1).
//!
//! The metric names and dimensions are the services' own (CloudWatch User Guide, "AWS services
//! that publish CloudWatch metrics": Lambda's function metrics, SQS's queue metrics, Firehose's
//! data delivery and format conversion metrics). The topic takes an optional e-mail
//! subscription from the `AlarmEmail` parameter.
//!
//! On the emulator they are stood in for: the metrics come from Lambda and Firehose, which the
//! harness runs, so the harness evaluates the alarms itself.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{OnEmulator, Reference, ResourceType, entry};
use crate::cfn::reference;
use crate::definition::StackDefinition;
use crate::{Names, Placement, Stack, dead_letter_queue_name};

/// The topic's logical id.
pub const TOPIC: &str = "AlarmTopic";
/// The e-mail subscription's logical id.
pub const SUBSCRIPTION: &str = "AlarmEmailSubscription";
/// Freshness alarm threshold, in buffering intervals (ours: AWS recommends none).
pub const FRESHNESS_INTERVALS: i64 = 3;
/// Every alarm's period, seconds.
pub const PERIOD_SECONDS: i64 = 300;

/// Why the emulator path stands in for the alarms and the topic.
const STOOD_IN: &str = "the metrics these alarms watch come from Lambda and Firehose, which the harness runs: it evaluates each alarm against the run's own measurements and the report says which would have fired";

/// One alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSpec {
    /// Logical id.
    pub id: String,
    /// `AlarmName`.
    pub name: String,
    /// What it means, for the report and the alarm's description.
    pub description: String,
    /// `Namespace`.
    pub namespace: &'static str,
    /// `MetricName`.
    pub metric: &'static str,
    /// The one dimension: name and value.
    pub dimension: (&'static str, String),
    /// `Statistic`.
    pub statistic: &'static str,
    /// `Threshold`.
    pub threshold: f64,
    /// `ComparisonOperator`.
    pub comparison: &'static str,
}

impl AlarmSpec {
    /// Whether `value` breaches the threshold.
    pub fn breached(&self, value: f64) -> bool {
        match self.comparison {
            "GreaterThanThreshold" => value > self.threshold,
            _ => value >= self.threshold,
        }
    }
}

/// The alarm topic's name.
pub fn topic_name(d: &StackDefinition) -> String {
    format!("ccp-log-pipeline-alarms-{}", d.account.name)
}

/// Every alarm of the stack.
pub fn alarm_specs(d: &StackDefinition) -> Vec<AlarmSpec> {
    let mut specs = Vec::new();
    for (id, function) in [
        ("Etl", &d.logs.etl_function_name),
        ("Onboarding", &d.onboarding.function_name),
    ] {
        specs.push(AlarmSpec {
            id: format!("{id}DeadLettersAlarm"),
            name: format!("{function}-dead-letters"),
            description: format!(
                "Lambda gave up on an event of {function} after its retries: it waits in the dead-letter queue for a redrive"
            ),
            namespace: "AWS/SQS",
            metric: "ApproximateNumberOfMessagesVisible",
            dimension: ("QueueName", dead_letter_queue_name(function)),
            statistic: "Maximum",
            threshold: 1.0,
            comparison: "GreaterThanOrEqualToThreshold",
        });
        for (metric, what) in [
            ("Errors", "failed invocations (Lambda retries them)"),
            ("Throttles", "throttled invocations"),
        ] {
            specs.push(AlarmSpec {
                id: format!("{id}{metric}Alarm"),
                name: format!("{function}-{}", metric.to_lowercase()),
                description: format!("{function}: {what}"),
                namespace: "AWS/Lambda",
                metric,
                dimension: ("FunctionName", function.clone()),
                statistic: "Sum",
                threshold: 1.0,
                comparison: "GreaterThanOrEqualToThreshold",
            });
        }
    }
    let stream = &d.firehose.stream_name;
    specs.push(AlarmSpec {
        id: "DeliveryFreshnessAlarm".to_owned(),
        name: format!("{stream}-freshness"),
        description: format!(
            "{stream}: the oldest record not yet in S3 is older than {FRESHNESS_INTERVALS} buffering intervals (delivery to S3 is failing or slow)"
        ),
        namespace: "AWS/Firehose",
        metric: "DeliveryToS3.DataFreshness",
        dimension: ("DeliveryStreamName", stream.clone()),
        statistic: "Maximum",
        threshold: (FRESHNESS_INTERVALS * d.firehose.buffer_interval_seconds) as f64,
        comparison: "GreaterThanThreshold",
    });
    specs.push(AlarmSpec {
        id: "DeliveryConversionAlarm".to_owned(),
        name: format!("{stream}-failed-conversions"),
        description: format!(
            "{stream}: records failed format conversion (written under the error prefix)"
        ),
        namespace: "AWS/Firehose",
        metric: "FailedConversion.Records",
        dimension: ("DeliveryStreamName", stream.clone()),
        statistic: "Sum",
        threshold: 1.0,
        comparison: "GreaterThanOrEqualToThreshold",
    });
    specs
}

/// `AWS::CloudWatch::Alarm`.
pub struct Alarm;

#[async_trait]
impl ResourceType for Alarm {
    fn type_name(&self) -> &'static str {
        "AWS::CloudWatch::Alarm"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        alarm_specs(&stack.definition)
            .into_iter()
            .map(|spec| {
                let properties = json!({
                    "AlarmName": spec.name,
                    "AlarmDescription": spec.description,
                    "Namespace": spec.namespace,
                    "MetricName": spec.metric,
                    "Dimensions": [{ "Name": spec.dimension.0, "Value": spec.dimension.1 }],
                    "Statistic": spec.statistic,
                    "Period": PERIOD_SECONDS,
                    "EvaluationPeriods": 1,
                    "Threshold": spec.threshold,
                    "ComparisonOperator": spec.comparison,
                    "TreatMissingData": "notBreaching",
                    "AlarmActions": [reference(TOPIC)],
                    "OKActions": [reference(TOPIC)],
                });
                (spec.id, entry(self.type_name(), properties))
            })
            .collect()
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::StoodInFor(STOOD_IN)
    }
}

/// `AWS::SNS::Topic`: where the alarms notify.
pub struct AlarmTopic;

#[async_trait]
impl ResourceType for AlarmTopic {
    fn type_name(&self) -> &'static str {
        "AWS::SNS::Topic"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        vec![(
            TOPIC.to_owned(),
            entry(
                self.type_name(),
                json!({
                    "TopicName": topic_name(&stack.definition),
                    "KmsMasterKeyId": "alias/aws/sns",
                }),
            ),
        )]
    }

    fn references(&self, stack: &Stack, _: &Names, placement: &Placement) -> Vec<Reference> {
        let name = topic_name(&stack.definition);
        let arn = format!(
            "arn:aws:sns:{}:{}:{name}",
            placement.region, placement.account_id
        );
        // `Ref` of a topic gives its ARN.
        vec![Reference::new(TOPIC, &arn, arn.clone())]
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::StoodInFor(STOOD_IN)
    }
}

/// `AWS::SNS::Subscription`: the `AlarmEmail` parameter's address, when given.
pub struct AlarmSubscription;

#[async_trait]
impl ResourceType for AlarmSubscription {
    fn type_name(&self) -> &'static str {
        "AWS::SNS::Subscription"
    }

    fn render(&self, _stack: &Stack) -> Vec<(String, Value)> {
        let mut subscription = entry(
            self.type_name(),
            json!({
                "TopicArn": reference(TOPIC),
                "Protocol": "email",
                "Endpoint": reference("AlarmEmail"),
            }),
        );
        subscription["Condition"] = json!("HasAlarmEmail");
        vec![(SUBSCRIPTION.to_owned(), subscription)]
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::StoodInFor(STOOD_IN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alarm_watches_a_metric_of_the_stack_and_notifies_the_topic() {
        let stack = crate::Stack::from_definition(
            crate::StackDefinition::default(),
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../pipeline.toml")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let rendered = Alarm.render(&stack);
        assert_eq!(rendered.len(), alarm_specs(&stack.definition).len());
        for (_, alarm) in &rendered {
            assert_eq!(
                alarm["Properties"]["AlarmActions"][0],
                json!({ "Ref": TOPIC })
            );
            assert_eq!(alarm["Properties"]["TreatMissingData"], "notBreaching");
        }
    }
}
