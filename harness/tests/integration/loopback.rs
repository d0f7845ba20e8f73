//! Every port the harness opens listens on the loopback interface only (the kernel's own
//! tables say where a socket listens): here the emulators the scripts start (LocalStack host,
//! MiniStack); in `backends.rs` the LocalStack container's published port; in
//! `standins/tests/integration/firehose.rs` the stand-ins' JSON endpoint (Firehose's and SSM's
//! server); in `standins/tests/integration/lambda_runtime.rs` the Lambda Runtime API
//! (cargo-lambda's, started with `-A 127.0.0.1`).
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use crate::support;

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"))
}

#[test]
fn the_emulators_listen_on_loopback_only() {
    if let Some(url) = support::endpoint() {
        support::assert_loopback_only(port_of(&url), "LocalStack");
    }
    if let Some(url) = support::ministack_endpoint() {
        support::assert_loopback_only(port_of(&url), "MiniStack");
    }
}

#[test]
fn a_listener_on_every_interface_is_caught() {
    let open = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = open.local_addr().unwrap().port();
    let addresses = support::listening_addresses(port);
    assert!(
        addresses.iter().any(|a| !a.is_loopback()),
        "the kernel's table shows {addresses:?} for a socket bound to 0.0.0.0"
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    support::assert_loopback_only(closed.local_addr().unwrap().port(), "a loopback listener");
}
