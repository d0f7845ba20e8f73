//! docs/fidelity.md is rendered from `harness::fidelity::ROWS` and the conformance tables kept as
//! data; this test fails when the file is stale (`UPDATE_EXPECTED=1` rewrites it) and when a
//! row names a test function that does not exist in the file it names.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use crate::support;

use harness::fidelity::{ROWS, render};
use support::root;

/// Rows of each conformance table kept as data: `[[...]]` entries of the TOML files.
fn conformance_counts() -> Vec<(String, usize)> {
    let dir = root().join("fixtures/aws-conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut counts = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let table: toml::Table = toml::from_str(&text).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (key, value) in &table {
            if let Some(rows) = value.as_array() {
                counts.push((format!("{name} [{key}]"), rows.len()));
            }
        }
    }
    counts
}

#[test]
fn every_row_names_a_test_that_exists() {
    for row in ROWS {
        let (file, function) = row
            .test
            .split_once("::")
            .unwrap_or_else(|| panic!("{}: test is not path::function", row.test));
        let text = std::fs::read_to_string(root().join(file))
            .unwrap_or_else(|e| panic!("{}: {e}", row.test));
        assert!(
            text.contains(&format!("fn {function}(")),
            "{} names a test that {file} does not have",
            row.test
        );
        assert!(!row.source.is_empty(), "{}: no source", row.test);
    }
}

#[test]
fn every_emulator_row_names_tests_that_exist() {
    for row in harness::fidelity::EMULATORS {
        for test in row.tests.split("; ") {
            let (file, function) = test
                .split_once("::")
                .unwrap_or_else(|| panic!("{test}: test is not path::function"));
            let text = std::fs::read_to_string(root().join(file))
                .unwrap_or_else(|e| panic!("{test}: {e}"));
            assert!(
                text.contains(&format!("fn {function}(")),
                "{test} names a test that {file} does not have"
            );
        }
    }
}

#[test]
fn docs_fidelity_md_is_current() {
    let counts = conformance_counts();
    assert!(!counts.is_empty());
    let borrowed: Vec<(&str, usize)> = counts.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let rendered = render(&borrowed);
    let path = root().join("docs/fidelity.md");
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == rendered,
        "docs/fidelity.md is stale: run UPDATE_EXPECTED=1 cargo test -p harness --test integration fidelity_doc"
    );
}
