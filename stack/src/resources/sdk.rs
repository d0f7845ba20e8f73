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

/// IAM returns policy documents URL-encoded.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn policy_json(text: &str) -> Value {
    serde_json::from_str(text)
        .or_else(|_| serde_json::from_str(&percent_decode(text)))
        .unwrap_or(Value::String(text.to_owned()))
}

/// Whether top-level property `key` of `desired` differs from `actual` (always, when the
/// resource does not exist).
pub(super) fn differs(actual: Option<&Value>, desired: &Value, key: &str) -> bool {
    actual.is_none_or(|a| a.get(key) != desired.get(key))
}
