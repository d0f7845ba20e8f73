//! Stack-definition behaviour: the defaults are valid, and each rule, broken on its own, is
//! reported with its key, value, rule and what would be valid.

use std::path::Path;

use super::{CatalogMode, Stack, StackDefinition, StackError, Transition};

fn issues_of(edit: impl FnOnce(&mut StackDefinition)) -> Vec<super::Issue> {
    let mut definition = StackDefinition::default();
    edit(&mut definition);
    match Stack::from_definition(definition, Path::new("pipeline.toml")) {
        Ok(_) => Vec::new(),
        Err(StackError::Invalid { issues, .. }) => issues,
        Err(other) => panic!("unexpected error: {other}"),
    }
}

/// Breaks one rule and checks that exactly that key is reported, with the words expected.
fn rejects(edit: impl FnOnce(&mut StackDefinition), key: &str, needles: &[&str]) {
    let issues = issues_of(edit);
    assert!(!issues.is_empty(), "expected an issue on {key}");
    let issue = issues
        .iter()
        .find(|i| i.key == key)
        .unwrap_or_else(|| panic!("no issue on {key}: {issues:#?}"));
    let text = issue.to_string();
    for needle in needles {
        assert!(text.contains(needle), "{key}: {needle:?} not in {text:?}");
    }
    assert!(!issue.valid.is_empty(), "{key}: says what would be valid");
}

#[test]
fn the_defaults_are_valid() {
    assert_eq!(issues_of(|_| {}), Vec::new());
    assert_eq!(
        issues_of(|d| d.catalog.mode = CatalogMode::Crawler),
        Vec::new()
    );
    assert_eq!(issues_of(|d| d.firehose.prefix = "logs/".into()), vec![super::Issue {
        key: "firehose.prefix".into(),
        value: "\"logs/\"".into(),
        rule: "partition projection reads the hour from the key, so the prefix must end with the projected layout".into(),
        valid: "a static prefix followed by !{timestamp:yyyy/MM/dd/HH}/, for example \"logs/!{timestamp:yyyy/MM/dd/HH}/\"".into(),
    }]);
    assert_eq!(
        issues_of(|d| {
            d.catalog.mode = CatalogMode::Crawler;
            d.firehose.prefix = "logs/".into();
            d.firehose.error_prefix = "errors/".into();
        }),
        Vec::new()
    );
}

#[test]
fn retention_must_be_a_value_cloudwatch_accepts() {
    rejects(
        |d| d.logs.retention_days = 2,
        "logs.retention_days",
        &[
            "= 2",
            "3 is the nearest",
            "1, 3, 5, 7, 14",
            // CloudWatch Logs' own words (InvalidParameterException at PutRetentionPolicy).
            "\"1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5,",
        ],
    );
    rejects(
        |d| d.logs.retention_days = 0,
        "logs.retention_days",
        &["= 0", "3653"],
    );
    assert!(issues_of(|d| d.logs.retention_days = 3653).is_empty());
}

#[test]
fn lifecycle_rules() {
    let transitions = |list: &[(i64, &str)]| {
        list.iter()
            .map(|(days, class)| Transition {
                days: *days,
                storage_class: (*class).to_owned(),
            })
            .collect::<Vec<_>>()
    };
    rejects(
        |d| d.bucket.transitions = transitions(&[(30, "REDUCED_REDUNDANCY")]),
        "bucket.transitions[0].storage_class",
        &[
            "REDUCED_REDUNDANCY is not a lifecycle transition target",
            "GLACIER_IR",
        ],
    );
    rejects(
        |d| d.bucket.transitions = transitions(&[(30, "GLACIER")]),
        "bucket.transitions[0].storage_class",
        &["Athena cannot read"],
    );
    rejects(
        |d| d.bucket.transitions = transitions(&[(30, "standard_ia")]),
        "bucket.transitions[0].storage_class",
        &["not a lifecycle storage class"],
    );
    rejects(
        |d| d.bucket.transitions = transitions(&[(20, "STANDARD_IA")]),
        "bucket.transitions[0].days",
        &[
            "= 20",
            "30 days",
            "30 or more",
            // S3's own text at PutBucketLifecycleConfiguration (InvalidRequest).
            "\"'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'\"",
        ],
    );
    rejects(
        |d| d.bucket.transitions = transitions(&[(60, "STANDARD_IA"), (30, "GLACIER_IR")]),
        "bucket.transitions[1].days",
        &["in order of days", "more than 60"],
    );
    rejects(
        |d| d.bucket.transitions = transitions(&[(30, "STANDARD_IA"), (45, "GLACIER_IR")]),
        "bucket.transitions[1].days",
        &["30 days in STANDARD_IA", "60 or more"],
    );
    rejects(
        |d| d.bucket.expiration_days = 60,
        "bucket.expiration_days",
        &[
            "after the last transition (day 60)",
            "more than 60",
            // S3's own text at PutBucketLifecycleConfiguration (InvalidArgument).
            "\"'Days' in the Expiration action for filter '(prefix=)' must be greater than 'Days' in the Transition action\"",
        ],
    );
    rejects(
        |d| d.bucket.expiration_days = 0,
        "bucket.expiration_days",
        &["at least one day"],
    );
    assert!(issues_of(|d| d.bucket.transitions = transitions(&[(0, "GLACIER_IR")])).is_empty());
    assert!(issues_of(|d| d.bucket.transitions.clear()).is_empty());
}

#[test]
fn firehose_rules() {
    rejects(
        |d| d.firehose.buffer_size_mb = 0,
        "firehose.buffer_size_mb",
        &["= 0", "1 to 128"],
    );
    rejects(
        |d| d.firehose.buffer_size_mb = 129,
        "firehose.buffer_size_mb",
        &["1 to 128"],
    );
    rejects(
        |d| d.firehose.buffer_interval_seconds = 901,
        "firehose.buffer_interval_seconds",
        &["0 to 900"],
    );
    rejects(
        |d| d.firehose.compression = "gzip".into(),
        "firehose.compression",
        &["case-sensitive", "GZIP"],
    );
    rejects(
        |d| d.firehose.compression = "Snappy".into(),
        "firehose.compression",
        &["Athena"],
    );
    rejects(
        |d| {
            d.firehose.prefix = "logs/!{timestamp:yyyy/MM/dd}/".into();
            d.firehose.error_prefix = "errors/".into();
        },
        "firehose.error_prefix",
        &["error-output-type"],
    );
    rejects(
        |d| d.firehose.prefix = "logs/!{firehose:error-output-type}/".into(),
        "firehose.prefix",
        &["only valid in the error prefix"],
    );
    rejects(
        |d| d.firehose.prefix = "logs/!{partitionKeyFromQuery:id}/".into(),
        "firehose.prefix",
        &["dynamic partitioning"],
    );
    rejects(
        |d| d.firehose.prefix = "logs/!{timestamp:yyyy".into(),
        "firehose.prefix",
        &["never closed"],
    );
    rejects(
        |d| d.firehose.prefix = "/logs/".into(),
        "firehose.prefix",
        &["does not start with `/`"],
    );
    rejects(
        |d| d.firehose.prefix = "logs".into(),
        "firehose.prefix",
        &["run into the year", "\"logs/\""],
    );
    rejects(
        |d| {
            d.catalog.mode = CatalogMode::Crawler;
            d.firehose.prefix = "logs/".into();
            d.firehose.error_prefix = "logs/".into();
        },
        "firehose.error_prefix",
        &["among the rows"],
    );
}

/// Glue's CreateCrawler refuses an incremental crawl with any schema-change behaviour but LOG;
/// the message is Glue's own (quoted in issue 14 from the stack that rolled back).
#[test]
fn incremental_crawls_only_log_schema_changes_as_glue_requires() {
    rejects(
        |d| {
            d.catalog.mode = CatalogMode::Crawler;
            d.catalog.schema_update = "UPDATE_IN_DATABASE".into();
        },
        "catalog.schema_update",
        &[
            "The SchemaChangePolicy for \"Crawl new folders only\" Amazon S3 target can have only LOG DeleteBehavior value and LOG UpdateBehavior value",
            "recrawl = \"everything\"",
        ],
    );
    rejects(
        |d| {
            d.catalog.mode = CatalogMode::Crawler;
            d.catalog.schema_delete = "DEPRECATE_IN_DATABASE".into();
        },
        "catalog.schema_delete",
        &["Crawl new folders only"],
    );
    rejects(
        |d| {
            d.catalog.mode = CatalogMode::Crawler;
            d.catalog.schema_update = "MERGE".into();
        },
        "catalog.schema_update",
        &[
            "not a Glue schema-change behaviour",
            "LOG, UPDATE_IN_DATABASE",
        ],
    );
    assert_eq!(
        issues_of(|d| {
            d.catalog.mode = CatalogMode::Crawler;
            d.catalog.recrawl = super::Recrawl::Everything;
            d.catalog.schema_update = "UPDATE_IN_DATABASE".into();
            d.catalog.schema_delete = "DEPRECATE_IN_DATABASE".into();
        }),
        Vec::new(),
        "full crawls may update the table"
    );
}

#[test]
fn catalog_rules() {
    rejects(
        |d| {
            d.catalog.mode = CatalogMode::Crawler;
            d.catalog.crawler_schedule = "cron(0/2 * * * ? *)".into();
        },
        "catalog.crawler_schedule",
        &["every 2 minute", "every 5 minutes"],
    );
    rejects(
        |d| {
            d.catalog.mode = CatalogMode::Crawler;
            d.catalog.crawler_schedule = "rate(1 minute)".into();
        },
        "catalog.crawler_schedule",
        &["cron("],
    );
    rejects(
        |d| d.catalog.database = "CCP-Logs".into(),
        "catalog.database",
        &["'C'"],
    );
    rejects(
        |d| {
            d.catalog.mode = CatalogMode::Crawler;
            d.catalog.table = "other".into();
        },
        "catalog.table",
        &["crawler names the table after the folder", "\"logs\""],
    );
    rejects(
        |d| {
            d.catalog.mode = CatalogMode::Projection;
            d.catalog.projection_start = "2026-01-01".into();
            d.firehose.prefix = "logs/!{timestamp:yyyy/MM/dd/HH}/".into();
            d.firehose.error_prefix = "errors/!{firehose:error-output-type}/".into();
        },
        "catalog.projection_start",
        &["yyyy/MM/dd/HH"],
    );
}

#[test]
fn filter_pattern_syntax_is_checked() {
    rejects(
        |d| d.logs.filter_pattern = "{ $.level = ERROR".into(),
        "logs.filter_pattern",
        &["at character 18", "expected `}`"],
    );
    assert!(issues_of(|d| d.logs.filter_pattern = "?ERROR ?WARN -DEBUG".into()).is_empty());
}

#[test]
fn names_and_placeholders() {
    rejects(
        |d| d.bucket.name = "CCP-{account_id}".into(),
        "bucket.name",
        &["'C'"],
    );
    rejects(
        |d| d.bucket.name = "logs-{acount_id}".into(),
        "bucket.name",
        &["unknown placeholder {acount_id}"],
    );
    rejects(
        |d| d.logs.group_name = "CCP logs".into(),
        "logs.group_name",
        &["' '"],
    );
    rejects(
        |d| d.onboarding.tag_key = "aws:managed".into(),
        "onboarding.tag_key",
        &["aws:"],
    );
    rejects(
        |d| d.onboarding.windows_parameter = d.onboarding.linux_parameter.clone(),
        "onboarding.windows_parameter",
        &["different parameters"],
    );
    rejects(
        |d| d.logs.etl_function_name = d.onboarding.function_name.clone(),
        "logs.etl_function_name",
        &["different names"],
    );
    rejects(
        |d| d.firehose.stream_name = "a b".into(),
        "firehose.stream_name",
        &["' '"],
    );
}

#[test]
fn athena_rules() {
    rejects(
        |d| d.athena.results_prefix = "logs/results/".into(),
        "athena.results_prefix",
        &["under the table's data"],
    );
    rejects(
        |d| d.athena.saved_queries[1].name = d.athena.saved_queries[0].name.clone(),
        "athena.saved_queries[1].name",
        &["unique"],
    );
    rejects(
        |d| d.athena.saved_queries[0].sql = "SELECT 1 FROM ccp_logs.logs".into(),
        "athena.saved_queries[0].sql",
        &["{table}"],
    );
}

#[test]
fn agent_configs_must_write_to_the_stack_log_group() {
    rejects(
        |d| d.logs.group_name = "other-{account_id}-{region}".into(),
        "onboarding.linux_agent_config",
        &["never reach the subscription", "/var/log/messages"],
    );
    // Renaming the account renames the default agent configs' group too.
    assert!(issues_of(|d| d.account.name = "Acme".into()).is_empty());
}

#[test]
fn every_issue_is_reported_not_only_the_first() {
    let issues = issues_of(|d| {
        d.logs.retention_days = 2;
        d.firehose.buffer_size_mb = 500;
        d.bucket.expiration_days = 10;
    });
    let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "logs.retention_days",
            "firehose.buffer_size_mb",
            "bucket.expiration_days"
        ]
    );
}

#[test]
fn toml_errors_name_the_key_and_line() {
    let error = StackDefinition::from_toml("[logs]\nretension_days = 3\n", Path::new("p.toml"))
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("p.toml") && text.contains("retension_days") && text.contains("line 2"),
        "{text}"
    );
    let error =
        StackDefinition::from_toml("[logs]\nretention_days = \"three\"\n", Path::new("p.toml"))
            .unwrap_err();
    assert!(error.to_string().contains("retention_days"), "{error}");
}

#[test]
fn a_written_definition_round_trips_through_toml() {
    let definition = StackDefinition::default();
    let text = toml::to_string(&definition).unwrap();
    assert_eq!(
        StackDefinition::from_toml(&text, Path::new("x")).unwrap(),
        definition
    );
}

/// A definition that converts to Parquet and passes every rule: projection mode (its prefix and
/// error prefix), S3 compression off, the smallest buffer Firehose allows for conversion.
fn converting(d: &mut StackDefinition) {
    d.catalog.mode = CatalogMode::Projection;
    d.firehose.prefix = "logs/!{timestamp:yyyy/MM/dd/HH}/".into();
    d.firehose.error_prefix =
        "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/".into();
    d.firehose.compression = "UNCOMPRESSED".into();
    d.firehose.buffer_size_mb = 64;
    d.firehose.format_conversion = Some(super::FormatConversion::default());
}

/// Firehose's rules for record format conversion, in its own words (see `rules.rs` for where
/// each text comes from), and this pipeline's, labelled as ours.
#[test]
fn format_conversion_rules() {
    assert_eq!(issues_of(converting), Vec::new());
    rejects(
        |d| {
            converting(d);
            d.firehose.compression = "GZIP".into();
        },
        "firehose.compression",
        &[
            "Firehose: The S3 destination's compression format must be set to UNCOMPRESSED when data format conversion is enabled.",
        ],
    );
    rejects(
        |d| {
            converting(d);
            d.firehose.buffer_size_mb = 63;
        },
        "firehose.buffer_size_mb",
        &[
            "= 63",
            "Firehose: BufferingHints.SizeInMBs must be at least 64 when data format conversion is enabled.",
            "64 to 128",
        ],
    );
    rejects(
        |d| {
            converting(d);
            d.firehose
                .format_conversion
                .as_mut()
                .unwrap()
                .parquet_compression = "snappy".into();
        },
        "firehose.format_conversion.parquet_compression",
        &["\"snappy\"", "UNCOMPRESSED, GZIP, SNAPPY"],
    );
    rejects(
        |d| {
            converting(d);
            d.firehose.format_conversion.as_mut().unwrap().deserializer = "csv".into();
        },
        "firehose.format_conversion.deserializer",
        &["hive", "openx"],
    );
    rejects(
        |d| {
            converting(d);
            d.firehose.format_conversion.as_mut().unwrap().output_format = "orc".into();
        },
        "firehose.format_conversion.output_format",
        &["this pipeline's rule"],
    );
    rejects(
        |d| {
            converting(d);
            d.catalog.mode = CatalogMode::Crawler;
            d.firehose.prefix = "logs/".into();
        },
        "catalog.mode",
        &["this pipeline's rule", "projection"],
    );
    // Disabled, the configuration is kept (naming the declared table, so projection is still
    // needed), and Firehose's conversion rules do not apply.
    rejects(
        |d| {
            converting(d);
            d.firehose.format_conversion.as_mut().unwrap().enabled = false;
            d.catalog.mode = CatalogMode::Crawler;
            d.firehose.prefix = "logs/".into();
        },
        "catalog.mode",
        &["this pipeline's rule", "even when disabled"],
    );
    assert_eq!(
        issues_of(|d| {
            converting(d);
            d.firehose.compression = "GZIP".into();
            d.firehose.buffer_size_mb = 5;
            d.firehose.format_conversion.as_mut().unwrap().enabled = false;
        }),
        Vec::new()
    );
}
