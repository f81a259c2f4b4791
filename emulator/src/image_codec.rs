//! Deterministic pictures and their encodings (baseline JPEG, RGBA PNG).
//!
//! A picture is a diagonal two-colour gradient with a few circles and rectangles, all
//! chosen by the seed. Rendering works row by row over spans (no per-pixel shape tests),
//! so even 4096×4096 stays cheap; the encoders dominate the cost.

use crate::generate::Rng;

/// Largest accepted width or height.
pub(crate) const MAX_SIDE: u32 = 4096;

#[derive(Debug, Clone, Copy)]
enum Shape {
    Circle { cx: f64, cy: f64, r: f64 },
    Rect { x0: u32, y0: u32, x1: u32, y1: u32 },
}

/// A seeded picture description, independent of the output size's aspect.
#[derive(Debug, Clone)]
pub(crate) struct Picture {
    width: u32,
    height: u32,
    from: [u8; 3],
    to: [u8; 3],
    shapes: Vec<(Shape, [u8; 3])>,
}

fn colour(rng: &mut Rng) -> [u8; 3] {
    let bits = rng.next_u64().to_le_bytes();
    [bits[0], bits[1], bits[2]]
}

impl Picture {
    /// The picture for `seed` at `width`×`height` (both at least 1).
    pub(crate) fn new(width: u32, height: u32, seed: u64) -> Self {
        let (width, height) = (width.max(1), height.max(1));
        let mut rng = Rng::new(seed);
        let from = colour(&mut rng);
        let to = colour(&mut rng);
        let count = rng.range(3, 6);
        let (w, h) = (f64::from(width), f64::from(height));
        let shapes = (0..count)
            .map(|_| {
                let c = colour(&mut rng);
                let shape = if rng.coin() {
                    Shape::Circle {
                        cx: rng.unit() * w,
                        cy: rng.unit() * h,
                        r: (0.05 + rng.unit() * 0.25) * w.min(h),
                    }
                } else {
                    let x0 = rng.unit() * w * 0.8;
                    let y0 = rng.unit() * h * 0.8;
                    let x1 = (x0 + (0.1 + rng.unit() * 0.4) * w).min(w);
                    let y1 = (y0 + (0.1 + rng.unit() * 0.4) * h).min(h);
                    // Coordinates are within 0..=4096, so the conversions are exact.
                    Shape::Rect {
                        x0: x0 as u32,
                        y0: y0 as u32,
                        x1: x1 as u32,
                        y1: y1 as u32,
                    }
                };
                (shape, c)
            })
            .collect();
        Picture {
            width,
            height,
            from,
            to,
            shapes,
        }
    }

    /// Pixels as RGB (3 bytes) or RGBA (4 bytes; the background fully transparent, shapes
    /// opaque), row-major.
    pub(crate) fn render(&self, alpha: bool) -> Vec<u8> {
        let channels = if alpha { 4 } else { 3 };
        let (w, h) = (self.width as usize, self.height as usize);
        let row_bytes = w * channels;
        // The background depends on x + y only: one diagonal strip of w + h - 1 colours
        // serves every row, copied with a single memcpy per row.
        let denominator = (w + h).saturating_sub(2).max(1);
        let mut strip = Vec::with_capacity((w + h) * channels);
        for s in 0..(w + h - 1) {
            let t = s * 255 / denominator;
            strip.extend(self.from.iter().zip(self.to).map(|(&a, b)| lerp(a, b, t)));
            if alpha {
                strip.push(0);
            }
        }
        // A row of each shape's colour, so a span is one memcpy too.
        let fills: Vec<Vec<u8>> = self
            .shapes
            .iter()
            .map(|(_, c)| {
                let pixel: Vec<u8> = c.iter().copied().chain(alpha.then_some(255)).collect();
                pixel.repeat(w)
            })
            .collect();
        let mut pixels = vec![0u8; row_bytes * h];
        for (y, row) in pixels.chunks_exact_mut(row_bytes).enumerate() {
            row.copy_from_slice(&strip[y * channels..(y + w) * channels]);
            for ((shape, _), fill) in self.shapes.iter().zip(&fills) {
                if let Some((x0, x1)) = span(shape, y as f64 + 0.5, w) {
                    let (start, end) = (x0 * channels, x1 * channels);
                    row[start..end].copy_from_slice(&fill[..end - start]);
                }
            }
        }
        pixels
    }
}

fn lerp(a: u8, b: u8, t: usize) -> u8 {
    let (a, b) = (a as usize, b as usize);
    u8::try_from((a * (255 - t) + b * t) / 255).unwrap_or(u8::MAX)
}

/// The columns `x0..x1` a shape covers on the row at height `y`.
fn span(shape: &Shape, y: f64, width: usize) -> Option<(usize, usize)> {
    match *shape {
        Shape::Circle { cx, cy, r } => {
            let dy = y - cy;
            let half = (r * r - dy * dy).sqrt();
            if half.is_nan() {
                return None;
            }
            let x0 = (cx - half).max(0.0).round() as usize;
            let x1 = ((cx + half).round().max(0.0) as usize).min(width);
            (x0 < x1).then_some((x0, x1))
        }
        Shape::Rect { x0, y0, x1, y1 } => {
            let inside = y >= f64::from(y0) && y < f64::from(y1);
            let (x0, x1) = (x0 as usize, (x1 as usize).min(width));
            (inside && x0 < x1).then_some((x0, x1))
        }
    }
}

/// A baseline JPEG of an RGB buffer.
///
/// Fails when the size is 0 or over 65535, or the buffer is too short.
pub(crate) fn encode_jpeg(
    rgb: &[u8],
    width: u32,
    height: u32,
    quality: u8,
) -> Result<Vec<u8>, String> {
    let w = u16::try_from(width).map_err(|_| format!("width {width} too large for JPEG"))?;
    let h = u16::try_from(height).map_err(|_| format!("height {height} too large for JPEG"))?;
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    encoder
        .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| format!("JPEG encoding failed: {e}"))?;
    Ok(out)
}

/// An 8-bit RGBA PNG.
///
/// Fails when the buffer does not match the size.
pub(crate) fn encode_png(rgba: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder
            .write_header()
            .map_err(|e| format!("PNG header failed: {e}"))?;
        writer
            .write_image_data(rgba)
            .map_err(|e| format!("PNG encoding failed: {e}"))?;
        writer
            .finish()
            .map_err(|e| format!("PNG encoding failed: {e}"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Width and height from the JPEG SOF0 segment.
    fn jpeg_size(bytes: &[u8]) -> (u16, u16) {
        assert_eq!(&bytes[..2], &[0xff, 0xd8], "SOI");
        assert_eq!(&bytes[bytes.len() - 2..], &[0xff, 0xd9], "EOI");
        let mut i = 2;
        while i + 9 < bytes.len() {
            assert_eq!(bytes[i], 0xff);
            let marker = bytes[i + 1];
            let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
            if marker == 0xc0 {
                let h = u16::from_be_bytes([bytes[i + 5], bytes[i + 6]]);
                let w = u16::from_be_bytes([bytes[i + 7], bytes[i + 8]]);
                return (w, h);
            }
            i += 2 + len;
        }
        panic!("no SOF0");
    }

    #[test]
    fn jpeg_has_exactly_the_requested_size() {
        for (w, h) in [(1, 1), (17, 5), (64, 48), (333, 101)] {
            let picture = Picture::new(w, h, 7);
            let jpeg = encode_jpeg(&picture.render(false), w, h, 80).unwrap();
            assert_eq!(jpeg_size(&jpeg), (w as u16, h as u16));
        }
    }

    #[test]
    fn png_decodes_to_the_requested_size_with_alpha() {
        let (w, h) = (40, 30);
        let png_bytes = encode_png(&Picture::new(w, h, 3).render(true), w, h).unwrap();
        let decoder = png::Decoder::new(png_bytes.as_slice());
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (w, h));
        assert_eq!(info.color_type, png::ColorType::Rgba);
        let alphas: Vec<u8> = buf.chunks(4).map(|p| p[3]).collect();
        assert!(alphas.contains(&0), "the background is transparent");
    }

    #[test]
    fn pictures_are_deterministic_and_seed_dependent() {
        let a = Picture::new(32, 32, 1).render(false);
        assert_eq!(a, Picture::new(32, 32, 1).render(false));
        assert_ne!(a, Picture::new(32, 32, 2).render(false));
    }
}
