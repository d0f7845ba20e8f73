//! The stack's crawler over the run (crawler mode): its runs on the stack's schedule on the
//! simulated clock, from the run's start to the query, each seeing the objects that had
//! landed by then ([`lake::crawler`]), and the table as the catalog holds it after them.
//!
//! The queries run at the end of the run, or, when the last object landed after the last
//! scheduled run, at the next one: as a user who waits for the crawler before querying.

use std::collections::{BTreeMap, HashMap};

use lake::crawl::{CrawlOptions, Location, TableEntry};
use lake::crawler::{CrawlRun, Crawler, Recrawl, Schedule, SchemaUpdate};
use serde::Serialize;
use stack::StackDefinition;
use standins::firehose::LandedObject;
use standins::iam::{Call, CallResource};

use crate::catalog::AthenaError;

/// The run's clock as the crawler sees it.
#[derive(Debug, Clone, Copy)]
pub struct CatalogClock<'a> {
    /// When the run's clock started (simulated epoch ms).
    pub started_ms: i64,
    /// The simulated time at the query stage.
    pub now_ms: i64,
    /// Each data object's key and when it landed.
    pub landed: &'a [LandedObject],
}

/// What the crawler did over the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CrawlerSummary {
    /// The stack's schedule.
    pub schedule: String,
    /// `CRAWL_NEW_FOLDERS_ONLY` or `CRAWL_EVERYTHING`.
    pub recrawl: String,
    /// When the run's clock started (simulated epoch ms).
    pub started_ms: i64,
    /// Each run.
    pub runs: Vec<CrawlRun>,
    /// The run that created the table (simulated epoch ms), if any did.
    pub table_created_ms: Option<i64>,
    /// When the queries ran (simulated epoch ms).
    pub queried_ms: i64,
    /// Schema changes the runs found, each once.
    pub changes: Vec<String>,
    /// Whether they were applied (`UPDATE_IN_DATABASE` with `CRAWL_EVERYTHING`) or only
    /// logged.
    pub applied: bool,
}

/// The crawler's runs over the run; the table as catalogued when the queries run (`None`
/// before a run created it).
pub async fn over_the_run(
    location: &Location,
    options: &CrawlOptions,
    definition: &StackDefinition,
    clock: CatalogClock<'_>,
) -> Result<(Option<TableEntry>, CrawlerSummary), AthenaError> {
    let catalog = &definition.catalog;
    let schedule = Schedule::parse(&catalog.crawler_schedule)?;
    let recrawl = match catalog.recrawl {
        stack::Recrawl::NewFoldersOnly => Recrawl::NewFoldersOnly,
        stack::Recrawl::Everything => Recrawl::Everything,
    };
    let update = match catalog.schema_update.as_str() {
        "UPDATE_IN_DATABASE" if recrawl == Recrawl::Everything => SchemaUpdate::UpdateInDatabase,
        _ => SchemaUpdate::Log,
    };
    let last_landed = clock.landed.iter().map(|o| o.landed_ms).max();
    let queried_ms = match last_landed {
        Some(at) => clock.now_ms.max(schedule.next_at_or_after(at)),
        None => clock.now_ms,
    };
    let listing = lake::crawl::list(location, &options.exclude_prefixes).await?;
    let landed: HashMap<String, i64> = clock
        .landed
        .iter()
        .map(|o| (o.key.clone(), o.landed_ms))
        .collect();
    let mut crawler = Crawler::new(options.clone(), recrawl, update);
    for at in schedule.runs(clock.started_ms, queried_ms) {
        crawler.run(location, at, &listing, &landed).await?;
    }
    let entry = crawler.entry(location, &listing)?;
    let mut changes: Vec<String> = Vec::new();
    for change in crawler.runs.iter().flat_map(|r| &r.changes) {
        if !changes.contains(change) {
            changes.push(change.clone());
        }
    }
    let summary = CrawlerSummary {
        schedule: catalog.crawler_schedule.clone(),
        recrawl: catalog.recrawl.glue_name().to_owned(),
        table_created_ms: crawler
            .runs
            .iter()
            .find(|r| r.created_table)
            .map(|r| r.at_ms),
        queried_ms,
        started_ms: clock.started_ms,
        applied: crawler.runs.iter().any(|r| r.applied),
        changes,
        runs: crawler.runs,
    };
    Ok((entry, summary))
}

/// Where the crawler's requests go, for IAM.
#[derive(Debug, Clone, Copy)]
pub struct CrawlerTarget<'a> {
    /// The account id.
    pub account_id: &'a str,
    /// The region.
    pub region: &'a str,
    /// The bucket.
    pub bucket: &'a str,
    /// The data prefix's static folder (`logs/`).
    pub root: &'a str,
    /// The Glue database.
    pub database: &'a str,
    /// The table.
    pub table: &'a str,
}

impl CrawlerSummary {
    /// The requests AWS's crawler makes with its role for what each run did, as IAM sees
    /// them: it lists the data prefix and reads each object that had landed (s3:ListBucket
    /// with `s3:prefix`, s3:GetObject), reads the table (glue:GetDatabase, glue:GetTable),
    /// creates it on its first run (glue:CreateTable), adds partitions
    /// (glue:BatchCreatePartition), applies schema changes (glue:UpdateTable), and logs to
    /// `/aws-glue/crawlers` (logs:CreateLogStream, logs:PutLogEvents). The crawler is AWS's
    /// code and Glue names no exact list of its calls (a fidelity row): these are the Data
    /// Catalog and S3 operations for those effects, each once per run, and a read of every
    /// object that had landed (a superset of what a new-folders-only run reads).
    pub fn calls(&self, landed: &[LandedObject], at: CrawlerTarget<'_>) -> Vec<Call> {
        let principal = stack::template::ids::CRAWLER_ROLE;
        let glue =
            |resource: &str| format!("arn:aws:glue:{}:{}:{resource}", at.region, at.account_id);
        let plain = |arn: String| CallResource {
            arn,
            context: BTreeMap::new(),
        };
        let call = |action: &str, resources: Vec<CallResource>| Call {
            principal: principal.to_owned(),
            action: action.to_owned(),
            resources,
        };
        let catalog_resources = || {
            vec![
                plain(glue("catalog")),
                plain(glue(&format!("database/{}", at.database))),
                plain(glue(&format!("table/{}/{}", at.database, at.table))),
            ]
        };
        let log_stream = plain(format!(
            "arn:aws:logs:{}:{}:log-group:/aws-glue/crawlers:log-stream:{}",
            at.region, at.account_id, at.table
        ));
        let mut calls = Vec::new();
        for run in &self.runs {
            calls.push(call(
                "s3:ListBucket",
                vec![CallResource {
                    arn: format!("arn:aws:s3:::{}", at.bucket),
                    context: BTreeMap::from([("s3:prefix".to_owned(), at.root.to_owned())]),
                }],
            ));
            calls.extend(
                landed
                    .iter()
                    .filter(|o| o.landed_ms <= run.at_ms && o.key.starts_with(at.root))
                    .map(|o| {
                        call(
                            "s3:GetObject",
                            vec![plain(format!("arn:aws:s3:::{}/{}", at.bucket, o.key))],
                        )
                    }),
            );
            calls.push(call("glue:GetDatabase", catalog_resources()));
            calls.push(call("glue:GetTable", catalog_resources()));
            if run.created_table {
                calls.push(call("glue:CreateTable", catalog_resources()));
            }
            if run.partitions_added > 0 {
                calls.push(call("glue:BatchCreatePartition", catalog_resources()));
            }
            if run.applied {
                calls.push(call("glue:UpdateTable", catalog_resources()));
            }
            calls.push(call("logs:CreateLogStream", vec![log_stream.clone()]));
            calls.push(call("logs:PutLogEvents", vec![log_stream.clone()]));
        }
        calls
    }

    /// `+M:SS` from the run's start.
    fn offset(&self, at_ms: i64) -> String {
        let seconds = (at_ms - self.started_ms).max(0) / 1000;
        format!("+{}:{:02}", seconds / 60, seconds % 60)
    }

    /// One paragraph for the run's summary.
    pub fn describe(&self) -> String {
        let created = match self.table_created_ms {
            Some(at) => format!("the run at {} created the table", self.offset(at)),
            None => "no run created the table (nothing had landed when one ran)".to_owned(),
        };
        let mut text = format!(
            "crawler: {} runs on {} ({}); {created}; queries at {}",
            self.runs.len(),
            self.schedule,
            self.recrawl,
            self.offset(self.queried_ms)
        );
        if !self.changes.is_empty() {
            let verb = if self.applied {
                "applied"
            } else {
                "logged, not applied (LOG)"
            };
            text.push_str(&format!(
                "\n  schema changes {verb}: {}",
                self.changes.join("; ")
            ));
        }
        text
    }
}
