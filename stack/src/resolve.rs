//! Resolves a rendered template's intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Sub`,
//! `Fn::If`, `Fn::Equals`, `Fn::Not`) for one placement, so that the provisioner applies, and
//! the audit compares, exactly the template's properties.

use std::collections::BTreeMap;

use crate::Placement;
use serde_json::{Map, Value};

/// Names and ARNs of the resources, and parameter values.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// `Ref` values: resource logical ids and parameters.
    pub refs: BTreeMap<String, String>,
    /// `Fn::GetAtt` values, keyed `Id.Attribute`.
    pub attributes: BTreeMap<String, String>,
    /// Condition values.
    pub conditions: BTreeMap<String, bool>,
}

/// Something the resolver does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot resolve {what} in the template")]
pub struct ResolveError {
    /// The reference.
    pub what: String,
}

impl Context {
    /// The pseudo parameters of `placement`.
    pub fn new(placement: &Placement) -> Self {
        let mut refs = BTreeMap::new();
        refs.insert("AWS::AccountId".to_owned(), placement.account_id.clone());
        refs.insert("AWS::Region".to_owned(), placement.region.clone());
        refs.insert("AWS::Partition".to_owned(), "aws".to_owned());
        Self {
            refs,
            ..Self::default()
        }
    }

    /// Resolves every intrinsic in `value`; `AWS::NoValue` removes the key or item.
    pub fn resolve(&self, value: &Value) -> Result<Value, ResolveError> {
        Ok(self.resolve_opt(value)?.unwrap_or(Value::Null))
    }

    fn resolve_opt(&self, value: &Value) -> Result<Option<Value>, ResolveError> {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let (key, argument) = map
                    .iter()
                    .next()
                    .map(|(k, v)| (k.as_str(), v))
                    .unwrap_or(("", &Value::Null));
                match key {
                    "Ref" => {
                        let name = argument.as_str().unwrap_or_default();
                        if name == "AWS::NoValue" {
                            return Ok(None);
                        }
                        self.lookup_ref(name).map(|v| Some(Value::String(v)))
                    }
                    "Fn::GetAtt" => {
                        let parts: Vec<&str> = argument
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .collect();
                        self.lookup_attribute(&parts.join("."))
                            .map(|v| Some(Value::String(v)))
                    }
                    "Fn::Sub" => self
                        .substitute(argument.as_str().unwrap_or_default())
                        .map(|s| Some(Value::String(s))),
                    "Fn::If" => {
                        let items = argument.as_array().cloned().unwrap_or_default();
                        let [condition, then, otherwise] = items.as_slice() else {
                            return Err(ResolveError {
                                what: format!("Fn::If {argument}"),
                            });
                        };
                        let name = condition.as_str().unwrap_or_default();
                        let holds = *self.conditions.get(name).ok_or_else(|| ResolveError {
                            what: format!("condition {name}"),
                        })?;
                        self.resolve_opt(if holds { then } else { otherwise })
                    }
                    "Fn::Equals" => {
                        let items = argument.as_array().cloned().unwrap_or_default();
                        let resolved: Result<Vec<Value>, _> =
                            items.iter().map(|v| self.resolve(v)).collect();
                        let resolved = resolved?;
                        Ok(Some(Value::Bool(
                            resolved.len() == 2 && resolved[0] == resolved[1],
                        )))
                    }
                    "Fn::Not" => {
                        let inner = argument
                            .as_array()
                            .and_then(|a| a.first())
                            .cloned()
                            .unwrap_or_default();
                        let value = self.resolve(&inner)?;
                        Ok(Some(Value::Bool(value == Value::Bool(false))))
                    }
                    _ => self.resolve_map(map).map(Some),
                }
            }
            Value::Object(map) => self.resolve_map(map).map(Some),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = self.resolve_opt(item)? {
                        out.push(v);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            other => Ok(Some(other.clone())),
        }
    }

    fn resolve_map(&self, map: &Map<String, Value>) -> Result<Value, ResolveError> {
        let mut out = Map::new();
        for (key, value) in map {
            if let Some(v) = self.resolve_opt(value)? {
                out.insert(key.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    fn lookup_ref(&self, name: &str) -> Result<String, ResolveError> {
        self.refs.get(name).cloned().ok_or_else(|| ResolveError {
            what: format!("Ref {name}"),
        })
    }

    fn lookup_attribute(&self, name: &str) -> Result<String, ResolveError> {
        self.attributes
            .get(name)
            .cloned()
            .ok_or_else(|| ResolveError {
                what: format!("Fn::GetAtt {name}"),
            })
    }

    /// `Fn::Sub`: `${Name}` is a Ref, `${Id.Attr}` a GetAtt, `${!Literal}` is `${Literal}`.
    fn substitute(&self, text: &str) -> Result<String, ResolveError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find("${") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let close = after.find('}').ok_or_else(|| ResolveError {
                what: format!("Fn::Sub {text:?}"),
            })?;
            let name = &after[..close];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if name.contains('.') && !name.starts_with("AWS::") {
                out.push_str(&self.lookup_attribute(name)?);
            } else {
                out.push_str(&self.lookup_ref(name)?);
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn intrinsics_resolve() {
        let mut context = Context::new(&Placement::localstack("eu-west-1"));
        context.refs.insert("LogBucket".into(), "b".into());
        context.refs.insert("ReaderRoleArn".into(), String::new());
        context
            .attributes
            .insert("LogBucket.Arn".into(), "arn:aws:s3:::b".into());
        context.conditions.insert("HasReaderRole".into(), false);
        let template = json!({
            "a": {"Fn::Sub": "s3://${LogBucket}/x/${!datehour}/${AWS::Region}"},
            "b": {"Fn::GetAtt": ["LogBucket", "Arn"]},
            "c": [{"Fn::If": ["HasReaderRole", "yes", {"Ref": "AWS::NoValue"}]}, "kept"],
            "d": {"Fn::If": ["HasReaderRole", "yes", {"Ref": "AWS::NoValue"}]},
            "e": {"Fn::Sub": "${LogBucket.Arn}/*"},
            "f": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ReaderRoleArn"}, ""]}]},
        });
        assert_eq!(
            context.resolve(&template).unwrap(),
            json!({"a": "s3://b/x/${datehour}/eu-west-1", "b": "arn:aws:s3:::b", "c": ["kept"], "e": "arn:aws:s3:::b/*", "f": false})
        );
        let error = context.resolve(&json!({"Ref": "Nope"})).unwrap_err();
        assert_eq!(error.to_string(), "cannot resolve Ref Nope in the template");
    }
}
