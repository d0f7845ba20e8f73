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

/// The table's own rows (as `/proc/net/tcp` writes them) for a socket on every interface and
/// one on loopback, both listening on port 4566 (0x11D6), and one connected there: only the
/// first is exposed, and the connected one is no listener.
#[test]
fn a_listener_on_every_interface_is_caught() {
    let table = "  sl  local_address rem_address   st tx_queue rx_queue\n\
                 \x20  0: 00000000:11D6 00000000:0000 0A 00000000:00000000\n\
                 \x20  1: 0100007F:11D6 00000000:0000 0A 00000000:00000000\n\
                 \x20  2: 0100007F:11D6 0100007F:9C40 01 00000000:00000000\n";
    let found = support::listeners_in(table, 4566, false);
    assert_eq!(
        found,
        [
            std::net::IpAddr::from([0, 0, 0, 0]),
            std::net::IpAddr::from([127, 0, 0, 1])
        ]
    );
    assert!(!found[0].is_loopback() && found[1].is_loopback());
    let v6 = "  sl  local_address remote st\n\
              \x20  0: 00000000000000000000000001000000:11D6 0:0 0A\n";
    assert_eq!(
        support::listeners_in(v6, 4566, true),
        [std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)]
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    support::assert_loopback_only(closed.local_addr().unwrap().port(), "a loopback listener");
}
