//! A line's `params` object mapped onto the typed requests. Every param is checked: an
//! unknown name or a value of the wrong type is an error naming it, never silently dropped
//! (a typo must not spend money on the wrong request).

use blossom_tokio::{
    AudioFormat, ChatRequest, ImageQuality, ImageRequest, ReasoningEffort, SpeechRequest,
    TextRequest,
};
use serde_json::{Map, Value};

use super::job::describe;

/// Params a text line may carry.
const TEXT: &[&str] = &[
    "model",
    "seed",
    "system",
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "json",
    "private",
];
/// Params a chat line may carry.
const CHAT: &[&str] = &[
    "model",
    "system",
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "json",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "reasoning_effort",
    "user",
];
/// Params an image line may carry.
const IMAGE: &[&str] = &[
    "model",
    "width",
    "height",
    "seed",
    "quality",
    "enhance",
    "transparent",
    "negative_prompt",
    "nologo",
    "private",
    "nofeed",
    "guidance_scale",
];
/// Params a speech line may carry.
const SPEECH: &[&str] = &["model", "voice", "format", "speed"];

/// The params of one line, taken out one by one with their type checked.
pub(crate) struct Params {
    map: Map<String, Value>,
}

impl Params {
    /// Checks that every name in `map` is one of `allowed` for a line of `kind`.
    fn new(map: Map<String, Value>, kind: &str, allowed: &[&str]) -> Result<Self, String> {
        if let Some(name) = map.keys().find(|name| !allowed.contains(&name.as_str())) {
            let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            return Err(format!(
                "unknown param {name:?} for {article} {kind} line (known: {})",
                allowed.join(", ")
            ));
        }
        Ok(Self { map })
    }

    fn take(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name).filter(|value| !value.is_null())
    }

    fn wrong(name: &str, expected: &str, value: &Value) -> String {
        format!("param {name:?} must be {expected}, got {}", describe(value))
    }

    fn f64(&mut self, name: &str) -> Result<Option<f64>, String> {
        match self.take(name) {
            None => Ok(None),
            Some(value) => value
                .as_f64()
                .map(Some)
                .ok_or_else(|| Self::wrong(name, "a number", &value)),
        }
    }

    fn i64(&mut self, name: &str) -> Result<Option<i64>, String> {
        match self.take(name) {
            None => Ok(None),
            Some(value) => value
                .as_i64()
                .map(Some)
                .ok_or_else(|| Self::wrong(name, "an integer", &value)),
        }
    }

    fn u32(&mut self, name: &str) -> Result<Option<u32>, String> {
        match self.take(name) {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| Self::wrong(name, "a non-negative integer", &value)),
        }
    }

    fn bool(&mut self, name: &str) -> Result<Option<bool>, String> {
        match self.take(name) {
            None => Ok(None),
            Some(value) => value
                .as_bool()
                .map(Some)
                .ok_or_else(|| Self::wrong(name, "true or false", &value)),
        }
    }

    fn string(&mut self, name: &str) -> Result<Option<String>, String> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(value) => Err(Self::wrong(name, "a string", &value)),
        }
    }

    /// A string param that must be one of `choices`, mapped by `pick`.
    fn choice<T>(
        &mut self,
        name: &str,
        choices: &[&str],
        pick: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, String> {
        match self.string(name)? {
            None => Ok(None),
            Some(text) => pick(&text).map(Some).ok_or_else(|| {
                format!(
                    "param {name:?} must be one of {}, got {text:?}",
                    choices.join(", ")
                )
            }),
        }
    }
}

/// The model named at the top level or in params (not both).
fn model(top: Option<String>, params: &mut Params) -> Result<Option<String>, String> {
    match (top, params.string("model")?) {
        (Some(_), Some(_)) => Err("\"model\" is given both at the top level and in params".into()),
        (top, inner) => Ok(top.or(inner)),
    }
}

/// A text request.
pub(crate) fn text(
    prompt: String,
    top_model: Option<String>,
    params: Map<String, Value>,
) -> Result<TextRequest, String> {
    let mut p = Params::new(params, "text", TEXT)?;
    let mut request = TextRequest::new(prompt);
    request.model = model(top_model, &mut p)?;
    request.seed = p.i64("seed")?;
    request.system = p.string("system")?;
    request.temperature = p.f64("temperature")?;
    request.top_p = p.f64("top_p")?;
    request.presence_penalty = p.f64("presence_penalty")?;
    request.frequency_penalty = p.f64("frequency_penalty")?;
    request.json = p.bool("json")?.unwrap_or(false);
    request.private = p.bool("private")?;
    Ok(request)
}

/// A chat request; `system` from params goes before the line's messages.
pub(crate) fn chat(
    messages: Vec<blossom_tokio::Message>,
    top_model: Option<String>,
    params: Map<String, Value>,
) -> Result<ChatRequest, String> {
    let mut p = Params::new(params, "chat", CHAT)?;
    let model = model(top_model, &mut p)?;
    let mut request = ChatRequest::new(
        model
            .as_deref()
            .unwrap_or(blossom_tokio::DEFAULT_CHAT_MODEL),
    );
    if let Some(system) = p.string("system")? {
        request = request.system(system);
    }
    for message in messages {
        request = request.message(message);
    }
    request.temperature = p.f64("temperature")?;
    request.top_p = p.f64("top_p")?;
    request.max_tokens = p.u32("max_tokens")?;
    request.seed = p.i64("seed")?;
    request.presence_penalty = p.f64("presence_penalty")?;
    request.frequency_penalty = p.f64("frequency_penalty")?;
    request.user = p.string("user")?;
    request.reasoning_effort = p.choice(
        "reasoning_effort",
        &["none", "minimal", "low", "medium", "high", "xhigh", "max"],
        |text| match text {
            "none" => Some(ReasoningEffort::None),
            "minimal" => Some(ReasoningEffort::Minimal),
            "low" => Some(ReasoningEffort::Low),
            "medium" => Some(ReasoningEffort::Medium),
            "high" => Some(ReasoningEffort::High),
            "xhigh" => Some(ReasoningEffort::Xhigh),
            "max" => Some(ReasoningEffort::Max),
            _ => None,
        },
    )?;
    match p.take("stop") {
        None => {}
        Some(Value::String(one)) => request = request.stop([one]),
        Some(Value::Array(items)) => {
            let mut all = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(text) => all.push(text),
                    other => return Err(Params::wrong("stop", "a string or strings", &other)),
                }
            }
            request = request.stop(all);
        }
        Some(other) => return Err(Params::wrong("stop", "a string or strings", &other)),
    }
    if p.bool("json")? == Some(true) {
        request = request.json();
    }
    Ok(request)
}

/// An image request.
pub(crate) fn image(
    prompt: String,
    top_model: Option<String>,
    params: Map<String, Value>,
) -> Result<ImageRequest, String> {
    let mut p = Params::new(params, "image", IMAGE)?;
    let mut request = ImageRequest::new(prompt);
    request.model = model(top_model, &mut p)?;
    request.width = p.u32("width")?;
    request.height = p.u32("height")?;
    request.seed = p.i64("seed")?;
    request.quality = p.choice(
        "quality",
        &["low", "medium", "high", "hd"],
        |text| match text {
            "low" => Some(ImageQuality::Low),
            "medium" => Some(ImageQuality::Medium),
            "high" => Some(ImageQuality::High),
            "hd" => Some(ImageQuality::Hd),
            _ => None,
        },
    )?;
    request.enhance = p.bool("enhance")?;
    request.transparent = p.bool("transparent")?;
    request.negative_prompt = p.string("negative_prompt")?;
    request.nologo = p.bool("nologo")?;
    request.private = p.bool("private")?;
    request.nofeed = p.bool("nofeed")?;
    request.guidance_scale = p.f64("guidance_scale")?;
    Ok(request)
}

/// A speech request.
pub(crate) fn speech(
    text: String,
    top_model: Option<String>,
    params: Map<String, Value>,
) -> Result<SpeechRequest, String> {
    let mut p = Params::new(params, "speech", SPEECH)?;
    let mut request = SpeechRequest::new(text);
    request.model = model(top_model, &mut p)?;
    request.voice = p.string("voice")?;
    request.speed = p.f64("speed")?;
    request.format = p.choice(
        "format",
        &["mp3", "wav", "flac", "opus", "aac", "pcm"],
        |text| match text {
            "mp3" => Some(AudioFormat::Mp3),
            "wav" => Some(AudioFormat::Wav),
            "flac" => Some(AudioFormat::Flac),
            "opus" => Some(AudioFormat::Opus),
            "aac" => Some(AudioFormat::Aac),
            "pcm" => Some(AudioFormat::Pcm),
            _ => None,
        },
    )?;
    Ok(request)
}
