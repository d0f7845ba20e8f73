//! The harness at fleet scale, a bench binary (not part of the test time):
//!
//! ```sh
//! cargo bench -p benches --bench fleet                                  # scenarios/fleet-scale.toml
//! cargo bench -p benches --bench fleet -- --scenario scenarios/quickstart.toml
//! cargo bench -p benches --bench fleet -- --ledger-lines 10000000       # ledger + reconciliation only
//! ```
//!
//! The first form runs a scenario on the memory backend (`loglab run --backend memory`: the
//! workload, handlers, agents, Firehose model, read-back, catalog, queries and checks, on a
//! paused clock) and prints the lines replayed and reconciled per second of real time, with
//! the phases' share of it, and the peak memory. The second builds a ledger of that many
//! one-line records, all sent, reconciles it against as many landed events handed to it one at
//! a time (as the read-back does), and prints the time and the peak memory: the figure for
//! "10 million lines within 2 GB".
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_precision_loss,
    reason = "a bench binary reports on stdout and stops loudly"
)]

use std::time::Instant;

use benches::{peak_memory_kib, repo_root};
use harness::ledger::{LandedEvent, Ledger, NewRecord, ShippedEvent};
use harness::run::RunOptions;
use harness::scenario::Scenario;
use pipeline::filter_pattern::FilterPattern;

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(lines) = flag(&args, "--ledger-lines") {
        ledger_only(lines.parse().expect("--ledger-lines takes a count"));
        return;
    }
    let scenario = flag(&args, "--scenario").unwrap_or_else(|| "scenarios/fleet-scale.toml".into());
    let loaded = Scenario::load(&repo_root().join(&scenario)).unwrap();
    let started = Instant::now();
    let run = harness::run::memory::run_blocking(&loaded, &RunOptions::default()).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let report = &run.report;
    let lines: usize = report
        .reconciliation
        .by_source
        .values()
        .flat_map(|sources| sources.values())
        .map(|c| c.lines)
        .sum();
    println!(
        "fleet: {scenario} on the memory backend: {} instances, {lines} lines, {} events landed in {} objects",
        report.instances.launched, report.reconciliation.events_landed, report.delivery.objects
    );
    println!(
        "fleet: {seconds:.1} s real, {:.0} lines/s for the whole run on one core (catalog and queries included); checks {}",
        lines as f64 / seconds,
        if report.passed {
            "all passed"
        } else {
            "FAILED"
        }
    );
    // Replayed and reconciled: from the first launch to the end of the read-back (the query
    // stage after it is Athena's work: a scan of every object per query).
    let replay: f64 = report
        .phases
        .iter()
        .filter(|p| !matches!(p.phase, "provision" | "reset" | "query"))
        .map(|p| p.seconds)
        .sum();
    println!(
        "fleet: {replay:.1} s from launch through reconciliation: {:.0} lines/s; {} bytes of rows ({:.0} MB/s)",
        lines as f64 / replay,
        report.delivery.bytes_in,
        report.delivery.bytes_in as f64 / replay / 1e6
    );
    let phases: Vec<String> = report
        .phases
        .iter()
        .map(|p| {
            format!(
                "{} {:.2} s ({:.0} %)",
                p.phase,
                p.seconds,
                100.0 * p.seconds / seconds
            )
        })
        .collect();
    println!("fleet: phases: {}", phases.join(", "));
    println!(
        "fleet: Firehose took {} bytes of rows and wrote {} bytes",
        report.delivery.bytes_in, report.delivery.bytes_out
    );
    println!(
        "fleet: peak memory {} MiB ({} bytes per line)",
        peak_memory_kib().unwrap_or(0) / 1024,
        peak_memory_kib().unwrap_or(0) * 1024 / lines.max(1) as u64
    );
    assert!(report.passed, "{}", harness::run::report::summary(report));
}

/// A ledger of `lines` one-line records on 1,000 streams, every one sent, reconciled against
/// the same events landing one at a time (as the read-back hands them on): time and peak
/// memory.
fn ledger_only(lines: usize) {
    let stream = |i: usize| format!("/var/log/messages/i-{:017x}", i % 1_000);
    let message = |i: usize| {
        format!(
            "Nov 24 10:00:{:02} ip-10-0-1-23 systemd[1]: Started Session {i} of user ec2-user.",
            i % 60
        )
    };
    let timestamp = |i: usize| 1_764_000_000_000 + i as i64;
    let started = Instant::now();
    let mut ledger = Ledger::default();
    for i in 0..lines {
        let index = ledger.write(NewRecord {
            instance: &format!("web-{}", i % 1_000),
            instance_id: &format!("i-{:017x}", i % 1_000),
            source: "/var/log/messages",
            timestamp_ms: timestamp(i),
            lines: &[message(i)],
            level: None,
            event_id: None,
        });
        ledger.accepted(
            index,
            &ShippedEvent::new(&stream(i), timestamp(i), message(i), 0),
        );
    }
    let built = started.elapsed().as_secs_f64();
    let pattern = FilterPattern::parse("").unwrap();
    let mut reconciler = ledger.reconciler(&pattern);
    for i in 0..lines {
        reconciler.landed(&LandedEvent {
            log_stream: stream(i).into(),
            event_id: format!("{i:056}").into(),
            timestamp_ms: timestamp(i),
            message: message(i).into(),
            arrival: None,
        });
    }
    let (reconciliation, lost) = reconciler.finish();
    ledger.mark_lost(&lost);
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(reconciliation.missing, 0);
    assert_eq!(reconciliation.events_landed, lines);
    assert!(reconciliation.is_exact());
    let peak = peak_memory_kib().unwrap_or(0);
    println!(
        "ledger: {lines} lines: built in {built:.1} s, reconciled in {:.1} s ({:.0} lines/s); peak memory {} MiB ({} bytes per line)",
        seconds - built,
        lines as f64 / (seconds - built),
        peak / 1024,
        peak * 1024 / lines.max(1) as u64
    );
}
