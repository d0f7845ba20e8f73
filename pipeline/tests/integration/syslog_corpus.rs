//! Our RFC 3164 parser against an independent parse: the Loghub authors' structured CSVs of
//! real `/var/log/messages` and sshd logs (fixtures/loghub, with attribution).
//!
//! Program, pid and body must match on at least 99% of lines of each file. Every mismatch
//! is listed here with the reason; a new, unexplained mismatch fails the test, and so does a
//! listed one that no longer happens (so the list stays true).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a broken fixture or emulator must stop the test loudly"
)]

use crate::support;

use std::collections::BTreeMap;

use pipeline::etl::parse::{Format, parse_message};

struct Expected {
    host: String,
    program: Option<String>,
    pid: Option<u32>,
    body: String,
}

fn corpus(name: &str) -> (Vec<String>, Vec<Expected>) {
    let dir = support::repo_root().join("fixtures/loghub");
    let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap();
    let lines: Vec<String> = log.lines().map(str::to_owned).collect();
    let mut reader =
        csv::Reader::from_path(dir.join(format!("{name}.log_structured.csv"))).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |record: &csv::StringRecord, name: &str| -> String {
        let index = headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"));
        record[index].to_owned()
    };
    let expected = reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            if name == "Linux_2k" {
                // Loghub's Linux CSV: `Level` holds the host, `Component` the program.
                Expected {
                    host: column(&record, "Level"),
                    program: Some(column(&record, "Component")),
                    pid: column(&record, "PID").parse().ok(),
                    body: column(&record, "Content"),
                }
            } else {
                // Loghub's OpenSSH CSV: `Component` holds the host and there is no program
                // column; every line of the file is sshd's (`awk '{print $5}'` says so).
                Expected {
                    host: column(&record, "Component"),
                    program: Some("sshd".to_owned()),
                    pid: column(&record, "Pid").parse().ok(),
                    body: column(&record, "Content"),
                }
            }
        })
        .collect::<Vec<_>>();
    assert_eq!(
        lines.len(),
        expected.len(),
        "{name}: log and CSV line counts"
    );
    (lines, expected)
}

/// Compares every line; returns the 1-based line numbers that differ, with what differed.
fn mismatches(name: &str) -> BTreeMap<usize, String> {
    let (lines, expected) = corpus(name);
    let mut differing = BTreeMap::new();
    for (i, (line, want)) in lines.iter().zip(&expected).enumerate() {
        let got = parse_message(line);
        assert_eq!(
            got.format,
            Some(Format::Rfc3164),
            "{name}:{}: not parsed as syslog: {line}",
            i + 1
        );
        let mut what = Vec::new();
        if got.host.as_deref() != Some(want.host.as_str()) {
            what.push(format!("host {:?} vs {:?}", got.host, want.host));
        }
        if got.program.as_deref() != want.program.as_deref() {
            what.push(format!("program {:?} vs {:?}", got.program, want.program));
        }
        if got.pid != want.pid {
            what.push(format!("pid {:?} vs {:?}", got.pid, want.pid));
        }
        // Loghub strips surrounding whitespace from Content; so do we for the comparison only.
        if got.body.as_deref().map(str::trim) != Some(want.body.trim()) {
            what.push(format!("body {:?} vs {:?}", got.body, want.body));
        }
        if !what.is_empty() {
            differing.insert(i + 1, what.join("; "));
        }
    }
    differing
}

fn check(name: &str, explained: &[(usize, &str)]) {
    let differing = mismatches(name);
    let explained: BTreeMap<usize, &str> = explained.iter().copied().collect();
    let unexplained: Vec<String> = differing
        .iter()
        .filter(|(line, _)| !explained.contains_key(line))
        .map(|(line, what)| format!("{name}:{line}: {what}"))
        .collect();
    assert!(
        unexplained.is_empty(),
        "unexplained mismatches:\n{}",
        unexplained.join("\n")
    );
    let stale: Vec<&usize> = explained
        .keys()
        .filter(|line| !differing.contains_key(line))
        .collect();
    assert!(
        stale.is_empty(),
        "{name}: listed mismatches that no longer happen: {stale:?}"
    );
    let agreement = 1.0 - differing.len() as f64 / 2000.0;
    eprintln!(
        "{name}: {} of 2000 lines differ; agreement {:.2}%",
        differing.len(),
        agreement * 100.0
    );
    assert!(
        agreement >= 0.99,
        "{name}: agreement {agreement:.4} below 99%"
    );
}

#[test]
fn linux_messages_match_loghub() {
    check("Linux_2k", &[]);
}

#[test]
fn openssh_secure_log_matches_loghub() {
    check("OpenSSH_2k", &[]);
}
