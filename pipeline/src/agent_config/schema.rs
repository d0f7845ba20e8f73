//! The agent's first validation phase: its own JSON Schema (draft-04), copied unchanged from
//! `translator/config/schema.json` of aws/amazon-cloudwatch-agent (see `pipeline/schema/`).
//!
//! Every schema error is reported with the JSON path of the value it is about
//! (`$.logs.logs_collected.files.collect_list[0]`), in the validator's words. A document the
//! schema refuses is refused before any rule of the pipeline runs, as the agent stops there too.

use std::sync::OnceLock;

use serde_json::Value;

use super::{Authority, Issue};

/// The schema, as the agent ships it.
pub const AGENT_SCHEMA_JSON: &str =
    include_str!("../../schema/amazon-cloudwatch-agent-schema.json");

/// Where [`AGENT_SCHEMA_JSON`] comes from, for messages and the fidelity table.
pub const AGENT_SCHEMA_SOURCE: &str =
    "aws/amazon-cloudwatch-agent translator/config/schema.json (commit ab55b8daa)";

fn validator() -> Result<&'static jsonschema::Validator, &'static str> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let schema: Value = serde_json::from_str(AGENT_SCHEMA_JSON)
                .map_err(|e| format!("the bundled agent schema is not JSON: {e}"))?;
            jsonschema::draft4::new(&schema)
                .map_err(|e| format!("the bundled agent schema does not compile: {e}"))
        })
        .as_ref()
        .map_err(String::as_str)
}

/// Every way `document` breaks the agent's schema, in document order.
pub fn schema_issues(document: &Value) -> Vec<Issue> {
    let validator = match validator() {
        Ok(validator) => validator,
        Err(message) => {
            return vec![Issue {
                path: "$".to_owned(),
                message: message.to_owned(),
                authority: Authority::Pipeline,
            }];
        }
    };
    let mut issues: Vec<Issue> = validator
        .iter_errors(document)
        .map(|error| Issue {
            path: json_path(document, error.instance_path().as_str()),
            message: message(&error),
            authority: Authority::AgentSchema,
        })
        .collect();
    issues.sort_by(|a, b| a.path.cmp(&b.path));
    issues
}

/// The validator's words, except that an `enum` error lists every allowed value (the
/// validator's own text stops after two).
fn message(error: &jsonschema::ValidationError<'_>) -> String {
    match error.kind() {
        jsonschema::error::ValidationErrorKind::Enum { options } => {
            let allowed = options
                .as_array()
                .map(|values| {
                    values
                        .iter()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_else(|| options.to_string());
            format!("{} is not one of {allowed}", error.instance())
        }
        _ => error.to_string(),
    }
}

/// A JSON pointer into `document` as a JSON path: array indices in brackets, keys after dots,
/// keys that are not plain identifiers (`service.name`) in bracketed quotes.
fn json_path(document: &Value, pointer: &str) -> String {
    let mut path = String::from("$");
    let mut node = Some(document);
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        match node {
            Some(Value::Array(items)) => {
                path.push_str(&format!("[{segment}]"));
                node = segment.parse::<usize>().ok().and_then(|i| items.get(i));
            }
            other => {
                if !segment.is_empty()
                    && segment
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    path.push('.');
                    path.push_str(&segment);
                } else {
                    path.push_str(&format!("[{segment:?}]"));
                }
                node = other.and_then(|v| v.get(&segment));
            }
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_bundled_schema_compiles_as_draft_04() {
        let schema: Value = serde_json::from_str(AGENT_SCHEMA_JSON).unwrap();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
        assert!(validator().is_ok());
    }

    #[test]
    fn pointers_become_json_paths_through_arrays_and_dotted_keys() {
        let document = json!({"logs": {"a.b": [{"x": 1}], "7": {"y": 2}}});
        assert_eq!(json_path(&document, ""), "$");
        assert_eq!(
            json_path(&document, "/logs/a.b/0/x"),
            "$.logs[\"a.b\"][0].x"
        );
        assert_eq!(json_path(&document, "/logs/7/y"), "$.logs.7.y");
    }
}
