//! `loglab run`: a scenario end to end on an emulator, its reports, and a copy of the bucket
//! that `loglab query` reads afterwards.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use harness::backend::{self, BackendChoice};
use harness::run::{LambdaSetup, RunOptions, report};
use harness::scenario::Scenario;

use crate::build_command::{ArchChoice, BuildArgs, ProfileChoice, artifacts_dir, workspace};
use crate::{tables, with_emulator};

/// `loglab run`'s arguments.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file (scenarios/quickstart.toml, scenarios/mixed-fleet.toml, …).
    pub scenario: PathBuf,
    /// auto, container, host, ministack (the second emulator), endpoint=URL, or memory (no
    /// emulator: the in-memory adapters behind every port, on a paused clock; for scale).
    #[arg(long, default_value = "auto")]
    pub backend: BackendChoice,
    /// Seed of every random choice (the scenario's own when absent).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Folder for the run's report.json, junit.xml, ledger.ndjson (every record written,
    /// its fate, each sent event and whether the filter passes it) and the copy of the
    /// bucket that `loglab query` reads [default: .loglab/runs/<scenario name>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// How the Lambda functions run: the handlers in this process, or the artifacts `loglab
    /// build` made, each in its own process behind cargo-lambda's Runtime API, as Lambda runs
    /// them.
    #[arg(long, value_enum, default_value = "in-process")]
    pub lambda: LambdaChoice,
    /// Which build of the artifacts (default: release when built, else fast; built first when
    /// neither is).
    #[arg(long, value_enum)]
    pub lambda_profile: Option<ProfileChoice>,
    /// A price table for the report's cost estimate, in the shipped one's form
    /// (harness/src/cost/prices.toml: us-east-1 list prices) [default: the shipped one].
    #[arg(long)]
    pub prices: Option<PathBuf>,
}

/// `--lambda`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LambdaChoice {
    /// The handlers called in this process.
    InProcess,
    /// The built bootstrap binaries, as Lambda runs them.
    Artifacts,
}

/// The artifacts a run uses: the profile asked for, else release when built, else fast (built
/// now when missing, with what it takes said first).
fn lambda_setup(args: &RunArgs) -> anyhow::Result<LambdaSetup> {
    if args.lambda == LambdaChoice::InProcess {
        return Ok(LambdaSetup::InProcess);
    }
    let built = |profile| {
        let dir = artifacts_dir(None, profile);
        dir.join(stack::artifacts::MANIFEST).exists().then_some(dir)
    };
    let dir = match args.lambda_profile {
        Some(profile) => built(profile),
        None => built(ProfileChoice::Release).or_else(|| built(ProfileChoice::Fast)),
    };
    let dir = match dir {
        Some(dir) => dir,
        None => {
            let profile = args.lambda_profile.unwrap_or(ProfileChoice::Fast);
            eprintln!(
                "no Lambda artifacts yet: building them (`loglab build --profile {}`; several minutes the first time)",
                stack::artifacts::Profile::from(profile).name()
            );
            crate::build_command::build(&BuildArgs {
                arch: ArchChoice::Auto,
                profile,
                out: None,
            })?;
            artifacts_dir(None, profile)
        }
    };
    Ok(LambdaSetup::Artifacts {
        workspace: workspace(),
        dir,
    })
}

/// Runs the scenario; exit status 1 when any check fails.
pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let loaded = Scenario::load(&args.scenario)?;
    let options = RunOptions {
        seed: args.seed,
        progress: !args.quiet,
        lambda: lambda_setup(&args)?,
        prices: args
            .prices
            .as_deref()
            .map(harness::cost::Prices::load)
            .transpose()?,
    };
    let out = out_dir(&args, &loaded);
    let (finished, copied) = if args.backend == BackendChoice::Memory {
        let loaded = loaded.clone();
        let finished = tokio::task::spawn_blocking(move || {
            harness::run::memory::run_blocking(&loaded, &options).map_err(anyhow::Error::from)
        })
        .await
        .context("the memory run stopped")??;
        let copied = copy_bucket(&finished.bucket, &out).await;
        (finished, copied)
    } else {
        let (result, copied) = with_emulator(&args.backend, async |emulator| {
            let config = backend::sdk_config(&emulator.endpoint, &loaded.scenario.region).await;
            let result = if emulator.kind == backend::BackendKind::MiniStack {
                harness::run::on_ministack(&loaded, &config, &options).await
            } else {
                harness::run::on_emulator(&loaded, &config, emulator.restarter(), &options).await
            };
            // Copied before the emulator goes.
            let copied = match &result {
                Ok(finished) => Some(copy_bucket(&finished.bucket, &out).await),
                Err(_) => None,
            };
            Ok((result, copied))
        })
        .await?;
        let Some(copied) = copied else {
            return Err(result.err().map_or_else(
                || anyhow::anyhow!("the run ended without a result"),
                anyhow::Error::from,
            ));
        };
        (result?, copied)
    };
    print!("{}", report::summary(&finished.report));
    write_run_files(&finished, &out)?;
    match copied {
        Ok((objects, bytes)) => println!(
            "bucket copy: {objects} objects, {bytes} bytes in {} (loglab query reads it)",
            out.join("bucket").display()
        ),
        Err(error) => println!("bucket copy failed: {error:#}"),
    }
    Ok(if finished.report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn out_dir(args: &RunArgs, loaded: &harness::scenario::LoadedScenario) -> PathBuf {
    args.out
        .clone()
        .unwrap_or_else(|| Path::new(tables::RUNS_DIR).join(&loaded.scenario.name))
}

/// Copies the run's delivered objects into `out/bucket/` (before the emulator goes).
async fn copy_bucket(bucket: &lake::Location, out: &Path) -> anyhow::Result<(usize, u64)> {
    let folder = out.join("bucket");
    if folder.exists() {
        std::fs::remove_dir_all(&folder)
            .with_context(|| format!("clearing {}", folder.display()))?;
    }
    Ok(harness::catalog::copy_to_folder(bucket, &folder).await?)
}

/// report.html, report.json, junit.xml and ledger.ndjson of a run.
fn write_run_files(finished: &harness::run::Run, out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let report_path = out.join("report.json");
    std::fs::write(
        &report_path,
        serde_json::to_string_pretty(&finished.report)?,
    )
    .with_context(|| format!("writing {}", report_path.display()))?;
    let junit_path = out.join("junit.xml");
    std::fs::write(
        &junit_path,
        harness::run::report::junit::render(&finished.report),
    )
    .with_context(|| format!("writing {}", junit_path.display()))?;
    let page_path = out.join("report.html");
    std::fs::write(
        &page_path,
        harness::run::report::page::render(&finished.report),
    )
    .with_context(|| format!("writing {}", page_path.display()))?;
    let ledger_path = out.join("ledger.ndjson");
    let file = std::fs::File::create(&ledger_path)
        .with_context(|| format!("creating {}", ledger_path.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    finished
        .write_ledger(&mut writer)
        .and_then(|()| std::io::Write::flush(&mut writer))
        .with_context(|| format!("writing {}", ledger_path.display()))?;
    println!(
        "reports: {}, {}, {}, {}",
        page_path.display(),
        report_path.display(),
        junit_path.display(),
        ledger_path.display()
    );
    Ok(())
}
