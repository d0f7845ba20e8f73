//! Syslog lines in the BSD format rsyslog writes to `/var/log/messages` and `/var/log/secure`:
//! `Mmm dd hh:mm:ss host program[pid]: body`.

use rand::{Rng, RngExt as _};
use time::OffsetDateTime;

use super::Generated;

/// The fields of a syslog line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogFields {
    /// Event time, epoch milliseconds (the line has second precision and no year).
    pub timestamp_ms: i64,
    /// The host field.
    pub host: String,
    /// The program.
    pub program: String,
    /// The pid, when the line has one.
    pub pid: Option<u32>,
    /// The message after the header.
    pub body: String,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Mmm dd hh:mm:ss` with the day space-padded, as rsyslog writes it.
pub fn bsd_timestamp(timestamp_ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(timestamp_ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn line(fields: SyslogFields) -> Generated<SyslogFields> {
    let tag = match fields.pid {
        Some(pid) => format!("{}[{pid}]", fields.program),
        None => fields.program.clone(),
    };
    Generated {
        message: format!(
            "{} {} {tag}: {}",
            bsd_timestamp(fields.timestamp_ms),
            fields.host,
            fields.body
        ),
        fields,
    }
}

fn ip(rng: &mut impl Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.random_range(1..224u8),
        rng.random_range(0..=255u8),
        rng.random_range(0..=255u8),
        rng.random_range(1..255u8)
    )
}

/// A `/var/log/messages` line: systemd, kernel, dhclient, chronyd, CRON and the like.
pub fn messages_line(rng: &mut impl Rng, host: &str, timestamp_ms: i64) -> Generated<SyslogFields> {
    let pid = Some(rng.random_range(300..65_000));
    let (program, pid, body) = match rng.random_range(0..6u8) {
        0 => (
            "systemd",
            Some(1),
            format!(
                "Started Session {} of user ec2-user.",
                rng.random_range(1..5_000)
            ),
        ),
        1 => (
            "kernel",
            None,
            format!(
                "[{}.{:06}] xfs filesystem being remounted at / supports timestamps until 2038",
                rng.random_range(1..900_000),
                rng.random_range(0..1_000_000)
            ),
        ),
        2 => (
            "dhclient",
            pid,
            format!(
                "DHCPREQUEST on eth0 to {} port 67 (xid=0x{:08x})",
                ip(rng),
                rng.random::<u32>()
            ),
        ),
        3 => ("chronyd", pid, format!("Selected source {}", ip(rng))),
        4 => (
            "CROND",
            pid,
            "(root) CMD (/usr/lib64/sa/sa1 1 1)".to_owned(),
        ),
        _ => (
            "amazon-ssm-agent",
            pid,
            "INFO [HealthCheck] HealthCheck reporting agent health.".to_owned(),
        ),
    };
    line(SyslogFields {
        timestamp_ms,
        host: host.to_owned(),
        program: program.to_owned(),
        pid,
        body,
    })
}

/// A `/var/log/secure` line: sshd logins accepted and failed, invalid users, sudo.
pub fn secure_line(rng: &mut impl Rng, host: &str, timestamp_ms: i64) -> Generated<SyslogFields> {
    let pid = rng.random_range(300..65_000);
    let users = ["ec2-user", "admin", "root", "ubuntu", "oracle", "test"];
    let user = users[rng.random_range(0..users.len())];
    let port = rng.random_range(1024..65_535);
    let (program, body) = match rng.random_range(0..4u8) {
        0 => (
            "sshd",
            format!(
                "Failed password for {user} from {} port {port} ssh2",
                ip(rng)
            ),
        ),
        1 => (
            "sshd",
            format!(
                "Accepted publickey for {user} from {} port {port} ssh2: RSA SHA256:{:016x}",
                ip(rng),
                rng.random::<u64>()
            ),
        ),
        2 => (
            "sshd",
            format!("Invalid user {user} from {} port {port}", ip(rng)),
        ),
        _ => (
            "sudo",
            format!(
                "{user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/bin/systemctl restart amazon-cloudwatch-agent"
            ),
        ),
    };
    line(SyslogFields {
        timestamp_ms,
        host: host.to_owned(),
        program: program.to_owned(),
        pid: Some(pid),
        body,
    })
}
