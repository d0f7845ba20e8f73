//! The rendered template resolved for one placement ([`Deployment`]): what the provisioner
//! applies and the audit reads back, with every name and ARN the intrinsics refer to.

use aws_config::SdkConfig;
use serde_json::Value;

use crate::cfn::ids;
use crate::clients::Clients;
use crate::resolve::{self, Context};
use crate::resources::{self, ResourceType};
use crate::template::{self, Template};
use crate::{Names, Placement, Stack};

/// One resource of the template, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Logical id.
    pub id: String,
    /// CloudFormation type.
    pub kind: String,
    /// The properties with every intrinsic resolved.
    pub properties: Value,
}

impl Resolved {
    /// The type's behaviour, if the stack has the type.
    pub fn resource_type(&self) -> Option<&'static dyn ResourceType> {
        resources::by_type(&self.kind)
    }
}

/// The template resolved for one placement.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The rendered template.
    pub template: Template,
    /// Resolved names.
    pub names: Names,
    /// The resolver with every name and ARN.
    pub context: Context,
    /// The placement.
    pub placement: Placement,
}

impl Deployment {
    /// Renders `stack` and prepares its resolution at `placement`.
    pub fn new(stack: &Stack, placement: &Placement) -> Self {
        let template = template::render(stack);
        let names = stack.names(placement);
        let context = context_for(stack, &names, placement);
        Self {
            template,
            names,
            context,
            placement: placement.clone(),
        }
    }

    /// Uses these physical names for IAM roles (a CloudFormation stack names its roles itself).
    pub fn use_role_names(&mut self, roles: &[(String, String)]) {
        for (id, name) in roles {
            self.context.refs.insert(id.clone(), name.clone());
            self.context.attributes.insert(
                format!("{id}.Arn"),
                format!("arn:aws:iam::{}:role/{name}", self.placement.account_id),
            );
        }
    }

    /// Every resource, resolved, in the order they are applied (roles first, the rule last).
    pub fn resources(&self) -> Result<Vec<Resolved>, resolve::ResolveError> {
        let mut out = Vec::new();
        for (id, resource) in self.template.resources().into_iter().flatten() {
            let kind = resource["Type"].as_str().unwrap_or_default().to_owned();
            let properties = self.context.resolve(&resource["Properties"])?;
            out.push(Resolved {
                id: id.clone(),
                kind,
                properties,
            });
        }
        out.sort_by_key(|r| {
            r.resource_type()
                .map_or(resources::LAST, ResourceType::apply_order)
        });
        Ok(out)
    }

    /// The properties the emulator path applies for `resource` (the template's, unless its
    /// type puts a stand-in there).
    pub fn on_emulator_properties(&self, resource: &Resolved) -> Value {
        match resource.resource_type() {
            Some(kind) => {
                let mut properties = resource.properties.clone();
                resources::omit_on_emulator(kind, &mut properties);
                kind.on_emulator_properties(&self.names, &self.placement, properties)
            }
            None => resource.properties.clone(),
        }
    }
}

impl Clients {
    /// Clients for `config`, naming IAM roles as `deployment` resolves them (S3 with
    /// path-style addressing, as emulators need).
    pub fn new(config: &SdkConfig, deployment: &Deployment) -> Self {
        let role_names = [
            ids::FIREHOSE_ROLE,
            ids::ETL_ROLE,
            ids::ONBOARDING_ROLE,
            ids::CRAWLER_ROLE,
        ]
        .into_iter()
        .filter_map(|id| Some((id.to_owned(), deployment.context.refs.get(id)?.clone())))
        .collect();
        Self::with_role_names(config, &deployment.placement.region, role_names)
    }
}

/// The template's parameters as the emulator path fills them: no code (the functions are not
/// created there), the host's architecture name for x86_64, no reader role.
const EMULATOR_PARAMETERS: [(&str, &str); 6] = [
    ("CodeBucket", ""),
    ("EtlCodeKey", ""),
    ("OnboardingCodeKey", ""),
    ("FunctionArchitecture", "x86_64"),
    ("ReaderRoleArn", ""),
    ("AlarmEmail", ""),
];

fn context_for(stack: &Stack, names: &Names, placement: &Placement) -> Context {
    let mut context = Context::new(placement);
    for reference in resources::ALL
        .iter()
        .flat_map(|kind| kind.references(stack, names, placement))
    {
        context.refs.insert(reference.id.to_owned(), reference.name);
        context
            .attributes
            .insert(format!("{}.Arn", reference.id), reference.arn);
    }
    for (parameter, value) in EMULATOR_PARAMETERS {
        context.refs.insert(parameter.to_owned(), value.to_owned());
    }
    context.conditions.insert("HasReaderRole".to_owned(), false);
    context.conditions.insert("HasAlarmEmail".to_owned(), false);
    context
}
