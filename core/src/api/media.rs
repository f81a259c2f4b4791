//! Binary answers (images and audio) and recognising what their bytes are.

use bytes::Bytes;

use crate::api::common::ResponseMeta;

/// What a binary body is, told from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaFormat {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
    /// GIF.
    Gif,
    /// SVG (text).
    Svg,
    /// MP3 (ID3 tag or MPEG frame sync).
    Mp3,
    /// WAV (RIFF/WAVE).
    Wav,
    /// Ogg (Opus or Vorbis).
    Ogg,
    /// FLAC.
    Flac,
    /// AAC in ADTS frames.
    Aac,
}

impl MediaFormat {
    /// Recognises the format from a body's first bytes.
    ///
    /// ```
    /// use blossom_core::api::MediaFormat;
    /// assert_eq!(MediaFormat::sniff(b"\x89PNG\r\n\x1a\n...."), Some(MediaFormat::Png));
    /// assert_eq!(MediaFormat::sniff(b"RIFF\0\0\0\0WAVEfmt "), Some(MediaFormat::Wav));
    /// assert_eq!(MediaFormat::sniff(b"{\"error\":1}"), None);
    /// ```
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        let riff = |tag: &[u8]| bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == tag;
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if riff(b"WEBP") {
            Some(Self::Webp)
        } else if riff(b"WAVE") {
            Some(Self::Wav)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else if bytes.starts_with(b"ID3") {
            Some(Self::Mp3)
        } else if bytes.starts_with(b"OggS") {
            Some(Self::Ogg)
        } else if bytes.starts_with(b"fLaC") {
            Some(Self::Flac)
        } else if bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xF6 == 0xF0 {
            Some(Self::Aac)
        } else if bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0 {
            Some(Self::Mp3)
        } else if is_svg(bytes) {
            Some(Self::Svg)
        } else {
            None
        }
    }

    /// Whether this is an image format.
    pub fn is_image(self) -> bool {
        matches!(
            self,
            Self::Jpeg | Self::Png | Self::Webp | Self::Gif | Self::Svg
        )
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Gif => "gif",
            Self::Svg => "svg",
            Self::Mp3 => "mp3",
            Self::Wav => "wav",
            Self::Ogg => "ogg",
            Self::Flac => "flac",
            Self::Aac => "aac",
        }
    }
}

fn is_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(512)];
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    (text.starts_with("<svg") || text.starts_with("<?xml")) && text.contains("<svg")
}

/// An image or audio answer: the bytes exactly as received (never copied), their type and
/// the answer's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Media {
    /// The body.
    pub bytes: Bytes,
    /// The server's `Content-Type`.
    pub content_type: String,
    /// The format recognised from the bytes, when known.
    pub format: Option<MediaFormat>,
    /// Request id, cache state, attempts.
    pub meta: ResponseMeta,
}

/// A generated image.
pub type Image = Media;
/// Generated speech.
pub type Audio = Media;

impl Media {
    /// The file extension that fits the bytes (falling back to the content type, then `bin`).
    pub fn extension(&self) -> &'static str {
        if let Some(format) = self.format {
            return format.extension();
        }
        let mime = self
            .content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim();
        match mime {
            "image/jpeg" => "jpg",
            "image/png" => "png",
            "image/webp" => "webp",
            "image/svg+xml" => "svg",
            "audio/mpeg" => "mp3",
            "audio/wav" | "audio/x-wav" => "wav",
            "audio/ogg" | "audio/opus" => "ogg",
            "audio/flac" => "flac",
            "audio/aac" => "aac",
            "audio/pcm" | "audio/l16" => "pcm",
            _ => "bin",
        }
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the body is empty (the decoder never returns an empty image).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}
