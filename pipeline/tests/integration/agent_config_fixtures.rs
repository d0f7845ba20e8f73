//! The agent configurations and EventBridge events kept in `fixtures/`: the default agent
//! configurations are exactly what the code renders (run with `UPDATE_EXPECTED=1` to
//! rewrite them after a deliberate change), they pass validation and round-trip byte for
//! byte; the EventBridge events read with our parser and with `aws_lambda_events`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a broken fixture must stop the test loudly"
)]

use crate::support;

use std::path::PathBuf;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use pipeline::agent_config::{AgentConfig, Authority, defaults};
use pipeline::onboard::{InstanceState, StateChange, event::StateChangeDetail};

fn fixtures() -> PathBuf {
    support::repo_root().join("fixtures")
}

fn check_rendered(file: &str, rendered: &str) {
    let path = fixtures().join("agent-config").join(file);
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(&path, rendered).unwrap();
    }
    let stored = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_EXPECTED=1 writes it)", path.display()));
    assert_eq!(
        stored,
        rendered,
        "{} is stale: run with UPDATE_EXPECTED=1 after a deliberate change",
        path.display()
    );
    let parsed = AgentConfig::parse(&stored).unwrap();
    assert_eq!(
        parsed.to_json_pretty(),
        stored,
        "{file} round-trips byte for byte"
    );
}

#[test]
fn default_linux_configuration_fixture_is_current_and_valid() {
    let config = defaults::linux(defaults::EXAMPLE_ACCOUNT_NAME);
    check_rendered("linux.json", &config.to_json_pretty());
    let paths: Vec<&str> = config
        .files()
        .iter()
        .map(|f| f.file_path.as_str())
        .collect();
    assert_eq!(paths, ["/var/log/messages", "/var/log/secure"]);
}

#[test]
fn default_windows_configuration_fixture_is_current_and_valid() {
    let config = defaults::windows(defaults::EXAMPLE_ACCOUNT_NAME);
    check_rendered("windows.json", &config.to_json_pretty());
    let names: Vec<&str> = config
        .windows_events()
        .iter()
        .map(|e| e.event_name.as_str())
        .collect();
    assert_eq!(names, ["System", "Application", "Security"]);
}

#[test]
fn eventbridge_fixtures_read_the_same_with_both_parsers() {
    for (file, state) in [
        ("ec2-running.json", InstanceState::Running),
        ("ec2-pending.json", InstanceState::Pending),
    ] {
        let text = std::fs::read_to_string(fixtures().join("eventbridge").join(file)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let ours = StateChange::from_json(&value).unwrap();
        assert_eq!(ours.state, state, "{file}");
        let theirs: EventBridgeEvent<StateChangeDetail> = serde_json::from_str(&text).unwrap();
        assert_eq!(theirs.detail.instance_id, ours.instance_id);
        // What we would emit for the same change is what AWS sent, field for field.
        let time = value["time"].as_str().unwrap();
        assert_eq!(ours.to_event_json(time), value, "{file}");
    }
}

/// Every agent configuration a scenario uses: valid ones parse and round-trip; the one kept
/// broken on purpose is refused by the agent's schema at the path the schema names.
#[test]
fn every_scenario_agent_configuration_is_checked_by_the_agents_schema() {
    let dir = support::repo_root().join("scenarios").join("agent-config");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        match name.as_str() {
            "broken-linux.json" => {
                let error = AgentConfig::parse(&text).unwrap_err();
                let issues = error.issues();
                assert_eq!(issues.len(), 1, "{error}");
                assert_eq!(
                    issues[0].path,
                    "$.logs.logs_collected.files.collect_list[0].retention_in_days"
                );
                assert_eq!(issues[0].authority, Authority::AgentSchema);
            }
            _ => {
                let parsed =
                    AgentConfig::parse(&text).unwrap_or_else(|e| panic!("{name} is refused: {e}"));
                let reread: serde_json::Value = serde_json::from_str(&text).unwrap();
                let written: serde_json::Value =
                    serde_json::from_str(&parsed.to_json_pretty()).unwrap();
                assert_eq!(written, reread, "{name} round-trips");
            }
        }
        seen.push(name);
    }
    seen.sort();
    assert_eq!(seen, ["broken-linux.json", "windows-warnings.json"]);
}
