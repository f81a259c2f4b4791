//! Requests → replayable `http::Request<Bytes>` (exact bytes; the key only in `Authorization`).

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use http::{Method, Request};

use super::url::{Query, is_dot_segment, push_segment};
use super::{EndpointKind, Expect, Prepared};
use crate::api::{
    ChatRequest, ImageRequest, ModelKind, ResponseFormat, SpeechEndpoint, SpeechRequest,
    TextRequest,
};
use crate::config::ClientConfig;
use crate::error::Error;

/// The largest request body the service accepts (docs/PROTOCOL.md §3).
pub const MAX_REQUEST_BODY: usize = 20 * 1024 * 1024;

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");
const ANY: HeaderValue = HeaderValue::from_static("*/*");

/// Turns typed requests into HTTP requests for one client configuration.
///
/// Built once per client: the base URL, `User-Agent` and `Authorization` values are prepared
/// here, so encoding a call costs one URL and one body, nothing else.
#[derive(Clone)]
pub struct Encoder {
    base: String,
    user_agent: HeaderValue,
    authorization: Option<HeaderValue>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("base", &self.base)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "Bearer …"),
            )
            .finish()
    }
}

impl Encoder {
    /// Prepares an encoder for `config`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the configuration is invalid
    /// (see [`ClientConfig::validate`]).
    pub fn new(config: &ClientConfig) -> Result<Self, Error> {
        config.validate()?;
        let user_agent = HeaderValue::from_str(&config.user_agent)
            .map_err(|_| Error::config("user_agent is not a valid header value"))?;
        let authorization = match &config.api_key {
            None => None,
            Some(key) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                    .map_err(|_| Error::config("the API key is not a valid header value"))?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        Ok(Self {
            base: config.base_url.as_str().to_owned(),
            user_agent,
            authorization,
        })
    }

    /// `POST /v1/chat/completions`; a streaming call when `request.stream == Some(true)`.
    ///
    /// # Errors
    /// Invalid input (see [`ChatRequest::validate`]) or a body over 20 MiB.
    pub fn chat(&self, request: &ChatRequest) -> Result<Prepared, Error> {
        request.validate()?;
        let streaming = request.stream == Some(true);
        let body = json_body(request)?;
        let (expect, accept) = if streaming {
            (Expect::ChatStream, EVENT_STREAM)
        } else {
            (Expect::Chat, JSON)
        };
        let http = self.build(
            Method::POST,
            "/v1/chat/completions".to_owned(),
            accept,
            Some(body),
        )?;
        Ok(Prepared::new(
            http,
            expect,
            EndpointKind::Text,
            !streaming && request.is_deterministic(),
        )
        .with_model(Some(request.model.as_str())))
    }

    /// `GET /text/{prompt}?…`; a prompt that is only `.` or `..` (which no URL path can
    /// carry) goes as `POST /text` with the same options in a chat body instead.
    ///
    /// # Errors
    /// Invalid input (see [`TextRequest::validate`]) or a prompt too long for a URL.
    pub fn text(&self, request: &TextRequest) -> Result<Prepared, Error> {
        request.validate()?;
        if is_dot_segment(&request.prompt) {
            return self.text_as_post(request);
        }
        let mut path = String::with_capacity(16 + request.prompt.len() * 3);
        path.push_str("/text/");
        push_segment(&mut path, &request.prompt);
        let mut query = Query::new(&mut path);
        query.opt("model", request.model.as_deref());
        query.opt("seed", request.seed);
        query.opt("temperature", request.temperature);
        query.opt("top_p", request.top_p);
        query.opt("presence_penalty", request.presence_penalty);
        query.opt("frequency_penalty", request.frequency_penalty);
        query.opt("system", request.system.as_deref());
        query.opt("json", request.json.then_some(true));
        query.opt("private", request.private);
        query.opt("safe", request.safe.as_ref());
        query.opt("referrer", request.referrer.as_deref());
        for (name, value) in &request.extra_query {
            query.pair(name, value);
        }
        let http = self.build(Method::GET, path, ANY, None)?;
        Ok(Prepared::new(
            http,
            Expect::Text,
            EndpointKind::Text,
            request.is_deterministic(),
        )
        .with_model(request.model.as_deref()))
    }

    /// `POST /text?…` with a chat body: the same call as `GET /text/{prompt}` for prompts a
    /// path cannot carry.
    fn text_as_post(&self, request: &TextRequest) -> Result<Prepared, Error> {
        let mut chat = ChatRequest::new(
            request
                .model
                .as_deref()
                .unwrap_or(crate::api::DEFAULT_CHAT_MODEL),
        );
        if let Some(system) = &request.system {
            chat = chat.system(system.as_str());
        }
        chat = chat.user(request.prompt.as_str());
        chat.seed = request.seed;
        chat.temperature = request.temperature;
        chat.top_p = request.top_p;
        chat.presence_penalty = request.presence_penalty;
        chat.frequency_penalty = request.frequency_penalty;
        if request.json {
            chat.response_format = Some(ResponseFormat::JsonObject);
        }
        chat.safe.clone_from(&request.safe);
        let body = json_body(&chat)?;
        let mut path = String::from("/text");
        let mut query = Query::new(&mut path);
        query.opt("private", request.private);
        query.opt("referrer", request.referrer.as_deref());
        for (name, value) in &request.extra_query {
            query.pair(name, value);
        }
        let http = self.build(Method::POST, path, ANY, Some(body))?;
        Ok(Prepared::new(
            http,
            Expect::Text,
            EndpointKind::Text,
            request.is_deterministic(),
        )
        .with_model(request.model.as_deref()))
    }

    /// `GET /image/{prompt}?…`.
    ///
    /// # Errors
    /// Invalid input (see [`ImageRequest::validate`]) or a prompt too long for a URL.
    pub fn image(&self, request: &ImageRequest) -> Result<Prepared, Error> {
        request.validate()?;
        let mut path = String::with_capacity(32 + request.prompt.len() * 3);
        path.push_str("/image/");
        push_segment(&mut path, &request.prompt);
        let mut query = Query::new(&mut path);
        query.opt("model", request.model.as_deref());
        query.opt("width", request.width);
        query.opt("height", request.height);
        query.opt("seed", request.seed);
        query.opt("enhance", request.enhance);
        query.opt("safe", request.safe.as_ref());
        query.opt("quality", request.quality.map(|q| q.as_str()));
        if !request.reference_images.is_empty() {
            query.pair("image", &request.reference_images.join("|"));
        }
        query.opt("transparent", request.transparent);
        query.opt("negative_prompt", request.negative_prompt.as_deref());
        query.opt("nologo", request.nologo);
        query.opt("private", request.private);
        query.opt("nofeed", request.nofeed);
        query.opt("guidance_scale", request.guidance_scale);
        query.opt("no-cache", request.bypass_server_cache.then_some(true));
        let http = self.build(Method::GET, path, ANY, None)?;
        // Images are deterministic by default: the server fixes the seed at 42 when unset.
        let cacheable = request.seed != Some(-1) && !request.bypass_server_cache;
        Ok(
            Prepared::new(http, Expect::Image, EndpointKind::Image, cacheable)
                .with_model(request.model.as_deref()),
        )
    }

    /// `POST /v1/audio/speech`, or `GET /audio/{text}` when the request asks for it.
    ///
    /// # Errors
    /// Invalid input (see [`SpeechRequest::validate`]).
    pub fn speech(&self, request: &SpeechRequest) -> Result<Prepared, Error> {
        request.validate()?;
        // A text of only `.` or `..` cannot travel in a path: speak it through the body.
        let endpoint = if is_dot_segment(&request.text) {
            SpeechEndpoint::Speech
        } else {
            request.endpoint
        };
        let http = match endpoint {
            SpeechEndpoint::Speech => {
                let body = json_body(request)?;
                self.build(Method::POST, "/v1/audio/speech".to_owned(), ANY, Some(body))?
            }
            SpeechEndpoint::Audio => {
                let mut path = String::with_capacity(16 + request.text.len() * 3);
                path.push_str("/audio/");
                push_segment(&mut path, &request.text);
                let mut query = Query::new(&mut path);
                query.opt("model", request.model.as_deref());
                query.opt("voice", request.voice.as_deref());
                query.opt("format", request.format.map(|f| f.as_str()));
                query.opt("speed", request.speed);
                self.build(Method::GET, path, ANY, None)?
            }
        };
        Ok(
            Prepared::new(http, Expect::Audio, EndpointKind::Audio, true)
                .with_model(request.model.as_deref()),
        )
    }

    /// `GET` of a model list.
    ///
    /// # Errors
    /// Only if the base URL cannot carry the path (it always can once validated).
    pub fn models(&self, kind: ModelKind) -> Result<Prepared, Error> {
        let http = self.build(Method::GET, kind.path().to_owned(), JSON, None)?;
        Ok(Prepared::new(
            http,
            Expect::Models(kind),
            EndpointKind::Models,
            true,
        ))
    }

    fn build(
        &self,
        method: Method,
        path_and_query: String,
        accept: HeaderValue,
        body: Option<Bytes>,
    ) -> Result<Request<Bytes>, Error> {
        let mut url = String::with_capacity(self.base.len() + path_and_query.len());
        url.push_str(&self.base);
        url.push_str(&path_and_query);
        // Made in place rather than through `Request::builder`, which moves the whole
        // request head at every step.
        let uri = http::Uri::try_from(url).map_err(|e| {
            Error::invalid_input(
                "prompt",
                format!("the request cannot be expressed as a URL ({e}); a prompt this long belongs in a chat request"),
            )
        })?;
        let has_body = body.is_some();
        let mut request = Request::new(body.unwrap_or_default());
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(USER_AGENT, self.user_agent.clone());
        headers.insert(ACCEPT, accept);
        if let Some(auth) = &self.authorization {
            headers.insert(AUTHORIZATION, auth.clone());
        }
        if has_body {
            headers.insert(CONTENT_TYPE, JSON);
        }
        *request.headers_mut() = headers;
        Ok(request)
    }
}

fn json_body<T: serde::Serialize>(value: &T) -> Result<Bytes, Error> {
    let body = serde_json::to_vec(value).map_err(|e| {
        Error::invalid_input(
            "body",
            format!("the request cannot be encoded as JSON: {e}"),
        )
    })?;
    if body.len() > MAX_REQUEST_BODY {
        return Err(Error::invalid_input(
            "body",
            format!(
                "the request body is {} bytes; the service accepts at most {MAX_REQUEST_BODY}",
                body.len()
            ),
        ));
    }
    Ok(Bytes::from(body))
}
