//! Who delivers the run's lines while `verify` waits: the deployed stack in an account
//! ([`AccountDelivers`]), or, where the stack runs on an emulator that has no subscription
//! filter delivery or Lambda (LocalStack community), the harness doing what the account would
//! ([`HarnessDelivers`]: the subscription invoker tailing the log group and the ETL handler
//! in-process, putting rows to the stack's Firehose stream).

use std::future::Future;

use pipeline::etl::{EtlConfig, EtlHandler, TransformOptions};
use pipeline::filter_pattern::FilterPattern;
use pipeline::firehose::RetryPolicy;
use pipeline::firehose::sdk::FirehoseSink;
use standins::cloudwatch_logs::SdkLogs;
use standins::subscription::{SubscriptionInvoker, Sweep};

use super::VerifyError;

/// What delivers the written lines to the bucket while `verify` waits.
pub trait Delivery: Send {
    /// One step of delivery; called before each poll of the bucket.
    fn step(&mut self) -> impl Future<Output = Result<(), VerifyError>> + Send;
    /// Who delivers, for the report.
    fn describe(&self) -> String;
}

/// The account delivers: its subscription filter, ETL function and Firehose stream.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountDelivers;

impl Delivery for AccountDelivers {
    async fn step(&mut self) -> Result<(), VerifyError> {
        Ok(())
    }

    fn describe(&self) -> String {
        "the deployed stack (subscription filter, ETL function, Firehose)".to_owned()
    }
}

/// The harness delivers, as `loglab run` does on the emulator.
#[derive(Debug)]
pub struct HarnessDelivers {
    invoker: SubscriptionInvoker<EtlHandler<FirehoseSink>>,
}

impl HarnessDelivers {
    /// Tails `log_group` through `logs` with the stack's filter pattern and subscription
    /// filter name, and puts the ETL's rows to `delivery_stream` through `firehose`.
    pub fn new(
        logs: aws_sdk_cloudwatchlogs::Client,
        firehose: aws_sdk_firehose::Client,
        account_id: &str,
        log_group: &str,
        delivery_stream: &str,
        definition: &stack::StackDefinition,
    ) -> Result<Self, VerifyError> {
        let pattern = FilterPattern::parse(&definition.logs.filter_pattern)
            .map_err(|e| VerifyError::Pattern(e.to_string()))?;
        let handler = EtlHandler::new(
            FirehoseSink::new(firehose, delivery_stream),
            EtlConfig {
                delivery_stream: delivery_stream.to_owned(),
                transform: TransformOptions::default(),
                retry: RetryPolicy::default(),
            },
        );
        Ok(Self {
            invoker: SubscriptionInvoker::new(
                SdkLogs::new(logs),
                account_id,
                log_group,
                &definition.logs.subscription_filter_name,
                pattern,
                handler,
            ),
        })
    }
}

impl Delivery for HarnessDelivers {
    async fn step(&mut self) -> Result<(), VerifyError> {
        self.invoker
            .poll(Sweep::All)
            .await
            .map_err(|e| VerifyError::Call {
                operation: "the harness's subscription poll of",
                target: "the stack's log group".to_owned(),
                message: e.to_string(),
            })?;
        Ok(())
    }

    fn describe(&self) -> String {
        "the harness (subscription invoker and ETL handler in-process, into the stack's Firehose stream)".to_owned()
    }
}
