//! The audit: every provisioned resource read back and compared with the resolved template,
//! property by property (each leaf of the JSON). What the emulator does not hold is reported as
//! such, with the reason, rather than passed over.

use std::fmt;

use serde_json::Value;

use crate::Deployment;
use crate::provision::{Clients, ProvisionError, comparable};
use crate::resources::{Target, by_type, skip_reason_with};

/// How the resources being audited were made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// By [`crate::provision::apply`].
    Provisioned,
    /// By a CloudFormation stack from the emulator's subset of the template; these logical ids
    /// were left out of it.
    CloudFormation {
        /// Left out of the template.
        left_out: Vec<String>,
    },
}

/// The verdict on one property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Read back equal.
    Match,
    /// Read back different.
    Differs,
    /// Not read back, and not a known gap.
    Missing,
    /// A known gap of the emulator.
    NotHeld(&'static str),
    /// The resource type is not provisioned on the emulator.
    NotProvisioned(&'static str),
}

/// One line of the audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Logical id.
    pub resource: String,
    /// CloudFormation type.
    pub kind: String,
    /// The property's path, e.g. `LifecycleConfiguration.Rules[0].ExpirationInDays`.
    pub property: String,
    /// The template's value (JSON).
    pub expected: String,
    /// The emulator's value (JSON), if any.
    pub actual: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
}

impl Finding {
    /// Whether this line is a failure.
    pub fn is_failure(&self) -> bool {
        matches!(self.verdict, Verdict::Differs | Verdict::Missing)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match &self.verdict {
            Verdict::Match => "match".to_owned(),
            Verdict::Differs => "DIFFERS".to_owned(),
            Verdict::Missing => "MISSING".to_owned(),
            Verdict::NotHeld(why) => format!("not held by the emulator: {why}"),
            Verdict::NotProvisioned(why) => format!("not provisioned: {why}"),
        };
        let shorten = |s: &str| {
            if s.chars().count() > 60 {
                format!("{}…", s.chars().take(59).collect::<String>())
            } else {
                s.to_owned()
            }
        };
        write!(
            f,
            "{} {} | expected {} | actual {} | {verdict}",
            self.resource,
            self.property,
            shorten(&self.expected),
            self.actual
                .as_deref()
                .map_or_else(|| "-".to_owned(), shorten),
        )
    }
}

/// Flattens JSON into `(path, leaf)` pairs.
pub fn leaves(value: &Value) -> Vec<(String, Value)> {
    fn walk(path: String, value: &Value, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let next = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(next, v, out);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for (i, v) in items.iter().enumerate() {
                    walk(format!("{path}[{i}]"), v, out);
                }
            }
            leaf => out.push((path, leaf.clone())),
        }
    }
    let mut out = Vec::new();
    walk(String::new(), value, &mut out);
    out
}

/// Whether every leaf of `desired` is in `actual` with the same value (what `actual` holds
/// beyond them does not count).
pub(crate) fn matches(desired: &Value, actual: &Value) -> bool {
    leaves(desired)
        .iter()
        .all(|(path, leaf)| lookup(actual, path) == Some(leaf))
}

/// The value at a path of [`leaves`]. Keys may hold dots themselves (a Glue table's
/// `projection.enabled` parameter), so each step tries the object's keys the path starts with,
/// longest first.
fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return Some(value);
    }
    if let Some(rest) = path.strip_prefix('[') {
        let (index, rest) = rest.split_once(']')?;
        let item = value.get(index.parse::<usize>().ok()?)?;
        return lookup(item, rest.strip_prefix('.').unwrap_or(rest));
    }
    let map = value.as_object()?;
    let mut keys: Vec<&String> = map
        .keys()
        .filter(|k| {
            path.strip_prefix(k.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        })
        .collect();
    keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
    keys.into_iter().find_map(|key| {
        let rest = &path[key.len()..];
        lookup(&map[key], rest.strip_prefix('.').unwrap_or(rest))
    })
}

fn gap(origin: &Origin, kind: &str, property: &str) -> Option<&'static str> {
    if *origin == Origin::Provisioned {
        return None;
    }
    by_type(kind)?
        .emulator_cloudformation_drops()
        .iter()
        .find(|(p, _)| property.starts_with(p))
        .map(|(_, why)| *why)
}

/// Reads every resource back and compares it with the template.
pub async fn audit(
    clients: &Clients,
    deployment: &Deployment,
    origin: &Origin,
) -> Result<Vec<Finding>, ProvisionError> {
    let mut findings = Vec::new();
    for resource in deployment.resources()? {
        let left_out = match origin {
            Origin::CloudFormation { left_out } if left_out.contains(&resource.id) => Some(
                "left out of the emulator's template (unsupported there, or refers to what is)",
            ),
            _ => None,
        };
        let (kind_impl, skipped) = (
            resource.resource_type(),
            skip_reason_with(&resource.kind, clients),
        );
        let (Some(kind_impl), None, None) = (kind_impl, left_out, skipped) else {
            findings.push(Finding {
                resource: resource.id,
                kind: resource.kind,
                property: "*".to_owned(),
                expected: "(the resource)".to_owned(),
                actual: None,
                verdict: Verdict::NotProvisioned(left_out.or(skipped).unwrap_or_default()),
            });
            continue;
        };
        let (id, kind) = (&resource.id, &resource.kind);
        let desired = deployment.on_emulator_properties(&resource);
        let at = Target {
            clients,
            id,
            desired: &desired,
        };
        let actual = comparable(kind_impl.read(at).await?);
        for (property, expected) in leaves(&desired) {
            let found = actual.as_ref().and_then(|a| lookup(a, &property)).cloned();
            let verdict = match &found {
                Some(v) if *v == expected => Verdict::Match,
                Some(_) => gap(origin, kind, &property).map_or(Verdict::Differs, Verdict::NotHeld),
                None => gap(origin, kind, &property).map_or(Verdict::Missing, Verdict::NotHeld),
            };
            findings.push(Finding {
                resource: id.clone(),
                kind: kind.clone(),
                property,
                expected: expected.to_string(),
                actual: found.map(|v| v.to_string()),
                verdict,
            });
        }
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaves_and_lookup_agree() {
        let value = json!({"a": {"b": [1, {"c": "x"}]}, "d": [], "e": true});
        let flat = leaves(&value);
        assert_eq!(flat.len(), 4);
        for (path, leaf) in &flat {
            assert_eq!(lookup(&value, path), Some(leaf), "{path}");
        }
        assert_eq!(lookup(&value, "a.b[5]"), None);
        let dotted = json!({"Parameters": {"projection.enabled": "true", "projection": {"x": 1}}});
        for (path, leaf) in &leaves(&dotted) {
            assert_eq!(lookup(&dotted, path), Some(leaf), "{path}");
        }
    }
}
