//! The page's sections, each from one part of the report. Times are minutes since the
//! simulated clock started ([`RunReport::started_ms`]), the origin the scenario's fault
//! windows and restarts are written against.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::html::escape;
use super::svg::{self, Band, Mark, Series, TimelineRow};
use crate::ledger::{HISTOGRAM_BOUNDS_MS, Spread, StageLatencies};
use crate::run::report::RunReport;

const MS_PER_MINUTE: f64 = 60_000.0;

fn minutes(report: &RunReport, epoch_ms: i64) -> f64 {
    (epoch_ms - report.started_ms) as f64 / MS_PER_MINUTE
}

/// The run in a line: scenario, verdict, world, and the checks' count.
pub(super) fn heading(report: &RunReport, out: &mut String) {
    let passed = report.checks.iter().filter(|c| c.passed).count();
    let (class, verdict) = if report.passed {
        ("passed", "passed")
    } else {
        ("failed", "FAILED")
    };
    let _ = write!(
        out,
        r#"<h1>{} <span id="verdict" class="verdict {class}">{verdict}</span></h1><p>{} simulated at {}x on {}, seed {}, in {:.1} s of real time. <span id="checks-passed">{passed}</span> of {} checks passed. Scenario file <code>{}</code>.</p>"#,
        escape(&report.scenario),
        escape(&report.duration),
        report.speed,
        escape(&report.world),
        report.seed,
        report.real_seconds,
        report.checks.len(),
        escape(&report.scenario_file)
    );
}

/// Lines written, sent, at Firehose and landed over simulated time (cumulative, every
/// source), with the fault windows and restarts over them; the per-source totals below.
pub(super) fn delivery(report: &RunReport, out: &mut String) {
    out.push_str("<h2>Delivery over time</h2>");
    let latency = &report.reconciliation.latency;
    let Some(timeline) = &latency.timeline else {
        out.push_str(r#"<p class="note">No event landed with a known time: nothing to draw.</p>"#);
        return;
    };
    let buckets = timeline.by_source.values().map(Vec::len).max().unwrap_or(0);
    let mut totals = vec![[0usize; 4]; buckets];
    for source in timeline.by_source.values() {
        for (total, bucket) in totals.iter_mut().zip(source) {
            total[0] += bucket.written;
            total[1] += bucket.sent;
            total[2] += bucket.at_firehose;
            total[3] += bucket.landed;
        }
    }
    let at = |i: usize| minutes(report, timeline.start_ms + timeline.width_ms * i as i64);
    let names = [
        ("written", "written"),
        ("sent (PutLogEvents)", "sent"),
        ("at Firehose", "at_firehose"),
        ("landed in S3", "landed"),
    ];
    let series: Vec<Series> = names
        .iter()
        .enumerate()
        .map(|(k, (name, class))| {
            let mut sum = 0;
            let mut points = vec![(at(0), 0.0)];
            for (i, total) in totals.iter().enumerate() {
                sum += total[k];
                points.push((at(i + 1), sum as f64));
            }
            Series {
                name: (*name).to_owned(),
                class,
                points,
            }
        })
        .collect();
    let bands: Vec<Band> = report
        .faults
        .rules
        .iter()
        .map(|rule| Band {
            from: rule.from_ms as f64 / MS_PER_MINUTE,
            to: rule
                .until_ms
                .map_or_else(|| at(buckets), |ms| ms as f64 / MS_PER_MINUTE),
            label: format!(
                "{} ({} of {} calls hit)",
                rule.rule, rule.injected, rule.covered
            ),
        })
        .collect();
    let marks: Vec<Mark> = report
        .restarts
        .iter()
        .map(|r| Mark {
            at: r.at_ms as f64 / MS_PER_MINUTE,
            label: format!(
                "{} restarted at {}: down {:.1} s, {} objects kept",
                r.emulator, r.at, r.down_seconds, r.objects_kept
            ),
        })
        .collect();
    out.push_str(&svg::line_chart(
        "delivery-timeline",
        "Lines over simulated time, cumulative",
        (
            "simulated minutes since the run started",
            "lines (cumulative)",
        ),
        &series,
        &bands,
        &marks,
    ));
    out.push_str(r#"<table id="delivery-by-source"><tr><th>source</th><th class="num">written</th><th class="num">sent</th><th class="num">at Firehose</th><th class="num">landed</th></tr>"#);
    for (source, buckets) in &timeline.by_source {
        let sum =
            |f: fn(&crate::ledger::TimelineBucket) -> usize| buckets.iter().map(f).sum::<usize>();
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            escape(source),
            sum(|b| b.written),
            sum(|b| b.sent),
            sum(|b| b.at_firehose),
            sum(|b| b.landed)
        );
    }
    out.push_str("</table>");
    let _ = write!(
        out,
        r#"<p class="note">Buckets of {} s. Lines the filter pattern drops are sent but never reach Firehose; retries, restarts and dead letters are in report.json ({} retried ETL invocations, {} dead letters, {} faults injected).</p>"#,
        timeline.width_ms / 1000,
        report.subscription.retried_invocations,
        report.dead_letters.len(),
        report.faults.injected()
    );
}

fn seconds(ms: u32) -> String {
    format!("{:.1}", f64::from(ms) / 1000.0)
}

fn spread_cells(spread: &Spread) -> String {
    if spread.count == 0 {
        return r#"<td class="num">-</td><td class="num">-</td><td class="num">-</td>"#.to_owned();
    }
    format!(
        r#"<td class="num">{}</td><td class="num">{}</td><td class="num">{}</td>"#,
        seconds(spread.p50_ms),
        seconds(spread.p95_ms),
        seconds(spread.max_ms)
    )
}

fn latency_row(out: &mut String, source: &str, id: &str, l: &StageLatencies) {
    let stages = [
        ("end-to-end", &l.end_to_end),
        ("agent", &l.agent),
        ("subscription and ETL", &l.subscription_and_etl),
        ("Firehose", &l.firehose),
    ];
    for (i, (stage, spread)) in stages.iter().enumerate() {
        let _ = write!(
            out,
            r#"<tr data-source="{}" data-stage="{stage}" data-p50-ms="{}" data-p95-ms="{}" data-max-ms="{}"{}>"#,
            escape(source),
            spread.p50_ms,
            spread.p95_ms,
            spread.max_ms,
            if i == 0 && !id.is_empty() {
                format!(r#" id="{id}""#)
            } else {
                String::new()
            }
        );
        let first = if i == 0 {
            format!(
                r#"<td rowspan="4">{}</td><td class="num" rowspan="4">{}</td>"#,
                escape(source),
                l.events
            )
        } else {
            String::new()
        };
        let _ = write!(out, "{first}<td>{stage}</td>{}</tr>", spread_cells(spread));
    }
}

/// From a line's write to its object in S3 on the simulated clock: the histogram, and p50 /
/// p95 / max per source and stage.
pub(super) fn latency(report: &RunReport, out: &mut String) {
    out.push_str("<h2>Latency, write to S3 (simulated time)</h2>");
    let latency = &report.reconciliation.latency;
    if latency.events == 0 {
        out.push_str(r#"<p class="note">No landed event has a known arrival.</p>"#);
        return;
    }
    let label = |i: usize| match HISTOGRAM_BOUNDS_MS.get(i) {
        Some(bound) if *bound < 60_000 => format!("≤{}s", bound / 1000),
        Some(bound) => format!("≤{}m", bound / 60_000),
        None => format!(
            ">{}m",
            HISTOGRAM_BOUNDS_MS[HISTOGRAM_BOUNDS_MS.len() - 1] / 60_000
        ),
    };
    let bars: Vec<(String, f64)> = latency
        .all
        .end_to_end
        .histogram
        .iter()
        .enumerate()
        .map(|(i, count)| (label(i), *count as f64))
        .collect();
    out.push_str(&svg::bar_chart(
        "latency-histogram",
        "End-to-end latency, events per bin",
        "events",
        &bars,
    ));
    out.push_str(r#"<table id="latency"><tr><th>source</th><th class="num">events</th><th>stage</th><th class="num">p50 s</th><th class="num">p95 s</th><th class="num">max s</th></tr>"#);
    latency_row(out, "all sources", "latency-all", &latency.all);
    for (source, l) in &latency.by_source {
        latency_row(out, source, "", l);
    }
    out.push_str("</table>");
    out.push_str(r#"<p class="note">Agent: the write to PutLogEvents' answer. Subscription and ETL: that answer to the row's arrival at Firehose (the ETL takes no simulated time; its billed milliseconds are in report.json). Firehose: the buffer and the write. Percentiles by nearest rank; an event delivered twice counts once.</p>"#);
}

/// One row per instance: launched, registered, agent started, first line landed, or what went
/// wrong.
pub(super) fn onboarding(report: &RunReport, out: &mut String) {
    out.push_str("<h2>Onboarding</h2>");
    let rows: Vec<TimelineRow> = report
        .instance_details
        .iter()
        .map(|d| {
            let t = &d.timeline;
            let mut moments = vec![("launched", minutes(report, t.launched_ms))];
            let named = [
                ("registered", t.registered_ms),
                ("agent_started", t.agent_started_ms),
                ("first_landed", t.first_landed_ms),
            ];
            moments.extend(
                named
                    .iter()
                    .filter_map(|(name, at)| at.map(|ms| (*name, minutes(report, ms)))),
            );
            TimelineRow {
                label: d.name.clone(),
                class: match d.decision.as_str() {
                    "onboarded" => "onboarded",
                    "failed" => "failed",
                    "none" => "none",
                    _ => "skipped",
                },
                from: minutes(report, t.launched_ms),
                to: t.first_landed_ms.map(|ms| minutes(report, ms)),
                moments,
                note: format!("{}: {}", d.decision, d.reason),
            }
        })
        .collect();
    let end = rows
        .iter()
        .flat_map(|r| r.moments.iter().map(|m| m.1))
        .fold(0.0, f64::max);
    out.push_str(&svg::timeline(
        "onboarding-timeline",
        "Each instance from launch to its first line in S3",
        "simulated minutes since the run started",
        &rows,
        end,
    ));
    out.push_str(r#"<p class="legend"><span class="key" style="background:#57606a"></span>launched <span class="key" style="background:#8250df"></span>SSM agent online <span class="key sent"></span>CloudWatch agent started <span class="key landed"></span>first line landed</p>"#);
    out.push_str(
        r#"<table id="instances"><tr><th>instance</th><th>decision</th><th>reason</th></tr>"#,
    );
    for d in &report.instance_details {
        let _ = write!(
            out,
            r#"<tr class="{}"><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            if d.decision == "failed" { "failed" } else { "" },
            escape(&d.name),
            escape(&d.decision),
            escape(&d.reason)
        );
    }
    out.push_str("</table>");
}

/// Every check with its verdict.
pub(super) fn checks(report: &RunReport, out: &mut String) {
    out.push_str(r#"<h2>Checks</h2><table id="checks"><tr><th>check</th><th>expected</th><th>found</th><th>verdict</th></tr>"#);
    for check in &report.checks {
        let (row, cell, verdict) = if check.passed {
            ("passed", "passed-cell", "passed")
        } else {
            ("failed", "failed-cell", "FAILED")
        };
        let _ = write!(
            out,
            r#"<tr class="{row}"><td>{}{}</td><td>{}</td><td>{}</td><td class="{cell}">{verdict}</td></tr>"#,
            escape(&check.name),
            check
                .why
                .as_deref()
                .map(|w| format!(r#"<br><span class="note">{}</span>"#, escape(w)))
                .unwrap_or_default(),
            escape(&check.expected),
            escape(&check.found)
        );
    }
    out.push_str("</table>");
}

/// The monthly estimate per service, as bars.
pub(super) fn cost(report: &RunReport, out: &mut String) {
    let cost = &report.cost;
    let _ = write!(
        out,
        r#"<h2>Cost per month on AWS</h2><p>This workload, run for a month: <strong id="cost-month">${:.2}</strong> ({}).</p>"#,
        cost.month_usd,
        escape(&cost.prices)
    );
    let mut by_service: BTreeMap<&str, f64> = BTreeMap::new();
    for line in &cost.lines {
        *by_service.entry(line.service).or_default() += line.month_usd;
    }
    let mut bars: Vec<(String, f64)> = by_service
        .into_iter()
        .map(|(service, usd)| (service.to_owned(), usd))
        .collect();
    bars.sort_by(|a, b| b.1.total_cmp(&a.1));
    out.push_str(&svg::horizontal_bars(
        "cost-by-service",
        "Dollars per month, per service",
        &bars,
        |usd| format!("${usd:.2}"),
    ));
    if !cost.not_priced.is_empty() {
        let _ = write!(
            out,
            r#"<p class="note">Not priced: {}.</p>"#,
            escape(&cost.not_priced.join("; "))
        );
    }
}

/// The fidelity rows the run touched.
pub(super) fn differences(report: &RunReport, out: &mut String) {
    out.push_str(r#"<h2>Where this run differs from AWS</h2><table id="aws-differences"><tr><th>area</th><th>kind</th><th>AWS</th><th>the harness</th></tr>"#);
    for d in &report.aws_differences {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(d.area),
            escape(d.kind),
            escape(d.aws),
            escape(d.harness)
        );
    }
    out.push_str("</table><p class=\"note\">From docs/fidelity.md: the rows that matter for this run's instances, agents and functions.</p>");
}
