//! Reading a scenario file: its TOML (with `extends`), its stack definition, and every rule it
//! breaks, reported together with their keys.

use std::path::{Path, PathBuf};

use stack::{Issue, Stack, StackDefinition, StackError};

use super::{Scenario, SourceProfile};

/// A scenario file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key or a wrong type.
    #[error("scenario {path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and key.
        message: String,
    },
    /// Values that break the rules.
    #[error("scenario {path} is invalid:\n{}", .issues.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Each broken rule, with its key, value, rule and what would be valid.
        issues: Vec<Issue>,
    },
    /// The stack definition it names is invalid.
    #[error("scenario {path}: its stack definition")]
    Stack {
        /// The scenario file.
        path: PathBuf,
        /// The definition's error.
        source: StackError,
    },
}

/// A scenario with its stack definition loaded and the subscription filter applied.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    /// The scenario as written.
    pub scenario: Scenario,
    /// The stack it runs against.
    pub stack: Stack,
    /// The directory relative paths start from.
    pub base: PathBuf,
    /// The scenario file.
    pub path: PathBuf,
}

impl LoadedScenario {
    /// The corpus file of `source`, resolved against the scenario's directory.
    pub fn corpus_path(&self, source: &SourceProfile) -> Option<PathBuf> {
        source.corpus.as_ref().map(|p| self.base.join(p))
    }
}

impl Scenario {
    /// Parses a scenario from TOML text; `path` names it in errors. A scenario with
    /// `extends = "<file>"` is that file (in the same directory) with each top-level key the
    /// extending text sets replaced (a whole `[expect]` or `[[fleet]]` list, not merged).
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ScenarioError> {
        let syntax = |path: &Path, e: &dyn std::fmt::Display| ScenarioError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        };
        let mut table: toml::Table = toml::from_str(text).map_err(|e| syntax(path, &e))?;
        let Some(extends) = table.remove("extends") else {
            // Parsed from the text, so that errors carry its lines.
            return toml::from_str(text).map_err(|e| syntax(path, &e));
        };
        let Some(name) = extends.as_str().filter(|n| !n.contains(['/', '\\'])) else {
            return Err(syntax(
                path,
                &format!(
                    "extends = {extends}: this harness's rule: the name of a scenario file in \
                     the same directory (its relative paths then mean the same)"
                ),
            ));
        };
        let base_path = path.parent().unwrap_or(Path::new(".")).join(name);
        let base_text =
            std::fs::read_to_string(&base_path).map_err(|source| ScenarioError::Read {
                path: base_path.clone(),
                source,
            })?;
        let mut base: toml::Table =
            toml::from_str(&base_text).map_err(|e| syntax(&base_path, &e))?;
        if base.contains_key("extends") {
            return Err(syntax(
                path,
                &format!("extends {name}, which extends another: one level only"),
            ));
        }
        base.extend(table);
        table = base;
        toml::Value::Table(table)
            .try_into()
            .map_err(|e| syntax(path, &format!("{e} (in the scenario as it extends {name})")))
    }

    /// Reads and validates a scenario and its stack definition.
    pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        let scenario = Self::from_toml(&text, path)?;
        let base = path.parent().unwrap_or(Path::new(".")).to_owned();
        let mut issues = scenario.issues(&base);
        let stack_path = base.join(&scenario.stack);
        let stack_text =
            std::fs::read_to_string(&stack_path).map_err(|source| ScenarioError::Read {
                path: stack_path.clone(),
                source,
            })?;
        let mut definition =
            StackDefinition::from_toml(&stack_text, &stack_path).map_err(|source| {
                ScenarioError::Stack {
                    path: path.to_owned(),
                    source,
                }
            })?;
        if let Some(pattern) = &scenario.subscription.filter_pattern {
            definition.logs.filter_pattern.clone_from(pattern);
        }
        let retention_ms = definition.logs.retention_days * 86_400_000;
        if scenario.duration.as_millis() >= retention_ms {
            issues.push(Issue {
                key: "duration".to_owned(),
                value: format!("\"{}\"", scenario.duration),
                rule: format!(
                    "must be shorter than the log group's retention ({} days), which CloudWatch Logs also applies to PutLogEvents",
                    definition.logs.retention_days
                ),
                valid: format!("less than {}d", definition.logs.retention_days),
            });
        }
        for (i, query) in scenario.expect.queries.iter().enumerate() {
            if let Some(name) = &query.saved
                && query.delivered_sql(&definition).is_none()
            {
                let known: Vec<&str> = definition
                    .athena
                    .saved_queries
                    .iter()
                    .map(|q| q.name.as_str())
                    .collect();
                issues.push(Issue {
                    key: format!("expect.queries[{i}].saved"),
                    value: format!("\"{name}\""),
                    rule: format!("is not a saved query of {}", stack_path.display()),
                    valid: format!("one of: {}", known.join(", ")),
                });
            }
        }
        let stack = Stack::from_definition(definition, &stack_path).map_err(|source| {
            ScenarioError::Stack {
                path: path.to_owned(),
                source,
            }
        })?;
        if !issues.is_empty() {
            return Err(ScenarioError::Invalid {
                path: path.to_owned(),
                issues,
            });
        }
        Ok(LoadedScenario {
            scenario,
            stack,
            base,
            path: path.to_owned(),
        })
    }
}
