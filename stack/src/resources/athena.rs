//! `AWS::Athena::WorkGroup` and `AWS::Athena::NamedQuery`: the workgroup (results in the
//! bucket, encrypted) and the definition's saved queries. Not in LocalStack community: DataFusion
//! stands in for Athena (`lake`).

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{OnEmulator, Reference, ResourceType, Target, athena_sdk, entry};
use crate::cfn::{ids, reference, saved_query_sql};
use crate::clients::ProvisionError;
use crate::{Names, Placement, Stack};

const NOT_IN_COMMUNITY: &str = "not in LocalStack community; DataFusion stands in for Athena";
/// Applied to and audited at the harness's Athena stand-in where the run has one, as on AWS.
const THROUGH_STAND_IN: OnEmulator = OnEmulator::HarnessStandIn {
    service: super::StandInService::Athena,
    otherwise: NOT_IN_COMMUNITY,
};

/// Athena workgroups.
pub struct WorkGroup;

#[async_trait]
impl ResourceType for WorkGroup {
    fn type_name(&self) -> &'static str {
        "AWS::Athena::WorkGroup"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let d = &stack.definition;
        let properties = json!({
            "Name": d.athena.workgroup,
            "Description": "Queries over the log pipeline's rows",
            "State": "ENABLED",
            "RecursiveDeleteOption": true,
            "WorkGroupConfiguration": {
                "EnforceWorkGroupConfiguration": true,
                "PublishCloudWatchMetricsEnabled": true,
                "ResultConfiguration": {
                    "OutputLocation": { "Fn::Sub": format!("s3://${{{}}}/{}", ids::BUCKET, d.athena.results_prefix) },
                    "EncryptionConfiguration": { "EncryptionOption": "SSE_S3" },
                },
            },
        });
        vec![(
            ids::WORKGROUP.to_owned(),
            entry(self.type_name(), properties),
        )]
    }

    fn on_emulator(&self) -> OnEmulator {
        THROUGH_STAND_IN
    }

    fn apply_order(&self) -> u8 {
        10
    }

    /// `RecursiveDeleteOption` tells CloudFormation how to delete the stack's workgroup; it is
    /// no setting of the workgroup, and no API reads it back.
    fn emulator_omitted_properties(&self) -> &'static [&'static str] {
        &["/RecursiveDeleteOption"]
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        athena_sdk::read_workgroup(at).await
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        athena_sdk::write_workgroup(at, actual).await
    }

    fn references(&self, stack: &Stack, _: &Names, _: &Placement) -> Vec<Reference> {
        vec![Reference::new(
            ids::WORKGROUP,
            &stack.definition.athena.workgroup,
            "",
        )]
    }
}

/// Athena saved (named) queries, `SavedQuery1..N`.
pub struct NamedQuery;

#[async_trait]
impl ResourceType for NamedQuery {
    fn type_name(&self) -> &'static str {
        "AWS::Athena::NamedQuery"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        stack
            .definition
            .athena
            .saved_queries
            .iter()
            .enumerate()
            .map(|(i, query)| {
                let properties = json!({
                    "Name": query.name,
                    "Description": query.description,
                    "Database": reference(ids::DATABASE),
                    "WorkGroup": reference(ids::WORKGROUP),
                    "QueryString": saved_query_sql(&stack.definition, &query.sql),
                });
                (
                    format!("SavedQuery{}", i + 1),
                    entry(self.type_name(), properties),
                )
            })
            .collect()
    }

    fn on_emulator(&self) -> OnEmulator {
        THROUGH_STAND_IN
    }

    fn apply_order(&self) -> u8 {
        11
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        athena_sdk::read_named_query(at).await
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        athena_sdk::write_named_query(at, actual).await
    }
}
