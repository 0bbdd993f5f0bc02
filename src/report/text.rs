//! Overlay text for the annotated video: OpenCV's Hershey font, anti-aliased,
//! with an optional dark outline, `°` drawn as a small ring.
//!
//! Thick anti-aliased Hershey strokes are slow to rasterise (the three angle
//! labels alone took ~0.7 ms per 640x480 frame, as much as drawing everything
//! else), while the same strings come back frame after frame. So each
//! distinct string is rasterised once into two coverage masks (outline and
//! fill) and blended into every frame that shows it.

use std::cell::RefCell;
use std::collections::HashMap;

use opencv::core::{Mat, Point, Scalar, CV_8UC1, CV_8UC3};
use opencv::imgproc;
use opencv::prelude::*;

/// The overlay font.
pub const FONT: i32 = imgproc::FONT_HERSHEY_SIMPLEX;

/// Distinct strings kept; the cache starts over beyond this (a long video
/// with a running clock shows a few thousand at most).
const MAX_CACHED: usize = 4096;

/// Text for the Hershey fonts: ASCII only.
pub fn ascii(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '?' }).collect()
}

/// Width and height (above the baseline) of a text line, `°` as a ring.
pub fn size(text: &str, fs: f64, th: i32) -> opencv::Result<(i32, i32)> {
    let mut base = 0;
    let deg = text.chars().filter(|&c| c == '\u{b0}').count() as i32;
    let plain = ascii(&text.replace('\u{b0}', ""));
    let sz = imgproc::get_text_size(&plain, FONT, fs, th, &mut base)?;
    let ring = (sz.height as f64 * 0.45).round() as i32;
    Ok((sz.width + deg * ring, sz.height))
}

/// Draws the strokes of `text` with its baseline-left at `org`, lines
/// `extra` pixels thicker than `th` (the outline pass uses a few more).
fn strokes(img: &mut Mat, text: &str, org: Point, fs: f64, th: i32, extra: i32, colour: Scalar) -> opencv::Result<()> {
    let mut x = org.x;
    let mut base = 0;
    for (k, part) in text.split('\u{b0}').enumerate() {
        if k > 0 {
            // the degree ring after the previous part
            let h = imgproc::get_text_size("0", FONT, fs, th, &mut base)?.height;
            let r = ((h as f64) * 0.16).round().max(2.0) as i32;
            let c = Point::new(x + r + 1, org.y - h + r);
            imgproc::circle(img, c, r, colour, th + extra.min(2), imgproc::LINE_AA, 0)?;
            x += (h as f64 * 0.45).round() as i32;
        }
        if part.is_empty() {
            continue;
        }
        let p = ascii(part);
        imgproc::put_text(img, &p, Point::new(x, org.y), FONT, fs, colour, th + extra, imgproc::LINE_AA, false)?;
        x += imgproc::get_text_size(&p, FONT, fs, th, &mut base)?.width;
    }
    Ok(())
}

/// Extra thickness of the outline strokes, pixels.
const OUTLINE_EXTRA: i32 = 3;

/// A string rasterised once: coverage (0–255) of its outline and fill strokes.
struct Sprite {
    cols: i32,
    rows: i32,
    /// Where the text's baseline-left lies in the sprite.
    origin: Point,
    outline: Option<Vec<u8>>,
    fill: Vec<u8>,
}

impl Sprite {
    fn render(text: &str, fs: f64, th: i32, outline: bool) -> opencv::Result<Sprite> {
        let (w, h) = size(text, fs, th)?;
        let mut descent = 0;
        imgproc::get_text_size(&ascii(text), FONT, fs, th, &mut descent)?;
        let margin = th + OUTLINE_EXTRA + 2;
        let (cols, rows) = (w + 2 * margin, h + descent + 2 * margin);
        let origin = Point::new(margin, margin + h);
        let coverage = |extra: i32| -> opencv::Result<Vec<u8>> {
            let mut m = Mat::new_rows_cols_with_default(rows, cols, CV_8UC1, Scalar::all(0.0))?;
            strokes(&mut m, text, origin, fs, th, extra, Scalar::all(255.0))?;
            Ok(m.data_bytes()?.to_vec())
        };
        Ok(Sprite {
            cols,
            rows,
            origin,
            outline: if outline { Some(coverage(OUTLINE_EXTRA)?) } else { None },
            fill: coverage(0)?,
        })
    }

    /// Blends the sprite into a BGR image: the outline in black, then the
    /// fill in `colour`, each weighted by its coverage; clipped to the image.
    fn blend(&self, img: &mut Mat, org: Point, colour: Scalar) -> opencv::Result<()> {
        let (img_cols, img_rows) = (img.cols(), img.rows());
        let x0 = org.x - self.origin.x;
        let y0 = org.y - self.origin.y;
        let c = [colour[0], colour[1], colour[2]].map(|v| v.round().clamp(0.0, 255.0) as u32);
        let data = img.data_bytes_mut()?;
        for sy in 0..self.rows {
            let y = y0 + sy;
            if y < 0 || y >= img_rows {
                continue;
            }
            for sx in 0..self.cols {
                let x = x0 + sx;
                if x < 0 || x >= img_cols {
                    continue;
                }
                let k = (sy * self.cols + sx) as usize;
                let a_out = self.outline.as_ref().map_or(0, |o| o[k]) as u32;
                let a_fill = self.fill[k] as u32;
                if a_out == 0 && a_fill == 0 {
                    continue;
                }
                let p = ((y * img_cols + x) * 3) as usize;
                for ch in 0..3 {
                    let under = data[p + ch] as u32 * (255 - a_out) / 255;
                    data[p + ch] = ((under * (255 - a_fill) + c[ch] * a_fill + 127) / 255) as u8;
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    text: String,
    scale_bits: u64,
    thickness: i32,
    outline: bool,
}

/// Draws overlay text, rasterising each distinct string once.
#[derive(Default)]
pub struct TextPainter {
    cache: RefCell<HashMap<Key, Sprite>>,
}

impl TextPainter {
    /// Draws `text` with its baseline-left at `org` in `colour`, with a black
    /// outline when `outline`. Images other than continuous 8-bit BGR are
    /// drawn on directly.
    #[allow(clippy::too_many_arguments)]
    pub fn draw(
        &self,
        img: &mut Mat,
        text: &str,
        org: Point,
        fs: f64,
        th: i32,
        colour: Scalar,
        outline: bool,
    ) -> opencv::Result<()> {
        if img.typ() != CV_8UC3 || !img.is_continuous() {
            if outline {
                strokes(img, text, org, fs, th, OUTLINE_EXTRA, Scalar::all(0.0))?;
            }
            return strokes(img, text, org, fs, th, 0, colour);
        }
        let key = Key { text: text.to_string(), scale_bits: fs.to_bits(), thickness: th, outline };
        let mut cache = self.cache.borrow_mut();
        if !cache.contains_key(&key) {
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(key.clone(), Sprite::render(text, fs, th, outline)?);
        }
        cache[&key].blend(img, org, colour)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencv::core::Vec3b;

    fn grey(v: f64) -> Mat {
        Mat::new_rows_cols_with_default(60, 200, CV_8UC3, Scalar::all(v)).unwrap()
    }

    #[test]
    fn cached_text_matches_direct_drawing() {
        let (fs, th, colour) = (0.75, 2, Scalar::new(40.0, 200.0, 250.0, 0.0));
        let org = Point::new(10, 40);
        let painter = TextPainter::default();
        let mut cached = grey(128.0);
        painter.draw(&mut cached, "Trunk 45\u{b0}", org, fs, th, colour, true).unwrap();
        // a second draw comes from the cache and lands the same way
        let mut again = grey(128.0);
        painter.draw(&mut again, "Trunk 45\u{b0}", org, fs, th, colour, true).unwrap();
        let mut direct = grey(128.0);
        strokes(&mut direct, "Trunk 45\u{b0}", org, fs, th, OUTLINE_EXTRA, Scalar::all(0.0)).unwrap();
        strokes(&mut direct, "Trunk 45\u{b0}", org, fs, th, 0, colour).unwrap();
        let (mut differ, mut inked) = (0, 0);
        for y in 0..60 {
            for x in 0..200 {
                let (a, b, c) = (
                    cached.at_2d::<Vec3b>(y, x).unwrap(),
                    direct.at_2d::<Vec3b>(y, x).unwrap(),
                    again.at_2d::<Vec3b>(y, x).unwrap(),
                );
                assert_eq!(a, c);
                inked += usize::from(b[0] != 128);
                differ += usize::from((0..3).any(|k| (a[k] as i32 - b[k] as i32).abs() > 8));
            }
        }
        assert!(inked > 300, "text drawn ({inked} px)");
        assert!(differ * 50 < inked, "{differ} of {inked} pixels differ from direct drawing");
    }

    #[test]
    fn text_at_the_edges_is_clipped_not_a_panic() {
        let painter = TextPainter::default();
        let mut img = grey(0.0);
        for org in [Point::new(-30, 5), Point::new(190, 70), Point::new(-500, -500)] {
            painter.draw(&mut img, "Rep 1/2", org, 0.8, 2, Scalar::all(255.0), true).unwrap();
        }
        let mut grey_img = Mat::new_rows_cols_with_default(20, 20, CV_8UC1, Scalar::all(0.0)).unwrap();
        painter.draw(&mut grey_img, "x", Point::new(2, 15), 0.5, 1, Scalar::all(255.0), false).unwrap();
        assert_eq!(ascii("Hüfte 45"), "H?fte 45");
    }
}
