//! The harness's SSM endpoint for the deployed onboarding function (`AWS_ENDPOINT_URL_SSM`).
//! LocalStack community does not implement `DescribeInstanceInformation`, runs no command and
//! answers `GetCommandInvocation` with `Success` at once (ARCHITECTURE.md's fidelity table), so
//! the function's real SDK calls for those two come here and are answered from the simulated
//! agents, in the SSM API's JSON (AWS JSON 1.1); `SendCommand` goes on to LocalStack and its
//! command id is handed to the instance's simulated agent; everything else (`GetParameter`) is
//! passed to LocalStack unchanged.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use pipeline::onboard::ManagedInstances as _;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::LambdaError;
use crate::ssm_agent::SimulatedSsm;

const JSON: &str = "application/x-amz-json-1.1";

/// A running stand-in; stops when dropped.
#[derive(Debug)]
pub struct SsmStandIn {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    stop: CancellationToken,
}

impl Drop for SsmStandIn {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[derive(Clone)]
struct Upstream {
    emulator: String,
    http: reqwest::Client,
    simulated: SimulatedSsm,
}

/// Listens on a free local port and serves until dropped.
pub async fn start(emulator: &str, simulated: SimulatedSsm) -> Result<SsmStandIn, LambdaError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| LambdaError::Start {
            what: "the SSM stand-in".to_owned(),
            message: e.to_string(),
        })?;
    let address: SocketAddr = listener.local_addr().map_err(|e| LambdaError::Start {
        what: "the SSM stand-in".to_owned(),
        message: e.to_string(),
    })?;
    let upstream = Upstream {
        emulator: emulator.trim_end_matches('/').to_owned(),
        http: reqwest::Client::new(),
        simulated,
    };
    let stop = CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = token.cancelled() => return,
                accepted = listener.accept() => accepted,
            };
            let Ok((stream, _)) = accepted else { continue };
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let upstream = upstream.clone();
                    async move { Ok::<_, Infallible>(upstream.handle(request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(SsmStandIn {
        endpoint: format!("http://{address}"),
        stop,
    })
}

impl Upstream {
    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "SerializationException",
                    &e.to_string(),
                );
            }
        };
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|t| t.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        match target.as_str() {
            "AmazonSSM.DescribeInstanceInformation" => self.describe(&input).await,
            "AmazonSSM.GetCommandInvocation" => self.invocation(&input),
            "AmazonSSM.SendCommand" => {
                let forwarded = self.forward(&parts, body).await;
                if forwarded.status == StatusCode::OK {
                    self.hand_to_agents(&input, &forwarded.body);
                }
                forwarded.into_response()
            }
            _ => self.forward(&parts, body).await.into_response(),
        }
    }

    /// DescribeInstanceInformation with an `InstanceIds` filter (what the function sends).
    async fn describe(&self, input: &Value) -> Response<Full<Bytes>> {
        let ids: Vec<&str> = input["Filters"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(
                input["InstanceInformationFilterList"]
                    .as_array()
                    .into_iter()
                    .flatten(),
            )
            .filter(|f| f["Key"] == "InstanceIds" || f["key"] == "InstanceIds")
            .flat_map(|f| {
                f["Values"]
                    .as_array()
                    .or(f["valueSet"].as_array())
                    .into_iter()
                    .flatten()
            })
            .filter_map(Value::as_str)
            .collect();
        let mut list = Vec::new();
        for id in ids {
            if let Ok(Some(instance)) = self.simulated.describe_managed_instance(id).await {
                list.push(json!({
                    "InstanceId": id,
                    "PingStatus": instance.ping_status,
                    "PlatformType": instance.platform_type,
                    "PlatformName": instance.platform_name,
                    "ResourceType": "EC2Instance",
                }));
            }
        }
        ok(&json!({ "InstanceInformationList": list }))
    }

    /// GetCommandInvocation: the agent's result, or SSM's `InvocationDoesNotExist`.
    fn invocation(&self, input: &Value) -> Response<Full<Bytes>> {
        let command_id = input["CommandId"].as_str().unwrap_or_default();
        let instance_id = input["InstanceId"].as_str().unwrap_or_default();
        match self.simulated.invocation(command_id, instance_id) {
            Some(status) => ok(&json!({
                "CommandId": command_id,
                "InstanceId": instance_id,
                "Status": status.status,
                "StatusDetails": status.status_details,
                "ResponseCode": status.response_code,
                "StandardErrorContent": status.standard_error,
                "StandardOutputContent": "",
            })),
            None => error(StatusCode::BAD_REQUEST, "InvocationDoesNotExist", ""),
        }
    }

    /// The command id LocalStack gave, to each target instance's agent.
    fn hand_to_agents(&self, input: &Value, response: &Bytes) {
        let output: Value = serde_json::from_slice(response).unwrap_or(Value::Null);
        let Some(command_id) = output["Command"]["CommandId"].as_str() else {
            return;
        };
        for instance_id in input["InstanceIds"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            self.simulated.command_sent(command_id, instance_id);
        }
    }

    async fn forward(&self, parts: &hyper::http::request::Parts, body: Bytes) -> Forwarded {
        let url = format!("{}{}", self.emulator, parts.uri.path());
        let mut request = self.http.post(url).body(body);
        for (name, value) in &parts.headers {
            if name != "host" && name != "content-length" {
                request = request.header(name.as_str(), value.as_bytes());
            }
        }
        match request.send().await {
            Ok(response) => Forwarded {
                status: StatusCode::from_u16(response.status().as_u16())
                    .unwrap_or(StatusCode::BAD_GATEWAY),
                content_type: response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(JSON)
                    .to_owned(),
                body: response.bytes().await.unwrap_or_default(),
            },
            Err(e) => Forwarded {
                status: StatusCode::BAD_GATEWAY,
                content_type: JSON.to_owned(),
                body: Bytes::from(
                    json!({ "__type": "InternalServerError", "message": e.to_string() })
                        .to_string(),
                ),
            },
        }
    }
}

/// LocalStack's answer, passed back as it came.
struct Forwarded {
    status: StatusCode,
    content_type: String,
    body: Bytes,
}

impl Forwarded {
    fn into_response(self) -> Response<Full<Bytes>> {
        Response::builder()
            .status(self.status)
            .header("content-type", self.content_type)
            .body(Full::new(self.body))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
    }
}

fn ok(value: &Value) -> Response<Full<Bytes>> {
    respond(StatusCode::OK, value)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    respond(status, &json!({ "__type": code, "message": message }))
}

fn respond(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", JSON)
        .body(Full::new(Bytes::from(value.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
