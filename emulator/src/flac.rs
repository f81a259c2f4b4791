//! A minimal FLAC writer: 16-bit mono, fixed 4096-sample blocks, verbatim subframes.
//!
//! Verbatim subframes store samples as they are (no prediction, no compression), which
//! keeps the encoder a page long while producing a fully valid stream: `fLaC`, one
//! STREAMINFO block (MD5 left as zero, which the format defines as "unknown"), then frames
//! with correct CRC-8 headers and CRC-16 footers.

/// Samples per frame.
const BLOCK: usize = 4096;

/// Encodes mono 16-bit `samples` at `sample_rate` (must be 24 000 for the header code
/// used here, or any rate when read from STREAMINFO by the decoder).
pub(crate) fn encode(samples: &[i16], sample_rate: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(42 + samples.len() * 2 + samples.len() / BLOCK * 16 + 16);
    out.extend_from_slice(b"fLaC");
    out.push(0x80); // last metadata block, type 0 = STREAMINFO
    out.extend_from_slice(&[0, 0, 34]);
    let block = samples.len().clamp(16, BLOCK);
    let block = u16::try_from(block).unwrap_or(u16::MAX);
    out.extend_from_slice(&block.to_be_bytes()); // min block size
    out.extend_from_slice(&block.to_be_bytes()); // max block size
    out.extend_from_slice(&[0; 6]); // min and max frame size: unknown
    // 20 bits of sample rate, 3 of channels - 1 (0: mono), 5 of bits per sample - 1.
    let packed =
        (u64::from(sample_rate) << 44) | (15u64 << 36) | (samples.len() as u64 & 0xf_ffff_ffff); // 36 bits of total samples
    out.extend_from_slice(&packed.to_be_bytes());
    out.extend_from_slice(&[0; 16]); // MD5 of the audio: unknown
    for (number, chunk) in samples.chunks(BLOCK).enumerate() {
        write_frame(&mut out, number as u64, chunk, sample_rate);
    }
    out
}

fn write_frame(out: &mut Vec<u8>, number: u64, samples: &[i16], sample_rate: u32) {
    let start = out.len();
    out.extend_from_slice(&[0xff, 0xf8]); // sync, fixed block size
    let rate_code = match sample_rate {
        24_000 => 0b0111,
        48_000 => 0b1010,
        44_100 => 0b1001,
        _ => 0b0000, // from STREAMINFO
    };
    out.push((0b0111 << 4) | rate_code); // block size: 16 bits at the end of the header
    out.push(0b0000_1000); // mono, 16 bits per sample, reserved 0
    write_utf8_number(out, number);
    let size_minus_one = u16::try_from(samples.len().saturating_sub(1)).unwrap_or(u16::MAX);
    out.extend_from_slice(&size_minus_one.to_be_bytes());
    let header_crc = crc8(&out[start..]);
    out.push(header_crc);
    out.push(0b0000_0010); // subframe: verbatim, no wasted bits
    for sample in samples {
        out.extend_from_slice(&sample.to_be_bytes());
    }
    let frame_crc = crc16(&out[start..]);
    out.extend_from_slice(&frame_crc.to_be_bytes());
}

/// The frame number in FLAC's extended UTF-8 coding.
fn write_utf8_number(out: &mut Vec<u8>, n: u64) {
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    // Continuation bytes needed: each carries 6 bits; the lead byte carries 6 - extra bits.
    let mut extra = 1;
    while extra < 6 && n >= 1u64 << (6 - extra + 6 * extra) {
        extra += 1;
    }
    let lead_mask: u8 = !(0xffu8 >> (extra + 1));
    out.push(lead_mask | (n >> (6 * extra)) as u8);
    for i in (0..extra).rev() {
        out.push(0x80 | ((n >> (6 * i)) & 0x3f) as u8);
    }
}

/// CRC-8, polynomial x⁸+x²+x+1, initial 0 (frame headers).
pub(crate) fn crc8(bytes: &[u8]) -> u8 {
    let mut crc = 0u8;
    for byte in bytes {
        crc ^= byte;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// CRC-16, polynomial x¹⁶+x¹⁵+x²+1, initial 0 (whole frames).
pub(crate) fn crc16(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for byte in bytes {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crcs_match_reference_values() {
        // CRC-8/SMBUS and CRC-16/UMTS ("BUYPASS") of "123456789".
        assert_eq!(crc8(b"123456789"), 0xf4);
        assert_eq!(crc16(b"123456789"), 0xfee8);
    }

    #[test]
    fn utf8_numbers() {
        let enc = |n| {
            let mut v = Vec::new();
            write_utf8_number(&mut v, n);
            v
        };
        assert_eq!(enc(0x41), vec![0x41]);
        assert_eq!(enc(0x80), vec![0xc2, 0x80]);
        assert_eq!(enc(0x7ff), vec![0xdf, 0xbf]);
        assert_eq!(enc(0x800), vec![0xe0, 0xa0, 0x80]);
        assert_eq!(enc(0x10000), vec![0xf0, 0x90, 0x80, 0x80]);
    }

    /// Parses the stream back and checks every field and CRC.
    #[test]
    fn stream_parses_back_losslessly() {
        let samples: Vec<i16> = (0..10_000)
            .map(|i| ((i * 37) % 2000 - 1000) as i16)
            .collect();
        let bytes = encode(&samples, 24_000);
        assert_eq!(&bytes[..4], b"fLaC");
        assert_eq!(bytes[4], 0x80);
        assert_eq!(&bytes[5..8], &[0, 0, 34]);
        let info = &bytes[8..42];
        let packed = u64::from_be_bytes(info[10..18].try_into().unwrap());
        assert_eq!(packed >> 44, 24_000);
        assert_eq!((packed >> 41) & 0x7, 0);
        assert_eq!((packed >> 36) & 0x1f, 15);
        assert_eq!(packed & 0xf_ffff_ffff, 10_000);
        let mut pos = 42;
        let mut decoded = Vec::new();
        let mut frame_number = 0u8;
        while pos < bytes.len() {
            let start = pos;
            assert_eq!(&bytes[pos..pos + 2], &[0xff, 0xf8]);
            assert_eq!(bytes[pos + 2], 0x77);
            assert_eq!(bytes[pos + 3], 0x08);
            assert_eq!(bytes[pos + 4], frame_number);
            let size = u16::from_be_bytes([bytes[pos + 5], bytes[pos + 6]]) as usize + 1;
            assert_eq!(crc8(&bytes[start..pos + 7]), bytes[pos + 7]);
            assert_eq!(bytes[pos + 8], 0x02);
            pos += 9;
            for _ in 0..size {
                decoded.push(i16::from_be_bytes([bytes[pos], bytes[pos + 1]]));
                pos += 2;
            }
            let crc = u16::from_be_bytes([bytes[pos], bytes[pos + 1]]);
            assert_eq!(crc16(&bytes[start..pos]), crc);
            pos += 2;
            frame_number += 1;
        }
        assert_eq!(frame_number, 3);
        assert_eq!(decoded, samples);
    }
}
