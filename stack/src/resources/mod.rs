//! One module per kind of resource, each implementing [`ResourceType`] for the CloudFormation
//! types it owns: the template fragments it renders, its apply order, what the emulator path
//! does with it (and why), what LocalStack's CloudFormation drops from it, the names and ARNs it
//! gives to `Ref` and `Fn::GetAtt`, and how it is read back and written through the SDK.
//!
//! Adding a resource type means one module here and one line in [`ALL`]; the template, the
//! resolver, the provisioner and the audit all go through this registry.

pub mod alarms;
mod athena;
mod athena_sdk;
mod bucket;
mod dead_letter;
mod delivery_stream;
mod documents;
mod functions;
mod glue;
mod glue_sdk;
mod log_group;
mod parameters;
mod policies;
mod roles;
mod rule;
mod sdk;
mod subscription;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::clients::{Clients, ProvisionError};
use crate::{Names, Placement, Stack};

pub use athena_sdk::{NamedQueriesError, named_queries};
pub use bucket::NONCURRENT_VERSION_DAYS;
pub(crate) use bucket::create_bucket;
pub use dead_letter::queue_name as dead_letter_queue_name;
pub use functions::{ETL_MEMORY_MB, ONBOARDING_MEMORY_MB};
pub use rule::{harness_queue_name, rule_event_pattern};
pub use sdk::percent_decode;

/// What the emulator path does with a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnEmulator {
    /// Applied through the SDK and read back by the audit.
    Provisioned,
    /// Not created: the harness stands in for it; why. LocalStack's CloudFormation can still
    /// create it (unless it refers to what it cannot).
    StoodInFor(&'static str),
    /// Not created: LocalStack cannot create it at all, through the SDK or its
    /// CloudFormation; why.
    Absent(&'static str),
    /// Not in the emulator: applied to and read back from the harness's stand-in for
    /// `service` when the clients have one ([`Clients::glue`], [`Clients::athena`]), else not
    /// created, for `otherwise`.
    HarnessStandIn {
        /// The service the stand-in answers for.
        service: StandInService,
        /// Why it is not created without the stand-in.
        otherwise: &'static str,
    },
}

/// The services the harness answers for over their own APIs where the emulator has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandInService {
    /// Glue's Data Catalog (`standins::glue`).
    Glue,
    /// Athena (`standins::athena`).
    Athena,
}

impl OnEmulator {
    /// Why the emulator path does not create it, if it does not.
    pub fn skip_reason(self) -> Option<&'static str> {
        match self {
            Self::Provisioned => None,
            Self::StoodInFor(why) | Self::Absent(why) => Some(why),
            Self::HarnessStandIn { otherwise, .. } => Some(otherwise),
        }
    }

    /// Why the emulator path does not create it with `clients`, if it does not.
    pub fn skip_reason_with(self, clients: &Clients) -> Option<&'static str> {
        match self {
            Self::HarnessStandIn {
                service: StandInService::Glue,
                ..
            } if clients.glue.is_some() => None,
            Self::HarnessStandIn {
                service: StandInService::Athena,
                ..
            } if clients.athena.is_some() => None,
            other => other.skip_reason(),
        }
    }
}

/// A name and ARN a resource gives to `Ref` and `Fn::GetAtt` (`<id>.Arn`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Logical id.
    pub id: &'static str,
    /// What `Ref` gives (the physical name).
    pub name: String,
    /// What `Fn::GetAtt [id, Arn]` gives; empty for types without an ARN attribute here.
    pub arn: String,
}

impl Reference {
    /// A reference with a name and an ARN.
    pub fn new(id: &'static str, name: impl Into<String>, arn: impl Into<String>) -> Self {
        Self {
            id,
            name: name.into(),
            arn: arn.into(),
        }
    }
}

/// The apply order of types that come after every other.
pub const LAST: u8 = u8::MAX;

/// The resource a read or write is for.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The SDK clients.
    pub clients: &'a Clients,
    /// Its logical id.
    pub id: &'a str,
    /// Its resolved properties, as the emulator path applies them.
    pub desired: &'a Value,
}

/// One CloudFormation resource type of the stack.
#[async_trait]
pub trait ResourceType: Sync {
    /// The CloudFormation type, e.g. `AWS::S3::Bucket`.
    fn type_name(&self) -> &'static str;

    /// The resources of this type `stack` renders: `(logical id, resource)`, each resource a
    /// whole template entry (`Type`, `Properties`, and `DependsOn` where needed).
    fn render(&self, stack: &Stack) -> Vec<(String, Value)>;

    /// Position in the apply order: what others refer to comes first. Types the emulator path
    /// skips keep the default, last.
    fn apply_order(&self) -> u8 {
        LAST
    }

    /// What the emulator path does with it.
    fn on_emulator(&self) -> OnEmulator;

    /// checkov findings this type does not fix, each with why: `(check id, reason)`. The
    /// template carries them as the resource's `Metadata.checkov.skip`, so that the reason
    /// travels with it and `scripts/checkov.sh` has no unexplained finding.
    fn checkov_skips(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// Properties LocalStack's CloudFormation accepts but does not apply: `(property path
    /// prefix, why)`. The audit reports them as not held instead of failing.
    fn emulator_cloudformation_drops(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// The names and ARNs of this type's resources at `placement`.
    fn references(&self, stack: &Stack, names: &Names, placement: &Placement) -> Vec<Reference> {
        let _ = (stack, names, placement);
        Vec::new()
    }

    /// Properties the emulator path leaves out because the harness stands in for them, as
    /// JSON pointers under `Properties` (applied before [`Self::on_emulator_properties`], and
    /// by [`crate::template::Template::without`]).
    fn emulator_omitted_properties(&self) -> &'static [&'static str] {
        &[]
    }

    /// The resolved properties the emulator path applies for resource `id` (the template's,
    /// unless the emulator needs a stand-in).
    fn on_emulator_properties(
        &self,
        names: &Names,
        placement: &Placement,
        properties: Value,
    ) -> Value {
        let _ = (names, placement);
        properties
    }

    /// Reads the resource back in the template's shape; `None` when it does not exist.
    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        let _ = at;
        Ok(None)
    }

    /// Writes the top-level properties of `at.desired` that differ from `actual` (all of them
    /// when the resource does not exist); returns what was written.
    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        let _ = (at, actual);
        Ok(Vec::new())
    }
}

/// Every resource type of the stack.
pub static ALL: [&dyn ResourceType; 22] = [
    &roles::Role,
    &bucket::Bucket,
    &bucket::BucketPolicy,
    &log_group::LogGroup,
    &log_group::LogStream,
    &parameters::Parameter,
    &documents::Document,
    &delivery_stream::DeliveryStream,
    &rule::Rule,
    &dead_letter::DeadLetterQueue,
    &dead_letter::DeadLetterQueuePolicy,
    &functions::Function,
    &functions::Permission,
    &subscription::SubscriptionFilter,
    &glue::Database,
    &glue::Crawler,
    &glue::Table,
    &athena::WorkGroup,
    &athena::NamedQuery,
    &alarms::AlarmTopic,
    &alarms::AlarmSubscription,
    &alarms::Alarm,
];

/// The resource type named `type_name`, if the stack has it.
pub fn by_type(type_name: &str) -> Option<&'static dyn ResourceType> {
    ALL.iter().copied().find(|t| t.type_name() == type_name)
}

/// Why the emulator path does not create resources of `type_name`, if it does not. A type the
/// stack does not know is named as such.
pub fn skip_reason(type_name: &str) -> Option<&'static str> {
    match by_type(type_name) {
        Some(kind) => kind.on_emulator().skip_reason(),
        None => Some("not a resource type of this stack"),
    }
}

/// [`skip_reason`] with `clients`: the types the harness's Glue stand-in takes are created
/// when the clients have it.
pub fn skip_reason_with(type_name: &str, clients: &Clients) -> Option<&'static str> {
    match by_type(type_name) {
        Some(kind) => kind.on_emulator().skip_reason_with(clients),
        None => Some("not a resource type of this stack"),
    }
}

/// The types LocalStack community cannot create at all, through the SDK or its CloudFormation
/// (Glue and Athena are not in the community edition, and LocalStack's CloudFormation cannot
/// reach the harness's Glue stand-in; creating a Lambda function fetches
/// LocalStack's runtime from GitHub, which fails offline): `loglab deploy --emulator` leaves
/// them, and what refers to them, out of the template ([`crate::template::Template::without`]).
pub fn absent_from_emulator() -> Vec<&'static str> {
    ALL.iter()
        .filter(|t| {
            matches!(
                t.on_emulator(),
                OnEmulator::Absent(_) | OnEmulator::HarnessStandIn { .. }
            )
        })
        .map(|t| t.type_name())
        .collect()
}

/// `properties` without what `kind` leaves out on the emulator.
pub fn omit_on_emulator(kind: &dyn ResourceType, properties: &mut Value) {
    for pointer in kind.emulator_omitted_properties() {
        let Some((parent, key)) = pointer.rsplit_once('/') else {
            continue;
        };
        if let Some(parent) = properties
            .pointer_mut(parent)
            .and_then(Value::as_object_mut)
        {
            parent.remove(key);
        }
    }
}

/// A template entry of `type_name` with `properties`.
pub(crate) fn entry(type_name: &str, properties: Value) -> Value {
    json!({ "Type": type_name, "Properties": properties })
}
