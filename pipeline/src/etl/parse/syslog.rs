//! Syslog lines: RFC 3164 (BSD, as `/var/log/messages` and `/var/log/secure` hold them) and
//! RFC 5424.
//!
//! RFC 3164 in files has no PRI and no year: `Jun 14 15:16:01 combo sshd(pam_unix)[19939]: …`.
//! Modern rsyslog writes an RFC 3339 timestamp in the same position; both are accepted, and
//! an optional `<PRI>` in front (network syslog). The TAG is read up to the first `[` or `:`
//! within [`MAX_TAG_BYTES`] and may hold a few spaces, because real daemons log tags such as
//! `syslogd 1.4.1`. A line without a recognisable tag still yields host and body.

use std::borrow::Cow;

use super::{Format, Parsed};

/// How far into the line after the host a TAG terminator (`[` or `:`) is looked for.
pub const MAX_TAG_BYTES: usize = 48;
/// A TAG with more spaces than this is prose, not a program name.
const MAX_TAG_SPACES: usize = 2;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses a syslog line, or returns `None` when it is not one.
pub fn parse(line: &str) -> Option<Parsed<'_>> {
    let (pri, rest) = split_pri(line);
    if let (Some(_), Some(after_version)) = (pri, rest.strip_prefix("1 ")) {
        return parse_rfc5424(pri, after_version);
    }
    parse_rfc3164(pri, rest)
}

/// The offset of the first `byte` (ASCII) in `s`: a plain loop, cheaper than a general
/// search over the few bytes a syslog field spans.
fn byte_position(s: &str, byte: u8) -> Option<usize> {
    s.bytes().position(|b| b == byte)
}

/// Splits a leading `<PRI>` (0..=191) into (facility, severity).
fn split_pri(line: &str) -> (Option<(u8, u8)>, &str) {
    let Some(rest) = line.strip_prefix('<') else {
        return (None, line);
    };
    let Some(end) = byte_position(rest, b'>').filter(|&end| (1..=3).contains(&end)) else {
        return (None, line);
    };
    match rest[..end].parse::<u8>() {
        Ok(pri) if pri <= 191 && rest[..end].bytes().all(|b| b.is_ascii_digit()) => {
            (Some((pri / 8, pri % 8)), &rest[end + 1..])
        }
        _ => (None, line),
    }
}

/// Length of a BSD timestamp (`Jun 14 15:16:01`, `Jun  9 06:06:20`, `Jun 9 06:06:20`) at the
/// start of `s`.
fn bsd_timestamp_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 14 || !MONTHS.iter().any(|m| s.starts_with(m)) || b[3] != b' ' {
        return None;
    }
    let day_start = if b[4] == b' ' { 5 } else { 4 };
    let day_len = b[day_start..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if !(1..=2).contains(&day_len) {
        return None;
    }
    let time_start = day_start + day_len + 1;
    let time = b.get(time_start..time_start + 8)?;
    if b[time_start - 1] != b' ' || !is_hh_mm_ss(time) {
        return None;
    }
    Some(time_start + 8)
}

fn is_hh_mm_ss(t: &[u8]) -> bool {
    t.len() == 8
        && t[2] == b':'
        && t[5] == b':'
        && [0, 1, 3, 4, 6, 7].iter().all(|&i| t[i].is_ascii_digit())
}

/// Length of an RFC 3339 timestamp (`2021-11-11T21:29:54.123+00:00`) at the start of `s`.
fn rfc3339_timestamp_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let looks_like_date = b.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && is_hh_mm_ss(&b[11..19]);
    looks_like_date.then(|| byte_position(s, b' ').unwrap_or(s.len()))
}

fn parse_rfc3164(pri: Option<(u8, u8)>, line: &str) -> Option<Parsed<'_>> {
    let ts_len = bsd_timestamp_len(line).or_else(|| rfc3339_timestamp_len(line))?;
    let syslog_time = &line[..ts_len];
    let after_ts = line[ts_len..].strip_prefix(' ')?;
    let host_len = byte_position(after_ts, b' ').unwrap_or(after_ts.len());
    if host_len == 0 {
        return None;
    }
    let host = &after_ts[..host_len];
    let after_host = after_ts[host_len..].trim_start_matches(' ');
    let (program, pid, body) = split_tag(after_host);
    Some(Parsed {
        format: Some(Format::Rfc3164),
        host: Some(Cow::Borrowed(host)),
        program: program.map(Cow::Borrowed),
        pid,
        facility: pri.map(|p| p.0),
        severity: pri.map(|p| p.1),
        syslog_time: Some(Cow::Borrowed(syslog_time)),
        body: Some(Cow::Borrowed(body)),
        ..Parsed::default()
    })
}

/// Splits `TAG[PID]: body` / `TAG: body`; returns the whole text as body when no tag is found.
fn split_tag(s: &str) -> (Option<&str>, Option<u32>, &str) {
    let window = &s.as_bytes()[..s.len().min(MAX_TAG_BYTES)];
    let Some(end) = window.iter().position(|&c| c == b'[' || c == b':') else {
        return (None, None, s);
    };
    let tag = s[..end].trim_end();
    if tag.is_empty() || tag.bytes().filter(|&c| c == b' ').count() > MAX_TAG_SPACES {
        return (None, None, s);
    }
    let after_colon = |rest: &'_ str| -> Option<usize> {
        rest.strip_prefix(':')
            .map(|r| s.len() - r.strip_prefix(' ').unwrap_or(r).len())
    };
    if s.as_bytes()[end] == b':' {
        let body_start = after_colon(&s[end..]).unwrap_or(end + 1);
        return (Some(tag), None, &s[body_start..]);
    }
    // `[`: a pid, then `]`, then normally `:`.
    let Some(close) = byte_position(&s[end..], b']').map(|i| end + i) else {
        return (None, None, s);
    };
    let pid = s[end + 1..close].parse::<u32>().ok();
    let after_bracket = &s[close + 1..];
    let body_start = after_colon(after_bracket)
        .unwrap_or_else(|| s.len() - after_bracket.trim_start_matches(' ').len());
    (Some(tag), pid, &s[body_start..])
}

fn parse_rfc5424(pri: Option<(u8, u8)>, s: &str) -> Option<Parsed<'_>> {
    let mut rest = s;
    let mut field = || -> Option<Option<&str>> {
        let end = byte_position(rest, b' ')?;
        let value = &rest[..end];
        rest = &rest[end + 1..];
        Some((value != "-").then_some(value))
    };
    let timestamp = field()?;
    let host = field()?;
    let app = field()?;
    let procid = field()?;
    let msgid = field()?;
    let (structured_data, msg) = split_structured_data(rest)?;
    let body = msg.map(|m| m.strip_prefix('\u{feff}').unwrap_or(m));
    Some(Parsed {
        format: Some(Format::Rfc5424),
        host: host.map(Cow::Borrowed),
        program: app.map(Cow::Borrowed),
        pid: procid.and_then(|p| p.parse().ok()),
        facility: pri.map(|p| p.0),
        severity: pri.map(|p| p.1),
        syslog_time: timestamp.map(Cow::Borrowed),
        msgid: msgid.map(Cow::Borrowed),
        structured_data: structured_data.map(Cow::Borrowed),
        body: body.map(Cow::Borrowed),
        ..Parsed::default()
    })
}

/// Splits `STRUCTURED-DATA [SP MSG]`: either `-` or one or more `[id k="v" …]` elements,
/// whose quoted values may escape `"`, `\` and `]` with a backslash.
fn split_structured_data(s: &str) -> Option<(Option<&str>, Option<&str>)> {
    let b = s.as_bytes();
    let sd_end = if b.first() == Some(&b'-') {
        1
    } else {
        let mut i = 0;
        while b.get(i) == Some(&b'[') {
            let (mut quoted, mut escaped) = (false, false);
            i += 1;
            loop {
                let c = *b.get(i)?;
                i += 1;
                match (c, quoted, escaped) {
                    (_, _, true) => escaped = false,
                    (b'\\', true, false) => escaped = true,
                    (b'"', _, false) => quoted = !quoted,
                    (b']', false, false) => break,
                    _ => {}
                }
            }
        }
        if i == 0 {
            return None;
        }
        i
    };
    let sd = (b[0] != b'-').then(|| &s[..sd_end]);
    match b.get(sd_end) {
        None => Some((sd, None)),
        Some(b' ') => Some((sd, Some(&s[sd_end + 1..]))),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Parsed<'_> {
        parse(line).unwrap_or_else(|| panic!("not parsed: {line}"))
    }

    #[test]
    fn rfc3164_file_lines() {
        let x = p(
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0",
        );
        assert_eq!(x.format, Some(Format::Rfc3164));
        assert_eq!(x.syslog_time.as_deref(), Some("Jun 14 15:16:01"));
        assert_eq!(x.host.as_deref(), Some("combo"));
        assert_eq!(x.program.as_deref(), Some("sshd(pam_unix)"));
        assert_eq!(x.pid, Some(19939));
        assert_eq!(
            x.body.as_deref(),
            Some("authentication failure; logname= uid=0")
        );

        let x = p("Jun  9 06:06:20 combo syslogd 1.4.1: restart.");
        assert_eq!(x.syslog_time.as_deref(), Some("Jun  9 06:06:20"));
        assert_eq!(
            (x.program.as_deref(), x.pid, x.body.as_deref()),
            (Some("syslogd 1.4.1"), None, Some("restart."))
        );

        let x = p("Jul 27 14:41:58 combo kernel: SELinux:  Initializing.");
        assert_eq!(
            (x.program.as_deref(), x.body.as_deref()),
            (Some("kernel"), Some("SELinux:  Initializing."))
        );

        let x = p("Jul  7 08:06:15 combo  -- root[2421]: ROOT LOGIN ON tty2");
        assert_eq!(
            (x.host.as_deref(), x.program.as_deref(), x.pid),
            (Some("combo"), Some("-- root"), Some(2421))
        );
    }

    #[test]
    fn rfc3164_with_pri_and_rfc3339_timestamps() {
        let x = p("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
        assert_eq!((x.facility, x.severity), (Some(4), Some(2)));
        assert_eq!(x.program.as_deref(), Some("su"));
        assert_eq!(
            x.body.as_deref(),
            Some("'su root' failed for lonvick on /dev/pts/8")
        );

        let x = p("2021-11-11T21:29:54.123456+00:00 ip-10-0-0-5 systemd[1]: Started Session 3.");
        assert_eq!(
            x.syslog_time.as_deref(),
            Some("2021-11-11T21:29:54.123456+00:00")
        );
        assert_eq!(
            (x.host.as_deref(), x.program.as_deref(), x.pid),
            (Some("ip-10-0-0-5"), Some("systemd"), Some(1))
        );
    }

    #[test]
    fn lines_without_a_tag_keep_host_and_body() {
        let x = p("Jun 14 15:16:01 combo this line has no tag at all and goes on");
        assert_eq!(x.program, None);
        assert_eq!(
            x.body.as_deref(),
            Some("this line has no tag at all and goes on")
        );
        let x = p("Jun 14 15:16:01 combo many words before a colon here: body");
        assert_eq!(x.program, None, "a tag with more than two spaces is prose");
    }

    #[test]
    fn rfc5424_examples_from_the_rfc() {
        let x = p(
            "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed for lonvick on /dev/pts/8",
        );
        assert_eq!(x.format, Some(Format::Rfc5424));
        assert_eq!((x.facility, x.severity), (Some(4), Some(2)));
        assert_eq!(x.host.as_deref(), Some("mymachine.example.com"));
        assert_eq!(x.program.as_deref(), Some("su"));
        assert_eq!(x.pid, None);
        assert_eq!(x.msgid.as_deref(), Some("ID47"));
        assert_eq!(x.structured_data, None);
        assert_eq!(
            x.body.as_deref(),
            Some("'su root' failed for lonvick on /dev/pts/8")
        );

        let x = p(
            r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 8710 ID47 [exampleSDID@32473 iut="3" eventSource="App\"li]cation"][examplePriority@32473 class="high"] An application event"#,
        );
        assert_eq!(x.pid, Some(8710));
        assert_eq!(
            x.structured_data.as_deref(),
            Some(
                r#"[exampleSDID@32473 iut="3" eventSource="App\"li]cation"][examplePriority@32473 class="high"]"#
            )
        );
        assert_eq!(x.body.as_deref(), Some("An application event"));

        let x = p("<165>1 2003-10-11T22:14:15.003Z host app - - -");
        assert_eq!((x.structured_data, x.body), (None, None));
    }

    #[test]
    fn non_syslog_is_not_parsed() {
        for line in [
            "",
            "hello",
            "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack",
            "Jun 14 15:16:01",
            "Jun 14 15:16:01 ",
            "Foo 14 15:16:01 host prog: x",
            "<999>Jun 14 15:16:01 host prog: x",
            "<34>1 2003-10-11T22:14:15.003Z host app - - [unterminated",
        ] {
            assert_eq!(parse(line), None, "{line:?}");
        }
    }
}
