//! Log line generators for the simulated CloudWatch agent: realistic `/var/log/messages` and
//! `/var/log/secure` syslog lines and Windows System, Application and Security events as Event
//! XML. Each line comes with the fields it was generated from, so a test (and the harness's
//! ledger) can check what the ETL recovers without trusting the pipeline's own output.

mod syslog;
mod windows;

pub use syslog::{SyslogFields, bsd_timestamp as syslog_timestamp, messages_line, secure_line};
pub use windows::{WindowsChannel, WindowsFields, windows_event};

/// A generated line and the fields it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated<F> {
    /// The line, as the agent would ship it.
    pub message: String,
    /// What it was made from.
    pub fields: F,
}

#[cfg(test)]
mod tests;
