//! `AWS::SSM::Document`: the stack's own Run Command documents, Linux and Windows, that load
//! the agent configuration from its one parameter and start the agent
//! ([`pipeline::onboard::documents`] writes their content). The onboarding role may send only
//! these and `AWS-ConfigureAWSPackage` ([`super::policies`]).

use serde_json::{Value, json};

use super::{OnEmulator, Reference, ResourceType, entry};
use crate::cfn::ids;
use crate::{Names, Placement, Stack};
use pipeline::onboard::Platform;
use pipeline::onboard::documents::content;

/// SSM Command documents.
pub struct Document;

impl ResourceType for Document {
    fn type_name(&self) -> &'static str {
        "AWS::SSM::Document"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let d = &stack.definition.onboarding;
        [
            (
                ids::LINUX_DOCUMENT,
                &d.linux_document,
                Platform::Linux,
                &d.linux_parameter,
            ),
            (
                ids::WINDOWS_DOCUMENT,
                &d.windows_document,
                Platform::Windows,
                &d.windows_parameter,
            ),
        ]
        .into_iter()
        .map(|(id, name, platform, parameter)| {
            let properties = json!({
                "Name": name,
                "DocumentType": "Command",
                "DocumentFormat": "JSON",
                // A change of content makes a new default version in place, so the name the
                // function and its policy carry stays the same.
                "UpdateMethod": "NewVersion",
                "Content": content(platform, parameter),
            });
            (id.to_owned(), entry(self.type_name(), properties))
        })
        .collect()
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::StoodInFor(
            "the harness's simulated SSM agents run these documents' steps as rendered; LocalStack stores documents but runs no command, and MiniStack has no document API",
        )
    }

    fn references(&self, _: &Stack, names: &Names, _: &Placement) -> Vec<Reference> {
        vec![
            Reference::new(ids::LINUX_DOCUMENT, &names.linux_document, ""),
            Reference::new(ids::WINDOWS_DOCUMENT, &names.windows_document, ""),
        ]
    }
}
