//! The fault layer: an HTTP client for the SDK that sits between the run's SDK clients and the
//! emulator. It names each request's service (the SigV4 credential scope) and operation
//! (`X-Amz-Target`, EC2's `Action`, S3's method and path), asks the [`FaultPlan`] what the
//! attempt meets, and then waits, answers with the service's own error
//! ([`super::responses`]), drops the connection, or passes the request on. The SDK's retry
//! strategy sees these as it sees AWS's: that is what the layer tests.

use std::sync::Arc;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

use super::config::Service;
use super::plan::{Attempt, FaultPlan, Injection};
use super::responses::{self, ErrorAnswer};

/// The message of a dropped connection, as the SDK reports it.
pub const DROPPED: &str = "connection reset: dropped by the harness's fault layer";
/// The message of a refused connection (an outage).
pub const REFUSED: &str = "connection refused: the service is down ([[faults.outage]])";

/// Wraps `config`'s HTTP client with the fault layer of `plan` (`config` unchanged when the
/// plan has no rules). A config without a client of its own (the SDK then picks its default
/// HTTPS client per service) gets a plain-HTTP client: emulator endpoints are `http://`.
pub fn wrap(config: &aws_config::SdkConfig, plan: &Arc<FaultPlan>) -> aws_config::SdkConfig {
    if plan.is_empty() {
        return config.clone();
    }
    let inner = config
        .http_client()
        .unwrap_or_else(|| aws_smithy_http_client::Builder::new().build_http());
    config
        .to_builder()
        .http_client(SharedHttpClient::new(FaultyHttpClient {
            inner,
            plan: plan.clone(),
        }))
        .build()
}

/// An [`HttpClient`] whose connectors pass through [`FaultyConnector`].
#[derive(Debug, Clone)]
pub struct FaultyHttpClient {
    inner: SharedHttpClient,
    plan: Arc<FaultPlan>,
}

impl HttpClient for FaultyHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultyConnector {
            inner: self.inner.http_connector(settings, components),
            plan: self.plan.clone(),
        })
    }
}

/// Decides each attempt's fate, then answers or passes it on.
#[derive(Debug, Clone)]
pub struct FaultyConnector {
    inner: SharedHttpConnector,
    plan: Arc<FaultPlan>,
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let Some((service, operation)) = classify(&request) else {
            return self.inner.call(request);
        };
        let headers = request.headers();
        let attempt = Attempt::from_headers(
            headers.get("amz-sdk-invocation-id"),
            headers.get("amz-sdk-request"),
        );
        let decision = self.plan.decide(service, &operation, attempt.as_ref());
        let (inner, plan) = (self.inner.clone(), self.plan.clone());
        HttpConnectorFuture::new(async move {
            if let Some(delay) = decision.delay {
                tokio::time::sleep(delay).await;
            }
            let result = match decision.injection {
                Some(Injection::Throttle) => Ok(answer(&responses::throttle(service))),
                Some(Injection::ServerError) => Ok(answer(&responses::server_error(service))),
                Some(Injection::DropConnection) => Err(ConnectorError::io(DROPPED.into())),
                Some(Injection::RefuseConnection) => Err(ConnectorError::io(REFUSED.into())),
                // Per-entry failures are the Firehose model's; nothing else has entries.
                Some(Injection::PartialFailure(_)) | None => inner.call(request).await,
            };
            plan.ended(attempt.as_ref());
            result
        })
    }
}

fn answer(error: &ErrorAnswer) -> HttpResponse {
    let status = StatusCode::try_from(error.status)
        .unwrap_or_else(|_| StatusCode::from(hyper::StatusCode::INTERNAL_SERVER_ERROR));
    let mut response = HttpResponse::new(status, SdkBody::from(error.body.clone()));
    response
        .headers_mut()
        .insert("content-type", error.content_type);
    response
        .headers_mut()
        .insert("x-amzn-requestid", "loglab-fault");
    response
}

/// The service and operation of a signed SDK request; `None` for a service the plan does not
/// know (IAM, CloudFormation, STS: provisioning, which faults do not touch).
pub fn classify(request: &HttpRequest) -> Option<(Service, String)> {
    let headers = request.headers();
    let service = Service::from_signing_name(signing_name(headers.get("authorization")?)?)?;
    let operation = match (service, headers.get("x-amz-target")) {
        (_, Some(target)) => target.rsplit('.').next().unwrap_or(target).to_owned(),
        (Service::Ec2, None) => form_action(request.body().bytes().unwrap_or_default())?,
        (Service::S3, None) => s3_operation(request.method(), request.uri()),
        (_, None) => return None,
    };
    Some((service, operation))
}

/// The service of a SigV4 `Authorization` header:
/// `AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/logs/aws4_request, ...`.
pub fn signing_name(authorization: &str) -> Option<&str> {
    let credential = authorization.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    scope.split('/').nth(3)
}

/// EC2's query protocol names the operation in the form body: `Action=RunInstances&...`.
fn form_action(body: &[u8]) -> Option<String> {
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map(str::to_owned)
}

/// Bucket sub-resources (the query's first parameter) and the operation a PUT or GET of each
/// is, as the S3 API Reference names them; what the provisioner and the read-back call.
const BUCKET_SUBRESOURCES: [(&str, &str, &str); 9] = [
    (
        "lifecycle",
        "PutBucketLifecycleConfiguration",
        "GetBucketLifecycleConfiguration",
    ),
    ("policy", "PutBucketPolicy", "GetBucketPolicy"),
    ("versioning", "PutBucketVersioning", "GetBucketVersioning"),
    ("encryption", "PutBucketEncryption", "GetBucketEncryption"),
    (
        "publicAccessBlock",
        "PutPublicAccessBlock",
        "GetPublicAccessBlock",
    ),
    ("tagging", "PutBucketTagging", "GetBucketTagging"),
    (
        "notification",
        "PutBucketNotificationConfiguration",
        "GetBucketNotificationConfiguration",
    ),
    (
        "ownershipControls",
        "PutBucketOwnershipControls",
        "GetBucketOwnershipControls",
    ),
    ("location", "Other", "GetBucketLocation"),
];

/// S3's REST operations the run makes, from method, path and query (path-style addressing:
/// `/bucket`, `/bucket/` or `/bucket/key`): the SDK's own `x-id=<Operation>` when it sends
/// one, else the method with a bucket sub-resource, a key, or neither.
pub fn s3_operation(method: &str, uri: &str) -> String {
    let after_scheme = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let path_and_query = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    if let Some(id) = query.split('&').find_map(|p| p.strip_prefix("x-id=")) {
        return id.to_owned();
    }
    let has_key = path
        .trim_start_matches('/')
        .split_once('/')
        .is_some_and(|(_, key)| !key.is_empty());
    let subresource = query
        .split('&')
        .next()
        .map(|p| p.split('=').next().unwrap_or(p));
    if !has_key
        && let Some((_, put, get)) = BUCKET_SUBRESOURCES
            .iter()
            .find(|(name, _, _)| Some(*name) == subresource)
    {
        return match method {
            "PUT" => (*put).to_owned(),
            "GET" => (*get).to_owned(),
            _ => "Other".to_owned(),
        };
    }
    let name = match (method, has_key) {
        ("PUT", true) => "PutObject",
        ("GET", true) => "GetObject",
        ("HEAD", true) => "HeadObject",
        ("DELETE", true) => "DeleteObject",
        ("POST", false) if query.contains("delete") => "DeleteObjects",
        ("GET", false) if query.contains("list-type=2") => "ListObjectsV2",
        ("GET", false) => "ListObjects",
        ("HEAD", false) => "HeadBucket",
        ("PUT", false) => "CreateBucket",
        _ => "Other",
    };
    name.to_owned()
}
