//! A run's report.html in a real browser: `loglab run` on the memory backend writes the page,
//! headless Chromium (Debian's package, `scripts/chromium.sh`) loads it, and the test reads
//! the loaded DOM. The page must load without a console message (a blocked resource, a
//! script, a style the page's policy refuses all print one), and its charts must carry the
//! run's own numbers from report.json. The screenshot is kept for CI at
//! `.loglab/artifacts/report-page.png` (or under `LOGLAB_ARTIFACTS`).
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli_query::tempfile_dir::Dir;
use crate::support::root;

fn chromium() -> String {
    crate::support::script_stdout("scripts/chromium.sh")
}

/// The page as Chromium loaded it: the DOM after load, and the console's messages.
struct Loaded {
    dom: String,
    console: Vec<String>,
}

fn open(browser: &str, page: &Path, extra: &[&str]) -> Loaded {
    let profile = Dir::new("chromium-profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Loaded {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console: String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_owned)
            .collect(),
    }
}

fn artifacts() -> PathBuf {
    std::env::var_os("LOGLAB_ARTIFACTS")
        .map_or_else(|| root().join(".loglab/artifacts"), PathBuf::from)
}

#[test]
fn the_report_page_loads_cleanly_and_draws_the_runs_numbers() {
    let browser = chromium();
    let out = Dir::new("report-page");
    let run = Command::new(env!("CARGO_BIN_EXE_loglab"))
        .current_dir(root())
        .args([
            "run",
            "scenarios/quickstart.toml",
            "--backend",
            "memory",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "loglab run: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let page = out.path().join("report.html");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    let loaded = open(&browser, &page, &["--dump-dom"]);
    assert_eq!(loaded.console, Vec::<String>::new(), "console messages");
    let dom = &loaded.dom;
    let has = |needle: String| assert!(dom.contains(&needle), "the page lacks {needle}");

    has(r#"<span id="verdict" class="verdict passed">passed</span>"#.to_owned());
    // The timeline's last points: every line written and landed, as the ledger counts them.
    let totals = &report["reconciliation"]["totals"];
    has(format!(
        r#"data-series="written" data-last="{}""#,
        totals["lines"]
    ));
    has(format!(
        r#"data-series="landed in S3" data-last="{}""#,
        totals["lines_delivered"]
    ));
    // The latency table's figures are report.json's.
    let all = &report["reconciliation"]["latency"]["all"]["end_to_end"];
    assert!(all["count"].as_u64().unwrap() > 0, "no latency measured");
    has(format!(
        r#"data-source="all sources" data-stage="end-to-end" data-p50-ms="{}" data-p95-ms="{}" data-max-ms="{}""#,
        all["p50_ms"], all["p95_ms"], all["max_ms"]
    ));
    let histogram: u64 = all["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(histogram, all["count"].as_u64().unwrap());
    // One onboarding row per instance, and one checks row per check.
    for instance in report["instance_details"].as_array().unwrap() {
        has(format!(
            r#"data-instance="{}""#,
            instance["name"].as_str().unwrap()
        ));
    }
    let checks = report["checks"].as_array().unwrap().len();
    assert_eq!(
        dom.matches(r#"<td class="passed-cell">passed</td>"#)
            .count(),
        checks
    );
    has(format!(
        r#"<strong id="cost-month">${:.2}</strong>"#,
        report["cost"]["month_usd"].as_f64().unwrap()
    ));

    let kept = artifacts();
    std::fs::create_dir_all(&kept).unwrap();
    let screenshot = kept.join("report-page.png");
    let _ = std::fs::remove_file(&screenshot);
    open(
        &browser,
        &page,
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1024,3200",
        ],
    );
    let png = std::fs::read(&screenshot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG"),
        "{} is not a PNG",
        screenshot.display()
    );
    std::fs::copy(&page, kept.join("report.html")).unwrap();
    eprintln!("report page: screenshot at {}", screenshot.display());
}

/// The console check catches what it guards against: a resource the page's policy blocks.
#[test]
fn a_page_that_loads_from_the_network_is_caught() {
    let browser = chromium();
    let dir = Dir::new("report-page-broken");
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        r#"<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head><body><img src="https://cdn.example.com/chart.png"></body></html>"#,
    )
    .unwrap();
    let loaded = open(&browser, &page, &["--dump-dom"]);
    assert_eq!(loaded.console.len(), 1, "{:?}", loaded.console);
    assert!(loaded.console[0].contains("Content Security Policy"));
}
