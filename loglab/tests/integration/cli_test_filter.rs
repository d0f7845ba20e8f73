//! `loglab test-filter` as a user runs it: on the real OpenSSH corpus (the matches counted here
//! independently), with extracted values for a space-delimited pattern, and with a pattern AWS
//! refuses (exit status 2, the position and the rule).
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use crate::support;

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use support::root;

fn test_filter(pattern: &str, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loglab"))
        .args(["test-filter", pattern, "--events", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn terms_on_the_openssh_corpus_match_the_lines_that_hold_them() {
    let corpus = std::fs::read_to_string(root().join("fixtures/loghub/OpenSSH_2k.log")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_loglab"))
        .args(["test-filter", "\"Failed password\" -invalid"])
        .arg("--events")
        .arg(root().join("fixtures/loghub/OpenSSH_2k.log"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let expected: Vec<usize> = corpus
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("Failed password") && !l.contains("invalid"))
        .map(|(i, _)| i + 1)
        .collect();
    assert!(!expected.is_empty());
    let got: Vec<usize> = report["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| usize::try_from(m["eventNumber"].as_u64().unwrap()).unwrap())
        .collect();
    assert_eq!(got, expected);
    assert_eq!(report["events"], corpus.lines().count());
}

#[test]
fn space_delimited_patterns_report_extracted_values_by_field_name() {
    let output = test_filter(
        "[w1=ERROR, w2]",
        "ERROR 09/25/2014 12:00:02 Failed to process request\nINFO all good\n",
    );
    assert!(output.status.success(), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["events"], 2);
    assert_eq!(
        report["matches"],
        serde_json::json!([{
            "eventNumber": 1,
            "eventMessage": "ERROR 09/25/2014 12:00:02 Failed to process request",
            "extractedValues": {"$w1": "ERROR", "$w2": "09/25/2014 12:00:02 Failed to process request"}
        }])
    );
}

#[test]
fn a_pattern_aws_refuses_exits_2_with_the_position_and_the_rule() {
    let output = test_filter("%something!%", "something!\n");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("at character 11"), "{stderr}");
    assert!(stderr.contains("'!' is not allowed"), "{stderr}");
    assert!(output.stdout.is_empty());
    let none = test_filter("NOWHERE", "a\nb\n");
    assert_eq!(none.status.code(), Some(1), "nothing matched");
}
