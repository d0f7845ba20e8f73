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

/// Every case: the document, the path reported and a fragment of the message.
fn invalid_cases() -> Vec<(&'static str, String, &'static str, &'static str)> {
    vec![
        ("not json", "{".to_owned(), "$", "EOF while parsing"),
        (
            "trailing text",
            format!("{} x", with_file_entry(linux_entry())),
            "$",
            "trailing characters",
        ),
        ("no logs section", "{}".to_owned(), "$", "missing field `logs`"),
        (
            "unknown key in an entry",
            with_file_entry(patched(linux_entry(), "file_paht", json!("/x"))),
            "$.logs.logs_collected.files.collect_list[0].file_paht",
            "unknown field `file_paht`",
        ),
        (
            "unknown key in logs",
            json!({"logs": {"logs_collected": {}, "flush": 5}}).to_string(),
            "$.logs.flush",
            "unknown field `flush`",
        ),
        (
            "missing file_path",
            with_file_entry(json!({"log_group_name": "g"})),
            "$.logs.logs_collected.files.collect_list[0]",
            "missing field `file_path`",
        ),
        (
            "retention of two days",
            with_file_entry(patched(linux_entry(), "retention_in_days", json!(2))),
            "$.logs.logs_collected.files.collect_list[0].retention_in_days",
            "2 is not a valid retention_in_days; valid values are -1 (leave unchanged), 1, 3, 5",
        ),
        (
            "timezone in lower case",
            with_file_entry(patched(linux_entry(), "timezone", json!("utc"))),
            "$.logs.logs_collected.files.collect_list[0].timezone",
            "unknown variant `utc`, expected one of `Local`, `LOCAL`, `UTC`",
        ),
        (
            "filter type",
            with_file_entry(patched(
                linux_entry(),
                "filters",
                json!([{"type": "keep", "expression": "x"}]),
            )),
            "$.logs.logs_collected.files.collect_list[0].filters[0].type",
            "unknown variant `keep`, expected `include` or `exclude`",
        ),
        (
            "filter expression",
            with_file_entry(patched(
                linux_entry(),
                "filters",
                json!([{"type": "include", "expression": "(unclosed"}]),
            )),
            "$.logs.logs_collected.files.collect_list[0].filters[0].expression",
            "\"(unclosed\" is not a valid regular expression",
        ),
        (
            "file_path is a number",
            with_file_entry(patched(linux_entry(), "file_path", json!(7))),
            "$.logs.logs_collected.files.collect_list[0].file_path",
            "invalid type: integer `7`, expected a string",
        ),
        (
            "empty file_path",
            with_file_entry(patched(linux_entry(), "file_path", json!(""))),
            "$.logs.logs_collected.files.collect_list[0].file_path",
            "has 0 characters; it must have from 1 to 4096",
        ),
        (
            "unknown placeholder in the group",
            with_file_entry(patched(
                linux_entry(),
                "log_group_name",
                json!("CCP-{instance-id}"),
            )),
            "$.logs.logs_collected.files.collect_list[0].log_group_name",
            "unknown placeholder {instance-id}",
        ),
        (
            "space in the group",
            with_file_entry(patched(linux_entry(), "log_group_name", json!("my logs"))),
            "$.logs.logs_collected.files.collect_list[0].log_group_name",
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
            "':' is not allowed in a log stream name",
        ),
        (
            "timestamp directive",
            with_file_entry(patched(linux_entry(), "timestamp_format", json!("%Q %H"))),
            "$.logs.logs_collected.files.collect_list[0].timestamp_format",
            "%Q is not a directive the agent supports",
        ),
        (
            "multi-line pattern without a format",
            with_file_entry(patched(
                linux_entry(),
                "multi_line_start_pattern",
                json!("{timestamp_format}"),
            )),
            "$.logs.logs_collected.files.collect_list[0].multi_line_start_pattern",
            "needs timestamp_format",
        ),
        (
            "empty collect_list",
            json!({"logs": {"logs_collected": {"files": {"collect_list": []}}}}).to_string(),
            "$.logs.logs_collected.files.collect_list",
            "must have at least one entry",
        ),
        (
            "duplicate entries",
            json!({"logs": {"logs_collected": {"files": {"collect_list": [linux_entry(), linux_entry()]}}}})
                .to_string(),
            "$.logs.logs_collected.files.collect_list[1]",
            "duplicates entry [0]",
        ),
        (
            "nothing collected",
            json!({"logs": {"logs_collected": {}}}).to_string(),
            "$.logs.logs_collected",
            "needs files or windows_events",
        ),
        (
            "no logs_collected",
            json!({"logs": {"force_flush_interval": 5}}).to_string(),
            "$.logs",
            "needs logs_collected",
        ),
        (
            "flush interval zero",
            json!({"logs": {"logs_collected": {"files": {"collect_list": [linux_entry()]}}, "force_flush_interval": 0}})
                .to_string(),
            "$.logs.force_flush_interval",
            "0 is out of range",
        ),
        (
            "event level",
            with_windows_entry(json!({"event_name": "System", "event_levels": ["ERROR", "FATAL"]})),
            "$.logs.logs_collected.windows_events.collect_list[0].event_levels[1]",
            "unknown variant `FATAL`, expected one of `CRITICAL`, `ERROR`, `WARNING`, `INFORMATION`, `VERBOSE`",
        ),
        (
            "event format",
            with_windows_entry(json!({"event_name": "System", "event_levels": ["ERROR"], "event_format": "json"})),
            "$.logs.logs_collected.windows_events.collect_list[0].event_format",
            "unknown variant `json`, expected `text` or `xml`",
        ),
        (
            "forwarded events",
            with_windows_entry(json!({"event_name": "Forwarded Events", "event_levels": ["ERROR"]})),
            "$.logs.logs_collected.windows_events.collect_list[0].event_name",
            "cannot collect \"Forwarded Events\"",
        ),
        (
            "no levels, ids or filters",
            with_windows_entry(json!({"event_name": "System"})),
            "$.logs.logs_collected.windows_events.collect_list[0]",
            "needs event_levels, event_ids or filters",
        ),
        (
            "missing event_name",
            with_windows_entry(json!({"event_levels": ["ERROR"]})),
            "$.logs.logs_collected.windows_events.collect_list[0]",
            "missing field `event_name`",
        ),
        (
            "event id out of range",
            with_windows_entry(json!({"event_name": "Security", "event_ids": [4625, 70000]})),
            "$.logs.logs_collected.windows_events.collect_list[0].event_ids[1]",
            "70000 is not a Windows event id",
        ),
        (
            "level listed twice",
            with_windows_entry(json!({"event_name": "System", "event_levels": ["ERROR", "ERROR"]})),
            "$.logs.logs_collected.windows_events.collect_list[0].event_levels[1]",
            "listed twice",
        ),
        (
            "log group class",
            with_file_entry(patched(linux_entry(), "log_group_class", json!("COLD"))),
            "$.logs.logs_collected.files.collect_list[0].log_group_class",
            "unknown variant `COLD`, expected `STANDARD` or `INFREQUENT_ACCESS`",
        ),
    ]
}

#[test]
fn each_invalid_document_names_the_path_and_the_rule() {
    for (name, document, path, fragment) in invalid_cases() {
        let error = AgentConfig::parse(&document)
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted {document}"));
        let issues = error.issues();
        assert!(
            issues
                .iter()
                .any(|issue| issue.path == path && issue.message.contains(fragment)),
            "{name}: expected {path}: …{fragment}…, got {error}"
        );
        assert!(
            error.to_string().contains(path),
            "{name}: the message names the path: {error}"
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
                log_group_class: None,
                multi_line_start_pattern: None,
                timestamp_format: Some("%Y-%m-%d %H:%M:%S".to_owned()),
                timezone,
                encoding: None,
                auto_removal: None,
                blacklist: None,
                publish_multi_logs: None,
                retention_in_days: retention.map(|d| RetentionDays(i32::from(d))),
                filters: filters.map(|list| {
                    list.into_iter()
                        .map(|(include, expression)| Filter {
                            kind: if include {
                                FilterKind::Include
                            } else {
                                FilterKind::Exclude
                            },
                            expression,
                        })
                        .collect()
                }),
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
            event_ids: None,
            log_group_name: group,
            log_stream_name: Some(format!("{name}/{{instance_id}}")),
            log_group_class: None,
            retention_in_days: None,
            event_format: format,
            filters: None,
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
                agent: None,
                metrics: None,
                logs: LogsSection {
                    logs_collected: Some(LogsCollected {
                        files: (!unique_files.is_empty()).then_some(Files {
                            collect_list: unique_files,
                        }),
                        windows_events: (!unique_events.is_empty()).then_some(WindowsEvents {
                            collect_list: unique_events,
                        }),
                    }),
                    metrics_collected: None,
                    log_stream_name: None,
                    force_flush_interval: flush,
                    credentials: None,
                    endpoint_override: None,
                },
                traces: None,
                other: BTreeMap::new(),
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
    fn a_retention_is_accepted_exactly_when_aws_accepts_it(days in -5i64..4000) {
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
        prop_assert_eq!(&issue.path, &format!("{path}.{key}"));
        prop_assert!(issue.message.contains(&format!("unknown field `{key}`")), "{}", issue.message);
    }
}
