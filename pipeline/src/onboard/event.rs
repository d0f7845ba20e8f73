//! The onboarding handler's input: EventBridge's `EC2 Instance State-change Notification`,
//! read through `aws_lambda_events`' `EventBridgeEvent` with a typed detail, and checked.

use std::fmt;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::{Deserialize, Serialize};

use crate::etl::stream_name::is_instance_id;

/// The `detail-type` of the events the handler acts on.
pub const DETAIL_TYPE: &str = "EC2 Instance State-change Notification";
/// The `source` of the events the handler acts on.
pub const SOURCE: &str = "aws.ec2";

/// The `detail` of an EC2 state-change event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StateChangeDetail {
    /// `i-…`.
    pub instance_id: String,
    /// The state the instance entered.
    pub state: String,
}

/// An instance state, as EC2 names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    /// Launching.
    Pending,
    /// Running: the only state the handler acts on.
    Running,
    /// Stopping.
    Stopping,
    /// Stopped.
    Stopped,
    /// Terminating.
    ShuttingDown,
    /// Terminated.
    Terminated,
    /// A state this code does not know; ignored like every state but running.
    #[serde(untagged)]
    Other(String),
}

impl InstanceState {
    /// Reads EC2's state name.
    pub fn parse(name: &str) -> Self {
        match name {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "stopping" => Self::Stopping,
            "stopped" => Self::Stopped,
            "shutting-down" => Self::ShuttingDown,
            "terminated" => Self::Terminated,
            other => Self::Other(other.to_owned()),
        }
    }

    /// EC2's name of the state.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::ShuttingDown => "shutting-down",
            Self::Terminated => "terminated",
            Self::Other(name) => name,
        }
    }
}

impl fmt::Display for InstanceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A checked state-change event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    /// The event's id (for tracing).
    pub event_id: Option<String>,
    /// The instance.
    pub instance_id: String,
    /// The state it entered.
    pub state: InstanceState,
    /// The account the event came from.
    pub account: Option<String>,
    /// The region the event came from.
    pub region: Option<String>,
}

/// Why an event is not a usable EC2 state-change notification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The JSON does not have the event's shape.
    #[error("malformed EC2 state-change event at {path}: {message}")]
    Malformed {
        /// The JSON path of the bad value.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A different kind of event was routed to this handler.
    #[error(
        "not an EC2 state-change event: source {source_name:?} and detail-type {detail_type:?} (expected {SOURCE:?} and {DETAIL_TYPE:?}); check the EventBridge rule's pattern"
    )]
    WrongKind {
        /// The event's `source`.
        source_name: String,
        /// The event's `detail-type`.
        detail_type: String,
    },
    /// The instance id is not one.
    #[error(
        "malformed EC2 state-change event at $.detail.instance-id: {0:?} is not an instance id (i- and 8 or 17 hex digits)"
    )]
    BadInstanceId(String),
}

impl StateChange {
    /// Reads and checks an event.
    pub fn from_json(event: &serde_json::Value) -> Result<Self, EventError> {
        let parsed: EventBridgeEvent<StateChangeDetail> =
            serde_path_to_error::deserialize(event).map_err(|error| EventError::Malformed {
                path: match error.path().to_string().as_str() {
                    "." | "?" => "$".to_owned(),
                    path => format!("$.{path}"),
                },
                message: error.inner().to_string(),
            })?;
        if parsed.source != SOURCE || parsed.detail_type != DETAIL_TYPE {
            return Err(EventError::WrongKind {
                source_name: parsed.source,
                detail_type: parsed.detail_type,
            });
        }
        let detail = parsed.detail;
        if !is_instance_id(&detail.instance_id) {
            return Err(EventError::BadInstanceId(detail.instance_id));
        }
        Ok(Self {
            event_id: parsed.id,
            state: InstanceState::parse(&detail.state),
            instance_id: detail.instance_id,
            account: parsed.account,
            region: parsed.region,
        })
    }

    /// The event EventBridge delivers for this change, as AWS shapes it.
    pub fn to_event_json(&self, time: &str) -> serde_json::Value {
        let region = self.region.as_deref().unwrap_or("us-east-1");
        let account = self.account.as_deref().unwrap_or("123456789012");
        serde_json::json!({
            "version": "0",
            "id": self.event_id.as_deref().unwrap_or("00000000-0000-0000-0000-000000000000"),
            "detail-type": DETAIL_TYPE,
            "source": SOURCE,
            "account": account,
            "time": time,
            "region": region,
            "resources": [format!("arn:aws:ec2:{region}:{account}:instance/{}", self.instance_id)],
            "detail": {"instance-id": self.instance_id, "state": self.state.as_str()}
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(detail: serde_json::Value) -> serde_json::Value {
        json!({
            "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602",
            "detail-type": DETAIL_TYPE, "source": SOURCE, "account": "123456789012",
            "time": "2021-11-11T21:29:54Z", "region": "us-east-1",
            "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
            "detail": detail
        })
    }

    #[test]
    fn reads_the_documented_event() {
        let change = StateChange::from_json(&event(
            json!({"instance-id": "i-abcd1111", "state": "running"}),
        ))
        .unwrap();
        assert_eq!(change.instance_id, "i-abcd1111");
        assert_eq!(change.state, InstanceState::Running);
        assert_eq!(change.region.as_deref(), Some("us-east-1"));
        let again = StateChange::from_json(&change.to_event_json("2021-11-11T21:29:54Z")).unwrap();
        assert_eq!(again, change);
    }

    #[test]
    fn malformed_events_name_what_is_wrong() {
        let missing = StateChange::from_json(&event(json!({"state": "running"}))).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "malformed EC2 state-change event at $.detail: missing field `instance-id`"
        );
        let wrong_type =
            StateChange::from_json(&event(json!({"instance-id": 5, "state": "running"})))
                .unwrap_err();
        assert!(
            wrong_type
                .to_string()
                .starts_with("malformed EC2 state-change event at $.detail.instance-id: invalid type: integer `5`"),
            "{wrong_type}"
        );
        let bad_id =
            StateChange::from_json(&event(json!({"instance-id": "web-1", "state": "running"})))
                .unwrap_err();
        assert_eq!(bad_id, EventError::BadInstanceId("web-1".to_owned()));
        let mut other = event(json!({"instance-id": "i-abcd1111", "state": "running"}));
        other["detail-type"] = json!("AWS API Call via CloudTrail");
        assert!(matches!(
            StateChange::from_json(&other).unwrap_err(),
            EventError::WrongKind { .. }
        ));
        assert!(matches!(
            StateChange::from_json(&json!([1, 2])).unwrap_err(),
            EventError::Malformed { .. }
        ));
    }

    #[test]
    fn every_documented_state_round_trips_and_unknown_ones_are_kept() {
        for name in [
            "pending",
            "running",
            "stopping",
            "stopped",
            "shutting-down",
            "terminated",
        ] {
            let state = InstanceState::parse(name);
            assert!(!matches!(state, InstanceState::Other(_)), "{name}");
            assert_eq!(state.as_str(), name);
        }
        assert_eq!(
            InstanceState::parse("hibernating"),
            InstanceState::Other("hibernating".to_owned())
        );
    }
}
