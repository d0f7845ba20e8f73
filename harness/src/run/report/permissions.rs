//! IAM's decision on every AWS call the functions made in the run, recorded at the SDK layer
//! ([`standins::iam`]), under the roles the stack renders; and which of the roles' grants the
//! run used. A call the rendered policy would refuse on AWS fails the run's check here.

use serde::Serialize;
use standins::iam::{Authorized, Call, Roles};

use super::Check;

/// What the run's calls met.
#[derive(Debug, Clone, Serialize)]
pub struct PermissionsReport {
    /// Calls recorded.
    pub calls: usize,
    /// Each distinct request (role, action, resource, condition keys) and IAM's decision.
    pub requests: Vec<Authorized>,
    /// Each action a role grants, with the calls that used it.
    pub grants: Vec<GrantUse>,
    /// Why the requests could not be decided (a policy the evaluator cannot read), if so.
    pub error: Option<String>,
}

/// One action a role grants, and how often the run used it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantUse {
    /// The role's logical id.
    pub role: String,
    /// The action as granted.
    pub action: String,
    /// Calls of that role that used it.
    pub calls: usize,
}

/// The roles whose calls the run records: the two functions'.
pub const FUNCTION_ROLES: [&str; 2] = [
    stack::template::ids::ETL_ROLE,
    stack::template::ids::ONBOARDING_ROLE,
];

impl PermissionsReport {
    /// IAM's decisions on `calls` under the roles `deployment` renders; the grants of
    /// `principals`' roles.
    pub fn for_deployment(
        calls: &[Call],
        deployment: &stack::Deployment,
        principals: &[&str],
    ) -> Self {
        let roles = Roles::from_deployment(deployment);
        match roles {
            Ok(roles) => Self::new(calls, &roles, principals),
            Err(error) => Self {
                calls: calls.len(),
                requests: Vec::new(),
                grants: Vec::new(),
                error: Some(error.to_string()),
            },
        }
    }

    /// IAM's decisions on `calls` under `roles`; the grants of `principals`' roles they used.
    pub fn new(calls: &[Call], roles: &Roles, principals: &[&str]) -> Self {
        let (requests, error) = match standins::iam::authorize(roles, calls) {
            Ok(requests) => (requests, None),
            Err(error) => (Vec::new(), Some(error.to_string())),
        };
        let grants = roles
            .grants()
            .into_iter()
            .filter(|(role, _)| principals.contains(&role.as_str()))
            .map(|(role, action)| GrantUse {
                calls: calls
                    .iter()
                    .filter(|c| {
                        c.principal == role
                            && standins::iam::policy::wildcard(
                                &action.to_ascii_lowercase(),
                                &c.action.to_ascii_lowercase(),
                            )
                    })
                    .count(),
                role,
                action,
            })
            .collect();
        Self {
            calls: calls.len(),
            requests,
            grants,
            error,
        }
    }

    /// The requests IAM would refuse.
    pub fn refused(&self) -> impl Iterator<Item = &Authorized> {
        self.requests.iter().filter(|r| !r.allowed)
    }

    /// The run's check: every call allowed.
    pub fn check(&self) -> Check {
        let refused: Vec<String> = self
            .refused()
            .map(|r| {
                format!(
                    "{} {} on {}: {}",
                    r.principal, r.action, r.resource, r.decision
                )
            })
            .collect();
        let why = self
            .error
            .clone()
            .or_else(|| (!refused.is_empty()).then(|| refused.join("; ")));
        Check {
            name: "IAM allows every call the functions and the crawler made (the rendered roles)"
                .to_owned(),
            expected: "0 refused".to_owned(),
            found: match &self.error {
                Some(_) => "not evaluated".to_owned(),
                None => format!(
                    "{} refused of {} requests ({} calls)",
                    refused.len(),
                    self.requests.len(),
                    self.calls
                ),
            },
            passed: self.error.is_none() && refused.is_empty(),
            why,
        }
    }
}
