//! The stack commands: `check`, `render`, `provision`, `audit` and `deploy`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use harness::backend::{self, BackendChoice};
use stack::artifacts::Architecture;
use stack::audit::{self, Origin, Verdict};
use stack::provision::{self, Clients, Outcome};
use stack::template;
use stack::{Deployment, Placement, Stack, deploy};

use crate::with_emulator;

/// Reads and validates the definition at `path`.
pub fn load(path: &Path) -> anyhow::Result<Stack> {
    Ok(Stack::load(path)?)
}

/// `loglab check`: the definition's rules, and the names it gives.
pub fn check(definition: &Path) -> anyhow::Result<ExitCode> {
    let stack = load(definition)?;
    let names = stack.names(&Placement {
        account_id: "<AccountId>".into(),
        region: "<Region>".into(),
    });
    println!("{}: valid", definition.display());
    println!("  log group       {}", names.log_group);
    println!("  bucket          {}", names.bucket);
    println!("  delivery stream {}", names.delivery_stream);
    println!(
        "  filter pattern  {:?}",
        stack.definition.logs.filter_pattern
    );
    Ok(ExitCode::SUCCESS)
}

/// `loglab render`: writes the template, or with `check` fails when the file is stale.
pub fn render(definition: &Path, out: &Path, check: bool) -> anyhow::Result<ExitCode> {
    let rendered = template::render(&load(definition)?).to_json_pretty();
    if check {
        let stored =
            std::fs::read_to_string(out).with_context(|| format!("reading {}", out.display()))?;
        if stored != rendered {
            bail!(
                "{} is stale: run `loglab render --out {}`",
                out.display(),
                out.display()
            );
        }
        println!("{} is current", out.display());
    } else {
        std::fs::write(out, rendered).with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `loglab provision` and `loglab audit`: applies the definition to the emulator (unless it is
/// an endpoint that was provisioned before, for the audit) and audits it.
pub async fn provision(
    definition: &Path,
    choice: &BackendChoice,
    region: &str,
    apply: bool,
) -> anyhow::Result<ExitCode> {
    let stack = load(definition)?;
    with_emulator(choice, async |emulator| {
        println!("emulator: {} ({})", emulator.endpoint, emulator.kind);
        provision_and_audit(&stack, &emulator.endpoint, region, apply).await
    })
    .await
}

fn parse_architecture(name: &str) -> Result<Architecture, String> {
    Architecture::from_lambda_name(name).ok_or_else(|| format!("{name}: expected x86_64 or arm64"))
}

/// `loglab deploy`'s arguments.
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The stack's name.
    #[arg(long, default_value = "ccp-log-pipeline")]
    pub stack_name: String,
    /// Which build of the functions to upload (`loglab build --profile ...`).
    #[arg(long, value_enum, default_value = "release")]
    pub profile: crate::build_command::ProfileChoice,
    /// The artifacts directory, instead of the profile's default
    /// (<target dir>/lambda-artifacts/<profile>).
    #[arg(long)]
    pub artifacts: Option<std::path::PathBuf>,
    /// Which of the built architectures to deploy (the template's FunctionArchitecture).
    #[arg(long, default_value = "x86_64", value_parser = parse_architecture)]
    pub architecture: Architecture,
    /// Bucket for the function packages (created if missing).
    #[arg(long)]
    pub code_bucket: String,
    /// Show the change set and delete it instead of executing it.
    #[arg(long)]
    pub dry_run: bool,
    /// Deploy to an emulator instead of AWS (auto, container, host or endpoint=URL): the
    /// resource types it cannot create are left out and listed.
    #[arg(long)]
    pub emulator: Option<BackendChoice>,
    /// Region (for --emulator; AWS uses the usual configuration).
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
}

/// `loglab deploy`: to AWS, or to an emulator's CloudFormation followed by an audit.
pub async fn deploy(definition: &Path, args: &DeployArgs) -> anyhow::Result<ExitCode> {
    let stack = load(definition)?;
    let full = template::render(&stack);
    let Some(choice) = &args.emulator else {
        let config = pipeline::aws_sdk::load().await;
        return run_deploy(&config, args, &full).await;
    };
    with_emulator(choice, async |running| {
        let (subset, left_out) = full.without(&stack::resources::absent_from_emulator());
        println!(
            "emulator: {} ({}); left out (unsupported there, or referring to what is): {}",
            running.endpoint,
            running.kind,
            left_out.join(", ")
        );
        let config = backend::sdk_config(&running.endpoint, &args.region).await;
        let result = run_deploy(&config, args, &subset).await;
        if matches!(result, Ok(ExitCode::SUCCESS)) && !args.dry_run {
            return audit_stack(&stack, &config, &args.stack_name, &args.region, left_out).await;
        }
        result
    })
    .await
}

async fn run_deploy(
    config: &aws_config::SdkConfig,
    args: &DeployArgs,
    template: &template::Template,
) -> anyhow::Result<ExitCode> {
    let (stack_name, dry_run) = (args.stack_name.as_str(), args.dry_run);
    let s3 = stack::provision::path_style_s3(config);
    let region = config.region().map(ToString::to_string).unwrap_or_default();
    let dir = crate::build_command::artifacts_dir(args.artifacts.as_deref(), args.profile);
    let parameters =
        deploy::upload_functions(&s3, &args.code_bucket, &region, &dir, args.architecture).await?;
    for (key, value) in &parameters {
        println!("  parameter {key} = {value}");
    }
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
    let mut clients = Clients::new(&config, &deployment);
    // The Glue Data Catalog and Athena where they are given (`loglab up` prints them): the
    // emulators have neither.
    if let Ok(glue) = std::env::var("AWS_ENDPOINT_URL_GLUE") {
        clients = clients.with_glue_at(&config, &glue);
    }
    if let Ok(athena) = std::env::var("AWS_ENDPOINT_URL_ATHENA") {
        clients = clients.with_athena_at(&config, &athena);
    }
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
