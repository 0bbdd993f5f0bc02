//! Fault rules over the per-frame metrics, as a clinician judges a hinge:
//! each rep on its deep part and against the person's own standing posture,
//! and the clip as a whole for posture habits held while standing.
//!
//! * Rounding is lumbar flexion at depth **beyond the person's standing
//!   lumbar angle** (or beyond an absolute limit when no standing posture was
//!   seen), so a body whose outline reads a few degrees off does not carry
//!   that offset into every verdict.
//! * A pelvic tilt is a fault at depth when the pelvis is tipped or tucked
//!   beyond what a neutral hinge explains, or — the anterior tilt's other
//!   sign — the lower back is arched (lumbar extension); a tilt or an arch
//!   held while standing is a habit of the clip (`summary.json` → `faults`).
//! * The rib cage is "not stacked" when its angle to the pelvis changes at
//!   depth, against standing, by more than the lumbar spine's own change
//!   explains (the rib cage sits on the lumbar spine: rounding tips it too),
//!   and neither rounding nor a tilt explains the posture.
//! * A squat is a movement done by the knees rather than the hips: a low
//!   stoop–squat index at depth. Deep knees alone are no squat: a hinge that
//!   lifts a bell or a child from the floor bends them 80–100°.
//! * The load is far when the hands are more than `load_far_cm` in front of
//!   the ankles at depth (NIOSH: H ≤ 25 cm is ideal).
//!
//! Thresholds live in [`FaultConfig`] (`[faults]`, rationale in docs/config.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::kinematics::metric::{Metric, MetricValues};
use crate::kinematics::FrameMetrics;
use crate::reps::{Phase, Rep};

/// The faults hinge recognises (names as in frames.csv / summary.json): the
/// registry every writer reads.
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

    /// Parses a fault name.
    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The metric that shows the fault (larger `severity` is worse).
    pub fn metric(self) -> Metric {
        match self {
            Fault::RoundedLumbar => Metric::LumbarFlexion,
            Fault::AnteriorTilt | Fault::PosteriorTilt => Metric::PelvicTilt,
            Fault::RibsNotStacked => Metric::RibStack,
            Fault::SquatPattern => Metric::Ssi,
            Fault::LoadFar => Metric::LoadDistance,
        }
    }

    /// How bad the fault is in a frame (larger is worse), as its rule reads
    /// the frame: an anterior tilt by the pelvis tipped forward or the lower
    /// back arched, whichever is further; the rib cage by its angle beyond the
    /// lumbar spine's.
    pub fn severity(self, m: &FrameMetrics) -> Option<f64> {
        match self {
            Fault::RoundedLumbar => m.lumbar_flexion_deg,
            Fault::AnteriorTilt => {
                let arch = m.lumbar_flexion_deg.map(|l| -l);
                m.pelvic_tilt_deg.into_iter().chain(arch).reduce(f64::max)
            }
            Fault::PosteriorTilt => m.pelvic_tilt_deg.map(|x| -x),
            Fault::RibsNotStacked => m.rib_stack_deg.map(|r| (r - m.lumbar_flexion_deg.unwrap_or(0.0)).abs()),
            Fault::SquatPattern => m.ssi.map(|s| -s),
            Fault::LoadFar => m.load_distance_cm,
        }
    }
}

/// Fault thresholds (`[faults]` of the configuration file). Defaults and
/// their rationale: docs/config.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Lumbar flexion at depth beyond the person's standing lumbar angle from
    /// which the back counts as rounded, °.
    pub rounded_lumbar_change_deg: f64,
    /// Lumbar flexion at depth that counts as rounded whatever the standing
    /// posture (and the rule when no standing posture was seen), °.
    pub rounded_lumbar_deg: f64,
    /// Pelvic tilt at depth from which the pelvis counts as tipped forward, °.
    pub anterior_tilt_deg: f64,
    /// Pelvic tilt at depth (negative) from which the pelvis counts as tucked, °.
    pub posterior_tilt_deg: f64,
    /// Lumbar flexion at depth (negative: extension) at or below which the
    /// lower back counts as arched, an anterior tilt, °.
    pub arched_lumbar_deg: f64,
    /// Pelvic tilt held while standing from which an anterior-tilt habit is reported, °.
    pub anterior_habit_deg: f64,
    /// Pelvic tilt held while standing (negative) from which a posterior-tilt habit is reported, °.
    pub posterior_habit_deg: f64,
    /// Lumbar flexion held while standing (negative: extension) at or below
    /// which an arched back is reported as an anterior-tilt habit, °.
    pub arched_habit_deg: f64,
    /// Change of the rib cage's angle to the pelvis at depth, against
    /// standing and beyond the lumbar spine's own change, from which the ribs
    /// are not stacked (either sign), °.
    pub ribs_not_stacked_deg: f64,
    /// Stoop–squat index at depth below which the movement is a squat.
    pub squat_ssi: f64,
    /// Hands in front of the ankles at depth from which the load is far, cm.
    pub load_far_cm: f64,
    /// Share of a rep's hip-angle range, from its peak, that counts as "at depth".
    pub depth_share: f64,
    /// Shortest time a fault must hold, frame by frame, for its frame range to be reported, s.
    pub min_fault_s: f64,
    /// Shortest standing time with a reading from which a standing habit is judged, s.
    pub min_standing_s: f64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            rounded_lumbar_change_deg: 12.0,
            rounded_lumbar_deg: 32.0,
            anterior_tilt_deg: 10.0,
            posterior_tilt_deg: -10.0,
            arched_lumbar_deg: -6.0,
            anterior_habit_deg: 10.0,
            posterior_habit_deg: -10.0,
            arched_habit_deg: -8.0,
            ribs_not_stacked_deg: 10.0,
            squat_ssi: 28.0,
            load_far_cm: 29.0,
            depth_share: 0.3,
            min_fault_s: 0.15,
            min_standing_s: 0.5,
        }
    }
}

impl FaultConfig {
    /// Checks every value: finite, in range, signs as documented.
    pub fn validate(&self) -> Result<(), String> {
        use crate::validate::range;
        range("faults.rounded_lumbar_change_deg", self.rounded_lumbar_change_deg, 1.0, 90.0)?;
        range("faults.rounded_lumbar_deg", self.rounded_lumbar_deg, 1.0, 90.0)?;
        range("faults.anterior_tilt_deg", self.anterior_tilt_deg, 0.5, 60.0)?;
        range("faults.posterior_tilt_deg", self.posterior_tilt_deg, -60.0, -0.5)?;
        range("faults.arched_lumbar_deg", self.arched_lumbar_deg, -60.0, -0.5)?;
        range("faults.anterior_habit_deg", self.anterior_habit_deg, 0.5, 60.0)?;
        range("faults.posterior_habit_deg", self.posterior_habit_deg, -60.0, -0.5)?;
        range("faults.arched_habit_deg", self.arched_habit_deg, -60.0, -0.5)?;
        range("faults.ribs_not_stacked_deg", self.ribs_not_stacked_deg, 1.0, 90.0)?;
        range("faults.squat_ssi", self.squat_ssi, 0.0, 100.0)?;
        range("faults.load_far_cm", self.load_far_cm, 1.0, 200.0)?;
        range("faults.depth_share", self.depth_share, 0.01, 1.0)?;
        range("faults.min_fault_s", self.min_fault_s, 0.01, 10.0)?;
        range("faults.min_standing_s", self.min_standing_s, 0.01, 60.0)?;
        Ok(())
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

/// The readings one verdict is taken on (a frame, or a rep's medians at depth).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Posture {
    pub lumbar_flexion_deg: Option<f64>,
    pub pelvic_tilt_deg: Option<f64>,
    pub rib_stack_deg: Option<f64>,
    pub ssi: Option<f64>,
    pub load_distance_cm: Option<f64>,
}

impl Posture {
    pub fn of(m: &FrameMetrics) -> Posture {
        Posture {
            lumbar_flexion_deg: m.lumbar_flexion_deg,
            pelvic_tilt_deg: m.pelvic_tilt_deg,
            rib_stack_deg: m.rib_stack_deg,
            ssi: m.ssi,
            load_distance_cm: m.load_distance_cm,
        }
    }

    fn from_values(v: &MetricValues) -> Posture {
        Posture {
            lumbar_flexion_deg: v.get(Metric::LumbarFlexion),
            pelvic_tilt_deg: v.get(Metric::PelvicTilt),
            rib_stack_deg: v.get(Metric::RibStack),
            ssi: v.get(Metric::Ssi),
            load_distance_cm: v.get(Metric::LoadDistance),
        }
    }
}

/// Lumbar flexion from which a back at depth counts as rounded: the
/// standing lumbar angle plus `rounded_lumbar_change_deg`, at most
/// `rounded_lumbar_deg` (and that alone when no standing angle was read). A
/// standing back already arched past `arched_habit_deg` is no neutral to count
/// from — bending out of an arch to neutral is no rounding — so it counts from
/// that limit.
pub fn rounding_limit_deg(standing_lumbar_deg: Option<f64>, cfg: &FaultConfig) -> f64 {
    match standing_lumbar_deg {
        Some(s) => (s.max(cfg.arched_habit_deg) + cfg.rounded_lumbar_change_deg).min(cfg.rounded_lumbar_deg),
        None => cfg.rounded_lumbar_deg,
    }
}

/// Which spine/pelvis fault (at most one) explains a posture at depth,
/// given the standing posture. Ordered by root cause: rounding first (a
/// rounded lumbar spine tucks the pelvis and closes the ribs with it), then
/// a tipped or tucked pelvis or an arched lower back, then a rib cage off
/// the pelvis by more than the lumbar spine's own change explains.
pub fn back_fault(p: &Posture, standing: &Posture, cfg: &FaultConfig) -> Option<Fault> {
    if p.lumbar_flexion_deg.is_some_and(|l| l >= rounding_limit_deg(standing.lumbar_flexion_deg, cfg)) {
        return Some(Fault::RoundedLumbar);
    }
    if let Some(t) = p.pelvic_tilt_deg {
        if t <= cfg.posterior_tilt_deg {
            return Some(Fault::PosteriorTilt);
        }
        if t >= cfg.anterior_tilt_deg {
            return Some(Fault::AnteriorTilt);
        }
    }
    if p.lumbar_flexion_deg.is_some_and(|l| l <= cfg.arched_lumbar_deg) {
        return Some(Fault::AnteriorTilt);
    }
    let change = |now: Option<f64>, then: Option<f64>| now.map(|x| x - then.unwrap_or(0.0));
    let rib_change = change(p.rib_stack_deg, standing.rib_stack_deg)?;
    let lumbar_change = change(p.lumbar_flexion_deg, standing.lumbar_flexion_deg).unwrap_or(0.0);
    ((rib_change - lumbar_change).abs() >= cfg.ribs_not_stacked_deg).then_some(Fault::RibsNotStacked)
}

/// Is this a squat rather than a hinge? The movement mostly done by the
/// knees: a stoop–squat index below `squat_ssi`.
pub fn is_squat(p: &Posture, cfg: &FaultConfig) -> bool {
    p.ssi.is_some_and(|s| s < cfg.squat_ssi)
}

/// Faults of a posture at depth (a rep's medians, or one frame of a rep).
pub fn posture_faults(p: &Posture, standing: &Posture, cfg: &FaultConfig) -> Vec<Fault> {
    let mut out = Vec::new();
    out.extend(back_fault(p, standing, cfg));
    if is_squat(p, cfg) {
        out.push(Fault::SquatPattern);
    }
    if p.load_distance_cm.is_some_and(|d| d >= cfg.load_far_cm) {
        out.push(Fault::LoadFar);
    }
    out.sort();
    out
}

/// Tilt habit of a standing posture, if any: the pelvis tipped forward or
/// the lower back arched (an anterior tilt), or the pelvis tucked.
pub fn standing_habit(tilt_deg: Option<f64>, lumbar_deg: Option<f64>, cfg: &FaultConfig) -> Option<Fault> {
    let tipped = tilt_deg.is_some_and(|t| t >= cfg.anterior_habit_deg);
    let arched = lumbar_deg.is_some_and(|l| l <= cfg.arched_habit_deg);
    if tipped || arched {
        Some(Fault::AnteriorTilt)
    } else if tilt_deg.is_some_and(|t| t <= cfg.posterior_habit_deg) {
        Some(Fault::PosteriorTilt)
    } else {
        None
    }
}

/// Faults holding in one frame given its phase and the standing posture:
/// in a rep, the posture rules; while standing, a tilt habit.
pub fn frame_faults(m: &FrameMetrics, phase: Option<Phase>, standing: &MetricValues, cfg: &FaultConfig) -> FaultSet {
    let mut set = FaultSet::default();
    match phase {
        Some(Phase::Descending | Phase::Bottom | Phase::Ascending) => {
            for f in posture_faults(&Posture::of(m), &Posture::from_values(standing), cfg) {
                set.insert(f);
            }
        }
        Some(Phase::Standing) => {
            if let Some(f) = standing_habit(m.pelvic_tilt_deg, m.lumbar_flexion_deg, cfg) {
                set.insert(f);
            }
        }
        None => {}
    }
    set
}

/// Per-rep verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepFaults {
    pub faults: Vec<Fault>,
    /// First and last frame where each fault holds in the rep.
    pub fault_frames: BTreeMap<&'static str, [u64; 2]>,
    /// The medians over the deep part the verdict was taken on.
    pub at_depth: MetricValues,
    /// Frames in the deep part.
    pub depth_frames: usize,
}

/// One frame of a rep as the verdict sees it.
#[derive(Debug, Clone, Copy)]
pub struct RepFrame {
    pub index: u64,
    pub time_s: f64,
    pub metrics: FrameMetrics,
    pub faults: FaultSet,
}

/// Median of the finite values.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// Faults of a rep, judged on its deep part: the frames whose hip angle is
/// within `depth_share` of the rep's range from its peak. The medians there
/// go through [`posture_faults`] against the standing posture; each fault's
/// frame range is where the single-frame rule holds in the rep (or the deep
/// part when it never does frame by frame long enough).
pub fn rep_faults(rep: &Rep, frames: &[RepFrame], standing: &MetricValues, cfg: &FaultConfig) -> RepFaults {
    let inside: Vec<&RepFrame> = frames.iter().filter(|f| rep.contains(f.index)).collect();
    let hips: Vec<f64> = inside.iter().filter_map(|f| f.metrics.hip_angle_deg).collect();
    let (Some(lo), Some(hi)) = (hips.iter().copied().reduce(f64::min), hips.iter().copied().reduce(f64::max)) else {
        return RepFaults {
            faults: Vec::new(),
            fault_frames: BTreeMap::new(),
            at_depth: MetricValues::default(),
            depth_frames: 0,
        };
    };
    let level = hi - cfg.depth_share * (hi - lo);
    let deep: Vec<&RepFrame> =
        inside.iter().copied().filter(|f| f.metrics.hip_angle_deg.is_some_and(|h| h >= level)).collect();
    let at_depth = MetricValues::from_fn(|m| median(deep.iter().filter_map(|f| m.of(&f.metrics)).collect()));
    let found = posture_faults(&Posture::from_values(&at_depth), &Posture::from_values(standing), cfg);
    let dt = frame_period(frames);
    let mut out = RepFaults { faults: Vec::new(), fault_frames: BTreeMap::new(), at_depth, depth_frames: deep.len() };
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
    out
}

/// Posture habits of the clip: a tilt or an arched back held while standing
/// (outside the reps), judged on the median standing tilt and lumbar angle
/// when at least `min_standing_s` of standing frames have a reading.
pub fn clip_faults(frames: &[RepFrame], standing: impl Fn(u64) -> bool, cfg: &FaultConfig) -> Vec<Fault> {
    let dt = frame_period(frames);
    let still: Vec<&FrameMetrics> = frames.iter().filter(|x| standing(x.index)).map(|x| &x.metrics).collect();
    let enough = |v: Vec<f64>| (v.len() as f64 * dt >= cfg.min_standing_s).then(|| median(v)).flatten();
    let tilt = enough(still.iter().filter_map(|m| m.pelvic_tilt_deg).collect());
    let lumbar = enough(still.iter().filter_map(|m| m.lumbar_flexion_deg).collect());
    standing_habit(tilt, lumbar, cfg).into_iter().collect()
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
    use proptest::prelude::*;

    fn standing(lumbar: f64, tilt: f64, rib: f64) -> MetricValues {
        let mut v = MetricValues::default();
        v.set(Metric::LumbarFlexion, Some(lumbar));
        v.set(Metric::PelvicTilt, Some(tilt));
        v.set(Metric::RibStack, Some(rib));
        v
    }

    #[test]
    fn fault_set_round_trip_and_cell() {
        let mut s = FaultSet::default();
        assert!(s.is_empty());
        s.insert(Fault::SquatPattern);
        s.insert(Fault::RoundedLumbar);
        assert_eq!(s.to_cell(), "rounded_lumbar;squat_pattern");
        assert!(s.contains(Fault::SquatPattern) && !s.contains(Fault::LoadFar));
        for f in Fault::ALL {
            assert_eq!(Fault::from_name(f.name()), Some(f));
        }
    }

    #[test]
    fn deep_knees_of_a_floor_hinge_are_no_squat() {
        let cfg = FaultConfig::default();
        let base = standing(0.0, 0.0, 0.0);
        // kettlebell deadlift from the floor: knees ~90°, trunk ~55° forward → SSI ~40
        let hinge =
            FrameMetrics { knee_flexion_deg: Some(92.0), trunk_deg: Some(55.0), ssi: Some(40.0), ..Default::default() };
        assert!(frame_faults(&hinge, Some(Phase::Bottom), &base, &cfg).is_empty());
        // knee-dominant lift: knees ~130°, trunk ~22° → SSI ~15
        let squat = FrameMetrics { ssi: Some(15.0), ..hinge };
        assert!(frame_faults(&squat, Some(Phase::Bottom), &base, &cfg).contains(Fault::SquatPattern));
        assert!(frame_faults(&squat, Some(Phase::Standing), &base, &cfg).is_empty(), "not judged standing");
        let none = MetricValues::default();
        assert!(frame_faults(&FrameMetrics::default(), Some(Phase::Bottom), &none, &cfg).is_empty());
    }

    #[test]
    fn rounding_is_judged_against_the_standing_back() {
        let cfg = FaultConfig::default();
        let p = |l: f64| Posture { lumbar_flexion_deg: Some(l), ..Default::default() };
        // a body whose standing back reads 18° flexed: 28° at depth is only 10° of rounding
        assert_eq!(back_fault(&p(28.0), &Posture::from_values(&standing(18.0, 0.0, 0.0)), &cfg), None);
        assert_eq!(
            back_fault(&p(28.0), &Posture::from_values(&standing(-2.0, 0.0, 0.0)), &cfg),
            Some(Fault::RoundedLumbar)
        );
        // far beyond the absolute limit whatever the standing reading; without one, the absolute limit alone
        assert_eq!(
            back_fault(&p(40.0), &Posture::from_values(&standing(25.0, 0.0, 0.0)), &cfg),
            Some(Fault::RoundedLumbar)
        );
        assert_eq!(back_fault(&p(28.0), &Posture::default(), &cfg), None);
        // standing arched 15°, bending out of the arch to 2° of extension: no rounding
        assert_eq!(back_fault(&p(-2.0), &Posture::from_values(&standing(-15.0, 0.0, 0.0)), &cfg), None);
        assert_eq!(
            back_fault(&p(6.0), &Posture::from_values(&standing(-15.0, 0.0, 0.0)), &cfg),
            Some(Fault::RoundedLumbar),
            "14° beyond the arch limit"
        );
    }

    #[test]
    fn one_root_cause_per_posture() {
        let cfg = FaultConfig::default();
        let s = Posture::from_values(&standing(0.0, 0.0, 0.0));
        let p = |l: f64, t: f64, r: f64| Posture {
            lumbar_flexion_deg: Some(l),
            pelvic_tilt_deg: Some(t),
            rib_stack_deg: Some(r),
            ..Default::default()
        };
        assert_eq!(back_fault(&p(35.0, -30.0, 40.0), &s, &cfg), Some(Fault::RoundedLumbar));
        assert_eq!(back_fault(&p(9.0, -14.0, 9.0), &s, &cfg), Some(Fault::PosteriorTilt));
        assert_eq!(back_fault(&p(-28.0, 16.0, -32.0), &s, &cfg), Some(Fault::AnteriorTilt));
        assert_eq!(back_fault(&p(1.0, 0.0, -18.0), &s, &cfg), Some(Fault::RibsNotStacked));
        assert_eq!(back_fault(&p(1.0, 0.0, 17.0), &s, &cfg), Some(Fault::RibsNotStacked));
        assert_eq!(back_fault(&p(3.0, 2.0, 6.0), &s, &cfg), None);
    }

    #[test]
    fn severity_reads_a_frame_as_the_rule_does() {
        let m = |l: Option<f64>, t: Option<f64>, r: Option<f64>| FrameMetrics {
            lumbar_flexion_deg: l,
            pelvic_tilt_deg: t,
            rib_stack_deg: r,
            ..Default::default()
        };
        // the arch further from neutral than the tipped pelvis
        assert_eq!(Fault::AnteriorTilt.severity(&m(Some(-14.0), Some(6.0), None)), Some(14.0));
        assert_eq!(Fault::AnteriorTilt.severity(&m(Some(2.0), Some(11.0), None)), Some(11.0));
        assert_eq!(Fault::AnteriorTilt.severity(&m(None, None, None)), None);
        // a rib cage tipped with the lumbar spine is less off than one tipped alone
        let with = Fault::RibsNotStacked.severity(&m(Some(10.0), None, Some(15.0))).unwrap();
        let alone = Fault::RibsNotStacked.severity(&m(Some(0.0), None, Some(12.0))).unwrap();
        assert!(with < alone, "{with} {alone}");
    }

    #[test]
    fn an_arched_lower_back_is_an_anterior_tilt() {
        let cfg = FaultConfig::default();
        let s = Posture::from_values(&standing(0.0, 0.0, 0.0));
        let p =
            |l: f64, t: f64| Posture { lumbar_flexion_deg: Some(l), pelvic_tilt_deg: Some(t), ..Default::default() };
        // the pelvis read only 6° forward, but the lower back arched 9°: the fault's other sign
        assert_eq!(back_fault(&p(-9.0, 6.0), &s, &cfg), Some(Fault::AnteriorTilt));
        assert_eq!(back_fault(&p(-3.0, 6.0), &s, &cfg), None, "a few degrees of extension are within neutral");
        // a tucked pelvis comes first
        assert_eq!(back_fault(&p(-8.0, -12.0), &s, &cfg), Some(Fault::PosteriorTilt));
    }

    #[test]
    fn ribs_are_judged_beyond_the_lumbar_spine_they_sit_on() {
        let cfg = FaultConfig::default();
        let s = Posture::from_values(&standing(0.0, 0.0, 0.0));
        let p = |l: f64, r: f64| Posture { lumbar_flexion_deg: Some(l), rib_stack_deg: Some(r), ..Default::default() };
        // 14° of rib change of which the lumbar spine's own 8° of flexion explains most: stacked
        assert_eq!(back_fault(&p(8.0, 14.0), &s, &cfg), None);
        // the same rib change over a still lumbar spine: the rib cage itself closed
        assert_eq!(back_fault(&p(0.0, 14.0), &s, &cfg), Some(Fault::RibsNotStacked));
        // flared against a lumbar spine that flexed: the gap counts
        assert_eq!(back_fault(&p(5.0, -6.0), &s, &cfg), Some(Fault::RibsNotStacked));
        // changes are against standing: a body whose rib cage reads 9° closed while standing
        let bent = Posture::from_values(&standing(0.0, 0.0, 9.0));
        assert_eq!(back_fault(&p(0.0, 14.0), &bent, &cfg), None);
        // and so is the lumbar part taken out: standing at −5°, 8° of lumbar change explains 8 of the rib
        // cage's 17 (its raw 3° would leave 14)
        let extended = Posture::from_values(&standing(-5.0, 0.0, 0.0));
        assert_eq!(back_fault(&p(3.0, 17.0), &extended, &cfg), None);
        assert_eq!(back_fault(&p(3.0, 19.0), &extended, &cfg), Some(Fault::RibsNotStacked));
    }

    #[test]
    fn rounding_counts_from_the_standing_angle_no_more_arched_than_the_habit_limit() {
        let cfg = FaultConfig::default();
        // the limit is the standing angle, no more arched than `arched_habit_deg` (not `arched_lumbar_deg`)
        assert_eq!(rounding_limit_deg(Some(-7.0), &cfg), -7.0 + cfg.rounded_lumbar_change_deg);
        assert_eq!(rounding_limit_deg(Some(-20.0), &cfg), cfg.arched_habit_deg + cfg.rounded_lumbar_change_deg);
        assert_eq!(rounding_limit_deg(Some(25.0), &cfg), cfg.rounded_lumbar_deg);
        assert_eq!(rounding_limit_deg(None, &cfg), cfg.rounded_lumbar_deg);
        let l = |x: f64| Posture { lumbar_flexion_deg: Some(x), ..Default::default() };
        assert_eq!(
            back_fault(&l(5.5), &Posture::from_values(&standing(-7.0, 0.0, 0.0)), &cfg),
            Some(Fault::RoundedLumbar)
        );
    }

    #[test]
    fn standing_habits_need_enough_standing() {
        let cfg = FaultConfig::default();
        let frames: Vec<RepFrame> = (0..60u64)
            .map(|i| RepFrame {
                index: i,
                time_s: i as f64 / 30.0,
                metrics: FrameMetrics { pelvic_tilt_deg: Some(13.0), ..Default::default() },
                faults: FaultSet::default(),
            })
            .collect();
        assert_eq!(clip_faults(&frames, |_| true, &cfg), vec![Fault::AnteriorTilt]);
        assert!(clip_faults(&frames, |i| i < 5, &cfg).is_empty(), "0.17 s of standing is too little");
        let tucked: Vec<RepFrame> = frames
            .iter()
            .map(|f| RepFrame { metrics: FrameMetrics { pelvic_tilt_deg: Some(-11.0), ..f.metrics }, ..*f })
            .collect();
        assert_eq!(clip_faults(&tucked, |_| true, &cfg), vec![Fault::PosteriorTilt]);
        let arched: Vec<RepFrame> = frames
            .iter()
            .map(|f| RepFrame {
                metrics: FrameMetrics { pelvic_tilt_deg: Some(6.0), lumbar_flexion_deg: Some(-12.0), ..f.metrics },
                ..*f
            })
            .collect();
        assert_eq!(clip_faults(&arched, |_| true, &cfg), vec![Fault::AnteriorTilt], "an arch held standing");
        let neutral: Vec<RepFrame> = arched
            .iter()
            .map(|f| RepFrame { metrics: FrameMetrics { lumbar_flexion_deg: Some(-3.0), ..f.metrics }, ..*f })
            .collect();
        assert!(clip_faults(&neutral, |_| true, &cfg).is_empty());
        // an arch alone, the pelvis not read
        let arch_only: Vec<RepFrame> = arched
            .iter()
            .map(|f| RepFrame { metrics: FrameMetrics { pelvic_tilt_deg: None, ..f.metrics }, ..*f })
            .collect();
        assert_eq!(clip_faults(&arch_only, |_| true, &cfg), vec![Fault::AnteriorTilt]);
        assert_eq!(standing_habit(None, Some(-12.0), &cfg), Some(Fault::AnteriorTilt));
        assert_eq!(standing_habit(None, None, &cfg), None);
    }

    fn rep_frames(lumbar_at_depth: f64) -> (Rep, Vec<RepFrame>) {
        let base = standing(0.0, 0.0, 0.0);
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
                    faults: frame_faults(&m, Some(Phase::Bottom), &base, &FaultConfig::default()),
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
        let base = standing(0.0, 0.0, 0.0);
        let (rep, frames) = rep_frames(35.0);
        let v = rep_faults(&rep, &frames, &base, &cfg);
        assert_eq!(v.faults, vec![Fault::RoundedLumbar]);
        assert!(v.at_depth.get(Metric::LumbarFlexion).unwrap() > 30.0);
        let [a, b] = v.fault_frames["rounded_lumbar"];
        assert!(a > 5 && b < 55 && a < 30 && b > 30, "range {a}..{b} around the bottom");
        let (rep, frames) = rep_frames(8.0);
        assert!(rep_faults(&rep, &frames, &base, &cfg).faults.is_empty(), "mild flexion is no fault");
        assert!(rep_faults(&rep, &[], &base, &cfg).faults.is_empty(), "no frames, no verdict");
    }

    #[test]
    fn config_values_are_checked() {
        assert!(FaultConfig::default().validate().is_ok());
        for bad in [
            FaultConfig { rounded_lumbar_change_deg: f64::NAN, ..Default::default() },
            FaultConfig { posterior_tilt_deg: 5.0, ..Default::default() },
            FaultConfig { arched_lumbar_deg: 4.0, ..Default::default() },
            FaultConfig { arched_habit_deg: f64::NAN, ..Default::default() },
            FaultConfig { anterior_habit_deg: f64::INFINITY, ..Default::default() },
            FaultConfig { min_fault_s: -0.1, ..Default::default() },
            FaultConfig { depth_share: 0.0, ..Default::default() },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    proptest! {
        /// Adding the same offset to the standing and the deep lumbar reading
        /// (a body whose outline reads off by a constant) never changes the
        /// baseline-relative rounding verdict between the absolute limits.
        #[test]
        fn a_constant_lumbar_offset_does_not_change_the_verdict(l in -10f64..20.0, s in -5f64..5.0, off in -8f64..8.0) {
            let cfg = FaultConfig::default();
            let p = |x: f64| Posture { lumbar_flexion_deg: Some(x), ..Default::default() };
            let a = back_fault(&p(l), &p(s), &cfg);
            let b = back_fault(&p(l + off), &p(s + off), &cfg);
            prop_assume!(l + off < cfg.rounded_lumbar_deg && l < cfg.rounded_lumbar_deg);
            prop_assume!(l + off > cfg.arched_lumbar_deg && l > cfg.arched_lumbar_deg);
            prop_assume!(s + off > cfg.arched_habit_deg && s > cfg.arched_habit_deg);
            prop_assert_eq!(a, b);
        }
    }
}
