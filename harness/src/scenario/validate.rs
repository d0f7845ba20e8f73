//! Every rule a scenario breaks on its own (before its stack is known), each as an [`Issue`]
//! with its key, the value as written, the rule and what would be valid.

use std::collections::BTreeSet;
use std::path::Path;

use pipeline::agent_config::EventLevel;
use pipeline::cloudwatch_logs::PUT_LOG_EVENTS_MAX_AGE_MS;
use stack::Issue;

use super::rules::{MAX_INSTANCES, MAX_PER_MINUTE, MAX_SPEED, MAX_TAG_KEY_LEN, is_valid_tag_key};
use super::{FleetGroup, GeneratorKind, Os, Scenario, SourceProfile};

impl Scenario {
    /// Every rule the scenario breaks on its own (before its stack is known), each with its key,
    /// the value as written, the rule and what would be valid; `base` locates corpus files.
    pub fn issues(&self, base: &Path) -> Vec<Issue> {
        let mut issues = Issues::default();
        self.run_issues(&mut issues);
        let total = self.fleet_issues(&mut issues);
        self.profile_issues(&mut issues, base);
        self.fault_issues(&mut issues, base);
        self.expect_issues(&mut issues, total);
        issues.0
    }

    fn run_issues(&self, issues: &mut Issues) {
        if self.name.trim().is_empty() {
            issues.add(
                "name",
                "\"\"",
                "must not be empty",
                "a short name for reports",
            );
        }
        let duration = format!("\"{}\"", self.duration);
        if self.duration.0.is_zero() {
            issues.add(
                "duration",
                &duration,
                "must be longer than 0",
                "for example \"5m\"",
            );
        }
        if self.duration.as_millis() >= PUT_LOG_EVENTS_MAX_AGE_MS {
            issues.add(
                "duration",
                &duration,
                "must be shorter than 14 days: PutLogEvents rejects older events",
                "less than 14d",
            );
        }
        if !(1..=MAX_SPEED).contains(&self.speed) {
            issues.add(
                "speed",
                self.speed,
                "simulated seconds per real second",
                format!("1 to {MAX_SPEED}"),
            );
        }
        if !(0.0..=1.0).contains(&self.subscription.redeliver) {
            issues.add(
                "subscription.redeliver",
                self.subscription.redeliver,
                "a share of payloads",
                "0 to 1",
            );
        }
    }

    /// The fleet's rules; returns its instance count.
    fn fleet_issues(&self, issues: &mut Issues) -> usize {
        if self.fleet.is_empty() {
            issues.add(
                "fleet",
                "[]",
                "needs at least one [[fleet]] group",
                "one or more groups",
            );
        }
        let total: usize = self.fleet.iter().map(|g| g.count).sum();
        if total > MAX_INSTANCES {
            issues.add(
                "fleet",
                format!("{total} instances"),
                "too many instances",
                format!("at most {MAX_INSTANCES}"),
            );
        }
        let mut names = BTreeSet::new();
        for (i, group) in self.fleet.iter().enumerate() {
            let key = |field: &str| format!("fleet[{i}].{field}");
            let name = format!("\"{}\"", group.name);
            if group.name.is_empty()
                || !group
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                issues.add(
                    key("name"),
                    &name,
                    "names instances",
                    "letters, digits and `-` only",
                );
            }
            if !names.insert(group.name.as_str()) {
                issues.add(key("name"), &name, "is used twice", "a name per group");
            }
            if group.count == 0 {
                issues.add(key("count"), 0, "must be at least 1", "1 or more");
            }
            if group.launch_at >= self.duration {
                issues.add(
                    key("launch_at"),
                    format!("\"{}\"", group.launch_at),
                    format!("is not before the end of the run ({})", self.duration),
                    format!("less than {}", self.duration),
                );
            }
            let steps = i64::try_from(group.count.saturating_sub(1)).unwrap_or(i64::MAX);
            let last_launch_ms = group
                .launch_at
                .as_millis()
                .saturating_add(group.launch_every.as_millis().saturating_mul(steps));
            if group.launch_at < self.duration && last_launch_ms >= self.duration.as_millis() {
                issues.add(
                    key("launch_every"),
                    format!("\"{}\"", group.launch_every),
                    format!(
                        "the group's last instance would launch at {} ms, not before the end of the run ({}): it would never register or ship",
                        last_launch_ms, self.duration
                    ),
                    "a shorter launch_every, fewer instances, or a longer duration",
                );
            }
            for tag in group.tags.keys().filter(|t| !is_valid_tag_key(t)) {
                issues.add(
                    key("tags"),
                    format!("\"{tag}\""),
                    "not an EC2 tag key",
                    format!("1 to {MAX_TAG_KEY_LEN} characters, not starting with `aws:`"),
                );
            }
            self.group_profile_issues(issues, &key("profile"), group);
        }
        total
    }

    fn group_profile_issues(&self, issues: &mut Issues, key: &str, group: &FleetGroup) {
        let value = format!("\"{}\"", group.profile);
        let Some(sources) = self.profiles.get(&group.profile) else {
            issues.add(
                key,
                &value,
                "is not a profile",
                format!(
                    "one of: {}",
                    self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
            return;
        };
        for source in sources {
            if source.generator.is_windows_events() && group.os == Os::Linux {
                issues.add(
                    key,
                    &value,
                    format!(
                        "writes Windows events ({}), but the group is Linux",
                        source.source
                    ),
                    "a profile of files for a Linux group",
                );
            }
        }
    }

    fn profile_issues(&self, issues: &mut Issues, base: &Path) {
        for (name, sources) in &self.profiles {
            for (i, source) in sources.iter().enumerate() {
                let key = |field: &str| format!("profiles.{name}[{i}].{field}");
                if !(source.per_minute > 0.0 && source.per_minute <= MAX_PER_MINUTE) {
                    issues.add(
                        key("per_minute"),
                        source.per_minute,
                        "lines per simulated minute",
                        format!("above 0, at most {MAX_PER_MINUTE}"),
                    );
                }
                if !(0.0..=1.0).contains(&source.multi_line) {
                    issues.add(key("multi_line"), source.multi_line, "a share", "0 to 1");
                }
                if source.multi_line > 0.0 && source.generator.is_windows_events() {
                    issues.add(
                        key("multi_line"),
                        source.multi_line,
                        "Windows events are whole XML documents; multi-line applies to files",
                        "0 for a Windows generator",
                    );
                }
                if let Some(levels) = &source.levels {
                    level_issues(
                        issues,
                        &key("levels"),
                        levels,
                        source.generator.windows_levels(),
                    );
                }
                for (b, burst) in source.bursts.iter().enumerate() {
                    if burst.at >= self.duration {
                        issues.add(
                            format!("profiles.{name}[{i}].bursts[{b}].at"),
                            format!("\"{}\"", burst.at),
                            "is not before the end of the run",
                            format!("less than {}", self.duration),
                        );
                    }
                }
                corpus_issues(issues, &key("corpus"), source, base);
            }
        }
    }

    fn fault_issues(&self, issues: &mut Issues, base: &Path) {
        for (key, file) in [
            ("faults.linux_parameter", &self.faults.linux_parameter),
            ("faults.windows_parameter", &self.faults.windows_parameter),
        ] {
            if let Some(file) = file.as_ref().filter(|f| !base.join(f).is_file()) {
                issues.add(
                    key,
                    format!("{:?}", file.display().to_string()),
                    format!("{} is not a file", base.join(file).display()),
                    "an agent configuration file, relative to the scenario",
                );
            }
        }
        for (i, rule) in self.faults.inject.iter().enumerate() {
            for (field, value, rule, valid) in rule.issues(self.duration) {
                issues.add(format!("faults.inject[{i}].{field}"), value, rule, valid);
            }
        }
        for (i, poison) in self.faults.poison.iter().enumerate() {
            for (field, value, rule, valid) in poison.issues(self.duration) {
                issues.add(format!("faults.poison[{i}].{field}"), value, rule, valid);
            }
        }
        for (i, loss) in self.faults.lose.iter().enumerate() {
            if loss.count == 0 {
                issues.add(
                    format!("faults.lose[{i}].count"),
                    "0".to_owned(),
                    "a silent loss of nothing proves nothing".to_owned(),
                    "at least 1".to_owned(),
                );
            }
        }
        for (i, outage) in self.faults.outage.iter().enumerate() {
            for (field, value, rule, valid) in outage.issues(self.duration) {
                issues.add(format!("faults.outage[{i}].{field}"), value, rule, valid);
            }
        }
        for (i, restart) in self.faults.restart.iter().enumerate() {
            for (field, value, rule, valid) in restart.issues(self.duration) {
                issues.add(format!("faults.restart[{i}].{field}"), value, rule, valid);
            }
        }
    }

    fn expect_issues(&self, issues: &mut Issues, total: usize) {
        let expect = &self.expect;
        for (field, value) in [
            ("launched", expect.launched),
            ("onboarded", expect.onboarded),
            ("skipped", expect.skipped),
            ("failed", expect.failed),
        ] {
            if let Some(value) = value.filter(|v| *v > total) {
                issues.add(
                    format!("expect.{field}"),
                    value,
                    format!("more than the {total} instances of the fleet"),
                    format!("0 to {total}"),
                );
            }
        }
        let mut names = BTreeSet::new();
        for (i, query) in expect.queries.iter().enumerate() {
            let key = |field: &str| format!("expect.queries[{i}].{field}");
            let name = format!("\"{}\"", query.name);
            if query.name.trim().is_empty() {
                issues.add(
                    key("name"),
                    &name,
                    "must not be empty",
                    "a name for the check",
                );
            } else if !names.insert(query.name.as_str()) {
                issues.add(key("name"), &name, "is used twice", "a name per query");
            }
            let either = "sql (over {table}) or saved (a saved query of the stack)";
            match (&query.sql, &query.saved) {
                (Some(_), Some(_)) => {
                    issues.add(
                        key("sql"),
                        "(and saved)",
                        "give either sql or saved, not both",
                        either,
                    );
                }
                (None, None) => issues.add(key("sql"), "(missing)", "give sql or saved", either),
                (Some(sql), None) if sql.trim().is_empty() => {
                    issues.add(key("sql"), "\"\"", "must not be empty", either);
                }
                _ => {}
            }
            if query.expected.trim().is_empty() {
                issues.add(
                    key("expected"),
                    "\"\"",
                    "must not be empty",
                    "SQL over the ledger",
                );
            }
        }
    }
}

/// The issues of one scenario file, as they are found.
#[derive(Debug, Default)]
struct Issues(Vec<Issue>);

impl Issues {
    fn add(
        &mut self,
        key: impl Into<String>,
        value: impl std::fmt::Display,
        rule: impl Into<String>,
        valid: impl Into<String>,
    ) {
        self.0.push(Issue {
            key: key.into(),
            value: value.to_string(),
            rule: rule.into(),
            valid: valid.into(),
        });
    }
}

/// `levels` of a source: Windows generators only, a subset of what the generator writes.
fn level_issues(issues: &mut Issues, key: &str, levels: &[EventLevel], known: &[EventLevel]) {
    let names = |list: &[EventLevel]| list.iter().map(|l| l.name()).collect::<Vec<_>>().join(", ");
    let value = format!("[{}]", names(levels));
    if known.is_empty() {
        issues.add(
            key,
            value,
            "only Windows generators write levels",
            "no levels for files",
        );
    } else if levels.is_empty() || levels.iter().any(|l| !known.contains(l)) {
        issues.add(
            key,
            &value,
            format!("this generator writes {}", names(known)),
            "one or more of them",
        );
    }
}

/// `corpus` of a source: exactly the `corpus` generator reads one, and it must exist.
fn corpus_issues(issues: &mut Issues, key: &str, source: &SourceProfile, base: &Path) {
    let value = |file: &Path| format!("{:?}", file.display().to_string());
    match (source.generator, &source.corpus) {
        (GeneratorKind::Corpus, None) => issues.add(
            key,
            "(missing)",
            "generator `corpus` needs a corpus file",
            "a log file, relative to the scenario",
        ),
        (GeneratorKind::Corpus, Some(file)) if !base.join(file).is_file() => issues.add(
            key,
            value(file),
            format!("{} is not a file", base.join(file).display()),
            "a log file, relative to the scenario",
        ),
        (kind, Some(file)) if kind != GeneratorKind::Corpus => issues.add(
            key,
            value(file),
            "only generator `corpus` reads a corpus file",
            "no corpus for this generator",
        ),
        _ => {}
    }
}
