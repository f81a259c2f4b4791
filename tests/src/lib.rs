//! Shared helpers for the Blossom SDK's cross-crate tests: inspecting what the emulator
//! served and what the SDK returned.
//!
//! The tests themselves live in `tests/`: end-to-end runs of every client method against the
//! emulator over loopback, for each adapter.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod capture;
pub mod examples;
pub mod loopback;
pub mod sim;

use blossom_core::api::MediaFormat;

/// The width and height recorded in a JPEG's first start-of-frame segment.
///
/// Returns `None` when the bytes are not a JPEG or carry no frame header.
///
/// ```
/// assert_eq!(blossom_tests::jpeg_size(b"not a jpeg"), None);
/// ```
pub fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if MediaFormat::sniff(bytes) != Some(MediaFormat::Jpeg) {
        return None;
    }
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return None;
        }
        let marker = bytes[at + 1];
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let frame = bytes.get(at + 5..at + 9)?;
            let height = u32::from(u16::from_be_bytes([frame[0], frame[1]]));
            let width = u32::from(u16::from_be_bytes([frame[2], frame[3]]));
            return Some((width, height));
        }
        at += 2 + length;
    }
    None
}

/// The sample rate, channel count and bits per sample of a WAV header.
///
/// ```
/// assert_eq!(blossom_tests::wav_format(b"RIFF"), None);
/// ```
pub fn wav_format(bytes: &[u8]) -> Option<(u32, u16, u16)> {
    if MediaFormat::sniff(bytes) != Some(MediaFormat::Wav) || bytes.get(12..16)? != b"fmt " {
        return None;
    }
    let channels = u16::from_le_bytes([*bytes.get(22)?, *bytes.get(23)?]);
    let rate = u32::from_le_bytes(bytes.get(24..28)?.try_into().ok()?);
    let bits = u16::from_le_bytes([*bytes.get(34)?, *bytes.get(35)?]);
    Some((rate, channels, bits))
}
