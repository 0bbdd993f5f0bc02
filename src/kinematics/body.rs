//! What one frame of a person gives before any clip-level knowledge: which
//! way the person faces, the metrics' container, and landmark helpers. A leaf
//! of `kinematics`: every other part of the stage may use it.

use super::geometry::V2;
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
    /// Horizontal distance of the hands (the load) in front of the ankles, cm
    /// (BlazePose world landmarks; NIOSH's H, ideally ≤ 25 cm).
    pub load_distance_cm: Option<f64>,
}

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
