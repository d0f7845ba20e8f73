//! `[[faults.inject]]`: one fault rule of a scenario: which service and operation, what goes
//! wrong, how often, and in which window of simulated time.

use serde::{Deserialize, Serialize};

use crate::clock::SimDuration;

/// Most of a PutRecordBatch call's entries one partial failure fails (the issue's bound: a
/// call with more failed entries than this is a throttle, modelled by `throttle`).
pub const MAX_PARTIAL_FAILURE_SHARE: f64 = 0.5;

/// A service the run's clients call, by its SigV4 signing name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// CloudWatch Logs (the agents, the subscription's reads).
    Logs,
    /// Amazon S3 (the Firehose model's writes, the read-back).
    S3,
    /// Systems Manager (commands, Parameter Store).
    Ssm,
    /// Amazon SQS (the rule's queue).
    Sqs,
    /// Amazon EC2 (RunInstances, DescribeInstances).
    Ec2,
    /// Amazon EventBridge (PutEvents).
    Events,
    /// Amazon Data Firehose: answered by the harness's Firehose model, which injects these
    /// itself (so that deployed functions meet them too).
    Firehose,
}

impl Service {
    /// Every service, in order.
    pub const ALL: [Self; 7] = [
        Self::Logs,
        Self::S3,
        Self::Ssm,
        Self::Sqs,
        Self::Ec2,
        Self::Events,
        Self::Firehose,
    ];

    /// The SigV4 signing name (the credential scope's service).
    pub fn signing_name(self) -> &'static str {
        match self {
            Self::Logs => "logs",
            Self::S3 => "s3",
            Self::Ssm => "ssm",
            Self::Sqs => "sqs",
            Self::Ec2 => "ec2",
            Self::Events => "events",
            Self::Firehose => "firehose",
        }
    }

    /// The service with signing name `name`.
    pub fn from_signing_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.signing_name() == name)
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.signing_name())
    }
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// The service's throttling error, as it returns it ([`super::responses`]).
    Throttle,
    /// The service's 5xx error.
    ServerError,
    /// PutRecordBatch answers 200 with a share of its entries failed
    /// (`ServiceUnavailableException` per entry): Firehose only.
    PartialFailure,
    /// The answer comes `delay` (simulated) later.
    Latency,
    /// The connection is dropped before the request is sent (the SDK sees an I/O error).
    DropConnection,
    /// The connection is refused: the endpoint is down (an outage; the SDK sees an I/O error,
    /// and nothing reached the service).
    RefuseConnection,
}

impl FaultKind {
    /// The kebab-case name, as written in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            Self::Throttle => "throttle",
            Self::ServerError => "server-error",
            Self::PartialFailure => "partial-failure",
            Self::Latency => "latency",
            Self::DropConnection => "drop-connection",
            Self::RefuseConnection => "refuse-connection",
        }
    }
}

/// A rule's broken part: (field, value, rule, what would be valid).
pub type RuleIssue = (&'static str, String, String, String);

/// What is wrong with a window of simulated time `[from, until)` in a run of `duration`: it
/// ends before it starts, or starts after the run.
pub fn window_issues(
    from: SimDuration,
    until: Option<SimDuration>,
    duration: SimDuration,
) -> Vec<RuleIssue> {
    let mut issues = Vec::new();
    if let Some(until) = until.filter(|u| *u <= from) {
        issues.push((
            "until",
            format!("\"{until}\""),
            "the window ends before it starts".to_owned(),
            "later than `from`".to_owned(),
        ));
    }
    if from >= duration {
        issues.push((
            "from",
            format!("\"{from}\""),
            "the window starts after the run's simulated duration".to_owned(),
            "shorter than `duration`".to_owned(),
        ));
    }
    issues
}

/// One rule: calls of `service` (and `operation`, when given) fail as `kind` with probability
/// `rate` while the simulated clock is in `[from, until)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// The service.
    pub service: Service,
    /// The operation (`PutLogEvents`); every operation of the service when absent.
    #[serde(default)]
    pub operation: Option<String>,
    /// What goes wrong.
    pub kind: FaultKind,
    /// Probability that one call (one HTTP attempt) is hit, 0 to 1.
    pub rate: f64,
    /// Start of the window, simulated time since the run's start.
    #[serde(default)]
    pub from: SimDuration,
    /// End of the window; to the end of the run (delivery and drain included) when absent.
    #[serde(default)]
    pub until: Option<SimDuration>,
    /// `latency` only: how much later the answer comes (simulated time).
    #[serde(default)]
    pub delay: Option<SimDuration>,
    /// `partial-failure` only: share of a hit call's entries that fail, at most
    /// [`MAX_PARTIAL_FAILURE_SHARE`].
    #[serde(default)]
    pub entries: Option<f64>,
}

impl FaultRule {
    /// `logs:PutLogEvents throttle 30% 1m..3m`.
    pub fn describe(&self) -> String {
        let operation = self.operation.as_deref().unwrap_or("*");
        let until = self
            .until
            .map_or_else(|| "end".to_owned(), |u| u.to_string());
        let mut text = format!(
            "{}:{operation} {} {}% {}..{until}",
            self.service,
            self.kind.name(),
            (self.rate * 100.0).round(),
            self.from
        );
        if let Some(delay) = self.delay {
            text.push_str(&format!(" +{delay}"));
        }
        if let Some(share) = self.entries {
            text.push_str(&format!(" ({}% of entries)", (share * 100.0).round()));
        }
        text
    }

    /// Whether the rule covers `operation` of `service` at `elapsed_ms` into the run.
    pub fn covers(&self, service: Service, operation: &str, elapsed_ms: i64) -> bool {
        service == self.service
            && self.operation.as_deref().is_none_or(|o| o == operation)
            && elapsed_ms >= self.from.as_millis()
            && self.until.is_none_or(|u| elapsed_ms < u.as_millis())
    }

    /// Each rule this one breaks: (field, value, rule, what would be valid).
    pub fn issues(&self, duration: SimDuration) -> Vec<(&'static str, String, String, String)> {
        let mut issues = Vec::new();
        let mut add = |field, value: String, rule: &str, valid: &str| {
            issues.push((field, value, rule.to_owned(), valid.to_owned()));
        };
        if !(self.rate > 0.0 && self.rate <= 1.0) {
            add(
                "rate",
                self.rate.to_string(),
                "a probability per call",
                "above 0, at most 1",
            );
        }
        issues.extend(window_issues(self.from, self.until, duration));
        let mut add = |field, value: String, rule: &str, valid: &str| {
            issues.push((field, value, rule.to_owned(), valid.to_owned()));
        };
        match (self.kind, self.delay) {
            (FaultKind::Latency, None) => add(
                "delay",
                "(missing)".to_owned(),
                "latency needs a delay",
                "for example \"2s\"",
            ),
            (FaultKind::Latency, Some(_)) | (_, None) => {}
            (_, Some(d)) => add(
                "delay",
                format!("\"{d}\""),
                "only latency takes a delay",
                "remove it, or kind = \"latency\"",
            ),
        }
        let partial = self.kind == FaultKind::PartialFailure;
        if partial
            && (self.service != Service::Firehose
                || self.operation.as_deref() != Some("PutRecordBatch"))
        {
            add(
                "kind",
                "\"partial-failure\"".to_owned(),
                "per-entry failures exist only in Firehose's PutRecordBatch",
                "service = \"firehose\", operation = \"PutRecordBatch\"",
            );
        }
        match (partial, self.entries) {
            (true, Some(share)) if !(share > 0.0 && share <= MAX_PARTIAL_FAILURE_SHARE) => add(
                "entries",
                share.to_string(),
                "the share of a call's entries that fail",
                "above 0, at most 0.5",
            ),
            (true, None) => add(
                "entries",
                "(missing)".to_owned(),
                "partial-failure needs the share of entries that fail",
                "above 0, at most 0.5",
            ),
            (false, Some(share)) => add(
                "entries",
                share.to_string(),
                "only partial-failure takes entries",
                "remove it, or kind = \"partial-failure\"",
            ),
            _ => {}
        }
        issues
    }
}

/// How a service's endpoint answers during an outage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutageAnswer {
    /// It does not: every connection is refused.
    #[default]
    ConnectionRefused,
    /// The service's own 5xx error, on every call.
    ServerError,
}

/// `[[faults.outage]]`: a service's endpoint down for a window of simulated time: every call
/// (every HTTP attempt, of every operation) in `[from, until)` is refused or answered with the
/// service's 5xx error. Expected: nothing is lost, every part retries until the service is back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutageRule {
    /// The service.
    pub service: Service,
    /// Start of the window, simulated time since the run's start.
    pub from: SimDuration,
    /// End of the window: the service is back (within the run, so that what waited for it is
    /// delivered before the run ends).
    pub until: SimDuration,
    /// How it answers meanwhile.
    #[serde(default)]
    pub answer: OutageAnswer,
}

impl OutageRule {
    /// The fault rule the outage is: every call hit, as [`FaultKind::RefuseConnection`] or
    /// [`FaultKind::ServerError`].
    pub fn as_fault_rule(&self) -> FaultRule {
        FaultRule {
            service: self.service,
            operation: None,
            kind: match self.answer {
                OutageAnswer::ConnectionRefused => FaultKind::RefuseConnection,
                OutageAnswer::ServerError => FaultKind::ServerError,
            },
            rate: 1.0,
            from: self.from,
            until: Some(self.until),
            delay: None,
            entries: None,
        }
    }

    /// Each rule this one breaks: (field, value, rule, what would be valid).
    pub fn issues(&self, duration: SimDuration) -> Vec<(&'static str, String, String, String)> {
        let mut issues = Vec::new();
        if self.until <= self.from {
            issues.push((
                "until",
                format!("\"{}\"", self.until),
                "the outage ends before it starts".to_owned(),
                "later than `from`".to_owned(),
            ));
        }
        if self.until > duration {
            issues.push((
                "until",
                format!("\"{}\"", self.until),
                "the outage must end within the run (the harness's rule: what waited for the \
                 service is then delivered and checked)"
                    .to_owned(),
                format!("at most the run's duration, \"{duration}\""),
            ));
        }
        issues
    }
}

/// Where a [`LossRule`] loses data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossStage {
    /// A PutLogEvents batch the agent counts as sent never reaches CloudWatch Logs.
    AgentBatch,
    /// A subscription payload is never delivered to the ETL.
    SubscriptionPayload,
    /// One row of a Firehose record is dropped as the record is taken.
    EtlRow,
    /// A Firehose record is answered as accepted and never buffered.
    FirehoseRecord,
    /// An object is counted as written and never reaches the bucket.
    S3Object,
    /// One row of an object is replaced by a copy of another (a duplicate passed off as an
    /// original: the counts stay the same).
    Duplicate,
}

impl LossStage {
    /// The kebab-case name, as written in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            Self::AgentBatch => "agent-batch",
            Self::SubscriptionPayload => "subscription-payload",
            Self::EtlRow => "etl-row",
            Self::FirehoseRecord => "firehose-record",
            Self::S3Object => "s3-object",
            Self::Duplicate => "duplicate",
        }
    }
}

/// `[[faults.lose]]`: data lost silently on purpose at one stage, `count` times, to prove that
/// the run's checks catch it: a run with a loss rule that hits must fail, naming the stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossRule {
    /// Where.
    pub stage: LossStage,
    /// How many times (batches, payloads, rows, records, objects, rows).
    #[serde(default = "one")]
    pub count: usize,
}

fn one() -> usize {
    1
}
