//! What the template gives each Lambda function, resolved for one placement: the binary that
//! implements it, its name, memory, timeout and environment. `loglab run --lambda artifacts`
//! starts each built `bootstrap` with exactly this (plus what Lambda itself sets), so the
//! deployed `main` meets the configuration it will meet on AWS.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::artifacts::FUNCTIONS;
use crate::deployment::Deployment;
use crate::resolve::ResolveError;

/// One function of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// Logical id (`EtlFunction`).
    pub logical_id: String,
    /// `FunctionName`.
    pub name: String,
    /// The `pipeline` binary whose package `Code.S3Key` names (`etl-lambda`).
    pub binary: &'static str,
    /// `MemorySize`, MB.
    pub memory_mb: u64,
    /// `Timeout`.
    pub timeout: Duration,
    /// `Environment.Variables`, resolved.
    pub environment: BTreeMap<String, String>,
    /// What Lambda sets from `LoggingConfig`: `AWS_LAMBDA_LOG_FORMAT` (`JSON` or `Text`), and
    /// `AWS_LAMBDA_LOG_LEVEL` (the application log level, for the JSON format only).
    pub logging: BTreeMap<String, String>,
}

/// Why a function's configuration could not be read from the template.
#[derive(Debug, thiserror::Error)]
pub enum FunctionSpecError {
    /// An intrinsic did not resolve.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The template's function is not one the project builds.
    #[error("{id}: Code.S3Key {key} names no package `loglab build` makes")]
    UnknownCode {
        /// The logical id.
        id: String,
        /// The key as rendered.
        key: String,
    },
}

impl Deployment {
    /// Every `AWS::Lambda::Function` of the template, resolved.
    pub fn functions(&self) -> Result<Vec<FunctionSpec>, FunctionSpecError> {
        let mut out = Vec::new();
        for (id, resource) in self.template.resources().into_iter().flatten() {
            if resource["Type"] != "AWS::Lambda::Function" {
                continue;
            }
            let p = &resource["Properties"];
            let key = p["Code"]["S3Key"]["Ref"].as_str().unwrap_or_default();
            let binary = FUNCTIONS
                .iter()
                .find(|f| f.code_key_parameter == key)
                .ok_or_else(|| FunctionSpecError::UnknownCode {
                    id: id.clone(),
                    key: p["Code"]["S3Key"].to_string(),
                })?
                .binary;
            let variables = self.context.resolve(&p["Environment"]["Variables"])?;
            let environment = variables
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), scalar(v)))
                .collect();
            out.push(FunctionSpec {
                logical_id: id.clone(),
                name: scalar(&self.context.resolve(&p["FunctionName"])?),
                binary,
                memory_mb: p["MemorySize"].as_u64().unwrap_or(128),
                timeout: Duration::from_secs(p["Timeout"].as_u64().unwrap_or(3)),
                environment,
                logging: logging_environment(&p["LoggingConfig"]),
            });
        }
        Ok(out)
    }
}

/// The variables Lambda sets from `LoggingConfig` (its default format is `Text`, and the log
/// level variable comes with the JSON format only).
fn logging_environment(config: &Value) -> BTreeMap<String, String> {
    let format = config["LogFormat"].as_str().unwrap_or("Text");
    let mut logging = BTreeMap::from([("AWS_LAMBDA_LOG_FORMAT".to_owned(), format.to_owned())]);
    if format == "JSON" {
        let level = config["ApplicationLogLevel"].as_str().unwrap_or("INFO");
        logging.insert("AWS_LAMBDA_LOG_LEVEL".to_owned(), level.to_owned());
    }
    logging
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Deployment, Placement, Stack, StackDefinition};

    #[test]
    fn both_functions_resolve_with_the_templates_settings() {
        let stack = Stack::from_definition(
            StackDefinition::default(),
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../pipeline.toml")),
        )
        .unwrap();
        let deployment = Deployment::new(&stack, &Placement::localstack("eu-west-1"));
        let functions = deployment.functions().unwrap();
        let etl = functions.iter().find(|f| f.binary == "etl-lambda").unwrap();
        assert_eq!(etl.name, "ccp-log-etl");
        assert_eq!(etl.timeout.as_secs(), 120);
        assert_eq!(etl.memory_mb, 512);
        assert_eq!(
            etl.environment
                .get("FIREHOSE_DELIVERY_STREAM")
                .map(String::as_str),
            Some(deployment.names.delivery_stream.as_str())
        );
        let onboarding = functions
            .iter()
            .find(|f| f.binary == "onboard-lambda")
            .unwrap();
        assert_eq!(onboarding.environment["MANAGEMENT_TAG_KEY"], "CCP-Managed");
        assert_eq!(
            onboarding.environment["LINUX_AGENT_CONFIG_PARAMETER"],
            deployment.names.linux_parameter
        );
        assert_eq!(onboarding.timeout.as_secs(), 900);
        for function in [etl, onboarding] {
            assert_eq!(function.logging["AWS_LAMBDA_LOG_FORMAT"], "JSON");
            assert_eq!(function.logging["AWS_LAMBDA_LOG_LEVEL"], "INFO");
        }
    }
}
