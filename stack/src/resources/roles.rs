//! `AWS::IAM::Role`: the roles of the ETL and onboarding functions, of Firehose and (crawler
//! mode) of the Glue crawler. Their policy documents are in `policies.rs`.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::policies;
use super::sdk::{err, existing, policy_json, text};
use super::{OnEmulator, Reference, ResourceType, Target, entry};
use crate::cfn::ids;
use crate::clients::{Clients, ProvisionError};
use crate::{CatalogMode, Names, Placement, Stack};

/// IAM roles.
pub struct Role;

#[async_trait]
impl ResourceType for Role {
    fn type_name(&self) -> &'static str {
        "AWS::IAM::Role"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let mut roles = vec![
            (ids::ETL_ROLE, policies::etl_role(stack)),
            (ids::ONBOARDING_ROLE, policies::onboarding_role(stack)),
            (ids::FIREHOSE_ROLE, policies::firehose_role(stack)),
        ];
        if stack.definition.catalog.mode == CatalogMode::Crawler {
            roles.push((ids::CRAWLER_ROLE, policies::crawler_role(stack)));
        }
        roles
            .into_iter()
            .map(|(id, properties)| (id.to_owned(), entry(self.type_name(), properties)))
            .collect()
    }

    fn apply_order(&self) -> u8 {
        0
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::Provisioned
    }

    fn references(&self, _: &Stack, names: &Names, placement: &Placement) -> Vec<Reference> {
        [
            (ids::FIREHOSE_ROLE, &names.firehose_role),
            (ids::ETL_ROLE, &names.etl_role),
            (ids::ONBOARDING_ROLE, &names.onboarding_role),
            (ids::CRAWLER_ROLE, &names.crawler_role),
        ]
        .into_iter()
        .map(|(id, role)| {
            Reference::new(
                id,
                role,
                format!("arn:aws:iam::{}:role/{role}", placement.account_id),
            )
        })
        .collect()
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        let (clients, id) = (at.clients, at.id);
        read_role(clients, id).await
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        let differs = |key: &str| actual.is_none_or(|a| a.get(key) != desired.get(key));
        let mut written = Vec::new();
        let mut mark = |key: &str| written.push(key.to_owned());
        let name = clients.role_name(id);
        let assume = desired["AssumeRolePolicyDocument"].to_string();
        if actual.is_none() {
            clients
                .iam
                .create_role()
                .role_name(&name)
                .assume_role_policy_document(&assume)
                .send()
                .await
                .map_err(err(id, "CreateRole"))?;
            mark("AssumeRolePolicyDocument");
        } else if differs("AssumeRolePolicyDocument") {
            clients
                .iam
                .update_assume_role_policy()
                .role_name(&name)
                .policy_document(&assume)
                .send()
                .await
                .map_err(err(id, "UpdateAssumeRolePolicy"))?;
            mark("AssumeRolePolicyDocument");
        }
        if differs("Policies") {
            for policy in desired["Policies"].as_array().into_iter().flatten() {
                clients
                    .iam
                    .put_role_policy()
                    .role_name(&name)
                    .policy_name(text(policy, "PolicyName"))
                    .policy_document(policy["PolicyDocument"].to_string())
                    .send()
                    .await
                    .map_err(err(id, "PutRolePolicy"))?;
            }
            mark("Policies");
        }
        if desired.get("ManagedPolicyArns").is_some() && differs("ManagedPolicyArns") {
            for arn in desired["ManagedPolicyArns"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                clients
                    .iam
                    .attach_role_policy()
                    .role_name(&name)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(err(id, "AttachRolePolicy"))?;
            }
            mark("ManagedPolicyArns");
        }
        Ok(written)
    }
}

async fn read_role(clients: &Clients, id: &str) -> Result<Option<Value>, ProvisionError> {
    let name = clients.role_name(id);
    let Some(role) = existing(
        clients.iam.get_role().role_name(&name).send().await,
        |s| s.is_no_such_entity_exception(),
        id,
        "GetRole",
    )?
    else {
        return Ok(None);
    };
    let assume = role
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .map(policy_json)
        .unwrap_or_default();
    let names = clients
        .iam
        .list_role_policies()
        .role_name(&name)
        .send()
        .await
        .map_err(err(id, "ListRolePolicies"))?;
    let mut policies = Vec::new();
    for policy_name in names.policy_names() {
        let doc = clients
            .iam
            .get_role_policy()
            .role_name(&name)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(err(id, "GetRolePolicy"))?;
        policies.push(json!({ "PolicyName": policy_name, "PolicyDocument": policy_json(doc.policy_document()) }));
    }
    let attached = clients
        .iam
        .list_attached_role_policies()
        .role_name(&name)
        .send()
        .await
        .map_err(err(id, "ListAttachedRolePolicies"))?;
    let mut value = json!({ "AssumeRolePolicyDocument": assume, "Policies": policies });
    let managed: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    if !managed.is_empty() {
        value["ManagedPolicyArns"] = json!(managed);
    }
    Ok(Some(value))
}
