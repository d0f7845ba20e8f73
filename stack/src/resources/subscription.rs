//! `AWS::Logs::SubscriptionFilter`: the log group's events that match the definition's filter
//! pattern go to the ETL function. The emulator path does not create it: LocalStack community
//! ignores filter patterns, so the harness delivers the payloads itself.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{OnEmulator, ResourceType};
use crate::Stack;
use crate::cfn::{get_att, ids, reference};

/// Subscription filters.
pub struct SubscriptionFilter;

#[async_trait]
impl ResourceType for SubscriptionFilter {
    fn type_name(&self) -> &'static str {
        "AWS::Logs::SubscriptionFilter"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let d = &stack.definition;
        let properties = json!({
                "FilterName": d.logs.subscription_filter_name,
                "LogGroupName": reference(ids::LOG_GROUP),
                "FilterPattern": d.logs.filter_pattern,
                "DestinationArn": get_att(ids::ETL_FUNCTION, "Arn"),
        });
        let resource = json!({
            "Type": self.type_name(),
            "DependsOn": ids::ETL_PERMISSION,
            "Properties": properties,
        });
        vec![(ids::SUBSCRIPTION.to_owned(), resource)]
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::StoodInFor(
            "LocalStack community ignores filter patterns and sends no CONTROL_MESSAGE; the harness delivers subscription payloads itself, honouring the pattern with pipeline::filter_pattern",
        )
    }
}
