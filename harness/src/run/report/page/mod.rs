//! The run's report as one self-contained page (`report.html`, beside `report.json`): what a
//! person asks after a run, in pictures. When did lines land and how late; what a fault
//! window did to delivery; which instance onboarded when; the checks; where the money goes;
//! where the run differs from AWS.
//!
//! The page needs nothing but itself. There is no network, no script and no font, and its
//! content security policy forbids loading anything. The charts are SVG drawn here
//! ([`svg`]). The whole report is inlined as JSON (`<script type="application/json"
//! id="report-data">`), so the numbers behind a picture can be read without another file.

mod html;
mod sections;
mod svg;

use std::fmt::Write as _;

use super::RunReport;
use html::{escape, script_json};

/// The page's style: legible on screen and on paper, no web fonts.
const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:980px;padding:16px 24px;color:#1d2430}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d5dae1;padding-bottom:4px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;font-weight:600;color:#fff}
.verdict.passed{background:#1a7f37}.verdict.failed{background:#cf222e}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
#checks td:nth-child(2),#checks td:nth-child(3){overflow-wrap:anywhere;width:30%}.passed-cell,.failed-cell{white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#fff1f0}.passed-cell{color:#1a7f37}.failed-cell{color:#cf222e;font-weight:600}
.chart{width:100%;height:auto;display:block}
.grid{stroke:#eef0f3}.tick{font-size:11px;fill:#57606a}.axis{font-size:12px;fill:#1d2430}
.series{fill:none;stroke-width:2}.series.written{stroke:#8c959f}.series.sent{stroke:#0969da}
.series.at_firehose{stroke:#bf8700}.series.landed{stroke:#1a7f37}
.band{fill:#cf222e;fill-opacity:.35}.mark{stroke:#cf222e;stroke-dasharray:4 3;stroke-width:1.5}
.bar{fill:#0969da}
.instance .span{fill:#d0e4ff}.instance.failed .span,.instance.none .span{fill:#ffd8d3}.instance.skipped .span{fill:#eef0f3}
.moment{stroke:#fff;stroke-width:1}.moment.launched{fill:#57606a}.moment.registered{fill:#8250df}
.moment.agent_started{fill:#0969da}.moment.first_landed{fill:#1a7f37}
.legend{font-size:12px;color:#57606a;margin:2px 0 8px}.key{display:inline-block;width:14px;height:4px;margin:0 4px 2px 10px;vertical-align:middle;background:#8c959f}
.key.sent{background:#0969da}.key.at_firehose{background:#bf8700}.key.landed{background:#1a7f37}.key.band{background:#cf222e;opacity:.3;height:10px}.key.mark{background:#cf222e}
.note{color:#57606a;font-size:12px}
";

/// The page for `report`.
pub fn render(report: &RunReport) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let verdict = if report.passed { "passed" } else { "failed" };
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><title>loglab: {} {verdict}</title><style>{STYLE}</style></head><body>"#,
        escape(&report.scenario)
    );
    sections::heading(report, &mut out);
    sections::delivery(report, &mut out);
    sections::latency(report, &mut out);
    sections::onboarding(report, &mut out);
    sections::checks(report, &mut out);
    sections::cost(report, &mut out);
    sections::differences(report, &mut out);
    let json = serde_json::to_string(report)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
    let _ = write!(
        out,
        r#"<script type="application/json" id="report-data">{}</script></body></html>"#,
        script_json(&json)
    );
    out
}
