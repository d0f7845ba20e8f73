//! Athena's workgroups (the API Reference's `WorkGroup`): `primary`, which every account has,
//! and those CreateWorkGroup adds, with their result configuration: where results go and
//! whether the workgroup's settings override the client's (`EnforceWorkGroupConfiguration`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{AthenaError, no_workgroup};

/// The workgroup every account has.
pub const PRIMARY: &str = "primary";
/// The engine a workgroup reports: Athena's current one (the stand-in is DataFusion with
/// Athena's dialect, `lake`).
const ENGINE_VERSION: &str = "Athena engine version 3";

/// One account's workgroups in one region.
#[derive(Debug, Clone)]
pub struct WorkGroups {
    workgroups: BTreeMap<String, Value>,
}

impl WorkGroups {
    /// `primary` only, created at `now` (epoch seconds), with no result location.
    pub fn new(now: f64) -> Self {
        let mut workgroups = BTreeMap::new();
        workgroups.insert(PRIMARY.to_owned(), entry(PRIMARY, "", &json!({}), now));
        Self { workgroups }
    }

    /// CreateWorkGroup.
    pub fn create(&mut self, input: &Value, now: f64) -> Result<(), AthenaError> {
        let name = input["Name"].as_str().unwrap_or_default();
        if name.is_empty() {
            return Err(AthenaError::InvalidRequest(
                "a workgroup needs a Name".to_owned(),
            ));
        }
        if self.workgroups.contains_key(name) {
            return Err(AthenaError::InvalidRequest(format!(
                "WorkGroup {name} already exists"
            )));
        }
        let description = input["Description"].as_str().unwrap_or_default();
        let workgroup = entry(name, description, &input["Configuration"], now);
        self.workgroups.insert(name.to_owned(), workgroup);
        Ok(())
    }

    /// GetWorkGroup.
    pub fn get(&self, name: &str) -> Result<&Value, AthenaError> {
        self.workgroups.get(name).ok_or_else(|| no_workgroup(name))
    }

    /// ListWorkGroups: each workgroup's summary.
    pub fn list(&self) -> Vec<Value> {
        self.workgroups
            .values()
            .map(|w| {
                json!({
                    "Name": w["Name"],
                    "State": w["State"],
                    "Description": w["Description"],
                    "CreationTime": w["CreationTime"],
                    "EngineVersion": w["Configuration"]["EngineVersion"],
                })
            })
            .collect()
    }

    /// UpdateWorkGroup: `Description`, `State` and the `ConfigurationUpdates` that the stack
    /// sets (enforcement, metrics, the result location and its encryption).
    pub fn update(&mut self, input: &Value) -> Result<(), AthenaError> {
        let name = input["WorkGroup"].as_str().unwrap_or_default();
        let workgroup = self
            .workgroups
            .get_mut(name)
            .ok_or_else(|| no_workgroup(name))?;
        for key in ["Description", "State"] {
            if let Some(value) = input.get(key).filter(|v| v.is_string()) {
                workgroup[key] = value.clone();
            }
        }
        let updates = &input["ConfigurationUpdates"];
        let configuration = &mut workgroup["Configuration"];
        for key in [
            "EnforceWorkGroupConfiguration",
            "PublishCloudWatchMetricsEnabled",
        ] {
            if let Some(value) = updates.get(key).filter(|v| v.is_boolean()) {
                configuration[key] = value.clone();
            }
        }
        let results = &updates["ResultConfigurationUpdates"];
        let held = &mut configuration["ResultConfiguration"];
        if results["RemoveOutputLocation"].as_bool() == Some(true) {
            remove(held, "OutputLocation");
        }
        if results["RemoveEncryptionConfiguration"].as_bool() == Some(true) {
            remove(held, "EncryptionConfiguration");
        }
        for key in ["OutputLocation", "EncryptionConfiguration"] {
            if let Some(value) = results.get(key).filter(|v| !v.is_null()) {
                held[key] = value.clone();
            }
        }
        Ok(())
    }

    /// DeleteWorkGroup (`primary` cannot be deleted).
    pub fn delete(&mut self, name: &str) -> Result<(), AthenaError> {
        if name == PRIMARY {
            return Err(AthenaError::InvalidRequest(
                "the primary workgroup cannot be deleted".to_owned(),
            ));
        }
        self.workgroups
            .remove(name)
            .map(drop)
            .ok_or_else(|| no_workgroup(name))
    }

    /// Where a query in `workgroup` writes its results and whether the client's location was
    /// overridden: the workgroup's when it enforces its configuration, else the client's, else
    /// the workgroup's.
    pub fn output_location(
        &self,
        workgroup: &str,
        requested: Option<&str>,
    ) -> Result<String, AthenaError> {
        let held = self.get(workgroup)?;
        if held["State"] == "DISABLED" {
            return Err(AthenaError::InvalidRequest(format!(
                "WorkGroup {workgroup} is disabled."
            )));
        }
        let configuration = &held["Configuration"];
        let own = configuration["ResultConfiguration"]["OutputLocation"].as_str();
        let enforced = configuration["EnforceWorkGroupConfiguration"].as_bool() == Some(true);
        let chosen = if enforced { own } else { requested.or(own) };
        chosen
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                // Athena's words, as users report them (the API Reference gives only the code).
                AthenaError::InvalidRequest(
                    "No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.".to_owned(),
                )
            })
    }
}

fn remove(object: &mut Value, key: &str) {
    if let Some(map) = object.as_object_mut() {
        map.remove(key);
    }
}

/// A workgroup as GetWorkGroup answers it.
fn entry(name: &str, description: &str, configuration: &Value, now: f64) -> Value {
    let mut configuration = if configuration.is_object() {
        configuration.clone()
    } else {
        json!({})
    };
    if configuration.get("ResultConfiguration").is_none() {
        configuration["ResultConfiguration"] = json!({});
    }
    for key in [
        "EnforceWorkGroupConfiguration",
        "PublishCloudWatchMetricsEnabled",
    ] {
        if configuration.get(key).is_none() {
            configuration[key] = json!(false);
        }
    }
    configuration["EngineVersion"] = json!({
        "SelectedEngineVersion": "AUTO",
        "EffectiveEngineVersion": ENGINE_VERSION,
    });
    json!({
        "Name": name,
        "State": "ENABLED",
        "Description": description,
        "CreationTime": now,
        "Configuration": configuration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enforcing_workgroup_overrides_the_clients_location() {
        let mut workgroups = WorkGroups::new(0.0);
        workgroups
            .create(
                &json!({ "Name": "ccp", "Configuration": {
                    "EnforceWorkGroupConfiguration": true,
                    "ResultConfiguration": { "OutputLocation": "s3://b/athena-results/" },
                }}),
                1.0,
            )
            .unwrap();
        assert_eq!(
            workgroups
                .output_location("ccp", Some("s3://elsewhere/"))
                .unwrap(),
            "s3://b/athena-results/"
        );
        assert_eq!(
            workgroups
                .output_location("primary", Some("s3://elsewhere/"))
                .unwrap(),
            "s3://elsewhere/"
        );
        let none = workgroups.output_location("primary", None).unwrap_err();
        assert!(none.message().starts_with("No output location provided."));
        assert_eq!(
            workgroups.output_location("nope", None).unwrap_err(),
            AthenaError::InvalidRequest("WorkGroup nope is not found.".into())
        );
    }

    #[test]
    fn updates_change_only_what_they_name() {
        let mut workgroups = WorkGroups::new(0.0);
        workgroups
            .update(&json!({ "WorkGroup": "primary", "ConfigurationUpdates": {
                "EnforceWorkGroupConfiguration": true,
                "ResultConfigurationUpdates": { "OutputLocation": "s3://b/r/" },
            }}))
            .unwrap();
        let held = workgroups.get("primary").unwrap();
        assert_eq!(
            held["Configuration"]["ResultConfiguration"]["OutputLocation"],
            "s3://b/r/"
        );
        assert_eq!(
            held["Configuration"]["PublishCloudWatchMetricsEnabled"],
            false
        );
        assert!(workgroups.delete("primary").is_err());
    }
}
