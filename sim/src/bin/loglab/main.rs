//! `loglab`: the command-line tool. Thin over the `sim` and `pipeline` libraries.
#![allow(
    clippy::print_stdout,
    reason = "a command-line tool prints its results"
)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use pipeline::stack::template::{self, LOCALSTACK_UNSUPPORTED};
use pipeline::stack::{Placement, Stack};
use sim::backend::{self, BackendChoice, BackendOptions};
use sim::run::{RunOptions, report};
use sim::scenario::Scenario;
use sim::stack::audit::{self, Origin, Verdict};
use sim::stack::provision::{self, Clients, Outcome};
use sim::stack::{Deployment, deploy};

mod tables;

/// Log pipeline harness: check, render and deploy the stack definition; provision and audit it
/// on an emulator.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The stack definition.
    #[arg(long, global = true, default_value = "pipeline.toml")]
    definition: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate the stack definition; every broken rule is printed with its key.
    Check,
    /// Render the CloudFormation template.
    Render {
        /// Where to write it.
        #[arg(long, default_value = "deploy/template.json")]
        out: PathBuf,
        /// Fail if the file differs from what the definition renders to, instead of writing.
        #[arg(long)]
        check: bool,
    },
    /// Apply the definition to an emulator through the SDK (idempotent), then audit it.
    Provision {
        /// auto, container, host or endpoint=URL.
        #[arg(long, default_value = "auto")]
        backend: BackendChoice,
        /// Region to provision in.
        #[arg(long, default_value = "us-east-1")]
        region: String,
    },
    /// Replay a scenario end to end: provision, launch the fleet, onboard, ship, deliver, read
    /// the bucket back and reconcile it with the ledger. Exit status 1 on any mismatch.
    Run {
        /// The scenario file (scenarios/quickstart.toml, scenarios/mixed-fleet.toml, …).
        scenario: PathBuf,
        /// auto, container, host or endpoint=URL.
        #[arg(long, default_value = "auto")]
        backend: BackendChoice,
        /// Seed of every random choice (the scenario's own when absent).
        #[arg(long)]
        seed: Option<u64>,
        /// Folder for the run's report.json, junit.xml, ledger.ndjson (every record written,
        /// its fate, each sent event and whether the filter passes it) and the copy of the
        /// bucket that `loglab query` reads [default: .loglab/runs/<scenario name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bars.
        #[arg(long)]
        quiet: bool,
    },
    /// Show the delivered table as the catalog has it: columns, partitions, objects.
    Catalog {
        #[command(flatten)]
        table: tables::TableArgs,
    },
    /// Run SQL (Athena's dialect, on DataFusion) over the delivered table, `ccp_logs.logs`
    /// (or `logs`). Exit status 2 on bad SQL, with the error and where.
    Query {
        /// The SQL.
        sql: String,
        #[command(flatten)]
        table: tables::TableArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: tables::OutputFormat,
    },
    /// Read every provisioned resource back and compare it with the definition.
    Audit {
        /// endpoint=URL of the emulator that was provisioned (or auto/container/host to
        /// provision a fresh one first).
        #[arg(long)]
        backend: BackendChoice,
        /// Region.
        #[arg(long, default_value = "us-east-1")]
        region: String,
    },
    /// Package the functions, upload them, and create or update the stack through a
    /// CloudFormation change set (AWS credentials from the usual chain).
    Deploy {
        /// The stack's name.
        #[arg(long, default_value = "ccp-log-pipeline")]
        stack_name: String,
        /// Directory holding the `etl-lambda` and `onboard-lambda` binaries (built for Amazon
        /// Linux 2023; docs/stack.md says how).
        #[arg(long)]
        functions_dir: PathBuf,
        /// Bucket for the function packages (created if missing).
        #[arg(long)]
        code_bucket: String,
        /// Show the change set and delete it instead of executing it.
        #[arg(long)]
        dry_run: bool,
        /// Deploy to an emulator instead of AWS (auto, container, host or endpoint=URL): the
        /// resource types it cannot create are left out and listed.
        #[arg(long)]
        emulator: Option<BackendChoice>,
        /// Region (for --emulator; AWS uses the usual configuration).
        #[arg(long, default_value = "us-east-1")]
        region: String,
    },
}

/// Copies the run's delivered objects into `out/bucket/` before the emulator goes.
async fn copy_bucket(
    loaded: &sim::scenario::LoadedScenario,
    endpoint: &str,
    out: &Path,
) -> anyhow::Result<(usize, u64)> {
    let definition = &loaded.stack.definition;
    let placement = Placement::localstack(&loaded.scenario.region);
    let names = loaded.stack.names(&placement);
    let location = sim::athena::bucket_location(
        &names.bucket,
        definition,
        &loaded.scenario.region,
        Some(endpoint),
    )?;
    let folder = out.join("bucket");
    if folder.exists() {
        std::fs::remove_dir_all(&folder)
            .with_context(|| format!("clearing {}", folder.display()))?;
    }
    Ok(sim::athena::copy_to_folder(&location, &folder).await?)
}

/// report.json, junit.xml and ledger.ndjson of a run.
fn write_run_files(finished: &sim::run::Run, out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let report_path = out.join("report.json");
    std::fs::write(
        &report_path,
        serde_json::to_string_pretty(&finished.report)?,
    )
    .with_context(|| format!("writing {}", report_path.display()))?;
    let junit_path = out.join("junit.xml");
    std::fs::write(&junit_path, sim::run::junit::render(&finished.report))
        .with_context(|| format!("writing {}", junit_path.display()))?;
    let ledger_path = out.join("ledger.ndjson");
    let file = std::fs::File::create(&ledger_path)
        .with_context(|| format!("creating {}", ledger_path.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    finished
        .write_ledger(&mut writer)
        .and_then(|()| std::io::Write::flush(&mut writer))
        .with_context(|| format!("writing {}", ledger_path.display()))?;
    println!(
        "reports: {}, {}, {}",
        report_path.display(),
        junit_path.display(),
        ledger_path.display()
    );
    Ok(())
}

fn load(path: &Path) -> anyhow::Result<Stack> {
    Ok(Stack::load(path)?)
}

/// Errors are printed as one message (with their causes), never as a backtrace: they are
/// about the user's input or environment, not about this program.
#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match args.command {
        Command::Check => {
            let stack = load(&args.definition)?;
            let names = stack.names(&Placement {
                account_id: "<AccountId>".into(),
                region: "<Region>".into(),
            });
            println!("{}: valid", args.definition.display());
            println!("  log group       {}", names.log_group);
            println!("  bucket          {}", names.bucket);
            println!("  delivery stream {}", names.delivery_stream);
            println!(
                "  filter pattern  {:?}",
                stack.definition.logs.filter_pattern
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Render { out, check } => {
            let rendered = template::render(&load(&args.definition)?).to_json_pretty();
            if check {
                let stored = std::fs::read_to_string(&out)
                    .with_context(|| format!("reading {}", out.display()))?;
                if stored != rendered {
                    bail!(
                        "{} is stale: run `loglab render --out {}`",
                        out.display(),
                        out.display()
                    );
                }
                println!("{} is current", out.display());
            } else {
                std::fs::write(&out, rendered)
                    .with_context(|| format!("writing {}", out.display()))?;
                println!("wrote {}", out.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Provision { backend, region } => {
            let stack = load(&args.definition)?;
            let emulator = backend::start(&backend, &BackendOptions::default()).await?;
            println!("emulator: {} ({})", emulator.endpoint, emulator.kind);
            let result = provision_and_audit(&stack, &emulator.endpoint, &region, true).await;
            emulator.stop().await;
            result
        }
        Command::Catalog { table } => tables::catalog(&table, &args.definition).await,
        Command::Query { sql, table, format } => {
            tables::query(&sql, &table, format, &args.definition).await
        }
        Command::Run {
            scenario,
            backend,
            seed,
            out,
            quiet,
        } => {
            let loaded = Scenario::load(&scenario)?;
            let emulator = backend::start(&backend, &BackendOptions::default()).await?;
            eprintln!("emulator: {} ({})", emulator.endpoint, emulator.kind);
            let config = backend::sdk_config(&emulator.endpoint, &loaded.scenario.region).await;
            let options = RunOptions {
                seed,
                progress: !quiet,
            };
            let result = sim::run::run(&loaded, &config, &options).await;
            let out =
                out.unwrap_or_else(|| Path::new(tables::RUNS_DIR).join(&loaded.scenario.name));
            let copied = match &result {
                Ok(_) => Some(copy_bucket(&loaded, &emulator.endpoint, &out).await),
                Err(_) => None,
            };
            emulator.stop().await;
            let finished = result?;
            let run_report = &finished.report;
            print!("{}", report::summary(run_report));
            write_run_files(&finished, &out)?;
            match copied {
                Some(Ok((objects, bytes))) => println!(
                    "bucket copy: {objects} objects, {bytes} bytes in {} (loglab query reads it)",
                    out.join("bucket").display()
                ),
                Some(Err(error)) => println!("bucket copy failed: {error:#}"),
                None => {}
            }
            Ok(if run_report.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Audit { backend, region } => {
            let stack = load(&args.definition)?;
            let emulator = backend::start(&backend, &BackendOptions::default()).await?;
            let provision_first = !matches!(backend, BackendChoice::Endpoint(_));
            let result =
                provision_and_audit(&stack, &emulator.endpoint, &region, provision_first).await;
            emulator.stop().await;
            result
        }
        Command::Deploy {
            stack_name,
            functions_dir,
            code_bucket,
            dry_run,
            emulator,
            region,
        } => {
            let stack = load(&args.definition)?;
            let full = template::render(&stack);
            let Some(choice) = emulator else {
                let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                return run_deploy(
                    &config,
                    &stack_name,
                    &full,
                    &functions_dir,
                    &code_bucket,
                    dry_run,
                )
                .await;
            };
            let running = backend::start(&choice, &BackendOptions::default()).await?;
            let (subset, left_out) = full.without(&LOCALSTACK_UNSUPPORTED);
            println!(
                "emulator: {} ({}); left out (unsupported there, or referring to what is): {}",
                running.endpoint,
                running.kind,
                left_out.join(", ")
            );
            let config = backend::sdk_config(&running.endpoint, &region).await;
            let mut result = run_deploy(
                &config,
                &stack_name,
                &subset,
                &functions_dir,
                &code_bucket,
                dry_run,
            )
            .await;
            if matches!(result, Ok(ExitCode::SUCCESS)) && !dry_run {
                result = audit_stack(&stack, &config, &stack_name, &region, left_out).await;
            }
            running.stop().await;
            result
        }
    }
}

async fn run_deploy(
    config: &aws_config::SdkConfig,
    stack_name: &str,
    template: &template::Template,
    functions_dir: &Path,
    code_bucket: &str,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    );
    let region = config.region().map(ToString::to_string).unwrap_or_default();
    let mut parameters = deploy::upload_functions(&s3, code_bucket, &region, functions_dir).await?;
    parameters.push((
        "FunctionArchitecture".to_owned(),
        std::env::consts::ARCH.replace("aarch64", "arm64"),
    ));
    let cfn = aws_sdk_cloudformation::Client::new(config);
    let report = deploy::deploy(&cfn, stack_name, template, &parameters, dry_run).await?;
    if report.changes.is_empty() {
        println!("{stack_name}: no changes");
    } else {
        println!(
            "{stack_name}: change set{}",
            if dry_run {
                " (dry run, not executed)"
            } else {
                ""
            }
        );
        for change in &report.changes {
            println!(
                "  {:<7} {:<32} {:<40} {}",
                change.action,
                change.resource,
                change.kind,
                if change.replacement.is_empty() {
                    String::new()
                } else {
                    format!("replacement: {}", change.replacement)
                }
            );
        }
    }
    for (key, value) in &report.outputs {
        println!("  output {key} = {value}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn provision_and_audit(
    stack: &Stack,
    endpoint: &str,
    region: &str,
    apply: bool,
) -> anyhow::Result<ExitCode> {
    let config = backend::sdk_config(endpoint, region).await;
    let deployment = Deployment::new(stack, &Placement::localstack(region));
    let clients = Clients::new(&config, &deployment);
    if apply {
        println!("apply:");
        for applied in provision::apply(&clients, &deployment).await? {
            let what = match &applied.outcome {
                Outcome::Created => "created".to_owned(),
                Outcome::Updated(properties) => format!("updated {}", properties.join(", ")),
                Outcome::Unchanged => "unchanged".to_owned(),
                Outcome::Skipped(why) => format!("skipped: {why}"),
            };
            println!("  {:<28} {:<38} {what}", applied.id, applied.kind);
        }
    }
    let findings = audit::audit(&clients, &deployment, &Origin::Provisioned).await?;
    Ok(print_audit(&findings))
}

/// Audits what a CloudFormation deploy made on an emulator against the definition.
async fn audit_stack(
    stack: &Stack,
    config: &aws_config::SdkConfig,
    stack_name: &str,
    region: &str,
    left_out: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let mut deployment = Deployment::new(stack, &Placement::localstack(region));
    let cfn = aws_sdk_cloudformation::Client::new(config);
    deployment.use_role_names(&deploy::physical_ids(&cfn, stack_name, "AWS::IAM::Role").await?);
    let clients = Clients::new(config, &deployment);
    let findings =
        audit::audit(&clients, &deployment, &Origin::CloudFormation { left_out }).await?;
    Ok(print_audit(&findings))
}

fn print_audit(findings: &[audit::Finding]) -> ExitCode {
    let count = |f: fn(&Verdict) -> bool| findings.iter().filter(|x| f(&x.verdict)).count();
    println!("audit:");
    for finding in findings
        .iter()
        .filter(|f| !matches!(f.verdict, Verdict::Match))
    {
        println!("  {finding}");
    }
    println!(
        "audit: {} properties match, {} differ, {} missing, {} not held by the emulator, {} resources not provisioned",
        count(|v| matches!(v, Verdict::Match)),
        count(|v| matches!(v, Verdict::Differs)),
        count(|v| matches!(v, Verdict::Missing)),
        count(|v| matches!(v, Verdict::NotHeld(_))),
        count(|v| matches!(v, Verdict::NotProvisioned(_))),
    );
    if findings.iter().any(audit::Finding::is_failure) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
