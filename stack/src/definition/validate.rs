//! Validation of a stack definition: every rule AWS (or this pipeline) imposes, each broken rule
//! reported as an [`Issue`] naming the key, the bad value, the rule and what would be valid.

use std::fmt;

use super::names::{Placement, resolve, unknown_placeholders};
use super::rules::{
    self, BUFFER_INTERVAL_SECONDS, BUFFER_SIZE_MB, COMPRESSION_FORMATS, CONVERSION_BUFFER_ERROR,
    CONVERSION_COMPRESSION_ERROR, CONVERSION_MIN_BUFFER_SIZE_MB, DESERIALIZERS,
    PARQUET_COMPRESSIONS, TRANSITION_CLASSES,
};
use super::{CatalogMode, Recrawl, StackDefinition};
use pipeline::agent_config::AgentConfig;
use pipeline::agent_config::placeholders::HostFacts;
use pipeline::cloudwatch_logs::{check_log_group_name, is_valid_retention, valid_retention_list};
use pipeline::filter_pattern::FilterPattern;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The key, as written in the TOML file (`logs.retention_days`).
    pub key: String,
    /// The offending value, as written.
    pub value: String,
    /// The rule it breaks.
    pub rule: String,
    /// What would be valid.
    pub valid: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {}: {}; valid: {}",
            self.key, self.value, self.rule, self.valid
        )
    }
}

/// A placement with the longest account id and a long region, so that a name that fits here
/// fits everywhere.
fn widest_placement() -> Placement {
    Placement {
        account_id: "123456789012".to_owned(),
        region: "ap-southeast-5".to_owned(),
    }
}

struct Checker<'a> {
    definition: &'a StackDefinition,
    issues: Vec<Issue>,
}

impl Checker<'_> {
    /// A Linux and a Windows name: each checked by `check`, and different from each other.
    fn platform_pair<E: fmt::Display>(
        &mut self,
        keys: [&str; 2],
        names: [&String; 2],
        check: fn(&str) -> Result<(), E>,
        valid: &str,
        same: &str,
    ) {
        for (key, name) in keys.into_iter().zip(names) {
            if let Err(rule) = check(name) {
                self.issue(key, Checker::quoted(name), rule, valid);
            }
        }
        if names[0] == names[1] {
            self.issue(
                keys[1],
                Checker::quoted(names[1]),
                same,
                format!("a name different from {}", keys[0]),
            );
        }
    }

    fn issue(
        &mut self,
        key: &str,
        value: impl fmt::Display,
        rule: impl fmt::Display,
        valid: impl Into<String>,
    ) {
        self.issues.push(Issue {
            key: key.to_owned(),
            value: value.to_string(),
            rule: rule.to_string(),
            valid: valid.into(),
        });
    }

    fn quoted(value: &str) -> String {
        format!("{value:?}")
    }

    fn name_template<E: fmt::Display>(
        &mut self,
        key: &str,
        template: &str,
        check: impl Fn(&str) -> Result<(), E>,
        valid: &str,
    ) {
        for placeholder in unknown_placeholders(template) {
            self.issue(
                key,
                Self::quoted(template),
                format!("unknown placeholder {placeholder}"),
                "{account_name}, {account_id}, {region}",
            );
        }
        let resolved = resolve(template, &self.definition.account.name, &widest_placement());
        if let Err(rule) = check(&resolved) {
            self.issue(
                key,
                Self::quoted(template),
                format!("as {resolved:?}: {rule}"),
                valid,
            );
        }
    }

    fn simple_name(&mut self, key: &str, name: &str, max: usize, extra: &str) {
        if let Err(rule) = rules::check_simple_name(name, max, extra) {
            self.issue(
                key,
                Self::quoted(name),
                rule,
                format!("a name of up to {max} such characters"),
            );
        }
    }

    fn range(&mut self, key: &str, value: i64, (min, max): (i64, i64), unit: &str) {
        if !(min..=max).contains(&value) {
            self.issue(
                key,
                value,
                format!("out of range for {unit}"),
                format!("{min} to {max}"),
            );
        }
    }
}

/// Checks everything that can be checked from the definition alone.
pub(super) fn validate(definition: &StackDefinition) -> Vec<Issue> {
    let mut c = Checker {
        definition,
        issues: Vec::new(),
    };
    account_and_onboarding(&mut c);
    logs(&mut c);
    firehose(&mut c);
    format_conversion(&mut c);
    bucket(&mut c);
    catalog_and_athena(&mut c);
    c.issues
}

fn account_and_onboarding(c: &mut Checker<'_>) {
    let d = c.definition;
    c.simple_name("account.name", &d.account.name, 64, "-_");
    if d.onboarding.tag_key.is_empty()
        || d.onboarding.tag_key.chars().count() > 128
        || d.onboarding.tag_key.starts_with("aws:")
    {
        c.issue(
            "onboarding.tag_key",
            Checker::quoted(&d.onboarding.tag_key),
            "EC2 tag keys have 1 to 128 characters and cannot start with `aws:`",
            "for example \"CCP-Managed\"",
        );
    }
    if d.onboarding.tag_value.chars().count() > 256 {
        c.issue(
            "onboarding.tag_value",
            Checker::quoted(&d.onboarding.tag_value),
            "EC2 tag values have at most 256 characters",
            "a shorter value",
        );
    }
    c.platform_pair(
        ["onboarding.linux_parameter", "onboarding.windows_parameter"],
        [
            &d.onboarding.linux_parameter,
            &d.onboarding.windows_parameter,
        ],
        pipeline::onboard::scripts::check_parameter_name,
        "a Parameter Store name of letters, digits and . - _ /",
        "the Linux and Windows agent configurations need different parameters",
    );
    c.platform_pair(
        ["onboarding.linux_document", "onboarding.windows_document"],
        [&d.onboarding.linux_document, &d.onboarding.windows_document],
        pipeline::onboard::documents::check_document_name,
        "a name of your own, such as \"CCP-ConfigureCloudWatchAgent-Linux\"",
        "the Linux and Windows documents have different steps and need different names",
    );
    c.simple_name("onboarding.rule_name", &d.onboarding.rule_name, 64, ".-_");
    c.simple_name(
        "onboarding.function_name",
        &d.onboarding.function_name,
        64,
        "-_",
    );
}

fn logs(c: &mut Checker<'_>) {
    let d = c.definition;
    c.name_template(
        "logs.group_name",
        &d.logs.group_name,
        check_log_group_name,
        "1 to 512 of a-z A-Z 0-9 _ - / . #",
    );
    if !is_valid_retention(d.logs.retention_days) {
        let hint = if d.logs.retention_days == 2 {
            " (2 days is not one of them; 3 is the nearest)"
        } else {
            ""
        };
        c.issue(
            "logs.retention_days",
            d.logs.retention_days,
            format!(
                "CloudWatch Logs accepts only certain retention periods{hint}; it refuses this one: \"{}\"",
                rules::LOGS_RETENTION_ERROR
                    .replace("{days}", &d.logs.retention_days.to_string())
                    .replace("{valid}", &valid_retention_list())
            ),
            valid_retention_list(),
        );
    }
    c.simple_name(
        "logs.subscription_filter_name",
        &d.logs.subscription_filter_name,
        512,
        "-_./#",
    );
    if let Err(error) = FilterPattern::parse(&d.logs.filter_pattern) {
        c.issue(
            "logs.filter_pattern",
            Checker::quoted(&d.logs.filter_pattern),
            format!("at character {}: {}", error.position, error.message),
            "CloudWatch Logs filter-pattern syntax: terms, \"phrases\", -exclusions, ?alternatives, %regex%, { JSON }, [space-delimited]; empty forwards everything",
        );
    }
    c.simple_name(
        "logs.etl_function_name",
        &d.logs.etl_function_name,
        64,
        "-_",
    );
    if d.logs.etl_function_name == d.onboarding.function_name {
        c.issue(
            "logs.etl_function_name",
            Checker::quoted(&d.logs.etl_function_name),
            "the ETL and onboarding functions need different names",
            "a name different from onboarding.function_name",
        );
    }
}

fn firehose(c: &mut Checker<'_>) {
    let d = c.definition;
    let f = &d.firehose;
    c.simple_name("firehose.stream_name", &f.stream_name, 64, "-_.");
    c.range(
        "firehose.buffer_size_mb",
        f.buffer_size_mb,
        BUFFER_SIZE_MB,
        "the buffer size hint in MiB",
    );
    c.range(
        "firehose.buffer_interval_seconds",
        f.buffer_interval_seconds,
        BUFFER_INTERVAL_SECONDS,
        "the buffer interval hint in seconds",
    );
    if !COMPRESSION_FORMATS.contains(&f.compression.as_str()) {
        c.issue(
            "firehose.compression",
            Checker::quoted(&f.compression),
            "not a Firehose compression format (names are case-sensitive)",
            COMPRESSION_FORMATS.join(", "),
        );
    } else if f.compression != "GZIP" && f.compression != "UNCOMPRESSED" {
        c.issue(
            "firehose.compression",
            Checker::quoted(&f.compression),
            "Athena and the crawler read GZIP or plain NDJSON, not ZIP or Snappy-framed objects",
            "GZIP (recommended) or UNCOMPRESSED",
        );
    }
    let mut has_expressions = false;
    for (key, prefix, is_error) in [
        ("firehose.prefix", &f.prefix, false),
        ("firehose.error_prefix", &f.error_prefix, true),
    ] {
        if prefix.len() > rules::MAX_PREFIX_LEN {
            c.issue(
                key,
                format!("({} characters)", prefix.len()),
                "too long",
                format!("at most {} characters", rules::MAX_PREFIX_LEN),
            );
        }
        if prefix.starts_with('/') {
            c.issue(
                key,
                Checker::quoted(prefix),
                "an S3 key prefix does not start with `/`",
                "for example \"logs/\"",
            );
        }
        match rules::prefix_expressions(prefix) {
            Err(rule) => c.issue(
                key,
                Checker::quoted(prefix),
                rule,
                "expressions written !{namespace:value}",
            ),
            Ok(exprs) => {
                if !is_error && !exprs.is_empty() {
                    has_expressions = true;
                }
                for expr in exprs {
                    if let Err(rule) = rules::check_prefix_expression(&expr, is_error) {
                        c.issue(key, Checker::quoted(prefix), rule, "!{timestamp:<java date pattern>}, !{firehose:random-string} (and !{firehose:error-output-type} in the error prefix)");
                    }
                }
            }
        }
    }
    if has_expressions && !f.error_prefix.contains("!{firehose:error-output-type}") {
        c.issue(
            "firehose.error_prefix",
            Checker::quoted(&f.error_prefix),
            "when the prefix has expressions, Firehose requires an error prefix with !{firehose:error-output-type}",
            "for example \"errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/\"",
        );
    }
    if !f.prefix.is_empty() && !f.prefix.contains("!{") && !f.prefix.ends_with('/') {
        c.issue(
            "firehose.prefix",
            Checker::quoted(&f.prefix),
            "Firehose appends yyyy/MM/dd/HH/ directly, so the prefix would run into the year",
            format!("{:?}", format!("{}/", f.prefix)),
        );
    }
    if f.error_prefix.is_empty() && !has_expressions {
        c.issue(
            "firehose.error_prefix",
            "\"\"",
            "our rule: with no error prefix Firehose writes failed records under the prefix \
             itself (<prefix><error-output-type>/yyyy/MM/dd/HH/, the Firehose guide's \
             \"Custom Prefixes\"), inside the table's folder",
            "an error prefix outside the table, for example \"errors/\"",
        );
    }
    if !f.error_prefix.is_empty() && f.error_prefix == f.prefix {
        c.issue(
            "firehose.error_prefix",
            Checker::quoted(&f.error_prefix),
            "failed records would land among the rows and break the table",
            "a prefix different from firehose.prefix",
        );
    }
}

/// Firehose's rules for record format conversion, in the order AWS checks them (compression,
/// then the buffer size), then the serializer's and deserializer's values, then ours.
fn format_conversion(c: &mut Checker<'_>) {
    let d = c.definition;
    let f = &d.firehose;
    let Some(conversion) = &f.format_conversion else {
        return;
    };
    let key = "firehose.format_conversion";
    if conversion.enabled {
        if f.compression != "UNCOMPRESSED" {
            c.issue(
                "firehose.compression",
                Checker::quoted(&f.compression),
                format!("Firehose: {CONVERSION_COMPRESSION_ERROR}"),
                "\"UNCOMPRESSED\" (parquet_compression compresses the Parquet columns)",
            );
        }
        if f.buffer_size_mb < CONVERSION_MIN_BUFFER_SIZE_MB {
            c.issue(
                "firehose.buffer_size_mb",
                f.buffer_size_mb,
                format!("Firehose: {CONVERSION_BUFFER_ERROR}"),
                format!("{CONVERSION_MIN_BUFFER_SIZE_MB} to {}", BUFFER_SIZE_MB.1),
            );
        }
    }
    if !PARQUET_COMPRESSIONS.contains(&conversion.parquet_compression.as_str()) {
        c.issue(
            &format!("{key}.parquet_compression"),
            Checker::quoted(&conversion.parquet_compression),
            "not a ParquetSerDe compression (names are case-sensitive)",
            PARQUET_COMPRESSIONS.join(", "),
        );
    }
    if !DESERIALIZERS.contains(&conversion.deserializer.as_str()) {
        c.issue(
            &format!("{key}.deserializer"),
            Checker::quoted(&conversion.deserializer),
            "not a JSON deserializer Firehose offers",
            "\"hive\" (Apache Hive JSON SerDe) or \"openx\" (OpenX JSON SerDe)",
        );
    }
    if conversion.output_format != "parquet" {
        c.issue(
            &format!("{key}.output_format"),
            Checker::quoted(&conversion.output_format),
            "this pipeline's rule: only Parquet is modelled and queried locally (Firehose also \
             writes ORC, which the Athena stand-in does not read)",
            "\"parquet\"",
        );
    }
    // Enabled or not, the stream's SchemaConfiguration names the declared table.
    if d.catalog.mode != CatalogMode::Projection {
        c.issue(
            "catalog.mode",
            "\"crawler\"",
            "this pipeline's rule: Firehose reads the conversion schema from a Glue table that \
             must exist when the stream is created (the configuration names it even when \
             disabled), and a crawler's table exists only after its first crawl",
            "\"projection\" (the stack declares the table Firehose and Athena share)",
        );
    }
}

fn bucket(c: &mut Checker<'_>) {
    let d = c.definition;
    let b = &d.bucket;
    c.name_template("bucket.name", &b.name, rules::check_bucket_name, "3 to 63 lowercase letters, digits, `-` and `.`; use {account_id} and {region} for uniqueness");
    let mut previous: Option<(i64, &str)> = None;
    for (i, t) in b.transitions.iter().enumerate() {
        let key = format!("bucket.transitions[{i}]");
        match TRANSITION_CLASSES
            .iter()
            .find(|(class, _)| *class == t.storage_class)
        {
            None if t.storage_class == "REDUCED_REDUNDANCY" => c.issue(
                &format!("{key}.storage_class"),
                Checker::quoted(&t.storage_class),
                "REDUCED_REDUNDANCY is not a lifecycle transition target",
                rules::readable_classes(),
            ),
            None => c.issue(
                &format!("{key}.storage_class"),
                Checker::quoted(&t.storage_class),
                "not a lifecycle storage class",
                rules::readable_classes(),
            ),
            Some((_, false)) => c.issue(
                &format!("{key}.storage_class"),
                Checker::quoted(&t.storage_class),
                "Athena cannot read GLACIER or DEEP_ARCHIVE objects without a restore",
                rules::readable_classes(),
            ),
            Some(_) => {}
        }
        let min = rules::min_transition_days(&t.storage_class);
        if t.days < min {
            c.issue(
                &format!("{key}.days"),
                t.days,
                format!(
                    "objects must stay {min} days in S3 before a transition to {}; S3 refuses it: \"{}\"",
                    t.storage_class,
                    rules::S3_IA_DAYS_ERROR.replace("{class}", &t.storage_class)
                ),
                format!("{min} or more"),
            );
        }
        if let Some((days, class)) = previous {
            if t.days <= days {
                c.issue(
                    &format!("{key}.days"),
                    t.days,
                    format!(
                        "transitions must come in order of days; the previous one is at day {days}"
                    ),
                    format!("more than {days}"),
                );
            } else if rules::min_transition_days(class) > 0 && t.days - days < rules::IA_MIN_DAYS {
                c.issue(
                    &format!("{key}.days"),
                    t.days,
                    format!(
                        "objects must stay {} days in {class} before the next transition",
                        rules::IA_MIN_DAYS
                    ),
                    format!("{} or more", days + rules::IA_MIN_DAYS),
                );
            }
        }
        previous = Some((t.days, &t.storage_class));
    }
    if b.expiration_days < 1 {
        c.issue(
            "bucket.expiration_days",
            b.expiration_days,
            "expiration is at least one day",
            "1 or more",
        );
    } else if let Some((days, _)) = previous
        && b.expiration_days <= days
    {
        c.issue(
            "bucket.expiration_days",
            b.expiration_days,
            format!(
                "objects must expire after the last transition (day {days}); S3 refuses it: \"{}\"",
                rules::S3_EXPIRATION_ERROR
            ),
            format!("more than {days}"),
        );
    }
}

/// The crawler's schema-change behaviours: Glue's values, and only `LOG` with incremental
/// crawls (the rule Glue enforces at CreateCrawler, with its own words).
fn schema_change_policy(c: &mut Checker<'_>) {
    let k = &c.definition.catalog;
    for (key, value, valid) in [
        (
            "catalog.schema_update",
            &k.schema_update,
            &rules::SCHEMA_UPDATE_BEHAVIORS[..],
        ),
        (
            "catalog.schema_delete",
            &k.schema_delete,
            &rules::SCHEMA_DELETE_BEHAVIORS[..],
        ),
    ] {
        if !valid.contains(&value.as_str()) {
            c.issue(
                key,
                Checker::quoted(value),
                "not a Glue schema-change behaviour",
                valid.join(", "),
            );
        } else if k.recrawl == Recrawl::NewFoldersOnly && value != "LOG" {
            c.issue(
                key,
                Checker::quoted(value),
                format!(
                    "Glue refuses it with recrawl = \"new_folders_only\": \"{}\"",
                    rules::GLUE_NEW_FOLDERS_ONLY_ERROR
                ),
                "\"LOG\", or recrawl = \"everything\"",
            );
        }
    }
}

fn catalog_and_athena(c: &mut Checker<'_>) {
    let d = c.definition;
    let k = &d.catalog;
    for (key, name) in [
        ("catalog.database", &k.database),
        ("catalog.table", &k.table),
    ] {
        if let Err(rule) = rules::check_glue_name(name) {
            c.issue(
                key,
                Checker::quoted(name),
                rule,
                "lowercase letters, digits and `_`",
            );
        }
    }
    match k.mode {
        CatalogMode::Crawler => {
            c.simple_name("catalog.crawler_name", &k.crawler_name, 255, "-_.");
            let folder = d
                .firehose
                .prefix
                .split("!{")
                .next()
                .unwrap_or_default()
                .trim_end_matches('/');
            let folder = folder.rsplit('/').next().unwrap_or_default();
            if !folder.is_empty() && k.table != folder {
                c.issue(
                    "catalog.table",
                    Checker::quoted(&k.table),
                    format!("the crawler names the table after the folder it crawls ({folder:?}, from firehose.prefix)"),
                    format!("{folder:?}, or change firehose.prefix"),
                );
            }
            schema_change_policy(c);
            if let Err(rule) = rules::check_crawler_schedule(&k.crawler_schedule) {
                c.issue(
                    "catalog.crawler_schedule",
                    Checker::quoted(&k.crawler_schedule),
                    rule,
                    "cron(0/5 * * * ? *) (every 5 minutes) or less often",
                );
            }
        }
        CatalogMode::Projection => {
            let expected = "!{timestamp:yyyy/MM/dd/HH}/";
            let prefix = &d.firehose.prefix;
            if !prefix.ends_with(expected) || prefix.matches("!{").count() != 1 {
                c.issue(
                    "firehose.prefix",
                    Checker::quoted(prefix),
                    "partition projection reads the hour from the key, so the prefix must end with the projected layout",
                    format!("a static prefix followed by {expected}, for example \"logs/{expected}\""),
                );
            }
            let well_formed = k.projection_start.len() == 13
                && k.projection_start.char_indices().all(|(i, ch)| {
                    if [4, 7, 10].contains(&i) {
                        ch == '/'
                    } else {
                        ch.is_ascii_digit()
                    }
                });
            if !well_formed {
                c.issue(
                    "catalog.projection_start",
                    Checker::quoted(&k.projection_start),
                    "the projection range starts at an hour written yyyy/MM/dd/HH",
                    "for example \"2026/01/01/00\"",
                );
            }
        }
    }
    let a = &d.athena;
    c.simple_name("athena.workgroup", &a.workgroup, 128, "-_.");
    if a.results_prefix.is_empty()
        || a.results_prefix.starts_with('/')
        || !a.results_prefix.ends_with('/')
    {
        c.issue(
            "athena.results_prefix",
            Checker::quoted(&a.results_prefix),
            "a folder-like key prefix for query results",
            "for example \"athena-results/\"",
        );
    }
    let data_root = d.firehose.prefix.split("!{").next().unwrap_or_default();
    if !data_root.is_empty() && a.results_prefix.starts_with(data_root) || data_root.is_empty() {
        c.issue(
            "athena.results_prefix",
            Checker::quoted(&a.results_prefix),
            format!(
                "query results must not land under the table's data (firehose.prefix {:?})",
                d.firehose.prefix
            ),
            "a prefix outside the data, with firehose.prefix non-empty (for example \"logs/\")",
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, query) in a.saved_queries.iter().enumerate() {
        if !seen.insert(&query.name) {
            c.issue(
                &format!("athena.saved_queries[{i}].name"),
                Checker::quoted(&query.name),
                "saved query names are unique",
                "a name not used by another saved query",
            );
        }
        c.simple_name(
            &format!("athena.saved_queries[{i}].name"),
            &query.name,
            128,
            "-_ ",
        );
        if query.sql.trim().is_empty() || query.sql.len() > 262_144 {
            c.issue(
                &format!("athena.saved_queries[{i}].sql"),
                format!("({} bytes)", query.sql.len()),
                "a saved query has 1 to 262,144 bytes of SQL",
                "a non-empty query",
            );
        } else if !query.sql.contains("{table}") {
            c.issue(
                &format!("athena.saved_queries[{i}].sql"),
                Checker::quoted(&query.sql),
                "saved queries name the table as {table}, so the catalog settings apply",
                "SQL that reads FROM {table}",
            );
        }
    }
}

/// The agent configurations must send every log to the stack's log group, or those logs would
/// never reach the subscription.
pub(super) fn agent_configs_match(
    definition: &StackDefinition,
    linux: &AgentConfig,
    windows: &AgentConfig,
) -> Vec<Issue> {
    let placement = widest_placement();
    let expected = resolve(
        &definition.logs.group_name,
        &definition.account.name,
        &placement,
    );
    let facts = HostFacts {
        instance_id: "i-0123456789abcdef0".to_owned(),
        hostname: "host".to_owned(),
        local_hostname: "host.internal".to_owned(),
        ip_address: "10.0.0.1".to_owned(),
        aws_region: placement.region.clone(),
        account_id: placement.account_id.clone(),
        date: "2026-01-01".to_owned(),
        environment: std::collections::BTreeMap::new(),
    };
    let mut issues = Vec::new();
    for (key, config) in [
        ("onboarding.linux_agent_config", linux),
        ("onboarding.windows_agent_config", windows),
    ] {
        match config.destinations(&facts) {
            Err(error) => issues.push(Issue {
                key: key.to_owned(),
                value: "(agent configuration)".to_owned(),
                rule: error.to_string(),
                valid: "the agent's placeholders".to_owned(),
            }),
            Ok(destinations) => {
                for destination in destinations.iter().filter(|d| d.log_group != expected) {
                    issues.push(Issue {
                        key: key.to_owned(),
                        value: format!("{} -> {:?}", destination.source, destination.log_group),
                        rule: format!("logs sent elsewhere than logs.group_name ({expected:?} here) never reach the subscription"),
                        valid: "log_group_name equal to logs.group_name, with {account_id} and {aws_region} placeholders".to_owned(),
                    });
                }
            }
        }
    }
    issues
}
