//! The Data Catalog's state and its operations on databases, tables and partitions, in Glue's
//! shapes (the API Reference's `Database`, `Table`, `Partition`): what a client sends as
//! `DatabaseInput`, `TableInput` or `PartitionInput` is kept as sent, with what Glue adds
//! (`CatalogId`, `DatabaseName`, `CreateTime`, `UpdateTime`, `VersionId`).
//!
//! Glue keeps database and table names in lower case (the Athena User Guide, "Names for
//! tables, databases, and columns": "AWS Glue ... converts them to lowercase"), so names are
//! lowered when stored and when looked up.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Longest database, table or partition-value name Glue takes (`NameString`, 1 to 255).
pub const MAX_NAME_LEN: usize = 255;

/// An error as Glue answers it: its code and its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlueError {
    /// `EntityNotFoundException`.
    #[error("EntityNotFoundException: {0}")]
    EntityNotFound(String),
    /// `AlreadyExistsException`.
    #[error("AlreadyExistsException: {0}")]
    AlreadyExists(String),
    /// `InvalidInputException`.
    #[error("InvalidInputException: {0}")]
    InvalidInput(String),
}

impl GlueError {
    /// The error code (`__type`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::EntityNotFound(_) => "EntityNotFoundException",
            Self::AlreadyExists(_) => "AlreadyExistsException",
            Self::InvalidInput(_) => "InvalidInputException",
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        match self {
            Self::EntityNotFound(m) | Self::AlreadyExists(m) | Self::InvalidInput(m) => m,
        }
    }

    /// The words Glue uses for a missing database. Its form is the one confirmed for tables
    /// ("Table image_metadata not found.", an EntityNotFoundException quoted in
    /// hashicorp/terraform-provider-aws#34132); the database's own text is not in the sources
    /// we have.
    fn no_database(name: &str) -> Self {
        Self::EntityNotFound(format!("Database {name} not found."))
    }

    fn no_table(name: &str) -> Self {
        Self::EntityNotFound(format!("Table {name} not found."))
    }
}

type Result<T> = std::result::Result<T, GlueError>;

#[derive(Debug, Clone, Default)]
struct Database {
    entry: Value,
    tables: BTreeMap<String, Table>,
}

#[derive(Debug, Clone, Default)]
struct Table {
    entry: Value,
    partitions: BTreeMap<Vec<String>, Value>,
}

/// One account's Data Catalog in one region, and its crawlers.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    account_id: String,
    databases: BTreeMap<String, Database>,
    /// The account's crawlers.
    pub crawlers: super::crawlers::Crawlers,
}

/// A name as Glue keeps it: checked and lowered.
fn name_of(value: &Value, what: &str) -> Result<String> {
    let name = value.as_str().unwrap_or_default();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(GlueError::InvalidInput(format!(
            "{what} must have from 1 to {MAX_NAME_LEN} characters"
        )));
    }
    Ok(name.to_lowercase())
}

impl Catalog {
    /// An empty catalog of `account_id`.
    pub fn new(account_id: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            databases: BTreeMap::new(),
            crawlers: super::crawlers::Crawlers::default(),
        }
    }

    fn database(&self, name: &str) -> Result<&Database> {
        let key = name.to_lowercase();
        self.databases
            .get(&key)
            .ok_or_else(|| GlueError::no_database(&key))
    }

    fn database_mut(&mut self, name: &str) -> Result<&mut Database> {
        let key = name.to_lowercase();
        self.databases
            .get_mut(&key)
            .ok_or_else(|| GlueError::no_database(&key))
    }

    fn table(&self, database: &str, name: &str) -> Result<&Table> {
        let key = name.to_lowercase();
        self.database(database)?
            .tables
            .get(&key)
            .ok_or_else(|| GlueError::no_table(&key))
    }

    fn table_mut(&mut self, database: &str, name: &str) -> Result<&mut Table> {
        let key = name.to_lowercase();
        self.database_mut(database)?
            .tables
            .get_mut(&key)
            .ok_or_else(|| GlueError::no_table(&key))
    }

    /// CreateDatabase with `DatabaseInput`, at `now` (epoch seconds).
    pub fn create_database(&mut self, input: &Value, now: f64) -> Result<()> {
        let name = name_of(&input["Name"], "DatabaseInput.Name")?;
        if self.databases.contains_key(&name) {
            return Err(GlueError::AlreadyExists(
                "Database already exists.".to_owned(),
            ));
        }
        let mut entry = input.clone();
        entry["Name"] = json!(name);
        entry["CatalogId"] = json!(self.account_id);
        entry["CreateTime"] = json!(now);
        self.databases.insert(
            name,
            Database {
                entry,
                tables: BTreeMap::new(),
            },
        );
        Ok(())
    }

    /// GetDatabase.
    pub fn get_database(&self, name: &str) -> Result<Value> {
        Ok(self.database(name)?.entry.clone())
    }

    /// GetDatabases: every database, by name.
    pub fn get_databases(&self) -> Vec<Value> {
        self.databases.values().map(|d| d.entry.clone()).collect()
    }

    /// UpdateDatabase: `DatabaseInput` replaces the database's definition (its name, catalog
    /// and creation time kept).
    pub fn update_database(&mut self, name: &str, input: &Value) -> Result<()> {
        let db = self.database_mut(name)?;
        let mut entry = input.clone();
        for kept in ["Name", "CatalogId", "CreateTime"] {
            entry[kept] = db.entry[kept].clone();
        }
        db.entry = entry;
        Ok(())
    }

    /// DeleteDatabase, with its tables and their partitions.
    pub fn delete_database(&mut self, name: &str) -> Result<()> {
        let key = name.to_lowercase();
        self.databases
            .remove(&key)
            .map(|_| ())
            .ok_or_else(|| GlueError::no_database(&key))
    }

    /// CreateTable in `database` with `TableInput`.
    pub fn create_table(&mut self, database: &str, input: &Value, now: f64) -> Result<()> {
        let name = name_of(&input["Name"], "TableInput.Name")?;
        let account_id = self.account_id.clone();
        let db = self.database_mut(database)?;
        if db.tables.contains_key(&name) {
            return Err(GlueError::AlreadyExists("Table already exists.".to_owned()));
        }
        let mut entry = input.clone();
        entry["Name"] = json!(name);
        entry["DatabaseName"] = json!(database.to_lowercase());
        entry["CatalogId"] = json!(account_id);
        entry["CreateTime"] = json!(now);
        entry["UpdateTime"] = json!(now);
        entry["VersionId"] = json!("0");
        entry["IsRegisteredWithLakeFormation"] = json!(false);
        db.tables.insert(
            name,
            Table {
                entry,
                partitions: BTreeMap::new(),
            },
        );
        Ok(())
    }

    /// GetTable.
    pub fn get_table(&self, database: &str, name: &str) -> Result<Value> {
        Ok(self.table(database, name)?.entry.clone())
    }

    /// GetTables: the database's tables, by name.
    pub fn get_tables(&self, database: &str) -> Result<Vec<Value>> {
        Ok(self
            .database(database)?
            .tables
            .values()
            .map(|t| t.entry.clone())
            .collect())
    }

    /// UpdateTable with `TableInput`: the input replaces the table's definition (as Glue's
    /// UpdateTable does), its creation time kept and its version advanced.
    pub fn update_table(&mut self, database: &str, input: &Value, now: f64) -> Result<()> {
        let name = name_of(&input["Name"], "TableInput.Name")?;
        let table = self.table_mut(database, &name)?;
        let version: u64 = table.entry["VersionId"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut entry = input.clone();
        for kept in [
            "Name",
            "DatabaseName",
            "CatalogId",
            "CreateTime",
            "IsRegisteredWithLakeFormation",
        ] {
            entry[kept] = table.entry[kept].clone();
        }
        entry["UpdateTime"] = json!(now);
        entry["VersionId"] = json!((version + 1).to_string());
        table.entry = entry;
        Ok(())
    }

    /// What a crawler run does to its table: creates it, or replaces its definition.
    pub fn put_crawled_table(&mut self, database: &str, input: &Value, now: f64) -> Result<()> {
        let name = input["Name"].as_str().unwrap_or_default();
        if self.get_table(database, name).is_ok() {
            self.update_table(database, input, now)
        } else {
            self.create_table(database, input, now)
        }
    }

    /// DeleteTable, with its partitions.
    pub fn delete_table(&mut self, database: &str, name: &str) -> Result<()> {
        let key = name.to_lowercase();
        self.database_mut(database)?
            .tables
            .remove(&key)
            .map(|_| ())
            .ok_or_else(|| GlueError::no_table(&key))
    }

    /// BatchCreatePartition: each `PartitionInput` added; the ones that could not be, as
    /// Glue's `Errors` (`PartitionValues`, `ErrorDetail`).
    pub fn batch_create_partition(
        &mut self,
        database: &str,
        table: &str,
        inputs: &[Value],
        now: f64,
    ) -> Result<Vec<Value>> {
        let (database, table_name) = (database.to_lowercase(), table.to_lowercase());
        let account_id = self.account_id.clone();
        let table = self.table_mut(&database, &table_name)?;
        let keys = table.entry["PartitionKeys"].as_array().map_or(0, Vec::len);
        let mut errors = Vec::new();
        for input in inputs {
            let values = strings(&input["Values"]);
            let refusal = if values.len() != keys {
                Some((
                    "InvalidInputException",
                    format!(
                        "The number of partition keys do not match the number of partition values ({keys} keys, {} values)",
                        values.len()
                    ),
                ))
            } else if table.partitions.contains_key(&values) {
                Some((
                    "AlreadyExistsException",
                    "Partition already exists.".to_owned(),
                ))
            } else {
                None
            };
            if let Some((code, message)) = refusal {
                errors.push(json!({
                    "PartitionValues": values,
                    "ErrorDetail": { "ErrorCode": code, "ErrorMessage": message },
                }));
                continue;
            }
            let mut entry = input.clone();
            entry["DatabaseName"] = json!(database);
            entry["TableName"] = json!(table_name);
            entry["CatalogId"] = json!(account_id);
            entry["CreationTime"] = json!(now);
            table.partitions.insert(values, entry);
        }
        Ok(errors)
    }

    /// GetPartitions: every partition of the table, by values. (No `Expression` filter.)
    pub fn get_partitions(&self, database: &str, table: &str) -> Result<Vec<Value>> {
        Ok(self
            .table(database, table)?
            .partitions
            .values()
            .cloned()
            .collect())
    }

    /// GetPartition by its values.
    pub fn get_partition(&self, database: &str, table: &str, values: &Value) -> Result<Value> {
        self.table(database, table)?
            .partitions
            .get(&strings(values))
            .cloned()
            .ok_or_else(|| GlueError::EntityNotFound("Partition not found.".to_owned()))
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let mut catalog = Catalog::new("111122223333");
        catalog
            .create_database(&json!({ "Name": "CCP_Logs" }), 1.0)
            .unwrap();
        catalog
            .create_table(
                "ccp_logs",
                &json!({
                    "Name": "Logs",
                    "PartitionKeys": [{ "Name": "dt", "Type": "string" }],
                    "StorageDescriptor": { "Location": "s3://b/logs/" },
                }),
                2.0,
            )
            .unwrap();
        catalog
    }

    #[test]
    fn names_are_kept_lower_case_and_found_in_any_case() {
        let catalog = catalog();
        let table = catalog.get_table("CCP_LOGS", "LOGS").unwrap();
        assert_eq!(table["Name"], "logs");
        assert_eq!(table["DatabaseName"], "ccp_logs");
        assert_eq!(table["CatalogId"], "111122223333");
        assert_eq!(table["VersionId"], "0");
        assert_eq!(table["StorageDescriptor"]["Location"], "s3://b/logs/");
    }

    #[test]
    fn missing_and_duplicate_entities_are_glues_errors() {
        let mut catalog = catalog();
        assert_eq!(
            catalog.get_table("ccp_logs", "image_metadata").unwrap_err(),
            GlueError::EntityNotFound("Table image_metadata not found.".to_owned())
        );
        assert_eq!(
            catalog.get_database("nope").unwrap_err().code(),
            "EntityNotFoundException"
        );
        assert_eq!(
            catalog
                .create_database(&json!({ "Name": "ccp_logs" }), 3.0)
                .unwrap_err()
                .code(),
            "AlreadyExistsException"
        );
        assert_eq!(
            catalog
                .create_database(&json!({ "Name": "" }), 3.0)
                .unwrap_err()
                .code(),
            "InvalidInputException"
        );
    }

    #[test]
    fn update_replaces_the_definition_and_advances_the_version() {
        let mut catalog = catalog();
        catalog
            .update_table(
                "ccp_logs",
                &json!({ "Name": "logs", "StorageDescriptor": { "Location": "s3://b/other/" } }),
                9.0,
            )
            .unwrap();
        let table = catalog.get_table("ccp_logs", "logs").unwrap();
        assert_eq!(table["VersionId"], "1");
        assert_eq!(table["CreateTime"], 2.0);
        assert_eq!(table["UpdateTime"], 9.0);
        assert_eq!(table["StorageDescriptor"]["Location"], "s3://b/other/");
        assert!(table.get("PartitionKeys").is_none(), "replaced, not merged");
    }

    #[test]
    fn partitions_are_added_once_and_refused_by_value_count() {
        let mut catalog = catalog();
        let errors = catalog
            .batch_create_partition(
                "ccp_logs",
                "logs",
                &[
                    json!({ "Values": ["2026-12-05"] }),
                    json!({ "Values": ["2026-12-05"] }),
                    json!({ "Values": ["a", "b"] }),
                ],
                4.0,
            )
            .unwrap();
        let codes: Vec<&str> = errors
            .iter()
            .map(|e| e["ErrorDetail"]["ErrorCode"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["AlreadyExistsException", "InvalidInputException"]);
        assert_eq!(catalog.get_partitions("ccp_logs", "logs").unwrap().len(), 1);
        let partition = catalog
            .get_partition("ccp_logs", "logs", &json!(["2026-12-05"]))
            .unwrap();
        assert_eq!(partition["TableName"], "logs");
        catalog.delete_database("ccp_logs").unwrap();
        assert!(catalog.get_databases().is_empty());
    }
}
