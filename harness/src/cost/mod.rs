//! What the run's workload would cost on AWS, per service, from the run's own measurements and
//! a price table ([`Prices`], `prices.toml` beside this file unless `loglab run --prices`
//! names another): CloudWatch Logs ingestion and storage over the retention, Lambda requests
//! and GB-seconds (measured handler time at the template's memory), Firehose ingestion with
//! each record rounded up as Firehose bills it and format conversion, S3 PUTs and storage
//! through the lifecycle's classes, Athena's bytes scanned by the scenario's queries, the Glue
//! crawler's runs on the stack's schedule (DPU-hours, billed per second with a 10-minute
//! minimum per run), the Data Catalog's objects and requests, and the dead-letter queues' SQS
//! requests. Beside the month's total, the same month priced with the other catalog (partition
//! projection instead of the crawler, or the stack's crawler instead of projection), so that
//! the catalog's price is seen next to the rest. How many Data Catalog requests a crawler run or
//! a query makes is not published (`[assumptions]`).
//!
//! Each line has the run's figure and a month's: the workload scaled from the scenario's
//! simulated duration to 30 days (storage as one month of data kept for its whole life), and
//! the queries run `query_runs_per_month` times. GB and TB are 2^30 and 2^40 bytes. What AWS
//! does not publish, said here: CloudWatch Logs bills stored data compressed and states no ratio,
//! so storage is priced on the ingested (uncompressed) size, an upper bound; how ingestion bytes
//! are counted beyond the messages is not stated, so messages' UTF-8 bytes are counted. The
//! functions are priced on x86_64, the template's default `FunctionArchitecture`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The price table shipped with the harness.
pub const DEFAULT_PRICES: &str = include_str!("prices.toml");
/// Bytes in a GB as billed here.
pub const GB: f64 = 1_073_741_824.0;
/// Bytes in a TB as billed here.
pub const TB: f64 = 1_099_511_627_776.0;
/// Days in the month the monthly figures are for.
pub const DAYS_PER_MONTH: f64 = 30.0;

/// A price table (`prices.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    /// The region the prices are for.
    pub region: String,
    /// When they were read.
    pub as_of: String,
    /// Where they come from.
    pub source: String,
    /// `[cloudwatch_logs]`.
    pub cloudwatch_logs: CloudWatchLogsPrices,
    /// `[lambda]`.
    pub lambda: LambdaPrices,
    /// `[firehose]`.
    pub firehose: FirehosePrices,
    /// `[s3]`.
    pub s3: S3Prices,
    /// `[athena]`.
    pub athena: AthenaPrices,
    /// `[glue]`.
    pub glue: GluePrices,
    /// `[sqs]`.
    pub sqs: SqsPrices,
    /// `[assumptions]`.
    pub assumptions: Assumptions,
}

/// CloudWatch Logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudWatchLogsPrices {
    /// Standard ingestion, per GB.
    pub ingestion_usd_per_gb: f64,
    /// Archival storage, per GB-month.
    pub storage_usd_per_gb_month: f64,
}

/// Lambda.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaPrices {
    /// Per million requests.
    pub requests_usd_per_million: f64,
    /// Per GB-second on x86_64.
    pub x86_64_usd_per_gb_second: f64,
    /// Per GB-second on arm64.
    pub arm64_usd_per_gb_second: f64,
}

/// Firehose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirehosePrices {
    /// Direct PUT ingestion, per GB (records rounded up).
    pub ingestion_usd_per_gb: f64,
    /// Format conversion, per GB.
    pub format_conversion_usd_per_gb: f64,
}

/// S3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Prices {
    /// PUT requests, per thousand.
    pub put_usd_per_thousand: f64,
    /// Storage per GB-month, by storage class.
    pub storage_usd_per_gb_month: BTreeMap<String, f64>,
    /// Lifecycle transition requests into a class, per thousand.
    pub transition_usd_per_thousand: BTreeMap<String, f64>,
    /// Days an object is billed in a class at least (a minimum storage duration charge).
    pub minimum_storage_days: BTreeMap<String, f64>,
    /// Objects smaller than this are not transitioned (S3 Lifecycle's default minimum).
    pub transition_minimum_object_bytes: u64,
}

/// Athena.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AthenaPrices {
    /// Per TB scanned.
    pub usd_per_tb_scanned: f64,
    /// Scans are rounded up to a multiple of this.
    pub rounding_bytes: u64,
    /// The least a query is billed for.
    pub minimum_bytes_per_query: u64,
}

/// Glue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GluePrices {
    /// Crawlers, per DPU-hour (billed per second).
    pub crawler_usd_per_dpu_hour: f64,
    /// The least a crawler run is billed for, seconds.
    pub crawler_minimum_seconds: f64,
    /// Data Catalog storage, per 100,000 objects (databases, tables, partitions) a month.
    pub catalog_usd_per_100k_objects_month: f64,
    /// Data Catalog requests, per million.
    pub catalog_usd_per_million_requests: f64,
}

/// SQS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqsPrices {
    /// Standard queue requests, per million (each 64 KB chunk of a payload is a request).
    pub usd_per_million_requests: f64,
}

/// What the monthly figures assume beyond the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assumptions {
    /// How many times a month the scenario's queries run.
    pub query_runs_per_month: f64,
    /// DPUs a crawler run uses (Glue does not publish it).
    pub crawler_dpus: f64,
    /// Seconds a crawler run lasts (Glue does not publish it).
    pub crawler_run_seconds: f64,
    /// Data Catalog requests a crawler run makes (Glue does not publish it).
    pub catalog_requests_per_crawler_run: f64,
    /// Data Catalog requests Athena makes per query (GetTable, and GetPartitions without
    /// projection; Athena does not publish it).
    pub catalog_requests_per_query: f64,
}

/// Why a price table could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PricesError {
    /// The file could not be read.
    #[error("cannot read the price table {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not a price table.
    #[error("price table {path}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message, with the key.
        message: String,
    },
}

impl Prices {
    /// The shipped table.
    pub fn shipped() -> Self {
        Self::from_toml(DEFAULT_PRICES, "harness/src/cost/prices.toml")
            .unwrap_or_else(|e| unreachable!("the shipped price table parses (a test checks): {e}"))
    }

    /// A table from TOML text; `path` names it in errors.
    pub fn from_toml(text: &str, path: &str) -> Result<Self, PricesError> {
        toml::from_str(text).map_err(|e| PricesError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })
    }

    /// A table from a file.
    pub fn load(path: &Path) -> Result<Self, PricesError> {
        let text = std::fs::read_to_string(path).map_err(|source| PricesError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }
}

/// One Lambda function's part of the workload.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionUse {
    /// The function's name.
    pub name: String,
    /// Invocations.
    pub invocations: u64,
    /// Billed milliseconds (each invocation rounded up to a millisecond); `None` when not
    /// measured.
    pub billed_ms: Option<u64>,
    /// `MemorySize`, MB.
    pub memory_mb: u64,
    /// Whether it runs on arm64.
    pub arm64: bool,
}

/// What the run did, as the estimate needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Simulated seconds the workload spans.
    pub seconds: f64,
    /// Bytes of the messages PutLogEvents accepted.
    pub ingested_bytes: u64,
    /// The log group's retention, days.
    pub retention_days: f64,
    /// The functions.
    pub functions: Vec<FunctionUse>,
    /// Bytes Firehose received.
    pub firehose_bytes: u64,
    /// Those bytes with each record rounded up to Firehose's billing unit.
    pub firehose_billed_bytes: u64,
    /// Whether Firehose converted the records' format.
    pub converted: bool,
    /// S3 PUT requests.
    pub puts: u64,
    /// Bytes stored in the bucket.
    pub stored_bytes: u64,
    /// Each stored object's size, bytes.
    pub object_sizes: Vec<u64>,
    /// The bucket's lifecycle: (days after creation, storage class) transitions, in order.
    pub transitions: Vec<(f64, String)>,
    /// Days after which objects are deleted.
    pub expiration_days: f64,
    /// Days an expired (noncurrent) version is kept in its last class before S3 removes it
    /// (the versioned bucket's `NoncurrentVersionExpiration`); 0 without versioning.
    pub noncurrent_days: f64,
    /// Bytes each of the scenario's queries scanned.
    pub query_bytes: Vec<u64>,
    /// The stack's Glue crawler: deployed in crawler mode, priced beside the month in
    /// projection mode.
    pub crawler: Option<CrawlerUse>,
    /// Requests the run made on the functions' dead-letter queues: a SendMessage per dead
    /// letter, a ReceiveMessage and a DeleteMessage per letter redriven.
    pub dead_letter_requests: u64,
}

/// The stack's Glue crawler.
#[derive(Debug, Clone, PartialEq)]
pub struct CrawlerUse {
    /// Its schedule as the stack writes it (`cron(0/5 * * * ? *)`).
    pub schedule: String,
    /// Runs an hour on that schedule; `None` when the schedule is not one the estimate reads.
    pub runs_per_hour: Option<f64>,
    /// Whether the stack deploys it (crawler mode); otherwise the estimate prices it only
    /// beside the month, as the design not chosen.
    pub deployed: bool,
}

/// One priced line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostLine {
    /// The service.
    pub service: &'static str,
    /// What is priced.
    pub item: String,
    /// The quantity in the run, in `unit`.
    pub quantity: f64,
    /// Its unit.
    pub unit: &'static str,
    /// USD per unit.
    pub price: f64,
    /// USD for the run.
    pub run_usd: f64,
    /// USD for a month at the run's rates.
    pub month_usd: f64,
}

/// The estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostEstimate {
    /// The price table's region, date and source.
    pub prices: String,
    /// Every line.
    pub lines: Vec<CostLine>,
    /// USD for the run.
    pub run_usd: f64,
    /// USD for a month at the run's rates.
    pub month_usd: f64,
    /// USD for the same month with partition projection instead of the crawler (the crawler's
    /// lines left out); `None` when there is no crawler.
    pub month_usd_with_projection: Option<f64>,
    /// USD for the same month with the stack's crawler on its schedule instead of partition
    /// projection; `None` when the crawler is deployed (or its schedule is not read).
    pub month_usd_with_crawler: Option<f64>,
    /// What is not priced, and why.
    pub not_priced: Vec<String>,
}

/// Prices `workload` at `prices`.
pub fn estimate(workload: &Workload, prices: &Prices) -> CostEstimate {
    let (lines, not_priced) = priced_lines(workload, prices);
    let run_usd = lines.iter().map(|l| l.run_usd).sum();
    let month_usd: f64 = lines.iter().map(|l| l.month_usd).sum();
    // The catalog not chosen: the same workload priced with the crawler deployed or not.
    let other_month = |deployed: bool| {
        let crawler = workload.crawler.as_ref()?;
        crawler.runs_per_hour?;
        let other = Workload {
            crawler: Some(CrawlerUse {
                deployed,
                ..crawler.clone()
            }),
            ..workload.clone()
        };
        Some(
            priced_lines(&other, prices)
                .0
                .iter()
                .map(|l| l.month_usd)
                .sum::<f64>(),
        )
    };
    let deployed = workload.crawler.as_ref().is_some_and(|c| c.deployed);
    let (month_usd_with_projection, month_usd_with_crawler) = if deployed {
        (other_month(false), None)
    } else {
        (None, other_month(true))
    };
    CostEstimate {
        prices: format!(
            "{} prices as of {} ({})",
            prices.region, prices.as_of, prices.source
        ),
        lines,
        run_usd,
        month_usd,
        month_usd_with_projection,
        month_usd_with_crawler,
        not_priced,
    }
}

/// Every priced line of `workload`, and what is not priced.
fn priced_lines(workload: &Workload, prices: &Prices) -> (Vec<CostLine>, Vec<String>) {
    let months = if workload.seconds > 0.0 {
        DAYS_PER_MONTH * 86_400.0 / workload.seconds
    } else {
        0.0
    };
    let mut lines = Vec::new();
    let mut not_priced = Vec::new();
    let mut add = |service, item: String, quantity: f64, unit, price: f64, per_month: f64| {
        let run_usd = quantity * price;
        lines.push(CostLine {
            service,
            item,
            quantity,
            unit,
            price,
            run_usd,
            month_usd: run_usd * per_month,
        });
    };
    let cw = &prices.cloudwatch_logs;
    let ingested_gb = workload.ingested_bytes as f64 / GB;
    add(
        "CloudWatch Logs",
        "ingestion".into(),
        ingested_gb,
        "GB",
        cw.ingestion_usd_per_gb,
        months,
    );
    // One run's data kept for the retention (uncompressed: an upper bound, see the module).
    add(
        "CloudWatch Logs",
        format!(
            "storage, {} days (uncompressed size)",
            workload.retention_days
        ),
        ingested_gb * workload.retention_days / DAYS_PER_MONTH,
        "GB-month",
        cw.storage_usd_per_gb_month,
        months,
    );
    for function in &workload.functions {
        add(
            "Lambda",
            format!("{} requests", function.name),
            function.invocations as f64 / 1e6,
            "million requests",
            prices.lambda.requests_usd_per_million,
            months,
        );
        match function.billed_ms {
            Some(ms) => add(
                "Lambda",
                format!("{} compute, {} MB", function.name, function.memory_mb),
                ms as f64 / 1000.0 * function.memory_mb as f64 / 1024.0,
                "GB-second",
                if function.arm64 {
                    prices.lambda.arm64_usd_per_gb_second
                } else {
                    prices.lambda.x86_64_usd_per_gb_second
                },
                months,
            ),
            None => not_priced.push(format!(
                "Lambda compute of {}: its duration was not measured in this run",
                function.name
            )),
        }
    }
    let fh = &prices.firehose;
    add(
        "Firehose",
        "ingestion (each record rounded up to 5 KB)".into(),
        workload.firehose_billed_bytes as f64 / GB,
        "GB",
        fh.ingestion_usd_per_gb,
        months,
    );
    if workload.converted {
        add(
            "Firehose",
            "format conversion to Parquet (each record rounded up to 5 KB)".into(),
            workload.firehose_billed_bytes as f64 / GB,
            "GB",
            fh.format_conversion_usd_per_gb,
            months,
        );
    }
    add(
        "S3",
        "PUT requests".into(),
        workload.puts as f64 / 1000.0,
        "thousand requests",
        prices.s3.put_usd_per_thousand,
        months,
    );
    let storage = lifecycle_storage(workload, &prices.s3);
    for (class, byte_days) in &storage.byte_days {
        match prices.s3.storage_usd_per_gb_month.get(class) {
            Some(price) => add(
                "S3",
                format!("storage in {class} (lifecycle minimums applied)"),
                byte_days / GB / DAYS_PER_MONTH,
                "GB-month",
                *price,
                months,
            ),
            None => not_priced.push(format!("S3 storage in {class}: no price in the table")),
        }
    }
    for (class, count) in &storage.transitions {
        match prices.s3.transition_usd_per_thousand.get(class) {
            Some(price) => add(
                "S3",
                format!("lifecycle transitions into {class}"),
                *count as f64 / 1000.0,
                "thousand requests",
                *price,
                months,
            ),
            None => not_priced.push(format!(
                "S3 lifecycle transitions into {class}: no price in the table"
            )),
        }
    }
    let athena = &prices.athena;
    let billed: u64 = workload
        .query_bytes
        .iter()
        .map(|&bytes| athena_billed_bytes(bytes, athena))
        .sum();
    add(
        "Athena",
        format!(
            "{} queries' bytes scanned (billed per query)",
            workload.query_bytes.len()
        ),
        billed as f64 / TB,
        "TB",
        athena.usd_per_tb_scanned,
        prices.assumptions.query_runs_per_month,
    );
    if let Some(crawler) = workload.crawler.as_ref().filter(|c| c.deployed) {
        match crawler.runs_per_hour {
            Some(per_hour) => {
                let glue = &prices.glue;
                let billed_seconds = prices
                    .assumptions
                    .crawler_run_seconds
                    .max(glue.crawler_minimum_seconds);
                let dpus = prices.assumptions.crawler_dpus;
                let runs = per_hour * workload.seconds / 3600.0;
                add(
                    "Glue",
                    format!(
                        "crawler {}: {:.0} runs x {dpus} DPU x {billed_seconds:.0} s",
                        crawler.schedule, runs
                    ),
                    runs * dpus * billed_seconds / 3600.0,
                    "DPU-hour",
                    glue.crawler_usd_per_dpu_hour,
                    months,
                );
            }
            None => not_priced.push(format!(
                "the Glue crawler: its schedule {} is not one the estimate reads (cron with a \
                 fixed or stepped minute and every hour)",
                crawler.schedule
            )),
        }
    }
    catalog_lines(workload, prices, months, &mut add);
    if workload.dead_letter_requests > 0 {
        add(
            "SQS",
            format!(
                "dead-letter queue requests ({} sent, received, deleted)",
                workload.dead_letter_requests
            ),
            workload.dead_letter_requests as f64 / 1e6,
            "million requests",
            prices.sqs.usd_per_million_requests,
            months,
        );
    }
    (lines, not_priced)
}

/// Hours in the estimate's month (`DAYS_PER_MONTH` days).
const HOURS_PER_MONTH: f64 = DAYS_PER_MONTH * 24.0;

/// The Glue Data Catalog: its objects (the database, the table, and with a crawler one
/// partition per hour folder, which `LOG` never deletes: a month adds `HOURS_PER_MONTH`), and
/// its requests (the crawler's runs and Athena's per query, as `[assumptions]` estimate them).
fn catalog_lines(
    workload: &Workload,
    prices: &Prices,
    months: f64,
    add: &mut impl FnMut(&'static str, String, f64, &'static str, f64, f64),
) {
    let glue = &prices.glue;
    let crawler = workload.crawler.as_ref().filter(|c| c.deployed);
    let partitions = if crawler.is_some() {
        HOURS_PER_MONTH
    } else {
        0.0
    };
    let objects = 2.0 + partitions;
    let month_share = if months > 0.0 { 1.0 / months } else { 0.0 };
    add(
        "Glue",
        format!("Data Catalog storage, {objects:.0} objects"),
        objects / 100_000.0 * month_share,
        "100k objects-month",
        glue.catalog_usd_per_100k_objects_month,
        months,
    );
    let assumptions = &prices.assumptions;
    let crawler_runs = crawler
        .and_then(|c| c.runs_per_hour)
        .map_or(0.0, |per_hour| per_hour * workload.seconds / 3600.0);
    let queries =
        workload.query_bytes.len() as f64 * assumptions.query_runs_per_month * month_share;
    let requests = crawler_runs * assumptions.catalog_requests_per_crawler_run
        + queries * assumptions.catalog_requests_per_query;
    add(
        "Glue",
        "Data Catalog requests (crawler runs, queries)".into(),
        requests / 1e6,
        "million requests",
        glue.catalog_usd_per_million_requests,
        months,
    );
}

/// Runs an hour of a Glue cron schedule, as the crawler model reads it
/// ([`lake::crawler::Schedule`]: schedules that repeat every hour). `None` for anything else.
pub fn cron_runs_per_hour(schedule: &str) -> Option<f64> {
    let schedule = lake::crawler::Schedule::parse(schedule).ok()?;
    Some(schedule.runs_per_hour() as f64)
}

/// The bytes Athena bills for a scan of `bytes`.
pub fn athena_billed_bytes(bytes: u64, athena: &AthenaPrices) -> u64 {
    let unit = athena.rounding_bytes.max(1);
    bytes
        .div_ceil(unit)
        .saturating_mul(unit)
        .max(athena.minimum_bytes_per_query)
}

/// What the bucket's objects cost to keep through their life: byte-days per storage class and
/// transition requests per target class.
#[derive(Debug, Default)]
struct LifecycleStorage {
    byte_days: BTreeMap<String, f64>,
    transitions: BTreeMap<String, u64>,
}

/// Each object through the lifecycle as S3 bills it: an object under the transition minimum
/// (128 KB by default) stays in STANDARD until it expires; a larger one moves through the
/// classes, each transition a request, and is billed at least a class's minimum storage
/// duration there even when the next transition or the expiration comes sooner (S3 pricing,
/// minimum storage duration charges). Objects are taken as stored for their whole life (one
/// month of data, as the rest of the estimate). Without object sizes (`object_sizes` empty),
/// the stored bytes are taken as one large object.
fn lifecycle_storage(workload: &Workload, s3: &S3Prices) -> LifecycleStorage {
    let spans = lifecycle_days(workload);
    let whole = [workload.stored_bytes];
    let sizes: &[u64] = if workload.object_sizes.is_empty() && workload.stored_bytes > 0 {
        &whole
    } else {
        &workload.object_sizes
    };
    let mut storage = LifecycleStorage::default();
    for &size in sizes {
        let bytes = size as f64;
        if size < s3.transition_minimum_object_bytes {
            *storage.byte_days.entry("STANDARD".to_owned()).or_default() +=
                bytes * (workload.expiration_days + workload.noncurrent_days);
            continue;
        }
        for (class, days) in &spans {
            let minimum = s3.minimum_storage_days.get(class).copied().unwrap_or(0.0);
            *storage.byte_days.entry(class.clone()).or_default() += bytes * days.max(minimum);
            if class != "STANDARD" {
                *storage.transitions.entry(class.clone()).or_default() += 1;
            }
        }
    }
    storage
}

/// Days an object spends in each storage class before it is gone: STANDARD until the first
/// transition, then each class until the next; expired, it stays in its last class as a
/// noncurrent version for `noncurrent_days`.
fn lifecycle_days(workload: &Workload) -> Vec<(String, f64)> {
    let mut spans = Vec::new();
    let mut class = "STANDARD".to_owned();
    let mut since = 0.0;
    for (day, next) in &workload.transitions {
        let until = day.min(workload.expiration_days);
        if until > since {
            spans.push((class.clone(), until - since));
        }
        since = until.max(since);
        class.clone_from(next);
    }
    let gone = workload.expiration_days + workload.noncurrent_days;
    if gone > since {
        spans.push((class, gone - since));
    }
    spans
}

#[cfg(test)]
mod tests;
