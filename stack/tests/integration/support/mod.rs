//! Helpers for the tests that need an emulator or the repository (the stand-ins, harness and CLI
//! tests use them too,
//! through `#[path]`).
#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(clippy::panic, reason = "a missing emulator must stop the test loudly")]

use std::path::PathBuf;

use stack::{Stack, StackDefinition};

/// The emulator's URL (`pipeline::emulator::test_endpoint`): in CI a missing emulator fails
/// the test; elsewhere `LOGLAB_SKIP_LOCALSTACK=1` skips it, saying so.
pub fn endpoint() -> Option<String> {
    pipeline::emulator::test_endpoint().unwrap_or_else(|e| panic!("{e}"))
}

/// The second emulator's URL (`MINISTACK_ENDPOINT`, scripts/ministack-host.sh): in CI a
/// missing one fails the test; elsewhere `LOGLAB_SKIP_MINISTACK=1` skips it, saying so.
pub fn ministack_endpoint() -> Option<String> {
    pipeline::emulator::test_endpoint_of(pipeline::emulator::Emulator::MiniStack)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned()),
    )
    .join("..")
}

/// A validated stack from `definition`.
pub fn stack(definition: StackDefinition) -> Stack {
    Stack::from_definition(definition, &root().join("pipeline.toml"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The profile of the Lambda artifacts the tests use: `LOGLAB_LAMBDA_PROFILE`, else `fast`
/// (what scripts/test.sh builds).
pub fn lambda_profile() -> stack::artifacts::Profile {
    let name = std::env::var("LOGLAB_LAMBDA_PROFILE").unwrap_or_else(|_| "fast".to_owned());
    stack::artifacts::Profile::from_name(&name)
        .unwrap_or_else(|| panic!("LOGLAB_LAMBDA_PROFILE={name}: expected release or fast"))
}

/// The Lambda artifacts `loglab build` wrote (scripts/test.sh builds them before the tests),
/// with their manifest. Missing artifacts fail the test with the command that builds them.
pub fn lambda_artifacts() -> (PathBuf, stack::artifacts::Manifest) {
    let dir = stack::artifacts::default_dir(&root(), lambda_profile());
    let manifest = stack::artifacts::Manifest::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    (dir, manifest)
}

/// The local addresses sockets listen on for TCP `port`, from the kernel's tables
/// (`/proc/net/tcp` and `tcp6`): what an outside host could reach.
pub fn listening_addresses(port: u16) -> Vec<std::net::IpAddr> {
    [("/proc/net/tcp", false), ("/proc/net/tcp6", true)]
        .into_iter()
        .filter_map(|(table, v6)| Some((std::fs::read_to_string(table).ok()?, v6)))
        .flat_map(|(text, v6)| listeners_in(&text, port, v6))
        .collect()
}

/// The addresses listening on `port` in one kernel table's text (state `0A` = LISTEN).
pub fn listeners_in(table: &str, port: u16, v6: bool) -> Vec<std::net::IpAddr> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (address, hex_port) = fields.get(1)?.split_once(':')?;
            let listening = *fields.get(3)? == "0A";
            (listening && u16::from_str_radix(hex_port, 16).ok() == Some(port))
                .then(|| kernel_address(address, v6))
        })
        .collect()
}

/// An address as /proc/net/tcp writes it: 32-bit words in host (little-endian) order.
fn kernel_address(hex: &str, v6: bool) -> std::net::IpAddr {
    let words: Vec<u32> = (0..hex.len() / 8)
        .map(|i| {
            u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16)
                .unwrap_or(0)
                .swap_bytes()
        })
        .collect();
    if v6 {
        let mut octets = [0u8; 16];
        for (i, word) in words.iter().enumerate().take(4) {
            octets[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
        }
        std::net::IpAddr::V6(std::net::Ipv6Addr::from(octets))
    } else {
        std::net::IpAddr::V4(std::net::Ipv4Addr::from(
            words.first().copied().unwrap_or(0),
        ))
    }
}

/// Asserts that something listens on `port` and only on a loopback address.
pub fn assert_loopback_only(port: u16, what: &str) {
    let addresses = listening_addresses(port);
    assert!(
        !addresses.is_empty(),
        "{what}: nothing listens on port {port}"
    );
    let exposed: Vec<_> = addresses.iter().filter(|a| !a.is_loopback()).collect();
    assert!(
        exposed.is_empty(),
        "{what} on port {port} listens beyond the loopback interface: {exposed:?}"
    );
}

/// A CloudFormation stack `name` on the emulator whose outputs are `outputs` (with one SSM
/// parameter, as a stack needs a resource): what `loglab verify` reads a deployed stack's
/// names from, for resources the test provisioned through the SDK.
pub async fn outputs_stack(
    cfn: &aws_sdk_cloudformation::Client,
    name: &str,
    outputs: &[(&str, &str)],
) {
    let outputs: serde_json::Map<String, serde_json::Value> = outputs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::json!({ "Value": v })))
        .collect();
    let template = serde_json::json!({
        "Resources": { "Marker": { "Type": "AWS::SSM::Parameter", "Properties": {
            "Name": format!("/loglab/{name}"), "Type": "String", "Value": "outputs" } } },
        "Outputs": outputs,
    });
    let created = cfn
        .create_stack()
        .stack_name(name)
        .template_body(template.to_string())
        .send()
        .await;
    if let Err(e) = created {
        panic!("creating stack {name}: {e:?}");
    }
    for _ in 0..120 {
        let status = cfn
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .ok()
            .and_then(|d| {
                d.stacks()
                    .first()
                    .and_then(|s| s.stack_status())
                    .map(|s| s.as_str().to_owned())
            })
            .unwrap_or_default();
        if status == "CREATE_COMPLETE" {
            return;
        }
        assert!(!status.contains("FAIL"), "stack {name}: {status}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("stack {name} was not created");
}

/// The python of the cached venv with boto3 and PyAthena from PyPI (`scripts/boto3.sh`
/// installs them on first use): the Python clients our users have.
pub fn python_clients() -> String {
    script_stdout("scripts/boto3.sh")
}

/// What one of the project's install scripts prints (a tool's path), run with bash; the
/// script's own error when it fails.
pub fn script_stdout(script: &str) -> String {
    let script = root().join(script);
    let out = std::process::Command::new("bash")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{}: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
