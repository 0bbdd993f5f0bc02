//! Frame → model tensor: one affine warp of the BGR frame into a reused crop
//! buffer, then one pass converting BGR bytes to normalised RGB floats.

use opencv::core::{Mat, Scalar, Size, BORDER_CONSTANT, BORDER_REPLICATE};
use opencv::imgproc;
use opencv::prelude::*;

use super::roi::Roi;

/// How pixels outside the frame are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Border {
    /// Black (the detector's letterbox).
    Zero,
    /// Repeat the edge pixel (the landmark crop).
    Replicate,
}

/// Linear map from a byte to the model's input range: `value = byte * scale + offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalization {
    pub scale: f32,
    pub offset: f32,
}

impl Normalization {
    /// [-1, 1], the detector's range.
    pub const SIGNED: Self = Self { scale: 1.0 / 127.5, offset: -1.0 };
    /// [0, 1], the landmark model's range.
    pub const UNIT: Self = Self { scale: 1.0 / 255.0, offset: 0.0 };
}

/// Reusable buffers for turning a region of a frame into an NHWC RGB tensor.
pub struct TensorBuilder {
    side_px: u32,
    crop: Mat,
    lut: [f32; 256],
    norm: Normalization,
    border: Border,
}

impl TensorBuilder {
    pub fn new(side_px: u32, norm: Normalization, border: Border) -> Self {
        let mut lut = [0.0f32; 256];
        for (i, v) in lut.iter_mut().enumerate() {
            *v = i as f32 * norm.scale + norm.offset;
        }
        Self { side_px, crop: Mat::default(), lut, norm, border }
    }

    pub fn normalization(&self) -> Normalization {
        self.norm
    }

    /// The last warped crop (BGR, `side_px` square).
    pub fn crop(&self) -> &Mat {
        &self.crop
    }

    /// Warps `roi` of the BGR `frame` and writes it into `tensor`
    /// (`side*side*3` floats, RGB, row-major).
    pub fn fill(&mut self, frame: &Mat, roi: &Roi, tensor: &mut [f32]) -> opencv::Result<()> {
        let m = roi.crop_to_frame_affine(self.side_px);
        let m = Mat::from_slice_2d(&m)?;
        let side = self.side_px as i32;
        let border = match self.border {
            Border::Zero => BORDER_CONSTANT,
            Border::Replicate => BORDER_REPLICATE,
        };
        imgproc::warp_affine(
            frame,
            &mut self.crop,
            &m,
            Size::new(side, side),
            imgproc::INTER_LINEAR | imgproc::WARP_INVERSE_MAP,
            border,
            Scalar::default(),
        )?;
        let bytes = self.crop.data_bytes()?;
        let lut = &self.lut;
        debug_assert_eq!(bytes.len(), tensor.len());
        for (dst, src) in tensor.chunks_exact_mut(3).zip(bytes.chunks_exact(3)) {
            dst[0] = lut[src[2] as usize];
            dst[1] = lut[src[1] as usize];
            dst[2] = lut[src[0] as usize];
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::roi::PointPx;
    use opencv::core::{Vec3b, CV_8UC3};

    #[test]
    fn identity_roi_copies_pixels_as_rgb() {
        let mut frame = Mat::new_rows_cols_with_default(4, 4, CV_8UC3, Scalar::all(0.0)).unwrap();
        *frame.at_2d_mut::<Vec3b>(1, 2).unwrap() = Vec3b::from([10, 20, 255]); // B, G, R
        let roi = Roi { center: PointPx::new(2.0, 2.0), size_px: 4.0, rotation_rad: 0.0 };
        let mut b = TensorBuilder::new(4, Normalization::UNIT, Border::Zero);
        let mut t = vec![0.0f32; 4 * 4 * 3];
        b.fill(&frame, &roi, &mut t).unwrap();
        let i = (4 + 2) * 3; // row 1, column 2
        assert!((t[i] - 1.0).abs() < 1e-6, "R first");
        assert!((t[i + 1] - 20.0 / 255.0).abs() < 1e-6);
        assert!((t[i + 2] - 10.0 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn letterbox_pads_with_minus_one_for_the_detector() {
        let frame = Mat::new_rows_cols_with_default(2, 4, CV_8UC3, Scalar::all(255.0)).unwrap();
        let roi = Roi { center: PointPx::new(2.0, 1.0), size_px: 4.0, rotation_rad: 0.0 };
        let mut b = TensorBuilder::new(4, Normalization::SIGNED, Border::Zero);
        let mut t = vec![0.0f32; 4 * 4 * 3];
        b.fill(&frame, &roi, &mut t).unwrap();
        assert_eq!(t[0], -1.0, "top padding row is black");
        assert!((t[(4 + 1) * 3] - 1.0).abs() < 1e-6, "content is white"); // row 1, column 1
        assert_eq!(t[(3 * 4 + 1) * 3], -1.0, "bottom padding row is black");
    }
}
