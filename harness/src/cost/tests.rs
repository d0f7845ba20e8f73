//! The estimate's arithmetic on a small fixed workload, each line worked out by hand.

use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn workload() -> Workload {
    let gb = GB as u64;
    Workload {
        seconds: 86_400.0,
        ingested_bytes: gb,
        retention_days: 3.0,
        functions: vec![
            FunctionUse {
                name: "etl".into(),
                invocations: 2_000_000,
                billed_ms: Some(1_000_000),
                memory_mb: 512,
                arm64: false,
            },
            FunctionUse {
                name: "onboarding".into(),
                invocations: 10,
                billed_ms: None,
                memory_mb: 256,
                arm64: false,
            },
        ],
        firehose_bytes: gb,
        firehose_billed_bytes: 2 * gb,
        converted: false,
        puts: 2000,
        stored_bytes: gb,
        object_sizes: Vec::new(),
        transitions: vec![(30.0, "STANDARD_IA".into()), (60.0, "GLACIER_IR".into())],
        expiration_days: 90.0,
        noncurrent_days: 0.0,
        query_bytes: vec![1, 20 * 1_048_576 + 1],
        crawler: None,
        dead_letter_requests: 0,
    }
}

fn line<'e>(estimate: &'e CostEstimate, service: &str, item: &str) -> &'e CostLine {
    estimate
        .lines
        .iter()
        .find(|l| l.service == service && l.item.contains(item))
        .unwrap_or_else(|| panic!("no {service} {item}: {:#?}", estimate.lines))
}

#[test]
fn a_small_workload_is_priced_line_by_line() {
    let prices = Prices::shipped();
    let estimate = estimate(&workload(), &prices);
    // One simulated day: a month is 30 of them.
    let expect = |service, item, run: f64| {
        let l = line(&estimate, service, item);
        assert!(
            close(l.run_usd, run),
            "{service} {item}: {} != {run}",
            l.run_usd
        );
        l.month_usd
    };
    assert!(close(expect("CloudWatch Logs", "ingestion", 0.5), 15.0));
    expect(
        "CloudWatch Logs",
        "storage, 3 days",
        1.0 * 3.0 / 30.0 * 0.03,
    );
    expect("Lambda", "etl requests", 2.0 * 0.20);
    expect(
        "Lambda",
        "etl compute, 512 MB",
        1000.0 * 0.5 * 0.000_016_666_7,
    );
    expect("Lambda", "onboarding requests", 10.0 / 1e6 * 0.20);
    assert_eq!(
        estimate.not_priced,
        ["Lambda compute of onboarding: its duration was not measured in this run"]
    );
    expect("Firehose", "ingestion", 2.0 * 0.029);
    assert!(
        !estimate.lines.iter().any(|l| l.item.contains("conversion")),
        "no conversion, no conversion charge"
    );
    expect("S3", "PUT", 2.0 * 0.005);
    // One 1 GB object: 30 days in STANDARD, 30 in STANDARD_IA (its minimum), and 30 in
    // GLACIER_IR billed as that class's 90-day minimum; one transition request into each.
    expect("S3", "storage in STANDARD ", 0.023);
    expect("S3", "storage in STANDARD_IA", 0.0125);
    expect("S3", "storage in GLACIER_IR", 3.0 * 0.004);
    expect("S3", "transitions into STANDARD_IA", 0.01 / 1000.0);
    expect("S3", "transitions into GLACIER_IR", 0.02 / 1000.0);
    // 1 byte is billed as the 10 MiB minimum; 20 MiB + 1 byte as 21 MiB.
    let athena = expect("Athena", "2 queries", 31.0 / 1_048_576.0 * 5.0);
    assert!(close(athena, 31.0 / 1_048_576.0 * 5.0 * 720.0));
    let total = 0.5
        + 0.003
        + 0.4
        + 0.008_333_35
        + 0.000_002
        + 0.058
        + 0.01
        + 0.023
        + 0.0125
        + 0.012
        + 0.000_03
        + 31.0 / 1_048_576.0 * 5.0
        // The Data Catalog: 2 objects for a thirtieth of a month; 2 queries x 720 a month x 2
        // requests, a thirtieth of them.
        + 2.0 / 100_000.0 / 30.0
        + 2.0 * 720.0 * 2.0 / 30.0 / 1e6;
    assert!(
        close(estimate.run_usd, total),
        "{} != {total}",
        estimate.run_usd
    );
    assert!(estimate.prices.starts_with("us-east-1 prices as of "));
}

#[test]
fn conversion_arm64_and_billing_units() {
    let mut w = workload();
    w.converted = true;
    w.functions[0].arm64 = true;
    let estimate = estimate(&w, &Prices::shipped());
    let conversion = line(&estimate, "Firehose", "format conversion");
    // Billed on the ingested GB in 5 KB increments, as ingestion: the workload's 2 GB.
    assert!(close(conversion.run_usd, 2.0 * 0.018));
    assert!(close(
        line(&estimate, "Lambda", "etl compute").run_usd,
        500.0 * 0.000_013_333_4
    ));
    // Firehose: 5 KB units per record, an empty record still one unit.
    use standins::firehose::billed_bytes;
    assert_eq!(billed_bytes(1), 5120);
    assert_eq!(billed_bytes(5120), 5120);
    assert_eq!(billed_bytes(5121), 10_240);
    assert_eq!(billed_bytes(0), 5120);
}

#[test]
fn a_price_table_names_its_bad_key_and_the_shipped_one_parses() {
    let shipped = Prices::from_toml(DEFAULT_PRICES, "prices.toml").unwrap();
    assert_eq!(shipped.region, "us-east-1");
    let broken = DEFAULT_PRICES.replace(
        "ingestion_usd_per_gb = 0.50",
        "ingestion_usd_per_gb = \"x\"",
    );
    let error = Prices::from_toml(&broken, "mine.toml")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("mine.toml") && error.contains("ingestion_usd_per_gb"),
        "{error}"
    );
}

/// Glue pricing page: crawlers per DPU-hour, billed per second, 10-minute minimum per run. The
/// seed's schedule, every 5 minutes: 288 runs a day, each billed 10 minutes at 2 DPUs.
#[test]
fn the_crawler_is_priced_per_run_with_its_minimum_beside_the_projection_month() {
    let prices = Prices::shipped();
    let mut crawled = workload();
    crawled.crawler = Some(CrawlerUse {
        schedule: "cron(0/5 * * * ? *)".into(),
        runs_per_hour: cron_runs_per_hour("cron(0/5 * * * ? *)"),
        deployed: true,
    });
    let with = estimate(&crawled, &prices);
    let without = estimate(&workload(), &prices);
    let glue = line(&with, "Glue", "crawler");
    let dpu_hours = 288.0 * 2.0 * 600.0 / 3600.0;
    assert!(close(glue.quantity, dpu_hours), "{}", glue.quantity);
    assert!(close(glue.run_usd, dpu_hours * 0.44), "{}", glue.run_usd);
    assert!(close(glue.month_usd, 30.0 * dpu_hours * 0.44));
    // The crawler's month also holds its partitions and requests in the Data Catalog.
    assert!(with.month_usd - without.month_usd > glue.month_usd);
    assert!(with.month_usd - without.month_usd < glue.month_usd + 0.1);
    assert_eq!(
        with.month_usd_with_projection
            .map(|m| close(m, without.month_usd)),
        Some(true)
    );
    assert_eq!(without.month_usd_with_projection, None);
    assert_eq!(with.month_usd_with_crawler, None);
    // Projection mode: the crawler is no line of the month, only the month beside it.
    let mut projected = crawled.clone();
    if let Some(crawler) = projected.crawler.as_mut() {
        crawler.deployed = false;
    }
    let projected = estimate(&projected, &prices);
    assert!(
        projected
            .lines
            .iter()
            .all(|l| !l.item.starts_with("crawler"))
    );
    assert!(close(projected.month_usd, without.month_usd));
    assert_eq!(
        projected
            .month_usd_with_crawler
            .map(|m| close(m, with.month_usd)),
        Some(true)
    );
    assert_eq!(projected.month_usd_with_projection, None);
    // A run longer than the minimum is billed by the second.
    let mut long = prices.clone();
    long.assumptions.crawler_run_seconds = 900.0;
    let longer = estimate(&crawled, &long);
    assert!(close(
        line(&longer, "Glue", "crawler").quantity,
        288.0 * 2.0 * 900.0 / 3600.0
    ));
}

#[test]
fn cron_schedules_are_read_for_runs_an_hour() {
    assert_eq!(cron_runs_per_hour("cron(0/5 * * * ? *)"), Some(12.0));
    assert_eq!(cron_runs_per_hour("cron(*/15 * * * ? *)"), Some(4.0));
    assert_eq!(cron_runs_per_hour("cron(7 * * * ? *)"), Some(1.0));
    assert_eq!(cron_runs_per_hour("cron(0,30 * * * ? *)"), Some(2.0));
    assert_eq!(cron_runs_per_hour("cron(10/20 * * * ? *)"), Some(3.0));
    // Hours, days or a rate are not read: the estimate says so rather than guess.
    assert_eq!(cron_runs_per_hour("cron(0 12 * * ? *)"), None);
    assert_eq!(cron_runs_per_hour("rate(5 minutes)"), None);
    assert_eq!(cron_runs_per_hour("cron(0/0 * * * ? *)"), None);
    let mut crawled = workload();
    crawled.crawler = Some(CrawlerUse {
        schedule: "cron(0 12 * * ? *)".into(),
        runs_per_hour: None,
        deployed: true,
    });
    let estimate = estimate(&crawled, &Prices::shipped());
    assert!(
        estimate
            .not_priced
            .iter()
            .any(|g| g.contains("cron(0 12 * * ? *)"))
    );
}

/// S3 User Guide, "Transitioning objects using Amazon S3 Lifecycle": objects smaller than
/// 128 KB are not transitioned by default, so they stay in STANDARD until they expire and make
/// no transition requests; S3 pricing: an object leaving GLACIER_IR before 90 days is billed 90.
#[test]
fn small_objects_stay_in_standard_and_minimum_durations_are_billed() {
    let prices = Prices::shipped();
    let mut w = workload();
    w.stored_bytes = 100 * 1024 + 1024 * 1024;
    w.object_sizes = vec![100 * 1024, 1024 * 1024];
    let estimate = estimate(&w, &prices);
    let quantity = |item: &str| line(&estimate, "S3", item).quantity;
    let small = 100.0 * 1024.0;
    let large = 1024.0 * 1024.0;
    let gb_months = |byte_days: f64| byte_days / GB / 30.0;
    assert!(close(
        quantity("storage in STANDARD "),
        gb_months(small * 90.0 + large * 30.0)
    ));
    assert!(close(
        quantity("storage in STANDARD_IA"),
        gb_months(large * 30.0)
    ));
    assert!(close(
        quantity("storage in GLACIER_IR"),
        gb_months(large * 90.0)
    ));
    assert!(close(
        quantity("transitions into STANDARD_IA"),
        1.0 / 1000.0
    ));
    assert!(close(quantity("transitions into GLACIER_IR"), 1.0 / 1000.0));
}

/// Glue pricing page: the Data Catalog bills objects stored (per 100,000 a month) and requests
/// (per million); SQS pricing: standard-queue requests per million. With a crawler whose
/// delete behaviour is LOG, every hour folder stays a partition: a month adds 720 objects.
#[test]
fn the_catalog_and_the_dead_letter_queues_are_priced_per_object_and_request() {
    let prices = Prices::shipped();
    let projected = estimate(&workload(), &prices);
    let storage = line(&projected, "Glue", "Data Catalog storage");
    assert!(storage.item.contains("2 objects"), "{}", storage.item);
    assert!(
        close(storage.month_usd, 2.0 / 100_000.0 * 1.0),
        "{}",
        storage.month_usd
    );
    let requests = line(&projected, "Glue", "Data Catalog requests");
    // Two queries, each run 720 times a month, two requests each.
    assert!(
        close(requests.month_usd, 2.0 * 720.0 * 2.0 / 1e6),
        "{}",
        requests.month_usd
    );
    assert!(projected.lines.iter().all(|l| l.service != "SQS"));

    let mut crawled = workload();
    crawled.crawler = Some(CrawlerUse {
        schedule: "cron(0/5 * * * ? *)".into(),
        runs_per_hour: cron_runs_per_hour("cron(0/5 * * * ? *)"),
        deployed: true,
    });
    crawled.dead_letter_requests = 5;
    let with = estimate(&crawled, &prices);
    let storage = line(&with, "Glue", "Data Catalog storage");
    assert!(
        close(storage.month_usd, 722.0 / 100_000.0),
        "{}",
        storage.month_usd
    );
    let requests = line(&with, "Glue", "Data Catalog requests");
    let crawler_requests = 288.0 * 30.0 * 2.0;
    assert!(
        close(requests.month_usd, (crawler_requests + 2880.0) / 1e6),
        "{}",
        requests.month_usd
    );
    let sqs = line(&with, "SQS", "dead-letter");
    assert!(close(sqs.run_usd, 5.0 * 0.40 / 1e6), "{}", sqs.run_usd);
}

/// S3 User Guide, versioning and lifecycle: an expired object in a versioned bucket stays as a
/// noncurrent version, billed in its class, until `NoncurrentVersionExpiration` removes it; a
/// class's minimum storage duration still applies (GLACIER_IR's 90 days cover the default
/// lifecycle's 30 noncurrent days, so the default bill does not change).
#[test]
fn noncurrent_versions_are_billed_until_they_expire() {
    let prices = Prices::shipped();
    let mut small = workload();
    small.stored_bytes = 1024;
    small.object_sizes = vec![1024];
    let kept = |noncurrent_days: f64| {
        let mut w = small.clone();
        w.noncurrent_days = noncurrent_days;
        line(&estimate(&w, &prices), "S3", "storage in STANDARD").run_usd
    };
    assert!(
        close(kept(30.0) / kept(0.0), 120.0 / 90.0),
        "{} {}",
        kept(30.0),
        kept(0.0)
    );
    let mut large = workload();
    large.object_sizes = vec![1024 * 1024];
    large.stored_bytes = 1024 * 1024;
    let glacier = |noncurrent_days: f64| {
        let mut w = large.clone();
        w.noncurrent_days = noncurrent_days;
        line(&estimate(&w, &prices), "S3", "storage in GLACIER_IR").run_usd
    };
    assert!(
        close(glacier(30.0), glacier(0.0)),
        "the 90-day minimum covers them"
    );
    assert!(glacier(90.0) > glacier(0.0));
}
