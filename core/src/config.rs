//! Client configuration: where to send requests, with which key, and the transport's limits.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use http::Uri;

use crate::error::Error;
use crate::secret::ApiKey;

/// The service's default base URL.
pub const DEFAULT_BASE_URL: &str = "https://gen.pollinations.ai";
/// Environment variable holding the API key.
pub const ENV_API_KEY: &str = "POLLINATIONS_API_KEY";
/// Environment variable overriding the base URL.
pub const ENV_BASE_URL: &str = "POLLINATIONS_BASE_URL";
/// The `User-Agent` sent by default: the SDK's name and version.
pub const DEFAULT_USER_AGENT: &str = concat!("blossom-rs/", env!("CARGO_PKG_VERSION"));

/// A validated base URL: `http` or `https`, a host, an optional path prefix, no query.
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `scheme://authority[/prefix]`, never ending in `/`.
    text: String,
    loopback: bool,
    https: bool,
}

impl BaseUrl {
    /// Parses and checks a base URL.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when it is not an absolute `http(s)` URL
    /// with a host, or has a query, a fragment or user info (credentials belong in the key).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let trimmed = text.trim();
        if trimmed.contains('#') {
            return Err(Error::config(format!(
                "base URL {trimmed:?} must not have a fragment"
            )));
        }
        let uri: Uri = trimmed
            .parse()
            .map_err(|e| Error::config(format!("base URL {trimmed:?} is not a URL: {e}")))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => {
                return Err(Error::config(format!(
                    "base URL {trimmed:?} must start with http:// or https://"
                )));
            }
        };
        let authority = uri
            .authority()
            .ok_or_else(|| Error::config(format!("base URL {trimmed:?} has no host")))?;
        if authority.as_str().contains('@') {
            return Err(Error::config(
                "base URL must not carry user info; set the API key instead",
            ));
        }
        if uri.query().is_some() {
            return Err(Error::config(format!(
                "base URL {trimmed:?} must not have a query"
            )));
        }
        let host = authority.host();
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        let prefix = uri.path().trim_end_matches('/');
        let scheme = if https { "https" } else { "http" };
        Ok(Self {
            text: format!("{scheme}://{authority}{prefix}"),
            loopback,
            https,
        })
    }

    /// The URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the host is `localhost` or a loopback address.
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.https
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Everything a client needs to know about its server and transport.
///
/// Build it with the client builder of your adapter, or directly:
///
/// ```
/// use blossom_core::ClientConfig;
/// let config = ClientConfig::new()
///     .base_url("http://127.0.0.1:8080").unwrap()
///     .api_key("sk_0123456789abcdefghijklmnopqrstuv").unwrap();
/// config.validate().unwrap();
/// assert!(!format!("{config:?}").contains("0123"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Where requests go.
    pub base_url: BaseUrl,
    /// The key, sent only as `Authorization: Bearer`.
    pub api_key: Option<ApiKey>,
    /// Allows sending the key over plain `http://` to a non-loopback host. Off by default.
    pub allow_insecure_http: bool,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long one HTTP exchange may take, from sending to the end of the body (for a
    /// stream, to its first event; the rest is bounded by the idle timeout and the call's
    /// own timeout).
    pub request_timeout: Duration,
    /// How long a stream may go without receiving a byte before it is failed.
    pub stream_idle_timeout: Duration,
    /// After a stream's `[DONE]`, how long the rest of its body is read (in the background:
    /// the caller has its answer) so the connection can be reused; past it, it is closed.
    pub stream_drain_timeout: Duration,
    /// After a stream's `[DONE]`, how many trailing bytes are read at most for reuse.
    pub stream_drain_bytes: usize,
    /// The largest single event a stream may send (a line that never ends fails the stream
    /// once it passes this); the whole stream, like every body, is bounded by
    /// `max_body_bytes`.
    pub stream_max_event_bytes: usize,
    /// How many idle connections the pool keeps for reuse (default 64). It does not limit
    /// the calls running at once: that is the client's `max_concurrent` (default 256).
    pub max_connections: usize,
    /// The largest response body accepted; larger answers fail while reading.
    pub max_body_bytes: usize,
    /// Negotiate HTTP/2 where the server offers it (over TLS).
    pub http2: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientConfig {
    /// The defaults: the public service, no key, conservative timeouts.
    pub fn new() -> Self {
        // The stream defaults are said once, in `StreamLimits`.
        let streams = crate::sse::StreamLimits::default();
        Self {
            base_url: BaseUrl {
                text: DEFAULT_BASE_URL.to_owned(),
                loopback: false,
                https: true,
            },
            api_key: None,
            allow_insecure_http: false,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(300),
            stream_idle_timeout: streams.idle_timeout,
            stream_drain_timeout: streams.drain_timeout,
            stream_drain_bytes: streams.drain_bytes,
            stream_max_event_bytes: streams.max_event_bytes,
            max_connections: 64,
            max_body_bytes: 64 * 1024 * 1024,
            http2: true,
        }
    }

    /// The limits every stream is read under.
    pub fn stream_limits(&self) -> crate::sse::StreamLimits {
        crate::sse::StreamLimits {
            idle_timeout: self.stream_idle_timeout,
            drain_timeout: self.stream_drain_timeout,
            drain_bytes: self.stream_drain_bytes,
            max_event_bytes: self.stream_max_event_bytes,
        }
    }

    /// The defaults, then `POLLINATIONS_API_KEY` and `POLLINATIONS_BASE_URL` as read by `lookup`
    /// (pass `|name| std::env::var(name).ok()` for the process environment). Empty values are
    /// treated as unset.
    ///
    /// # Errors
    /// When a variable is set to an invalid value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        Self::new().merge_lookup(lookup)
    }

    /// This configuration with `POLLINATIONS_BASE_URL` and `POLLINATIONS_API_KEY` applied, as
    /// read by `lookup`; unset or empty variables leave it as it is.
    ///
    /// # Errors
    /// When a variable is set to an invalid value.
    pub fn merge_lookup(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        if let Some(url) = lookup(ENV_BASE_URL).filter(|v| !v.trim().is_empty()) {
            self = self.base_url(&url)?;
        }
        if let Some(key) = lookup(ENV_API_KEY).filter(|v| !v.trim().is_empty()) {
            self = self.api_key(key)?;
        }
        Ok(self)
    }

    /// Sets the base URL.
    ///
    /// # Errors
    /// See [`BaseUrl::parse`].
    pub fn base_url(mut self, url: &str) -> Result<Self, Error> {
        self.base_url = BaseUrl::parse(url)?;
        Ok(self)
    }

    /// Sets the API key.
    ///
    /// # Errors
    /// See [`ApiKey::new`].
    pub fn api_key(mut self, key: impl AsRef<str>) -> Result<Self, Error> {
        self.api_key = Some(ApiKey::new(key)?);
        Ok(self)
    }

    /// Checks the combination of settings.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when a key would travel over plain HTTP
    /// to a host that is not loopback (unless [`allow_insecure_http`](Self::allow_insecure_http)
    /// is set), or a limit is zero.
    pub fn validate(&self) -> Result<(), Error> {
        if self.api_key.is_some()
            && !self.base_url.is_https()
            && !self.base_url.is_loopback()
            && !self.allow_insecure_http
        {
            return Err(Error::config(format!(
                "refusing to send the API key over plain HTTP to {}; use https:// or allow insecure HTTP explicitly",
                self.base_url
            )));
        }
        if self.max_connections == 0 {
            return Err(Error::config("max_connections must be at least 1"));
        }
        if self.max_body_bytes == 0 {
            return Err(Error::config("max_body_bytes must be at least 1"));
        }
        if self.stream_max_event_bytes == 0 {
            return Err(Error::config("stream_max_event_bytes must be at least 1"));
        }
        if self.user_agent.is_empty() || http::HeaderValue::from_str(&self.user_agent).is_err() {
            return Err(Error::config("user_agent must be a non-empty header value"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let ok = [
            (
                "https://gen.pollinations.ai",
                "https://gen.pollinations.ai",
                false,
            ),
            (
                "https://gen.pollinations.ai/",
                "https://gen.pollinations.ai",
                false,
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080", true),
            ("http://localhost:1/", "http://localhost:1", true),
            ("http://[::1]:9", "http://[::1]:9", true),
            (
                "https://proxy.example/pollinations/",
                "https://proxy.example/pollinations",
                false,
            ),
        ];
        for (input, text, loopback) in ok {
            let url = BaseUrl::parse(input).unwrap();
            assert_eq!(url.as_str(), text);
            assert_eq!(url.is_loopback(), loopback, "{input}");
        }
        for bad in [
            "gen.pollinations.ai",
            "ftp://x",
            "https://u:p@x.example",
            "https://x.example/?a=b",
            "https://x.example/#f",
            "",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_over_plain_http_is_refused_except_loopback() {
        let key = "sk_0123456789abcdefghijklmnopqrstuv";
        let remote = ClientConfig::new()
            .base_url("http://example.invalid")
            .unwrap()
            .api_key(key)
            .unwrap();
        let error = remote.validate().unwrap_err();
        assert!(!error.to_string().contains(key));
        let mut allowed = remote.clone();
        allowed.allow_insecure_http = true;
        allowed.validate().unwrap();
        ClientConfig::new()
            .base_url("http://localhost:1")
            .unwrap()
            .api_key(key)
            .unwrap()
            .validate()
            .unwrap();
        ClientConfig::new()
            .base_url("http://example.invalid")
            .unwrap()
            .validate()
            .unwrap();
    }

    #[test]
    fn environment_lookup() {
        let config = ClientConfig::from_lookup(|name| match name {
            ENV_API_KEY => Some("sk_0123456789abcdefghijklmnopqrstuv".into()),
            ENV_BASE_URL => Some("http://127.0.0.1:9".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.base_url.as_str(), "http://127.0.0.1:9");
        assert!(config.api_key.is_some());
        let empty = ClientConfig::from_lookup(|_| Some(String::new())).unwrap();
        assert_eq!(empty.base_url.as_str(), DEFAULT_BASE_URL);
        assert!(empty.api_key.is_none());
        assert!(ClientConfig::from_lookup(|_| Some("nope".into())).is_err());
    }
}
