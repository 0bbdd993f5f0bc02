//! From landmarks to angles: trunk, hip and knee per frame, with the side of
//! the body facing the camera and the walking direction detected, not assumed.
//!
//! All angles are in degrees. Definitions and signs follow `docs/metrics.md`.

pub mod back;
pub mod geometry;
pub mod outline;
pub mod sagittal;

use geometry::V2;
use sagittal::FrameFeatures;

use crate::pose::landmarks::{Landmark, LandmarkId as L, BODY_LANDMARKS};

/// Which way the person faces in the image (where the toes point).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Facing {
    Left,
    Right,
}

impl Facing {
    /// +1 for right, -1 for left (image x direction of "forward").
    pub fn forward_x(self) -> f64 {
        match self {
            Facing::Left => -1.0,
            Facing::Right => 1.0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Facing::Left => "left",
            Facing::Right => "right",
        }
    }
}

/// Metrics of one frame; `None` where it cannot be measured.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct FrameMetrics {
    /// Trunk inclination from vertical, + forward.
    pub trunk_deg: Option<f64>,
    /// 180° − shoulder–hip–knee angle; 0 standing straight.
    pub hip_angle_deg: Option<f64>,
    /// 180° − hip–knee–ankle angle; 0 straight.
    pub knee_flexion_deg: Option<f64>,
    /// Anatomical hip flexion (pelvis against thigh).
    pub hip_flexion_deg: Option<f64>,
    /// Lumbar flexion from the back contour; + rounding, − arching.
    pub lumbar_flexion_deg: Option<f64>,
    /// Pelvic tilt beyond a neutral hinge; + anterior, − posterior.
    pub pelvic_tilt_deg: Option<f64>,
    /// Rib cage against pelvis; + closed, − flared.
    pub rib_stack_deg: Option<f64>,
    /// Stoop-squat index 0–100.
    pub ssi: Option<f64>,
    /// Horizontal distance of the hands (the load) from the mid-foot, in thigh lengths.
    pub load_offset_thigh_lengths: Option<f64>,
}

pub use sagittal::{measure, BodyFrame, ClipView, Side};

/// Minimum visibility for a landmark to be used.
pub const MIN_VISIBILITY: f32 = 0.3;

pub(crate) fn usable(l: &Landmark) -> bool {
    l.x_px.is_finite() && l.y_px.is_finite() && (l.visibility >= MIN_VISIBILITY || l.presence >= 0.5)
}

pub(crate) fn p2(l: &Landmark) -> V2 {
    V2::new(l.x_px as f64, l.y_px as f64)
}

/// Midpoint of a left/right pair, or the usable one alone.
pub(crate) fn mid2(lms: &[Landmark; BODY_LANDMARKS], left: L, right: L) -> Option<V2> {
    let (a, b) = (&lms[left.index()], &lms[right.index()]);
    match (usable(a), usable(b)) {
        (true, true) => Some(p2(a).midpoint(p2(b))),
        (true, false) => Some(p2(a)),
        (false, true) => Some(p2(b)),
        _ => None,
    }
}

/// Facing of one frame from the feet (toes ahead of heels), falling back to
/// the head (nose ahead of the ears). `None` when ambiguous.
pub fn facing_of(lms: &[Landmark; BODY_LANDMARKS]) -> Option<Facing> {
    let mut votes = 0.0f64;
    for (toe, heel) in [(L::LeftFootIndex, L::LeftHeel), (L::RightFootIndex, L::RightHeel)] {
        let (t, h) = (&lms[toe.index()], &lms[heel.index()]);
        if usable(t) && usable(h) {
            votes += (t.x_px - h.x_px) as f64;
        }
    }
    if votes.abs() < 2.0 {
        let n = &lms[L::Nose.index()];
        if let Some(ears) = mid2(lms, L::LeftEar, L::RightEar) {
            if usable(n) {
                votes = n.x_px as f64 - ears.x;
            }
        }
    }
    if votes.abs() < 2.0 {
        None
    } else if votes > 0.0 {
        Some(Facing::Right)
    } else {
        Some(Facing::Left)
    }
}

/// Streaming facing vote: the majority of per-frame estimates so far.
#[derive(Debug, Clone, Default)]
pub struct FacingVote {
    left: u32,
    right: u32,
}

impl FacingVote {
    pub fn add(&mut self, f: Option<Facing>) {
        match f {
            Some(Facing::Left) => self.left += 1,
            Some(Facing::Right) => self.right += 1,
            None => {}
        }
    }

    /// Current majority; right when there is no evidence yet.
    pub fn facing(&self) -> Facing {
        if self.left > self.right {
            Facing::Left
        } else {
            Facing::Right
        }
    }

    pub fn has_evidence(&self) -> bool {
        self.left + self.right > 0
    }
}

/// Completes a clip's per-frame metrics over time: the outline features are
/// smoothed with a centred running median (`back::model::SMOOTH_WINDOW_S`),
/// then the back model gives rib stack, lumbar flexion, pelvic tilt and hip
/// flexion, and the stoop–squat index is derived. `times`, `metrics` and
/// `features` are parallel (one entry per decoded frame).
pub fn finish_series(times: &[f64], mut metrics: Vec<FrameMetrics>, features: &[FrameFeatures]) -> Vec<FrameMetrics> {
    let sacral =
        smooth_median(times, features.iter().map(|f| f.sacral_lean_deg).collect(), back::model::SMOOTH_WINDOW_S);
    let low = smooth_median(times, features.iter().map(|f| f.low_bend_deg).collect(), back::model::SMOOTH_WINDOW_S);
    for (i, m) in metrics.iter_mut().enumerate() {
        let Some(trunk) = m.trunk_deg else { continue };
        let (Some(s), Some(b)) = (sacral[i], low[i]) else { continue };
        let e = back::model::estimate(trunk, s, b);
        m.rib_stack_deg = Some(e.rib_stack_deg);
        m.lumbar_flexion_deg = Some(e.lumbar_flexion_deg);
        m.pelvic_tilt_deg = Some(e.pelvic_tilt_deg);
        m.hip_flexion_deg = m.hip_angle_deg.map(|h| back::model::hip_flexion_deg(h, e.rib_stack_deg));
    }
    metrics
}

/// Stoop–squat index (after Schmid et al. 2022), 0–100: the share of the
/// movement done by leaning the trunk rather than bending the knees,
/// `100 · Δtrunk / (Δtrunk + Δknee)` with changes from the standing
/// baseline; `None` near standing (less than 10° of movement in total).
pub fn ssi(trunk_deg: f64, knee_flexion_deg: f64, base_trunk_deg: f64, base_knee_deg: f64) -> Option<f64> {
    let dt = (trunk_deg - base_trunk_deg).max(0.0);
    let dk = (knee_flexion_deg - base_knee_deg).max(0.0);
    let total = dt + dk;
    (total >= 10.0 && total.is_finite()).then(|| (100.0 * dt / total).clamp(0.0, 100.0))
}

/// Centred running median over `window_s` seconds, skipping missing values.
pub fn smooth_median(times: &[f64], values: Vec<Option<f64>>, window_s: f64) -> Vec<Option<f64>> {
    let half = window_s / 2.0;
    let mut out = Vec::with_capacity(values.len());
    let mut buf: Vec<f64> = Vec::new();
    let (mut lo, mut hi) = (0usize, 0usize);
    for i in 0..values.len() {
        if values[i].is_none() {
            out.push(None);
            continue;
        }
        while lo < values.len() && times[lo] < times[i] - half {
            lo += 1;
        }
        hi = hi.max(i);
        while hi + 1 < values.len() && times[hi + 1] <= times[i] + half {
            hi += 1;
        }
        buf.clear();
        buf.extend(values[lo..=hi].iter().flatten().filter(|v| v.is_finite()));
        buf.sort_by(f64::total_cmp);
        out.push(buf.get(buf.len() / 2).copied());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_median_removes_spikes_and_keeps_gaps() {
        let times: Vec<f64> = (0..10).map(|i| i as f64 / 30.0).collect();
        let mut v: Vec<Option<f64>> = vec![Some(1.0); 10];
        v[4] = Some(50.0);
        v[7] = None;
        let s = smooth_median(&times, v, 0.25);
        assert_eq!(s[4], Some(1.0), "spike removed");
        assert_eq!(s[7], None, "gap kept");
        assert!(s.iter().flatten().all(|x| *x == 1.0));
        assert!(smooth_median(&[], Vec::new(), 0.25).is_empty());
    }

    #[test]
    fn ssi_separates_stoop_hinge_and_squat() {
        assert_eq!(ssi(3.0, 6.0, 3.0, 6.0), None, "standing");
        assert!(ssi(90.0, 6.0, 3.0, 6.0).unwrap() > 99.0, "stoop");
        let hinge = ssi(73.0, 26.0, 3.0, 6.0).unwrap();
        assert!((70.0..90.0).contains(&hinge), "hinge {hinge}");
        assert!(ssi(31.0, 124.0, 3.0, 6.0).unwrap() < 30.0, "squat");
        assert_eq!(ssi(f64::NAN, 6.0, 3.0, 6.0), None);
    }

    #[test]
    fn series_without_outline_keeps_landmark_angles_only() {
        let m = FrameMetrics { trunk_deg: Some(70.0), hip_angle_deg: Some(85.0), ..Default::default() };
        let out =
            finish_series(&[0.0, 0.033], vec![m, FrameMetrics::default()], &[Default::default(), Default::default()]);
        assert_eq!(out[0].trunk_deg, Some(70.0));
        assert!(out[0].lumbar_flexion_deg.is_none() && out[0].hip_flexion_deg.is_none());
        assert_eq!(out[1], FrameMetrics::default());
    }
}
