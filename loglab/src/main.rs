//! `loglab`: the one command-line tool. Thin over the `stack`, `harness`, `standins`, `lake` and `pipeline`
//! libraries: each subcommand's module parses its arguments and prints what the library returns.
#![allow(
    clippy::print_stdout,
    reason = "a command-line tool prints its results"
)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use harness::backend::{self, BackendChoice, BackendOptions, Emulator};

mod agent_config;
mod build_command;
mod generate_event;
mod redrive_command;
mod rows;
mod run_command;
mod stack_commands;
mod tables;
mod test_filter;
mod up_command;
mod verify_command;

/// Log pipeline harness: check, render and deploy the stack definition; provision and audit it
/// on an emulator; replay scenarios end to end; query what landed.
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
        /// auto, container, host, ministack (the second emulator) or endpoint=URL.
        #[arg(long, default_value = "auto")]
        backend: BackendChoice,
        /// Region to provision in.
        #[arg(long, default_value = "us-east-1")]
        region: String,
    },
    /// Replay a scenario end to end: provision, launch the fleet, onboard, ship, deliver, read
    /// the bucket back and reconcile it with the ledger. Exit status 1 on any mismatch.
    Run(run_command::RunArgs),
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
    /// Start an emulator and the harness's Glue stand-in and leave them running for your own
    /// tools (the endpoints are printed) until `loglab down`.
    Up(up_command::UpArgs),
    /// Stop what `loglab up` started.
    Down,
    /// Run a scenario's log workload against a stack deployed with `loglab deploy` (the stack
    /// name and your credentials): lines written to its log group under run-unique streams,
    /// the bucket read back and reconciled, the saved queries run on Athena, the run's streams
    /// and query results deleted. Exit status 1 on any mismatch. docs/verify.md.
    Verify(verify_command::VerifyArgs),
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
    /// Build both Lambda functions for provided.al2023 with cargo-lambda: one zip each and a
    /// manifest (size, SHA-256, the newest glibc each needs) for deploy and `run --lambda
    /// artifacts`.
    Build(build_command::BuildArgs),
    /// Upload the built functions (see `build`), and create or update the stack through a
    /// CloudFormation change set (AWS credentials from the usual chain).
    Deploy(stack_commands::DeployArgs),
    /// Send a deployed function's dead letters back to it after a fix: each message of
    /// `<function>-dead-letters` invoked asynchronously, then deleted; what Lambda refuses
    /// stays in the queue, named (exit status 1). AWS credentials and endpoint from the usual
    /// chain (`AWS_ENDPOINT_URL` for an emulator).
    Redrive(redrive_command::RedriveArgs),
    /// Check CloudWatch agent configurations as the onboarding handler does, or print the
    /// pipeline's defaults.
    #[command(subcommand)]
    AgentConfig(agent_config::AgentConfigCommand),
    /// Turn CloudWatch Logs subscription payloads (or a plain log file) into the ETL's
    /// query-ready JSON rows, one per line, without AWS.
    Rows(rows::RowsArgs),
    /// Test a filter pattern offline, as `aws logs test-metric-filter` does: events one per
    /// line in, matches as JSON out (with extracted values for space-delimited patterns).
    /// Exit status 2 for an invalid pattern (with its position and rule), 1 when nothing
    /// matches.
    TestFilter(test_filter::TestFilterArgs),
    /// Write an event the pipeline's functions take, for `cargo lambda invoke --data-file`,
    /// `sam local invoke -e` or `aws lambda invoke`: a CloudWatch Logs subscription payload
    /// from a log file, an EC2 state-change event, or the ETL's rows as Firehose records.
    #[command(subcommand)]
    GenerateEvent(generate_event::GenerateEvent),
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
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let definition = args.definition.as_path();
    match args.command {
        Command::Check => stack_commands::check(definition),
        Command::Render { out, check } => stack_commands::render(definition, &out, check),
        Command::Provision { backend, region } => {
            stack_commands::provision(definition, &backend, &region, true).await
        }
        Command::Audit { backend, region } => {
            let apply = !matches!(backend, BackendChoice::Endpoint(_));
            stack_commands::provision(definition, &backend, &region, apply).await
        }
        Command::Build(build) => build_command::build(&build),
        Command::Up(args) => up_command::up(&args).await,
        Command::Down => up_command::down().await,
        Command::Verify(args) => verify_command::verify(&args).await,
        Command::Deploy(deploy) => stack_commands::deploy(definition, &deploy).await,
        Command::Redrive(redrive) => redrive_command::redrive(&redrive).await,
        Command::Run(run) => run_command::run(run).await,
        Command::Catalog { table } => tables::catalog(&table, definition).await,
        Command::Query { sql, table, format } => {
            tables::query(&sql, &table, format, definition).await
        }
        Command::AgentConfig(command) => agent_config::run(command),
        Command::Rows(rows) => rows::run(&rows).map(|()| ExitCode::SUCCESS),
        Command::TestFilter(test) => test_filter::run(&test),
        Command::GenerateEvent(event) => generate_event::run(&event).map(|()| ExitCode::SUCCESS),
    }
}

/// Writes `text` to stdout; a reader that closed early (`| head`) ends the output quietly, as
/// command-line tools do, rather than failing.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("cannot write to stdout"))
        }
        _ => Ok(()),
    }
}

/// Starts the emulator `choice` names, runs `body` with it, and stops what was started
/// whatever `body` returned: the one place the CLI stops an emulator.
async fn with_emulator<T>(
    choice: &BackendChoice,
    body: impl AsyncFnOnce(&Emulator) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let emulator = backend::start(choice, &BackendOptions::default()).await?;
    let result = body(&emulator).await;
    emulator.stop().await;
    result
}
