//! `loglab verify`: the same checks as `loglab run`, against a stack deployed with `loglab
//! deploy` ([`harness::verify`]): a scenario's log workload written to the stack's log group
//! under run-unique streams, read back from its bucket and reconciled, its saved queries run on
//! Athena, the run's streams and query results deleted. Credentials, region and endpoints come
//! from the usual chain (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL` and the per-service
//! `AWS_ENDPOINT_URL_ATHENA` for an emulator and the harness's stand-ins).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use aws_credential_types::provider::ProvideCredentials as _;
use harness::scenario::Scenario;
use harness::verify::{
    self, AccountDelivers, HarnessDelivers, QueryOutcome, StackOutputs, VerifyClients,
    VerifyOptions, VerifyReport,
};
use standins::clock::SimDuration;

/// Who delivers the lines while `verify` waits.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Deliverer {
    /// The deployed stack: its subscription filter, ETL function and Firehose stream (AWS).
    Account,
    /// The harness, as on the emulator, where no subscription filter delivers (LocalStack).
    Harness,
}

/// `loglab verify`'s arguments.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The scenario whose log workload is written (its fleet's instances are not launched).
    #[arg(default_value = "scenarios/quickstart.toml")]
    pub scenario: PathBuf,
    /// The CloudFormation stack `loglab deploy` made.
    #[arg(long)]
    pub stack_name: String,
    /// Region (the usual configuration's when absent).
    #[arg(long)]
    pub region: Option<String>,
    /// How long to wait for the lines to land (Firehose buffers up to 900 s).
    #[arg(long, default_value = "20m")]
    pub wait: String,
    /// Who delivers.
    #[arg(long, value_enum, default_value = "account")]
    pub deliver: Deliverer,
    /// Print the IAM policy the caller needs for this stack and exit (nothing is written).
    #[arg(long)]
    pub print_policy: bool,
}

/// Runs the verification and prints what it found; exit status 1 on any mismatch.
pub async fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let wait = SimDuration::parse(&args.wait).with_context(|| format!("--wait {}", args.wait))?;
    let mut loaded = Scenario::load(&args.scenario)?;
    let mut loader = pipeline::aws_sdk::defaults();
    if let Some(region) = &args.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let config = loader.load().await;
    let region = config
        .region()
        .map(ToString::to_string)
        .context("no region: give --region or set AWS_REGION")?;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let outputs = StackOutputs::read(&cfn, &args.stack_name).await?;
    if args.print_policy {
        let scope = verify::policy::PolicyScope {
            partition: partition(&region),
            region: &region,
            account_id: outputs.account_id.as_deref().unwrap_or("*"),
            stack_name: &args.stack_name,
            outputs: &outputs,
            definition: &loaded.stack.definition,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&verify::policy::caller_policy(&scope))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    loaded.scenario.region.clone_from(&region);
    let clients = VerifyClients {
        cfn,
        logs: aws_sdk_cloudwatchlogs::Client::new(&config),
        s3: stack::provision::path_style_s3(&config),
        athena: aws_sdk_athena::Client::new(&config),
        bucket_store: bucket_store(&config, &outputs.bucket, &region).await?,
    };
    let run_id: u64 = rand::random();
    let options = VerifyOptions {
        loaded: &loaded,
        outputs: outputs.clone(),
        run_id,
        delivery_deadline: Duration::from_millis(wait.as_millis().max(0) as u64),
        query_deadline: Duration::from_secs(300),
    };
    println!(
        "verify: stack {} ({region}): writing {}'s log workload to {} (run {run_id:016x})",
        args.stack_name, loaded.scenario.name, outputs.log_group
    );
    let report = match args.deliver {
        Deliverer::Account => verify::verify(&clients, &options, &mut AccountDelivers).await?,
        Deliverer::Harness => {
            let account_id = stack::Placement::localstack(&region).account_id;
            let mut delivery = HarnessDelivers::new(
                clients.logs.clone(),
                aws_sdk_firehose::Client::new(&config),
                &account_id,
                &outputs.log_group,
                &stack::Deployment::new(&loaded.stack, &stack::Placement::localstack(&region))
                    .names
                    .delivery_stream,
                &loaded.stack.definition,
            )?;
            verify::verify(&clients, &options, &mut delivery).await?
        }
    };
    print_report(&report);
    let path =
        PathBuf::from(".loglab/verify").join(format!("{}-{run_id:016x}.json", args.stack_name));
    std::fs::create_dir_all(".loglab/verify")?;
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("report: {}", path.display());
    println!("{}", if report.passed() { "PASSED" } else { "FAILED" });
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The ARN partition of `region`.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The bucket's store for the read-back, with the credentials the SDK's chain resolves.
async fn bucket_store(
    config: &aws_config::SdkConfig,
    bucket: &str,
    region: &str,
) -> anyhow::Result<std::sync::Arc<dyn object_store::ObjectStore>> {
    let provider = config
        .credentials_provider()
        .context("no AWS credentials configured")?;
    let credentials = provider
        .provide_credentials()
        .await
        .context("resolving AWS credentials")?;
    let credentials = lake::store::S3Credentials {
        access_key_id: credentials.access_key_id().to_owned(),
        secret_access_key: credentials.secret_access_key().to_owned(),
        session_token: credentials.session_token().map(str::to_owned),
    };
    Ok(lake::store::s3_with_credentials(
        bucket,
        region,
        config.endpoint_url(),
        &credentials,
    )?)
}

fn print_report(report: &VerifyReport) {
    let r = &report.reconciliation;
    println!("delivered by: {}", report.delivery);
    println!(
        "lines: {} records written to {} streams; {} expected, {} landed, {} missing, {} duplicated, {} unexpected (after {:.0} s)",
        report.lines_written,
        report.streams.len(),
        r.totals.events_expected,
        r.events_landed,
        r.missing,
        r.duplicates,
        r.unexpected,
        report.waited_seconds
    );
    for example in &r.missing_examples {
        println!("  missing: {example}");
    }
    for query in &report.saved_queries {
        match &query.outcome {
            QueryOutcome::Rows(rows) => println!(
                "saved query {}: {rows} rows, {} bytes scanned",
                query.name, query.bytes_scanned
            ),
            QueryOutcome::Failed(why) => println!("saved query {}: FAILED: {why}", query.name),
        }
    }
    println!("cleaned up: {} items", report.cleaned.len());
    for item in report.cleaned.iter().filter(|c| c.starts_with("NOT")) {
        println!("  {item}");
    }
    for gap in &report.not_done {
        println!("not checked: {gap}");
    }
}
