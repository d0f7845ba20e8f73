//! `loglab rows`: turns CloudWatch Logs subscription payloads into the JSON rows the ETL handler
//! delivers, without AWS: the same transform as the Lambda function, rows to stdout or a file
//! and a summary to stderr.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;
use pipeline::etl::decode::{self, LogsPayload};
use pipeline::etl::{RowBuffer, TransformOptions, TransformReport, transform_gzip};
use pipeline::time_format::IsoMillis;

/// `loglab rows`'s arguments.
#[derive(Debug, Args)]
pub struct RowsArgs {
    /// Payload files: Lambda subscription events ({"awslogs":{"data":...}}) or raw gzip
    /// payloads as Firehose and Kinesis destinations carry them; `-` reads stdin.
    pub inputs: Vec<PathBuf>,
    /// Instead of payload files, read a plain log file (one event per line) and send it
    /// through the same encoding CloudWatch Logs uses.
    #[arg(long, conflicts_with = "inputs")]
    pub from_log: Option<PathBuf>,
    /// Log stream name for --from-log (`<source>/<instance-id>` lets the ETL recover both).
    #[arg(long, default_value = "/var/log/messages/i-0123456789abcdef0")]
    pub log_stream: String,
    /// Log group name for --from-log.
    #[arg(long, default_value = "CCP-logs-Example-123456789012-us-east-1")]
    pub log_group: String,
    /// Account id for --from-log.
    #[arg(long, default_value = "123456789012")]
    pub owner: String,
    /// Write rows to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Cap on one payload's decompressed size, in bytes.
    #[arg(long, default_value_t = TransformOptions::default().max_decompressed_bytes)]
    pub max_decompressed_bytes: usize,
    /// Largest row in bytes; larger events are split into parts.
    #[arg(long, default_value_t = TransformOptions::default().max_record_bytes)]
    pub max_row_bytes: usize,
}

/// Transforms the payloads `args` names and writes their rows.
pub fn run(args: &RowsArgs) -> anyhow::Result<()> {
    let options = TransformOptions {
        max_decompressed_bytes: args.max_decompressed_bytes,
        max_record_bytes: args.max_row_bytes,
        pack_rows: false,
    };
    let payloads = if let Some(log) = &args.from_log {
        vec![(log.display().to_string(), payload_from_log(args, log)?)]
    } else if args.inputs.is_empty() {
        bail!("give payload files (or - for stdin), or --from-log FILE; see --help");
    } else {
        args.inputs
            .iter()
            .map(|path| Ok((path.display().to_string(), gzip_from_file(path)?)))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let mut out: Box<dyn std::io::Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let (mut scratch, mut rows, mut total) =
        (Vec::new(), RowBuffer::default(), TransformReport::default());
    for (name, gzip) in &payloads {
        rows.clear();
        let report = transform_gzip(gzip, &options, IsoMillis::now(), &mut scratch, &mut rows)
            .with_context(|| format!("{name}: payload rejected"))?;
        out.write_all(&rows.data).context("cannot write rows")?;
        eprintln!(
            "{name}: {} {} events -> {} rows ({} split, {} unparsed, {} control dropped)",
            report.message_type,
            report.events,
            report.rows,
            report.split_events,
            report.unparsed_events,
            report.control_messages_dropped
        );
        total.events += report.events;
        total.rows += report.rows;
    }
    out.flush().context("cannot write rows")?;
    if payloads.len() > 1 {
        eprintln!("total: {} events -> {} rows", total.events, total.rows);
    }
    Ok(())
}

/// Reads a payload file; JSON is taken as a Lambda event, anything starting 1f 8b as gzip.
fn gzip_from_file(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        let mut stdin = std::io::stdin();
        if stdin.is_terminal() {
            bail!("stdin is a terminal: pipe a payload in, or name a file");
        }
        stdin.read_to_end(&mut bytes).context("cannot read stdin")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    decode::gzip_from_lambda_event_bytes(&bytes)
        .with_context(|| format!("{}: not a Lambda subscription event", path.display()))
}

/// Builds one DATA_MESSAGE from a plain log file, one event per line, timestamps from now.
fn payload_from_log(args: &RowsArgs, path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} as UTF-8", path.display()))?;
    let payload = LogsPayload::data_message(
        &args.owner,
        &args.log_group,
        &args.log_stream,
        IsoMillis::now().epoch_millis(),
        text.lines(),
    );
    Ok(decode::gzip(&payload.to_json()))
}
