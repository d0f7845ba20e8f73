//! An SSM Command document (schema 2.2) as an SSM agent runs it: its parameters resolved
//! against what the command sent (each sent name declared, defaults for the rest, every value
//! matching its `allowedPattern`), `{{ name }}` filled in, and its steps in order, each run or
//! skipped by its `platformType` precondition.
//!
//! Sources: the Systems Manager user guide's "SSM document schema features and examples"
//! (schema 2.2: `parameters` with `type`, `default`, `allowedPattern`; `mainSteps` with
//! `action`, `name`, `precondition`, `inputs`) and "Command document plugin reference"
//! (`aws:runShellScript`, `aws:runPowerShellScript`, `aws:configurePackage`). Where AWS checks
//! a parameter at SendCommand (`InvalidParameters`), the emulator does not; the harness checks
//! it here, when the agent takes the command, and the command fails with the same code.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::instance::Os;

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepAction {
    /// `aws:configurePackage`: install or uninstall a package.
    ConfigurePackage {
        /// The package.
        name: String,
        /// `Install` or `Uninstall`.
        action: String,
    },
    /// `aws:runShellScript` or `aws:runPowerShellScript`: the script's lines, parameters
    /// filled in.
    Script(Vec<String>),
}

/// One step to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The step's name.
    pub name: String,
    /// What it does.
    pub action: StepAction,
}

/// The steps of a document for one instance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The steps that run, in order.
    pub run: Vec<Step>,
    /// The names of the steps skipped for the platform.
    pub skipped: Vec<String>,
}

/// Why a document cannot run as sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// A parameter the document does not declare, one it requires and did not get, or a value
    /// its `allowedPattern` refuses (AWS refuses such a SendCommand with `InvalidParameters`).
    #[error("InvalidParameters: {0}")]
    InvalidParameters(String),
    /// Not a schema 2.2 Command document the agent can read.
    #[error("the document cannot be run: {0}")]
    Malformed(String),
}

/// The steps of `content` for an instance of `os`, with `sent`'s parameters.
pub fn plan(
    content: &Value,
    sent: &BTreeMap<String, Vec<String>>,
    os: Os,
) -> Result<Plan, DocumentError> {
    let values = resolve_parameters(content, sent)?;
    let steps = content["mainSteps"]
        .as_array()
        .ok_or_else(|| DocumentError::Malformed("it has no mainSteps".to_owned()))?;
    let mut plan = Plan::default();
    for step in steps {
        let name = step["name"].as_str().unwrap_or_default().to_owned();
        let action = step["action"].as_str().unwrap_or_default();
        if !runs_on(step, action, os) {
            plan.skipped.push(name);
            continue;
        }
        let inputs = &step["inputs"];
        let action = match action {
            "aws:runShellScript" | "aws:runPowerShellScript" => StepAction::Script(
                inputs["runCommand"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|line| fill(line.as_str().unwrap_or_default(), &values))
                    .collect(),
            ),
            "aws:configurePackage" => StepAction::ConfigurePackage {
                name: fill(inputs["name"].as_str().unwrap_or_default(), &values),
                action: fill(inputs["action"].as_str().unwrap_or_default(), &values),
            },
            other => {
                return Err(DocumentError::Malformed(format!(
                    "step {name}'s action {other} is not one the harness's SSM agent runs"
                )));
            }
        };
        plan.run.push(Step { name, action });
    }
    Ok(plan)
}

/// Whether a step runs on `os`: its `platformType` precondition when it has one, else whether
/// its plugin runs there (schema 2.2 skips a plugin that does not run on the platform).
fn runs_on(step: &Value, action: &str, os: Os) -> bool {
    let platform = match os {
        Os::Linux => "Linux",
        Os::Windows => "Windows",
    };
    match step["precondition"]["StringEquals"].as_array() {
        Some(pair) if pair.first().and_then(Value::as_str) == Some("platformType") => {
            pair.get(1).and_then(Value::as_str) == Some(platform)
        }
        _ => match action {
            "aws:runShellScript" => os == Os::Linux,
            "aws:runPowerShellScript" => os == Os::Windows,
            _ => true,
        },
    }
}

fn resolve_parameters(
    content: &Value,
    sent: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, String>, DocumentError> {
    let declared = content["parameters"].as_object();
    if let Some(unknown) = sent
        .keys()
        .find(|name| !declared.is_some_and(|d| d.contains_key(*name)))
    {
        return Err(DocumentError::InvalidParameters(format!(
            "the document does not declare a parameter {unknown:?}"
        )));
    }
    let mut values = BTreeMap::new();
    for (name, declaration) in declared.into_iter().flatten() {
        let value = match sent.get(name) {
            Some(given) => given.join(","),
            None => match &declaration["default"] {
                Value::String(text) => text.clone(),
                Value::Null => {
                    return Err(DocumentError::InvalidParameters(format!(
                        "the required parameter {name:?} was not sent"
                    )));
                }
                other => other.to_string(),
            },
        };
        if let Some(pattern) = declaration["allowedPattern"].as_str() {
            let regex = regex::Regex::new(pattern).map_err(|e| {
                DocumentError::Malformed(format!("parameter {name:?}'s allowedPattern: {e}"))
            })?;
            if !regex.is_match(&value) {
                return Err(DocumentError::InvalidParameters(format!(
                    "{name}={value:?} does not match the document's allowedPattern {pattern}"
                )));
            }
        }
        values.insert(name.clone(), value);
    }
    Ok(values)
}

/// `{{ name }}` (spaces inside the braces optional) replaced by the parameter's value.
fn fill(line: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            break;
        };
        let name = rest[open + 2..open + close].trim();
        out.push_str(&rest[..open]);
        match values.get(name) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeline::onboard::Platform;
    use pipeline::onboard::documents::content;

    fn sent(value: &str) -> BTreeMap<String, Vec<String>> {
        BTreeMap::from([("AgentConfigParameter".to_owned(), vec![value.to_owned()])])
    }

    #[test]
    fn the_stacks_linux_document_runs_its_two_steps_with_the_parameter_filled_in() {
        let document = content(Platform::Linux, "cfg.linux");
        let plan = plan(&document, &sent("cfg.linux"), Os::Linux).unwrap();
        let names: Vec<&str> = plan.run.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["installCollectd", "fetchConfigAndStart"]);
        let StepAction::Script(lines) = &plan.run[1].action else {
            panic!("a script step")
        };
        assert!(
            lines.contains(&"PARAMETER='cfg.linux'".to_owned()),
            "{lines:?}"
        );
        assert!(plan.skipped.is_empty());
    }

    #[test]
    fn a_parameter_the_pattern_refuses_fails_as_invalid_parameters() {
        let document = content(Platform::Linux, "cfg.linux");
        for bad in ["cfgXlinux", "other", "cfg.linux'; reboot; '"] {
            let error = plan(&document, &sent(bad), Os::Linux).unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with("InvalidParameters: AgentConfigParameter="),
                "{error}"
            );
        }
        let unknown = BTreeMap::from([("commands".to_owned(), vec!["reboot".to_owned()])]);
        assert_eq!(
            plan(&document, &unknown, Os::Linux)
                .unwrap_err()
                .to_string(),
            "InvalidParameters: the document does not declare a parameter \"commands\""
        );
    }

    #[test]
    fn the_default_applies_when_nothing_is_sent_and_other_platforms_skip() {
        let document = content(Platform::Windows, "cfg.windows");
        let windows = plan(&document, &BTreeMap::new(), Os::Windows).unwrap();
        let StepAction::Script(lines) = &windows.run[0].action else {
            panic!("a script step")
        };
        assert!(lines.contains(&"$parameter = 'cfg.windows'".to_owned()));
        let linux = plan(&document, &BTreeMap::new(), Os::Linux).unwrap();
        assert!(linux.run.is_empty());
        assert_eq!(linux.skipped, ["fetchConfigAndStart"]);
    }

    #[test]
    fn fill_leaves_unknown_placeholders_and_plain_braces_alone() {
        let values = BTreeMap::from([("a".to_owned(), "1".to_owned())]);
        assert_eq!(fill("x{{a}}y{{ a }}z", &values), "x1y1z");
        assert_eq!(fill("{{ b }} {{a", &values), "{{ b }} {{a");
    }
}
