//! `loglab test-filter`: an offline `aws logs test-metric-filter`. One event per line in; out,
//! the matching events as JSON in TestMetricFilter's shape (`eventNumber`, `eventMessage`,
//! `extractedValues` with `$field` keys for space-delimited patterns). An invalid pattern exits
//! 2 with its position and the rule it breaks.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use pipeline::filter_pattern::FilterPattern;
use serde_json::{Map, Value, json};

/// What `loglab test-filter` reads.
#[derive(Debug, Args)]
pub struct TestFilterArgs {
    /// The filter pattern, as a subscription filter would hold it.
    pattern: String,
    /// Events, one per line; `-` for standard input.
    #[arg(long, default_value = "-")]
    events: PathBuf,
}

/// Prints the matches; exit status 2 for an invalid pattern, 1 when no event matches.
pub fn run(args: &TestFilterArgs) -> anyhow::Result<ExitCode> {
    let pattern = match FilterPattern::parse(&args.pattern) {
        Ok(pattern) => pattern,
        Err(error) => {
            eprintln!(
                "invalid filter pattern at character {}: {}",
                error.position, error.message
            );
            return Ok(ExitCode::from(2));
        }
    };
    let input: Box<dyn Read> = if args.events.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(&args.events)
                .with_context(|| format!("opening {}", args.events.display()))?,
        )
    };
    let mut matches = Vec::new();
    let mut count = 0usize;
    for (index, line) in BufReader::new(input).lines().enumerate() {
        let line = line.with_context(|| format!("reading event {}", index + 1))?;
        count += 1;
        if pattern.matches(&line) {
            matches.push(match_record(&pattern, index + 1, &line));
        }
    }
    let out = json!({ "pattern": pattern.as_str(), "events": count, "matches": matches });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(if matches.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn match_record(pattern: &FilterPattern, number: usize, message: &str) -> Value {
    let mut record = json!({ "eventNumber": number, "eventMessage": message });
    if let Some(fields) = pattern.extract_fields(message) {
        let values: Map<String, Value> = fields
            .into_iter()
            .map(|(name, value)| (format!("${name}"), Value::String(value)))
            .collect();
        record["extractedValues"] = Value::Object(values);
    }
    record
}
