//! The same checks against a deployed stack (`loglab verify`): a scenario's log workload
//! written with PutLogEvents into the stack's log group under run-unique streams
//! ([`writes`]), the wait while the account's subscription filter, ETL function and Firehose
//! deliver it, the bucket read back and reconciled with the ledger, the stack's saved queries
//! run on Athena through [`crate::athena_client`], and the run's streams and query results
//! deleted afterwards. It needs the caller's credentials and the stack's name
//! ([`outputs`]); the same code runs against an emulator and the harness's stand-ins with the
//! endpoints overridden, where the harness does the delivery the account would
//! ([`Delivery`]).
//!
//! What it does not do: launch instances or onboard them (that costs money and changes the
//! account; `loglab run` proves it on the emulator), or delete the rows it delivered (they are
//! the pipeline's data, under the bucket's lifecycle).

pub mod delivery;
pub mod outputs;
pub mod policy;
pub mod writes;

use std::collections::BTreeSet;
use std::time::Duration;

use lake::Location;
use pipeline::filter_pattern::FilterPattern;
use serde::Serialize;

use crate::athena_client;
use crate::catalog;
use crate::ledger::{Ledger, Reconciliation};
use crate::scenario::LoadedScenario;
pub use delivery::{AccountDelivers, Delivery, HarnessDelivers};
pub use outputs::StackOutputs;

/// How long before a poll of the bucket the run waits between polls.
const POLL: Duration = Duration::from_secs(10);
/// Objects older than the run's start by more than this are not the run's.
const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// Why the verification could not be carried out (a mismatch is a finding, not an error).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// An AWS call failed.
    #[error("{operation} on {target}: {message}")]
    Call {
        /// The operation.
        operation: &'static str,
        /// What it was for.
        target: String,
        /// The service's message.
        message: String,
    },
    /// The stack is not one `verify` can use.
    #[error("stack {stack}: {why}")]
    Stack {
        /// Its name.
        stack: String,
        /// Why.
        why: String,
    },
    /// The scenario's workload could not be generated.
    #[error("the scenario's workload: {0}")]
    Workload(String),
    /// The bucket could not be read back.
    #[error(transparent)]
    Landed(#[from] crate::landed::LandedError),
    /// The bucket's store could not be set up.
    #[error(transparent)]
    Store(#[from] lake::store::StoreError),
    /// The stack's filter pattern does not parse.
    #[error("the stack's filter pattern: {0}")]
    Pattern(String),
}

impl VerifyError {
    fn call(operation: &'static str, target: &str, error: &dyn std::error::Error) -> Self {
        Self::Call {
            operation,
            target: target.to_owned(),
            message: aws_sdk_s3::error::DisplayErrorContext(error).to_string(),
        }
    }
}

/// The clients `verify` calls AWS (or the emulator and stand-ins) with.
#[derive(Debug, Clone)]
pub struct VerifyClients {
    /// CloudFormation.
    pub cfn: aws_sdk_cloudformation::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// S3 (result objects deleted through it).
    pub s3: aws_sdk_s3::Client,
    /// Athena.
    pub athena: aws_sdk_athena::Client,
    /// The bucket's store for the read-back, from the same credentials.
    pub bucket_store: std::sync::Arc<dyn object_store::ObjectStore>,
}

/// What to verify.
#[derive(Debug)]
pub struct VerifyOptions<'a> {
    /// The scenario whose log workload is written (its fleet and profiles; its stack
    /// definition gives the filter pattern, the Firehose prefix and the saved queries' names).
    pub loaded: &'a LoadedScenario,
    /// The stack's names.
    pub outputs: StackOutputs,
    /// Makes the run's streams unique.
    pub run_id: u64,
    /// How long to wait for the lines to land.
    pub delivery_deadline: Duration,
    /// How long each saved query may run.
    pub query_deadline: Duration,
}

/// How a saved query's run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryOutcome {
    /// It succeeded with this many rows.
    Rows(usize),
    /// It failed, or could not be started: the client's error.
    Failed(String),
}

/// One saved query's run.
#[derive(Debug, Clone, Serialize)]
pub struct SavedQueryRun {
    /// Its name.
    pub name: String,
    /// Rows returned, or why it failed.
    pub outcome: QueryOutcome,
    /// `DataScannedInBytes`.
    pub bytes_scanned: i64,
}

/// What `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Who delivered.
    pub delivery: String,
    /// The run's streams.
    pub streams: Vec<String>,
    /// Lines written.
    pub lines_written: usize,
    /// The bucket read back against the ledger, the run's streams only.
    pub reconciliation: Reconciliation,
    /// Seconds from the first write until everything expected had landed (or the deadline).
    pub waited_seconds: f64,
    /// The saved queries, each run once.
    pub saved_queries: Vec<SavedQueryRun>,
    /// What was cleaned up.
    pub cleaned: Vec<String>,
    /// What this run does not check, said so.
    pub not_done: Vec<String>,
}

impl VerifyReport {
    /// Whether every expected line landed exactly once and every saved query ran.
    pub fn passed(&self) -> bool {
        self.reconciliation.is_exact()
            && self.reconciliation.duplicates == 0
            && self
                .saved_queries
                .iter()
                .all(|q| matches!(q.outcome, QueryOutcome::Rows(_)))
    }
}

fn now_ms() -> i64 {
    standins::clock::wall_now_ms()
}

/// Runs the verification.
pub async fn verify(
    clients: &VerifyClients,
    options: &VerifyOptions<'_>,
    delivery: &mut impl Delivery,
) -> Result<VerifyReport, VerifyError> {
    let definition = &options.loaded.stack.definition;
    let pattern = FilterPattern::parse(&definition.logs.filter_pattern)
        .map_err(|e| VerifyError::Pattern(e.to_string()))?;
    let outputs = &options.outputs;
    let started_ms = now_ms();
    let duration_ms = options.loaded.scenario.duration.as_millis();
    let mut ledger = Ledger::default();
    let streams = writes::generate(
        options.loaded,
        options.run_id,
        started_ms - duration_ms,
        started_ms,
        &mut ledger,
    )?;
    for stream in &streams {
        writes::put(&clients.logs, &outputs.log_group, stream, &mut ledger).await?;
    }
    let names: BTreeSet<String> = streams.iter().map(|s| s.stream.clone()).collect();
    let data = Location {
        store: std::sync::Arc::clone(&clients.bucket_store),
        url: format!("s3://{}", outputs.bucket),
        root: catalog::table_root(&definition.firehose.prefix),
    };
    let errors = Location {
        root: catalog::table_root(&definition.firehose.error_prefix),
        ..data.clone()
    };
    let mut reconciliation;
    loop {
        delivery.step().await?;
        reconciliation = read_back(&data, &errors, started_ms, &names, &ledger, &pattern).await?;
        let waited = Duration::from_millis((now_ms() - started_ms).max(0) as u64);
        if reconciliation.missing == 0 || waited > options.delivery_deadline {
            break;
        }
        tokio::time::sleep(POLL.min(options.delivery_deadline / 10)).await;
    }
    let waited_seconds = (now_ms() - started_ms) as f64 / 1000.0;
    let mut cleaned = Vec::new();
    let saved_queries = run_saved_queries(clients, options, &mut cleaned).await;
    for stream in &streams {
        clients
            .logs
            .delete_log_stream()
            .log_group_name(&outputs.log_group)
            .log_stream_name(&stream.stream)
            .send()
            .await
            .map_err(|e| VerifyError::call("DeleteLogStream", &stream.stream, &e))?;
        cleaned.push(format!("log stream {}", stream.stream));
    }
    Ok(VerifyReport {
        delivery: delivery.describe(),
        streams: names.into_iter().collect(),
        lines_written: ledger.len(),
        reconciliation,
        waited_seconds,
        saved_queries,
        cleaned,
        not_done: vec![
            "no instance was launched or onboarded (loglab run proves onboarding on the emulator; a fleet on AWS costs money)".to_owned(),
            "the rows delivered stay in the bucket (the pipeline's data, under its lifecycle)".to_owned(),
        ],
    })
}

/// The objects written since the run started, read back; only the run's streams reconciled.
async fn read_back(
    data: &Location,
    errors: &Location,
    started_ms: i64,
    streams: &BTreeSet<String>,
    ledger: &Ledger,
    pattern: &FilterPattern,
) -> Result<Reconciliation, VerifyError> {
    let mut reconciler = ledger.reconciler(pattern);
    crate::landed::read_since(
        data,
        errors,
        Some(started_ms - CLOCK_SKEW_MS),
        &crate::landed::ObjectTimes::default(),
        &mut |event| {
            if streams.contains(event.log_stream.as_ref()) {
                reconciler.landed(event);
            }
        },
    )
    .await?;
    Ok(reconciler.finish().0)
}

/// Every saved query of the stack's workgroup, run once; each result file deleted.
async fn run_saved_queries(
    clients: &VerifyClients,
    options: &VerifyOptions<'_>,
    cleaned: &mut Vec<String>,
) -> Vec<SavedQueryRun> {
    let Some(workgroup) = &options.outputs.workgroup else {
        return vec![SavedQueryRun {
            name: "(saved queries)".to_owned(),
            outcome: QueryOutcome::Failed("the stack has no AthenaWorkGroupName output".to_owned()),
            bytes_scanned: 0,
        }];
    };
    let saved = match athena_client::saved_queries(&clients.athena, workgroup).await {
        Ok(saved) => saved,
        Err(e) => {
            return vec![SavedQueryRun {
                name: "(saved queries)".to_owned(),
                outcome: QueryOutcome::Failed(e.to_string()),
                bytes_scanned: 0,
            }];
        }
    };
    let mut runs = Vec::new();
    for query in saved {
        let answer = athena_client::run_query(
            &clients.athena,
            &query.sql,
            &query.database,
            workgroup,
            options.query_deadline,
        )
        .await;
        let run = match answer {
            Ok(rows) => {
                if let Some(location) = &rows.output_location {
                    delete_result(&clients.s3, location, cleaned).await;
                }
                SavedQueryRun {
                    name: query.name,
                    outcome: QueryOutcome::Rows(rows.rows.len()),
                    bytes_scanned: rows.bytes_scanned,
                }
            }
            Err(e) => SavedQueryRun {
                name: query.name,
                outcome: QueryOutcome::Failed(e.to_string()),
                bytes_scanned: 0,
            },
        };
        runs.push(run);
    }
    runs
}

/// Deletes a query's result file and its metadata; what could not be deleted is named.
async fn delete_result(s3: &aws_sdk_s3::Client, location: &str, cleaned: &mut Vec<String>) {
    let Some((bucket, key)) = location
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
    else {
        return;
    };
    for key in [key.to_owned(), format!("{key}.metadata")] {
        match s3.delete_object().bucket(bucket).key(&key).send().await {
            Ok(_) => cleaned.push(format!("s3://{bucket}/{key}")),
            Err(e) => cleaned.push(format!(
                "NOT deleted s3://{bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )),
        }
    }
}
