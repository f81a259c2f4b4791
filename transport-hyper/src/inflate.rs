//! Response bodies sent with `Content-Encoding: gzip` (RFC 1952) or `deflate` (RFC 1950,
//! and the raw RFC 1951 streams some servers send under that name), inflated as they arrive
//! and never past the body limit: the output stops at the limit whatever the input's ratio.

use std::io::Write as _;

use blossom_core::TransportError;
use bytes::{Bytes, BytesMut};
use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};
use http::HeaderMap;
use http::header::CONTENT_ENCODING;

use crate::errors::{corrupt, too_large};

/// A content coding this transport inflates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    /// `gzip` or `x-gzip`.
    Gzip,
    /// `deflate`.
    Deflate,
}

impl Coding {
    /// The coding a response declares, when it is one this transport inflates. Anything else
    /// (`identity`, a coding it did not ask for) is passed on as it is.
    pub(crate) fn of(headers: &HeaderMap) -> Option<Self> {
        let value = headers.get(CONTENT_ENCODING)?.to_str().ok()?.trim();
        if value.eq_ignore_ascii_case("gzip") || value.eq_ignore_ascii_case("x-gzip") {
            Some(Self::Gzip)
        } else if value.eq_ignore_ascii_case("deflate") {
            Some(Self::Deflate)
        } else {
            None
        }
    }
}

/// Collects inflated bytes, refusing any that would pass the limit.
#[derive(Debug)]
struct Sink {
    out: BytesMut,
    room: usize,
    overflowed: bool,
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.room {
            self.overflowed = true;
            return Err(std::io::Error::other("the inflated body passed its limit"));
        }
        self.room -= buf.len();
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug)]
enum Decoder {
    /// `deflate` whose first two bytes have not arrived yet: they tell zlib from raw.
    Undecided(Vec<u8>, Sink),
    Gzip(GzDecoder<Sink>),
    Zlib(ZlibDecoder<Sink>),
    Raw(DeflateDecoder<Sink>),
    /// Failed or finished.
    Spent,
}

/// Inflates one body.
#[derive(Debug)]
pub(crate) struct Inflater {
    decoder: Decoder,
    limit: usize,
}

impl Inflater {
    /// An inflater for `coding` whose output may reach `limit` bytes in all.
    pub(crate) fn new(coding: Coding, limit: usize) -> Self {
        let sink = Sink {
            out: BytesMut::new(),
            room: limit,
            overflowed: false,
        };
        let decoder = match coding {
            Coding::Gzip => Decoder::Gzip(GzDecoder::new(sink)),
            Coding::Deflate => Decoder::Undecided(Vec::new(), sink),
        };
        Self { decoder, limit }
    }

    /// Inflates `input`; returns what it produced (often nothing for a small input).
    ///
    /// # Errors
    /// Past the limit, or on corrupt input.
    pub(crate) fn push(&mut self, input: &[u8]) -> Result<Bytes, TransportError> {
        if let Decoder::Undecided(held, _) = &mut self.decoder {
            held.extend_from_slice(input);
            if held.len() < 2 {
                return Ok(Bytes::new());
            }
        }
        match std::mem::replace(&mut self.decoder, Decoder::Spent) {
            Decoder::Undecided(held, sink) => {
                // RFC 1950 §2.2: method 8 in the low nibble, and the first two bytes a
                // multiple of 31 as a big-endian number.
                let zlib = held[0] & 0x0F == 8 && u16::from_be_bytes([held[0], held[1]]) % 31 == 0;
                self.decoder = if zlib {
                    Decoder::Zlib(ZlibDecoder::new(sink))
                } else {
                    Decoder::Raw(DeflateDecoder::new(sink))
                };
                self.write(&held)
            }
            decided => {
                self.decoder = decided;
                self.write(input)
            }
        }
    }

    /// Ends the body: checks the stream is complete and returns what was still held.
    ///
    /// # Errors
    /// A truncated or corrupt stream.
    pub(crate) fn finish(&mut self) -> Result<Bytes, TransportError> {
        let result = match &mut self.decoder {
            Decoder::Gzip(d) => d.try_finish(),
            Decoder::Zlib(d) => d.try_finish(),
            Decoder::Raw(d) => d.try_finish(),
            Decoder::Undecided(held, _) if held.is_empty() => Ok(()),
            Decoder::Undecided(..) => Err(std::io::Error::other("a deflate stream of one byte")),
            Decoder::Spent => return Ok(Bytes::new()),
        };
        let produced = self.settle(result);
        self.decoder = Decoder::Spent;
        produced
    }

    fn write(&mut self, input: &[u8]) -> Result<Bytes, TransportError> {
        let result = match &mut self.decoder {
            Decoder::Gzip(d) => d.write_all(input),
            Decoder::Zlib(d) => d.write_all(input),
            Decoder::Raw(d) => d.write_all(input),
            Decoder::Undecided(..) | Decoder::Spent => Ok(()),
        };
        self.settle(result)
    }

    /// The bytes produced so far, or the error (which spends the inflater).
    fn settle(&mut self, result: std::io::Result<()>) -> Result<Bytes, TransportError> {
        let sink = match &mut self.decoder {
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Zlib(d) => d.get_mut(),
            Decoder::Raw(d) => d.get_mut(),
            Decoder::Undecided(_, sink) => sink,
            Decoder::Spent => return Ok(Bytes::new()),
        };
        match result {
            Ok(()) => Ok(sink.out.split().freeze()),
            Err(error) => {
                let overflowed = sink.overflowed;
                self.decoder = Decoder::Spent;
                Err(if overflowed {
                    too_large(self.limit)
                } else {
                    corrupt(&error)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blossom_core::TransportErrorKind;
    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};

    fn text() -> Vec<u8> {
        (0..20_000u32)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect()
    }

    fn inflate_in_pieces(
        coding: Coding,
        encoded: &[u8],
        piece: usize,
        limit: usize,
    ) -> Result<Vec<u8>, TransportError> {
        let mut inflater = Inflater::new(coding, limit);
        let mut out = Vec::new();
        for chunk in encoded.chunks(piece) {
            out.extend_from_slice(&inflater.push(chunk)?);
        }
        out.extend_from_slice(&inflater.finish()?);
        Ok(out)
    }

    fn encoded(kind: &str, data: &[u8]) -> Vec<u8> {
        let level = Compression::default();
        let result = match kind {
            "gzip" => {
                let mut e = GzEncoder::new(Vec::new(), level);
                e.write_all(data).map(|()| e).and_then(|e| e.finish())
            }
            "zlib" => {
                let mut e = ZlibEncoder::new(Vec::new(), level);
                e.write_all(data).map(|()| e).and_then(|e| e.finish())
            }
            _ => {
                let mut e = DeflateEncoder::new(Vec::new(), level);
                e.write_all(data).map(|()| e).and_then(|e| e.finish())
            }
        };
        result.unwrap()
    }

    #[test]
    fn inflates_every_coding_in_any_pieces() {
        let data = text();
        for (kind, coding) in [
            ("gzip", Coding::Gzip),
            ("zlib", Coding::Deflate),
            ("raw", Coding::Deflate),
        ] {
            let body = encoded(kind, &data);
            for piece in [1, 2, 7, 4096, body.len()] {
                assert_eq!(
                    inflate_in_pieces(coding, &body, piece, usize::MAX).unwrap(),
                    data,
                    "{kind} in pieces of {piece}"
                );
            }
        }
    }

    #[test]
    fn stops_at_the_limit_whatever_the_ratio() {
        let zeros = vec![0u8; 8 << 20];
        let body = encoded("gzip", &zeros);
        assert!(body.len() < 64 * 1024);
        let error = inflate_in_pieces(Coding::Gzip, &body, body.len(), 1 << 20).unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge);
        assert_eq!(
            inflate_in_pieces(Coding::Gzip, &body, 1000, 8 << 20)
                .unwrap()
                .len(),
            8 << 20
        );
    }

    #[test]
    fn a_truncated_or_corrupt_stream_is_an_error() {
        let body = encoded("gzip", &text());
        let cut =
            inflate_in_pieces(Coding::Gzip, &body[..body.len() / 2], 512, usize::MAX).unwrap_err();
        assert_eq!(cut.kind(), TransportErrorKind::ResetDuringBody);
        let garbage =
            inflate_in_pieces(Coding::Gzip, b"not gzip at all", 4, usize::MAX).unwrap_err();
        assert_eq!(garbage.kind(), TransportErrorKind::ResetDuringBody);
        assert_eq!(inflate_in_pieces(Coding::Deflate, b"", 4, 10).unwrap(), b"");
    }

    #[test]
    fn reads_the_declared_coding() {
        let mut headers = HeaderMap::new();
        assert_eq!(Coding::of(&headers), None);
        for (value, coding) in [
            ("gzip", Some(Coding::Gzip)),
            (" X-GZIP ", Some(Coding::Gzip)),
            ("deflate", Some(Coding::Deflate)),
            ("br", None),
            ("identity", None),
        ] {
            headers.insert(CONTENT_ENCODING, value.parse().unwrap());
            assert_eq!(Coding::of(&headers), coding, "{value}");
        }
    }
}
