//! The shape of the back from the dorsal outline: straight-line fits of its
//! thoracic, lumbar and lumbosacral parts, and the curvature of the lower
//! back, all in sagittal coordinates (obliquity undone) and in units of the
//! hip–shoulder length, so they do not depend on the person's size.

use super::geometry::V2;
use super::sagittal::{BodyFrame, ClipView};
use std::ops::{Add, Sub};

/// Station ranges (fractions of hip→shoulder) of each part of the back.
pub mod ranges {
    /// Upper back (thoracic kyphosis, rib cage), from mid-torso to the shoulders.
    pub const THORAX: (f64, f64) = (0.50, 0.95);
    /// Lower back (lumbar lordosis), from the hips to mid-torso.
    pub const LUMBAR: (f64, f64) = (0.00, 0.35);
    /// Lumbosacral junction around hip level (follows the pelvis).
    pub const SACRAL: (f64, f64) = (-0.15, 0.15);
    /// Range over which the lower-back curvature is taken.
    pub const LOW_CURVE: (f64, f64) = (-0.20, 0.30);
}

/// A straight line fitted to outline points (total least squares).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineFit {
    /// A point on the line (centroid), sagittal units.
    pub centroid: V2,
    /// Unit direction, pointing up the back (toward the shoulders).
    pub dir: V2,
    /// Half the extent of the points along the line.
    pub half_len: f64,
}

impl LineFit {
    /// Inclination from vertical up, + forward, degrees.
    pub fn lean_deg(&self) -> f64 {
        self.dir.x.atan2(self.dir.y).to_degrees()
    }
}

/// Fits a line to points (≥ 3, not all coincident).
pub fn fit_line(points: &[V2]) -> Option<LineFit> {
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let c = points.iter().fold(V2::default(), |a, p| a.add(*p)).scale(1.0 / n);
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for p in points {
        let d = p.sub(c);
        sxx += d.x * d.x;
        sxy += d.x * d.y;
        syy += d.y * d.y;
    }
    let spread = sxx + syy;
    if spread.is_nan() || spread <= 1e-12 || !spread.is_finite() {
        return None;
    }
    // principal axis of the 2x2 scatter matrix
    let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let mut dir = V2::new(theta.cos(), theta.sin());
    // points are ordered up the back: orient the line the same way
    let (first, last) = (points[0], points[points.len() - 1]);
    if last.sub(first).dot(dir) < 0.0 {
        dir = dir.scale(-1.0);
    }
    let half_len = points.iter().map(|p| p.sub(c).dot(dir).abs()).fold(0.0, f64::max);
    Some(LineFit { centroid: c, dir, half_len })
}

/// Bending of a curve through ordered points: the change of tangent angle
/// between its ends from a quadratic fit in the chord's frame, degrees;
/// + convex toward the back (rounded), − concave (lordosis).
pub fn bend_deg(points: &[V2], dorsal_is_left_of_chord: bool) -> Option<f64> {
    if points.len() < 4 {
        return None;
    }
    let (a, b) = (points[0], points[points.len() - 1]);
    let chord = b.sub(a);
    let len = chord.norm();
    if len.is_nan() || len <= 1e-9 {
        return None;
    }
    let u = chord.scale(1.0 / len);
    let n = V2::new(-u.y, u.x);
    let xs: Vec<f64> = points.iter().map(|p| p.sub(a).dot(u) / len).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.sub(a).dot(n) / len).collect();
    let q = quadratic_fit(&xs, &ys)?;
    // slope at x=0 and x=1 of y = q0 x² + q1 x + q2
    let (s0, s1) = (q[1], 2.0 * q[0] + q[1]);
    let turn = (s1.atan() - s0.atan()).to_degrees();
    // a curve bulging toward the dorsal side turns away from it
    Some(if dorsal_is_left_of_chord { -turn } else { turn })
}

/// Least-squares y = c0 x² + c1 x + c2.
fn quadratic_fit(xs: &[f64], ys: &[f64]) -> Option<[f64; 3]> {
    let mut m = [[0.0f64; 4]; 3];
    for (&x, &y) in xs.iter().zip(ys) {
        let r = [x * x, x, 1.0];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] += r[i] * r[j];
            }
            m[i][3] += r[i] * y;
        }
    }
    // Gauss-Jordan with partial pivoting
    for col in 0..3 {
        let piv = (col..3).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[piv][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, piv);
        let pivot_row = m[col];
        for (r, row) in m.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row.iter_mut().zip(pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    let out = [m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2]];
    out.iter().all(|v| v.is_finite()).then_some(out)
}

/// The back's shape in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct BackShape {
    /// Dorsal outline points (station, sagittal point in hip–shoulder lengths, origin mid-hip).
    pub points: Vec<(f64, V2)>,
    pub thorax: Option<LineFit>,
    pub lumbar: Option<LineFit>,
    pub sacral: Option<LineFit>,
    /// Bending of the lower back (hips to mid-torso), + rounded, − arched, degrees.
    pub low_bend_deg: Option<f64>,
    /// For drawing: mid-hip in pixels, axis length in pixels, and the view.
    hip_px: V2,
    length_px: f64,
    view: ClipView,
}

impl BackShape {
    /// The back shape of a frame, `None` without an outline.
    pub fn of(frame: &BodyFrame, view: &ClipView) -> Option<BackShape> {
        let o = frame.outline.as_ref()?;
        let l = o.length_px();
        let sign = -view.facing.forward_x();
        let points: Vec<(f64, V2)> = o
            .side_points_px(sign)
            .into_iter()
            .map(|(t, p)| (t, view.to_sagittal(p.sub(o.hip_px)).scale(1.0 / l)))
            .collect();
        let pick = |r: (f64, f64)| -> Vec<V2> {
            points.iter().filter(|(t, _)| *t >= r.0 - 1e-9 && *t <= r.1 + 1e-9).map(|(_, p)| *p).collect()
        };
        // In sagittal coordinates (forward, up) the dorsal side is to the left
        // of the hip→shoulder chord (behind the person).
        let low = pick(ranges::LOW_CURVE);
        Some(BackShape {
            thorax: fit_line(&pick(ranges::THORAX)),
            lumbar: fit_line(&pick(ranges::LUMBAR)),
            sacral: fit_line(&pick(ranges::SACRAL)),
            low_bend_deg: bend_deg(&low, true),
            points,
            hip_px: o.hip_px,
            length_px: l,
            view: *view,
        })
    }

    /// Sagittal point back to frame pixels.
    pub fn to_px(&self, s: V2) -> V2 {
        let c = self.view.obliquity_deg.clamp(0.0, super::sagittal::MAX_CORRECTED_OBLIQUITY_DEG).to_radians().cos();
        let v = V2::new(s.x * c * self.view.facing.forward_x(), -s.y).scale(self.length_px);
        self.hip_px.add(v)
    }

    /// The fitted lines as pixel segments (for figures).
    pub fn segments_px(&self) -> Vec<(V2, V2)> {
        [self.sacral, self.lumbar, self.thorax]
            .into_iter()
            .flatten()
            .map(|f| {
                let d = f.dir.scale(f.half_len);
                (self.to_px(f.centroid.sub(d)), self.to_px(f.centroid.add(d)))
            })
            .collect()
    }
}

/// From the outline features to the spine and pelvis angles.
///
/// The rib cage's angle to the pelvis (`rib_stack_deg`, R) is the one
/// quantity the outline gives; the others follow from it under the
/// assumption that the rib cage follows the intended hinge path (the usual
/// case: people watch the chest line), so that the pelvis carries the
/// deviation and the lumbar spine carries most of the bend:
/// * lumbar flexion ≈ 0.88 R (the thoracic spine takes the rest),
/// * pelvic tilt ≈ −0.8 R (a pelvis that lags the trunk is tilted posteriorly),
/// * hip flexion = 1.115 · hip angle − 0.85 R − 17.8° (the relation between
///   the joint-centre angles of the body, fitted on the truth columns alone).
///
/// R itself: the lumbosacral outline line lagging behind the trunk line means
/// the pelvis lags (R > 0, flexion); the lower outline's bend beyond its neutral
/// value (buttocks and lordosis standing out) means arching (R < 0). The
/// outline below the shoulders is hidden by the arms and hands while
/// standing, so both terms are weighted by the trunk's lean (full weight from
/// `FULL_WEIGHT_TRUNK_DEG`). Coefficients were fitted on the rendered dev
/// footage (leave-one-clip-out error of R about 5.8°); see docs/metrics.md.
pub mod model {
    /// Running-median window applied to the outline features, s.
    pub const SMOOTH_WINDOW_S: f64 = 0.25;
    /// Trunk lean from which the outline terms get full weight, °.
    pub const FULL_WEIGHT_TRUNK_DEG: f64 = 60.0;
    /// R per degree of lumbosacral line lagging behind the trunk line.
    pub const SACRAL_LAG_GAIN: f64 = 3.86;
    /// R per degree of lower-outline bend (negative: more bend, more arch).
    pub const LOW_BEND_GAIN: f64 = -0.724;
    /// Lower-outline bend of a neutral back, ° (R is zero there).
    pub const NEUTRAL_LOW_BEND_DEG: f64 = 47.7;
    /// R of the standing pose (small offset of the fit), °.
    pub const OFFSET_DEG: f64 = -1.69;
    /// Lumbar share of R.
    pub const LUMBAR_SHARE: f64 = 0.88;
    /// Pelvic tilt per degree of R.
    pub const TILT_PER_R: f64 = -0.8;
    /// Hip flexion per degree of hip angle (trunk line vs thigh, joint centres):
    /// the trunk line runs to the shoulders, ahead of the pelvis axis, so it
    /// turns a little less than the pelvis.
    pub const HIP_FLEXION_PER_HIP_ANGLE: f64 = 1.115;
    /// Hip flexion per degree of rib-cage-to-pelvis angle (removed: spine, not hip).
    pub const HIP_FLEXION_PER_R: f64 = 0.85;
    /// Hip angle of neutral standing times [`HIP_FLEXION_PER_HIP_ANGLE`], °.
    pub const HIP_FLEXION_OFFSET_DEG: f64 = 17.8;

    /// Spine and pelvis angles of one frame.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct BackEstimate {
        pub rib_stack_deg: f64,
        pub lumbar_flexion_deg: f64,
        pub pelvic_tilt_deg: f64,
    }

    /// Estimate from the trunk lean and the (smoothed) outline features.
    pub fn estimate(trunk_deg: f64, sacral_lean_deg: f64, low_bend_deg: f64) -> BackEstimate {
        let w = (trunk_deg / FULL_WEIGHT_TRUNK_DEG).clamp(0.0, 1.0);
        let lag = trunk_deg - sacral_lean_deg;
        let r = w * (SACRAL_LAG_GAIN * lag + LOW_BEND_GAIN * (low_bend_deg - NEUTRAL_LOW_BEND_DEG)) + OFFSET_DEG;
        let r = r.clamp(-60.0, 60.0);
        BackEstimate { rib_stack_deg: r, lumbar_flexion_deg: LUMBAR_SHARE * r, pelvic_tilt_deg: TILT_PER_R * r }
    }

    /// Anatomical hip flexion: the hip angle without the spine's own bend.
    pub fn hip_flexion_deg(hip_angle_deg: f64, rib_stack_deg: f64) -> f64 {
        HIP_FLEXION_PER_HIP_ANGLE * hip_angle_deg - HIP_FLEXION_PER_R * rib_stack_deg - HIP_FLEXION_OFFSET_DEG
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::kinematics::sagittal::{BodyFrame, ClipView};
    use crate::kinematics::{outline, Facing};
    use crate::pose::landmarks::{Landmark, BODY_LANDMARKS};

    /// A torso bent forward to horizontal, facing right (hips at x=100,
    /// shoulders at x=300, y=300), 80 px thick, whose back (top edge) bulges
    /// up by `bulge_px` (negative: sags, an arched back) between x=40 and 280.
    fn bent_torso(bulge_px: f64) -> BodyFrame {
        let field = move |p: V2| -> f32 {
            let top = 260.0 - bulge_px * (std::f64::consts::PI * ((p.x - 40.0) / 240.0).clamp(0.0, 1.0)).sin();
            if (10.0..=330.0).contains(&p.x) && p.y >= top && p.y <= 340.0 {
                1.0
            } else {
                0.0
            }
        };
        let o = outline::extract_with(field, V2::new(100.0, 300.0), V2::new(300.0, 300.0));
        BodyFrame { landmarks: [Landmark::default(); BODY_LANDMARKS], world_m: [[0.0; 3]; BODY_LANDMARKS], outline: o }
    }

    #[test]
    fn outline_shape_reads_rounded_and_arched_backs() {
        let view = ClipView { facing: Facing::Right, near_side: None, obliquity_deg: 0.0 };
        let flat = BackShape::of(&bent_torso(0.0), &view).unwrap();
        let rounded = BackShape::of(&bent_torso(20.0), &view).unwrap();
        let arched = BackShape::of(&bent_torso(-20.0), &view).unwrap();
        let (f, r, a) = (flat.low_bend_deg.unwrap(), rounded.low_bend_deg.unwrap(), arched.low_bend_deg.unwrap());
        assert!(f.abs() < 1.0, "flat back bends {f}");
        assert!(r > 10.0 && a < -10.0, "rounded {r}, arched {a}");
        // the thoracic line of a flat horizontal back lies along the trunk (90° forward)
        assert!((flat.thorax.unwrap().lean_deg() - 90.0).abs() < 1.0);
        // dorsal points are above the axis (sagittal up > 0) for a forward-bent person
        assert!(flat.points.iter().all(|(_, p)| p.y > 0.0));
        // mirrored: the same person facing left reads the same
        let mirrored = {
            let mut b = bent_torso(20.0);
            let field = |p: V2| -> f32 {
                let x = 400.0 - p.x;
                let top = 260.0 - 20.0 * (std::f64::consts::PI * ((x - 40.0) / 240.0).clamp(0.0, 1.0)).sin();
                if (10.0..=330.0).contains(&x) && p.y >= top && p.y <= 340.0 {
                    1.0
                } else {
                    0.0
                }
            };
            b.outline = outline::extract_with(field, V2::new(300.0, 300.0), V2::new(100.0, 300.0));
            b
        };
        let left = ClipView { facing: Facing::Left, ..view };
        let m = BackShape::of(&mirrored, &left).unwrap();
        assert!((m.low_bend_deg.unwrap() - r).abs() < 1e-6, "mirror {} vs {r}", m.low_bend_deg.unwrap());
    }

    #[test]
    fn line_fit_recovers_the_inclination() {
        let pts: Vec<V2> = (0..10).map(|i| V2::new(0.5 * i as f64, i as f64)).collect();
        let f = fit_line(&pts).unwrap();
        assert!((f.lean_deg() - 0.5f64.atan().to_degrees()).abs() < 1e-9);
        assert!(fit_line(&pts[..2]).is_none());
        assert!(fit_line(&[V2::new(1.0, 1.0); 5]).is_none(), "coincident points");
    }

    #[test]
    fn bend_sign_follows_the_bulge() {
        // a back arc bulging to the left (dorsal side) of an upward chord: rounded
        let arc: Vec<V2> = (0..=10)
            .map(|i| {
                let y = i as f64 / 10.0;
                V2::new(-0.2 * (std::f64::consts::PI * y).sin(), y)
            })
            .collect();
        assert!(bend_deg(&arc, true).unwrap() > 10.0);
        let mirrored: Vec<V2> = arc.iter().map(|p| V2::new(-p.x, p.y)).collect();
        assert!(bend_deg(&mirrored, true).unwrap() < -10.0);
        let straight: Vec<V2> = (0..=10).map(|i| V2::new(0.0, i as f64)).collect();
        assert!(bend_deg(&straight, true).unwrap().abs() < 1e-6);
        assert!(bend_deg(&straight[..3], true).is_none());
    }
}
