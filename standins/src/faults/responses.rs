//! The error answers the fault layer gives, as each service gives them, so that the real SDK
//! parses and classifies them (throttling, transient) as it would AWS's.
//!
//! Sources: the error codes and messages are the services' own, from their service models
//! (botocore's `service-2.json`, AWS's published models, as shipped in the cfn-lint venv:
//! `logs` ThrottlingException "The request was throttled because of quota limits." and
//! ServiceUnavailableException "The service cannot complete the request."; `ssm`
//! ThrottlingException and InternalServerError; `events` ThrottlingException and
//! InternalException; `sqs` RequestThrottled; `firehose` ServiceUnavailableException, which is
//! also its throttling error: "throughput limits for the Firehose stream may have been
//! exceeded"). The HTTP statuses follow each API Reference's "Common Errors" page
//! (ThrottlingException 400, InternalFailure 500, ServiceUnavailable 503). S3's `SlowDown`
//! (503, "Please reduce your request rate.") and `InternalError` (500) are from the S3 API
//! Reference's error-code list; EC2's `RequestLimitExceeded` (503) and `InternalError` (500)
//! from the EC2 API Reference's error codes page. The request ids are the harness's own.

use super::config::Service;

/// An error answer: status, content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorAnswer {
    /// HTTP status.
    pub status: u16,
    /// `content-type`.
    pub content_type: &'static str,
    /// The body in the service's protocol.
    pub body: String,
    /// The error code, for the report.
    pub code: &'static str,
    /// The error message.
    pub message: &'static str,
}

/// What a JSON-protocol service's error carries: status, code, message.
type JsonError = (u16, &'static str, &'static str);

fn json_throttle(service: Service) -> JsonError {
    match service {
        Service::Logs => (
            400,
            "ThrottlingException",
            "The request was throttled because of quota limits.",
        ),
        Service::Sqs => (
            400,
            "RequestThrottled",
            "The request was denied due to request throttling.",
        ),
        Service::Firehose => (
            503,
            "ServiceUnavailableException",
            "Slow down. Throughput limits for the Firehose stream may have been exceeded.",
        ),
        Service::Ssm | Service::Events | Service::S3 | Service::Ec2 => (
            400,
            "ThrottlingException",
            "The request was denied due to request throttling.",
        ),
    }
}

fn json_server_error(service: Service) -> JsonError {
    match service {
        Service::Logs => (
            500,
            "ServiceUnavailableException",
            "The service cannot complete the request.",
        ),
        Service::Ssm => (
            500,
            "InternalServerError",
            "An error occurred on the server side.",
        ),
        Service::Events => (
            500,
            "InternalException",
            "This exception occurs due to unexpected causes.",
        ),
        Service::Firehose => (
            500,
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
        ),
        Service::Sqs | Service::S3 | Service::Ec2 => (
            500,
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
        ),
    }
}

/// The throttling answer of `service`.
pub fn throttle(service: Service) -> ErrorAnswer {
    match service {
        Service::S3 => s3_error(503, "SlowDown", "Please reduce your request rate."),
        Service::Ec2 => ec2_error(503, "RequestLimitExceeded", "Request limit exceeded."),
        _ => json_error(service, json_throttle(service)),
    }
}

/// The 5xx answer of `service`.
pub fn server_error(service: Service) -> ErrorAnswer {
    match service {
        Service::S3 => s3_error(
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
        Service::Ec2 => ec2_error(
            500,
            "InternalError",
            "An internal error has occurred. Retry your request.",
        ),
        _ => json_error(service, json_server_error(service)),
    }
}

fn json_error(service: Service, (status, code, message): JsonError) -> ErrorAnswer {
    let content_type = if service == Service::Sqs {
        "application/x-amz-json-1.0"
    } else {
        "application/x-amz-json-1.1"
    };
    ErrorAnswer {
        status,
        content_type,
        body: serde_json::json!({ "__type": code, "message": message }).to_string(),
        code,
        message,
    }
}

fn s3_error(status: u16, code: &'static str, message: &'static str) -> ErrorAnswer {
    ErrorAnswer {
        status,
        content_type: "application/xml",
        body: format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>loglab-fault</RequestId></Error>"
        ),
        code,
        message,
    }
}

fn ec2_error(status: u16, code: &'static str, message: &'static str) -> ErrorAnswer {
    ErrorAnswer {
        status,
        content_type: "text/xml;charset=UTF-8",
        body: format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>loglab-fault</RequestID></Response>"
        ),
        code,
        message,
    }
}
