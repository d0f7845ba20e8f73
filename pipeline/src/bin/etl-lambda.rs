//! The ETL Lambda function: CloudWatch Logs subscription events in, rows to Firehose out.
//!
//! Configuration comes from the environment (see `pipeline::etl::config`); the Firehose
//! client is built once per process. A failed invocation returns an error so that Lambda
//! retries it: duplicates are possible, loss is not.

use std::sync::Arc;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use pipeline::etl::{EtlConfig, EtlHandler, InvocationReport};
use pipeline::firehose::sdk::FirehoseSink;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    pipeline::env_config::init_lambda_tracing();
    let config = EtlConfig::from_lookup(|name| std::env::var(name).ok())?;
    let aws = pipeline::aws_sdk::load().await;
    let sink = FirehoseSink::new(
        aws_sdk_firehose::Client::new(&aws),
        config.delivery_stream.clone(),
    );
    let handler = Arc::new(EtlHandler::new(sink, config));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let handler = Arc::clone(&handler);
        async move {
            let remaining = event
                .context
                .deadline()
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default();
            handle(&handler, &event.payload, remaining).await
        }
    }))
    .await
}

async fn handle(
    handler: &EtlHandler<FirehoseSink>,
    event: &serde_json::Value,
    remaining: std::time::Duration,
) -> Result<InvocationReport, Diagnostic> {
    handler
        .handle_lambda_event_within(event, remaining)
        .await
        .map_err(|error| {
            tracing::error!(error = %error, kind = error.kind(), "invocation failed");
            Diagnostic {
                error_type: error.kind().to_owned(),
                error_message: error.to_string(),
            }
        })
}
