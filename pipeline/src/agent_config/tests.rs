//! Behaviour tests of the agent-config model: a table of invalid documents with the path
//! and message each must report, and property tests of round trips and rejections.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::cloudwatch_logs::VALID_RETENTION_DAYS;

fn linux_entry() -> Value {
    json!({
        "file_path": "/var/log/messages",
        "log_group_name": "CCP-logs-Example-{account_id}-{aws_region}",
        "log_stream_name": "/var/log/messages/{instance_id}"
    })
}

fn with_file_entry(entry: Value) -> String {
    json!({"logs": {"logs_collected": {"files": {"collect_list": [entry]}}}}).to_string()
}

fn with_windows_entry(entry: Value) -> String {
    json!({"logs": {"logs_collected": {"windows_events": {"collect_list": [entry]}}}}).to_string()
}

fn facts(aws_region: &str, account_id: &str) -> HostFacts {
    HostFacts {
        instance_id: "i-0123456789abcdef0".to_owned(),
        hostname: "h".to_owned(),
        local_hostname: "h".to_owned(),
        ip_address: "10.0.0.1".to_owned(),
        aws_region: aws_region.to_owned(),
        account_id: account_id.to_owned(),
        date: "2026-11-24".to_owned(),
        environment: std::collections::BTreeMap::new(),
    }
}

/// `items` without repeats, first occurrences kept (collect lists must be unique).
fn unique<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut kept: Vec<T> = Vec::new();
    for item in items {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    kept
}

fn patched(mut entry: Value, key: &str, value: Value) -> Value {
    entry[key] = value;
    entry
}

/// Documents the agent's schema refuses: the path the schema's validator reports for the
/// keyword that fails (read off the schema, `translator/config/schema.json`) and a fragment of
/// its message.
fn schema_invalid_cases() -> Vec<(&'static str, String, &'static str, &'static str)> {
    vec![
        (
            "unknown key in an entry (additionalProperties: false)",
            with_file_entry(patched(linux_entry(), "file_paht", json!("/x"))),
            "$.logs.logs_collected.files.collect_list[0]",
            "Additional properties are not allowed ('file_paht' was unexpected)",
        ),
        (
            "unknown key in logs",
            json!({"logs": {"logs_collected": {"files": {"collect_list": [linux_entry()]}}, "flush": 5}}).to_string(),
            "$.logs",
            "'flush' was unexpected",
        ),
        (
            "missing file_path (required)",
            with_file_entry(json!({"log_group_name": "g"})),
            "$.logs.logs_collected.files.collect_list[0]",
            "\"file_path\" is a required property",
        ),
        (
            "retention of two days (retentionInDaysDefinition enum)",
            with_file_entry(patched(linux_entry(), "retention_in_days", json!(2))),
            "$.logs.logs_collected.files.collect_list[0].retention_in_days",
            "2 is not one of",
        ),
        (
            "timezone in lower case (enum)",
            with_file_entry(patched(linux_entry(), "timezone", json!("utc"))),
            "$.logs.logs_collected.files.collect_list[0].timezone",
            "\"utc\" is not one of",
        ),
        (
            "filter type (filterDefinition enum)",
            with_file_entry(patched(linux_entry(), "filters", json!([{"type": "keep", "expression": "x"}]))),
            "$.logs.logs_collected.files.collect_list[0].filters[0].type",
            "\"keep\" is not one of",
        ),
        (
            "file_path is a number (type)",
            with_file_entry(patched(linux_entry(), "file_path", json!(7))),
            "$.logs.logs_collected.files.collect_list[0].file_path",
            "7 is not of type \"string\"",
        ),
        (
            "empty collect_list (minItems)",
            json!({"logs": {"logs_collected": {"files": {"collect_list": []}}}}).to_string(),
            "$.logs.logs_collected.files.collect_list",
            "[] has less than 1 item",
        ),
        (
            "duplicate entries (uniqueItems)",
            json!({"logs": {"logs_collected": {"files": {"collect_list": [linux_entry(), linux_entry()]}}}}).to_string(),
            "$.logs.logs_collected.files.collect_list",
            "has non-unique elements",
        ),
        (
            "nothing collected (minProperties)",
            json!({"logs": {"logs_collected": {}}}).to_string(),
            "$.logs.logs_collected",
            "{} has less than 1 property",
        ),
        (
            "neither logs_collected nor metrics_collected (anyOf)",
            json!({"logs": {"force_flush_interval": 5}}).to_string(),
            "$.logs",
            "is not valid under any of the schemas listed in the 'anyOf' keyword",
        ),
        (
            "flush interval zero (timeIntervalDefinition minimum)",
            json!({"logs": {"logs_collected": {"files": {"collect_list": [linux_entry()]}}, "force_flush_interval": 0}}).to_string(),
            "$.logs.force_flush_interval",
            "0 is less than the minimum of 1",
        ),
        (
            "event level (enum)",
            with_windows_entry(json!({"event_name": "System", "event_levels": ["ERROR", "FATAL"]})),
            "$.logs.logs_collected.windows_events.collect_list[0].event_levels[1]",
            "\"FATAL\" is not one of",
        ),
        (
            "event format (enum)",
            with_windows_entry(json!({"event_name": "System", "event_levels": ["ERROR"], "event_format": "json"})),
            "$.logs.logs_collected.windows_events.collect_list[0].event_format",
            "\"json\" is not one of",
        ),
        (
            "forwarded events (not enum)",
            with_windows_entry(json!({"event_name": "Forwarded Events", "event_levels": ["ERROR"]})),
            "$.logs.logs_collected.windows_events.collect_list[0].event_name",
            "is not allowed for \"Forwarded Events\"",
        ),
        (
            "no levels, ids or filters (anyOf)",
            with_windows_entry(json!({"event_name": "System"})),
            "$.logs.logs_collected.windows_events.collect_list[0]",
            "is not valid under any of the schemas listed in the 'anyOf' keyword",
        ),
        (
            "missing event_name (required)",
            with_windows_entry(json!({"event_levels": ["ERROR"]})),
            "$.logs.logs_collected.windows_events.collect_list[0]",
            "\"event_name\" is a required property",
        ),
        (
            "event id out of range (maximum)",
            with_windows_entry(json!({"event_name": "Security", "event_ids": [4625, 70000]})),
            "$.logs.logs_collected.windows_events.collect_list[0].event_ids[1]",
            "70000 is greater than the maximum of 65535",
        ),
        (
            "journald entry without a group (required)",
            json!({"logs": {"logs_collected": {"journald": {"collect_list": [{"units": ["sshd"]}]}}}}).to_string(),
            "$.logs.logs_collected.journald.collect_list[0]",
            "\"log_group_name\" is a required property",
        ),
        (
            "concurrency zero (minimum)",
            json!({"logs": {"logs_collected": {"files": {"collect_list": [linux_entry()]}}, "concurrency": 0}}).to_string(),
            "$.logs.concurrency",
            "0 is less than the minimum of 1",
        ),
        (
            "backpressure mode (enum)",
            with_file_entry(patched(linux_entry(), "backpressure_mode", json!("drop"))),
            "$.logs.logs_collected.files.collect_list[0].backpressure_mode",
            "\"drop\" is not one of",
        ),
        (
            "agent interval as a string (agentDefinition)",
            json!({"agent": {"metrics_collection_interval": "60"}, "logs": {"logs_collected": {"files": {"collect_list": [linux_entry()]}}}}).to_string(),
            "$.agent.metrics_collection_interval",
            "\"60\" is not of type \"integer\"",
        ),
        (
            "agent debug as a string (agentDefinition)",
            json!({"agent": {"debug": "yes"}, "logs": {"logs_collected": {"files": {"collect_list": [linux_entry()]}}}}).to_string(),
            "$.agent.debug",
            "\"yes\" is not of type \"boolean\"",
        ),
        (
            "metrics without metrics_collected (required)",
            json!({"metrics": {"namespace": "CWAgent"}, "logs": {"logs_collected": {"files": {"collect_list": [linux_entry()]}}}}).to_string(),
            "$.metrics",
            "\"metrics_collected\" is a required property",
        ),
    ]
}

/// Documents the schema accepts but the agent, CloudWatch Logs or the pipeline refuses: the
/// path, whose rule it is, and a fragment of the message.
fn rule_cases() -> Vec<(&'static str, String, &'static str, Authority, &'static str)> {
    vec![
        (
            "not json",
            "{".to_owned(),
            "$",
            Authority::Agent,
            "EOF while parsing",
        ),
        (
            "trailing text",
            format!("{} x", with_file_entry(linux_entry())),
            "$",
            Authority::Agent,
            "trailing characters",
        ),
        (
            "no logs section",
            "{}".to_owned(),
            "$",
            Authority::Pipeline,
            "needs a logs section",
        ),
        (
            "metrics_collected alone",
            json!({"logs": {"metrics_collected": {"emf": {}}}}).to_string(),
            "$.logs",
            Authority::Pipeline,
            "needs logs_collected",
        ),
        (
            "filter expression",
            with_file_entry(patched(
                linux_entry(),
                "filters",
                json!([{"type": "include", "expression": "(unclosed"}]),
            )),
            "$.logs.logs_collected.files.collect_list[0].filters[0].expression",
            Authority::Agent,
            "\"(unclosed\" is not a valid regular expression, so the agent does not start",
        ),
        (
            "filter without a type",
            with_file_entry(patched(
                linux_entry(),
                "filters",
                json!([{"expression": "x"}]),
            )),
            "$.logs.logs_collected.files.collect_list[0].filters[0].type",
            Authority::Agent,
            "filter type  is incorrect, valid types are: [include exclude]",
        ),
        (
            "multi-line pattern that is no regex",
            with_file_entry(patched(
                linux_entry(),
                "multi_line_start_pattern",
                json!("[a-"),
            )),
            "$.logs.logs_collected.files.collect_list[0].multi_line_start_pattern",
            Authority::Agent,
            "fileconfig.go",
        ),
        (
            "empty file_path",
            with_file_entry(patched(linux_entry(), "file_path", json!(""))),
            "$.logs.logs_collected.files.collect_list[0].file_path",
            Authority::Pipeline,
            "names no file",
        ),
        (
            "unknown placeholder in the group",
            with_file_entry(patched(
                linux_entry(),
                "log_group_name",
                json!("CCP-{instance-id}"),
            )),
            "$.logs.logs_collected.files.collect_list[0].log_group_name",
            Authority::CloudWatchLogs,
            "unknown placeholder {instance-id}",
        ),
        (
            "unknown placeholder in the stream",
            with_file_entry(patched(
                linux_entry(),
                "log_stream_name",
                json!("{instance-id}"),
            )),
            "$.logs.logs_collected.files.collect_list[0].log_stream_name",
            Authority::Pipeline,
            "unknown placeholder {instance-id}",
        ),
        (
            "space in the group",
            with_file_entry(patched(linux_entry(), "log_group_name", json!("my logs"))),
            "$.logs.logs_collected.files.collect_list[0].log_group_name",
            Authority::CloudWatchLogs,
            "' ' is not allowed in a log group name",
        ),
        (
            "colon in the stream",
            with_file_entry(patched(
                linux_entry(),
                "log_stream_name",
                json!("{instance_id}:messages"),
            )),
            "$.logs.logs_collected.files.collect_list[0].log_stream_name",
            Authority::CloudWatchLogs,
            "':' is not allowed in a log stream name",
        ),
        (
            "timestamp directive",
            with_file_entry(patched(linux_entry(), "timestamp_format", json!("%Q %H"))),
            "$.logs.logs_collected.files.collect_list[0].timestamp_format",
            Authority::Pipeline,
            "%Q is not a directive the agent translates",
        ),
        (
            "multi-line pattern without a format",
            with_file_entry(patched(
                linux_entry(),
                "multi_line_start_pattern",
                json!("{timestamp_format}"),
            )),
            "$.logs.logs_collected.files.collect_list[0].multi_line_start_pattern",
            Authority::Pipeline,
            "without timestamp_format",
        ),
    ]
}

/// Documents the schema accepts, with keys the pipeline does not use: each must parse and
/// round-trip unchanged.
fn schema_valid_cases() -> Vec<(&'static str, Value)> {
    let files = json!({"collect_list": [linux_entry()]});
    vec![
        (
            "journald beside files",
            json!({"logs": {"logs_collected": {"files": files, "journald": {"collect_list": [
                {"log_group_name": "CCP-logs-Example-{account_id}-{aws_region}", "units": ["sshd", "cron"], "priority": "warning"}
            ]}}}}),
        ),
        (
            "concurrency, service.name, deployment.environment",
            json!({"logs": {
                "logs_collected": {"files": files}, "concurrency": 4, "service.name": "billing", "deployment.environment": "prod"
            }}),
        ),
        (
            "application_signals",
            json!({"logs": {"logs_collected": {"files": files, "application_signals": {}}}}),
        ),
        (
            "per-file keys",
            with_value_entry(json!({
                "file_path": "/var/log/app.log",
                "log_group_name": "CCP-logs-Example-{account_id}-{aws_region}",
                "trim_timestamp": true,
                "backpressure_mode": "fd_release",
                "service.name": "app",
                "deployment.environment": "staging",
                "timestamp_format": "%Y-%m-%dT%H:%M:%S.%f%z"
            })),
        ),
        (
            "metrics with collectd and cpu",
            json!({
                "agent": {"metrics_collection_interval": 60, "run_as_user": "cwagent"},
                "metrics": {"namespace": "CWAgent", "metrics_collected": {
                    "collectd": {"metrics_aggregation_interval": 60},
                    "cpu": {"measurement": ["cpu_usage_idle"], "totalcpu": true}
                }},
                "logs": {"logs_collected": {"files": files}}
            }),
        ),
        (
            "a log group class the agent ignores",
            with_value_entry(patched(linux_entry(), "log_group_class", json!("COLD"))),
        ),
        (
            "duplicate event levels (the schema's uniqueItems sits inside items)",
            json!({"logs": {"logs_collected": {"windows_events": {"collect_list": [
                {"event_name": "System", "event_levels": ["ERROR", "ERROR"]}
            ]}}}}),
        ),
        (
            "a filter with no expression",
            with_value_entry(patched(
                linux_entry(),
                "filters",
                json!([{"type": "exclude"}]),
            )),
        ),
        (
            "extra top-level keys",
            json!({"x-owner": "ops", "logs": {"logs_collected": {"files": files}}}),
        ),
    ]
}

fn with_value_entry(entry: Value) -> Value {
    json!({"logs": {"logs_collected": {"files": {"collect_list": [entry]}}}})
}

#[test]
fn schema_valid_documents_with_keys_the_pipeline_does_not_use_parse_and_round_trip() {
    for (name, document) in schema_valid_cases() {
        let config = AgentConfig::parse(&document.to_string())
            .unwrap_or_else(|e| panic!("{name}: refused: {e}"));
        let back: Value = serde_json::from_str(&config.to_json_pretty()).unwrap();
        assert_eq!(back, document, "{name}: round trip");
    }
}

#[test]
fn schema_invalid_documents_report_the_schema_path_and_nothing_else() {
    for (name, document, path, fragment) in schema_invalid_cases() {
        let error = AgentConfig::parse(&document)
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted {document}"));
        let issues = error.issues();
        assert!(
            issues.iter().any(|issue| issue.path == path
                && issue.message.contains(fragment)
                && issue.authority == Authority::AgentSchema),
            "{name}: expected {path}: …{fragment}…, got {error}"
        );
        assert!(
            issues.iter().all(|i| i.authority == Authority::AgentSchema),
            "{name}: the schema phase stops before any other rule: {error}"
        );
        assert!(
            error
                .to_string()
                .contains(&format!("{path}: [agent schema]")),
            "{error}"
        );
    }
}

#[test]
fn rules_beyond_the_schema_name_the_path_and_whose_rule_it_is() {
    for (name, document, path, authority, fragment) in rule_cases() {
        let error = AgentConfig::parse(&document)
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted {document}"));
        assert!(
            error.issues().iter().any(|issue| issue.path == path
                && issue.message.contains(fragment)
                && issue.authority == authority),
            "{name}: expected {path}: [{}] …{fragment}…, got {error}",
            authority.label()
        );
        assert!(
            error
                .to_string()
                .contains(&format!("{path}: [{}]", authority.label())),
            "{name}: the message names the path and the label: {error}"
        );
    }
}

#[test]
fn validation_reports_every_problem_not_only_the_first() {
    let document = json!({"logs": {"logs_collected": {"files": {"collect_list": [
        patched(linux_entry(), "file_path", json!("")),
        patched(linux_entry(), "log_group_name", json!("{nope}")),
    ]}}}})
    .to_string();
    let error = AgentConfig::parse(&document).unwrap_err();
    let paths: Vec<&str> = error.issues().iter().map(|i| i.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "$.logs.logs_collected.files.collect_list[0].file_path",
            "$.logs.logs_collected.files.collect_list[1].log_group_name"
        ]
    );
    let schema_error = AgentConfig::parse(
        &json!({"logs": {"logs_collected": {"files": {"collect_list": [
            patched(linux_entry(), "timezone", json!("utc")),
            patched(linux_entry(), "retention_in_days", json!(2)),
        ]}}}})
        .to_string(),
    )
    .unwrap_err();
    assert_eq!(schema_error.issues().len(), 2, "{schema_error}");
}

#[test]
fn top_level_sections_the_pipeline_does_not_model_are_kept() {
    let document = json!({
        "agent": {"metrics_collection_interval": 60},
        "metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}},
        "logs": {"logs_collected": {"files": {"collect_list": [linux_entry()]}}},
        "x-owner": "ops"
    });
    let config = AgentConfig::parse(&document.to_string()).unwrap();
    assert_eq!(config.other["x-owner"], json!("ops"));
    let back: Value = serde_json::from_str(&config.to_json_pretty()).unwrap();
    assert_eq!(back, document);
}

#[test]
fn destinations_resolve_placeholders_and_default_the_stream() {
    let config = AgentConfig::parse(
        &json!({"logs": {
            "logs_collected": {
                "files": {"collect_list": [
                    linux_entry(),
                    {"file_path": "/var/log/app.log", "log_group_name": "app"}
                ]},
                "windows_events": {"collect_list": [
                    {"event_name": "System", "event_levels": ["ERROR"], "log_group_name": "win", "log_stream_name": "System/{instance_id}"}
                ]}
            }
        }})
        .to_string(),
    )
    .unwrap();
    let facts = facts("eu-west-1", "111122223333");
    let got = config.destinations(&facts).unwrap();
    let simple: Vec<(String, &str, &str)> = got
        .iter()
        .map(|d| {
            (
                d.source.to_string(),
                d.log_group.as_str(),
                d.log_stream.as_str(),
            )
        })
        .collect();
    assert_eq!(
        simple,
        [
            (
                "file /var/log/messages".to_owned(),
                "CCP-logs-Example-111122223333-eu-west-1",
                "/var/log/messages/i-0123456789abcdef0"
            ),
            (
                "file /var/log/app.log".to_owned(),
                "app",
                "i-0123456789abcdef0"
            ),
            (
                "Windows event log System".to_owned(),
                "win",
                "System/i-0123456789abcdef0"
            ),
        ]
    );
    let no_group = AgentConfig::parse(&with_file_entry(json!({"file_path": "/x"}))).unwrap();
    assert_eq!(
        no_group.destinations(&facts).unwrap_err().to_string(),
        "file /x has no log_group_name, so the agent would not send it to the pipeline's group"
    );
}

#[test]
fn default_configurations_are_valid_and_stream_names_carry_source_and_instance() {
    for config in [defaults::linux("Acme"), defaults::windows("Acme")] {
        let reparsed = AgentConfig::parse(&config.to_json_pretty()).unwrap();
        assert_eq!(reparsed, config);
        let facts = facts("us-east-1", "123456789012");
        for destination in config.destinations(&facts).unwrap() {
            assert_eq!(
                destination.log_group,
                defaults::log_group_name("Acme", "123456789012", "us-east-1")
            );
            let parsed = crate::etl::stream_name::parse_stream_name(&destination.log_stream);
            assert_eq!(parsed.instance_id, Some("i-0123456789abcdef0"));
            let expected_source = match &destination.source {
                Source::File(path) => path.as_str(),
                Source::WindowsEvents(name) => name.as_str(),
            };
            assert_eq!(parsed.source, Some(expected_source));
        }
    }
}

fn name_strategy() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_./#-]{1,40}"
}

fn file_entry_strategy() -> impl Strategy<Value = FileEntry> {
    (
        "/[a-z]{1,12}(/[a-z.]{1,12}){0,3}",
        proptest::option::of(name_strategy()),
        proptest::option::of("[a-z/]{0,10}\\{instance_id\\}"),
        proptest::option::of(prop::sample::select(vec![
            Timezone::Local,
            Timezone::LocalUpper,
            Timezone::Utc,
        ])),
        proptest::option::of(prop::sample::select(VALID_RETENTION_DAYS.to_vec())),
        proptest::option::of(proptest::collection::vec(
            (any::<bool>(), "[a-z]{1,8}"),
            0..3,
        )),
    )
        .prop_map(
            |(file_path, group, stream, timezone, retention, filters)| FileEntry {
                file_path,
                log_group_name: group,
                log_stream_name: stream,
                timestamp_format: Some("%Y-%m-%d %H:%M:%S".to_owned()),
                timezone,
                retention_in_days: retention
                    .map(|d| RetentionDays::try_from(i64::from(d)).unwrap()),
                filters: filters.map(|list| {
                    list.into_iter()
                        .map(|(include, expression)| Filter {
                            kind: Some(if include {
                                FilterKind::Include
                            } else {
                                FilterKind::Exclude
                            }),
                            expression: Some(expression),
                        })
                        .collect()
                }),
                ..FileEntry::default()
            },
        )
}

fn windows_entry_strategy() -> impl Strategy<Value = WindowsEventEntry> {
    (
        prop::sample::select(vec!["System", "Application", "Security", "Setup"]),
        prop::sample::subsequence(
            vec![
                EventLevel::Critical,
                EventLevel::Error,
                EventLevel::Warning,
                EventLevel::Information,
                EventLevel::Verbose,
            ],
            1..=5,
        ),
        proptest::option::of(prop::sample::select(vec![
            EventFormat::Xml,
            EventFormat::Text,
        ])),
        proptest::option::of(name_strategy()),
    )
        .prop_map(|(name, levels, format, group)| WindowsEventEntry {
            event_name: name.to_owned(),
            event_levels: Some(levels),
            log_group_name: group,
            log_stream_name: Some(format!("{name}/{{instance_id}}")),
            event_format: format,
            ..WindowsEventEntry::default()
        })
}

fn config_strategy() -> impl Strategy<Value = AgentConfig> {
    (
        proptest::collection::vec(file_entry_strategy(), 0..4),
        proptest::collection::vec(windows_entry_strategy(), 0..3),
        proptest::option::of(1u32..=MAX_FLUSH),
    )
        .prop_filter("something is collected", |(files, events, _)| {
            !files.is_empty() || !events.is_empty()
        })
        .prop_map(|(files, events, flush)| {
            let unique_files = unique(files);
            let unique_events = unique(events);
            AgentConfig {
                logs: Some(LogsSection {
                    logs_collected: Some(LogsCollected {
                        files: (!unique_files.is_empty()).then_some(Files {
                            collect_list: unique_files,
                            ..Files::default()
                        }),
                        windows_events: (!unique_events.is_empty()).then_some(WindowsEvents {
                            collect_list: unique_events,
                            ..WindowsEvents::default()
                        }),
                        ..LogsCollected::default()
                    }),
                    force_flush_interval: flush,
                    ..LogsSection::default()
                }),
                ..AgentConfig::default()
            }
        })
}

const MAX_FLUSH: u32 = 172_800;

/// Every object path of a JSON value, as (JSON path, pointer) pairs.
fn object_paths(value: &Value, path: &str, pointer: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            out.push((path.to_owned(), pointer.to_owned()));
            for (key, child) in map {
                object_paths(
                    child,
                    &format!("{path}.{key}"),
                    &format!("{pointer}/{key}"),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                object_paths(
                    child,
                    &format!("{path}[{index}]"),
                    &format!("{pointer}/{index}"),
                    out,
                );
            }
        }
        _ => {}
    }
}

proptest! {
    #[test]
    fn valid_configurations_round_trip_through_json(config in config_strategy()) {
        let json = config.to_json_pretty();
        let parsed = AgentConfig::parse(&json);
        prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed.err(), json);
        prop_assert_eq!(parsed.ok(), Some(config));
    }

    #[test]
    fn a_retention_is_accepted_exactly_when_the_schema_and_cloudwatch_logs_accept_it(days in -5i64..4000) {
        let document = with_file_entry(patched(linux_entry(), "retention_in_days", json!(days)));
        let accepted = AgentConfig::parse(&document).is_ok();
        let valid = days == -1 || VALID_RETENTION_DAYS.iter().any(|&d| i64::from(d) == days);
        prop_assert_eq!(accepted, valid, "retention {}", days);
    }

    #[test]
    fn an_unknown_key_below_the_top_is_rejected_with_its_path(
        config in config_strategy(),
        pick in any::<prop::sample::Index>(),
        key in "[a-z]{3,10}_x",
    ) {
        let mut value = serde_json::to_value(&config).unwrap();
        let mut objects = Vec::new();
        object_paths(&value, "$", "", &mut objects);
        // The top level accepts extra keys; `logs`'s own subtree does not.
        let candidates: Vec<_> = objects.into_iter().filter(|(path, _)| path != "$").collect();
        let (path, pointer) = candidates[pick.index(candidates.len())].clone();
        value.pointer_mut(&pointer).unwrap().as_object_mut().unwrap().insert(key.clone(), json!(1));
        let error = AgentConfig::parse(&value.to_string()).unwrap_err();
        let issue = error.issues()[0].clone();
        prop_assert_eq!(&issue.path, &path);
        prop_assert_eq!(issue.authority, Authority::AgentSchema);
        prop_assert!(issue.message.contains(&format!("'{key}' was unexpected")), "{}", issue.message);
    }
}
