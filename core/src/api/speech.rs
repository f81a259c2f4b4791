//! Speech: `POST /v1/audio/speech` (OpenAI shape) or `GET /audio/{text}`.

use serde::Serialize;

use crate::api::validate;
use crate::error::Error;

/// The longest text one speech request may carry, in characters.
pub const MAX_SPEECH_CHARS: usize = 4096;

/// Audio encodings for speech.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum AudioFormat {
    /// MP3 (the service default).
    Mp3,
    /// Opus in Ogg.
    Opus,
    /// AAC.
    Aac,
    /// FLAC.
    Flac,
    /// WAV.
    Wav,
    /// Raw 16-bit PCM.
    Pcm,
}

impl AudioFormat {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mp3 => "mp3",
            Self::Opus => "opus",
            Self::Aac => "aac",
            Self::Flac => "flac",
            Self::Wav => "wav",
            Self::Pcm => "pcm",
        }
    }
}

/// Which endpoint carries a speech request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SpeechEndpoint {
    /// `POST /v1/audio/speech` with a JSON body (the default: no URL length limit).
    #[default]
    Speech,
    /// `GET /audio/{text}`: the text travels in the URL path.
    Audio,
}

/// Text to speak.
///
/// ```
/// use blossom_core::api::{AudioFormat, SpeechRequest};
/// let request = SpeechRequest::new("Hello").voice("nova").format(AudioFormat::Wav);
/// assert!(request.validate().is_ok());
/// assert_eq!(serde_json::to_string(&request).unwrap(),
///            r#"{"input":"Hello","voice":"nova","response_format":"wav"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SpeechRequest {
    /// The model (the service picks its speech model when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What to say.
    #[serde(rename = "input")]
    pub text: String,
    /// The voice: alloy, echo, fable, onyx, nova, shimmer, coral, verse, ballad, ash, sage, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// The encoding (MP3 when unset).
    #[serde(rename = "response_format", skip_serializing_if = "Option::is_none")]
    pub format: Option<AudioFormat>,
    /// Speaking rate, 0.25..=4.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// Which endpoint to use.
    #[serde(skip)]
    pub endpoint: SpeechEndpoint,
}

impl SpeechRequest {
    /// Text with the server's default voice and format.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            model: None,
            text: text.into(),
            voice: None,
            format: None,
            speed: None,
            endpoint: SpeechEndpoint::default(),
        }
    }

    /// Sets the voice.
    #[must_use]
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = Some(voice.into());
        self
    }

    /// Sets the model.
    #[must_use]
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets the audio encoding.
    #[must_use]
    pub fn format(mut self, format: AudioFormat) -> Self {
        self.format = Some(format);
        self
    }

    /// Sets the speaking rate.
    #[must_use]
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = Some(speed);
        self
    }

    /// Chooses the endpoint.
    #[must_use]
    pub fn endpoint(mut self, endpoint: SpeechEndpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    /// Checks the text, voice, model and speed before anything is sent.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the bad field.
    pub fn validate(&self) -> Result<(), Error> {
        validate::prompt("text", &self.text)?;
        let chars = self.text.chars().count();
        if chars > MAX_SPEECH_CHARS {
            return Err(Error::invalid_input(
                "text",
                format!("speech text is limited to {MAX_SPEECH_CHARS} characters, got {chars}"),
            ));
        }
        if let Some(voice) = &self.voice {
            validate::token("voice", voice)?;
        }
        if let Some(model) = &self.model {
            validate::token("model", model)?;
        }
        validate::range("speed", self.speed, 0.25, 4.0)
    }
}

impl From<&str> for SpeechRequest {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<String> for SpeechRequest {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}
