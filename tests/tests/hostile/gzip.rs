//! A gzip bomb, built by hand: a small, valid gzip member that inflates to a given number of
//! zero bytes.
//!
//! `flate2` is in `Cargo.lock` (through other crates) but is not a dependency of this test
//! crate, and this suite may not change manifests, so the member is written directly. It is
//! one dynamic-Huffman deflate block (RFC 1951 §3.2.7) whose codes make a 258-byte match two
//! bits long: literal/length code lengths {0: 2, 256: 2, 285: 1}, distance code lengths
//! {0: 1, 1: 1}. A literal zero, then matches of 258 at distance 1, then zero literals for
//! the rest, then end-of-block: about 1032 inflated bytes per compressed byte (1 GiB in about
//! 1 MiB). The gzip trailer (RFC 1952) carries the CRC-32 of the inflated bytes, computed for
//! a run of zeros without producing it (the CRC register advanced by a matrix power), so the
//! member is valid to the last byte: a decoder that inflates it all reports success.

/// Bits written least significant first, as deflate packs them.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    len: u32,
}

impl Bits {
    fn new() -> Self {
        Self {
            out: Vec::new(),
            acc: 0,
            len: 0,
        }
    }

    /// Writes the low `n` bits of `value`, least significant first (header fields, extras).
    fn put(&mut self, value: u32, n: u32) {
        self.acc |= u64::from(value) << self.len;
        self.len += n;
        while self.len >= 8 {
            self.out.push((self.acc & 0xFF) as u8);
            self.acc >>= 8;
            self.len -= 8;
        }
    }

    /// Writes a Huffman code of `n` bits, most significant first.
    fn code(&mut self, code: u32, n: u32) {
        let reversed = code.reverse_bits() >> (32 - n);
        self.put(reversed, n);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.len > 0 {
            self.out.push((self.acc & 0xFF) as u8);
        }
        self.out
    }
}

/// The order in which code-length code lengths are sent (RFC 1951 §3.2.7).
const CL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// A gzip member that inflates to `size` zero bytes (`size` ≥ 1).
pub(crate) fn zeros(size: u64) -> Vec<u8> {
    assert!(size >= 1);
    let mut bits = Bits::new();
    // BFINAL = 1, BTYPE = 2 (dynamic Huffman).
    bits.put(1, 1);
    bits.put(2, 2);
    // HLIT: 286 literal/length codes; HDIST: 2 distance codes; HCLEN: 18 code-length codes.
    bits.put(286 - 257, 5);
    bits.put(2 - 1, 5);
    bits.put(18 - 4, 4);
    // The code-length code: 18 → "0", 1 → "10", 2 → "11" (lengths 1, 2, 2).
    let mut cl_lengths = [0u32; 19];
    cl_lengths[18] = 1;
    cl_lengths[1] = 2;
    cl_lengths[2] = 2;
    for &symbol in &CL_ORDER[..18] {
        bits.put(cl_lengths[symbol], 3);
    }
    let one = |bits: &mut Bits| bits.code(0b10, 2);
    let two = |bits: &mut Bits| bits.code(0b11, 2);
    let zeros_run = |bits: &mut Bits, run: u32| {
        // Symbol 18: a run of 11..=138 zero lengths, 7 extra bits.
        bits.code(0b0, 1);
        bits.put(run - 11, 7);
    };
    // Literal/length lengths: 0 → 2, 1..=255 → 0, 256 → 2, 257..=284 → 0, 285 → 1.
    two(&mut bits);
    zeros_run(&mut bits, 138);
    zeros_run(&mut bits, 117);
    two(&mut bits);
    zeros_run(&mut bits, 28);
    one(&mut bits);
    // Distance lengths: 0 → 1, 1 → 1.
    one(&mut bits);
    one(&mut bits);
    // Canonical codes: 285 → "0"; 0 → "10"; 256 → "11". Distance 0 (distance 1) → "0".
    let literal_zero = |bits: &mut Bits| bits.code(0b10, 2);
    literal_zero(&mut bits);
    let matches = (size - 1) / 258;
    let rest = (size - 1) % 258;
    for _ in 0..matches {
        // Length 258 ("0", no extra bits), distance 1 ("0", no extra bits).
        bits.put(0, 2);
    }
    for _ in 0..rest {
        literal_zero(&mut bits);
    }
    bits.code(0b11, 2);
    let deflate = bits.finish();

    let mut member = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    member.extend_from_slice(&deflate);
    member.extend_from_slice(&crc32_of_zeros(size).to_le_bytes());
    member.extend_from_slice(&((size & 0xFFFF_FFFF) as u32).to_le_bytes());
    member
}

/// The CRC-32 (IEEE, as gzip uses it) of `n` zero bytes.
///
/// With zero input the register only shifts, a linear map over GF(2); `8 n` of them are one
/// matrix power, found by repeated squaring (as zlib's `crc32_combine` does).
pub(crate) fn crc32_of_zeros(n: u64) -> u32 {
    type Matrix = [u32; 32];
    fn apply(matrix: &Matrix, mut vector: u32) -> u32 {
        let mut out = 0;
        let mut i = 0;
        while vector != 0 {
            if vector & 1 != 0 {
                out ^= matrix[i];
            }
            vector >>= 1;
            i += 1;
        }
        out
    }
    fn square(matrix: &Matrix) -> Matrix {
        let mut out = [0u32; 32];
        for (i, column) in out.iter_mut().enumerate() {
            *column = apply(matrix, matrix[i]);
        }
        out
    }
    // One zero bit: shift right, and xor the polynomial when a one falls out.
    let mut step: Matrix = [0; 32];
    step[0] = 0xEDB8_8320;
    for (i, column) in step.iter_mut().enumerate().skip(1) {
        *column = 1 << (i - 1);
    }
    let mut register = 0xFFFF_FFFFu32;
    let mut bits = u128::from(n) * 8;
    while bits > 0 {
        if bits & 1 != 0 {
            register = apply(&step, register);
        }
        step = square(&step);
        bits >>= 1;
    }
    register ^ 0xFFFF_FFFF
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain bitwise CRC-32, to check the shortcut against.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
            }
        }
        crc ^ 0xFFFF_FFFF
    }

    #[test]
    fn the_crc_of_zeros_matches_the_bitwise_crc() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926, "the reference CRC itself");
        for n in [0usize, 1, 2, 3, 7, 8, 100, 258, 1000, 65_537] {
            assert_eq!(crc32_of_zeros(n as u64), crc32(&vec![0; n]), "n = {n}");
        }
    }

    #[test]
    fn a_gigabyte_of_zeros_is_about_a_megabyte() {
        let bomb = zeros(1 << 30);
        assert_eq!(&bomb[..3], &[0x1f, 0x8b, 8]);
        assert!(bomb.len() < 1_100_000, "{} bytes", bomb.len());
        assert!(bomb.len() > 1_000_000, "{} bytes", bomb.len());
    }
}
