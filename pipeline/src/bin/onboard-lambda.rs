//! The onboarding Lambda function: EC2 state-change events from EventBridge in, a configured
//! and started CloudWatch agent out.
//!
//! Configuration comes from the environment (see `pipeline::onboard::config`); the EC2 and
//! SSM clients are built once per process. A malformed event, or an outcome marked
//! retryable (throttling, an instance EC2 did not know yet), fails the invocation so that
//! Lambda's asynchronous retries try again; every other outcome is returned.

#![recursion_limit = "256"]

use std::sync::Arc;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use pipeline::onboard::sdk::{Ec2Directory, SsmPorts};
use pipeline::onboard::{OnboardConfig, OnboardingHandler, OnboardingOutcome};

type Handler = OnboardingHandler<Ec2Directory, SsmPorts, SsmPorts, SsmPorts>;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    pipeline::env_config::init_lambda_tracing();
    let config = OnboardConfig::from_lookup(|name| std::env::var(name).ok())?;
    let aws = pipeline::aws_sdk::load().await;
    let ssm = SsmPorts::new(aws_sdk_ssm::Client::new(&aws));
    let handler: Arc<Handler> = Arc::new(OnboardingHandler::new(
        Ec2Directory::new(aws_sdk_ec2::Client::new(&aws)),
        ssm.clone(),
        ssm.clone(),
        ssm,
        config,
    ));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let handler = Arc::clone(&handler);
        async move { handle(&handler, &event.payload).await }
    }))
    .await
}

async fn handle(
    handler: &Handler,
    event: &serde_json::Value,
) -> Result<OnboardingOutcome, Diagnostic> {
    let outcome = handler.handle_event(event).await.map_err(|error| {
        tracing::error!(error = %error, "malformed event");
        Diagnostic {
            error_type: "MalformedEvent".to_owned(),
            error_message: error.to_string(),
        }
    })?;
    if outcome.fails_invocation() {
        return Err(Diagnostic {
            error_type: "RetryableOnboardingFailure".to_owned(),
            error_message: outcome.reason,
        });
    }
    Ok(outcome)
}
