//! Throughput benches live in `benches/`; this library holds the fixture loading they share:
//! real corpus lines and Windows Event XML records like the agent ships.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "bench fixtures: a missing file should stop the bench loudly"
)]

use std::path::PathBuf;

/// The repository's root (canonical: object stores refuse `..` in paths).
pub fn repo_root() -> PathBuf {
    let benches = PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned()),
    );
    let root = benches.join("..");
    std::fs::canonicalize(&root).unwrap_or(root)
}

/// The lines of a corpus file under `fixtures/loghub/`.
pub fn corpus_lines(file: &str) -> Vec<String> {
    let path = repo_root().join("fixtures/loghub").join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `count` Windows Event XML records (System, Application and Security in turn), varied by
/// record id, from the documented payload fixtures.
pub fn windows_xml_lines(count: usize) -> Vec<String> {
    let dir = repo_root().join("fixtures/cloudwatch-logs/payloads");
    let templates: Vec<String> = [
        "windows-system-xml.json",
        "windows-application-xml.json",
        "windows-security-xml.json",
    ]
    .iter()
    .map(|name| {
        let payload: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap();
        payload["logEvents"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned()
    })
    .collect();
    (0..count)
        .map(|i| templates[i % 3].replace("<EventRecordID>", &format!("<EventRecordID>{i}")))
        .collect()
}

/// The process's peak resident memory (`VmHWM`), KiB; `None` off Linux.
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
}
