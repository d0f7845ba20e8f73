//! Filter patterns against AWS's own examples: every row of
//! `fixtures/aws-conformance/filter-patterns.toml`, taken from the CloudWatch Logs User Guide page
//! "Filter pattern syntax for metric filters, subscription filters, filter log events, and Live
//! Tail" (each row names its section), is checked against `pipeline::filter_pattern`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a broken table or a failed row must stop the test loudly"
)]

use crate::support;

use pipeline::filter_pattern::FilterPattern;
use serde::Deserialize;

/// The table, as the fixture file holds it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    #[serde(rename = "match")]
    matches: Vec<MatchRow>,
    refused: Vec<RefusedRow>,
    accepted: Vec<AcceptedRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchRow {
    section: String,
    pattern: String,
    event: String,
    matches: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefusedRow {
    section: String,
    pattern: String,
    rule: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptedRow {
    section: String,
    pattern: String,
}

fn table() -> Table {
    let path = support::repo_root().join("fixtures/aws-conformance/filter-patterns.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_example_of_the_aws_page_matches_as_the_page_says() {
    let table = table();
    assert!(table.matches.len() >= 140, "{} rows", table.matches.len());
    let mut failures = Vec::new();
    for row in &table.matches {
        match FilterPattern::parse(&row.pattern) {
            Ok(pattern) if pattern.matches(&row.event) == row.matches => {}
            Ok(_) => failures.push(format!(
                "[{}] {:?} on {:?}: AWS says {}, we say {}",
                row.section, row.pattern, row.event, row.matches, !row.matches
            )),
            Err(error) => failures.push(format!("[{}] refused: {error}", row.section)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn patterns_aws_refuses_are_refused_with_the_rule() {
    let table = table();
    for row in &table.refused {
        let error = FilterPattern::parse(&row.pattern)
            .err()
            .unwrap_or_else(|| panic!("[{}] {:?} was accepted", row.section, row.pattern));
        assert!(
            error.message.contains(&row.rule),
            "[{}] {:?}: expected …{}…, got {error}",
            row.section,
            row.pattern,
            row.rule
        );
        assert!(error.position >= 1, "{error}");
    }
    for row in &table.accepted {
        FilterPattern::parse(&row.pattern)
            .unwrap_or_else(|e| panic!("[{}] refused: {e}", row.section));
    }
}
