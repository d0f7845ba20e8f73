//! The agent's placeholders in log group and stream names, resolved for one host.
//!
//! The agent replaces `{instance_id}`, `{hostname}`, `{local_hostname}`, `{ip_address}`,
//! `{aws_region}`, `{account_id}` and `{date}` (the host's local date, `YYYY-MM-DD`, when the
//! agent loads its configuration: `ResolvePlaceholder` in the agent's `translator/util`
//! formats `time.Now()`) and leaves anything else as written. `${NAME}` is left as written by
//! that step and expanded from the agent's environment when the agent loads the translated
//! configuration, an unset variable as the empty string: the agent's own sample
//! `translator/tocwconfig/sampleConfig/config_with_env.json` (translated with `${ENV_REGION}`
//! kept) and `service/configprovider/provider_test.go` ("ENV_LOG_STREAM_NAME isn't set, so it'll
//! resolve to an empty string").
//!
//! This module does the same replacement but treats any other `{…}` as an error, because
//! braces are not valid in a log group name and a typo such as `{instance-id}` would silently
//! send logs to a stream nobody queries. The harness uses this function, so its streams are
//! named exactly as the agent names them.

use std::collections::BTreeMap;

/// Every placeholder the agent knows.
pub const KNOWN_PLACEHOLDERS: [&str; 7] = [
    "instance_id",
    "hostname",
    "local_hostname",
    "ip_address",
    "aws_region",
    "account_id",
    "date",
];

/// The agent's stream name when neither the entry nor the `logs` section names one.
pub const DEFAULT_STREAM_NAME: &str = "{instance_id}";

/// What the agent knows about its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// `i-0123456789abcdef0`.
    pub instance_id: String,
    /// The EC2 hostname (`ip-10-0-0-12.ec2.internal`).
    pub hostname: String,
    /// The operating system's host name.
    pub local_hostname: String,
    /// The primary private IPv4 address.
    pub ip_address: String,
    /// The region, `eu-west-1`.
    pub aws_region: String,
    /// The 12-digit account id.
    pub account_id: String,
    /// The host's local date when the agent loads its configuration, `YYYY-MM-DD`.
    pub date: String,
    /// The environment the agent's process sees (`${NAME}` in its configuration).
    pub environment: BTreeMap<String, String>,
}

/// A name that cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceholderError {
    /// `{name}` is not one of [`KNOWN_PLACEHOLDERS`].
    #[error("unknown placeholder {{{name}}} in {template:?}; the agent knows {{{}}}", KNOWN_PLACEHOLDERS.join("}, {"))]
    Unknown {
        /// The placeholder's name, without braces.
        name: String,
        /// The whole name it appeared in.
        template: String,
    },
    /// `${…}` whose inside is not an environment variable's name.
    #[error(
        "${{{name}}} in {template:?} is not an environment variable the agent can expand \
         (letters, digits and '_', not starting with a digit)"
    )]
    NotAVariable {
        /// What is between the braces.
        name: String,
        /// The whole name it appeared in.
        template: String,
    },
    /// A `{` without its `}`.
    #[error("unclosed '{{' in {template:?}")]
    Unclosed {
        /// The whole name.
        template: String,
    },
    /// An entry that names no log group.
    #[error(
        "{entry} has no log_group_name, so the agent would not send it to the pipeline's group"
    )]
    MissingGroup {
        /// What the entry collects.
        entry: String,
    },
}

/// One piece of a name: text as written, a placeholder, or an environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
    Variable(&'a str),
}

/// `template` cut into its pieces, or the first problem.
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, PlaceholderError> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let variable = rest[..open].ends_with('$');
        let text_end = if variable { open - 1 } else { open };
        if text_end > 0 {
            out.push(Piece::Text(&rest[..text_end]));
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| PlaceholderError::Unclosed {
            template: template.to_owned(),
        })?;
        let name = &after[..close];
        if variable {
            if !is_variable_name(name) {
                return Err(PlaceholderError::NotAVariable {
                    name: name.to_owned(),
                    template: template.to_owned(),
                });
            }
            out.push(Piece::Variable(name));
        } else if KNOWN_PLACEHOLDERS.contains(&name) {
            out.push(Piece::Placeholder(name));
        } else {
            return Err(PlaceholderError::Unknown {
                name: name.to_owned(),
                template: template.to_owned(),
            });
        }
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// A POSIX environment variable name.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The placeholder names used in `template`, in order (environment variables not among
/// them), or the first problem.
pub fn placeholders_in(template: &str) -> Result<Vec<&str>, PlaceholderError> {
    Ok(pieces(template)?
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Placeholder(name) => Some(name),
            Piece::Text(_) | Piece::Variable(_) => None,
        })
        .collect())
}

/// Replaces every placeholder in `template` with the host's value, and every `${NAME}` with
/// the host's environment variable (empty when unset, as the agent expands it).
pub fn resolve_placeholders(template: &str, facts: &HostFacts) -> Result<String, PlaceholderError> {
    resolve_with(template, facts, "")
}

/// [`resolve_placeholders`], an unset variable as `unset`.
fn resolve_with(
    template: &str,
    facts: &HostFacts,
    unset: &str,
) -> Result<String, PlaceholderError> {
    let mut out = String::with_capacity(template.len() + 16);
    for piece in pieces(template)? {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Placeholder(name) => out.push_str(value_of(name, facts)),
            Piece::Variable(name) => {
                out.push_str(facts.environment.get(name).map_or(unset, String::as_str));
            }
        }
    }
    Ok(out)
}

/// `template` with every placeholder replaced by a sample value of the same shape, for
/// checking what characters the resolved name will hold. An environment variable, whose
/// value only the instance knows, is taken as `env`.
pub(crate) fn with_sample_values(template: &str) -> Result<String, PlaceholderError> {
    resolve_with(
        template,
        &HostFacts {
            instance_id: "i-0123456789abcdef0".to_owned(),
            hostname: "ip-10-0-0-1.ec2.internal".to_owned(),
            local_hostname: "host".to_owned(),
            ip_address: "10.0.0.1".to_owned(),
            aws_region: "us-east-1".to_owned(),
            account_id: "123456789012".to_owned(),
            date: "2026-01-01".to_owned(),
            environment: BTreeMap::new(),
        },
        "env",
    )
}

fn value_of<'a>(name: &str, facts: &'a HostFacts) -> &'a str {
    match name {
        "instance_id" => &facts.instance_id,
        "hostname" => &facts.hostname,
        "local_hostname" => &facts.local_hostname,
        "ip_address" => &facts.ip_address,
        "aws_region" => &facts.aws_region,
        "account_id" => &facts.account_id,
        _ => &facts.date,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> HostFacts {
        HostFacts {
            instance_id: "i-0abc".to_owned(),
            hostname: "ip-10-1-2-3.ec2.internal".to_owned(),
            local_hostname: "web-1".to_owned(),
            ip_address: "10.1.2.3".to_owned(),
            aws_region: "eu-west-1".to_owned(),
            account_id: "111122223333".to_owned(),
            date: "2026-11-24".to_owned(),
            environment: BTreeMap::from([("ENV_SUFFIX".to_owned(), "blue".to_owned())]),
        }
    }

    /// The agent's `service/configprovider/provider_test.go` loads its sample
    /// `config_with_env.yaml` with `ENV_REGION` and `ENV_CREDENTIALS_ROLE_ARN` set and
    /// `ENV_LOG_STREAM_NAME` unset: the set ones take their values, the unset one is empty.
    #[test]
    fn environment_variables_expand_as_the_agents_config_provider_expands_them() {
        assert_eq!(
            resolve_placeholders("{instance_id}-${ENV_SUFFIX}", &facts()).unwrap(),
            "i-0abc-blue"
        );
        assert_eq!(
            resolve_placeholders("${ENV_LOG_STREAM_NAME}", &facts()).unwrap(),
            ""
        );
        assert_eq!(
            placeholders_in("{instance_id}/${ENV_SUFFIX}/{date}").unwrap(),
            vec!["instance_id", "date"]
        );
        // A value holding braces is not resolved again: the placeholders were resolved
        // before the agent loaded its configuration.
        let mut braces = facts();
        braces
            .environment
            .insert("ENV_SUFFIX".to_owned(), "{instance_id}".to_owned());
        assert_eq!(
            resolve_placeholders("a-${ENV_SUFFIX}", &braces).unwrap(),
            "a-{instance_id}"
        );
    }

    #[test]
    fn a_dollar_brace_that_is_no_variable_name_is_an_error() {
        let err = resolve_placeholders("x/${1ABC}", &facts()).unwrap_err();
        assert!(
            matches!(err, PlaceholderError::NotAVariable { ref name, .. } if name == "1ABC"),
            "{err}"
        );
        assert!(resolve_placeholders("x/${}", &facts()).is_err());
    }

    #[test]
    fn every_known_placeholder_resolves() {
        let got = resolve_placeholders(
            "{instance_id}|{hostname}|{local_hostname}|{ip_address}|{aws_region}|{account_id}|{date}",
            &facts(),
        )
        .unwrap();
        assert_eq!(
            got,
            "i-0abc|ip-10-1-2-3.ec2.internal|web-1|10.1.2.3|eu-west-1|111122223333|2026-11-24"
        );
        assert_eq!(
            resolve_placeholders("/var/log/messages/{instance_id}", &facts()).unwrap(),
            "/var/log/messages/i-0abc"
        );
        assert_eq!(resolve_placeholders("plain", &facts()).unwrap(), "plain");
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_errors() {
        let err = resolve_placeholders("x/{instance-id}", &facts()).unwrap_err();
        assert!(err.to_string().starts_with(
            "unknown placeholder {instance-id} in \"x/{instance-id}\"; the agent knows {instance_id}, {hostname}"
        ), "{err}");
        assert_eq!(
            resolve_placeholders("x/{instance_id", &facts()).unwrap_err(),
            PlaceholderError::Unclosed {
                template: "x/{instance_id".to_owned()
            }
        );
    }
}
