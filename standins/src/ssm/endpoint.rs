//! The harness's SSM endpoint for the deployed onboarding function (`AWS_ENDPOINT_URL_SSM`).
//! LocalStack community does not implement `DescribeInstanceInformation`, runs no command and
//! answers `GetCommandInvocation` with `Success` at once (ARCHITECTURE.md's fidelity table), so
//! the function's real SDK calls for those two come here and are answered from the simulated
//! agents, in the SSM API's JSON (AWS JSON 1.1); `SendCommand` goes on to LocalStack and its
//! command id is handed to the instance's simulated agent; everything else (`GetParameter`) is
//! passed to LocalStack unchanged.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use pipeline::onboard::ManagedInstances as _;
use serde_json::{Value, json};

use crate::json_protocol::{self, JsonRequest, StandIn, error, ok};
use crate::lambda::LambdaError;
use crate::ssm::SimulatedSsm;

/// A running stand-in; stops when dropped.
pub type SsmStandIn = StandIn;

#[derive(Clone)]
struct Upstream {
    emulator: String,
    http: reqwest::Client,
    simulated: SimulatedSsm,
}

/// Listens on a free local port and serves until dropped.
pub async fn start(emulator: &str, simulated: SimulatedSsm) -> Result<SsmStandIn, LambdaError> {
    let upstream = Upstream {
        emulator: emulator.trim_end_matches('/').to_owned(),
        http: reqwest::Client::new(),
        simulated,
    };
    json_protocol::serve(move |request| {
        let upstream = upstream.clone();
        async move { upstream.handle(request).await }
    })
    .await
    .map_err(|e| LambdaError::Start {
        what: "the SSM stand-in".to_owned(),
        message: e.to_string(),
    })
}

impl Upstream {
    async fn handle(&self, request: JsonRequest) -> Response<Full<Bytes>> {
        let JsonRequest {
            parts,
            body,
            target,
            input,
        } = request;
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
                    .unwrap_or(json_protocol::AWS_JSON)
                    .to_owned(),
                body: response.bytes().await.unwrap_or_default(),
            },
            Err(e) => Forwarded {
                status: StatusCode::BAD_GATEWAY,
                content_type: json_protocol::AWS_JSON.to_owned(),
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
