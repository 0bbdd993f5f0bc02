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

/// Faults holding in one frame, given its metrics and phase.
pub fn frame_faults(m: &FrameMetrics, phase: Option<Phase>, cfg: &FaultConfig) -> FaultSet {
    let mut set = FaultSet::default();
    let moving = matches!(phase, Some(Phase::Descending | Phase::Bottom | Phase::Ascending));
    if let Some(l) = m.lumbar_flexion_deg {
        if moving && l >= cfg.rounded_lumbar_deg {
            set.insert(Fault::RoundedLumbar);
        }
    }
    if let Some(t) = m.pelvic_tilt_deg {
        if t >= cfg.anterior_tilt_deg {
            set.insert(Fault::AnteriorTilt);
        }
        if t <= cfg.posterior_tilt_deg {
            set.insert(Fault::PosteriorTilt);
        }
    }
    if let Some(r) = m.rib_stack_deg {
        if r.abs() >= cfg.ribs_not_stacked_deg {
            set.insert(Fault::RibsNotStacked);
        }
    }
    if let Some(k) = m.knee_flexion_deg {
        if moving && k >= cfg.squat_knee_deg {
            set.insert(Fault::SquatPattern);
        }
    }
    set
}

/// Per-rep verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepFaults {
    pub faults: Vec<Fault>,
    /// First and last frame where each fault holds in the rep.
    pub fault_frames: BTreeMap<&'static str, [u64; 2]>,
}

/// Faults of a rep: those holding for at least `min_fault_s` within it.
pub fn rep_faults(rep: &Rep, frames: &[(u64, f64, FaultSet)], cfg: &FaultConfig) -> RepFaults {
    let mut out = RepFaults { faults: Vec::new(), fault_frames: BTreeMap::new() };
    for f in Fault::ALL {
        let hits: Vec<&(u64, f64, FaultSet)> =
            frames.iter().filter(|(i, _, s)| rep.contains(*i) && s.contains(f)).collect();
        if let (Some(first), Some(last)) = (hits.first(), hits.last()) {
            let dt = frame_period(frames);
            if hits.len() as f64 * dt >= cfg.min_fault_s {
                out.faults.push(f);
                out.fault_frames.insert(f.name(), [first.0, last.0]);
            }
        }
    }
    out
}

/// Faults that also hold while standing (posture habits), for the clip.
pub fn standing_faults(
    frames: &[(u64, f64, FaultSet)],
    standing: impl Fn(u64) -> bool,
    cfg: &FaultConfig,
) -> Vec<Fault> {
    let dt = frame_period(frames);
    Fault::ALL
        .into_iter()
        .filter(|f| {
            frames.iter().filter(|(i, _, s)| standing(*i) && s.contains(*f)).count() as f64 * dt >= cfg.min_fault_s
        })
        .collect()
}

fn frame_period(frames: &[(u64, f64, FaultSet)]) -> f64 {
    match (frames.first(), frames.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => (b.1 - a.1) / (b.0 - a.0) as f64,
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
    fn tilt_holds_while_standing_too() {
        let cfg = FaultConfig::default();
        let m = FrameMetrics { pelvic_tilt_deg: Some(-12.0), ..Default::default() };
        assert!(frame_faults(&m, Some(Phase::Standing), &cfg).contains(Fault::PosteriorTilt));
    }
}
