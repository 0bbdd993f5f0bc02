//! Rotated square regions of interest: where the landmark model looks.
//!
//! MediaPipe builds the region from two points: a centre (the mid-hip) and a
//! scale/rotation point (detector keypoint 1, or landmark 34 when tracking).
//! The region is rotated so that the body's axis points up in the crop, made
//! square and enlarged by 1.25 (`AlignmentPointsRectsCalculator` followed by
//! `RectTransformationCalculator`).

use std::f32::consts::PI;

/// Scale applied to the aligned box (`RectTransformationCalculator.scale_x/y`).
pub const ROI_SCALE: f32 = 1.25;

/// A point in frame pixels (origin top-left, x right, y down).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PointPx {
    pub x: f32,
    pub y: f32,
}

impl PointPx {
    pub fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }

    /// Euclidean distance to another point.
    pub fn distance(self, other: PointPx) -> f32 {
        (self.x - other.x).hypot(self.y - other.y)
    }

    /// True when both coordinates are finite numbers.
    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite()
    }
}

/// A rotated square in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Roi {
    /// Centre in frame pixels.
    pub center: PointPx,
    /// Side length in pixels.
    pub size_px: f32,
    /// Rotation in radians, clockwise in the image (y down), in [-π, π).
    pub rotation_rad: f32,
}

/// Wraps an angle to [-π, π) (MediaPipe `NormalizeRadians`).
pub fn normalize_radians(angle: f32) -> f32 {
    angle - 2.0 * PI * ((angle + PI) / (2.0 * PI)).floor()
}

impl Roi {
    /// The same region in a picture scaled by `factor` (pixels times `factor`).
    pub fn scaled(&self, factor: f32) -> Roi {
        Roi {
            center: PointPx::new(self.center.x * factor, self.center.y * factor),
            size_px: self.size_px * factor,
            rotation_rad: self.rotation_rad,
        }
    }

    /// Region from a centre point and a scale/rotation point, both in pixels.
    ///
    /// The body axis (centre → scale point) is rotated to point straight up.
    /// Returns `None` for degenerate input (coincident or non-finite points).
    ///
    /// ```
    /// use hinge::pose::roi::{PointPx, Roi};
    /// // upright person: the scale point (top of the body) is straight above the hips
    /// let roi = Roi::from_alignment_points(PointPx::new(100.0, 200.0), PointPx::new(100.0, 120.0)).unwrap();
    /// assert!(roi.rotation_rad.abs() < 1e-6);
    /// assert!((roi.size_px - 2.0 * 80.0 * 1.25).abs() < 1e-3);
    /// ```
    pub fn from_alignment_points(center: PointPx, scale_point: PointPx) -> Option<Roi> {
        if !center.is_finite() || !scale_point.is_finite() {
            return None;
        }
        let size = 2.0 * center.distance(scale_point);
        if !(size > 1e-3) {
            return None;
        }
        let rotation = PI / 2.0 - (-(scale_point.y - center.y)).atan2(scale_point.x - center.x);
        Some(Roi { center, size_px: size * ROI_SCALE, rotation_rad: normalize_radians(rotation) })
    }

    /// Maps a point given in crop-normalised coordinates (0..1 across the
    /// square, before rotation) back to frame pixels.
    pub fn crop_to_frame(&self, u: f32, v: f32) -> PointPx {
        let (s, c) = self.rotation_rad.sin_cos();
        let dx = (u - 0.5) * self.size_px;
        let dy = (v - 0.5) * self.size_px;
        PointPx { x: c * dx - s * dy + self.center.x, y: s * dx + c * dy + self.center.y }
    }

    /// Inverse of [`Roi::crop_to_frame`]: frame pixels to crop-normalised.
    pub fn frame_to_crop(&self, p: PointPx) -> (f32, f32) {
        let (s, c) = self.rotation_rad.sin_cos();
        let dx = p.x - self.center.x;
        let dy = p.y - self.center.y;
        let u = (c * dx + s * dy) / self.size_px + 0.5;
        let v = (-s * dx + c * dy) / self.size_px + 0.5;
        (u, v)
    }

    /// The 2x3 affine matrix that maps pixel (col, row) of a `out_px`-sided
    /// crop to the frame (use with `WARP_INVERSE_MAP`). Matches MediaPipe's
    /// `boxPoints` + `getPerspectiveTransform` for a rotated rectangle.
    pub fn crop_to_frame_affine(&self, out_px: u32) -> [[f64; 3]; 2] {
        let (s, c) = (self.rotation_rad as f64).sin_cos();
        let k = self.size_px as f64 / out_px as f64;
        let half = self.size_px as f64 / 2.0;
        let cx = self.center.x as f64;
        let cy = self.center.y as f64;
        // frame = center + R * (col*k - half, row*k - half)
        [[c * k, -s * k, cx - c * half + s * half], [s * k, c * k, cy - s * half - c * half]]
    }

    /// Axis-aligned bounding box of the rotated square: (x_min, y_min, x_max, y_max).
    pub fn bounds(&self) -> (f32, f32, f32, f32) {
        let corners = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)].map(|(u, v)| self.crop_to_frame(u, v));
        let xs = corners.iter().map(|p| p.x);
        let ys = corners.iter().map(|p| p.y);
        (
            xs.clone().fold(f32::INFINITY, f32::min),
            ys.clone().fold(f32::INFINITY, f32::min),
            xs.fold(f32::NEG_INFINITY, f32::max),
            ys.fold(f32::NEG_INFINITY, f32::max),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn upside_down_body_is_rotated_by_pi() {
        let roi = Roi::from_alignment_points(PointPx::new(50.0, 50.0), PointPx::new(50.0, 90.0)).unwrap();
        assert!((roi.rotation_rad.abs() - PI).abs() < 1e-5);
    }

    #[test]
    fn body_lying_with_head_to_the_right_is_rotated_clockwise_90() {
        // scale point to the right of the centre: the crop must turn by +90°
        let roi = Roi::from_alignment_points(PointPx::new(50.0, 50.0), PointPx::new(90.0, 50.0)).unwrap();
        assert!((roi.rotation_rad - PI / 2.0).abs() < 1e-5);
        // the top-centre of the crop is where the scale point direction goes
        let top = roi.crop_to_frame(0.5, 0.0);
        assert!(top.x > 50.0 && (top.y - 50.0).abs() < 1e-3);
    }

    #[test]
    fn degenerate_points_give_no_roi() {
        let p = PointPx::new(3.0, 4.0);
        assert!(Roi::from_alignment_points(p, p).is_none());
        assert!(Roi::from_alignment_points(PointPx::new(f32::NAN, 0.0), p).is_none());
    }

    #[test]
    fn affine_matches_crop_to_frame_at_pixel_positions() {
        let roi = Roi { center: PointPx::new(320.0, 240.0), size_px: 300.0, rotation_rad: 0.4 };
        let m = roi.crop_to_frame_affine(256);
        for (col, row) in [(0.0, 0.0), (256.0, 0.0), (128.0, 128.0), (10.0, 200.0)] {
            let x = m[0][0] * col + m[0][1] * row + m[0][2];
            let y = m[1][0] * col + m[1][1] * row + m[1][2];
            let p = roi.crop_to_frame(col as f32 / 256.0, row as f32 / 256.0);
            assert!((x as f32 - p.x).abs() < 1e-3 && (y as f32 - p.y).abs() < 1e-3);
        }
    }

    proptest! {
        #[test]
        fn crop_frame_round_trip(cx in -1e3f32..1e3, cy in -1e3f32..1e3, size in 1f32..2e3,
                                 rot in -PI..PI, u in -1f32..2.0, v in -1f32..2.0) {
            let roi = Roi { center: PointPx::new(cx, cy), size_px: size, rotation_rad: rot };
            let (u2, v2) = roi.frame_to_crop(roi.crop_to_frame(u, v));
            prop_assert!((u - u2).abs() < 1e-3 && (v - v2).abs() < 1e-3);
        }

        #[test]
        fn normalized_angle_is_in_range_and_equivalent(a in -100f32..100.0) {
            let n = normalize_radians(a);
            prop_assert!((-PI - 1e-4..PI + 1e-4).contains(&n));
            prop_assert!((n.sin() - a.sin()).abs() < 1e-3 && (n.cos() - a.cos()).abs() < 1e-3);
        }

        #[test]
        fn roi_centre_is_the_centre_point_and_size_scales(x0 in -500f32..500.0, y0 in -500f32..500.0,
                                                           dx in -300f32..300.0, dy in -300f32..300.0) {
            prop_assume!(dx.hypot(dy) > 1.0);
            let roi = Roi::from_alignment_points(PointPx::new(x0, y0), PointPx::new(x0 + dx, y0 + dy)).unwrap();
            prop_assert_eq!(roi.center, PointPx::new(x0, y0));
            prop_assert!((roi.size_px - 2.5 * dx.hypot(dy)).abs() < 1e-2 * roi.size_px.max(1.0));
            // the scale point lies on the crop's vertical axis, above the centre
            let (u, v) = roi.frame_to_crop(PointPx::new(x0 + dx, y0 + dy));
            prop_assert!((u - 0.5).abs() < 1e-3);
            prop_assert!(v < 0.5);
        }
    }
}
