//! IAM's evaluation of identity-based policies for one request, as the IAM user guide's
//! "Policy evaluation logic" lays it out for a principal in its own account: an explicit
//! `Deny` in any statement that applies wins; otherwise an `Allow` that applies allows;
//! otherwise the request is implicitly denied.
//!
//! A statement applies when its `Action` (or `NotAction`) and `Resource` (or `NotResource`)
//! match, with `*` and `?` wildcards ("IAM JSON policy elements": actions match without regard
//! to case, resources with it), and every condition holds: within one operator the keys are
//! ANDed and a key's values ORed; a key missing from the request fails a condition unless the
//! operator is a negated one or ends in `IfExists` ("Condition operators"). The operators are
//! the string, ARN and Bool families; any other operator is an error, never a guess.
//! Permissions boundaries, session policies and SCPs are not modelled: the stack uses none.

use std::collections::BTreeMap;

use serde_json::Value;

/// One request: an action on one resource, with the condition keys that apply to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// `service:Action`, such as `ssm:SendCommand`.
    pub action: &'a str,
    /// The resource's ARN, or `*` for actions without resource-level permissions.
    pub resource: &'a str,
    /// Condition keys and their values, such as `ssm:resourceTag/CCP-Managed`.
    pub context: &'a BTreeMap<String, String>,
}

/// What IAM decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// An `Allow` statement applies (and no `Deny`); which one.
    Allowed(String),
    /// A `Deny` statement applies; which one.
    ExplicitlyDenied(String),
    /// No statement allows it.
    ImplicitlyDenied,
}

impl Decision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed(_))
    }
}

/// A policy the evaluator cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A condition operator outside the modelled families.
    #[error("statement {statement}: condition operator {operator} is not modelled")]
    UnsupportedOperator {
        /// The statement (its `Sid`, or its position).
        statement: String,
        /// The operator.
        operator: String,
    },
    /// A statement without a readable `Effect`, `Action` or `Resource`.
    #[error("statement {statement}: {problem}")]
    Malformed {
        /// The statement.
        statement: String,
        /// What is wrong.
        problem: String,
    },
}

/// The decision of `statements` (the `Statement` arrays of every policy of the principal, in
/// one list) on `request`.
pub fn evaluate(statements: &[Value], request: &Request<'_>) -> Result<Decision, PolicyError> {
    let mut allowed = None;
    for (index, statement) in statements.iter().enumerate() {
        let label = statement["Sid"]
            .as_str()
            .map_or_else(|| format!("#{index}"), str::to_owned);
        if !applies(statement, &label, request)? {
            continue;
        }
        match statement["Effect"].as_str() {
            Some("Deny") => return Ok(Decision::ExplicitlyDenied(label)),
            Some("Allow") => {
                allowed.get_or_insert(label);
            }
            other => {
                return Err(PolicyError::Malformed {
                    statement: label,
                    problem: format!("Effect {other:?} is neither Allow nor Deny"),
                });
            }
        }
    }
    Ok(allowed.map_or(Decision::ImplicitlyDenied, Decision::Allowed))
}

fn applies(statement: &Value, label: &str, request: &Request<'_>) -> Result<bool, PolicyError> {
    let action = element(statement, label, "Action", "NotAction", |pattern| {
        matches_ignoring_case(pattern, request.action)
    })?;
    let resource = element(statement, label, "Resource", "NotResource", |pattern| {
        wildcard(pattern, request.resource)
    })?;
    Ok(action && resource && conditions_hold(statement, label, request.context)?)
}

/// Whether `X` (or `NotX`) of the statement matches.
fn element(
    statement: &Value,
    label: &str,
    positive: &str,
    negative: &str,
    matches: impl Fn(&str) -> bool,
) -> Result<bool, PolicyError> {
    let (values, negated) = match (&statement[positive], &statement[negative]) {
        (Value::Null, Value::Null) => {
            return Err(PolicyError::Malformed {
                statement: label.to_owned(),
                problem: format!("neither {positive} nor {negative}"),
            });
        }
        (Value::Null, values) => (values, true),
        (values, _) => (values, false),
    };
    let any = strings(values).iter().any(|pattern| matches(pattern));
    Ok(any != negated)
}

/// The actions a statement names (`Action`, as written).
pub fn actions(statement: &Value) -> Vec<String> {
    strings(&statement["Action"])
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect(),
        Value::Bool(flag) => vec![flag.to_string()],
        Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

fn conditions_hold(
    statement: &Value,
    label: &str,
    context: &BTreeMap<String, String>,
) -> Result<bool, PolicyError> {
    let Some(operators) = statement["Condition"].as_object() else {
        return Ok(true);
    };
    for (operator, keys) in operators {
        let (base, if_exists) = match operator.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (operator.as_str(), false),
        };
        let test: fn(&str, &str) -> bool = match base {
            "StringEquals" | "ArnEquals" | "StringNotEquals" | "ArnNotEquals" | "Bool" => {
                |value, given| value == given
            }
            "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => {
                |value, given| value.eq_ignore_ascii_case(given)
            }
            "StringLike" | "ArnLike" | "StringNotLike" | "ArnNotLike" => wildcard,
            _ => {
                return Err(PolicyError::UnsupportedOperator {
                    statement: label.to_owned(),
                    operator: operator.clone(),
                });
            }
        };
        let negated = base.contains("Not");
        for (key, values) in keys.as_object().into_iter().flatten() {
            let holds = match context.get(key) {
                None => if_exists || negated,
                Some(given) => {
                    let any = strings(values).iter().any(|value| test(value, given));
                    any != negated
                }
            };
            if !holds {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn matches_ignoring_case(pattern: &str, text: &str) -> bool {
    wildcard(&pattern.to_ascii_lowercase(), &text.to_ascii_lowercase())
}

/// `*` matches any run of characters (`:` and `/` included), `?` any one character.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn decide(
        statements: &Value,
        action: &str,
        resource: &str,
        context: &[(&str, &str)],
    ) -> Decision {
        let context = context
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let request = Request {
            action,
            resource,
            context: &context,
        };
        evaluate(statements.as_array().unwrap(), &request).unwrap()
    }

    /// The IAM user guide's example of `ssm:resourceTag` ("Restricting access to root-level
    /// commands through SSM Agent" / "Controlling access based on tags"): SendCommand allowed
    /// on instances whose tag matches.
    #[test]
    fn a_tag_condition_allows_tagged_instances_only() {
        let statements = json!([
            {
                "Sid": "Tagged",
                "Effect": "Allow",
                "Action": "ssm:SendCommand",
                "Resource": "arn:aws:ec2:us-east-1:111122223333:instance/*",
                "Condition": { "StringEquals": { "ssm:resourceTag/Finance": ["WebServers"] } },
            },
        ]);
        let instance = "arn:aws:ec2:us-east-1:111122223333:instance/i-02573cafcfEXAMPLE";
        assert_eq!(
            decide(
                &statements,
                "ssm:SendCommand",
                instance,
                &[("ssm:resourceTag/Finance", "WebServers")]
            ),
            Decision::Allowed("Tagged".to_owned())
        );
        assert_eq!(
            decide(
                &statements,
                "ssm:SendCommand",
                instance,
                &[("ssm:resourceTag/Finance", "other")]
            ),
            Decision::ImplicitlyDenied
        );
        assert_eq!(
            decide(&statements, "ssm:SendCommand", instance, &[]),
            Decision::ImplicitlyDenied,
            "a missing key fails StringEquals"
        );
        assert_eq!(
            decide(
                &statements,
                "SSM:sendcommand",
                instance,
                &[("ssm:resourceTag/Finance", "WebServers")]
            ),
            Decision::Allowed("Tagged".to_owned()),
            "actions match without regard to case"
        );
    }

    #[test]
    fn an_explicit_deny_wins_over_any_allow() {
        let statements = json!([
            { "Effect": "Allow", "Action": "s3:*", "Resource": "*" },
            { "Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "arn:aws:s3:::b/*" },
        ]);
        assert_eq!(
            decide(&statements, "s3:DeleteObject", "arn:aws:s3:::b/k", &[]),
            Decision::ExplicitlyDenied("NoDeletes".to_owned())
        );
        assert_eq!(
            decide(&statements, "s3:GetObject", "arn:aws:s3:::b/k", &[]),
            Decision::Allowed("#0".to_owned())
        );
    }

    #[test]
    fn resources_match_with_wildcards_and_case() {
        let statements = json!([
            { "Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": "arn:aws:ssm:*:*:parameter/Amazon?loudWatch-*" },
        ]);
        assert!(
            decide(
                &statements,
                "ssm:GetParameter",
                "arn:aws:ssm:us-east-1:1:parameter/AmazonCloudWatch-linux",
                &[]
            )
            .is_allowed()
        );
        assert!(
            !decide(
                &statements,
                "ssm:GetParameter",
                "arn:aws:ssm:us-east-1:1:parameter/amazoncloudwatch-linux",
                &[]
            )
            .is_allowed()
        );
        assert!(
            !decide(
                &statements,
                "ssm:GetParameters",
                "arn:aws:ssm:us-east-1:1:parameter/AmazonCloudWatch-linux",
                &[]
            )
            .is_allowed()
        );
    }

    #[test]
    fn negated_elements_and_operators_and_if_exists() {
        let statements = json!([
            {
                "Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*",
                "Condition": { "BoolIfExists": { "aws:SecureTransport": "false" } },
            },
            {
                "Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::b/secret/*",
                "Condition": { "StringNotEquals": { "aws:PrincipalAccount": "999999999999" } },
            },
        ]);
        assert!(
            decide(
                &statements,
                "s3:GetObject",
                "arn:aws:s3:::b/logs/x",
                &[("aws:SecureTransport", "false")]
            )
            .is_allowed()
        );
        assert!(matches!(
            decide(
                &statements,
                "s3:PutObject",
                "arn:aws:s3:::b/logs/x",
                &[("aws:SecureTransport", "false")]
            ),
            Decision::ExplicitlyDenied(_)
        ));
        assert!(
            matches!(
                decide(&statements, "s3:PutObject", "arn:aws:s3:::b/logs/x", &[]),
                Decision::ExplicitlyDenied(_)
            ),
            "BoolIfExists holds when the key is missing"
        );
        assert!(!decide(&statements, "s3:GetObject", "arn:aws:s3:::b/secret/x", &[]).is_allowed());
        assert!(
            !decide(
                &statements,
                "s3:GetObject",
                "arn:aws:s3:::b/logs/x",
                &[("aws:PrincipalAccount", "999999999999")]
            )
            .is_allowed()
        );
    }

    #[test]
    fn an_unmodelled_operator_is_an_error() {
        let statements = json!([
            { "Effect": "Allow", "Action": "*", "Resource": "*", "Condition": { "IpAddress": { "aws:SourceIp": "10.0.0.0/8" } } },
        ]);
        let context = BTreeMap::new();
        let request = Request {
            action: "s3:GetObject",
            resource: "*",
            context: &context,
        };
        assert_eq!(
            evaluate(statements.as_array().unwrap(), &request)
                .unwrap_err()
                .to_string(),
            "statement #0: condition operator IpAddress is not modelled"
        );
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("*", ""));
        assert!(wildcard("a*c", "abbbc"));
        assert!(wildcard("a*c*", "acxc"));
        assert!(!wildcard("a?c", "ac"));
        assert!(wildcard(
            "arn:aws:logs:*:*:log-group:/aws/lambda/f:*",
            "arn:aws:logs:r:1:log-group:/aws/lambda/f:log-stream:x"
        ));
        assert!(!wildcard(
            "arn:aws:s3:::b/logs/*",
            "arn:aws:s3:::b/athena/x"
        ));
    }
}
