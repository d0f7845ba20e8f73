//! A local HTTP endpoint that answers AWS JSON 1.1 requests (`X-Amz-Target` names the
//! operation) with a handler of the harness's own: what the SSM stand-in
//! ([`crate::ssm::endpoint`]) and the Firehose model's endpoint
//! ([`crate::firehose::endpoint`]) are served by. Real SDK clients reach it through an
//! endpoint URL, as they reach AWS.

use std::future::Future;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// The content type of AWS JSON 1.1 answers.
pub const AWS_JSON: &str = "application/x-amz-json-1.1";

/// A request as a handler sees it.
#[derive(Debug)]
pub struct JsonRequest {
    /// The request line and headers.
    pub parts: hyper::http::request::Parts,
    /// The raw body.
    pub body: Bytes,
    /// `X-Amz-Target` (`Firehose_20150804.PutRecordBatch`), empty when absent.
    pub target: String,
    /// The body as JSON (`null` when it is not).
    pub input: Value,
}

/// A running endpoint; stops when dropped.
#[derive(Debug)]
pub struct StandIn {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    stop: CancellationToken,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Listens on a free local port and answers every request with `handler` until dropped.
pub async fn serve<H, F>(handler: H) -> std::io::Result<StandIn>
where
    H: Fn(JsonRequest) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    serve_on(0, handler).await
}

/// [`serve`] on loopback `port` (0: a free one), for an endpoint users point their tools at.
pub async fn serve_on<H, F>(port: u16, handler: H) -> std::io::Result<StandIn>
where
    H: Fn(JsonRequest) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let address: SocketAddr = listener.local_addr()?;
    let stop = CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = token.cancelled() => return,
                accepted = listener.accept() => accepted,
            };
            let Ok((stream, _)) = accepted else { continue };
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let handler = handler.clone();
                    async move {
                        let response = match read(request).await {
                            Ok(request) => handler(request).await,
                            Err(response) => response,
                        };
                        if response.extensions().get::<Dropped>().is_some() {
                            // An error from the service makes hyper close the connection
                            // without an answer.
                            return Err(std::io::Error::other(DROPPED));
                        }
                        Ok(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(StandIn {
        endpoint: format!("http://{address}"),
        stop,
    })
}

async fn read(request: Request<Incoming>) -> Result<JsonRequest, Response<Full<Bytes>>> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            &e.to_string(),
        )
    })?;
    let body = body.to_bytes();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let input = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok(JsonRequest {
        parts,
        body,
        target,
        input,
    })
}

/// Why a connection was closed without an answer.
pub const DROPPED: &str = "connection dropped by the harness's fault plan";

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Debug, Clone, Copy)]
struct Dropped;

/// No answer at all: the connection is closed (a dropped connection, as the client sees it).
pub fn dropped() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    response.extensions_mut().insert(Dropped);
    response
}

/// A 200 answer with `value`.
pub fn ok(value: &Value) -> Response<Full<Bytes>> {
    respond(StatusCode::OK, value)
}

/// An error answer in AWS JSON 1.1's shape (`__type`, `message`).
pub fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    respond(status, &json!({ "__type": code, "message": message }))
}

fn respond(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", AWS_JSON)
        .body(Full::new(Bytes::from(value.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
