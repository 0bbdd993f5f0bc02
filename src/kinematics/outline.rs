//! The torso's outline from the person segmentation mask.
//!
//! The landmark set has no spine points, so the shape of the back is read
//! from the silhouette. The torso axis runs from mid-hip to mid-shoulder
//! (2D landmarks). At stations along that axis ([`STATIONS`], as fractions
//! of the hip–shoulder length, from below the hips to the shoulders) the mask
//! is marched outward along both normals until the person probability drops
//! under 0.5; the crossing is located to sub-pixel precision by linear
//! interpolation between the two samples that bracket it. Both sides are
//! kept, as distances from the axis in units of the hip–shoulder length, so
//! the later stages can pick the dorsal side once the facing is known and the
//! profile is independent of the person's size in the frame.

use super::geometry::V2;
use crate::pose::roi::PointPx;
use crate::pose::segmentation::SegmentationMask;
use std::ops::{Add, Sub};

/// Number of stations along the torso axis.
pub const STATION_COUNT: usize = 27;

/// Station positions along the hip→shoulder axis (0 = mid-hip, 1 = mid-shoulder).
pub const STATIONS: [f64; STATION_COUNT] = {
    let mut s = [0.0; STATION_COUNT];
    let mut i = 0;
    while i < STATION_COUNT {
        s[i] = -0.30 + 0.05 * i as f64;
        i += 1;
    }
    s
};

/// Farthest the march goes from the axis, in hip–shoulder lengths.
const MAX_REACH: f64 = 0.9;

/// Probability at which the silhouette edge is placed.
const EDGE_PROBABILITY: f32 = 0.5;

/// Torso silhouette of one frame, sampled across the hip→shoulder axis.
#[derive(Debug, Clone, PartialEq)]
pub struct TorsoOutline {
    /// Mid-hip in frame pixels (origin of the axis).
    pub hip_px: V2,
    /// Mid-shoulder in frame pixels (end of the axis).
    pub shoulder_px: V2,
    /// Edge distance on the side of the normal `n = (-u.y, u.x)` (u = axis
    /// direction), in hip–shoulder lengths; `None` when no edge was found.
    pub plus: [Option<f64>; STATION_COUNT],
    /// Edge distance on the side of `-n`, in hip–shoulder lengths.
    pub minus: [Option<f64>; STATION_COUNT],
}

impl TorsoOutline {
    /// Axis length in pixels.
    pub fn length_px(&self) -> f64 {
        self.shoulder_px.sub(self.hip_px).norm()
    }

    /// Unit axis direction (hip → shoulder) and its normal `n = (-u.y, u.x)`.
    pub fn frame(&self) -> Option<(V2, V2)> {
        let d = self.shoulder_px.sub(self.hip_px);
        let l = d.norm();
        (l > 1e-6 && l.is_finite()).then(|| {
            let u = d.scale(1.0 / l);
            (u, V2::new(-u.y, u.x))
        })
    }

    /// Edge points in frame pixels on one side (`sign` = +1 for `plus`, -1 for `minus`).
    pub fn side_points_px(&self, sign: f64) -> Vec<(f64, V2)> {
        let Some((u, n)) = self.frame() else {
            return Vec::new();
        };
        let l = self.length_px();
        let dist = if sign >= 0.0 { &self.plus } else { &self.minus };
        STATIONS
            .iter()
            .zip(dist)
            .filter_map(|(&t, d)| d.map(|d| (t, self.hip_px.add(u.scale(t * l)).add(n.scale(sign * d * l)))))
            .collect()
    }
}

impl TorsoOutline {
    /// The back's contour for drawing: the edge points on the dorsal side
    /// (`dorsal_sign` = +1 for `plus`, −1 for `minus`) as (station, point),
    /// each point relative to mid-hip in hip–shoulder lengths and passed
    /// through `to_sagittal` (image vector → the person's sagittal plane).
    pub fn dorsal_contour(&self, dorsal_sign: f64, to_sagittal: impl Fn(V2) -> V2) -> Vec<(f64, V2)> {
        let l = self.length_px();
        self.side_points_px(dorsal_sign)
            .into_iter()
            .map(|(t, p)| (t, to_sagittal(p.sub(self.hip_px)).scale(1.0 / l)))
            .collect()
    }

    /// The outline of a frame whose mask was not computed, from the outlines
    /// of the frames before and after it: the edge distances (relative to the
    /// hip→shoulder axis, so independent of where the body is in the image)
    /// interpolated at `frac` (0 = `before`, 1 = `after`) and placed on this
    /// frame's own axis. A station with an edge on one side only takes the
    /// nearer frame's value. `None` for a degenerate axis.
    pub fn interpolated(
        before: &TorsoOutline,
        after: &TorsoOutline,
        frac: f64,
        hip_px: V2,
        shoulder_px: V2,
    ) -> Option<TorsoOutline> {
        if !hip_px.is_finite() || !shoulder_px.is_finite() || shoulder_px.sub(hip_px).norm() < 8.0 {
            return None;
        }
        let f = if frac.is_finite() { frac.clamp(0.0, 1.0) } else { 0.0 };
        let mix = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a + (b - a) * f),
            _ if f < 0.5 => a,
            _ => b,
        };
        Some(TorsoOutline {
            hip_px,
            shoulder_px,
            plus: std::array::from_fn(|i| mix(before.plus[i], after.plus[i])),
            minus: std::array::from_fn(|i| mix(before.minus[i], after.minus[i])),
        })
    }
}

/// Extracts the torso outline from a segmentation mask; `None` when the
/// axis is degenerate (shoulders on the hips, non-finite input).
pub fn extract(mask: &SegmentationMask, hip_px: V2, shoulder_px: V2) -> Option<TorsoOutline> {
    extract_with(|p| mask.probability_at(PointPx::new(p.x as f32, p.y as f32)), hip_px, shoulder_px)
}

/// [`extract`] over any probability field (frame pixels → 0..1); used by tests.
pub fn extract_with(prob: impl Fn(V2) -> f32, hip_px: V2, shoulder_px: V2) -> Option<TorsoOutline> {
    if !hip_px.is_finite() || !shoulder_px.is_finite() {
        return None;
    }
    let d = shoulder_px.sub(hip_px);
    let l = d.norm();
    if l < 8.0 {
        return None;
    }
    let u = d.scale(1.0 / l);
    let n = V2::new(-u.y, u.x);
    // step of ~1 px but at least 1/120 of the axis
    let step_px = (l / 120.0).max(1.0);
    let steps = (MAX_REACH * l / step_px).ceil() as usize;
    let edge = |c: V2, dir: V2| -> Option<f64> {
        let mut prev = prob(c);
        if prev < EDGE_PROBABILITY {
            return None; // axis point outside the silhouette
        }
        for k in 1..=steps {
            let r = k as f64 * step_px;
            let p = prob(c.add(dir.scale(r)));
            if p < EDGE_PROBABILITY {
                let frac = ((prev - EDGE_PROBABILITY) / (prev - p).max(1e-6)) as f64;
                return Some((r - step_px + frac.clamp(0.0, 1.0) * step_px) / l);
            }
            prev = p;
        }
        None
    };
    let mut plus = [None; STATION_COUNT];
    let mut minus = [None; STATION_COUNT];
    for (i, &t) in STATIONS.iter().enumerate() {
        let c = hip_px.add(u.scale(t * l));
        plus[i] = edge(c, n);
        minus[i] = edge(c, n.scale(-1.0));
    }
    Some(TorsoOutline { hip_px, shoulder_px, plus, minus })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rectangle body 60 px wide around a vertical axis at x = 100.
    fn slab(p: V2) -> f32 {
        if (70.0..=130.0).contains(&p.x) && (0.0..=400.0).contains(&p.y) {
            1.0
        } else {
            0.0
        }
    }

    #[test]
    fn finds_both_edges_at_sub_pixel_precision() {
        let smooth = |p: V2| (1.0 / (1.0 + ((p.x - 130.3) / 0.7).exp())) as f32 * slab(V2::new(100.0, p.y)).max(0.0);
        let o = extract_with(smooth, V2::new(100.0, 300.0), V2::new(100.0, 100.0)).unwrap();
        // axis points up, n = (-u.y, u.x) = (1, 0): plus is image right
        let i = STATIONS.iter().position(|t| (t - 0.5).abs() < 1e-9).unwrap();
        let d_px = o.plus[i].unwrap() * o.length_px();
        assert!((d_px - 30.3).abs() < 0.3, "edge at {d_px}");
        let o2 = extract_with(slab, V2::new(100.0, 300.0), V2::new(100.0, 100.0)).unwrap();
        assert!((o2.minus[i].unwrap() * 200.0 - 30.0).abs() < 1.5);
    }

    #[test]
    fn degenerate_axis_gives_none() {
        assert!(extract_with(slab, V2::new(100.0, 100.0), V2::new(100.0, 100.0)).is_none());
        assert!(extract_with(slab, V2::new(f64::NAN, 100.0), V2::new(100.0, 10.0)).is_none());
    }

    #[test]
    fn interpolation_moves_with_the_axis_and_mixes_edges() {
        let a = extract_with(slab, V2::new(100.0, 300.0), V2::new(100.0, 100.0)).unwrap();
        let mut b = a.clone();
        b.plus = b.plus.map(|d| d.map(|d| d + 0.1));
        b.minus[3] = None;
        let hip = V2::new(150.0, 320.0);
        let sh = V2::new(250.0, 320.0);
        let m = TorsoOutline::interpolated(&a, &b, 0.25, hip, sh).unwrap();
        assert_eq!((m.hip_px, m.shoulder_px), (hip, sh), "placed on this frame's axis");
        for i in 0..STATION_COUNT {
            assert!((m.plus[i].unwrap() - (a.plus[i].unwrap() + 0.025)).abs() < 1e-12);
        }
        assert_eq!(m.minus[3], a.minus[3], "one-sided station takes the nearer frame");
        let late = TorsoOutline::interpolated(&a, &b, 0.75, hip, sh).unwrap();
        assert_eq!(late.minus[3], None);
        assert!(TorsoOutline::interpolated(&a, &b, 0.5, hip, hip).is_none(), "degenerate axis");
        let nan = TorsoOutline::interpolated(&a, &b, f64::NAN, hip, sh).unwrap();
        assert_eq!(nan.plus, a.plus, "a NaN fraction falls back to the frame before");
    }

    #[test]
    fn the_dorsal_contour_lies_on_the_back() {
        // a torso bent forward to horizontal facing right (hips at x=100, shoulders at x=300),
        // 80 px thick around y=300: its back (image up, the side of -n) is 40 px = 0.2 lengths away
        let field = |p: V2| if (10.0..=330.0).contains(&p.x) && (260.0..=340.0).contains(&p.y) { 1.0 } else { 0.0 };
        let o = extract_with(field, V2::new(100.0, 300.0), V2::new(300.0, 300.0)).unwrap();
        // sagittal: forward = image x, up = -image y
        let c = o.dorsal_contour(-1.0, |v| V2::new(v.x, -v.y));
        assert!(!c.is_empty());
        assert!(c.iter().all(|(_, p)| (p.y - 0.2).abs() < 0.02), "{c:?}");
    }

    #[test]
    fn station_outside_the_silhouette_has_no_edge() {
        let o = extract_with(|_| 0.0, V2::new(100.0, 300.0), V2::new(100.0, 100.0)).unwrap();
        assert!(o.plus.iter().all(Option::is_none));
    }
}
