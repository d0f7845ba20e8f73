//! `loglab redrive`: a deployed function's dead letters sent back to it after a fix
//! ([`stack::redrive`]), on AWS or an emulator (`AWS_ENDPOINT_URL`).

use std::process::ExitCode;

/// `loglab redrive`'s arguments.
#[derive(Debug, clap::Args)]
pub struct RedriveArgs {
    /// The function whose dead-letter queue (`<function>-dead-letters`) is read.
    #[arg(long)]
    pub function: String,
    /// Most messages to send back.
    #[arg(long, default_value_t = 1000)]
    pub max: usize,
    /// Count the messages, send nothing back and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Region (the usual configuration's when absent).
    #[arg(long)]
    pub region: Option<String>,
}

/// Receives the dead letters, invokes the function asynchronously with each and deletes what
/// was accepted; exit status 1 when any is left in the queue.
pub async fn redrive(args: &RedriveArgs) -> anyhow::Result<ExitCode> {
    let mut loader = pipeline::aws_sdk::defaults();
    if let Some(region) = &args.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let config = loader.load().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let lambda = aws_sdk_lambda::Client::new(&config);
    let done =
        stack::redrive::redrive(&sqs, &lambda, &args.function, args.max, args.dry_run).await?;
    if args.dry_run {
        println!(
            "{}: {} dead letters (dry run: nothing sent back, nothing deleted)",
            done.queue, done.received
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}: {} dead letters received, {} sent back to {} (asynchronous invocations) and deleted",
        done.queue, done.received, done.sent_back, args.function
    );
    for failure in &done.failed {
        println!("  left in the queue: {failure}");
    }
    Ok(if done.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
