//! The audit of the applied stack, in the run's report: every property of every resource the
//! world provisioned read back and compared with the template (`stack::audit`), the Glue and
//! Athena resources at the harness's stand-ins included; what the world does not provision is
//! listed with why.

use serde::Serialize;
use stack::audit::{Finding, Verdict};

use super::checks::Check;

/// The audit's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Properties read back as declared.
    pub matched: usize,
    /// Properties the emulator is known not to hold, with why.
    pub not_held: usize,
    /// Properties that differ or are missing: `resource property: expected vs found`.
    pub failures: Vec<String>,
    /// Resources audited, by logical id.
    pub resources: Vec<String>,
    /// Resources not provisioned on this world, with why.
    pub not_provisioned: Vec<String>,
}

impl AuditReport {
    /// The outcome of `findings`.
    pub fn from_findings(findings: &[Finding]) -> Self {
        let mut report = Self::default();
        for finding in findings {
            match &finding.verdict {
                Verdict::Match => report.matched += 1,
                Verdict::NotHeld(_) => report.not_held += 1,
                Verdict::NotProvisioned(why) => report
                    .not_provisioned
                    .push(format!("{} ({}): {why}", finding.resource, finding.kind)),
                Verdict::Differs | Verdict::Missing => report.failures.push(finding.to_string()),
            }
            let audited = !matches!(finding.verdict, Verdict::NotProvisioned(_));
            if audited && !report.resources.contains(&finding.resource) {
                report.resources.push(finding.resource.clone());
            }
        }
        report
    }

    /// The run's check: nothing differs and nothing is missing.
    pub fn check(&self) -> Check {
        Check::count(
            "the audit reads every applied property back as declared",
            0,
            self.failures.len(),
            "differ or missing",
        )
        .why((!self.failures.is_empty()).then(|| self.failures.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(resource: &str, verdict: Verdict) -> Finding {
        Finding {
            resource: resource.into(),
            kind: "AWS::Athena::WorkGroup".into(),
            property: "Name".into(),
            expected: "\"ccp-logs\"".into(),
            actual: Some("\"other\"".into()),
            verdict,
        }
    }

    #[test]
    fn a_differing_property_fails_the_check_and_is_named() {
        let clean = AuditReport::from_findings(&[finding("AthenaWorkGroup", Verdict::Match)]);
        assert!(clean.check().passed);
        assert_eq!(clean.resources, ["AthenaWorkGroup"]);
        let drifted = AuditReport::from_findings(&[
            finding("AthenaWorkGroup", Verdict::Match),
            finding("AthenaWorkGroup", Verdict::Differs),
        ]);
        let check = drifted.check();
        assert!(!check.passed);
        assert!(check.why.unwrap().contains("AthenaWorkGroup"));
    }
}
