//! Request parameters shared by the GET routes: the query string, typed query values
//! with range checks, the `safe` tokens, and the percent-encoded path prompt.

use percent_encoding::percent_decode_str;

use crate::errors::{ApiError, Validation};

/// A decoded query string. Keeps every pair in order; [`Query::get`] answers the first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses `a=1&b=x+y%2C`: `+` is a space, `%XX` is a byte, invalid UTF-8 is replaced.
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|part| !part.is_empty())
            .map(|part| {
                let (name, value) = part.split_once('=').unwrap_or((part, ""));
                (form_decode(name), form_decode(value))
            })
            .collect();
        Query { pairs }
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// All pairs, in request order.
    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// A `true`/`false` parameter; records a field error for anything else.
    pub(crate) fn flag(&self, name: &str, errors: &mut Validation) -> Option<bool> {
        let raw = self.get(name)?;
        match parse_bool(raw) {
            Some(b) => Some(b),
            None => {
                errors.add(
                    name,
                    format!("Invalid input: expected boolean, received \"{raw}\""),
                );
                None
            }
        }
    }

    /// An integer parameter in `lo..=hi`; records a field error otherwise.
    pub(crate) fn int_in(
        &self,
        name: &str,
        lo: i64,
        hi: i64,
        errors: &mut Validation,
    ) -> Option<i64> {
        let raw = self.get(name)?;
        match raw.trim().parse::<i64>() {
            Ok(v) if (lo..=hi).contains(&v) => Some(v),
            Ok(v) => {
                errors.add(name, range_message(&v.to_string(), lo, hi));
                None
            }
            Err(_) => {
                errors.add(
                    name,
                    format!("Invalid input: expected integer, received \"{raw}\""),
                );
                None
            }
        }
    }

    /// A number parameter in `lo..=hi`; records a field error otherwise.
    pub(crate) fn number_in(
        &self,
        name: &str,
        lo: f64,
        hi: f64,
        errors: &mut Validation,
    ) -> Option<f64> {
        let raw = self.get(name)?;
        match raw.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= lo && v <= hi => Some(v),
            Ok(v) if v.is_finite() => {
                errors.add(name, range_message(&v.to_string(), lo, hi));
                None
            }
            _ => {
                errors.add(
                    name,
                    format!("Invalid input: expected number, received \"{raw}\""),
                );
                None
            }
        }
    }
}

/// `true`/`false` in any case.
pub(crate) fn parse_bool(raw: &str) -> Option<bool> {
    if raw.eq_ignore_ascii_case("true") {
        Some(true)
    } else if raw.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The message for a number outside its range.
pub(crate) fn range_message(value: &str, lo: impl ToString, hi: impl ToString) -> String {
    format!(
        "Invalid input: expected a value between {} and {}, received {value}",
        lo.to_string(),
        hi.to_string()
    )
}

fn form_decode(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Checks a `safe` value (docs/PROTOCOL.md §6): empty, `true`, `false`, or a comma list of
/// `privacy`, `secrets`, `sexual`, `violence`, `shield`, `nsfw`. Returns the message for
/// the first unknown token.
pub(crate) fn check_safe(value: &str) -> Result<(), String> {
    const TOKENS: &[&str] = &[
        "privacy", "secrets", "sexual", "violence", "shield", "nsfw", "true", "false",
    ];
    for token in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !TOKENS.iter().any(|known| known.eq_ignore_ascii_case(token)) {
            return Err(format!(
                "Invalid safe token \"{token}\": expected true, false, or a comma list of \
                 privacy, secrets, sexual, violence, shield, nsfw"
            ));
        }
    }
    Ok(())
}

/// Decodes the percent-encoded prompt segment of `/text/{prompt}`, `/image/{prompt}` and
/// `/audio/{text}`. `+` stays a plus sign (this is a path, not a form).
///
/// Fails with 400 for an empty prompt or bytes that are not UTF-8.
pub(crate) fn decode_prompt(raw: &str, field: &str) -> Result<String, ApiError> {
    let decoded = percent_decode_str(raw).decode_utf8().map_err(|_| {
        field_error(
            field,
            "Invalid input: the path prompt is not valid UTF-8 once decoded",
        )
    })?;
    if decoded.is_empty() {
        return Err(field_error(
            field,
            "Too small: expected string to have >=1 characters",
        ));
    }
    Ok(decoded.into_owned())
}

fn field_error(field: &str, message: &str) -> ApiError {
    let mut errors = Validation::new();
    errors.add(field, message);
    match errors.finish("Path parameter validation failed") {
        Err(e) => e,
        Ok(()) => ApiError::bad_request(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_form_encoding() {
        let q = Query::parse(Some("negative_prompt=worst+quality%2C+blurry&a=1&a=2&flag"));
        assert_eq!(q.get("negative_prompt"), Some("worst quality, blurry"));
        assert_eq!(q.get("a"), Some("1"));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.pairs().len(), 4);
    }

    #[test]
    fn typed_values_record_field_errors() {
        let q = Query::parse(Some("w=5000&h=abc&b=maybe&t=1.5"));
        let mut v = Validation::new();
        assert_eq!(q.int_in("w", 1, 4096, &mut v), None);
        assert_eq!(q.int_in("h", 1, 4096, &mut v), None);
        assert_eq!(q.flag("b", &mut v), None);
        assert_eq!(q.number_in("t", 0.0, 2.0, &mut v), Some(1.5));
        assert_eq!(q.int_in("missing", 0, 1, &mut v), None);
        let err = v.finish("x").unwrap_err().to_json();
        let fields = &err["error"]["details"]["fieldErrors"];
        assert!(fields["w"].is_array() && fields["h"].is_array() && fields["b"].is_array());
        assert!(fields.get("t").is_none());
    }

    #[test]
    fn safe_tokens() {
        assert!(check_safe("false").is_ok());
        assert!(check_safe("true").is_ok());
        assert!(check_safe("privacy, secrets,shield").is_ok());
        assert!(check_safe("").is_ok());
        assert!(check_safe("privacy,bogus").unwrap_err().contains("bogus"));
    }

    #[test]
    fn prompt_decoding_keeps_every_character() {
        let raw = "a%2Fb%3Fc%23d%25e%2E%2E%0A%F0%9F%8C%B8+f";
        assert_eq!(decode_prompt(raw, "prompt").unwrap(), "a/b?c#d%e..\n🌸+f");
        assert!(decode_prompt("", "prompt").is_err());
        assert!(decode_prompt("%FF", "prompt").is_err());
    }
}
