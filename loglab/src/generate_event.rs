//! `loglab generate-event`: the events the pipeline's functions take, as JSON files that
//! `cargo lambda invoke --data-file`, `sam local invoke -e` and `aws lambda invoke --payload
//! fileb://` read, so users can drive the functions with the tools they know.
//!
//! - `cloudwatch-logs`: what a subscription filter sends the ETL function,
//!   `{"awslogs":{"data":"<base64 of gzip of the DATA_MESSAGE>"}}`, one log event per line of a
//!   log file or stdin (FACTS.md, "Event and payload shapes": the Lambda developer guide's
//!   example payload);
//! - `ec2-state-change`: what EventBridge sends the onboarding function, the EventBridge User
//!   Guide's `EC2 Instance State-change Notification` example with the given instance and state;
//! - `firehose`: the ETL's rows for a log file as Firehose hands records to a data-transformation
//!   function (`invocationId`, `deliveryStreamArn`, `region`, `records[]` of `recordId`,
//!   `approximateArrivalTimestamp` and base64 `data`: the shape of aws-lambda-go's
//!   `KinesisFirehoseEvent` and `@types/aws-lambda`'s `FirehoseTransformationEvent`). The
//!   stack has no transformation function; this is for one of your own downstream of the ETL.

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use clap::{Args, Subcommand};
use pipeline::etl::decode::{self, LogsPayload};
use pipeline::etl::{RowBuffer, TransformOptions, transform_gzip};
use pipeline::time_format::IsoMillis;

/// Largest event payload of an asynchronous invocation (how CloudWatch Logs and EventBridge
/// invoke the functions), bytes: 1 MB (FACTS.md, "Event and payload shapes").
pub const ASYNC_INVOKE_MAX_BYTES: usize = 1_048_576;

/// Which event to write.
#[derive(Debug, Subcommand)]
pub enum GenerateEvent {
    /// A CloudWatch Logs subscription payload for the ETL function, one log event per line of
    /// a log file (or stdin), events 1 ms apart from --start.
    CloudwatchLogs(LogsArgs),
    /// An EC2 state-change event as EventBridge delivers it to the onboarding function.
    Ec2StateChange(Ec2Args),
    /// The ETL's rows for a log file as Firehose hands records to a data-transformation
    /// function (one row per record).
    Firehose(FirehoseArgs),
}

/// Where the log lines come from and what stream they are on.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The log file, one event per line; `-` or nothing reads stdin.
    pub input: Option<PathBuf>,
    /// The log group (the stack's is CCP-logs-<AccountName>-<AccountId>-<Region>).
    #[arg(long, default_value = "CCP-logs-Example-123456789012-us-east-1")]
    pub log_group: String,
    /// The log stream (`<source>/<instance-id>` lets the ETL recover both).
    #[arg(long, default_value = "/var/log/messages/i-0123456789abcdef0")]
    pub log_stream: String,
    /// The account that owns the log group.
    #[arg(long, default_value = "123456789012")]
    pub owner: String,
    /// The subscription filter's name.
    #[arg(long, default_value = "ccp-logs-to-etl")]
    pub filter_name: String,
    /// The first event's time, epoch milliseconds (default: now); for `firehose`, the records'
    /// arrival too.
    #[arg(long)]
    pub start_ms: Option<i64>,
    /// Write the event here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// The instance and its new state.
#[derive(Debug, Args)]
pub struct Ec2Args {
    /// The instance id (`i-` and 8 or 17 hex digits).
    #[arg(long)]
    pub instance_id: String,
    /// The state it entered (the onboarding function acts on `running` only).
    #[arg(long, default_value = "running")]
    pub state: String,
    /// The account.
    #[arg(long, default_value = "123456789012")]
    pub account: String,
    /// The region.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// The event's time, epoch milliseconds (default: now).
    #[arg(long)]
    pub time_ms: Option<i64>,
    /// Write the event here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// The log lines, and the delivery stream the records come from.
#[derive(Debug, Args)]
pub struct FirehoseArgs {
    #[command(flatten)]
    pub logs: LogsArgs,
    /// The delivery stream's ARN.
    #[arg(
        long,
        default_value = "arn:aws:firehose:us-east-1:123456789012:deliverystream/ccp-logs-to-s3"
    )]
    pub delivery_stream_arn: String,
}

/// Writes the event `command` asks for.
pub fn run(command: &GenerateEvent) -> anyhow::Result<()> {
    let (event, output) = match command {
        GenerateEvent::CloudwatchLogs(args) => (logs_event(args)?, &args.output),
        GenerateEvent::Ec2StateChange(args) => (ec2_event(args)?, &args.output),
        GenerateEvent::Firehose(args) => (firehose_event(args)?, &args.logs.output),
    };
    let text = serde_json::to_string_pretty(&event)? + "\n";
    match output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => crate::print_stdout(&text)?,
    }
    Ok(())
}

/// The lines of `input` (stdin for `None` or `-`), refused when there are none.
fn read_lines(input: Option<&PathBuf>) -> anyhow::Result<(String, String)> {
    let (name, text) = match input {
        Some(path) if path.as_os_str() != "-" => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{}: not UTF-8 text (byte {} is invalid); CloudWatch Logs events are UTF-8",
                    path.display(),
                    e.utf8_error().valid_up_to()
                )
            })?;
            (path.display().to_string(), text)
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read stdin as UTF-8 text")?;
            ("stdin".to_owned(), text)
        }
    };
    if text.lines().all(str::is_empty) {
        bail!(
            "{name} is empty: a subscription payload carries at least one log event, one per line"
        );
    }
    Ok((name, text))
}

/// The DATA_MESSAGE of `args`' lines, as JSON.
fn data_message(args: &LogsArgs, text: &str) -> Vec<u8> {
    let start_ms = args
        .start_ms
        .unwrap_or_else(|| IsoMillis::now().epoch_millis());
    let mut payload = LogsPayload::data_message(
        &args.owner,
        &args.log_group,
        &args.log_stream,
        start_ms,
        text.lines().filter(|l| !l.is_empty()),
    );
    payload.subscription_filters = vec![args.filter_name.as_str().into()];
    payload.to_json()
}

fn logs_event(args: &LogsArgs) -> anyhow::Result<serde_json::Value> {
    let (name, text) = read_lines(args.input.as_ref())?;
    let event = pipeline::etl::payload::encode_lambda_event_at(
        &data_message(args, &text),
        pipeline::etl::payload::PAYLOAD_GZIP_LEVEL,
    );
    if event.len() > ASYNC_INVOKE_MAX_BYTES {
        bail!(
            "{name}: the event is {} bytes, over the {ASYNC_INVOKE_MAX_BYTES} bytes Lambda accepts for an asynchronous invocation (CloudWatch Logs splits larger batches); split the file",
            event.len()
        );
    }
    Ok(serde_json::from_slice(&event)?)
}

fn ec2_event(args: &Ec2Args) -> anyhow::Result<serde_json::Value> {
    if !pipeline::etl::stream_name::is_instance_id(&args.instance_id) {
        bail!(
            "--instance-id {:?}: not an EC2 instance id (i- and 8 or 17 lowercase hex digits)",
            args.instance_id
        );
    }
    let at_ms = args
        .time_ms
        .unwrap_or_else(|| IsoMillis::now().epoch_millis());
    Ok(standins::eventbridge::rule::state_change_event(
        &uuid_like(at_ms, &args.instance_id),
        &args.instance_id,
        &args.state,
        &args.account,
        &args.region,
        at_ms,
    ))
}

/// An event id in EventBridge's UUID form (the Firehose model's version-4 UUIDs), drawn from
/// the event's time and `subject`, so that the same arguments write the same event.
fn uuid_like(at_ms: i64, subject: &str) -> String {
    use rand::SeedableRng as _;
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::hash::DefaultHasher::new();
    (at_ms, subject).hash(&mut hasher);
    standins::firehose::keys::uuid_v4(&mut rand::rngs::StdRng::seed_from_u64(hasher.finish()))
}

fn firehose_event(args: &FirehoseArgs) -> anyhow::Result<serde_json::Value> {
    let (name, text) = read_lines(args.logs.input.as_ref())?;
    let gzip = decode::gzip(&data_message(&args.logs, &text));
    // With --start-ms the records arrive then too, so the same arguments write the same event.
    let arrival_ms = match args.logs.start_ms {
        Some(ms) => IsoMillis::new(ms)
            .with_context(|| format!("--start-ms {ms}: not a time in years 0000 to 9999"))?,
        None => IsoMillis::now(),
    };
    let mut rows = RowBuffer::default();
    transform_gzip(
        &gzip,
        &TransformOptions::default(),
        arrival_ms,
        &mut Vec::new(),
        &mut rows,
    )
    .with_context(|| format!("{name}: the ETL refused the payload"))?;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut start = 0;
    let records: Vec<serde_json::Value> = rows
        .ends
        .iter()
        .enumerate()
        .map(|(i, &end)| {
            let record = serde_json::json!({
                "recordId": format!("{i:056}"),
                "approximateArrivalTimestamp": arrival_ms.epoch_millis(),
                "data": engine.encode(&rows.data[start..end]),
            });
            start = end;
            record
        })
        .collect();
    let region = args
        .delivery_stream_arn
        .split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .unwrap_or("us-east-1");
    Ok(serde_json::json!({
        "invocationId": uuid_like(arrival_ms.epoch_millis(), &args.delivery_stream_arn),
        "deliveryStreamArn": args.delivery_stream_arn,
        "region": region,
        "records": records,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_eventbridges() {
        let id = uuid_like(1_700_000_000_000, "i-0123456789abcdef0");
        assert_eq!(id.len(), 36);
        assert_eq!(id.chars().nth(14), Some('4'));
        assert_eq!(id, uuid_like(1_700_000_000_000, "i-0123456789abcdef0"));
        assert_ne!(id, uuid_like(1_700_000_000_001, "i-0123456789abcdef0"));
    }
}
