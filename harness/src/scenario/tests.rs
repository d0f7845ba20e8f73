//! Scenario files: the shipped ones load, and every broken rule is reported with its key.

use std::path::{Path, PathBuf};

use super::*;

fn root() -> PathBuf {
    PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned()),
    )
    .join("..")
}

const VALID: &str = r#"
name = "t"
duration = "5m"
[[fleet]]
name = "web"
count = 2
os = "linux"
tags = { CCP-Managed = "true" }
profile = "linux"
[[profiles.linux]]
source = "/var/log/messages"
generator = "messages"
per_minute = 10
"#;

fn issues_of(text: &str) -> Vec<String> {
    let scenario = Scenario::from_toml(text, Path::new("t.toml")).unwrap();
    scenario
        .issues(&root().join("scenarios"))
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// `VALID` with `from` replaced by `to`.
fn broken(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "{from}");
    VALID.replacen(from, to, 1)
}

#[test]
fn the_shipped_scenarios_load_with_their_stacks() {
    for name in ["quickstart.toml", "mixed-fleet.toml", "broken-config.toml"] {
        let loaded = Scenario::load(&root().join("scenarios").join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!loaded.scenario.fleet.is_empty());
    }
    let mixed = Scenario::load(&root().join("scenarios/mixed-fleet.toml")).unwrap();
    assert_eq!(
        mixed.stack.definition.logs.filter_pattern,
        "-CROND -dhclient"
    );
    assert_eq!(mixed.stack.definition.account.name, "Acme");
    let total: usize = mixed.scenario.fleet.iter().map(|g| g.count).sum();
    assert!(total >= 20);
    assert!(mixed.scenario.fleet.iter().any(|g| !g.registers));
    assert!(mixed.scenario.fleet.iter().any(|g| g.tags.is_empty()));
}

#[test]
fn a_valid_scenario_has_no_issues() {
    assert_eq!(issues_of(VALID), Vec::<String>::new());
}

#[test]
fn each_broken_rule_names_its_key() {
    let cases = [
        (
            broken("duration = \"5m\"", "duration = \"0s\""),
            "duration = \"0ms\": must be longer than 0",
        ),
        (
            broken("duration = \"5m\"", "duration = \"15d\""),
            "must be shorter than 14 days",
        ),
        (
            broken("name = \"t\"", "name = \"t\"\nspeed = 0"),
            "speed = 0",
        ),
        (
            broken("name = \"web\"", "name = \"web_1\""),
            "fleet[0].name",
        ),
        (
            broken("count = 2", "count = 0"),
            "fleet[0].count = 0: must be at least 1",
        ),
        (
            broken("profile = \"linux\"", "profile = \"nope\""),
            "fleet[0].profile = \"nope\": is not a profile",
        ),
        (
            broken(
                "tags = { CCP-Managed = \"true\" }",
                "tags = { \"aws:x\" = \"1\" }",
            ),
            "fleet[0].tags",
        ),
        (
            broken("os = \"linux\"", "os = \"linux\"\nlaunch_at = \"5m\""),
            "fleet[0].launch_at",
        ),
        (
            broken("os = \"linux\"", "os = \"linux\"\nlaunch_every = \"5m\""),
            "fleet[0].launch_every = \"5m\": the group's last instance would launch at 300000 ms",
        ),
        (
            broken("per_minute = 10", "per_minute = 0"),
            "profiles.linux[0].per_minute",
        ),
        (
            broken("per_minute = 10", "per_minute = 10\nmulti_line = 2.0"),
            "profiles.linux[0].multi_line",
        ),
        (
            broken("generator = \"messages\"", "generator = \"windows-system\""),
            "writes Windows events",
        ),
        (
            broken("generator = \"messages\"", "generator = \"corpus\""),
            "profiles.linux[0].corpus = (missing): generator `corpus` needs",
        ),
        (
            broken(
                "generator = \"messages\"",
                "generator = \"corpus\"\ncorpus = \"nothing-here.log\"",
            ),
            "is not a file",
        ),
        (
            broken(
                "generator = \"messages\"",
                "generator = \"messages\"\ncorpus = \"../fixtures/loghub/Linux_2k.log\"",
            ),
            "only generator `corpus`",
        ),
        (
            broken(
                "per_minute = 10",
                "per_minute = 10\nbursts = [{ at = \"6m\", lines = 5 }]",
            ),
            "profiles.linux[0].bursts[0].at",
        ),
        (
            format!("{VALID}\n[expect]\nonboarded = 3\n"),
            "expect.onboarded = 3: more than the 2 instances",
        ),
        (
            format!("{VALID}\n[faults]\nlinux_parameter = \"missing.json\"\n"),
            "faults.linux_parameter",
        ),
        (
            broken("per_minute = 10", "per_minute = 10\nlevels = [\"ERROR\"]"),
            "profiles.linux[0].levels = [ERROR]: only Windows generators",
        ),
        (
            broken("os = \"linux\"", "os = \"windows\"").replace(
                "generator = \"messages\"\nper_minute = 10",
                "generator = \"windows-system\"\nper_minute = 10\nlevels = [\"ERROR\"]",
            ),
            "[ERROR]: this generator writes CRITICAL, INFORMATION",
        ),
    ];
    for (text, words) in cases {
        let issues = issues_of(&text);
        assert!(
            issues.iter().any(|i| i.contains(words)),
            "expected an issue with {words:?}, got {issues:?}"
        );
    }
}

#[test]
fn unknown_keys_and_bad_durations_are_syntax_errors_with_the_line() {
    let error =
        Scenario::from_toml(&broken("count = 2", "cuont = 2"), Path::new("t.toml")).unwrap_err();
    assert!(error.to_string().contains("cuont"), "{error}");
    let error =
        Scenario::from_toml(&broken("\"5m\"", "\"5 minutes\""), Path::new("t.toml")).unwrap_err();
    assert!(error.to_string().contains("valid units"), "{error}");
    assert!(error.to_string().contains("line"), "{error}");
}

#[test]
fn a_run_longer_than_the_retention_is_refused_with_the_stack_loaded() {
    let dir = std::env::temp_dir().join(format!("loglab-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("long.toml");
    let text = broken("duration = \"5m\"", "duration = \"4d\"").replace(
        "name = \"t\"",
        &format!("name = \"t\"\nstack = {:?}", root().join("pipeline.toml")),
    );
    std::fs::write(&file, text).unwrap();
    let error = Scenario::load(&file).unwrap_err().to_string();
    assert!(error.contains("retention (3 days)"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_scenario_filter_pattern_replaces_the_stacks_and_is_validated() {
    let dir = std::env::temp_dir().join(format!("loglab-pattern-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("p.toml");
    let with = |pattern: &str| {
        format!(
            "stack = {:?}\n{VALID}\n[subscription]\nfilter_pattern = {pattern:?}\n",
            root().join("pipeline.toml")
        )
    };
    std::fs::write(&file, with("Failed")).unwrap();
    assert_eq!(
        Scenario::load(&file)
            .unwrap()
            .stack
            .definition
            .logs
            .filter_pattern,
        "Failed"
    );
    std::fs::write(&file, with("{ $.level = ")).unwrap();
    let error = Scenario::load(&file).unwrap_err();
    let text = format!("{:#}", anyhow::Error::from(error));
    assert!(text.contains("its stack definition"), "{text}");
    assert!(text.contains("filter_pattern"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn extends_takes_the_base_and_replaces_the_keys_set_here() {
    let dir = std::env::temp_dir().join(format!("loglab-extends-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("base.toml"),
        include_str!("../../../scenarios/quickstart.toml"),
    )
    .unwrap();
    let child = dir.join("child.toml");
    let scenario =
        Scenario::from_toml("extends = \"base.toml\"\nname = \"child\"\n", &child).unwrap();
    assert_eq!((scenario.name.as_str(), scenario.seed), ("child", 1));
    assert_eq!(scenario.fleet.len(), 2, "the base's fleet");
    let error = Scenario::from_toml("extends = \"../base.toml\"\nname = \"x\"\n", &child)
        .unwrap_err()
        .to_string();
    assert!(error.contains("same directory"), "{error}");
    let error = Scenario::from_toml("extends = \"base.toml\"\nspeed = \"fast\"\n", &child)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("speed") && error.contains("extends base.toml"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
