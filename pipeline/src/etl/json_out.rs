//! JSON written straight into a byte buffer, byte for byte as `serde_json` writes the same
//! values (the row format's reference: docs/rows.md, the snapshot tests), without its
//! per-value overhead.
//!
//! Strings are copied in runs: the escaper looks at eight bytes at a time for the few that
//! JSON needs escaped (`"`, `\` and the control characters below 0x20) and copies everything
//! else as it is. The escapes are serde_json's: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`,
//! and `\u00XX` with lower-case hex for the other control characters; DEL and non-ASCII pass
//! through.

/// Writes `text` as a JSON string, quotes included; whether it needed no escape.
pub fn string(out: &mut Vec<u8>, text: &str) -> bool {
    out.reserve(text.len() + 2);
    let before = out.len();
    out.push(b'"');
    escaped(out, text.as_bytes());
    out.push(b'"');
    out.len() - before == text.len() + 2
}

/// Writes `text` as a JSON string; when it lies inside `clean`, a text that needed no escape,
/// it is copied without a look at its bytes (a part of a clean text is clean).
pub fn string_within(out: &mut Vec<u8>, text: &str, clean: Option<&str>) {
    let inside = clean.is_some_and(|parent| {
        let (start, part) = (parent.as_ptr() as usize, text.as_ptr() as usize);
        part >= start && part + text.len() <= start + parent.len()
    });
    if inside {
        clean_string(out, text);
    } else {
        string(out, text);
    }
}

/// Writes `text`, known to need no escape, as a JSON string: quotes around its bytes.
pub fn clean_string(out: &mut Vec<u8>, text: &str) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// Writes `text` escaped for the inside of a JSON string.
pub fn escaped(out: &mut Vec<u8>, text: &[u8]) {
    let mut run_start = 0;
    let mut chunks = text.chunks_exact(8);
    let mut at = 0;
    for chunk in chunks.by_ref() {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        if needs_escape_in(word) {
            escape_bytes(out, text, at, chunk, &mut run_start);
        }
        at += 8;
    }
    let rest = chunks.remainder();
    // The last bytes, padded with spaces (which need no escape) to one word: a short clean
    // string is copied without a look at each byte.
    let mut padded = [b' '; 8];
    padded[..rest.len()].copy_from_slice(rest);
    if needs_escape_in(u64::from_le_bytes(padded)) {
        escape_bytes(out, text, at, rest, &mut run_start);
    }
    out.extend_from_slice(&text[run_start..]);
}

/// Escapes the bytes of `piece` (which starts at `at` in `text`) that need it, copying the
/// run of clean bytes before each from `run_start`.
fn escape_bytes(out: &mut Vec<u8>, text: &[u8], at: usize, piece: &[u8], run_start: &mut usize) {
    for (offset, &byte) in piece.iter().enumerate() {
        if let Some(escape) = escape_of(byte) {
            out.extend_from_slice(&text[*run_start..at + offset]);
            escape.write(out);
            *run_start = at + offset + 1;
        }
    }
}

/// Whether any of the eight bytes of `word` is below 0x20, `"` or `\`.
fn needs_escape_in(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // A byte below n sets its high bit in (b - n) & !b (the standard zero-byte trick).
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let is_quote = quote.wrapping_sub(ONES) & !quote;
    let is_backslash = backslash.wrapping_sub(ONES) & !backslash;
    (below_space | is_quote | is_backslash) & HIGHS != 0
}

/// How serde_json escapes one byte, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    Short(u8),
    Unicode(u8),
}

impl Escape {
    fn write(self, out: &mut Vec<u8>) {
        match self {
            Self::Short(c) => out.extend_from_slice(&[b'\\', c]),
            Self::Unicode(byte) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(byte >> 4)],
                    HEX[usize::from(byte & 0xf)],
                ]);
            }
        }
    }
}

/// Whether the body of a valid JSON string (the bytes between its quotes) is byte for byte
/// what [`escaped`] writes for the text it stands for: every escape sequence in it is the one
/// serde_json writes for its character (`\/`, `\u0041` or `\u001F` are not).
pub fn is_as_escaped(body: &[u8]) -> bool {
    let mut from = 0;
    while let Some(found) = memchr::memchr(b'\\', &body[from..]) {
        let at = from + found;
        let (written, len) = match body.get(at + 1) {
            Some(b'u') => {
                let value = body
                    .get(at + 2..at + 6)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex.strip_prefix("00")?, 16).ok());
                (value.and_then(escape_of), 6)
            }
            Some(&short) => (unescaped(short).and_then(escape_of), 2),
            None => return false,
        };
        let mut expected = Vec::with_capacity(6);
        match written {
            Some(escape) => escape.write(&mut expected),
            None => return false,
        }
        if body.get(at..at + len) != Some(&expected[..]) {
            return false;
        }
        from = at + len;
    }
    true
}

/// The byte a two-character JSON escape `\<short>` stands for.
fn unescaped(short: u8) -> Option<u8> {
    Some(match short {
        b'"' | b'\\' | b'/' => short,
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        _ => return None,
    })
}

fn escape_of(byte: u8) -> Option<Escape> {
    Some(match byte {
        b'"' => Escape::Short(b'"'),
        b'\\' => Escape::Short(b'\\'),
        0x08 => Escape::Short(b'b'),
        0x0c => Escape::Short(b'f'),
        b'\n' => Escape::Short(b'n'),
        b'\r' => Escape::Short(b'r'),
        b'\t' => Escape::Short(b't'),
        0..=0x1f => Escape::Unicode(byte),
        _ => return None,
    })
}

/// Writes an integer.
pub fn integer(out: &mut Vec<u8>, value: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Writes `value` as a string, or `null`.
pub fn string_or_null(out: &mut Vec<u8>, value: Option<&str>) {
    string_or_null_within(out, value, None);
}

/// Writes `value` as a string ([`string_within`] `clean`), or `null`.
pub fn string_or_null_within(out: &mut Vec<u8>, value: Option<&str>, clean: Option<&str>) {
    match value {
        Some(text) => string_within(out, text, clean),
        None => out.extend_from_slice(b"null"),
    }
}

/// Writes `value` as an integer, or `null`.
pub fn integer_or_null(out: &mut Vec<u8>, value: Option<impl itoa::Integer>) {
    match value {
        Some(n) => integer(out, n),
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn written(text: &str) -> String {
        let mut out = Vec::new();
        string(&mut out, text);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn every_escape_is_serde_jsons() {
        for byte in 0u8..=0x7f {
            let text = format!("ab{}cdefghij", char::from(byte));
            assert_eq!(
                written(&text),
                serde_json::to_string(&text).unwrap_or_default(),
                "byte {byte:#04x}"
            );
        }
    }

    #[test]
    fn a_part_of_a_clean_text_is_copied_and_anything_else_escaped() {
        let message = "host sshd[1]: Accepted";
        let mut out = Vec::new();
        assert!(string(&mut out, message));
        assert!(!string(&mut out, "a\"b"));
        out.clear();
        string_within(&mut out, &message[5..9], Some(message));
        assert_eq!(out, b"\"sshd\"");
        out.clear();
        // Outside the clean text (an owned copy): escaped as usual.
        string_within(&mut out, "x\ny", Some(message));
        assert_eq!(out, b"\"x\\ny\"");
    }

    #[test]
    fn numbers_and_nulls() {
        let mut out = Vec::new();
        integer(&mut out, -1_700_000_000_123_i64);
        out.push(b',');
        integer_or_null(&mut out, None::<u32>);
        out.push(b',');
        string_or_null(&mut out, None);
        assert_eq!(out, b"-1700000000123,null,null");
    }

    proptest! {
        /// Any text, escaped here, is what serde_json writes for it.
        #[test]
        fn strings_are_written_as_serde_json_writes_them(text in "(?s).{0,80}", bytes in proptest::collection::vec(0u8..0x80, 0..40)) {
            prop_assert_eq!(written(&text), serde_json::to_string(&text).unwrap_or_default());
            let ascii = String::from_utf8(bytes).unwrap_or_default();
            prop_assert_eq!(written(&ascii), serde_json::to_string(&ascii).unwrap_or_default());
        }

        /// A string body is taken as written exactly when serde_json writes the text it stands
        /// for with the same bytes: every body serde_json writes is, and of bodies mixing
        /// every escape form, only those.
        #[test]
        fn bodies_are_as_escaped_only_when_serde_writes_them(
            text in "(?s).{0,40}",
            pieces in proptest::collection::vec(prop_oneof![
                "[a-z/é]{1,3}",
                Just("\\/".to_owned()), Just("\\\\".to_owned()), Just("\\\"".to_owned()),
                "\\\\[bfnrt]",
                "\\\\u00[0-9a-fA-F]{2}",
                "\\\\u[0-9a-fA-F]{4}",
            ], 0..8),
        ) {
            let serde_body = serde_json::to_string(&text).unwrap_or_default();
            prop_assert!(is_as_escaped(&serde_body.as_bytes()[1..serde_body.len() - 1]));
            let body: String = pieces.concat();
            let Ok(decoded) = serde_json::from_str::<String>(&format!("\"{body}\"")) else {
                return Ok(());
            };
            let rewritten = serde_json::to_string(&decoded).unwrap_or_default();
            prop_assert_eq!(is_as_escaped(body.as_bytes()), rewritten == format!("\"{body}\""), "{}", body);
        }
    }
}
