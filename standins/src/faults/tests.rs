use std::sync::Arc;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use serde_json::json;

use super::config::{FaultKind, FaultRule, Service};
use super::layer::{classify, s3_operation, signing_name, wrap};
use super::plan::{Attempt, FaultPlan, Injection};
use super::responses;
use crate::clock::SimClock;
use crate::clock::SimDuration;

fn rule(service: Service, operation: Option<&str>, kind: FaultKind, rate: f64) -> FaultRule {
    FaultRule {
        service,
        operation: operation.map(str::to_owned),
        kind,
        rate,
        from: SimDuration::default(),
        until: None,
        delay: None,
        entries: None,
    }
}

fn started(rules: Vec<FaultRule>, seed: u64) -> FaultPlan {
    let plan = FaultPlan::new(rules, seed);
    plan.start(SimClock::new(0, 3_600_000, 1));
    plan
}

#[test]
fn the_service_is_the_sigv4_credential_scopes() {
    let header = "AWS4-HMAC-SHA256 Credential=test/20261202/us-east-1/logs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
    assert_eq!(signing_name(header), Some("logs"));
    assert_eq!(signing_name("Bearer token"), None);
}

#[test]
fn s3_operations_come_from_method_and_path() {
    let cases = [
        (
            "PUT",
            "http://127.0.0.1:4566/bucket/logs/2026/a.gz",
            "PutObject",
        ),
        (
            "GET",
            "http://127.0.0.1:4566/bucket/logs/a.gz?x-id=GetObject",
            "GetObject",
        ),
        (
            "GET",
            "http://127.0.0.1:4566/bucket?list-type=2&prefix=logs",
            "ListObjectsV2",
        ),
        (
            "POST",
            "http://127.0.0.1:4566/bucket?delete",
            "DeleteObjects",
        ),
        ("HEAD", "http://127.0.0.1:4566/bucket", "HeadBucket"),
        // A bucket's sub-resource is not an object, with or without the trailing slash.
        (
            "PUT",
            "http://127.0.0.1:4566/bucket/?lifecycle",
            "PutBucketLifecycleConfiguration",
        ),
        (
            "PUT",
            "http://127.0.0.1:4566/bucket?policy",
            "PutBucketPolicy",
        ),
        ("PUT", "http://127.0.0.1:4566/bucket/", "CreateBucket"),
        // The SDK's own name wins.
        (
            "PUT",
            "http://127.0.0.1:4566/bucket/a.gz?x-id=PutObject",
            "PutObject",
        ),
    ];
    for (method, uri, expected) in cases {
        assert_eq!(s3_operation(method, uri), expected, "{method} {uri}");
    }
}

/// A request signed for `service` (SigV4 credential scope) with `body`.
fn signed_request(
    service: &str,
    body: &'static str,
) -> aws_smithy_runtime_api::client::orchestrator::HttpRequest {
    let mut request = aws_smithy_runtime_api::client::orchestrator::HttpRequest::new(
        aws_smithy_types::body::SdkBody::from(body),
    );
    request.headers_mut().insert(
        "authorization",
        format!(
            "AWS4-HMAC-SHA256 Credential=test/20261202/us-east-1/{service}/aws4_request, Signature=x"
        ),
    );
    request
}

#[test]
fn json_requests_name_their_operation_in_x_amz_target() {
    let mut request = signed_request("ssm", "{}");
    request
        .headers_mut()
        .insert("x-amz-target", "AmazonSSM.SendCommand");
    assert_eq!(
        classify(&request),
        Some((Service::Ssm, "SendCommand".to_owned()))
    );
}

#[test]
fn ec2_requests_name_their_operation_in_the_form_body() {
    let request = signed_request("ec2", "Action=RunInstances&Version=2016-11-15&MinCount=1");
    assert_eq!(
        classify(&request),
        Some((Service::Ec2, "RunInstances".to_owned()))
    );
}

#[test]
fn nothing_is_injected_before_the_clock_starts_or_outside_the_window() {
    let plan = FaultPlan::new(vec![rule(Service::Logs, None, FaultKind::Throttle, 1.0)], 1);
    assert_eq!(
        plan.decide(Service::Logs, "PutLogEvents", None).injection,
        None
    );

    let mut late = rule(Service::Logs, None, FaultKind::Throttle, 1.0);
    late.from = SimDuration::parse("10m").unwrap_or_default();
    let plan = started(vec![late], 1);
    assert_eq!(
        plan.decide(Service::Logs, "PutLogEvents", None).injection,
        None
    );

    let plan = started(
        vec![rule(
            Service::Logs,
            Some("GetLogEvents"),
            FaultKind::Throttle,
            1.0,
        )],
        1,
    );
    assert_eq!(
        plan.decide(Service::Logs, "PutLogEvents", None).injection,
        None
    );
    assert_eq!(
        plan.decide(Service::Logs, "GetLogEvents", None).injection,
        Some(Injection::Throttle)
    );
    assert_eq!(
        plan.decide(Service::S3, "GetLogEvents", None).injection,
        None
    );
}

#[test]
fn the_same_seed_draws_the_same_faults() {
    let draws = |seed| {
        let plan = started(
            vec![rule(Service::Logs, None, FaultKind::ServerError, 0.3)],
            seed,
        );
        (0..200)
            .map(|_| {
                plan.decide(Service::Logs, "PutLogEvents", None)
                    .injection
                    .is_some()
            })
            .collect::<Vec<_>>()
    };
    let first = draws(7);
    assert_eq!(first, draws(7));
    assert_ne!(first, draws(8));
    let hits = first.iter().filter(|h| **h).count();
    assert!((30..=90).contains(&hits), "{hits} of 200 at 30 %");
}

#[test]
fn partial_failures_fail_at_most_the_share_and_at_least_one_entry() {
    let plan = started(Vec::new(), 3);
    for count in [1, 2, 7, 500] {
        let failed = plan.failed_entries(count, 0.5);
        let n = failed.iter().filter(|f| **f).count();
        assert_eq!(failed.len(), count);
        assert_eq!(n, (count / 2).max(1), "{count} entries");
    }
}

#[test]
fn retries_and_their_delays_are_read_from_the_sdks_attempt_headers() {
    assert_eq!(
        Attempt::from_headers(Some("abc"), Some("attempt=2; max=3")),
        Some(Attempt {
            invocation: "abc".to_owned(),
            number: 2
        })
    );
    assert_eq!(Attempt::from_headers(None, Some("attempt=2; max=3")), None);
    let plan = started(Vec::new(), 1);
    let first = Attempt::from_headers(Some("abc"), Some("attempt=1; max=3"));
    let second = Attempt::from_headers(Some("abc"), Some("attempt=2; max=3"));
    plan.decide(Service::Logs, "PutLogEvents", first.as_ref());
    plan.ended(first.as_ref());
    plan.decide(Service::Logs, "PutLogEvents", second.as_ref());
    let record = plan.record();
    let op = &record.operations["logs:PutLogEvents"];
    assert_eq!((op.attempts, op.retries, op.max_attempts), (2, 1, 2));
}

#[test]
fn rules_are_checked_with_their_field_named() {
    let duration = SimDuration::parse("5m").unwrap_or_default();
    let mut partial = rule(Service::Logs, None, FaultKind::PartialFailure, 1.5);
    partial.entries = Some(0.8);
    let fields: Vec<&str> = partial
        .issues(duration)
        .into_iter()
        .map(|(field, ..)| field)
        .collect();
    assert_eq!(fields, ["rate", "kind", "entries"]);
    let latency = rule(Service::S3, None, FaultKind::Latency, 0.5);
    assert_eq!(latency.issues(duration)[0].0, "delay");
    let mut fine = rule(
        Service::Firehose,
        Some("PutRecordBatch"),
        FaultKind::PartialFailure,
        0.5,
    );
    fine.entries = Some(0.5);
    assert!(fine.issues(duration).is_empty());
}

#[test]
fn error_answers_carry_the_services_codes() {
    assert_eq!(
        responses::throttle(Service::Logs).code,
        "ThrottlingException"
    );
    assert_eq!(responses::throttle(Service::S3).status, 503);
    assert_eq!(
        responses::throttle(Service::Ec2).code,
        "RequestLimitExceeded"
    );
    assert_eq!(responses::throttle(Service::Sqs).code, "RequestThrottled");
    assert_eq!(responses::server_error(Service::Logs).status, 500);
}

/// A CloudWatch Logs stand-in that accepts every PutLogEvents; the SDK reaches it through the
/// fault layer.
async fn logs_client(
    plan: &Arc<FaultPlan>,
) -> (
    crate::json_protocol::StandIn,
    aws_sdk_cloudwatchlogs::Client,
) {
    let standin = crate::json_protocol::serve(|_request| async {
        crate::json_protocol::ok(&json!({ "nextSequenceToken": "1" }))
    })
    .await
    .unwrap_or_else(|e| panic!("stand-in: {e}"));
    let config = pipeline::emulator::sdk_config(&standin.endpoint, "us-east-1").await;
    let client = aws_sdk_cloudwatchlogs::Client::new(&wrap(&config, plan));
    (standin, client)
}

async fn put(client: &aws_sdk_cloudwatchlogs::Client) -> Result<(), String> {
    let event = InputLogEvent::builder()
        .timestamp(1)
        .message("m")
        .build()
        .map_err(|e| e.to_string())?;
    client
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .log_events(event)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata::code(&e)
                .unwrap_or("no code")
                .to_owned()
        })
}

#[tokio::test]
async fn the_sdk_retries_an_injected_throttle_and_reports_the_services_code() {
    let plan = Arc::new(started(
        vec![rule(
            Service::Logs,
            Some("PutLogEvents"),
            FaultKind::Throttle,
            1.0,
        )],
        1,
    ));
    let (_standin, client) = logs_client(&plan).await;
    assert_eq!(put(&client).await, Err("ThrottlingException".to_owned()));
    let record = plan.record();
    let op = &record.operations["logs:PutLogEvents"];
    // The SDK's standard retry strategy: three attempts, two of them retries after a backoff.
    assert_eq!((op.attempts, op.retries, op.max_attempts), (3, 2, 3));
    assert!(op.retry_delay_ms_total > 0, "{op:?}");
    assert_eq!(record.rules[0].injected, 3);
}

#[tokio::test]
async fn a_dropped_connection_is_retried_as_an_io_error() {
    let plan = Arc::new(started(
        vec![rule(Service::Logs, None, FaultKind::DropConnection, 1.0)],
        1,
    ));
    let (_standin, client) = logs_client(&plan).await;
    assert_eq!(put(&client).await, Err("no code".to_owned()));
    assert_eq!(plan.record().operations["logs:PutLogEvents"].attempts, 3);
}

#[tokio::test]
async fn without_rules_the_layer_is_not_installed_and_calls_go_through() {
    let plan = Arc::new(FaultPlan::new(Vec::new(), 1));
    let (_standin, client) = logs_client(&plan).await;
    assert_eq!(put(&client).await, Ok(()));
    assert!(plan.record().operations.is_empty());
}

/// `[[faults.outage]]`: every call of the service in the window is refused (an I/O error the
/// SDK retries, then gives the caller as a dispatch failure, which the agent retries); an
/// outage that does not end within the run is refused with its field named.
#[tokio::test]
async fn an_outage_refuses_every_call_of_its_service_in_its_window() {
    use super::config::{OutageAnswer, OutageRule};
    let outage = OutageRule {
        service: Service::Logs,
        from: SimDuration::parse("0s").unwrap(),
        until: SimDuration::parse("1m").unwrap(),
        answer: OutageAnswer::ConnectionRefused,
    };
    let rule = outage.as_fault_rule();
    assert_eq!(rule.describe(), "logs:* refuse-connection 100% 0ms..1m");
    let plan = Arc::new(started(vec![rule], 1));
    let (_standin, client) = logs_client(&plan).await;
    assert_eq!(put(&client).await, Err("no code".to_owned()));
    let record = plan.record();
    assert_eq!(record.operations["logs:PutLogEvents"].attempts, 3);
    assert_eq!(record.rules[0].injected, 3);

    let run = SimDuration::parse("5m").unwrap();
    assert!(outage.issues(run).is_empty());
    let endless = OutageRule {
        until: SimDuration::parse("6m").unwrap(),
        ..outage
    };
    let issues = endless.issues(run);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].0, "until");
    assert!(
        issues[0].2.contains("must end within the run"),
        "{issues:?}"
    );
}
