//! The AWS calls a function makes, as IAM would authorize them: recorded at the SDK layer by
//! an interceptor on the function's own clients ([`CallRecorder`]), each with its action, the
//! resource ARNs it touches and the condition keys that apply to each.
//!
//! The ARNs and keys come from the Service Authorization Reference's tables for each action
//! (for example SendCommand: a `document` and an `instance` resource, the instance carrying
//! `ssm:resourceTag/${TagKey}`; DescribeInstances, DescribeInstanceInformation and
//! GetCommandInvocation: no resource-level permissions, so `*`). An operation not listed here
//! is recorded against `*`, so that a new call fails the evaluation instead of passing unseen.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, Input,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::Serialize;

/// One resource a call touches, with the condition keys IAM evaluates for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CallResource {
    /// The ARN, or `*`.
    pub arn: String,
    /// Condition keys and their values (the resource's tags as `ssm:resourceTag/<key>`).
    pub context: BTreeMap<String, String>,
}

/// One call a principal made.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Call {
    /// Whose role made it: the role's logical id in the template, such as `OnboardingRole`.
    pub principal: String,
    /// `service:Action`.
    pub action: String,
    /// What it touched.
    pub resources: Vec<CallResource>,
}

/// The calls of a run, from every recorder that shares it.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<Call>>>);

impl CallLog {
    /// Adds a call.
    pub fn record(&self, call: Call) {
        crate::locked(&self.0).push(call);
    }

    /// Every call so far, in the order made.
    pub fn calls(&self) -> Vec<Call> {
        crate::locked(&self.0).clone()
    }
}

/// What the recorder knows of the account: where it is, and each instance's tags.
pub trait AccountFacts: Send + Sync + std::fmt::Debug {
    /// The 12-digit account id.
    fn account_id(&self) -> &str;
    /// The region.
    fn region(&self) -> &str;
    /// The tags of `instance_id`, as EC2 holds them.
    fn instance_tags(&self, instance_id: &str) -> Vec<(String, String)>;
}

/// An SDK interceptor that records each operation a client sends as a [`Call`] of `principal`.
#[derive(Debug, Clone)]
pub struct CallRecorder {
    principal: String,
    log: CallLog,
    facts: Arc<dyn AccountFacts>,
    only: Option<&'static [&'static str]>,
}

impl CallRecorder {
    /// Records the calls of `principal` into `log`.
    pub fn new(principal: &str, log: CallLog, facts: Arc<dyn AccountFacts>) -> Self {
        Self {
            principal: principal.to_owned(),
            log,
            facts,
            only: None,
        }
    }

    /// Records only these operations (a client the harness also uses for its own reads, such
    /// as a dead-letter queue Lambda sends to with the function's role).
    pub fn only(mut self, operations: &'static [&'static str]) -> Self {
        self.only = Some(operations);
        self
    }

    /// The call of `operation` of `service` (the SDK's names) with `input`.
    pub fn call(&self, service: &str, operation: &str, input: &Input) -> Call {
        Call {
            principal: self.principal.clone(),
            action: format!("{}:{operation}", service.to_ascii_lowercase()),
            resources: self.resources(operation, input),
        }
    }

    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:aws:{service}:{}:{}:{resource}",
            self.facts.region(),
            self.facts.account_id()
        )
    }

    fn plain(arn: String) -> CallResource {
        CallResource {
            arn,
            context: BTreeMap::new(),
        }
    }

    fn resources(&self, operation: &str, input: &Input) -> Vec<CallResource> {
        use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchInput;
        use aws_sdk_sqs::operation::send_message::SendMessageInput;
        use aws_sdk_ssm::operation::get_parameter::GetParameterInput;
        use aws_sdk_ssm::operation::send_command::SendCommandInput;

        if let Some(send) = input.downcast_ref::<SendCommandInput>() {
            let mut resources = vec![Self::plain(
                self.document_arn(send.document_name().unwrap_or_default()),
            )];
            resources.extend(send.instance_ids().iter().map(|id| {
                CallResource {
                    arn: self.arn("ec2", &format!("instance/{id}")),
                    context: self
                        .facts
                        .instance_tags(id)
                        .into_iter()
                        .map(|(key, value)| (format!("ssm:resourceTag/{key}"), value))
                        .collect(),
                }
            }));
            return resources;
        }
        if let Some(get) = input.downcast_ref::<GetParameterInput>() {
            let name = get.name().unwrap_or_default().trim_start_matches('/');
            return vec![Self::plain(self.arn("ssm", &format!("parameter/{name}")))];
        }
        if let Some(put) = input.downcast_ref::<PutRecordBatchInput>() {
            let stream = put.delivery_stream_name().unwrap_or_default();
            return vec![Self::plain(
                self.arn("firehose", &format!("deliverystream/{stream}")),
            )];
        }
        if let Some(send) = input.downcast_ref::<SendMessageInput>() {
            let url = send.queue_url().unwrap_or_default();
            let queue = url.rsplit('/').next().unwrap_or_default();
            return vec![Self::plain(self.arn("sqs", queue))];
        }
        // DescribeInstances, DescribeInstanceInformation, GetCommandInvocation: no
        // resource-level permissions; and anything not listed above.
        let _ = operation;
        vec![Self::plain("*".to_owned())]
    }

    /// AWS's own documents (`AWS-…`) have no account in their ARN.
    fn document_arn(&self, name: &str) -> String {
        if name.starts_with("AWS-") {
            format!("arn:aws:ssm:{}::document/{name}", self.facts.region())
        } else {
            self.arn("ssm", &format!("document/{name}"))
        }
    }

    /// Records a call answered in-process where the deployed function makes an SDK call
    /// (the harness's SSM stand-in answers DescribeInstanceInformation and
    /// GetCommandInvocation without one): `action` on `*`, as IAM authorizes both.
    pub fn record_unscoped(&self, action: &str) {
        self.log.record(Call {
            principal: self.principal.clone(),
            action: action.to_owned(),
            resources: vec![Self::plain("*".to_owned())],
        });
    }
}

impl Intercept for CallRecorder {
    fn name(&self) -> &'static str {
        "CallRecorder"
    }

    /// Before serialization, once per operation (not per attempt): a client interceptor's
    /// `read_before_execution` runs before the operation's configuration, which holds its name.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            let operation = metadata.name();
            if self.only.is_none_or(|only| only.contains(&operation)) {
                self.log
                    .record(self.call(metadata.service(), operation, context.input()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Account;

    impl AccountFacts for Account {
        fn account_id(&self) -> &str {
            "111122223333"
        }
        fn region(&self) -> &str {
            "eu-west-1"
        }
        fn instance_tags(&self, instance_id: &str) -> Vec<(String, String)> {
            vec![("CCP-Managed".to_owned(), format!("for {instance_id}"))]
        }
    }

    /// The recorder sees each operation the SDK sends, before it goes (the endpoint here
    /// refuses the connection), with the resources IAM authorizes it on.
    #[tokio::test]
    async fn the_sdk_calls_are_recorded_with_their_resources() {
        let log = CallLog::default();
        let recorder = CallRecorder::new("OnboardingRole", log.clone(), Arc::new(Account));
        let sdk = pipeline::emulator::sdk_config("http://127.0.0.1:9", "eu-west-1").await;
        let ssm = aws_sdk_ssm::Client::from_conf(
            aws_sdk_ssm::config::Builder::from(&sdk)
                .interceptor(recorder)
                .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
                .build(),
        );
        let _ = ssm.get_parameter().name("/cfg/linux").send().await;
        let _ = ssm
            .send_command()
            .document_name("AWS-ConfigureAWSPackage")
            .instance_ids("i-1")
            .send()
            .await;
        let calls = log.calls();
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert_eq!(calls[0].action, "ssm:GetParameter");
        assert_eq!(
            calls[0].resources[0].arn,
            "arn:aws:ssm:eu-west-1:111122223333:parameter/cfg/linux"
        );
        assert_eq!(calls[1].action, "ssm:SendCommand");
        let arns: Vec<&str> = calls[1].resources.iter().map(|r| r.arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:ssm:eu-west-1::document/AWS-ConfigureAWSPackage",
                "arn:aws:ec2:eu-west-1:111122223333:instance/i-1"
            ]
        );
        assert_eq!(
            calls[1].resources[1].context["ssm:resourceTag/CCP-Managed"],
            "for i-1"
        );
    }
}
