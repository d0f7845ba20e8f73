//! The two functions as the invokers call them, whichever way they run: the handlers in the
//! harness's own process, or the deployed artifacts through the Lambda Invoke API
//! ([`crate::lambda`]). Both answer the same question, so the invokers, the ledger checks and the
//! queries are the same in both modes.

use std::future::Future;
use std::sync::Arc;

use pipeline::etl::EtlHandler;
use pipeline::firehose::RecordSink;
use pipeline::onboard::{
    CommandRunner, InstanceDirectory, ManagedInstances, OnboardingHandler, OnboardingOutcome,
    ParameterStore,
};
use serde_json::Value;

use crate::lambda::{FunctionPool, InvokeError};

/// What one ETL invocation produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EtlResult {
    /// Log events in the payload.
    pub events: usize,
    /// Rows the transform made.
    pub rows: usize,
    /// Firehose records delivered.
    pub records: usize,
}

/// The ETL function: one CloudWatch Logs subscription event in.
pub trait EtlFunction: Send + Sync {
    /// Invokes it once; the error is the function's (its type and message, or how it ended),
    /// as the Invoke API reports it.
    fn invoke(&self, event: &Value) -> impl Future<Output = Result<EtlResult, InvokeError>> + Send;
}

impl<S: RecordSink + Send + Sync> EtlFunction for EtlHandler<S> {
    async fn invoke(&self, event: &Value) -> Result<EtlResult, InvokeError> {
        let report = self
            .handle_lambda_event(event)
            .await
            .map_err(|e| InvokeError::Function {
                error_type: e.kind().to_owned(),
                message: e.to_string(),
            })?;
        Ok(EtlResult {
            events: report.transform.events,
            rows: report.transform.rows,
            records: report.delivery.map_or(0, |d| d.records),
        })
    }
}

/// The deployed ETL function.
#[derive(Debug, Clone)]
pub struct DeployedEtl(pub Arc<FunctionPool>);

impl EtlFunction for DeployedEtl {
    async fn invoke(&self, event: &Value) -> Result<EtlResult, InvokeError> {
        let response = self.0.invoke(event.to_string().as_bytes()).await?;
        let count = |value: &Value| {
            value
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(0)
        };
        Ok(EtlResult {
            events: count(&response["transform"]["events"]),
            rows: count(&response["transform"]["rows"]),
            records: count(&response["delivery"]["records"]),
        })
    }
}

/// How an onboarding invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnboardingResult {
    /// The handler's outcome (any decision).
    Outcome(OnboardingOutcome),
    /// The function failed in a way Lambda retries (a retryable outcome, a crash, a timeout).
    Retry(String),
    /// The event is not one the function can handle (retrying cannot help).
    Rejected(String),
}

/// The onboarding function: one EventBridge event in.
pub trait OnboardingFunction: Send + Sync + 'static {
    /// Invokes it once.
    fn invoke(&self, event: &Value) -> impl Future<Output = OnboardingResult> + Send;
}

impl<D, M, C, P> OnboardingFunction for OnboardingHandler<D, M, C, P>
where
    D: InstanceDirectory + 'static,
    M: ManagedInstances + 'static,
    C: CommandRunner + 'static,
    P: ParameterStore + 'static,
{
    async fn invoke(&self, event: &Value) -> OnboardingResult {
        match self.handle_event(event).await {
            // What the deployed binary does with it: fail the invocation, so Lambda retries.
            Ok(outcome) if outcome.fails_invocation() => OnboardingResult::Retry(outcome.reason),
            Ok(outcome) => OnboardingResult::Outcome(outcome),
            Err(error) => OnboardingResult::Rejected(error.to_string()),
        }
    }
}

/// The deployed onboarding function.
#[derive(Debug, Clone)]
pub struct DeployedOnboarding(pub Arc<FunctionPool>);

impl OnboardingFunction for DeployedOnboarding {
    async fn invoke(&self, event: &Value) -> OnboardingResult {
        match self.0.invoke(event.to_string().as_bytes()).await {
            Ok(response) => match serde_json::from_value::<OnboardingOutcome>(response.clone()) {
                Ok(outcome) => OnboardingResult::Outcome(outcome),
                Err(e) => OnboardingResult::Rejected(format!(
                    "the function's response is not an onboarding outcome ({e}): {response}"
                )),
            },
            Err(InvokeError::Function {
                error_type,
                message,
            }) if error_type == "MalformedEvent" => OnboardingResult::Rejected(message),
            Err(error) => OnboardingResult::Retry(error.to_string()),
        }
    }
}

/// One of two implementations of a function, chosen per run (`--lambda`).
#[derive(Debug)]
pub enum Running<I, D> {
    /// The handler in the harness's process.
    InProcess(I),
    /// The deployed artifact.
    Deployed(D),
}

impl<I: EtlFunction, D: EtlFunction> EtlFunction for Running<I, D> {
    async fn invoke(&self, event: &Value) -> Result<EtlResult, InvokeError> {
        match self {
            Self::InProcess(function) => function.invoke(event).await,
            Self::Deployed(function) => function.invoke(event).await,
        }
    }
}

impl<I: OnboardingFunction, D: OnboardingFunction> OnboardingFunction for Running<I, D> {
    async fn invoke(&self, event: &Value) -> OnboardingResult {
        match self {
            Self::InProcess(function) => function.invoke(event).await,
            Self::Deployed(function) => function.invoke(event).await,
        }
    }
}
