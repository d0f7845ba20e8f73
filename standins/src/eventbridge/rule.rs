//! An EventBridge rule where the world has no EventBridge (the memory world): EC2's
//! state-change event built as EC2 emits it, and the rule's event pattern applied to it before
//! it reaches the rule's target. The emulator world puts the event with PutEvents and
//! LocalStack's rule matches it.
//!
//! Matching follows the EventBridge User Guide, "Event pattern syntax": a pattern names only
//! the fields it matches, the event must hold every one of them with the same nesting, and a
//! field matches when its value is one of the pattern's array of values; every other field of
//! the event is ignored. The comparison operators of "Content filtering" (`prefix`,
//! `anything-but`, `numeric`, `exists`, ...) are not modelled: a pattern that uses one is
//! refused by name rather than guessed at.

use pipeline::onboard::event::{DETAIL_TYPE, SOURCE};
use serde_json::{Map, Value, json};

/// A pattern this stand-in cannot apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "event pattern at {path}: {found} is not modelled by the harness's EventBridge rule (exact \
     values in arrays and nested objects are; content filters are not)"
)]
pub struct UnmodelledPattern {
    /// Where in the pattern (`detail.state`).
    pub path: String,
    /// What was found there.
    pub found: String,
}

/// Whether `event` matches `pattern`.
pub fn matches(pattern: &Value, event: &Value) -> Result<bool, UnmodelledPattern> {
    match_fields(pattern, event, "")
}

fn match_fields(pattern: &Value, event: &Value, path: &str) -> Result<bool, UnmodelledPattern> {
    let Value::Object(fields) = pattern else {
        return Err(unmodelled(path, pattern));
    };
    let mut all = true;
    for (name, wanted) in fields {
        let at = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        let found = event.get(name);
        let matched = match wanted {
            Value::Object(_) => match found {
                Some(inner @ Value::Object(_)) => match_fields(wanted, inner, &at)?,
                _ => {
                    // Still refuse what cannot be applied, whatever this event holds.
                    match_fields(wanted, &Value::Object(Map::new()), &at)?;
                    false
                }
            },
            Value::Array(values) => {
                if let Some(bad) = values.iter().find(|v| v.is_object() || v.is_array()) {
                    return Err(unmodelled(&at, bad));
                }
                found.is_some_and(|value| values.contains(value))
            }
            other => return Err(unmodelled(&at, other)),
        };
        all &= matched;
    }
    Ok(all)
}

fn unmodelled(path: &str, found: &Value) -> UnmodelledPattern {
    UnmodelledPattern {
        path: if path.is_empty() {
            "the top".to_owned()
        } else {
            path.to_owned()
        },
        found: found.to_string(),
    }
}

/// The event EC2 emits when `instance_id` enters `state` (the EventBridge User Guide's
/// "EC2 Instance State-change Notification" example, as `fixtures/eventbridge/` keeps it).
pub fn state_change_event(
    event_id: &str,
    instance_id: &str,
    state: &str,
    account: &str,
    region: &str,
    at_ms: i64,
) -> Value {
    let time = time::OffsetDateTime::from_unix_timestamp(at_ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    json!({
        "version": "0",
        "id": event_id,
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": account,
        "time": time,
        "region": region,
        "resources": [format!("arn:aws:ec2:{region}:{account}:instance/{instance_id}")],
        "detail": { "instance-id": instance_id, "state": state }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guide's own example pattern ("Event pattern syntax") against the fixtures' events.
    #[test]
    fn the_guides_pattern_matches_only_the_state_it_names() {
        let pattern = json!({
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Instance State-change Notification"],
            "detail": { "state": ["terminated"] }
        });
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/eventbridge");
        for (file, expected) in [("ec2-running.json", false), ("ec2-pending.json", false)] {
            let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
            let event: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            assert_eq!(matches(&pattern, &event), Ok(expected), "{file}");
        }
        let terminated = state_change_event("e", "i-1", "terminated", "1", "us-east-1", 0);
        assert_eq!(matches(&pattern, &terminated), Ok(true));
        // Several values: any of them.
        let either = json!({ "detail": { "state": ["running", "terminated"] } });
        assert_eq!(matches(&either, &terminated), Ok(true));
        // A field the event lacks does not match.
        let absent = json!({ "detail": { "reason": ["x"] } });
        assert_eq!(matches(&absent, &terminated), Ok(false));
    }

    /// The stack's own rule takes `running` and nothing else.
    #[test]
    fn the_stacks_rule_takes_running_events_only() {
        let pattern = stack::resources::rule_event_pattern();
        for (state, expected) in [("running", true), ("pending", false), ("stopped", false)] {
            let event = state_change_event("e", "i-1", state, "000000000000", "us-east-1", 0);
            assert_eq!(matches(&pattern, &event), Ok(expected), "{state}");
        }
    }

    #[test]
    fn content_filters_are_refused_by_name() {
        let pattern = json!({ "detail": { "state": [{ "anything-but": "pending" }] } });
        let event = state_change_event("e", "i-1", "running", "1", "us-east-1", 0);
        let error = matches(&pattern, &event).unwrap_err();
        assert_eq!(error.path, "detail.state");
        assert!(error.to_string().contains("anything-but"), "{error}");
    }

    /// The event built here has the fixture's keys and shape.
    #[test]
    fn the_built_event_has_the_documented_shape() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/eventbridge");
        let text = std::fs::read_to_string(root.join("ec2-running.json")).unwrap_or_default();
        let fixture: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let built = state_change_event(
            "7bf73129-1428-4cd3-a780-95db273d1602",
            "i-abcd1111",
            "running",
            "123456789012",
            "us-east-1",
            1_636_666_194_000,
        );
        assert_eq!(built, fixture);
    }
}
