//! Windows events as the CloudWatch agent ships them with `event_format: xml`: Event XML with
//! System, EventData and RenderingInfo.

use rand::{Rng, RngExt as _};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Generated;

/// The event logs the pipeline's default Windows configuration collects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowsChannel {
    /// System.
    System,
    /// Application.
    Application,
    /// Security.
    Security,
}

impl WindowsChannel {
    /// The channel's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::System => "System",
            Self::Application => "Application",
            Self::Security => "Security",
        }
    }
}

/// The fields of a generated event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsFields {
    /// Channel.
    pub channel: WindowsChannel,
    /// Provider name.
    pub provider: String,
    /// EventID.
    pub event_id: u32,
    /// Level number (1 Critical … 4 Information; Security audits use 0).
    pub level: u8,
    /// Computer name.
    pub computer: String,
    /// EventRecordID.
    pub record_id: u64,
    /// TimeCreated/@SystemTime as written.
    pub time_created: String,
    /// The rendered message.
    pub message: String,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

/// The `EventData` items of the Security logon events, as Windows writes them for 4624 and
/// 4625 (`TargetUserName`, `IpAddress`, `LogonType`; Microsoft's "4625(F): An account failed
/// to log on" lists these fields) and 4672 (`SubjectUserName`). The user comes from the
/// message; the source address from the record id (a documentation range, RFC 5737), so that
/// no random draw is added and every seed writes the same events as before.
fn event_data(event_id: u32, message: &str, record_id: u64) -> String {
    let user = escape(message.rsplit("Account Name: ").next().unwrap_or_default());
    match event_id {
        4624 | 4625 => format!(
            "<Data Name='TargetUserName'>{user}</Data><Data Name='IpAddress'>203.0.113.{}</Data><Data Name='LogonType'>3</Data>",
            record_id % 5 + 10
        ),
        4672 => format!("<Data Name='SubjectUserName'>{user}</Data>"),
        _ => String::new(),
    }
}

/// One event of `channel` at `timestamp_ms`, numbered `record_id`.
pub fn windows_event(
    rng: &mut impl Rng,
    channel: WindowsChannel,
    computer: &str,
    record_id: u64,
    timestamp_ms: i64,
) -> Generated<WindowsFields> {
    let (provider, event_id, level, message) = match channel {
        WindowsChannel::System => match rng.random_range(0..3u8) {
            0 => ("Service Control Manager", 7036, 4, "The Windows Update service entered the running state.".to_owned()),
            1 => ("Microsoft-Windows-Kernel-General", 16, 4, "The access history in hive \\??\\C:\\Users\\Administrator\\ntuser.dat was cleared.".to_owned()),
            _ => ("Service Control Manager", 7031, 1, "The Amazon SSM Agent service terminated unexpectedly. It has done this 1 time(s).".to_owned()),
        },
        WindowsChannel::Application => match rng.random_range(0..3u8) {
            0 => ("Application Error", 1000, 2, format!("Faulting application name: app.exe, version: 1.0.{}.0, faulting module name: ntdll.dll", rng.random_range(0..99))),
            1 => ("MsiInstaller", 11707, 4, "Product: Amazon CloudWatch Agent -- Installation completed successfully.".to_owned()),
            _ => ("Windows Error Reporting", 1001, 3, "Fault bucket , type 0 & more: <none>".to_owned()),
        },
        WindowsChannel::Security => {
            let user = ["Administrator", "svc-backup", "jdoe"][rng.random_range(0..3usize)];
            match rng.random_range(0..3u8) {
                0 => ("Microsoft-Windows-Security-Auditing", 4624, 0, format!("An account was successfully logged on. Account Name: {user}")),
                1 => ("Microsoft-Windows-Security-Auditing", 4625, 0, format!("An account failed to log on. Account Name: {user}")),
                _ => ("Microsoft-Windows-Security-Auditing", 4672, 0, format!("Special privileges assigned to new logon. Account Name: {user}")),
            }
        }
    };
    let time = OffsetDateTime::from_unix_timestamp_nanos(i128::from(timestamp_ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let time_created = time.format(&Rfc3339).unwrap_or_default();
    let fields = WindowsFields {
        channel,
        provider: provider.to_owned(),
        event_id,
        level,
        computer: computer.to_owned(),
        record_id,
        time_created,
        message,
    };
    let xml = format!(
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='{provider}'/><EventID>{event_id}</EventID><Version>0</Version><Level>{level}</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x8080000000000000</Keywords><TimeCreated SystemTime='{time}'/><EventRecordID>{record_id}</EventRecordID><Channel>{channel}</Channel><Computer>{computer}</Computer><Security/></System><EventData>{data}</EventData><RenderingInfo Culture='en-US'><Message>{message}</Message><Level>{level_name}</Level></RenderingInfo></Event>",
        data = event_data(event_id, &fields.message, record_id),
        provider = escape(&fields.provider),
        time = fields.time_created,
        channel = channel.name(),
        computer = escape(computer),
        message = escape(&fields.message),
        level_name = pipeline::etl::parse::windows::level_name(level),
    );
    Generated {
        message: xml,
        fields,
    }
}
