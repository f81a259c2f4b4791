//! Image generation: `GET /image/{prompt}?…` (docs/PROTOCOL.md §8).

use crate::api::common::Safe;
use crate::api::validate;
use crate::error::Error;

/// The largest width or height the SDK lets through; anything larger is a mistake.
pub const MAX_IMAGE_SIDE: u32 = 4096;
/// The most reference images one request may carry.
pub const MAX_REFERENCE_IMAGES: usize = 16;

/// Rendering quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageQuality {
    /// Fast.
    Low,
    /// The default.
    Medium,
    /// Better.
    High,
    /// Best.
    Hd,
}

impl ImageQuality {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Hd => "hd",
        }
    }
}

/// An image request. Unset options are not sent, so the server's defaults apply
/// (1024×1024, seed 42, quality medium).
///
/// ```
/// use blossom_core::api::ImageRequest;
/// let request = ImageRequest::new("a red apple").size(512, 512).seed(7);
/// assert!(request.validate().is_ok());
/// assert!(ImageRequest::new("x").size(0, 512).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ImageRequest {
    /// What to draw; travels in the URL path.
    pub prompt: String,
    /// The model (`flux`, `zimage`, `turbo`, …).
    pub model: Option<String>,
    /// Width in pixels, 1..=4096.
    pub width: Option<u32>,
    /// Height in pixels, 1..=4096.
    pub height: Option<u32>,
    /// −1..=2147483647; the same prompt and seed give the same image.
    pub seed: Option<i64>,
    /// Let the server rewrite the prompt.
    pub enhance: Option<bool>,
    /// Safety filters.
    pub safe: Option<Safe>,
    /// Rendering quality.
    pub quality: Option<ImageQuality>,
    /// Reference images for image-to-image, each an `http(s)://` URL.
    pub reference_images: Vec<String>,
    /// Transparent background (PNG).
    pub transparent: Option<bool>,
    /// What to avoid (older gateways).
    pub negative_prompt: Option<String>,
    /// Hide the logo (older gateways).
    pub nologo: Option<bool>,
    /// Keep out of the public feed.
    pub private: Option<bool>,
    /// Do not publish to the feed.
    pub nofeed: Option<bool>,
    /// Prompt adherence (older gateways).
    pub guidance_scale: Option<f64>,
    /// Ask the server to regenerate instead of answering from its cache (`no-cache=true`).
    pub bypass_server_cache: bool,
}

impl ImageRequest {
    /// A prompt with the server's defaults.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            model: None,
            width: None,
            height: None,
            seed: None,
            enhance: None,
            safe: None,
            quality: None,
            reference_images: Vec::new(),
            transparent: None,
            negative_prompt: None,
            nologo: None,
            private: None,
            nofeed: None,
            guidance_scale: None,
            bypass_server_cache: false,
        }
    }

    /// Sets the model.
    #[must_use]
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets width and height.
    #[must_use]
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.width = Some(width);
        self.height = Some(height);
        self
    }

    /// Sets the seed.
    #[must_use]
    pub fn seed(mut self, seed: i64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Lets the server enhance the prompt.
    #[must_use]
    pub fn enhance(mut self, enhance: bool) -> Self {
        self.enhance = Some(enhance);
        self
    }

    /// Sets the safety filters.
    #[must_use]
    pub fn safe(mut self, safe: Safe) -> Self {
        self.safe = Some(safe);
        self
    }

    /// Sets the quality.
    #[must_use]
    pub fn quality(mut self, quality: ImageQuality) -> Self {
        self.quality = Some(quality);
        self
    }

    /// Adds a reference image (image-to-image).
    #[must_use]
    pub fn reference_image(mut self, url: impl Into<String>) -> Self {
        self.reference_images.push(url.into());
        self
    }

    /// Asks for a transparent background.
    #[must_use]
    pub fn transparent(mut self, transparent: bool) -> Self {
        self.transparent = Some(transparent);
        self
    }

    /// Sets the negative prompt.
    #[must_use]
    pub fn negative_prompt(mut self, text: impl Into<String>) -> Self {
        self.negative_prompt = Some(text.into());
        self
    }

    /// Hides the logo.
    #[must_use]
    pub fn nologo(mut self, nologo: bool) -> Self {
        self.nologo = Some(nologo);
        self
    }

    /// Keeps the image private.
    #[must_use]
    pub fn private(mut self, private: bool) -> Self {
        self.private = Some(private);
        self
    }

    /// Keeps the image off the feed.
    #[must_use]
    pub fn nofeed(mut self, nofeed: bool) -> Self {
        self.nofeed = Some(nofeed);
        self
    }

    /// Sets the guidance scale.
    #[must_use]
    pub fn guidance_scale(mut self, value: f64) -> Self {
        self.guidance_scale = Some(value);
        self
    }

    /// Asks the server to regenerate rather than answer from its cache.
    #[must_use]
    pub fn bypass_server_cache(mut self) -> Self {
        self.bypass_server_cache = true;
        self
    }

    /// Checks the prompt, sizes, seed and reference images before anything is sent.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the bad field.
    pub fn validate(&self) -> Result<(), Error> {
        validate::prompt("prompt", &self.prompt)?;
        if self.prompt == "." || self.prompt == ".." {
            return Err(Error::invalid_input(
                "prompt",
                "an image prompt of only '.' or '..' cannot travel in a URL path (it means \"this\" or \"parent\" directory); add a word",
            ));
        }
        if let Some(model) = &self.model {
            validate::token("model", model)?;
        }
        for (field, value) in [("width", self.width), ("height", self.height)] {
            if let Some(side) = value
                && !(1..=MAX_IMAGE_SIDE).contains(&side)
            {
                return Err(Error::invalid_input(
                    field,
                    format!("{field} must be within 1..={MAX_IMAGE_SIDE} pixels, got {side}"),
                ));
            }
        }
        validate::seed("seed", self.seed)?;
        validate::range("guidance_scale", self.guidance_scale, 0.0, 100.0)?;
        if self.reference_images.len() > MAX_REFERENCE_IMAGES {
            return Err(Error::invalid_input(
                "image",
                format!(
                    "at most {MAX_REFERENCE_IMAGES} reference images, got {}",
                    self.reference_images.len()
                ),
            ));
        }
        for (i, url) in self.reference_images.iter().enumerate() {
            validate::http_url(&format!("image[{i}]"), url)?;
            if url.contains('|') {
                return Err(Error::invalid_input(
                    &format!("image[{i}]"),
                    "a reference image URL must not contain '|' (the list separator)",
                ));
            }
        }
        Ok(())
    }
}

impl From<&str> for ImageRequest {
    fn from(prompt: &str) -> Self {
        Self::new(prompt)
    }
}

impl From<String> for ImageRequest {
    fn from(prompt: String) -> Self {
        Self::new(prompt)
    }
}
