//! The person segmentation that the landmark model produces with every pose.
//!
//! Kept as the model's 256x256 crop logits plus the crop's ROI: cheap to keep
//! (one copy), and mapped to frame pixels only when a later stage asks.

use opencv::core::{Mat, Scalar, Size, BORDER_CONSTANT, CV_32F};
use opencv::imgproc;

use super::landmarks::LANDMARK_INPUT_PX;
use super::roi::{PointPx, Roi};

/// Person mask of one frame, in the landmark crop.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentationMask {
    /// Logits, row-major, `side_px * side_px`.
    logits: Vec<f32>,
    side_px: u32,
    /// Where the crop lies in the frame.
    roi: Roi,
}

impl SegmentationMask {
    pub fn new(logits: Vec<f32>, roi: Roi) -> Self {
        Self { logits, side_px: LANDMARK_INPUT_PX, roi }
    }

    pub fn roi(&self) -> &Roi {
        &self.roi
    }

    /// The same mask placed in a picture scaled by `factor`.
    pub fn scaled(mut self, factor: f32) -> Self {
        self.roi = self.roi.scaled(factor);
        self
    }

    pub fn side_px(&self) -> u32 {
        self.side_px
    }

    /// Raw logits of the crop, row-major.
    pub fn logits(&self) -> &[f32] {
        &self.logits
    }

    /// Probability (0..1) that frame pixel `p` belongs to the person,
    /// bilinearly interpolated; 0 outside the crop.
    pub fn probability_at(&self, p: PointPx) -> f32 {
        let (u, v) = self.roi.frame_to_crop(p);
        let side = self.side_px as f32;
        let (x, y) = (u * side - 0.5, v * side - 0.5);
        if !(x >= 0.0 && y >= 0.0 && x <= side - 1.0 && y <= side - 1.0) {
            return 0.0;
        }
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.side_px as usize - 1), (y0 + 1).min(self.side_px as usize - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let at = |r: usize, c: usize| self.logits[r * self.side_px as usize + c];
        let logit =
            (1.0 - fy) * ((1.0 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1.0 - fx) * at(y1, x0) + fx * at(y1, x1));
        1.0 / (1.0 + (-logit).exp())
    }

    /// The mask as a `height`x`width` `CV_32F` image of probabilities in frame pixels.
    pub fn to_frame(&self, width: u32, height: u32) -> opencv::Result<Mat> {
        let side = self.side_px as i32;
        let logits = Mat::new_rows_cols_with_data(side, side, &self.logits)?;
        let mut prob = Mat::default();
        // sigmoid(x) = 1 / (1 + exp(-x))
        let mut neg = Mat::default();
        opencv::core::multiply(&logits, &Scalar::all(-1.0), &mut neg, 1.0, CV_32F)?;
        let mut e = Mat::default();
        opencv::core::exp(&neg, &mut e)?;
        let mut denom = Mat::default();
        opencv::core::add(&e, &Scalar::all(1.0), &mut denom, &opencv::core::no_array(), CV_32F)?;
        opencv::core::divide2(&Scalar::all(1.0), &denom, &mut prob, 1.0, CV_32F)?;
        // crop pixel (c, r) ↦ frame: the ROI affine; invert to sample frame from crop
        let m = self.roi.crop_to_frame_affine(self.side_px);
        let m = Mat::from_slice_2d(&m)?;
        let mut out = Mat::default();
        imgproc::warp_affine(
            &prob,
            &mut out,
            &m,
            Size::new(width as i32, height as i32),
            imgproc::INTER_LINEAR,
            BORDER_CONSTANT,
            Scalar::all(0.0),
        )?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencv::prelude::*;

    #[test]
    fn probability_follows_the_crop_layout() {
        let side = LANDMARK_INPUT_PX as usize;
        // left half of the crop is person
        let logits: Vec<f32> = (0..side * side).map(|i| if i % side < side / 2 { 10.0 } else { -10.0 }).collect();
        let roi = Roi { center: PointPx::new(500.0, 300.0), size_px: 512.0, rotation_rad: 0.0 };
        let m = SegmentationMask::new(logits, roi);
        assert!(m.probability_at(PointPx::new(300.0, 300.0)) > 0.99);
        assert!(m.probability_at(PointPx::new(700.0, 300.0)) < 0.01);
        assert_eq!(m.probability_at(PointPx::new(5000.0, 300.0)), 0.0);
        let frame = m.to_frame(1000, 600).unwrap();
        assert!(*frame.at_2d::<f32>(300, 300).unwrap() > 0.99);
        assert!(*frame.at_2d::<f32>(300, 700).unwrap() < 0.01);
        assert_eq!(*frame.at_2d::<f32>(10, 10).unwrap(), 0.0);
    }
}
