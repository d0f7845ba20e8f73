//! The summary a person reads after a run: stages, instances, lines per instance and source,
//! the catalog, and every failed check with its detail.

use std::fmt::Write as _;

use super::RunReport;

/// Which functions ran: the in-process handlers, or the artifacts by SHA-256 prefix.
fn functions_line(lambda: &super::LambdaReport) -> String {
    if lambda.artifacts.is_empty() {
        return "functions: the handlers in-process (--lambda in-process)".to_owned();
    }
    let artifacts: Vec<String> = lambda
        .artifacts
        .iter()
        .map(|a| {
            let stats = lambda.functions.get(&a.function);
            format!(
                "{} {} ({} invocations, {} errors, {} timeouts, {} crashes)",
                a.function,
                &a.sha256[..12.min(a.sha256.len())],
                stats.map_or(0, |s| s.invocations),
                stats.map_or(0, |s| s.errors),
                stats.map_or(0, |s| s.timeouts),
                stats.map_or(0, |s| s.crashes),
            )
        })
        .collect();
    let profile = lambda.artifacts.first().map_or("", |a| a.profile.as_str());
    format!(
        "functions: the {profile} artifacts as Lambda runs them (--lambda artifacts): {}",
        artifacts.join("; ")
    )
}

/// Bytes in and out of the harness's Firehose, and the compression ratio.
fn delivery_note(delivery: &standins::firehose::DeliveryStats) -> String {
    let ratio = if delivery.bytes_out == 0 {
        0.0
    } else {
        delivery.bytes_in as f64 / delivery.bytes_out as f64
    };
    let mut note = format!(
        "{} records, {} bytes in, {} bytes written ({ratio:.1}x compression)",
        delivery.records, delivery.bytes_in, delivery.bytes_out
    );
    if !delivery.write_errors.is_empty() {
        note.push_str(&format!(
            "; {} objects NOT WRITTEN: {}",
            delivery.write_errors.len(),
            delivery.write_errors.join("; ")
        ));
    }
    note
}

/// `[[faults.inject]]`: each rule's hits, then each operation's attempts, retries and backoff
/// (the SDK's, the agents' and the ETL's), so that a run shows how it recovered.
fn faults_section(report: &RunReport, out: &mut String) {
    restarts_section(report, out);
    if !report.faults_not_applied.is_empty() {
        let _ = writeln!(out, "\nfaults not applied in this world:");
        for fault in &report.faults_not_applied {
            let _ = writeln!(out, "  {fault}");
        }
    }
    if !report.dead_letters.is_empty() {
        let _ = writeln!(
            out,
            "\ndead letters (Lambda gave up after its retries; `loglab redrive` sends a deployed function's back):"
        );
        for letter in &report.dead_letters {
            let _ = writeln!(
                out,
                "  {}: {} ({} log events): {}: {}",
                letter.function,
                letter.gave_up,
                letter.log_events,
                letter.error_code,
                letter.error_message
            );
        }
    }
    let fired: Vec<&crate::alarms::AlarmVerdict> =
        report.alarms.iter().filter(|a| a.fired).collect();
    let _ = writeln!(
        out,
        "\nalarms of the stack, on this run's measurements: {} of {} would have fired",
        fired.len(),
        report.alarms.len()
    );
    for alarm in fired {
        let _ = writeln!(
            out,
            "  {}{}: {} = {} ({}): {}",
            alarm.name,
            alarm
                .at
                .as_deref()
                .map_or_else(String::new, |at| format!(" at {at}")),
            alarm.metric,
            alarm.observed,
            alarm.threshold,
            alarm.meaning
        );
    }
    if let Some(redrive) = &report.redrive {
        let _ = writeln!(
            out,
            "redrive (the bug fixed, the ETL's dead letters sent back): {} received, {} recovered ({} log events, {} rows){}",
            redrive.letters,
            redrive.recovered,
            redrive.events,
            redrive.rows,
            if redrive.failed.is_empty() {
                String::new()
            } else {
                format!("; failed: {}", redrive.failed.join("; "))
            }
        );
    }
    let faults = &report.faults;
    if !faults.losses.is_empty() {
        let _ = writeln!(
            out,
            "\nsilent losses made on purpose ([[faults.lose]]; the checks must fail):"
        );
        for (stage, count) in &faults.losses {
            let _ = writeln!(out, "  {stage}: {count}");
        }
    }
    if faults.rules.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nfaults injected ({} in all):", faults.injected());
    for rule in &faults.rules {
        let _ = writeln!(
            out,
            "  {:>6} of {:>6} calls  {}",
            rule.injected, rule.covered, rule.rule
        );
    }
    let _ = writeln!(
        out,
        "retries (SDK attempts; backoff measured between attempts):"
    );
    for (operation, o) in &faults.operations {
        let _ = writeln!(
            out,
            "  {operation:<32} {:>6} attempts, {:>5} retries (at most {} per call), backoff {} ms in all, {} ms at most",
            o.attempts, o.retries, o.max_attempts, o.retry_delay_ms_total, o.retry_delay_ms_max
        );
    }
    let agent_retries: usize = report.agents.iter().map(|a| a.put_retries).sum();
    let agent_wait: u64 = report.agents.iter().map(|a| a.put_retry_wait_ms).sum();
    let _ = writeln!(
        out,
        "  agents: {agent_retries} PutLogEvents retries after the SDK's, {agent_wait} simulated ms waited (pusher/retry.go)"
    );
    let _ = writeln!(
        out,
        "  Firehose model: {} PutRecordBatch entries failed on purpose; ETL: {} invocations failed every attempt; onboarding: {} asynchronous retries",
        report.delivery.entries_failed,
        report.subscription.errors.len(),
        report.onboarding_retries
    );
}

/// `[[faults.restart]]`: each restart, how long the emulator was down and the stack took to
/// apply again, and what went with its state.
fn restarts_section(report: &RunReport, out: &mut String) {
    if report.restarts.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "
emulator restarts:"
    );
    for restart in &report.restarts {
        let _ = writeln!(
            out,
            "  at {:>6}: {} down {:.1} s, stack applied again in {:.1} s; carried across: {} events read from the log group before the stop, {} objects kept{}",
            restart.at,
            restart.emulator,
            restart.down_seconds,
            restart.reprovision_seconds,
            restart.events_drained,
            restart.objects_kept,
            restart
                .error
                .as_deref()
                .map_or_else(String::new, |e| format!("; FAILED: {e}"))
        );
    }
    let r = &report.reconciliation;
    let _ = writeln!(
        out,
        "  {} expected events ({} lines) lost with an emulator's state; {} events were at risk \
         (sent before a restart that could not carry its state across)",
        r.lost_to_restart, r.totals.lines_lost_to_restart, r.events_sent_before_restart
    );
}

/// What the workload would cost on AWS: each service's lines, the run and a month.
fn cost_section(out: &mut String, cost: &crate::cost::CostEstimate) {
    let _ = writeln!(out, "\ncost on AWS ({}):", cost.prices);
    let _ = writeln!(
        out,
        "  {:<16} {:<52} {:>12} {:>12}",
        "service", "item", "run USD", "month USD"
    );
    for line in &cost.lines {
        let _ = writeln!(
            out,
            "  {:<16} {:<52} {:>12.6} {:>12.2}",
            line.service, line.item, line.run_usd, line.month_usd
        );
    }
    let _ = writeln!(
        out,
        "  {:<16} {:<52} {:>12.6} {:>12.2}",
        "total", "", cost.run_usd, cost.month_usd
    );
    if let Some(projection) = cost.month_usd_with_projection {
        let _ = writeln!(
            out,
            "  {:<16} {:<52} {:>12} {:>12.2}",
            "with projection",
            "the same month, partition projection instead of the crawler",
            "",
            projection
        );
    }
    if let Some(crawler) = cost.month_usd_with_crawler {
        let _ = writeln!(
            out,
            "  {:<16} {:<52} {:>12} {:>12.2}",
            "with a crawler",
            "the same month, the stack's crawler schedule instead of projection",
            "",
            crawler
        );
    }
    for gap in &cost.not_priced {
        let _ = writeln!(out, "  not priced: {gap}");
    }
}

/// One part of the summary, written from the report.
type Section = fn(&RunReport, &mut String);

/// The summary's parts, in order: every part reads the report, none computes a figure of its
/// own.
const SECTIONS: [Section; 14] = [
    heading,
    audit,
    stages,
    faults_section,
    reasons,
    instances,
    lines_per_source,
    latency,
    catalog,
    permissions,
    cost,
    aws_differences,
    failed_checks,
    examples,
];

/// The applied stack read back: the counts, and what this world does not provision.
fn audit(report: &RunReport, out: &mut String) {
    let Some(a) = &report.audit else {
        return;
    };
    let _ = writeln!(
        out,
        "audit: {} resources read back, {} properties as declared, {} differ or missing, {} not held by the emulator, {} resources not provisioned here",
        a.resources.len(),
        a.matched,
        a.failures.len(),
        a.not_held,
        a.not_provisioned.len()
    );
}

/// IAM's decisions on the functions' calls: the counts, and each grant with its use.
fn permissions(report: &RunReport, out: &mut String) {
    let Some(p) = &report.permissions else {
        return;
    };
    let refused = p.refused().count();
    let _ = writeln!(
        out,
        "IAM (the rendered roles): {} calls, {} distinct requests, {} allowed, {refused} refused",
        p.calls,
        p.requests.len(),
        p.requests.len() - refused
    );
    for grant in &p.grants {
        let used = match grant.calls {
            0 => "not used in this run".to_owned(),
            n => format!("{n} calls"),
        };
        let _ = writeln!(out, "  {:<16} {:<36} {used}", grant.role, grant.action);
    }
}

/// The summary a person reads: every section of [`SECTIONS`].
pub fn summary(report: &RunReport) -> String {
    let mut out = String::new();
    for section in SECTIONS {
        section(report, &mut out);
    }
    out
}

/// The run in one line, and how its functions ran.
fn heading(report: &RunReport, out: &mut String) {
    let _ = writeln!(
        out,
        "{} (seed {}) on {}: {} simulated at {}x in {:.1} s; filter pattern {:?}",
        report.scenario,
        report.seed,
        report.world,
        report.duration,
        report.speed,
        report.real_seconds,
        report.filter_pattern
    );
    let _ = writeln!(out, "{}", functions_line(&report.lambda));
    let phases: Vec<String> = report
        .phases
        .iter()
        .map(|p| format!("{} {:.1} s", p.phase, p.seconds))
        .collect();
    let _ = writeln!(out, "phases (real time): {}", phases.join(", "));
}

/// The stage table: instances, records, events, what landed.
fn stages(report: &RunReport, out: &mut String) {
    let r = &report.reconciliation;
    let t = &r.totals;
    let i = &report.instances;
    let plain = |stage, count: usize| (stage, count.to_string(), String::new());
    let mut rows: Vec<(&str, String, String)> = vec![
        plain("instances launched", i.launched),
        plain("  onboarded", i.onboarded),
        plain("  skipped", i.skipped),
        plain("  failed", i.failed),
        (
            "records written",
            t.records.to_string(),
            format!("{} lines", t.lines),
        ),
        plain("  not collected", t.not_collected),
        plain("  rejected by PutLogEvents", t.rejected),
        plain("events sent (PutLogEvents)", t.events_sent),
        plain("  dropped by the filter", t.events_filtered),
        (
            "  delivered to the ETL",
            report.subscription.matched.to_string(),
            format!("{} invocations", report.subscription.invocations),
        ),
        (
            "events landed in S3",
            r.events_landed.to_string(),
            format!(
                "{} rows in {} objects",
                report.landed.rows, report.landed.objects
            ),
        ),
        (
            "  objects Firehose wrote",
            report.delivery.objects.to_string(),
            delivery_note(&report.delivery),
        ),
        plain("  missing", r.missing),
    ];
    if !report.restarts.is_empty() {
        rows.push((
            "  lost to a restart",
            r.lost_to_restart.to_string(),
            "sent before an emulator restart, gone with its state".to_owned(),
        ));
    }
    rows.push(plain("  unexpected", r.unexpected));
    rows.push((
        "  duplicates",
        r.duplicates.to_string(),
        format!(
            "{} payloads delivered twice",
            report.subscription.redelivered_payloads
        ),
    ));
    let _ = writeln!(out, "{:<30} {:>8}", "stage", "count");
    for (stage, count, note) in rows {
        let _ = writeln!(out, "{stage:<30} {count:>8}  {note}");
    }
}

/// Why records were not shipped, with counts.
fn reasons(report: &RunReport, out: &mut String) {
    let reasons = &report.reconciliation.reasons;
    if reasons.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nnot shipped, by reason:");
    for (reason, count) in reasons {
        let _ = writeln!(out, "  {count:>6}  {reason}");
    }
}

/// Every instance with its decision and the handler's reason.
fn instances(report: &RunReport, out: &mut String) {
    let _ = writeln!(
        out,
        "\n{:<14} {:<21} {:<8} {:<10} reason",
        "instance", "id", "os", "decision"
    );
    for d in &report.instance_details {
        let _ = writeln!(
            out,
            "{:<14} {:<21} {:<8} {:<10} {}",
            d.name, d.instance_id, d.os, d.decision, d.reason
        );
    }
}

/// Lines per instance and source: generated, delivered, filtered, dropped, duplicated.
fn lines_per_source(report: &RunReport, out: &mut String) {
    let _ = writeln!(
        out,
        "\n{:<36} {:>9} {:>9} {:>8} {:>7} {:>5}",
        "lines, per instance and source", "generated", "delivered", "filtered", "dropped", "dups"
    );
    for (instance, sources) in &report.reconciliation.by_source {
        for (source, c) in sources {
            let _ = writeln!(
                out,
                "{:<36} {:>9} {:>9} {:>8} {:>7} {:>5}{}",
                format!("{instance} {source}"),
                c.lines,
                c.lines_delivered,
                c.lines_filtered,
                c.lines_dropped,
                c.duplicates,
                match c.lines_unaccounted() {
                    0 => String::new(),
                    n => format!("  {n} UNACCOUNTED"),
                }
            );
        }
    }
}

/// End-to-end latency on the simulated clock: p50 / p95 / max per stage, for all sources and
/// per source.
fn latency(report: &RunReport, out: &mut String) {
    let latency = &report.reconciliation.latency;
    if latency.events == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "\n{:<36} {:>7} {:>20} {:>20} {:>20} {:>20}",
        "latency (simulated), p50 / p95 / max",
        "events",
        "write to S3",
        "agent",
        "subscription + ETL",
        "Firehose"
    );
    let rows = std::iter::once(("all sources", &latency.all))
        .chain(latency.by_source.iter().map(|(s, l)| (s.as_str(), l)));
    for (source, l) in rows {
        let _ = writeln!(
            out,
            "{source:<36} {:>7} {:>20} {:>20} {:>20} {:>20}",
            l.events,
            spread(&l.end_to_end),
            spread(&l.agent),
            spread(&l.subscription_and_etl),
            spread(&l.firehose)
        );
    }
}

/// A spread as `p50 / p95 / max` in seconds.
fn spread(s: &crate::ledger::Spread) -> String {
    if s.count == 0 {
        return "-".to_owned();
    }
    let seconds = |ms: u32| format!("{:.0}", f64::from(ms) / 1000.0);
    format!(
        "{} / {} / {} s",
        seconds(s.p50_ms),
        seconds(s.p95_ms),
        seconds(s.max_ms)
    )
}

/// The catalog and the expected queries.
fn catalog(report: &RunReport, out: &mut String) {
    let stage = &report.query_stage;
    let Some(catalog) = &stage.catalog else {
        let _ = writeln!(
            out,
            "\ncatalog: none ({})",
            stage.error.as_deref().unwrap_or("not run")
        );
        if let Some(crawler) = &stage.crawler {
            let _ = writeln!(out, "{}", crawler.describe());
        }
        return;
    };
    let _ = writeln!(
        out,
        "\ncatalog: {} at {}: {} columns, partitioned by ({}), {} partitions, {} objects; SQL reads {} rows",
        catalog.table,
        catalog.location,
        catalog.columns.len(),
        catalog.partition_columns.join(", "),
        catalog.partitions,
        catalog.objects,
        catalog.rows
    );
    if let Some(crawler) = &stage.crawler {
        let _ = writeln!(out, "{}", crawler.describe());
    }
    let passed = stage.checks.iter().filter(|q| q.passed).count();
    let scanned: u64 = stage.checks.iter().map(|q| q.bytes_scanned).sum();
    let _ = writeln!(
        out,
        "queries checked against the ledger: {passed} of {} match; {scanned} bytes scanned",
        stage.checks.len()
    );
}

/// What the workload would cost on AWS.
fn cost(report: &RunReport, out: &mut String) {
    cost_section(out, &report.cost);
}

/// The fidelity rows that matter for this run.
fn aws_differences(report: &RunReport, out: &mut String) {
    if report.aws_differences.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nwhere this run differs from AWS (docs/fidelity.md has every row and its test):"
    );
    for d in &report.aws_differences {
        let _ = writeln!(out, "  [{}] {}: on AWS, {}", d.kind, d.area, d.aws);
        let _ = writeln!(out, "      here: {}", d.harness);
    }
}

/// The checks: how many passed, and every failed one with why.
fn failed_checks(report: &RunReport, out: &mut String) {
    let failed: Vec<_> = report.checks.iter().filter(|c| !c.passed).collect();
    let _ = writeln!(
        out,
        "\nchecks: {} passed, {} failed",
        report.checks.len() - failed.len(),
        failed.len()
    );
    for check in failed {
        let _ = writeln!(
            out,
            "  FAILED {}: expected {}, found {}",
            check.name, check.expected, check.found
        );
        for line in check.why.iter().flat_map(|why| why.lines()) {
            let _ = writeln!(out, "    {line}");
        }
    }
}

/// A few refused events, missing and unexpected events.
fn examples(report: &RunReport, out: &mut String) {
    let r = &report.reconciliation;
    for event in report.rejected_events.iter().take(5) {
        let _ = writeln!(out, "  refused event: {event}");
    }
    for example in r.missing_examples.iter().take(5) {
        let _ = writeln!(out, "  missing: {example}");
    }
    for example in r.unexpected_examples.iter().take(5) {
        let _ = writeln!(out, "  unexpected: {example}");
    }
}
