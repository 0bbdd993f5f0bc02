//! Fault rules over the per-frame metrics, with thresholds from
//! [`crate::config::FaultConfig`].
//!
//! A fault holds in a frame when its rule is true; it is reported for a rep
//! when it holds for at least `min_fault_s` inside the rep, and for the clip
//! as a whole when it also holds while standing (a posture habit).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::FaultConfig;
use crate::kinematics::FrameMetrics;
use crate::reps::{Phase, Rep};

/// The faults hinge recognises (names as in frames.csv / summary.json).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    RoundedLumbar,
    AnteriorTilt,
    PosteriorTilt,
    RibsNotStacked,
    SquatPattern,
    LoadFar,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::RoundedLumbar,
        Fault::AnteriorTilt,
        Fault::PosteriorTilt,
        Fault::RibsNotStacked,
        Fault::SquatPattern,
        Fault::LoadFar,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::RoundedLumbar => "rounded_lumbar",
            Fault::AnteriorTilt => "anterior_tilt",
            Fault::PosteriorTilt => "posterior_tilt",
            Fault::RibsNotStacked => "ribs_not_stacked",
            Fault::SquatPattern => "squat_pattern",
            Fault::LoadFar => "load_far",
        }
    }
}

/// Faults that hold in one frame, as a small set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultSet(u8);

impl FaultSet {
    pub fn insert(&mut self, f: Fault) {
        self.0 |= 1 << f as u8;
    }
    pub fn contains(&self, f: Fault) -> bool {
        self.0 & (1 << f as u8) != 0
    }
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Fault> {
        Fault::ALL.into_iter().filter(move |f| self.contains(*f))
    }
    /// `;`-separated names.
    pub fn to_cell(self) -> String {
        self.iter().map(Fault::name).collect::<Vec<_>>().join(";")
    }
}

/// Which pelvis/spine fault (at most one) explains a frame's back posture.
///
/// The faults are ordered by root cause: a lumbar spine rounded beyond a
/// flattened lordosis is `rounded_lumbar` (its pelvis is necessarily tucked);
/// otherwise a tucked or tipped pelvis is `posterior_tilt` / `anterior_tilt`;
/// only a rib cage off the pelvis that neither explains is `ribs_not_stacked`.
pub fn back_fault(
    lumbar_deg: Option<f64>,
    tilt_deg: Option<f64>,
    rib_deg: Option<f64>,
    cfg: &FaultConfig,
) -> Option<Fault> {
    if lumbar_deg.is_some_and(|l| l >= cfg.rounded_lumbar_deg) {
        return Some(Fault::RoundedLumbar);
    }
    if let Some(t) = tilt_deg {
        if t <= cfg.posterior_tilt_deg {
            return Some(Fault::PosteriorTilt);
        }
        if t >= cfg.anterior_tilt_deg {
            return Some(Fault::AnteriorTilt);
        }
    }
    rib_deg.filter(|r| r.abs() >= cfg.ribs_not_stacked_deg).map(|_| Fault::RibsNotStacked)
}

/// Is this a squat rather than a hinge? Knees bent far, or the movement
/// mostly done by the knees (stoop–squat index low).
pub fn is_squat(knee_flexion_deg: Option<f64>, ssi: Option<f64>, cfg: &FaultConfig) -> bool {
    knee_flexion_deg.is_some_and(|k| k >= cfg.squat_knee_deg) || ssi.is_some_and(|s| s < cfg.squat_ssi)
}

/// Faults holding in one frame, given its metrics and phase. Only frames of
/// a rep are judged: the spine and pelvis measures are not taken while
/// standing (the arms cover the lower back, see docs/metrics.md), so a
/// posture habit is found from the reps, where it persists.
pub fn frame_faults(m: &FrameMetrics, phase: Option<Phase>, cfg: &FaultConfig) -> FaultSet {
    let mut set = FaultSet::default();
    if !matches!(phase, Some(Phase::Descending | Phase::Bottom | Phase::Ascending)) {
        return set;
    }
    if let Some(f) = back_fault(m.lumbar_flexion_deg, m.pelvic_tilt_deg, m.rib_stack_deg, cfg) {
        set.insert(f);
    }
    if m.knee_flexion_deg.is_some_and(|k| k >= cfg.squat_knee_deg) {
        set.insert(Fault::SquatPattern);
    }
    if m.load_offset_thigh_lengths.is_some_and(|d| d >= cfg.load_far_thigh_lengths) {
        set.insert(Fault::LoadFar);
    }
    set
}

/// Per-rep verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepFaults {
    pub faults: Vec<Fault>,
    /// First and last frame where each fault holds in the rep.
    pub fault_frames: BTreeMap<&'static str, [u64; 2]>,
    /// The medians at depth the verdict was taken on.
    pub at_depth: AtDepth,
}

/// Medians of a rep's metrics over its deep part (the verdict's evidence).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct AtDepth {
    pub frames: usize,
    pub lumbar_flexion_deg: Option<f64>,
    pub pelvic_tilt_deg: Option<f64>,
    pub rib_stack_deg: Option<f64>,
    pub knee_flexion_deg: Option<f64>,
    pub ssi: Option<f64>,
    pub load_offset_thigh_lengths: Option<f64>,
}

/// One frame of a rep as the verdict sees it.
#[derive(Debug, Clone, Copy)]
pub struct RepFrame {
    pub index: u64,
    pub time_s: f64,
    pub metrics: FrameMetrics,
    pub faults: FaultSet,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// Faults of a rep, judged on its deep part: the frames whose hip angle is
/// within `(1 - depth_share)` of the rep's range from its peak. The medians
/// of the spine, pelvis and knee measures over those frames go through the
/// same rules as single frames ([`back_fault`], [`is_squat`]); each fault's
/// frame range is where the single-frame rule holds in the rep (or the deep
/// part when it never does frame by frame).
pub fn rep_faults(rep: &Rep, frames: &[RepFrame], cfg: &FaultConfig) -> RepFaults {
    let mut out = RepFaults { faults: Vec::new(), fault_frames: BTreeMap::new(), at_depth: AtDepth::default() };
    let inside: Vec<&RepFrame> = frames.iter().filter(|f| rep.contains(f.index)).collect();
    let hips: Vec<f64> = inside.iter().filter_map(|f| f.metrics.hip_angle_deg).collect();
    let (Some(lo), Some(hi)) = (hips.iter().copied().reduce(f64::min), hips.iter().copied().reduce(f64::max)) else {
        return out;
    };
    let level = hi - cfg.depth_share * (hi - lo);
    let deep: Vec<&RepFrame> =
        inside.iter().copied().filter(|f| f.metrics.hip_angle_deg.is_some_and(|h| h >= level)).collect();
    let med = |g: fn(&FrameMetrics) -> Option<f64>| median(deep.iter().filter_map(|f| g(&f.metrics)).collect());
    let d = AtDepth {
        frames: deep.len(),
        lumbar_flexion_deg: med(|m| m.lumbar_flexion_deg),
        pelvic_tilt_deg: med(|m| m.pelvic_tilt_deg),
        rib_stack_deg: med(|m| m.rib_stack_deg),
        knee_flexion_deg: med(|m| m.knee_flexion_deg),
        ssi: med(|m| m.ssi),
        load_offset_thigh_lengths: med(|m| m.load_offset_thigh_lengths),
    };
    out.at_depth = d;
    let mut found = Vec::new();
    if let Some(f) = back_fault(d.lumbar_flexion_deg, d.pelvic_tilt_deg, d.rib_stack_deg, cfg) {
        found.push(f);
    }
    if is_squat(d.knee_flexion_deg, d.ssi, cfg) {
        found.push(Fault::SquatPattern);
    }
    if d.load_offset_thigh_lengths.is_some_and(|x| x >= cfg.load_far_thigh_lengths) {
        found.push(Fault::LoadFar);
    }
    let dt = frame_period(frames);
    for f in found {
        let hits: Vec<&&RepFrame> = inside.iter().filter(|x| x.faults.contains(f)).collect();
        let range = match (hits.first(), hits.last()) {
            (Some(a), Some(b)) if hits.len() as f64 * dt >= cfg.min_fault_s => [a.index, b.index],
            _ => match (deep.first(), deep.last()) {
                (Some(a), Some(b)) => [a.index, b.index],
                _ => continue,
            },
        };
        out.faults.push(f);
        out.fault_frames.insert(f.name(), range);
    }
    out.faults.sort();
    out
}

/// Faults that also hold while standing (posture habits), for the clip.
pub fn standing_faults(frames: &[RepFrame], standing: impl Fn(u64) -> bool, cfg: &FaultConfig) -> Vec<Fault> {
    let dt = frame_period(frames);
    Fault::ALL
        .into_iter()
        .filter(|f| {
            frames.iter().filter(|x| standing(x.index) && x.faults.contains(*f)).count() as f64 * dt
                >= cfg.min_standing_fault_s
        })
        .collect()
}

fn frame_period(frames: &[RepFrame]) -> f64 {
    match (frames.first(), frames.last()) {
        (Some(a), Some(b)) if b.index > a.index => (b.time_s - a.time_s) / (b.index - a.index) as f64,
        _ => 1.0 / 30.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_set_round_trip_and_cell() {
        let mut s = FaultSet::default();
        assert!(s.is_empty());
        s.insert(Fault::SquatPattern);
        s.insert(Fault::RoundedLumbar);
        assert_eq!(s.to_cell(), "rounded_lumbar;squat_pattern");
        assert!(s.contains(Fault::SquatPattern) && !s.contains(Fault::LoadFar));
    }

    #[test]
    fn squat_only_counts_while_moving() {
        let cfg = FaultConfig::default();
        let m = FrameMetrics { knee_flexion_deg: Some(70.0), ..Default::default() };
        assert!(frame_faults(&m, Some(Phase::Bottom), &cfg).contains(Fault::SquatPattern));
        assert!(frame_faults(&m, Some(Phase::Standing), &cfg).is_empty());
        assert!(frame_faults(&FrameMetrics::default(), Some(Phase::Bottom), &cfg).is_empty(), "no metrics, no fault");
    }

    #[test]
    fn one_root_cause_per_frame() {
        let cfg = FaultConfig::default();
        // rounded lumbar spine: the tucked pelvis and closed ribs are its consequences
        let m = FrameMetrics {
            lumbar_flexion_deg: Some(30.0),
            pelvic_tilt_deg: Some(-27.0),
            rib_stack_deg: Some(34.0),
            ..Default::default()
        };
        let s = frame_faults(&m, Some(Phase::Bottom), &cfg);
        assert_eq!(s.to_cell(), "rounded_lumbar");
        // flat back with a tucked pelvis
        let m = FrameMetrics { lumbar_flexion_deg: Some(14.0), pelvic_tilt_deg: Some(-13.0), ..m };
        assert_eq!(frame_faults(&m, Some(Phase::Bottom), &cfg).to_cell(), "posterior_tilt");
        // arched
        let m = FrameMetrics {
            lumbar_flexion_deg: Some(-30.0),
            pelvic_tilt_deg: Some(27.0),
            rib_stack_deg: Some(-34.0),
            ..m
        };
        assert_eq!(frame_faults(&m, Some(Phase::Descending), &cfg).to_cell(), "anterior_tilt");
        // ribs alone
        let m = FrameMetrics {
            lumbar_flexion_deg: Some(2.0),
            pelvic_tilt_deg: Some(-2.0),
            rib_stack_deg: Some(-18.0),
            ..m
        };
        assert_eq!(frame_faults(&m, Some(Phase::Ascending), &cfg).to_cell(), "ribs_not_stacked");
        assert!(frame_faults(&m, Some(Phase::Standing), &cfg).is_empty(), "not judged standing");
    }

    fn rep_frames(lumbar_at_depth: f64) -> (Rep, Vec<RepFrame>) {
        let frames: Vec<RepFrame> = (0..60u64)
            .map(|i| {
                let depth = 80.0 * (std::f64::consts::PI * i as f64 / 59.0).sin();
                let m = FrameMetrics {
                    hip_angle_deg: Some(15.0 + depth),
                    lumbar_flexion_deg: Some(lumbar_at_depth * depth / 80.0),
                    knee_flexion_deg: Some(10.0 + depth / 4.0),
                    ssi: Some(80.0),
                    ..Default::default()
                };
                RepFrame {
                    index: i,
                    time_s: i as f64 / 30.0,
                    metrics: m,
                    faults: frame_faults(&m, Some(Phase::Bottom), &FaultConfig::default()),
                }
            })
            .collect();
        let rep = Rep {
            index: 1,
            start_frame: 0,
            bottom_start_frame: 25,
            bottom_frame: 30,
            bottom_end_frame: 35,
            end_frame: 59,
            start_s: 0.0,
            bottom_s: 1.0,
            end_s: 59.0 / 30.0,
            peak_depth_deg: 80.0,
        };
        (rep, frames)
    }

    #[test]
    fn rep_verdict_is_taken_at_depth_with_frame_ranges() {
        let cfg = FaultConfig::default();
        let (rep, frames) = rep_frames(35.0);
        let v = rep_faults(&rep, &frames, &cfg);
        assert_eq!(v.faults, vec![Fault::RoundedLumbar]);
        let [a, b] = v.fault_frames["rounded_lumbar"];
        assert!(a > 5 && b < 55 && a < 30 && b > 30, "range {a}..{b} around the bottom");
        let (rep, frames) = rep_frames(12.0);
        assert!(rep_faults(&rep, &frames, &cfg).faults.is_empty(), "mild flexion is no fault");
        assert!(rep_faults(&rep, &[], &cfg).faults.is_empty(), "no frames, no verdict");
    }
}
