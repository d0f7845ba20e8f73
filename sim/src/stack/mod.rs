//! The stack definition on an emulator: the rendered template resolved for one placement
//! ([`Deployment`]), applied resource by resource through the SDK ([`provision`]) and read back
//! property by property ([`audit`]); and the same template deployed through CloudFormation
//! ([`deploy`]).

pub mod audit;
pub mod deploy;
pub mod provision;
pub mod resolve;
mod resources;

use pipeline::stack::template::{self, Template, ids};
use pipeline::stack::{Names, Placement, Stack};
use serde_json::Value;

pub use resolve::Context;

/// Resource types the emulator path does not create, and why. Each shows up in the audit.
pub const NOT_PROVISIONED: [(&str, &str); 5] = [
    (
        "AWS::Lambda::Function",
        "LocalStack community cannot run functions without Docker-in-Docker and fetches its runtime from GitHub; the harness invokes the same handlers in-process",
    ),
    (
        "AWS::Lambda::Permission",
        "belongs to the functions, which the harness stands in for",
    ),
    (
        "AWS::Logs::SubscriptionFilter",
        "LocalStack community ignores filter patterns and sends no CONTROL_MESSAGE; the harness delivers subscription payloads itself, honouring the pattern with pipeline::filter_pattern",
    ),
    (
        "AWS::Glue::",
        "not in LocalStack community; the harness catalogs the delivered objects itself",
    ),
    (
        "AWS::Athena::",
        "not in LocalStack community; DataFusion stands in for Athena",
    ),
];

/// Why the emulator path skips a resource type, if it does.
pub fn skip_reason(kind: &str) -> Option<&'static str> {
    NOT_PROVISIONED
        .iter()
        .find(|(prefix, _)| kind.starts_with(prefix))
        .map(|(_, reason)| *reason)
}

/// Name of the SQS queue that stands in for the onboarding function as the rule's target.
pub fn harness_queue_name(names: &Names) -> String {
    format!("{}-harness", names.rule)
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

    /// `(logical id, type, resolved properties)` of every resource, in the order they are
    /// applied (roles first, the rule last).
    pub fn resources(&self) -> Result<Vec<(String, String, Value)>, resolve::ResolveError> {
        let mut out = Vec::new();
        for (id, resource) in self.template.resources().into_iter().flatten() {
            let kind = resource["Type"].as_str().unwrap_or_default().to_owned();
            let properties = self.context.resolve(&resource["Properties"])?;
            out.push((id.clone(), kind, properties));
        }
        out.sort_by_key(|(_, kind, _)| resources::apply_order(kind));
        Ok(out)
    }
}

fn context_for(stack: &Stack, names: &Names, placement: &Placement) -> Context {
    let mut context = Context::new(placement);
    let (region, account) = (&placement.region, &placement.account_id);
    let firehose_log_group = format!("/aws/kinesisfirehose/{}", names.delivery_stream);
    let mut add = |id: &str, name: &str, arn: String| {
        context.refs.insert(id.to_owned(), name.to_owned());
        context.attributes.insert(format!("{id}.Arn"), arn);
    };
    add(
        ids::BUCKET,
        &names.bucket,
        format!("arn:aws:s3:::{}", names.bucket),
    );
    add(
        ids::LOG_GROUP,
        &names.log_group,
        format!(
            "arn:aws:logs:{region}:{account}:log-group:{}:*",
            names.log_group
        ),
    );
    add(
        ids::FIREHOSE_LOG_GROUP,
        &firehose_log_group,
        format!("arn:aws:logs:{region}:{account}:log-group:{firehose_log_group}:*"),
    );
    add(ids::FIREHOSE_LOG_STREAM, "S3Delivery", String::new());
    add(
        ids::DELIVERY_STREAM,
        &names.delivery_stream,
        format!(
            "arn:aws:firehose:{region}:{account}:deliverystream/{}",
            names.delivery_stream
        ),
    );
    for (id, role) in [
        (ids::FIREHOSE_ROLE, &names.firehose_role),
        (ids::ETL_ROLE, &names.etl_role),
        (ids::ONBOARDING_ROLE, &names.onboarding_role),
        (ids::CRAWLER_ROLE, &names.crawler_role),
    ] {
        add(id, role, format!("arn:aws:iam::{account}:role/{role}"));
    }
    add(
        ids::ETL_FUNCTION,
        &names.etl_function,
        format!(
            "arn:aws:lambda:{region}:{account}:function:{}",
            names.etl_function
        ),
    );
    add(
        ids::ONBOARDING_FUNCTION,
        &names.onboarding_function,
        format!(
            "arn:aws:lambda:{region}:{account}:function:{}",
            names.onboarding_function
        ),
    );
    add(
        ids::RULE,
        &names.rule,
        format!("arn:aws:events:{region}:{account}:rule/{}", names.rule),
    );
    add(ids::LINUX_PARAMETER, &names.linux_parameter, String::new());
    add(
        ids::WINDOWS_PARAMETER,
        &names.windows_parameter,
        String::new(),
    );
    let catalog = &stack.definition.catalog;
    add(ids::DATABASE, &catalog.database, String::new());
    add(ids::TABLE, &catalog.table, String::new());
    add(ids::CRAWLER, &catalog.crawler_name, String::new());
    add(
        ids::WORKGROUP,
        &stack.definition.athena.workgroup,
        String::new(),
    );
    context.refs.insert("CodeBucket".to_owned(), String::new());
    context.refs.insert("EtlCodeKey".to_owned(), String::new());
    context
        .refs
        .insert("OnboardingCodeKey".to_owned(), String::new());
    context
        .refs
        .insert("FunctionArchitecture".to_owned(), "x86_64".to_owned());
    context
        .refs
        .insert("ReaderRoleArn".to_owned(), String::new());
    context.conditions.insert("HasReaderRole".to_owned(), false);
    context
}
