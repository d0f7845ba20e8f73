//! Glue's crawlers as the Data Catalog API shows them (the API Reference's `Crawler`): what
//! CreateCrawler and UpdateCrawler set, their `State` (`READY` here: the harness's crawler
//! model runs them on the run's simulated clock, not this endpoint), their `Schedule` as
//! GetCrawler answers it (`{ScheduleExpression, State: SCHEDULED}`, where CreateCrawler takes
//! the expression as a string), and their `LastCrawl` once a run has recorded one
//! ([`Crawlers::record_crawl`]).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::catalog::GlueError;

/// The fields CreateCrawler and UpdateCrawler take that GetCrawler shows as given.
const SETTINGS: [&str; 8] = [
    "Role",
    "DatabaseName",
    "Description",
    "Targets",
    "TablePrefix",
    "SchemaChangePolicy",
    "RecrawlPolicy",
    "Configuration",
];

/// One account's crawlers in one region.
#[derive(Debug, Clone, Default)]
pub struct Crawlers {
    crawlers: BTreeMap<String, Value>,
}

/// The words for a missing crawler. Glue's own text for it is not in the sources we have; this
/// form is ours, with Glue's error code.
fn no_crawler(name: &str) -> GlueError {
    GlueError::EntityNotFound(format!("Crawler {name} not found."))
}

/// The crawler `entry` with `input`'s settings applied.
fn apply(entry: &mut Value, input: &Value) {
    for key in SETTINGS {
        if let Some(value) = input.get(key).filter(|v| !v.is_null()) {
            entry[key] = value.clone();
        }
    }
    if let Some(expression) = input["Schedule"].as_str() {
        entry["Schedule"] = json!({ "ScheduleExpression": expression, "State": "SCHEDULED" });
    }
}

impl Crawlers {
    /// CreateCrawler, at `now` (epoch seconds).
    pub fn create(&mut self, input: &Value, now: f64) -> Result<(), GlueError> {
        let name = input["Name"].as_str().unwrap_or_default();
        if name.is_empty() || input["Role"].as_str().unwrap_or_default().is_empty() {
            return Err(GlueError::InvalidInput(
                "a crawler needs a Name and a Role".to_owned(),
            ));
        }
        if self.crawlers.contains_key(name) {
            return Err(GlueError::AlreadyExists(format!(
                "Crawler {name} already exists."
            )));
        }
        let mut entry = json!({
            "Name": name,
            "State": "READY",
            "CreationTime": now,
            "LastUpdated": now,
            "Version": 1,
        });
        apply(&mut entry, input);
        self.crawlers.insert(name.to_owned(), entry);
        Ok(())
    }

    /// UpdateCrawler: the given settings replace the crawler's; its version advances.
    pub fn update(&mut self, input: &Value, now: f64) -> Result<(), GlueError> {
        let name = input["Name"].as_str().unwrap_or_default();
        let entry = self
            .crawlers
            .get_mut(name)
            .ok_or_else(|| no_crawler(name))?;
        apply(entry, input);
        entry["LastUpdated"] = json!(now);
        entry["Version"] = json!(entry["Version"].as_i64().unwrap_or(1) + 1);
        Ok(())
    }

    /// GetCrawler.
    pub fn get(&self, name: &str) -> Result<Value, GlueError> {
        self.crawlers
            .get(name)
            .cloned()
            .ok_or_else(|| no_crawler(name))
    }

    /// GetCrawlers: every crawler, by name.
    pub fn list(&self) -> Vec<Value> {
        self.crawlers.values().cloned().collect()
    }

    /// DeleteCrawler.
    pub fn delete(&mut self, name: &str) -> Result<(), GlueError> {
        self.crawlers
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| no_crawler(name))
    }

    /// A run of crawler `name` started at `started_ms` (simulated epoch ms) and succeeded:
    /// GetCrawler's `LastCrawl` from now on, with the log stream Glue writes to.
    pub fn record_crawl(&mut self, name: &str, started_ms: i64) -> Result<(), GlueError> {
        let entry = self
            .crawlers
            .get_mut(name)
            .ok_or_else(|| no_crawler(name))?;
        entry["LastCrawl"] = json!({
            "Status": "SUCCEEDED",
            "StartTime": started_ms as f64 / 1000.0,
            "LogGroup": "/aws-glue/crawlers",
            "LogStream": name,
        });
        Ok(())
    }
}

/// The table a crawler run leaves in the catalog for JSON objects, in `TableInput`'s shape:
/// the columns it inferred, string partition keys, the JSON SerDe and text formats Glue's
/// crawlers give JSON data, and the parameters naming the classification and the crawler.
pub fn crawled_table_input(
    crawler: &str,
    name: &str,
    location: &str,
    columns: &[(String, String)],
    partition_keys: &[String],
) -> Value {
    let column = |(name, kind): (&str, &str)| json!({ "Name": name, "Type": kind });
    json!({
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "PartitionKeys": partition_keys.iter().map(|k| column((k, "string"))).collect::<Vec<_>>(),
        "Parameters": { "classification": "json", "UPDATED_BY_CRAWLER": crawler },
        "StorageDescriptor": {
            "Columns": columns.iter().map(|(n, t)| column((n, t))).collect::<Vec<_>>(),
            "Location": location,
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": { "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe" },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Value {
        json!({
            "Name": "ccp-logs-crawler",
            "Role": "arn:aws:iam::000000000000:role/crawler",
            "DatabaseName": "ccp_logs",
            "Targets": { "S3Targets": [{ "Path": "s3://b/logs/" }] },
            "Schedule": "cron(0/5 * * * ? *)",
            "SchemaChangePolicy": { "UpdateBehavior": "LOG", "DeleteBehavior": "LOG" },
            "RecrawlPolicy": { "RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY" },
        })
    }

    #[test]
    fn a_crawler_shows_its_settings_state_schedule_and_last_crawl() {
        let mut crawlers = Crawlers::default();
        crawlers.create(&input(), 1.0).unwrap();
        let crawler = crawlers.get("ccp-logs-crawler").unwrap();
        assert_eq!(crawler["State"], "READY");
        assert_eq!(
            crawler["Schedule"],
            json!({ "ScheduleExpression": "cron(0/5 * * * ? *)", "State": "SCHEDULED" })
        );
        assert_eq!(
            crawler["RecrawlPolicy"]["RecrawlBehavior"],
            "CRAWL_NEW_FOLDERS_ONLY"
        );
        assert!(crawler.get("LastCrawl").is_none());
        crawlers
            .record_crawl("ccp-logs-crawler", 1_800_000)
            .unwrap();
        let crawled = crawlers.get("ccp-logs-crawler").unwrap();
        assert_eq!(crawled["LastCrawl"]["Status"], "SUCCEEDED");
        assert_eq!(crawled["LastCrawl"]["StartTime"], 1800.0);
    }

    #[test]
    fn updates_advance_the_version_and_errors_carry_glues_codes() {
        let mut crawlers = Crawlers::default();
        crawlers.create(&input(), 1.0).unwrap();
        assert_eq!(
            crawlers.create(&input(), 2.0).unwrap_err().code(),
            "AlreadyExistsException"
        );
        crawlers
            .update(
                &json!({ "Name": "ccp-logs-crawler", "Schedule": "cron(15 * * * ? *)" }),
                3.0,
            )
            .unwrap();
        let crawler = crawlers.get("ccp-logs-crawler").unwrap();
        assert_eq!(crawler["Version"], 2);
        assert_eq!(
            crawler["Schedule"]["ScheduleExpression"],
            "cron(15 * * * ? *)"
        );
        assert_eq!(
            crawler["DatabaseName"], "ccp_logs",
            "unchanged settings stay"
        );
        assert_eq!(
            crawlers.get("other").unwrap_err().code(),
            "EntityNotFoundException"
        );
        crawlers.delete("ccp-logs-crawler").unwrap();
        assert!(crawlers.list().is_empty());
    }
}
