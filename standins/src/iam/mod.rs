//! IAM, which neither emulator enforces by default: the calls each function makes, recorded at
//! the SDK layer ([`calls`]), and IAM's decision on each of them under the roles the stack
//! renders ([`policy`]). A run on an emulator reports every call and its decision, so a policy
//! that would refuse a call on AWS fails the run here first.

pub mod calls;
pub mod policy;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

pub use calls::{AccountFacts, Call, CallLog, CallRecorder, CallResource};
pub use policy::{Decision, PolicyError, Request};

/// The identity policies of the stack's roles: each role's statements, by logical id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Roles(BTreeMap<String, Vec<Value>>);

/// Why the roles of a deployment could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RolesError {
    /// The template did not resolve.
    #[error("the template's roles: {0}")]
    Resolve(#[from] stack::resolve::ResolveError),
    /// A role's policy is not one the evaluator reads.
    #[error("the template's roles: {0}")]
    Policy(#[from] PolicyError),
}

impl Roles {
    /// The roles `deployment` renders, resolved for its placement.
    pub fn from_deployment(deployment: &stack::Deployment) -> Result<Self, RolesError> {
        let resources = deployment.resources()?;
        Ok(Self::from_resources(
            resources
                .iter()
                .map(|r| (r.id.as_str(), r.kind.as_str(), &r.properties)),
        )?)
    }

    /// The roles among `resources` (`(logical id, type, resolved properties)`): their inline
    /// policies. A managed policy is an error: its statements are not in the template.
    pub fn from_resources<'a>(
        resources: impl IntoIterator<Item = (&'a str, &'a str, &'a Value)>,
    ) -> Result<Self, PolicyError> {
        let mut roles = BTreeMap::new();
        for (id, kind, properties) in resources {
            if kind != "AWS::IAM::Role" {
                continue;
            }
            if properties["ManagedPolicyArns"]
                .as_array()
                .is_some_and(|arns| !arns.is_empty())
            {
                return Err(PolicyError::Malformed {
                    statement: id.to_owned(),
                    problem: "a managed policy's statements are not in the template".to_owned(),
                });
            }
            let statements = properties["Policies"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|policy| {
                    policy["PolicyDocument"]["Statement"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .collect();
            roles.insert(id.to_owned(), statements);
        }
        Ok(Self(roles))
    }

    /// Roles from their statements, by logical id.
    pub fn from_statements(statements: BTreeMap<String, Vec<Value>>) -> Self {
        Self(statements)
    }

    /// Each role's statements, by logical id.
    pub fn statements(&self) -> &BTreeMap<String, Vec<Value>> {
        &self.0
    }

    /// The actions each role grants, as written (`(role, action)`).
    pub fn grants(&self) -> Vec<(String, String)> {
        let mut grants: Vec<(String, String)> = self
            .0
            .iter()
            .flat_map(|(role, statements)| {
                statements
                    .iter()
                    .filter(|s| s["Effect"] == "Allow")
                    .flat_map(policy::actions)
                    .map(|action| (role.clone(), action))
                    .collect::<Vec<_>>()
            })
            .collect();
        grants.sort();
        grants.dedup();
        grants
    }

    /// IAM's decision on each resource of `call` under its principal's role.
    pub fn decide(&self, call: &Call) -> Result<Vec<Decision>, PolicyError> {
        let statements = self.0.get(&call.principal).map_or(&[][..], Vec::as_slice);
        call.resources
            .iter()
            .map(|resource| {
                policy::evaluate(
                    statements,
                    &Request {
                        action: &call.action,
                        resource: &resource.arn,
                        context: &resource.context,
                    },
                )
            })
            .collect()
    }
}

/// One distinct request of a run and IAM's decision on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authorized {
    /// The role.
    pub principal: String,
    /// `service:Action`.
    pub action: String,
    /// The resource.
    pub resource: String,
    /// The condition keys that applied.
    pub context: BTreeMap<String, String>,
    /// How many calls made this request.
    pub calls: usize,
    /// The statement that allowed it, or why it is refused.
    pub decision: String,
    /// Whether IAM allows it.
    pub allowed: bool,
}

/// Every distinct request among `calls`, decided under `roles`.
pub fn authorize(roles: &Roles, calls: &[Call]) -> Result<Vec<Authorized>, PolicyError> {
    let mut distinct: BTreeMap<(String, String, CallResource), usize> = BTreeMap::new();
    for call in calls {
        for resource in &call.resources {
            *distinct
                .entry((
                    call.principal.clone(),
                    call.action.clone(),
                    resource.clone(),
                ))
                .or_default() += 1;
        }
    }
    distinct
        .into_iter()
        .map(|((principal, action, resource), count)| {
            let call = Call {
                principal: principal.clone(),
                action: action.clone(),
                resources: vec![resource.clone()],
            };
            let decision = roles.decide(&call)?.remove(0);
            Ok(Authorized {
                allowed: decision.is_allowed(),
                decision: match decision {
                    Decision::Allowed(statement) => format!("allowed by {principal}'s {statement}"),
                    Decision::ExplicitlyDenied(statement) => {
                        format!("explicitly denied by {principal}'s {statement}")
                    }
                    Decision::ImplicitlyDenied => {
                        format!("implicitly denied: no statement of {principal} allows it")
                    }
                },
                principal,
                action,
                resource: resource.arn,
                context: resource.context,
                calls: count,
            })
        })
        .collect()
}
