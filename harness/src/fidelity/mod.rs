//! The fidelity table: every AWS behaviour the harness models, with the AWS source it is
//! checked against and the test that checks it; every emulator gap the harness works around,
//! and how; every place AWS is silent and the choice made there. `docs/fidelity.md` is
//! rendered from [`ROWS`] (`harness/tests/integration/fidelity_doc.rs` fails when the file is stale or a row
//! names a test that does not exist), and `loglab run` prints the rows that matter for the
//! scenario it ran ([`relevant`]); [`EMULATORS`] sets the two emulators side by side.

mod emulators;
mod rows;

pub use emulators::{EMULATORS, EmulatorRow, VERSIONS};
pub use rows::ROWS;

/// What kind of row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// An AWS behaviour the harness or the pipeline follows, checked against AWS's source.
    Modelled,
    /// Something the emulator does not do; the harness stands in as described.
    EmulatorGap,
    /// A place where the harness still differs from AWS, named so that nobody is surprised.
    Difference,
    /// AWS's documentation is silent; the choice is ours.
    AwsSilent,
}

impl Kind {
    /// The section heading in docs/fidelity.md.
    pub fn heading(self) -> &'static str {
        match self {
            Self::Modelled => "AWS behaviours modelled, each checked against AWS's own source",
            Self::EmulatorGap => "Emulator gaps and how the harness stands in",
            Self::Difference => "Where the harness still differs from AWS",
            Self::AwsSilent => "Where AWS is silent: our choices",
        }
    }
}

/// When a row matters for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Every run.
    Always,
    /// Runs with Windows instances.
    Windows,
    /// Runs with Linux instances.
    Linux,
    /// Runs of the built artifacts (`--lambda artifacts`).
    LambdaArtifacts,
    /// Runs whose agent configuration collects journald.
    Journald,
    /// Runs where an agent cut an oversized event.
    Truncation,
    /// Runs where a record began with a line the agent would join to the previous event.
    MidEventRecords,
    /// Runs on the memory backend (`--backend memory`).
    MemoryBackend,
    /// Runs that restarted the emulator (`[[faults.restart]]`).
    Restarts,
    /// Runs on MiniStack (`--backend ministack`): its gaps, in place of LocalStack's.
    MiniStack,
    /// Not printed by runs (documentation only).
    Never,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// What kind of row.
    pub kind: Kind,
    /// The area: agent config, filter patterns, agent, Lambda, catalog, ...
    pub area: &'static str,
    /// What AWS does.
    pub aws: &'static str,
    /// What the harness (or the pipeline) does.
    pub harness: &'static str,
    /// The AWS source the behaviour is checked against (document, page, source file).
    pub source: &'static str,
    /// The test that checks it: `path/to/file.rs::function`.
    pub test: &'static str,
    /// When a run prints it.
    pub applies: Applies,
}

/// What a run looked like, for choosing the rows it prints.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunFacts {
    /// Windows instances ran.
    pub windows: bool,
    /// Linux instances ran.
    pub linux: bool,
    /// The built artifacts ran.
    pub lambda_artifacts: bool,
    /// An agent configuration collects journald.
    pub journald: bool,
    /// An agent cut an event.
    pub truncated: bool,
    /// A record began mid-event.
    pub mid_event_records: bool,
    /// The run used the memory backend: no emulator, so no emulator gaps either.
    pub memory_backend: bool,
    /// The run used MiniStack: its gaps are printed, not LocalStack's.
    pub ministack: bool,
    /// The run restarted the emulator.
    pub restarts: bool,
}

impl Applies {
    fn holds(self, facts: &RunFacts) -> bool {
        match self {
            Self::Always => true,
            Self::Windows => facts.windows,
            Self::Linux => facts.linux,
            Self::LambdaArtifacts => facts.lambda_artifacts,
            Self::Journald => facts.journald,
            Self::Truncation => facts.truncated,
            Self::MidEventRecords => facts.mid_event_records,
            Self::MemoryBackend => facts.memory_backend,
            Self::Restarts => facts.restarts,
            Self::MiniStack => facts.ministack,
            Self::Never => false,
        }
    }
}

/// The gaps and differences that matter for a run like `facts`.
pub fn relevant(facts: &RunFacts) -> Vec<&'static Row> {
    ROWS.iter()
        .filter(|row| matches!(row.kind, Kind::EmulatorGap | Kind::Difference))
        .filter(|row| !(facts.memory_backend && row.kind == Kind::EmulatorGap))
        // An emulator's gaps are its own: LocalStack's rows on LocalStack, MiniStack's there.
        .filter(|row| {
            row.kind != Kind::EmulatorGap || (row.applies == Applies::MiniStack) == facts.ministack
        })
        .filter(|row| row.applies.holds(facts))
        .collect()
}

/// docs/fidelity.md. `counts` names each conformance table kept as data and its rows.
pub fn render(counts: &[(&str, usize)]) -> String {
    let mut out = String::from(
        "# Fidelity: what the harness models of AWS, and against what\n\n\
         Generated from `harness/src/fidelity/rows.rs` by `harness/tests/integration/fidelity_doc.rs` \
         (`UPDATE_EXPECTED=1 cargo test -p harness --test integration fidelity_doc` rewrites it; the test fails \
         when this file is stale or a row names a test that does not exist). `loglab run` prints \
         the gaps and differences that matter for the scenario it runs.\n\n\
         ## Conformance tables kept as data\n\n| table | rows |\n|---|---|\n",
    );
    for (table, rows) in counts {
        out.push_str(&format!("| `{table}` | {rows} |\n"));
    }
    for kind in [
        Kind::Modelled,
        Kind::EmulatorGap,
        Kind::Difference,
        Kind::AwsSilent,
    ] {
        out.push_str(&format!(
            "\n## {}\n\n| area | AWS | harness | source | test |\n|---|---|---|---|---|\n",
            kind.heading()
        ));
        for row in ROWS.iter().filter(|r| r.kind == kind) {
            out.push_str(&format!(
                "| {} | {} | {} | {} | `{}` |\n",
                row.area,
                cell(row.aws),
                cell(row.harness),
                cell(row.source),
                row.test
            ));
        }
    }
    out.push_str(&format!(
        "\n## Emulators side by side\n\nEach behaviour the harness relies on, on both emulators \
         (`--backend host|container` runs LocalStack, `--backend ministack` MiniStack; \
         `scripts/test.sh` runs the port suites, the stack and the scenarios on both); each \
         answer is pinned by its test.\n\n\
         | area | AWS | {} | {} | tests |\n|---|---|---|---|---|\n",
        VERSIONS.0, VERSIONS.1
    ));
    for row in EMULATORS {
        let tests: Vec<String> = row.tests.split("; ").map(|t| format!("`{t}`")).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            row.area,
            cell(row.aws),
            cell(row.localstack),
            cell(row.ministack),
            tests.join("<br>")
        ));
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_print_only_the_rows_their_scenario_touches() {
        let linux_only = RunFacts {
            linux: true,
            ..RunFacts::default()
        };
        let windows = RunFacts {
            windows: true,
            ..linux_only
        };
        let printed = relevant(&linux_only);
        assert!(printed.iter().all(|r| r.applies != Applies::Windows));
        assert!(relevant(&windows).len() > printed.len());
        assert!(printed.iter().all(|r| r.kind != Kind::Modelled));
        assert!(printed.iter().any(|r| r.applies == Applies::Always));
    }
}
