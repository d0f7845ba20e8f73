//! The Glue crawler over time: runs on its schedule, each seeing the objects that had landed
//! by then, and the table as the catalog holds it after them.
//!
//! As the Glue developer guide's "Scheduling incremental crawls for adding new partitions"
//! describes it: the first run crawls everything and records the schema and the partitions;
//! with `CRAWL_NEW_FOLDERS_ONLY` every later run crawls only the folders added since, adds
//! them as partitions and changes no schema (the update and delete behaviours are forced to
//! `LOG`: what it would change is logged, not applied). With `CRAWL_EVERYTHING` every run
//! reads the whole dataset again, and `UPDATE_IN_DATABASE` applies the schema it infers.
//! Athena lists a partition's folder when it queries, so objects landing in a folder the
//! crawler already added are read; a folder created after the last run is not.
//!
//! Where AWS is silent (each a row of the fidelity table): what "compatible" means for a new
//! folder under `CRAWL_NEW_FOLDERS_ONLY` (the model adds every new folder and logs type
//! differences); how long a run takes (its effects count from its scheduled minute); how a
//! field that is only ever null is typed (`string` here, as [`schema`](crate::schema) does).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use object_store::ObjectMeta;

use crate::crawl::{CrawlError, CrawlOptions, DataObject, Location, ObjectFormat, TableEntry};
use crate::partitions;
use crate::schema::ColumnType;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// A crawler schedule that repeats every hour: the minutes of the hour it starts at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minutes: BTreeSet<u32>,
}

/// A schedule the model cannot follow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("crawler schedule {expression:?}: {why}")]
pub struct ScheduleError {
    /// The expression as given.
    pub expression: String,
    /// What is wrong with it.
    pub why: String,
}

impl Schedule {
    /// Reads `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, Glue's (EventBridge's)
    /// cron form. The minutes field may be `*`, `N`, `N/S`, `*/S`, `A-B` or a list of these;
    /// the other fields must be `*` or `?` (ours: the model follows schedules that repeat
    /// every hour, which a crawler over hourly folders needs).
    pub fn parse(expression: &str) -> Result<Self, ScheduleError> {
        let fail = |why: String| ScheduleError {
            expression: expression.to_owned(),
            why,
        };
        let inner = expression
            .trim()
            .strip_prefix("cron(")
            .and_then(|rest| rest.strip_suffix(')'))
            .ok_or_else(|| fail("not of the form cron(...)".into()))?;
        let fields: Vec<&str> = inner.split_whitespace().collect();
        let [minutes, rest @ ..] = fields.as_slice() else {
            return Err(fail("no fields".into()));
        };
        if rest.len() != 5 {
            return Err(fail(format!(
                "{} fields; a Glue cron expression has 6 (minutes hours day-of-month month day-of-week year)",
                fields.len()
            )));
        }
        if let Some(field) = rest.iter().find(|f| !matches!(**f, "*" | "?")) {
            return Err(fail(format!(
                "field {field:?}: the harness follows schedules that repeat every hour (every field after the minutes `*` or `?`; our limit, not Glue's)"
            )));
        }
        let mut set = BTreeSet::new();
        for part in minutes.split(',') {
            minute_part(part, &mut set).map_err(|e| fail(e.to_string()))?;
        }
        Ok(Self { minutes: set })
    }

    /// How many runs start each hour.
    pub fn runs_per_hour(&self) -> usize {
        self.minutes.len()
    }

    /// The start times in `(after_ms, until_ms]`, epoch milliseconds.
    pub fn runs(&self, after_ms: i64, until_ms: i64) -> Vec<i64> {
        let mut runs = Vec::new();
        let mut hour = after_ms.div_euclid(HOUR_MS) * HOUR_MS;
        while hour <= until_ms {
            for minute in &self.minutes {
                let at = hour + i64::from(*minute) * MINUTE_MS;
                if at > after_ms && at <= until_ms {
                    runs.push(at);
                }
            }
            hour += HOUR_MS;
        }
        runs
    }

    /// The first start at or after `at_ms`.
    pub fn next_at_or_after(&self, at_ms: i64) -> i64 {
        self.runs(at_ms - 1, at_ms + HOUR_MS)
            .first()
            .copied()
            .unwrap_or(at_ms)
    }
}

/// What is wrong with one part of a cron minutes field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum MinuteError {
    /// A minute outside 0 to 59.
    #[error("minute {0:?} is not 0 to 59")]
    OutOfRange(String),
    /// A step that is not a positive number.
    #[error("step {0:?} is not a positive number")]
    BadStep(String),
    /// A part that names no minute (a range that runs backwards).
    #[error("{0:?} names no minute")]
    Empty(String),
}

fn minute_part(part: &str, set: &mut BTreeSet<u32>) -> Result<(), MinuteError> {
    let number = |text: &str| {
        text.parse::<u32>()
            .ok()
            .filter(|m| *m < 60)
            .ok_or_else(|| MinuteError::OutOfRange(text.to_owned()))
    };
    let (range, step) = match part.split_once('/') {
        Some((range, step)) => (
            range,
            step.parse::<u32>()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| MinuteError::BadStep(step.to_owned()))?,
        ),
        None => (part, 1),
    };
    let (first, last) = match range {
        "*" => (0, 59),
        _ => match range.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None if part.contains('/') => (number(range)?, 59),
            None => {
                let m = number(range)?;
                (m, m)
            }
        },
    };
    set.extend((first..=last).step_by(step as usize));
    if set.is_empty() {
        return Err(MinuteError::Empty(part.to_owned()));
    }
    Ok(())
}

/// How later runs read the data (`RecrawlPolicy.RecrawlBehavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recrawl {
    /// `CRAWL_EVERYTHING`.
    Everything,
    /// `CRAWL_NEW_FOLDERS_ONLY`.
    NewFoldersOnly,
}

/// What a run does with a schema that changed (`SchemaChangePolicy.UpdateBehavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaUpdate {
    /// `LOG`: the table stays as it is; the change is logged.
    Log,
    /// `UPDATE_IN_DATABASE`.
    UpdateInDatabase,
}

/// One run of the crawler.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CrawlRun {
    /// When it ran, epoch milliseconds (simulated).
    pub at_ms: i64,
    /// Objects it read the folders of (new folders only, after the first run).
    pub objects: usize,
    /// Whether it created the table.
    pub created_table: bool,
    /// Partitions it added.
    pub partitions_added: usize,
    /// Schema changes it found and logged without applying (`LOG`), or applied.
    pub changes: Vec<String>,
    /// Whether it applied the changes (`UPDATE_IN_DATABASE`).
    pub applied: bool,
}

/// The table as the catalog holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogedTable {
    /// Data columns and their types, fixed when the crawler created or last updated it.
    pub columns: Vec<(String, ColumnType)>,
    /// Partition columns.
    pub partition_columns: Vec<String>,
    /// The partitions added so far.
    pub partitions: BTreeSet<Vec<String>>,
}

/// A scheduled crawler and what it has put in the catalog.
#[derive(Debug, Clone)]
pub struct Crawler {
    options: CrawlOptions,
    recrawl: Recrawl,
    update: SchemaUpdate,
    table: Option<CatalogedTable>,
    /// Every run so far.
    pub runs: Vec<CrawlRun>,
}

impl Crawler {
    /// A crawler that has not run yet.
    pub fn new(options: CrawlOptions, recrawl: Recrawl, update: SchemaUpdate) -> Self {
        Self {
            options,
            recrawl,
            update,
            table: None,
            runs: Vec::new(),
        }
    }

    /// The table, once a run has created it.
    pub fn table(&self) -> Option<&CatalogedTable> {
        self.table.as_ref()
    }

    /// One run at `at_ms`: it sees the objects of `listing` that had landed by then
    /// (`landed_at`: key to epoch milliseconds; a key without a time was there before).
    pub async fn run(
        &mut self,
        location: &Location,
        at_ms: i64,
        listing: &BTreeMap<String, ObjectMeta>,
        landed_at: &HashMap<String, i64>,
    ) -> Result<(), CrawlError> {
        let visible: BTreeMap<String, ObjectMeta> = listing
            .iter()
            .filter(|(key, _)| landed_at.get(*key).is_none_or(|t| *t <= at_ms))
            .map(|(k, m)| (k.clone(), m.clone()))
            .collect();
        let run = match (&self.table, self.recrawl) {
            (None, _) => self.first_run(location, at_ms, &visible).await?,
            (Some(_), Recrawl::Everything) => self.full_run(location, at_ms, &visible).await?,
            (Some(_), Recrawl::NewFoldersOnly) => {
                self.new_folders_run(location, at_ms, &visible).await?
            }
        };
        self.runs.push(run);
        Ok(())
    }

    async fn first_run(
        &mut self,
        location: &Location,
        at_ms: i64,
        visible: &BTreeMap<String, ObjectMeta>,
    ) -> Result<CrawlRun, CrawlError> {
        let mut run = empty_run(at_ms, visible.len());
        if visible.is_empty() {
            return Ok(run);
        }
        let entry = crate::crawl::crawl_listed(location, &self.options, visible).await?;
        run.created_table = true;
        run.partitions_added = entry.partitions.len();
        self.table = Some(CatalogedTable {
            columns: entry.columns,
            partition_columns: entry.partition_columns,
            partitions: entry.partitions.into_keys().collect(),
        });
        Ok(run)
    }

    async fn full_run(
        &mut self,
        location: &Location,
        at_ms: i64,
        visible: &BTreeMap<String, ObjectMeta>,
    ) -> Result<CrawlRun, CrawlError> {
        let entry = crate::crawl::crawl_listed(location, &self.options, visible).await?;
        let mut run = empty_run(at_ms, visible.len());
        let apply = self.update == SchemaUpdate::UpdateInDatabase;
        let Some(table) = self.table.as_mut() else {
            return Ok(run);
        };
        run.changes = differences(&table.columns, &entry.columns);
        run.applied = apply && !run.changes.is_empty();
        if apply {
            table.columns = entry.columns;
        }
        for values in entry.partitions.into_keys() {
            if table.partitions.insert(values) {
                run.partitions_added += 1;
            }
        }
        Ok(run)
    }

    async fn new_folders_run(
        &mut self,
        location: &Location,
        at_ms: i64,
        visible: &BTreeMap<String, ObjectMeta>,
    ) -> Result<CrawlRun, CrawlError> {
        let keys: Vec<String> = visible.keys().cloned().collect();
        let inferred = partitions::infer(&location.root, &keys, self.options.layout)?;
        let Some(table) = self.table.as_mut() else {
            return Ok(empty_run(at_ms, 0));
        };
        let new: BTreeMap<String, ObjectMeta> = inferred
            .partitions
            .iter()
            .filter(|(values, _)| !table.partitions.contains(*values))
            .flat_map(|(_, keys)| keys.iter())
            .filter_map(|key| visible.get(key).map(|m| (key.clone(), m.clone())))
            .collect();
        let mut run = empty_run(at_ms, new.len());
        if new.is_empty() {
            return Ok(run);
        }
        let entry = crate::crawl::crawl_listed(location, &self.options, &new).await?;
        run.changes = differences(&table.columns, &entry.columns);
        for values in entry.partitions.into_keys() {
            if table.partitions.insert(values) {
                run.partitions_added += 1;
            }
        }
        Ok(run)
    }

    /// The table as Athena reads it now: the catalog's columns and partitions, each partition
    /// with the objects `listing` holds in its folder (Athena lists it when it queries);
    /// objects in folders the catalog has no partition for are `unreachable`. `None` before
    /// the first run created the table.
    pub fn entry(
        &self,
        location: &Location,
        listing: &BTreeMap<String, ObjectMeta>,
    ) -> Result<Option<TableEntry>, CrawlError> {
        let Some(table) = &self.table else {
            return Ok(None);
        };
        let keys: Vec<String> = listing.keys().cloned().collect();
        let inferred = partitions::infer(&location.root, &keys, self.options.layout)?;
        let mut entry = TableEntry {
            database: self.options.database.clone(),
            name: self.options.table.clone(),
            location: location.clone(),
            columns: table.columns.clone(),
            partition_columns: table.partition_columns.clone(),
            partitions: BTreeMap::new(),
            unreachable: inferred.unreachable,
            bad_rows: Vec::new(),
            bad_row_count: 0,
            sampled_objects: 0,
            sampled_rows: 0,
        };
        for (values, keys) in inferred.partitions {
            if !table.partitions.contains(&values) {
                entry.unreachable.extend(keys);
                continue;
            }
            let objects = keys
                .iter()
                .filter_map(|key| listing.get(key))
                .map(|meta| DataObject {
                    key: meta.location.to_string(),
                    size: meta.size,
                    format: ObjectFormat::of_key(meta.location.as_ref()),
                })
                .collect();
            entry.partitions.insert(values, objects);
        }
        Ok(Some(entry))
    }
}

fn empty_run(at_ms: i64, objects: usize) -> CrawlRun {
    CrawlRun {
        at_ms,
        objects,
        created_table: false,
        partitions_added: 0,
        changes: Vec::new(),
        applied: false,
    }
}

/// What `found` would change in `table`: new columns, and types that differ (a field that was
/// only null in `found` says nothing about its type).
fn differences(table: &[(String, ColumnType)], found: &[(String, ColumnType)]) -> Vec<String> {
    found
        .iter()
        .filter_map(|(name, kind)| match table.iter().find(|(n, _)| n == name) {
            None => Some(format!("new column {name} {}", kind.hive_name())),
            Some((_, held))
                if *kind != ColumnType::Unknown && held.hive_name() != kind.hive_name() =>
            {
                Some(format!(
                    "column {name}: the table holds {}, the new rows hold {}",
                    held.hive_name(),
                    kind.hive_name()
                ))
            }
            Some(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
