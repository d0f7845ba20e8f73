//! `loglab up` and `loglab down` as a user runs them: `up` leaves the emulator (here the
//! tests' LocalStack, given by URL) and the Glue and Athena stand-ins running and says where;
//! `loglab provision` with `AWS_ENDPOINT_URL_GLUE` and `AWS_ENDPOINT_URL_ATHENA` set creates
//! the stack's Glue database and table and its Athena workgroup and saved queries there and
//! audits them; `down` stops `up`, which exits cleanly and leaves no state behind.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn up_serves_glue_and_athena_for_provision_and_down_stops_it() {
    let Some(url) = support::endpoint() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("loglab-up-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (port, athena_port) = (free_port(), free_port());
    let mut up = Command::new(env!("CARGO_BIN_EXE_loglab"))
        .current_dir(&dir)
        .args(["up", "--backend", &format!("endpoint={url}")])
        .args(["--glue-port", &port.to_string()])
        .args(["--athena-port", &athena_port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let state = dir.join(".loglab/up.json");
    let started = Instant::now();
    while !state.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "loglab up wrote no state"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let glue = format!("http://127.0.0.1:{port}");
    let athena = format!("http://127.0.0.1:{athena_port}");
    let provision = Command::new(env!("CARGO_BIN_EXE_loglab"))
        .current_dir(&dir)
        .env("AWS_ENDPOINT_URL_GLUE", &glue)
        .env("AWS_ENDPOINT_URL_ATHENA", &athena)
        .arg("--definition")
        .arg(support::root().join("pipeline.toml"))
        .args(["provision", "--backend", &format!("endpoint={url}")])
        .args(["--region", "eu-south-2"])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&provision.stdout);
    assert!(
        provision.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&provision.stderr)
    );
    for id in [
        "GlueDatabase",
        "GlueTable",
        "AthenaWorkGroup",
        "SavedQuery1",
    ] {
        let line = printed
            .lines()
            .find(|l| l.trim_start().starts_with(id))
            .unwrap_or_else(|| panic!("{id} not applied: {printed}"));
        assert!(
            line.ends_with("created") || line.ends_with("unchanged"),
            "{line}"
        );
    }

    let down = Command::new(env!("CARGO_BIN_EXE_loglab"))
        .current_dir(&dir)
        .arg("down")
        .output()
        .unwrap();
    assert!(down.status.success());
    let exit = up.wait().unwrap();
    let mut said = String::new();
    std::io::Read::read_to_string(up.stdout.as_mut().unwrap(), &mut said).unwrap();
    assert!(exit.success(), "{said}");
    assert!(
        said.contains(&format!(
            "AWS_ENDPOINT_URL_GLUE={glue} AWS_ENDPOINT_URL_ATHENA={athena}"
        )),
        "{said}"
    );
    assert!(said.trim_end().ends_with("stopped"), "{said}");
    assert!(!state.exists() && !dir.join(".loglab/up.stopping").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
