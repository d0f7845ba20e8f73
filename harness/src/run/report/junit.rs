//! A run's checks as JUnit XML, for CI systems that show test results: one test suite per
//! scenario run, one test case per check, a failure carrying the expected and found values
//! and the detail (a query's rows and their difference).

use std::fmt::Write as _;

use super::RunReport;

/// Escapes text for XML attributes and content.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows no other control characters.
            c if c.is_control() && !matches!(c, '\n' | '\r' | '\t') => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// The report as a JUnit XML document.
pub fn render(report: &RunReport) -> String {
    let failures = report.checks.iter().filter(|c| !c.passed).count();
    let suite = escape(&report.scenario);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"loglab\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">",
        report.checks.len(),
        report.real_seconds
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{:.3}\">",
        report.checks.len(),
        report.real_seconds
    );
    let _ = writeln!(
        out,
        "    <properties><property name=\"seed\" value=\"{}\"/><property name=\"region\" value=\"{}\"/><property name=\"scenario_file\" value=\"{}\"/></properties>",
        report.seed,
        escape(&report.region),
        escape(&report.scenario_file)
    );
    for check in &report.checks {
        let name = escape(&check.name);
        if check.passed {
            let _ = writeln!(
                out,
                "    <testcase classname=\"loglab.{suite}\" name=\"{name}\"/>"
            );
            continue;
        }
        let message = escape(&format!(
            "expected {}, found {}",
            check.expected, check.found
        ));
        let _ = writeln!(
            out,
            "    <testcase classname=\"loglab.{suite}\" name=\"{name}\">\n      <failure message=\"{message}\">{}</failure>\n    </testcase>",
            escape(check.why.as_deref().unwrap_or(&message))
        );
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_control_characters() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(escape("x\u{1}y\nz"), "x\\u{1}y\nz");
    }
}
