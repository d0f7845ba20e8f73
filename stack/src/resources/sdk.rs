//! Helpers the resource modules share for SDK calls: errors that name the resource and the
//! operation, "not found" as `None`, and reading values out of the template's JSON.

use serde_json::Value;

use crate::clients::ProvisionError;

pub(super) fn err<'a, E: std::error::Error + 'static>(
    id: &'a str,
    operation: &'static str,
) -> impl FnOnce(E) -> ProvisionError + 'a {
    move |e| ProvisionError::Call {
        resource: id.to_owned(),
        operation,
        message: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
    }
}

/// `Ok(None)` when the service answers that the resource does not exist.
pub(super) fn existing<T, E, R>(
    result: Result<T, aws_sdk_s3::error::SdkError<E, R>>,
    not_found: impl FnOnce(&E) -> bool,
    id: &str,
    operation: &'static str,
) -> Result<Option<T>, ProvisionError>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.as_service_error().is_some_and(not_found) => Ok(None),
        Err(e) => Err(err(id, operation)(e)),
    }
}

pub(super) fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

pub(super) fn int(value: &Value) -> i32 {
    value
        .as_i64()
        .and_then(|v| i32::try_from(v).ok())
        .unwrap_or_default()
}

/// `%XX` escapes decoded; `+` read as a space where `plus_is_space` (form encoding: IAM returns
/// policy documents so), kept otherwise (a path). A `%` without two hex digits after it stays
/// as written.
pub fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(if plus_is_space && bytes[i] == b'+' {
            b' '
        } else {
            bytes[i]
        });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn policy_json(text: &str) -> Value {
    serde_json::from_str(text)
        .or_else(|_| serde_json::from_str(&percent_decode(text, true)))
        .unwrap_or(Value::String(text.to_owned()))
}

/// Whether top-level property `key` of `desired` differs from `actual` (always, when the
/// resource does not exist).
pub(super) fn differs(actual: Option<&Value>, desired: &Value, key: &str) -> bool {
    actual.is_none_or(|a| a.get(key) != desired.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode_to_the_end_and_never_split_a_character() {
        assert_eq!(percent_decode("a%20b%41", false), "a bA");
        assert_eq!(percent_decode("a+b", true), "a b");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("%é%4", false), "%é%4");
    }
}
