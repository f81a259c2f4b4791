//! Input checks shared by the request types. Each returns an
//! [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error naming the field.

use crate::error::Error;

/// The largest seed the service accepts; `-1` asks for a random one.
pub(crate) const MAX_SEED: i64 = 2_147_483_647;

pub(crate) fn range(field: &str, value: Option<f64>, min: f64, max: f64) -> Result<(), Error> {
    match value {
        Some(v) if !(v.is_finite() && (min..=max).contains(&v)) => Err(Error::invalid_input(
            field,
            format!("{field} must be within {min}..={max}, got {v}"),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn seed(field: &str, value: Option<i64>) -> Result<(), Error> {
    match value {
        Some(v) if !(-1..=MAX_SEED).contains(&v) => Err(Error::invalid_input(
            field,
            format!("{field} must be within -1..={MAX_SEED} (-1 = random), got {v}"),
        )),
        _ => Ok(()),
    }
}

/// A prompt that goes into a URL path or a message: present and not only white space.
pub(crate) fn prompt(field: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::invalid_input(field, format!("{field} is empty")));
    }
    Ok(())
}

/// A model, voice or similar name: non-empty, printable, no white space.
pub(crate) fn token(field: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid_input(
            field,
            format!("{field} must be a non-empty name without spaces, got {value:?}"),
        ));
    }
    Ok(())
}

/// A function or schema name: `^[a-zA-Z0-9_-]{1,64}$`.
pub(crate) fn function_name(field: &str, value: &str) -> Result<(), Error> {
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(Error::invalid_input(
            field,
            format!("{field} must match ^[a-zA-Z0-9_-]{{1,64}}$, got {value:?}"),
        ));
    }
    Ok(())
}

/// An absolute `http://` or `https://` URL with a host.
pub(crate) fn http_url(field: &str, value: &str) -> Result<(), Error> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let has_host = rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
    if !has_host || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid_input(
            field,
            format!("{field} must be an http(s):// URL, got {value:?}"),
        ));
    }
    Ok(())
}

/// An image reference in a chat message: an http(s) URL or a base64 `data:` URI.
pub(crate) fn image_url(field: &str, value: &str) -> Result<(), Error> {
    if let Some(rest) = value.strip_prefix("data:") {
        let ok = rest
            .split_once(',')
            .is_some_and(|(head, data)| head.ends_with(";base64") && !data.is_empty());
        if !ok {
            return Err(Error::invalid_input(
                field,
                format!("{field} must be a base64 data: URI (data:<mime>;base64,<data>)"),
            ));
        }
        return Ok(());
    }
    http_url(field, value)
}

/// Extra query parameters: names must be non-empty, must not repeat a typed parameter, and
/// must never be `key` (the key travels only in the `Authorization` header).
pub(crate) fn extra_query(pairs: &[(String, String)], typed: &[&str]) -> Result<(), Error> {
    for (name, _) in pairs {
        if name.is_empty() {
            return Err(Error::invalid_input(
                "extra_query",
                "an extra query parameter has an empty name",
            ));
        }
        if name == "key" {
            return Err(Error::invalid_input(
                "extra_query",
                "the API key must not travel in the URL: set it on the client",
            ));
        }
        if typed.contains(&name.as_str()) {
            return Err(Error::invalid_input(
                "extra_query",
                format!("extra query parameter {name:?} repeats a typed option: use its setter"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_reject_out_of_range_and_nan() {
        assert!(range("t", Some(2.0), 0.0, 2.0).is_ok());
        assert!(range("t", None, 0.0, 2.0).is_ok());
        assert!(range("t", Some(2.01), 0.0, 2.0).is_err());
        assert!(range("t", Some(f64::NAN), 0.0, 2.0).is_err());
        assert!(range("t", Some(f64::INFINITY), 0.0, 2.0).is_err());
    }

    #[test]
    fn seeds() {
        assert!(seed("seed", Some(-1)).is_ok());
        assert!(seed("seed", Some(MAX_SEED)).is_ok());
        assert!(seed("seed", Some(-2)).is_err());
        assert!(seed("seed", Some(MAX_SEED + 1)).is_err());
    }

    #[test]
    fn names_and_urls() {
        assert!(function_name("f", "get_weather-2").is_ok());
        assert!(function_name("f", "").is_err());
        assert!(function_name("f", "has space").is_err());
        assert!(function_name("f", &"a".repeat(65)).is_err());
        assert!(http_url("u", "https://x.example/a.png").is_ok());
        assert!(http_url("u", "http://x").is_ok());
        assert!(http_url("u", "ftp://x").is_err());
        assert!(http_url("u", "https://").is_err());
        assert!(http_url("u", "https:///path").is_err());
        assert!(image_url("u", "data:image/png;base64,iVBO").is_ok());
        assert!(image_url("u", "data:image/png,raw").is_err());
        assert!(image_url("u", "file:///etc/passwd").is_err());
        assert!(token("m", "openai").is_ok());
        assert!(token("m", "open ai").is_err());
        assert!(prompt("p", " \n").is_err());
    }
}
