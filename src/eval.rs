//! `hinge eval`: runs the analysis on every clip of a rendered footage set
//! (the layout of `samples/dev`: `*.mp4` with a truth `*.csv` and a
//! `*.meta.json`, listed in `manifest.json`) and scores it against the truth:
//! mean absolute error per metric, detection rate, rep count, the clip's fault
//! set and, for practice sets with `reps_detail`, each rep's faults.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analyze::{observe_source, Analysis, AnalyzeError, Observation, SIDE_ON_MAX_OBLIQUITY_DEG};
use crate::config::Config;
use crate::faults::Fault;
use crate::kinematics::metric::Metric;
use crate::kinematics::spine_model::{FixedReadings, SpineReader};
use crate::kinematics::{self, BodyFrame, ClipView};
use crate::pose::PoseEstimator;
use crate::video::VideoSource;

/// Errors of an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The footage directory or one of its files cannot be read.
    #[error("{}: {reason}", .path.display())]
    Footage { path: PathBuf, reason: String },
    /// A clip could not be analysed.
    #[error("{}", analyze_line(.path, .source))]
    Analyze { path: PathBuf, source: AnalyzeError },
    /// A clip's report files could not be written (the error names the file).
    #[error("{0}")]
    Report(crate::report::ReportError),
}

fn footage_err(path: &Path, reason: impl ToString) -> EvalError {
    EvalError::Footage { path: path.to_path_buf(), reason: reason.to_string() }
}

/// The analysis error after the clip's path, unless it names the clip already
/// (the video errors do).
fn analyze_line(path: &Path, e: &AnalyzeError) -> String {
    match e {
        AnalyzeError::Video(_) => e.to_string(),
        _ => format!("{}: {e}", path.display()),
    }
}

/// The metrics scored against the truth: the registry's angles, then the
/// load distance (truth: `hands_ankle_fwd_m`, where the footage has it).
pub const SCORED: [Metric; 8] = [
    Metric::Trunk,
    Metric::HipAngle,
    Metric::KneeFlexion,
    Metric::HipFlexion,
    Metric::LumbarFlexion,
    Metric::PelvicTilt,
    Metric::RibStack,
    Metric::LoadDistance,
];

/// MAE targets (issue 13), in [`SCORED`] order; `None`: reported without a target.
pub const TARGET_MAE: [Option<f64>; 8] =
    [Some(2.5), Some(5.0), Some(4.0), Some(6.0), Some(6.0), Some(6.0), Some(6.0), None];

/// How the clips of a variant are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantKind {
    /// Reps that show the variant's fault, or none.
    Reps,
    /// Standing without reps, holding the variant's fault (if any) as a habit.
    Standing,
    /// Metrics only: the faults are drawn independently of the label rules
    /// (tools/synth/README.md), so the fault set is not scored.
    MetricsOnly,
}

/// A variant of the rendered footage (`variant` of a clip's metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    pub name: &'static str,
    /// The fault the variant is built to show (the fault registry's, so that
    /// a renamed fault cannot silently fall out of the scoring).
    pub fault: Option<Fault>,
    pub kind: VariantKind,
}

const fn variant_entry(name: &'static str, fault: Option<Fault>, kind: VariantKind) -> Variant {
    Variant { name, fault, kind }
}

/// Every variant the synth factory renders (tools/synth/README.md) and how
/// it is scored; one list that the expected faults, the metrics-only clips
/// and the standing-habit tally all read. A variant not listed (the bank's
/// `wiggle`, a practice `session`, whose reps carry their own faults) shows
/// no fault of its own.
pub const VARIANTS: [Variant; 16] = {
    use Fault::*;
    use VariantKind::*;
    [
        variant_entry("good", None, Reps),
        variant_entry("floor_good", None, Reps),
        variant_entry("rounded_lumbar", Some(RoundedLumbar), Reps),
        variant_entry("floor_rounded", Some(RoundedLumbar), Reps),
        variant_entry("anterior_tilt", Some(AnteriorTilt), Reps),
        variant_entry("posterior_tilt", Some(PosteriorTilt), Reps),
        variant_entry("squat", Some(SquatPattern), Reps),
        variant_entry("squat_pattern", Some(SquatPattern), Reps),
        variant_entry("ribs_not_stacked", Some(RibsNotStacked), Reps),
        variant_entry("ribs_flared", Some(RibsNotStacked), Reps),
        variant_entry("ribs_closed", Some(RibsNotStacked), Reps),
        variant_entry("load_far", Some(LoadFar), Reps),
        variant_entry("idle", None, Standing),
        variant_entry("idle_anterior", Some(AnteriorTilt), Standing),
        variant_entry("idle_posterior", Some(PosteriorTilt), Standing),
        variant_entry("spine_mix", None, MetricsOnly),
    ]
};

/// The registry's entry of a variant name.
pub fn variant(name: &str) -> Option<&'static Variant> {
    VARIANTS.iter().find(|v| v.name == name)
}

/// One rep of a practice set as the truth describes it.
#[derive(Debug, Clone, Serialize)]
pub struct TruthRep {
    pub start_s: f64,
    pub end_s: f64,
    pub bottom_s: f64,
    /// Expected fault name, or `None` for a good rep.
    pub fault: Option<String>,
}

/// A clip of the footage set.
#[derive(Debug, Clone, Serialize)]
pub struct Clip {
    pub name: String,
    pub video: PathBuf,
    pub truth_csv: PathBuf,
    pub variant: String,
    pub reps: usize,
    pub reps_detail: Vec<TruthRep>,
    /// Labels that are 1 somewhere in the clip (`fault_set` of its metadata), when given.
    pub fault_set: Option<BTreeSet<String>>,
    /// The rendered body (`body_id`), when given.
    pub body: Option<String>,
    /// The camera's angle off a true side view (`camera.view_deg` of the
    /// metadata: + toward the person's front), when given, °.
    pub view_deg: Option<f64>,
}

impl Clip {
    /// The faults the clip is built to show: those of its reps for a practice
    /// set, its labels (`fault_set`) where the metadata has them, else the
    /// variant's fault (good/idle: none).
    pub fn expected_faults(&self) -> BTreeSet<String> {
        if !self.reps_detail.is_empty() {
            return self.reps_detail.iter().filter_map(|r| r.fault.clone()).collect();
        }
        if let Some(set) = &self.fault_set {
            return set.clone();
        }
        variant_fault(&self.variant).into_iter().map(|f| f.name().to_string()).collect()
    }

    /// Whether the clip's fault set is scored (not for metrics-only variants).
    pub fn faults_scored(&self) -> bool {
        variant(&self.variant).is_none_or(|v| v.kind != VariantKind::MetricsOnly)
    }

    /// Whether the clip holds a standing tilt habit (a standing variant with a fault).
    pub fn is_standing_habit(&self) -> bool {
        variant(&self.variant).is_some_and(|v| v.kind == VariantKind::Standing && v.fault.is_some())
    }
}

/// The fault a variant is built to show ([`VARIANTS`]).
pub fn variant_fault(name: &str) -> Option<Fault> {
    variant(name).and_then(|v| v.fault)
}

fn read_json(path: &Path) -> Result<serde_json::Value, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|e| footage_err(path, e))?;
    serde_json::from_str(&text).map_err(|e| footage_err(path, e))
}

fn truth_reps(v: &serde_json::Value) -> Vec<TruthRep> {
    v.get("reps_detail")
        .and_then(|r| r.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    let f = |k: &str| r.get(k).and_then(|x| x.as_f64());
                    let fault = r.get("expected_fault").and_then(|x| x.as_str()).filter(|s| *s != "none");
                    Some(TruthRep {
                        start_s: f("start_s")?,
                        end_s: f("end_s")?,
                        bottom_s: f("bottom_s")?,
                        fault: fault.map(str::to_string),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn clip_from_json(dir: &Path, v: &serde_json::Value, stem: &str) -> Option<Clip> {
    let name = v.get("clip").and_then(|x| x.as_str()).unwrap_or(stem).to_string();
    let video = dir.join(v.get("video").and_then(|x| x.as_str()).map_or(format!("{stem}.mp4"), str::to_string));
    let truth_csv = dir.join(v.get("truth_csv").and_then(|x| x.as_str()).map_or(format!("{stem}.csv"), str::to_string));
    Some(Clip {
        name,
        video,
        truth_csv,
        variant: v.get("variant").and_then(|x| x.as_str()).unwrap_or("unknown").to_string(),
        reps: v.get("reps").and_then(|x| x.as_u64())? as usize,
        reps_detail: truth_reps(v),
        fault_set: v
            .get("fault_set")
            .and_then(|x| x.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()),
        body: v.get("body_id").and_then(|x| x.as_str()).map(str::to_string),
        view_deg: v.get("camera").and_then(|c| c.get("view_deg")).and_then(|x| x.as_f64()).filter(|x| x.is_finite()),
    })
}

/// Lists the clips of a footage directory: from `manifest.json`, or every
/// `*.mp4` with a sibling `.csv` and `.meta.json`.
pub fn discover(dir: &Path) -> Result<Vec<Clip>, EvalError> {
    let manifest = dir.join("manifest.json");
    let mut clips = Vec::new();
    if manifest.is_file() {
        let m = read_json(&manifest)?;
        for c in m.get("clips").and_then(|c| c.as_array()).into_iter().flatten() {
            let stem = c.get("clip").and_then(|x| x.as_str()).unwrap_or_default().to_string();
            match clip_from_json(dir, c, &stem) {
                Some(clip) => clips.push(clip),
                None => return Err(footage_err(&manifest, format!("clip `{stem}` has no `reps`"))),
            }
        }
    } else {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| footage_err(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "mp4"))
            .collect();
        entries.sort();
        for video in entries {
            let stem = video.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            let meta = dir.join(format!("{stem}.meta.json"));
            if !meta.is_file() || !dir.join(format!("{stem}.csv")).is_file() {
                continue;
            }
            let v = read_json(&meta)?;
            clips.push(clip_from_json(dir, &v, &stem).ok_or_else(|| footage_err(&meta, "no `reps`"))?);
        }
    }
    if clips.is_empty() {
        return Err(footage_err(dir, "no clips found (need manifest.json or *.mp4 with .csv and .meta.json)"));
    }
    Ok(clips)
}

/// Refuses clips of the same name among every set given: scored twice, a clip
/// would weigh twice in every figure, and its outputs (`--out`) and readings
/// (`--spine-readings`) are found by its name.
pub fn check_unique_names(clips: &[Clip]) -> Result<(), EvalError> {
    let mut seen: BTreeMap<&str, &Path> = BTreeMap::new();
    for c in clips {
        if let Some(first) = seen.insert(&c.name, &c.video) {
            return Err(footage_err(&c.video, format!("clip `{}` is listed twice (also {})", c.name, first.display())));
        }
    }
    Ok(())
}

/// Truth values of one frame, in [`SCORED`] order.
pub type TruthRow = [Option<f64>; SCORED.len()];

/// The truth of a clip: per-frame metric values and the times at which the
/// load is far by the factory's geometric rule.
#[derive(Debug, Clone, Default)]
pub struct Truth {
    pub rows: BTreeMap<u64, TruthRow>,
    /// Times (s) of the frames where the load is far: the CSV's own `load_far`
    /// label, or, for footage rendered before that label existed, the same
    /// rule applied to its wrists (hinge depth ≥ 0.5 and the mid-wrists more
    /// than [`LOAD_FAR_TRUTH_M`] in front of the mid-ankles).
    pub load_far_times: Vec<f64>,
    /// Times (s) at which a rep's descent begins: each frame whose `phase` is
    /// `descending` right after a `standing` one (empty without a `phase`
    /// column; the wiggle clips' `moving` is no descent).
    pub rep_onsets_s: Vec<f64>,
}

/// The factory's `load_far` rule: hands more than this far in front of the ankles, m.
pub const LOAD_FAR_TRUTH_M: f64 = 0.25;
/// ... at this hinge depth or deeper.
pub const LOAD_FAR_TRUTH_DEPTH: f64 = 0.5;
/// Shortest time a truth label must hold to count for a clip or a rep, s.
pub const MIN_LABEL_S: f64 = 0.2;

impl Truth {
    /// Seconds of `load_far` frames between `from_s` and `to_s`.
    fn load_far_s(&self, from_s: f64, to_s: f64, frame_s: f64) -> f64 {
        self.load_far_times.iter().filter(|t| (from_s..=to_s).contains(*t)).count() as f64 * frame_s
    }

    /// Does the truth say the load is far during `from_s..=to_s` (for at
    /// least [`MIN_LABEL_S`]) in footage of `fps` frames a second? The rule
    /// `hinge eval` scores a rep's `load_far` against.
    fn load_is_far(&self, from_s: f64, to_s: f64, fps: f64) -> bool {
        self.load_far_s(from_s, to_s, 1.0 / fps.max(1.0)) >= MIN_LABEL_S
    }
}

/// Reads a truth CSV into per-frame metric values (derived as in metrics.md).
pub fn read_truth(path: &Path) -> Result<Truth, EvalError> {
    let mut r = csv::Reader::from_path(path).map_err(|e| footage_err(path, e))?;
    let headers = r.headers().map_err(|e| footage_err(path, e))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let need = |name: &str| col(name).ok_or_else(|| footage_err(path, format!("no column `{name}`")));
    let frame = need("frame")?;
    let trunk = need("trunk_incl_deg")?;
    let (tl, tr) = (need("trunk_thigh_angle3d_L")?, need("trunk_thigh_angle3d_R")?);
    let (kl, kr) = (need("knee_angle3d_L")?, need("knee_angle3d_R")?);
    let others = [
        col("hip_flexion_deg"),
        col("lumbar_flexion_deg"),
        col("pelvic_tilt_deg"),
        col("ribcage_pelvis_deg"),
        col("hands_ankle_fwd_m"),
    ];
    let (time, depth, label) = (col("time_s"), col("hinge_depth"), col("load_far"));
    let phase = col("phase");
    let mut was_standing = false;
    let wrists_ankles = [col("wrist_L_Y"), col("wrist_R_Y"), col("ankle_L_Y"), col("ankle_R_Y")];
    // every column read besides the frame: an empty cell is no truth, anything else must be a number
    let read: Vec<usize> = [trunk, tl, tr, kl, kr]
        .into_iter()
        .chain(others.into_iter().chain([time, depth, label]).chain(wrists_ankles).flatten())
        .collect();
    let mut out = Truth::default();
    for (line, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| footage_err(path, e))?;
        let cell = |i: usize| rec.get(i).unwrap_or_default().trim();
        let Ok(f) = cell(frame).parse::<u64>() else {
            return Err(footage_err(
                path,
                format!("row {}: `frame` is not a non-negative integer: `{}`", line + 2, cell(frame)),
            ));
        };
        if let Some(&i) =
            read.iter().find(|&&i| !cell(i).is_empty() && !cell(i).parse::<f64>().is_ok_and(f64::is_finite))
        {
            return Err(footage_err(
                path,
                format!("row {}: `{}` is not a finite number: `{}`", line + 2, &headers[i], cell(i)),
            ));
        }
        let num = |i: usize| cell(i).parse::<f64>().ok();
        let far = match label {
            Some(l) => num(l).map(|x| x >= 0.5),
            None => match (depth.and_then(num), wrists_ankles.map(|c| c.and_then(num))) {
                // forward is -Y in the factory's world
                (Some(d), [Some(wl), Some(wr), Some(al), Some(ar)]) => {
                    Some(d >= LOAD_FAR_TRUTH_DEPTH && (al + ar) / 2.0 - (wl + wr) / 2.0 > LOAD_FAR_TRUTH_M)
                }
                _ => None,
            },
        };
        if far == Some(true) {
            out.load_far_times.extend(time.and_then(num));
        }
        if let Some(p) = phase.map(cell).filter(|p| !p.is_empty()) {
            if was_standing && p == "descending" {
                out.rep_onsets_s.extend(time.and_then(num));
            }
            was_standing = p == "standing";
        }
        let mean = |a: usize, b: usize| match (num(a), num(b)) {
            (Some(x), Some(y)) => Some(180.0 - (x + y) / 2.0),
            _ => None,
        };
        let o = |k: usize| others[k].and_then(num);
        let row = [num(trunk), mean(tl, tr), mean(kl, kr), o(0), o(1), o(2), o(3), o(4).map(|m| 100.0 * m)];
        if out.rows.insert(f, row).is_some() {
            return Err(footage_err(path, format!("row {}: frame {f} is given twice", line + 2)));
        }
    }
    if out.rows.is_empty() {
        return Err(footage_err(path, "no data rows (a header only)"));
    }
    Ok(out)
}

/// Error sums of one metric: for the mean absolute error, the bias and its
/// spread, and what predicting zero everywhere would score.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ErrorSum {
    pub n: usize,
    pub sum_abs: f64,
    pub sum: f64,
    pub sum_sq: f64,
    /// Sum of |truth|: the zero predictor's absolute error.
    pub sum_abs_truth: f64,
}

impl ErrorSum {
    /// Adds one frame's value and truth.
    pub fn add(&mut self, value: f64, truth: f64) {
        let e = value - truth;
        self.n += 1;
        self.sum_abs += e.abs();
        self.sum += e;
        self.sum_sq += e * e;
        self.sum_abs_truth += truth.abs();
    }
    pub fn merge(&mut self, o: &ErrorSum) {
        self.n += o.n;
        self.sum_abs += o.sum_abs;
        self.sum += o.sum;
        self.sum_sq += o.sum_sq;
        self.sum_abs_truth += o.sum_abs_truth;
    }
    pub fn mae(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum_abs / self.n as f64)
    }
    /// Mean signed error.
    pub fn bias(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
    /// Standard deviation of the error.
    pub fn sd(&self) -> Option<f64> {
        let b = self.bias()?;
        Some((self.sum_sq / self.n as f64 - b * b).max(0.0).sqrt())
    }
    /// MAE of predicting zero on every frame.
    pub fn zero_mae(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum_abs_truth / self.n as f64)
    }
}

/// One practice-set rep, scored.
#[derive(Debug, Clone, Serialize)]
pub struct RepScore {
    pub truth_index: usize,
    /// Our rep matched by time (1-based), if any.
    pub matched: Option<usize>,
    /// The faults the rep is built to show (empty for a good rep).
    pub expected: Vec<String>,
    pub found: Vec<String>,
    pub ok: bool,
}

/// Scores of one clip.
#[derive(Debug, Clone, Serialize)]
pub struct ClipScore {
    pub clip: Clip,
    pub frames: usize,
    pub frames_with_person: usize,
    /// Per metric in [`SCORED`] order: errors over frames with a person and a truth value.
    pub errors: [ErrorSum; SCORED.len()],
    /// Frames with a person where the metric had no value (counted missing).
    pub missing: [usize; SCORED.len()],
    pub reps_found: usize,
    pub faults_found: BTreeSet<String>,
    pub faults_expected: BTreeSet<String>,
    pub rep_scores: Vec<RepScore>,
    /// Each rep's start against the truth's descent onset ([`rep_starts_against_onsets`]).
    #[serde(skip)]
    pub rep_start_s: RepStarts,
    pub seconds: f64,
}

impl ClipScore {
    pub fn detection_rate(&self) -> f64 {
        self.frames_with_person as f64 / self.frames.max(1) as f64
    }
    pub fn reps_ok(&self) -> bool {
        self.reps_found == self.clip.reps
    }
    pub fn faults_ok(&self) -> bool {
        self.faults_found == self.faults_expected
    }
    /// Whether the clip's fault set counts (single-variant, not metrics-only).
    pub fn faults_scored(&self) -> bool {
        self.clip.reps_detail.is_empty() && self.clip.faults_scored()
    }
}

/// Scores an analysis against its clip's truth.
pub fn score(clip: &Clip, a: &Analysis, truth: &Truth) -> ClipScore {
    let frame_s = 1.0 / a.info.fps.max(1.0);
    let mut errors = [ErrorSum::default(); SCORED.len()];
    let mut missing = [0usize; SCORED.len()];
    for f in a.frames.iter().filter(|f| f.landmarks.is_some()) {
        let Some(t) = truth.rows.get(&f.index) else { continue };
        for (k, m) in SCORED.iter().enumerate() {
            match (m.of(&f.metrics), t[k]) {
                (Some(v), Some(tv)) => errors[k].add(v, tv),
                (None, Some(_)) => missing[k] += 1,
                _ => {}
            }
        }
    }
    let mut faults_found: BTreeSet<String> = a.clip_faults.iter().map(|f| f.name().to_string()).collect();
    for r in &a.reps {
        faults_found.extend(r.faults.iter().map(|f| f.name().to_string()));
    }
    let rep_scores = clip
        .reps_detail
        .iter()
        .enumerate()
        .map(|(i, tr)| {
            // our rep whose bottom lies inside the truth rep, else the largest overlap
            let overlap = |s: f64, e: f64| (e.min(tr.end_s) - s.max(tr.start_s)).max(0.0);
            let m = a
                .reps
                .iter()
                .filter(|r| overlap(r.start_s, r.end_s) > 0.0)
                .max_by(|x, y| overlap(x.start_s, x.end_s).total_cmp(&overlap(y.start_s, y.end_s)));
            let found: Vec<String> =
                m.map(|r| r.faults.iter().map(|f| f.name().to_string()).collect()).unwrap_or_default();
            let mut expected_set: BTreeSet<String> = tr.fault.iter().cloned().collect();
            if truth.load_is_far(tr.start_s, tr.end_s, a.info.fps) {
                expected_set.insert(Fault::LoadFar.name().to_string());
            }
            let found_set: BTreeSet<String> = found.iter().cloned().collect();
            RepScore {
                truth_index: i + 1,
                matched: m.map(|r| r.index),
                ok: m.is_some() && expected_set == found_set,
                expected: expected_set.into_iter().collect(),
                found,
            }
        })
        .collect();
    ClipScore {
        clip: clip.clone(),
        frames: a.frames.len(),
        frames_with_person: a.frames_with_person(),
        errors,
        missing,
        reps_found: a.reps.len(),
        faults_found,
        faults_expected: {
            let mut e = clip.expected_faults();
            // footage without its own labels: the load is far where the factory's rule says so
            if clip.fault_set.is_none() && truth.load_far_s(f64::NEG_INFINITY, f64::INFINITY, frame_s) >= MIN_LABEL_S {
                e.insert(Fault::LoadFar.name().to_string());
            }
            e
        },
        rep_scores,
        rep_start_s: rep_starts_against_onsets(
            a.reps.iter().map(|r| (r.start_s, r.bottom_s, r.end_s)),
            &truth.rep_onsets_s,
        ),
        seconds: a.timing.total.as_secs_f64(),
    }
}

/// Each rep's start against the truth's descent onset it belongs to: the
/// onset nearest the rep's start among those after the previous rep's end and
/// before the rep's deepest point (an onset can belong to one rep only, and a
/// rep with none there, such as a clip that opens mid-rep, is counted apart).
/// Footage without onsets (no `phase` column) scores nothing.
/// Each rep is given as `(start_s, bottom_s, end_s)`, in time order.
pub fn rep_starts_against_onsets(reps: impl IntoIterator<Item = (f64, f64, f64)>, onsets_s: &[f64]) -> RepStarts {
    let mut out = RepStarts::default();
    if onsets_s.is_empty() {
        return out;
    }
    let mut after_s = f64::NEG_INFINITY;
    for (start_s, bottom_s, end_s) in reps {
        let nearest = onsets_s
            .iter()
            .filter(|&&t| t > after_s && t <= bottom_s)
            .min_by(|x, y| (*x - start_s).abs().total_cmp(&(*y - start_s).abs()));
        match nearest {
            Some(&t) => out.error_s.add(start_s, t),
            None => out.without_onset += 1,
        }
        after_s = end_s;
    }
    out
}

/// Reps' starts against the truth's descent onsets (one clip, or pooled).
#[derive(Debug, Clone, Copy, Default)]
pub struct RepStarts {
    /// Start − onset over the reps given an onset, s.
    pub error_s: ErrorSum,
    /// Reps with no onset of their own in the truth.
    pub without_onset: usize,
}

impl RepStarts {
    pub fn merge(&mut self, o: &RepStarts) {
        self.error_s.merge(&o.error_s);
        self.without_onset += o.without_onset;
    }
}

/// Where an evaluation writes besides its scores.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvalOutputs<'a> {
    /// Each clip's report files go to `DIR/<clip>/`.
    pub out_dir: Option<&'a Path>,
    /// Spine readings made elsewhere, `DIR/<clip>.spine_readings.csv`, used
    /// instead of the model (cross-validated readings, `tools/spine/`).
    pub readings_dir: Option<&'a Path>,
}

/// Writes the spine model's inputs of every clip under `dir` (see
/// [`dump_spine_inputs`]), spread over the estimators, without scoring:
/// the training data of the spine model (`tools/spine/`), which must not
/// depend on a spine model being there.
pub fn dump_spine_set(clips: &[Clip], estimators: Vec<PoseEstimator>, dir: &Path) -> Result<(), EvalError> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<(), EvalError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = estimators
            .into_iter()
            .map(|mut est| {
                let next = &next;
                scope.spawn(move || -> Result<(), EvalError> {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(clip) = clips.get(i) else { return Ok(()) };
                        let analyze_err = |source| EvalError::Analyze { path: clip.video.clone(), source };
                        let source =
                            VideoSource::open_file(&clip.video).map_err(|e| analyze_err(e.into()))?.prefetch(2);
                        let observation = observe_source(source, &mut est, &mut |_, _| {}).map_err(analyze_err)?;
                        dump_spine_inputs(&observation, &dir.join(&clip.name)).map_err(|e| footage_err(dir, e))?;
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("dump worker panicked")).collect()
    });
    results.into_iter().collect()
}

/// Analyses and scores one clip.
pub fn evaluate_clip(
    clip: &Clip,
    estimator: &mut PoseEstimator,
    spine: &dyn SpineReader,
    config: &Config,
    outputs: EvalOutputs,
) -> Result<(ClipScore, Analysis), EvalError> {
    let truth = read_truth(&clip.truth_csv)?;
    let analyze_err = |source| EvalError::Analyze { path: clip.video.clone(), source };
    let source = VideoSource::open_file(&clip.video).map_err(|e| analyze_err(e.into()))?.prefetch(2);
    let observation = observe_source(source, estimator, &mut |_, _| {}).map_err(analyze_err)?;
    let fixed: FixedReadings;
    let spine: &dyn SpineReader = match outputs.readings_dir {
        Some(d) => {
            let p = d.join(format!("{}.spine_readings.csv", clip.name));
            fixed = FixedReadings::from_csv(&p).map_err(|e| footage_err(&e.path, e.reason))?;
            &fixed
        }
        None => spine,
    };
    let a = observation
        .interpret(&clip.video.display().to_string(), estimator.files().label.clone(), spine, config.rules())
        .map_err(analyze_err)?;
    let out_dir = outputs.out_dir;
    if let Some(dir) = out_dir {
        let d = dir.join(&clip.name);
        crate::report::write_outputs(&a, &d).map_err(EvalError::Report)?;
        let features = d.join("features.csv");
        write_features(&a, &features).map_err(|e| footage_err(&features, e))?;
    }
    Ok((score(clip, &a, &truth), a))
}

/// Writes the spine model's inputs of every frame that has them:
/// `PREFIX.spine_frames.npy` (i64 frame indices), `PREFIX.spine_crops.npy`
/// (u8, N x rows x cols, oriented), `PREFIX.spine_scalars.npy` (f32, N x
/// scalars), `PREFIX.spine_profiles.npy` (f32, N x 4 x stations) and
/// `PREFIX.spine_axes.npy` (f32, N x 5: mid-hip x, y and mid-shoulder x, y in
/// frame pixels, and the dorsal side's sign), which places the truth's spine
/// and pelvis points in the torso frame for training.
pub fn dump_spine_inputs(obs: &Observation, prefix: &Path) -> std::io::Result<()> {
    use crate::kinematics::spine_input::{CROP_COLS, CROP_ROWS, SCALAR_COUNT};
    let bodies: Vec<Option<&BodyFrame>> = obs.bodies.iter().map(|o| o.body.as_ref()).collect();
    let Some(view) = ClipView::estimate(bodies.iter().flatten().copied()) else {
        return npy::write_all(prefix, &[], &[], &[], &[], &[]);
    };
    let features: Vec<_> =
        bodies.iter().map(|b| b.map(|b| kinematics::measure(b, &view).1).unwrap_or_default()).collect();
    let inputs = kinematics::spine_inputs(&bodies, &view, &features);
    let (mut frames, mut crops, mut scalars, mut profiles) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut axes: Vec<f32> = Vec::new();
    let dorsal = kinematics::spine_input::dorsal_sign(view.facing);
    for ((o, input), b) in obs.bodies.iter().zip(&inputs).zip(&bodies) {
        if let (Some(x), Some(crop)) = (input, b.and_then(|b| b.crop.as_ref())) {
            frames.push(o.index as i64);
            crops.extend(x.crop.iter().map(|p| (p * 255.0).round() as u8));
            scalars.extend_from_slice(&x.scalars);
            profiles.extend_from_slice(&x.profile);
            // the torso frame in pixels, for placing the truth's spine points in it (training targets)
            axes.extend(
                [crop.hip_px.x, crop.hip_px.y, crop.shoulder_px.x, crop.shoulder_px.y, dorsal].map(|v| v as f32),
            );
        }
    }
    debug_assert_eq!(crops.len(), frames.len() * CROP_ROWS * CROP_COLS);
    debug_assert_eq!(scalars.len(), frames.len() * SCALAR_COUNT);
    npy::write_all(prefix, &frames, &crops, &scalars, &profiles, &axes)
}

/// Minimal writer of NumPy `.npy` files (format 1.0, little-endian, C order).
mod npy {
    use crate::kinematics::spine_input::{CROP_COLS, CROP_ROWS, PROFILE_STATIONS, SCALAR_COUNT};
    use std::io::Write;
    use std::path::Path;

    fn write(path: &Path, descr: &str, shape: &[usize], data: &[u8]) -> std::io::Result<()> {
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
        let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        // magic (6) + version (2) + header length (2) + header + '\n' is a multiple of 64
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
        f.write_all(b"\x93NUMPY\x01\x00")?;
        f.write_all(&(header.len() as u16).to_le_bytes())?;
        f.write_all(header.as_bytes())?;
        f.write_all(data)?;
        f.flush()
    }

    pub fn write_all(
        prefix: &Path,
        frames: &[i64],
        crops: &[u8],
        scalars: &[f32],
        profiles: &[f32],
        axes: &[f32],
    ) -> std::io::Result<()> {
        let with = |suffix: &str| {
            let mut p = prefix.as_os_str().to_owned();
            p.push(suffix);
            std::path::PathBuf::from(p)
        };
        let n = frames.len();
        let fb: Vec<u8> = frames.iter().flat_map(|x| x.to_le_bytes()).collect();
        write(&with(".spine_frames.npy"), "<i8", &[n], &fb)?;
        write(&with(".spine_crops.npy"), "|u1", &[n, CROP_ROWS, CROP_COLS], crops)?;
        let sb: Vec<u8> = scalars.iter().flat_map(|x| x.to_le_bytes()).collect();
        write(&with(".spine_scalars.npy"), "<f4", &[n, SCALAR_COUNT], &sb)?;
        let pb: Vec<u8> = profiles.iter().flat_map(|x| x.to_le_bytes()).collect();
        write(&with(".spine_profiles.npy"), "<f4", &[n, 4, PROFILE_STATIONS], &pb)?;
        let ab: Vec<u8> = axes.iter().flat_map(|x| x.to_le_bytes()).collect();
        write(&with(".spine_axes.npy"), "<f4", &[n, 5], &ab)
    }
}

/// Debug dump of the intermediate per-frame measurements.
fn write_features(a: &Analysis, path: &Path) -> std::io::Result<()> {
    use std::fmt::Write as _;
    let mut s = String::from("frame,trunk_lean_deg,thigh_deg,shank_deg,dorsal\n");
    let c = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_default();
    for f in &a.frames {
        let dorsal: Vec<String> = f.features.dorsal.iter().map(|(t, x, y)| format!("{t:.2}:{x:.4}:{y:.4}")).collect();
        let g = &f.features;
        let _ = writeln!(
            s,
            "{},{},{},{},{}",
            f.index,
            c(g.trunk_lean_deg),
            c(g.thigh_deg),
            c(g.shank_deg),
            dorsal.join(" ")
        );
    }
    std::fs::write(path, s)
}

/// `ok` of `of`: a count of successes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub ok: usize,
    pub of: usize,
}

impl Tally {
    fn count<T>(items: impl IntoIterator<Item = T>, ok: impl Fn(&T) -> bool) -> Tally {
        items.into_iter().fold(Tally::default(), |t, x| Tally { ok: t.ok + usize::from(ok(&x)), of: t.of + 1 })
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.ok, self.of)
    }
}

/// How one fault fares over a set's scored cases (single-variant clips and
/// practice-set reps): how often it is found where the case shows it, and
/// how often it is reported where the case does not.
#[derive(Debug, Clone, Serialize)]
pub struct FaultTally {
    pub fault: &'static str,
    /// Cases built to show the fault, and of them those in which hinge reported it.
    pub found_where_shown: Tally,
    /// Cases built without the fault, and of them those in which hinge reported it.
    pub reported_where_absent: Tally,
}

impl FaultTally {
    /// The tally of `fault` over cases given as (expected, found) fault names.
    fn of<'a>(fault: Fault, cases: impl IntoIterator<Item = (&'a [String], &'a [String])> + Clone) -> FaultTally {
        let has = |names: &[String]| names.iter().any(|n| n == fault.name());
        FaultTally {
            fault: fault.name(),
            found_where_shown: Tally::count(cases.clone().into_iter().filter(|(e, _)| has(e)), |(_, f)| has(f)),
            reported_where_absent: Tally::count(cases.into_iter().filter(|(e, _)| !has(e)), |(_, f)| has(f)),
        }
    }
}

/// One metric's accuracy over every frame of a set (error = hinge − truth).
#[derive(Debug, Clone, Serialize)]
pub struct MetricSummary {
    pub metric: &'static str,
    /// Frames with a person, a value and a truth.
    pub frames: usize,
    pub mae: f64,
    pub bias: f64,
    pub sd: f64,
    /// MAE of predicting zero on the same frames.
    pub zero_mae: f64,
    /// Issue 13's target ([`TARGET_MAE`]), where it sets one.
    pub target_mae: Option<f64>,
    /// Frames with a person and a truth where hinge left the metric empty.
    pub frames_without_value: usize,
}

/// The figures of a whole set: what the table prints and `--json` carries, so
/// that every reader (the test suite, `tools/accuracy_table.py`) takes the
/// same numbers instead of aggregating the clips again.
#[derive(Debug, Clone, Serialize)]
pub struct EvalSummary {
    pub clips: usize,
    /// Distinct bodies among the clips (those whose metadata names one).
    pub bodies: usize,
    pub frames: usize,
    pub frames_with_person: usize,
    /// Per scored metric with at least one frame, in [`SCORED`] order.
    pub metrics: Vec<MetricSummary>,
    /// Clips whose rep count is exact.
    pub rep_count_exact: Tally,
    /// Single-variant clips (not metrics-only, not practice sets) whose fault set is exact.
    pub fault_set_exact: Tally,
    /// The same clips scored for the trivial predictor "no fault".
    pub fault_set_no_fault_predictor: Tally,
    /// `fault_set_exact` over the clips filmed side-on (camera at most
    /// [`SIDE_ON_MAX_OBLIQUITY_DEG`] off the side view, from the clip's metadata).
    pub fault_set_exact_side_on: Tally,
    /// `fault_set_exact` over the clips filmed more obliquely than that.
    pub fault_set_exact_oblique: Tally,
    /// Per fault of the registry, over the single-variant clips and the practice-set reps.
    pub per_fault: Vec<FaultTally>,
    /// Practice-set reps with exactly the right faults.
    pub practice_reps_right: Tally,
    /// Clips of a standing-habit variant ([`Clip::is_standing_habit`]) whose fault set is exact.
    pub standing_habits_found: Tally,
    /// Rep starts against the truth's descent onsets, s: `None` without reps to pair.
    pub rep_start_s: Option<RepTiming>,
    pub analysis_s: f64,
}

/// How far the reps' starts lie from where the truth's descents begin.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RepTiming {
    /// Reps paired with a truth onset.
    pub reps: usize,
    /// Reps found with no truth onset of their own (a false rep, a clip that opens mid-rep).
    pub reps_without_onset: usize,
    /// Mean absolute error, s.
    pub mae: f64,
    /// Mean signed error, s (positive: the rep starts late).
    pub bias: f64,
    pub sd: f64,
}

impl RepTiming {
    fn of(starts: &RepStarts) -> Option<RepTiming> {
        let e = &starts.error_s;
        Some(RepTiming {
            reps: e.n,
            reps_without_onset: starts.without_onset,
            mae: e.mae()?,
            bias: e.bias()?,
            sd: e.sd()?,
        })
    }
}

impl EvalSummary {
    fn of(clips: &[ClipScore]) -> EvalSummary {
        let mut pooled = [ErrorSum::default(); SCORED.len()];
        for c in clips {
            for (o, e) in pooled.iter_mut().zip(&c.errors) {
                o.merge(e);
            }
        }
        let metrics = SCORED
            .iter()
            .enumerate()
            .filter_map(|(k, m)| {
                let e = &pooled[k];
                Some(MetricSummary {
                    metric: m.name(),
                    frames: e.n,
                    mae: e.mae()?,
                    bias: e.bias()?,
                    sd: e.sd()?,
                    zero_mae: e.zero_mae()?,
                    target_mae: TARGET_MAE[k],
                    frames_without_value: clips.iter().map(|c| c.missing[k]).sum(),
                })
            })
            .collect();
        let single: Vec<&ClipScore> = clips.iter().filter(|c| c.faults_scored()).collect();
        let side_on = |c: &&&ClipScore| c.clip.view_deg.is_some_and(|v| v.abs() <= SIDE_ON_MAX_OBLIQUITY_DEG);
        let oblique = |c: &&&ClipScore| c.clip.view_deg.is_some_and(|v| v.abs() > SIDE_ON_MAX_OBLIQUITY_DEG);
        let clip_sets: Vec<(Vec<String>, Vec<String>)> = single
            .iter()
            .map(|c| (c.faults_expected.iter().cloned().collect(), c.faults_found.iter().cloned().collect()))
            .collect();
        let cases = clip_sets
            .iter()
            .map(|(e, f)| (e.as_slice(), f.as_slice()))
            .chain(clips.iter().flat_map(|c| &c.rep_scores).map(|r| (r.expected.as_slice(), r.found.as_slice())));
        let bodies: BTreeSet<&str> = clips.iter().filter_map(|c| c.clip.body.as_deref()).collect();
        EvalSummary {
            clips: clips.len(),
            bodies: bodies.len(),
            frames: clips.iter().map(|c| c.frames).sum(),
            frames_with_person: clips.iter().map(|c| c.frames_with_person).sum(),
            metrics,
            rep_count_exact: Tally::count(clips, |c| c.reps_ok()),
            fault_set_exact: Tally::count(&single, |c| c.faults_ok()),
            fault_set_no_fault_predictor: Tally::count(&single, |c| c.faults_expected.is_empty()),
            fault_set_exact_side_on: Tally::count(single.iter().filter(side_on), |c| c.faults_ok()),
            fault_set_exact_oblique: Tally::count(single.iter().filter(oblique), |c| c.faults_ok()),
            per_fault: Fault::ALL.into_iter().map(|f| FaultTally::of(f, cases.clone())).collect(),
            practice_reps_right: Tally::count(clips.iter().flat_map(|c| &c.rep_scores), |r| r.ok),
            standing_habits_found: Tally::count(single.iter().filter(|c| c.clip.is_standing_habit()), |c| {
                c.faults_ok()
            }),
            rep_start_s: {
                let mut pooled = RepStarts::default();
                clips.iter().for_each(|c| pooled.merge(&c.rep_start_s));
                RepTiming::of(&pooled)
            },
            analysis_s: clips.iter().map(|c| c.seconds).sum(),
        }
    }

    /// The metric's figures, if the set has any frame of it.
    pub fn metric(&self, name: &str) -> Option<&MetricSummary> {
        self.metrics.iter().find(|m| m.metric == name)
    }
}

/// Scores of a whole footage set: the summary, then every clip.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub summary: EvalSummary,
    pub clips: Vec<ClipScore>,
}

impl EvalReport {
    pub fn new(clips: Vec<ClipScore>) -> EvalReport {
        EvalReport { summary: EvalSummary::of(&clips), clips }
    }

    /// Human-readable table: one line per clip, then the summary with its targets.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let short = ["trunk", "hip", "knee", "hipflx", "lumbar", "tilt", "rib", "load"];
        let _ = write!(s, "{:<52} {:>5}", "clip", "det%");
        for h in short {
            let _ = write!(s, " {h:>6}");
        }
        let _ = writeln!(s, "  reps  faults (found / expected)");
        let mae = |e: &ErrorSum| e.mae().map_or("-".to_string(), |m| format!("{m:.1}"));
        for c in &self.clips {
            let _ = write!(s, "{:<52} {:>5.1}", c.clip.name, 100.0 * c.detection_rate());
            for e in &c.errors {
                let _ = write!(s, " {:>6}", mae(e));
            }
            let set = |x: &BTreeSet<String>| {
                if x.is_empty() {
                    "none".to_string()
                } else {
                    x.iter().cloned().collect::<Vec<_>>().join("+")
                }
            };
            let mark = if !c.faults_scored() || c.faults_ok() { "" } else { " ✗" };
            let _ = writeln!(
                s,
                "  {}/{}{} {} / {}{}{}",
                c.reps_found,
                c.clip.reps,
                if c.reps_ok() { " " } else { "✗" },
                set(&c.faults_found),
                set(&c.faults_expected),
                mark,
                if c.clip.faults_scored() { "" } else { " (metrics only)" }
            );
            for r in &c.rep_scores {
                let _ = writeln!(
                    s,
                    "    rep {} → ours {}: expected {}, found {}{}",
                    r.truth_index,
                    r.matched.map_or("-".to_string(), |m| m.to_string()),
                    if r.expected.is_empty() { "none".to_string() } else { r.expected.join("+") },
                    if r.found.is_empty() { "none".to_string() } else { r.found.join("+") },
                    if r.ok { "" } else { " ✗" }
                );
            }
        }
        let sum = &self.summary;
        let _ = writeln!(
            s,
            "\nOver all frames with a person ({} clips{}); error = hinge − truth:",
            sum.clips,
            if sum.bodies == 0 { String::new() } else { format!(", {} bodies", sum.bodies) }
        );
        let _ = writeln!(s, "  {:<20} {:>7} {:>16} {:>10} {:>8}", "metric", "MAE", "bias ± SD", "zero pred.", "target");
        for m in &sum.metrics {
            let target = match m.target_mae {
                Some(t) => format!("≤ {t:.1} {}", if m.mae <= t { "ok" } else { "MISS" }),
                None => String::new(),
            };
            let missing = m.frames_without_value;
            let _ = writeln!(
                s,
                "  {:<20} {:>7.2} {:>+8.2} ± {:<5.2} {:>10.2} {:>10}{}",
                m.metric,
                m.mae,
                m.bias,
                m.sd,
                m.zero_mae,
                target,
                if missing > 0 { format!("  ({missing} frames without a value)") } else { String::new() }
            );
        }
        let _ = writeln!(
            s,
            "  person found          {}/{} frames ({:.2}%)",
            sum.frames_with_person,
            sum.frames,
            100.0 * sum.frames_with_person as f64 / sum.frames.max(1) as f64
        );
        let _ = writeln!(s, "  rep count exact       {} clips", sum.rep_count_exact);
        if let Some(t) = sum.rep_start_s {
            let _ = writeln!(
                s,
                "  rep start             {:.2} s from the descent's onset (bias {:+.2} ± {:.2} s, {} reps{})",
                t.mae,
                t.bias,
                t.sd,
                t.reps,
                match t.reps_without_onset {
                    0 => String::new(),
                    n => format!("; {n} without an onset in the truth"),
                }
            );
        }
        let _ = writeln!(
            s,
            "  fault set exact       {} single-variant clips (predicting no fault: {})",
            sum.fault_set_exact, sum.fault_set_no_fault_predictor
        );
        if sum.fault_set_exact_side_on.of + sum.fault_set_exact_oblique.of > 0 {
            let _ = writeln!(
                s,
                "    by camera view      side-on (≤ {SIDE_ON_MAX_OBLIQUITY_DEG:.0}° off the side) {}, more oblique {}",
                sum.fault_set_exact_side_on, sum.fault_set_exact_oblique
            );
        }
        if sum.per_fault.iter().any(|f| f.found_where_shown.of + f.reported_where_absent.of > 0) {
            let _ = writeln!(s, "  per fault (single-variant clips and practice-set reps):");
            let _ = writeln!(s, "    {:<20} {:>16} {:>22}", "fault", "found where shown", "reported where absent");
            for f in &sum.per_fault {
                let _ = writeln!(
                    s,
                    "    {:<20} {:>16} {:>22}",
                    f.fault,
                    f.found_where_shown.to_string(),
                    f.reported_where_absent.to_string()
                );
            }
        }
        if sum.standing_habits_found.of > 0 {
            let _ = writeln!(s, "  standing habits found {} clips", sum.standing_habits_found);
        }
        if sum.practice_reps_right.of > 0 {
            let _ = writeln!(s, "  session reps right    {}", sum.practice_reps_right);
        }
        let _ = writeln!(
            s,
            "  analysis time         {:.1} s ({:.0} frames/s per worker)",
            sum.analysis_s,
            sum.frames as f64 / sum.analysis_s.max(1e-9)
        );
        s
    }
}

/// Evaluates every clip, spreading them over the given estimators (one
/// worker thread each). Clip order in the report is the discovery order.
pub fn evaluate(
    clips: &[Clip],
    estimators: Vec<PoseEstimator>,
    spine: &dyn SpineReader,
    config: &Config,
    outputs: EvalOutputs,
) -> Result<EvalReport, EvalError> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Vec<(usize, Result<ClipScore, EvalError>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = estimators
            .into_iter()
            .map(|mut est| {
                let next = &next;
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(clip) = clips.get(i) else { break };
                        done.push((i, evaluate_clip(clip, &mut est, spine, config, outputs).map(|r| r.0)));
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("eval worker panicked")).collect()
    });
    let mut all: Vec<(usize, Result<ClipScore, EvalError>)> = results.into_iter().flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    let clips = all.into_iter().map(|(_, r)| r).collect::<Result<Vec<_>, _>>()?;
    Ok(EvalReport::new(clips))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip_score(variant: &str, found: &[&str], rep_oks: &[bool], errors: &[(usize, f64, f64)]) -> ClipScore {
        let clip = Clip {
            name: format!("c_{variant}"),
            video: PathBuf::new(),
            truth_csv: PathBuf::new(),
            variant: variant.to_string(),
            reps: 2,
            reps_detail: rep_oks
                .iter()
                .map(|_| TruthRep { start_s: 0.0, end_s: 1.0, bottom_s: 0.5, fault: None })
                .collect(),
            fault_set: None,
            body: Some(format!("body_{}", variant.len() % 2)),
            view_deg: None,
        };
        let mut e = [ErrorSum::default(); SCORED.len()];
        for &(k, value, truth) in errors {
            e[k].add(value, truth);
        }
        ClipScore {
            faults_expected: clip.expected_faults(),
            clip,
            frames: 10,
            frames_with_person: 9,
            errors: e,
            missing: [1; SCORED.len()],
            reps_found: 2,
            faults_found: found.iter().map(|f| f.to_string()).collect(),
            rep_scores: rep_oks
                .iter()
                .enumerate()
                .map(|(i, &ok)| RepScore {
                    truth_index: i + 1,
                    matched: Some(i + 1),
                    expected: vec![],
                    found: vec![],
                    ok,
                })
                .collect(),
            // one rep started 0.2 s late, one 0.1 s early
            rep_start_s: {
                let mut t = RepStarts::default();
                t.error_s.add(1.2, 1.0);
                t.error_s.add(2.9, 3.0);
                t
            },
            seconds: 0.5,
        }
    }

    #[test]
    fn truth_files_are_refused_for_what_cannot_be_scored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let header = "frame,time_s,trunk_incl_deg,trunk_thigh_angle3d_L,trunk_thigh_angle3d_R,\
                      knee_angle3d_L,knee_angle3d_R,lumbar_flexion_deg\n";
        let read = |rows: &str| {
            std::fs::write(&path, format!("{header}{rows}")).unwrap();
            read_truth(&path)
        };
        // an empty cell is no truth for that metric
        let t = read("0,0.0,10,150,152,170,170,\n1,0.1,,150,152,170,170,3.5\n").unwrap();
        assert_eq!(t.rows[&0][0], Some(10.0));
        assert_eq!(t.rows[&0][1], Some(29.0));
        assert_eq!((t.rows[&0][4], t.rows[&1][0], t.rows[&1][4]), (None, None, Some(3.5)));
        for (rows, cause) in [
            (
                "0,0.0,10,150,152,170,170,1\n1,0.1,abc,150,152,170,170,1\n",
                "row 3: `trunk_incl_deg` is not a finite number: `abc`",
            ),
            ("0,0.0,10,150,152,170,nan,1\n", "row 2: `knee_angle3d_R` is not a finite number: `nan`"),
            ("0,0.0,10,150,152,170,170,inf\n", "row 2: `lumbar_flexion_deg` is not a finite number: `inf`"),
            ("0,x,10,150,152,170,170,1\n", "row 2: `time_s` is not a finite number: `x`"),
            ("-3,0.0,10,150,152,170,170,1\n", "row 2: `frame` is not a non-negative integer: `-3`"),
            (
                "0,0.0,10,150,152,170,170,1\nzz,0.1,10,150,152,170,170,1\n",
                "row 3: `frame` is not a non-negative integer: `zz`",
            ),
            ("1.5,0.0,10,150,152,170,170,1\n", "row 2: `frame` is not a non-negative integer: `1.5`"),
            (",0.0,10,150,152,170,170,1\n", "row 2: `frame` is not a non-negative integer: ``"),
            ("0,0.0,10,150,152,170,170,1\n0,0.1,10,150,152,170,170,1\n", "row 3: frame 0 is given twice"),
            ("", "no data rows"),
        ] {
            let err = read(rows).unwrap_err().to_string();
            assert!(err.starts_with(&format!("{}: {cause}", path.display())), "{rows:?}: {err}");
        }
    }

    #[test]
    fn a_truth_rep_begins_where_the_phase_leaves_standing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut csv = String::from(
            "frame,time_s,phase,trunk_incl_deg,trunk_thigh_angle3d_L,trunk_thigh_angle3d_R,knee_angle3d_L,knee_angle3d_R\n",
        );
        // a clip that starts mid-descent (no onset), then two reps with a pause between them, then a
        // wiggle (`moving`: no descent)
        let phases = ["descending", "ascending", "standing", "standing", "descending", "bottom", "ascending"];
        let phases = phases.iter().chain(&["standing", "descending", "ascending", "standing", "moving", "standing"]);
        for (f, p) in phases.enumerate() {
            csv += &format!("{f},{:.1},{p},10,150,150,170,170\n", f as f64 / 10.0);
        }
        std::fs::write(&path, csv).unwrap();
        assert_eq!(read_truth(&path).unwrap().rep_onsets_s, vec![0.4, 0.8]);
        // footage without a phase column has no onsets to time reps against
        std::fs::write(&path, "frame,time_s,trunk_incl_deg,trunk_thigh_angle3d_L,trunk_thigh_angle3d_R,knee_angle3d_L,knee_angle3d_R\n0,0.0,10,150,150,170,170\n").unwrap();
        assert!(read_truth(&path).unwrap().rep_onsets_s.is_empty());
    }

    #[test]
    fn each_rep_start_is_scored_against_its_own_onset() {
        let onsets = [1.0, 5.0, 9.0];
        // every rep found: each against the onset in its own span
        let all = rep_starts_against_onsets([(1.2, 2.0, 3.0), (4.9, 6.0, 7.0), (9.1, 10.0, 11.0)], &onsets);
        assert_eq!((all.error_s.n, all.without_onset), (3, 0));
        assert!((all.error_s.mae().unwrap() - 0.4 / 3.0).abs() < 1e-9);
        // the second rep missed and a false one after the last: the third rep is not paired with the second onset
        let missed = rep_starts_against_onsets([(1.2, 2.0, 3.0), (9.1, 10.0, 11.0), (12.0, 13.0, 14.0)], &onsets);
        assert_eq!((missed.error_s.n, missed.without_onset), (2, 1));
        assert!((missed.error_s.mae().unwrap() - 0.15).abs() < 1e-9);
        // a clip that opens mid-rep: its first rep has no onset of its own
        let mid = rep_starts_against_onsets([(0.0, 0.3, 0.8), (1.2, 2.0, 3.0)], &[1.0]);
        assert_eq!((mid.error_s.n, mid.without_onset), (1, 1));
        // footage without a phase column scores nothing
        let none = rep_starts_against_onsets([(1.2, 2.0, 3.0)], &[]);
        assert_eq!((none.error_s.n, none.without_onset), (0, 0));
    }

    #[test]
    fn an_analysis_error_names_the_clip_once() {
        use crate::video::VideoError;
        let path = PathBuf::from("dir/clip.mp4");
        let e = EvalError::Analyze { path: path.clone(), source: VideoError::NotAVideo { path: path.clone() }.into() };
        let line = e.to_string();
        assert_eq!(line.matches("clip.mp4").count(), 1, "{line}");
        assert!(line.starts_with("dir/clip.mp4: not a video file"), "{line}");
        // an error of another stage is put after the clip's path
        let source = crate::kinematics::spine_model::SpineModelError::Inference {
            path: PathBuf::from("models/spine_back.onnx"),
            reason: "bad shape".into(),
        };
        let e = EvalError::Analyze { path, source: source.into() };
        assert_eq!(e.to_string(), "dir/clip.mp4: spine model models/spine_back.onnx: bad shape");
    }

    #[test]
    fn the_variant_registry_names_each_variant_once_and_scores_it_by_its_kind() {
        let mut names: Vec<&str> = VARIANTS.iter().map(|v| v.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), VARIANTS.len(), "a variant listed twice");
        let clip = |variant: &str| clip_score(variant, &[], &[], &[]).clip;
        assert_eq!(variant_fault("floor_rounded"), Some(Fault::RoundedLumbar));
        assert_eq!(variant_fault("idle_posterior"), Some(Fault::PosteriorTilt));
        assert_eq!(variant_fault("floor_good"), None);
        assert_eq!(variant_fault("wiggle"), None, "an unlisted variant shows no fault");
        assert!(clip("idle_anterior").is_standing_habit());
        assert!(!clip("idle").is_standing_habit(), "standing without a habit");
        assert!(!clip("anterior_tilt").is_standing_habit(), "a tilt at depth is no habit");
        assert!(!clip("spine_mix").faults_scored());
        assert!(clip("ribs_closed").faults_scored() && clip("wiggle").faults_scored());
        let expected: Vec<String> = clip("ribs_flared").expected_faults().into_iter().collect();
        assert_eq!(expected, ["ribs_not_stacked"]);
    }

    #[test]
    fn the_summary_counts_what_the_table_prints() {
        let clips = vec![
            clip_score("good", &[], &[], &[(0, 2.0, 0.0), (4, 5.0, 10.0)]),
            clip_score("rounded_lumbar", &["rounded_lumbar"], &[], &[(0, -1.0, 1.0)]),
            clip_score("idle_anterior", &[], &[], &[]),
            clip_score("idle_posterior", &["posterior_tilt"], &[], &[]),
            // metrics only: its faults never count
            clip_score("spine_mix", &["anterior_tilt"], &[], &[]),
            // a practice set: its reps count, not its fault set
            clip_score("session", &["squat_pattern"], &[true, false, true], &[]),
        ];
        let s = EvalReport::new(clips).summary;
        assert_eq!((s.clips, s.bodies, s.frames, s.frames_with_person), (6, 2, 60, 54));
        assert_eq!(s.fault_set_exact, Tally { ok: 3, of: 4 });
        assert_eq!(s.fault_set_no_fault_predictor, Tally { ok: 1, of: 4 });
        assert_eq!(s.standing_habits_found, Tally { ok: 1, of: 2 });
        assert_eq!(s.practice_reps_right, Tally { ok: 2, of: 3 });
        assert_eq!(s.rep_count_exact, Tally { ok: 6, of: 6 });
        // rep starts pooled over the clips' reps
        let t = s.rep_start_s.unwrap();
        assert_eq!(t.reps, 12);
        assert!((t.mae - 0.15).abs() < 1e-9 && (t.bias - 0.05).abs() < 1e-9 && (t.sd - 0.15).abs() < 1e-9, "{t:?}");
        // only metrics with frames; pooled over clips
        let names: Vec<&str> = s.metrics.iter().map(|m| m.metric).collect();
        assert_eq!(names, ["trunk_deg", "lumbar_flexion_deg"]);
        let trunk = s.metric("trunk_deg").unwrap();
        assert_eq!((trunk.frames, trunk.mae, trunk.bias, trunk.sd, trunk.zero_mae), (2, 2.0, 0.0, 2.0, 0.5));
        assert_eq!((trunk.target_mae, trunk.frames_without_value), (TARGET_MAE[0], 6));
        // per fault: clips and practice reps, found where shown and reported where absent
        let rounded = s.per_fault.iter().find(|f| f.fault == "rounded_lumbar").unwrap();
        assert_eq!(
            (rounded.found_where_shown, rounded.reported_where_absent),
            (Tally { ok: 1, of: 1 }, Tally { ok: 0, of: 6 })
        );
        let posterior = s.per_fault.iter().find(|f| f.fault == "posterior_tilt").unwrap();
        assert_eq!(
            (posterior.found_where_shown, posterior.reported_where_absent),
            (Tally { ok: 1, of: 1 }, Tally { ok: 0, of: 6 })
        );
        let anterior = s.per_fault.iter().find(|f| f.fault == "anterior_tilt").unwrap();
        assert_eq!(
            (anterior.found_where_shown, anterior.reported_where_absent),
            (Tally { ok: 0, of: 1 }, Tally { ok: 0, of: 6 })
        );
        assert_eq!(s.per_fault.len(), Fault::ALL.len());
        // no clip says where its camera stood: no view split
        assert_eq!((s.fault_set_exact_side_on.of, s.fault_set_exact_oblique.of), (0, 0));
        let table = EvalReport::new(vec![clip_score("idle_anterior", &[], &[], &[(0, 2.0, 0.0)])]).table();
        assert!(table.contains("standing habits found 0/1 clips"), "{table}");
        assert!(table.contains("fault set exact       0/1 single-variant clips (predicting no fault: 0/1)"), "{table}");
        assert!(!table.contains("by camera view"), "{table}");
    }

    #[test]
    fn fault_sets_are_split_by_the_camera_view_and_rep_faults_count_per_fault() {
        let at = |variant: &str, found: &[&str], view_deg: Option<f64>| {
            let mut c = clip_score(variant, found, &[], &[]);
            c.clip.view_deg = view_deg;
            c
        };
        let mut session = clip_score("session", &[], &[true, false], &[]);
        session.rep_scores[0].expected = vec!["rounded_lumbar".into()];
        session.rep_scores[0].found = vec!["rounded_lumbar".into()];
        session.rep_scores[1].found = vec!["squat_pattern".into()];
        let clips = vec![
            at("good", &[], Some(-5.0)),
            at("squat", &["squat_pattern"], Some(20.0)),
            at("rounded_lumbar", &[], Some(-20.5)),
            at("good", &[], Some(44.0)),
            // a camera the metadata does not give: in neither group
            at("good", &["posterior_tilt"], None),
            session,
        ];
        let s = EvalReport::new(clips).summary;
        assert_eq!(s.fault_set_exact, Tally { ok: 3, of: 5 });
        assert_eq!(s.fault_set_exact_side_on, Tally { ok: 2, of: 2 });
        assert_eq!(s.fault_set_exact_oblique, Tally { ok: 1, of: 2 });
        let tally = |name: &str| {
            let f = s.per_fault.iter().find(|f| f.fault == name).unwrap();
            (f.found_where_shown, f.reported_where_absent)
        };
        // five clips and two practice reps
        assert_eq!(tally("rounded_lumbar"), (Tally { ok: 1, of: 2 }, Tally { ok: 0, of: 5 }));
        assert_eq!(tally("squat_pattern"), (Tally { ok: 1, of: 1 }, Tally { ok: 1, of: 6 }));
        assert_eq!(tally("posterior_tilt"), (Tally { ok: 0, of: 0 }, Tally { ok: 1, of: 7 }));
        let table = EvalReport::new(vec![at("good", &[], Some(30.0))]).table();
        assert!(table.contains("side-on (≤ 20° off the side) 0/0, more oblique 1/1"), "{table}");
    }
}
