//! `AWS::SSM::Parameter`: the Linux and Windows CloudWatch agent configurations, exactly as the
//! onboarding handler fetches them.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::sdk::{differs, err, existing, text};
use super::{OnEmulator, Reference, ResourceType, Target, entry};
use crate::cfn::ids;
use crate::clients::{Clients, ProvisionError};
use crate::{Names, Placement, Stack};

/// Largest value of a Standard-tier SSM parameter, bytes.
pub const SSM_STANDARD_MAX_BYTES: usize = 4096;

/// SSM parameters.
pub struct Parameter;

#[async_trait]
impl ResourceType for Parameter {
    fn type_name(&self) -> &'static str {
        "AWS::SSM::Parameter"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let d = &stack.definition;
        let mut parameters = Vec::new();
        for (id, name, config, platform) in [
            (
                ids::LINUX_PARAMETER,
                &d.onboarding.linux_parameter,
                &stack.linux_agent_config,
                "Linux",
            ),
            (
                ids::WINDOWS_PARAMETER,
                &d.onboarding.windows_parameter,
                &stack.windows_agent_config,
                "Windows",
            ),
        ] {
            let value = config.to_json_pretty();
            let tier = if value.len() > SSM_STANDARD_MAX_BYTES {
                "Advanced"
            } else {
                "Standard"
            };
            let properties = json!({
                "Name": name,
                "Type": "String",
                "Tier": tier,
                "Description": format!("CloudWatch agent configuration for {platform} instances"),
                "Value": value,
            });
            parameters.push((id.to_owned(), entry(self.type_name(), properties)));
        }

        parameters
    }

    fn apply_order(&self) -> u8 {
        5
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::Provisioned
    }

    fn references(&self, _: &Stack, names: &Names, _: &Placement) -> Vec<Reference> {
        vec![
            Reference::new(ids::LINUX_PARAMETER, &names.linux_parameter, ""),
            Reference::new(ids::WINDOWS_PARAMETER, &names.windows_parameter, ""),
        ]
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        read_parameter(clients, id, &text(desired, "Name")).await
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        if !["Value", "Type", "Tier", "Description"]
            .iter()
            .any(|k| differs(actual, desired, k))
        {
            return Ok(Vec::new());
        }
        clients
            .ssm
            .put_parameter()
            .name(text(desired, "Name"))
            .value(text(desired, "Value"))
            .r#type(aws_sdk_ssm::types::ParameterType::from(
                text(desired, "Type").as_str(),
            ))
            .tier(aws_sdk_ssm::types::ParameterTier::from(
                text(desired, "Tier").as_str(),
            ))
            .description(text(desired, "Description"))
            .overwrite(true)
            .send()
            .await
            .map_err(err(id, "PutParameter"))?;
        Ok(vec!["Value".to_owned()])
    }
}

async fn read_parameter(
    clients: &Clients,
    id: &str,
    name: &str,
) -> Result<Option<Value>, ProvisionError> {
    let Some(out) = existing(
        clients.ssm.get_parameter().name(name).send().await,
        |s| s.is_parameter_not_found(),
        id,
        "GetParameter",
    )?
    else {
        return Ok(None);
    };
    let parameter = out.parameter();
    let mut value = json!({
        "Name": name,
        "Value": parameter.and_then(|p| p.value()),
        "Type": parameter.and_then(|p| p.r#type()).map(|t| t.as_str()),
    });
    let filter = aws_sdk_ssm::types::ParameterStringFilter::builder()
        .key("Name")
        .values(name)
        .build()
        .map_err(err(id, "DescribeParameters"))?;
    let described = clients
        .ssm
        .describe_parameters()
        .parameter_filters(filter)
        .send()
        .await
        .map_err(err(id, "DescribeParameters"))?;
    if let Some(meta) = described.parameters().first() {
        if let Some(tier) = meta.tier() {
            value["Tier"] = json!(tier.as_str());
        }
        if let Some(description) = meta.description() {
            value["Description"] = json!(description);
        }
    }
    Ok(Some(value))
}
