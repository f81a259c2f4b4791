//! Deterministic speech stand-ins and their containers: WAV, raw PCM, MP3 and FLAC.
//!
//! The "speech" is a chirp per word (pitch from the voice and the word), 24 kHz mono
//! 16-bit, its length growing with the text up to [`MAX_SECONDS`]. WAV and PCM carry
//! those samples; FLAC carries them losslessly in verbatim subframes ([`crate::flac`]);
//! MP3 is a sequence of valid MPEG-1 Layer III frames of silence of the same duration
//! (an MP3 encoder is out of scope; decoders and players accept the frames).

use std::f64::consts::TAU;

use crate::generate::Rng;

/// Samples per second of WAV, PCM and FLAC answers.
pub(crate) const SAMPLE_RATE: u32 = 24_000;
/// Shortest answer.
const MIN_SECONDS: f64 = 0.5;
/// Longest answer.
pub(crate) const MAX_SECONDS: f64 = 4.0;

/// A container the emulator can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AudioFormat {
    /// MPEG-1 Layer III, `audio/mpeg` (the service default).
    Mp3,
    /// RIFF WAVE, PCM16 mono 24 kHz, `audio/wav`.
    Wav,
    /// Raw little-endian PCM16 mono 24 kHz, `audio/pcm`.
    Pcm,
    /// FLAC, `audio/flac`.
    Flac,
}

impl AudioFormat {
    /// Parses a speech `response_format` or chat `audio.format` (`pcm16` = `pcm`).
    ///
    /// `Err` carries the message for a known-but-unsupported (`opus`, `aac`) or unknown name.
    pub(crate) fn parse(name: &str) -> Result<Self, String> {
        match name {
            "mp3" => Ok(AudioFormat::Mp3),
            "wav" => Ok(AudioFormat::Wav),
            "pcm" | "pcm16" => Ok(AudioFormat::Pcm),
            "flac" => Ok(AudioFormat::Flac),
            "opus" | "aac" => Err(format!(
                "Audio format \"{name}\" is not supported by the emulator; use mp3, wav, pcm or flac"
            )),
            other => Err(format!(
                "Invalid option: expected one of \"mp3\"|\"wav\"|\"pcm\"|\"flac\"|\"opus\"|\"aac\", received \"{other}\""
            )),
        }
    }

    /// The `Content-Type`.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            AudioFormat::Mp3 => "audio/mpeg",
            AudioFormat::Wav => "audio/wav",
            AudioFormat::Pcm => "audio/pcm",
            AudioFormat::Flac => "audio/flac",
        }
    }

    /// The file extension.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            AudioFormat::Mp3 => "mp3",
            AudioFormat::Wav => "wav",
            AudioFormat::Pcm => "pcm",
            AudioFormat::Flac => "flac",
        }
    }
}

/// How long the audio for `text` lasts at `speed` (1.0 = normal).
pub(crate) fn duration_seconds(text: &str, speed: f64) -> f64 {
    let chars = text.chars().count() as f64;
    let speed = if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    };
    ((0.3 + 0.06 * chars) / speed).clamp(MIN_SECONDS, MAX_SECONDS)
}

/// The samples for `text`: one chirp per word, pitched by `voice_index` and the word.
pub(crate) fn synthesize(text: &str, voice_index: usize, speed: f64, seed: u64) -> Vec<i16> {
    let seconds = duration_seconds(text, speed);
    // At most 4 s × 24 000 = 96 000 samples: the conversion is exact.
    let total = (seconds * f64::from(SAMPLE_RATE)) as usize;
    let words: Vec<&str> = text.split_whitespace().collect();
    let notes = words.len().clamp(1, 24);
    let per_note = (total / notes).max(1);
    let base = 110.0 + 20.0 * voice_index as f64;
    let mut rng = Rng::new(seed);
    let fade = (f64::from(SAMPLE_RATE) * 0.005) as usize; // 5 ms in and out: no clicks
    let mut samples = Vec::with_capacity(total);
    for note in 0..notes {
        let len = if note + 1 == notes {
            total - per_note * note
        } else {
            per_note
        };
        let start = base * (1.0 + rng.unit());
        let end = start * (0.8 + 0.5 * rng.unit());
        let mut phase = 0.0f64;
        for i in 0..len {
            let t = i as f64 / len.max(1) as f64;
            phase += TAU * (start + (end - start) * t) / f64::from(SAMPLE_RATE);
            let envelope = (i.min(len - i) as f64 / fade.max(1) as f64).min(1.0);
            let value = (phase.sin() + 0.3 * (2.0 * phase).sin()) * 0.25 * envelope;
            samples.push((value * f64::from(i16::MAX)) as i16);
        }
    }
    samples
}

/// Encodes `samples` (mono, [`SAMPLE_RATE`]) in `format`.
pub(crate) fn encode(format: AudioFormat, samples: &[i16]) -> Vec<u8> {
    match format {
        AudioFormat::Wav => wav(samples),
        AudioFormat::Pcm => pcm(samples),
        AudioFormat::Flac => crate::flac::encode(samples, SAMPLE_RATE),
        AudioFormat::Mp3 => mp3_silence(samples.len() as f64 / f64::from(SAMPLE_RATE)),
    }
}

/// Little-endian PCM16.
fn pcm(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// A RIFF WAVE file: PCM16 mono at [`SAMPLE_RATE`].
pub(crate) fn wav(samples: &[i16]) -> Vec<u8> {
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    out.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes()); // byte rate
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(&pcm(samples));
    out
}

/// MPEG-1 Layer III, 48 kHz, 32 kbit/s, mono: 96-byte frames of 1152 samples (24 ms).
const MP3_FRAME_BYTES: usize = 96;
const MP3_FRAME_SECONDS: f64 = 1152.0 / 48_000.0;
/// Sync + MPEG-1 + Layer III + no CRC (`FF FB`), bitrate index 1 (32 kbit/s) and sample
/// rate index 1 (48 kHz) without padding (`14`), mono and "original" (`C4`).
const MP3_HEADER: [u8; 4] = [0xff, 0xfb, 0x14, 0xc4];

/// Silent MP3 frames lasting at least `seconds`: each frame is a valid header followed by
/// all-zero side information (no main data, so decoders output silence) and padding.
pub(crate) fn mp3_silence(seconds: f64) -> Vec<u8> {
    let frames = (seconds / MP3_FRAME_SECONDS).ceil().max(1.0) as usize;
    let mut out = Vec::with_capacity(frames * MP3_FRAME_BYTES);
    for _ in 0..frames {
        out.extend_from_slice(&MP3_HEADER);
        out.resize(out.len() + MP3_FRAME_BYTES - MP3_HEADER.len(), 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_header_is_canonical() {
        let samples = synthesize("hello there", 0, 1.0, 1);
        let bytes = wav(&samples);
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(
            u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize,
            bytes.len() - 8
        );
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        assert_eq!(u16::from_le_bytes([bytes[20], bytes[21]]), 1, "PCM");
        assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 1, "mono");
        assert_eq!(
            u32::from_le_bytes(bytes[24..28].try_into().unwrap()),
            24_000
        );
        assert_eq!(u16::from_le_bytes([bytes[34], bytes[35]]), 16);
        assert_eq!(&bytes[36..40], b"data");
        assert_eq!(
            u32::from_le_bytes(bytes[40..44].try_into().unwrap()) as usize,
            samples.len() * 2
        );
        assert!(
            samples.iter().any(|s| s.unsigned_abs() > 1000),
            "not silent"
        );
    }

    #[test]
    fn length_grows_with_text_and_is_capped() {
        let short = synthesize("hi", 0, 1.0, 1).len();
        let long = synthesize(&"word ".repeat(20), 0, 1.0, 1).len();
        let huge = synthesize(&"word ".repeat(500), 0, 1.0, 1).len();
        assert!(short < long);
        assert_eq!(huge, (MAX_SECONDS * 24_000.0) as usize);
        assert_eq!(synthesize("hi", 3, 1.0, 9), synthesize("hi", 3, 1.0, 9));
        assert_ne!(synthesize("hi", 3, 1.0, 9), synthesize("hi", 4, 1.0, 9));
    }

    #[test]
    fn mp3_frames_are_well_formed() {
        let bytes = mp3_silence(1.0);
        assert_eq!(bytes.len() % MP3_FRAME_BYTES, 0);
        let frames = bytes.len() / MP3_FRAME_BYTES;
        assert_eq!(frames, 42); // ceil(1 s / 24 ms)
        for frame in bytes.chunks(MP3_FRAME_BYTES) {
            // 11-bit sync, version 11 (MPEG-1), layer 01 (III), protection bit 1 (no CRC).
            assert_eq!(frame[0], 0xff);
            assert_eq!(frame[1] & 0xe0, 0xe0);
            assert_eq!((frame[1] >> 3) & 0b11, 0b11);
            assert_eq!((frame[1] >> 1) & 0b11, 0b01);
            let bitrate_kbps = [0, 32, 40, 48, 56, 64, 80, 96][usize::from(frame[2] >> 4)];
            let sample_rate = [44_100, 48_000, 32_000][usize::from((frame[2] >> 2) & 0b11)];
            let padding = usize::from((frame[2] >> 1) & 1);
            assert_eq!(
                144 * bitrate_kbps * 1000 / sample_rate + padding,
                MP3_FRAME_BYTES
            );
        }
    }

    #[test]
    fn formats_parse() {
        assert_eq!(AudioFormat::parse("pcm16").unwrap(), AudioFormat::Pcm);
        assert!(
            AudioFormat::parse("opus")
                .unwrap_err()
                .contains("not supported")
        );
        assert!(AudioFormat::parse("ogg").is_err());
        assert_eq!(AudioFormat::Mp3.content_type(), "audio/mpeg");
    }
}
