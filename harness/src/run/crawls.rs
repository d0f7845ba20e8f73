//! The stack's crawler over the run (crawler mode): its runs on the stack's schedule on the
//! simulated clock, from the run's start to the query, each seeing the objects that had
//! landed by then ([`lake::crawler`]), and the table as the catalog holds it after them.
//!
//! The queries run at the end of the run, or, when the last object landed after the last
//! scheduled run, at the next one: as a user who waits for the crawler before querying.

use std::collections::HashMap;

use lake::crawl::{CrawlOptions, Location, TableEntry};
use lake::crawler::{CrawlRun, Crawler, Recrawl, Schedule, SchemaUpdate};
use serde::Serialize;
use stack::StackDefinition;

use crate::catalog::AthenaError;

/// The run's clock as the crawler sees it.
#[derive(Debug, Clone, Copy)]
pub struct CatalogClock<'a> {
    /// When the run's clock started (simulated epoch ms).
    pub started_ms: i64,
    /// The simulated time at the query stage.
    pub now_ms: i64,
    /// Each data object's key and when it landed.
    pub landed: &'a [(String, i64)],
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
    let last_landed = clock.landed.iter().map(|(_, at)| *at).max();
    let queried_ms = match last_landed {
        Some(at) => clock.now_ms.max(schedule.next_at_or_after(at)),
        None => clock.now_ms,
    };
    let listing = lake::crawl::list(location, &options.exclude_prefixes).await?;
    let landed: HashMap<String, i64> = clock.landed.iter().cloned().collect();
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

impl CrawlerSummary {
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
