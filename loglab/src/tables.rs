//! `loglab catalog` and `loglab query`: the delivered table of a run (its saved copy under
//! `.loglab/runs/<scenario>/bucket/`) or of any bucket or folder, catalogued as Athena's
//! catalog would have it, queried with SQL.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use harness::catalog;
use harness::scenario::Scenario;
use lake::output::{self, Format};
use lake::partitions::Layout;
use stack::{Stack, StackDefinition};

/// Where runs keep their reports and the copy of their bucket.
pub const RUNS_DIR: &str = ".loglab/runs";

/// Which data to read.
#[derive(Debug, Args)]
pub struct TableArgs {
    /// A run's folder (`.loglab/runs/<scenario>`); the latest run when neither this nor
    /// --location is given.
    #[arg(long, conflicts_with = "location")]
    run: Option<PathBuf>,
    /// Any table root instead: `s3://bucket/prefix/` (on --endpoint, or AWS), or a folder.
    #[arg(long)]
    location: Option<String>,
    /// The emulator holding an `s3://` location (AWS when absent).
    #[arg(long)]
    endpoint: Option<String>,
    /// Region of an `s3://` location.
    #[arg(long, default_value = "us-east-1")]
    region: String,
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    /// A bordered table.
    Table,
    /// CSV with a header.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// The most recently finished run.
fn latest_run() -> anyhow::Result<PathBuf> {
    let mut runs: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(RUNS_DIR)
        .with_context(|| {
            format!("no runs in {RUNS_DIR}: run a scenario first (loglab run scenarios/quickstart.toml), or give --location")
        })?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let report = entry.path().join("report.json");
            let modified = std::fs::metadata(&report).ok()?.modified().ok()?;
            Some((modified, entry.path()))
        })
        .collect();
    runs.sort();
    runs.pop()
        .map(|(_, path)| path)
        .with_context(|| format!("no finished run in {RUNS_DIR}"))
}

/// The stack definition a run used (from the scenario its report names).
fn run_definition(run: &Path) -> anyhow::Result<StackDefinition> {
    let report_path = run.join("report.json");
    let text = std::fs::read_to_string(&report_path)
        .with_context(|| format!("reading {}", report_path.display()))?;
    let report: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a run report", report_path.display()))?;
    let Some(scenario) = report["scenario_file"].as_str() else {
        bail!("{} names no scenario_file", report_path.display());
    };
    // The path as `loglab run` was given it: relative to where it ran, which is the folder
    // holding .loglab/ unless --out moved the run elsewhere.
    let mut path = PathBuf::from(scenario);
    if !path.exists() {
        path = run.join("../../..").join(scenario);
    }
    let loaded = Scenario::load(&path)
        .with_context(|| format!("loading {scenario}, the scenario of {}", run.display()))?;
    Ok(loaded.stack.definition)
}

/// Opens the table the arguments name.
async fn open(
    args: &TableArgs,
    definition_path: &Path,
) -> anyhow::Result<(lake::Lake, lake::TableEntry, Layout)> {
    let (location, definition) = match &args.location {
        Some(text) => {
            let definition = Stack::load(definition_path)?.definition;
            let location = catalog::parse_location(text, &args.region, args.endpoint.as_deref())?;
            (location, definition)
        }
        None => {
            let run = match &args.run {
                Some(run) => run.clone(),
                None => latest_run()?,
            };
            let definition = run_definition(&run)?;
            let folder = run
                .join("bucket")
                .join(catalog::table_root(&definition.firehose.prefix));
            let location = catalog::parse_location(&folder.to_string_lossy(), &args.region, None)
                .with_context(|| format!("the bucket copy of run {}", run.display()))?;
            (location, definition)
        }
    };
    let options = catalog::crawl_options(&definition, &location.root);
    let layout = options.layout;
    let (lake, entry) = catalog::open(&location, &options).await?;
    Ok((lake, entry, layout))
}

/// `loglab catalog`.
pub async fn catalog(args: &TableArgs, definition_path: &Path) -> anyhow::Result<ExitCode> {
    let (_, entry, layout) = open(args, definition_path).await?;
    print!("{}", catalog::describe(&entry, layout));
    Ok(ExitCode::SUCCESS)
}

/// `loglab query`.
pub async fn query(
    sql: &str,
    args: &TableArgs,
    format: OutputFormat,
    definition_path: &Path,
) -> anyhow::Result<ExitCode> {
    let (lake, _, _) = open(args, definition_path).await?;
    let result = match lake.query(sql).await {
        Ok(result) => result,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    let format = match format {
        OutputFormat::Table => Format::Table,
        OutputFormat::Csv => Format::Csv,
        OutputFormat::Json => Format::Json,
    };
    println!("{}", output::render(&result, format)?.trim_end());
    if matches!(format, Format::Table) {
        eprintln!("({} rows)", result.row_count());
    }
    Ok(ExitCode::SUCCESS)
}
