//! Athena's saved queries (the API Reference's `NamedQuery`): what CreateNamedQuery stores,
//! listed per workgroup and read one at a time or in batches, as the console's "Saved queries"
//! and users' scripts read the stack's.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::AthenaError;
use super::workgroups::{PRIMARY, WorkGroups};

/// At most this many ids in one BatchGetNamedQuery (the API Reference: `NamedQueryIds`, 1 to
/// 50 items).
pub const MAX_BATCH: usize = 50;

/// One account's saved queries in one region.
#[derive(Debug, Clone, Default)]
pub struct NamedQueries {
    queries: BTreeMap<String, Value>,
}

/// The words for a saved query the account does not have (ours: the API Reference gives only
/// the code).
fn no_query(id: &str) -> AthenaError {
    AthenaError::InvalidRequest(format!("NamedQuery {id} was not found"))
}

fn text<'a>(input: &'a Value, key: &str) -> &'a str {
    input[key].as_str().unwrap_or_default()
}

impl NamedQueries {
    /// CreateNamedQuery: its new id.
    pub fn create(
        &mut self,
        input: &Value,
        workgroups: &WorkGroups,
    ) -> Result<String, AthenaError> {
        let workgroup = input["WorkGroup"].as_str().unwrap_or(PRIMARY);
        workgroups.get(workgroup)?;
        for key in ["Name", "Database", "QueryString"] {
            if text(input, key).is_empty() {
                return Err(AthenaError::InvalidRequest(format!(
                    "a saved query needs a {key}"
                )));
            }
        }
        let id = super::new_id();
        let mut query = json!({
            "Name": text(input, "Name"),
            "Database": text(input, "Database"),
            "QueryString": text(input, "QueryString"),
            "NamedQueryId": id,
            "WorkGroup": workgroup,
        });
        if let Some(description) = input["Description"].as_str() {
            query["Description"] = json!(description);
        }
        self.queries.insert(id.clone(), query);
        Ok(id)
    }

    /// GetNamedQuery.
    pub fn get(&self, id: &str) -> Result<&Value, AthenaError> {
        self.queries.get(id).ok_or_else(|| no_query(id))
    }

    /// ListNamedQueries: the ids in `workgroup`.
    pub fn list(&self, workgroup: &str) -> Vec<&str> {
        self.queries
            .iter()
            .filter(|(_, q)| q["WorkGroup"] == workgroup)
            .map(|(id, _)| id.as_str())
            .collect()
    }

    /// BatchGetNamedQuery: the queries found, and the ids not found with why.
    pub fn batch_get(&self, ids: &[&str]) -> Result<(Vec<Value>, Vec<Value>), AthenaError> {
        if ids.is_empty() || ids.len() > MAX_BATCH {
            return Err(AthenaError::InvalidRequest(format!(
                "NamedQueryIds takes 1 to {MAX_BATCH} ids, not {}",
                ids.len()
            )));
        }
        let (mut found, mut unprocessed) = (Vec::new(), Vec::new());
        for id in ids {
            match self.queries.get(*id) {
                Some(query) => found.push(query.clone()),
                None => unprocessed.push(json!({
                    "NamedQueryId": id,
                    "ErrorCode": "INVALID_INPUT",
                    "ErrorMessage": no_query(id).message(),
                })),
            }
        }
        Ok((found, unprocessed))
    }

    /// UpdateNamedQuery: name, description and SQL.
    pub fn update(&mut self, input: &Value) -> Result<(), AthenaError> {
        let id = text(input, "NamedQueryId");
        let query = self.queries.get_mut(id).ok_or_else(|| no_query(id))?;
        for key in ["Name", "Description", "QueryString"] {
            if let Some(value) = input.get(key).filter(|v| v.is_string()) {
                query[key] = value.clone();
            }
        }
        Ok(())
    }

    /// DeleteNamedQuery.
    pub fn delete(&mut self, id: &str) -> Result<(), AthenaError> {
        self.queries
            .remove(id)
            .map(drop)
            .ok_or_else(|| no_query(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_queries_are_listed_per_workgroup_and_read_in_batches() {
        let workgroups = WorkGroups::new(0.0);
        let mut queries = NamedQueries::default();
        let id = queries
            .create(
                &json!({ "Name": "errors", "Database": "ccp_logs", "QueryString": "SELECT 1" }),
                &workgroups,
            )
            .unwrap();
        assert_eq!(queries.list("primary"), [id.as_str()]);
        assert!(queries.list("other").is_empty());
        let (found, unprocessed) = queries.batch_get(&[&id, "missing"]).unwrap();
        assert_eq!(found[0]["Name"], "errors");
        assert_eq!(unprocessed[0]["NamedQueryId"], "missing");
        assert!(
            queries
                .create(&json!({ "Name": "x", "Database": "d" }), &workgroups)
                .is_err(),
            "no QueryString"
        );
        assert!(
            queries
                .create(
                    &json!({ "Name": "x", "Database": "d", "QueryString": "SELECT 1", "WorkGroup": "nope" }),
                    &workgroups
                )
                .is_err()
        );
    }
}
