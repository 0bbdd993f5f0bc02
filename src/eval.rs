//! `hinge eval`: runs the analysis on every clip of a rendered footage set
//! (the layout of `samples/dev`: `*.mp4` with a truth `*.csv` and a
//! `*.meta.json`, listed in `manifest.json`) and scores it against the truth:
//! mean absolute error per metric, detection rate, rep count, the clip's fault
//! set and, for practice sets with `reps_detail`, each rep's faults.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analyze::{analyze_file, Analysis, AnalyzeError};
use crate::config::Config;
use crate::kinematics::FrameMetrics;
use crate::pose::PoseEstimator;

/// Errors of an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The footage directory or one of its files cannot be read.
    #[error("{}: {reason}", .path.display())]
    Footage { path: PathBuf, reason: String },
    /// A clip could not be analysed.
    #[error("{}: {source}", .path.display())]
    Analyze { path: PathBuf, source: AnalyzeError },
}

fn footage_err(path: &Path, reason: impl ToString) -> EvalError {
    EvalError::Footage { path: path.to_path_buf(), reason: reason.to_string() }
}

/// The metrics scored, with how their truth is derived.
pub const METRICS: [&str; 7] = [
    "trunk_deg",
    "hip_angle_deg",
    "knee_flexion_deg",
    "hip_flexion_deg",
    "lumbar_flexion_deg",
    "pelvic_tilt_deg",
    "rib_stack_deg",
];

/// MAE targets of issue 3, degrees, in [`METRICS`] order.
pub const TARGET_MAE_DEG: [f64; 7] = [2.5, 5.0, 4.0, 6.0, 6.0, 6.0, 6.0];

fn metric_value(m: &FrameMetrics, k: usize) -> Option<f64> {
    [
        m.trunk_deg,
        m.hip_angle_deg,
        m.knee_flexion_deg,
        m.hip_flexion_deg,
        m.lumbar_flexion_deg,
        m.pelvic_tilt_deg,
        m.rib_stack_deg,
    ][k]
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
}

impl Clip {
    /// The faults the clip is built to show (good/idle: none; sessions: those of its reps).
    pub fn expected_faults(&self) -> BTreeSet<String> {
        if !self.reps_detail.is_empty() {
            return self.reps_detail.iter().filter_map(|r| r.fault.clone()).collect();
        }
        variant_fault(&self.variant).into_iter().map(str::to_string).collect()
    }
}

/// Fault name a variant is built to show.
pub fn variant_fault(variant: &str) -> Option<&'static str> {
    match variant {
        "rounded_lumbar" => Some("rounded_lumbar"),
        "anterior_tilt" => Some("anterior_tilt"),
        "posterior_tilt" => Some("posterior_tilt"),
        "squat" | "squat_pattern" => Some("squat_pattern"),
        "ribs_not_stacked" => Some("ribs_not_stacked"),
        "load_far" => Some("load_far"),
        _ => None,
    }
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

/// Truth values of one frame, in [`METRICS`] order.
pub type TruthRow = [Option<f64>; 7];

/// Reads a truth CSV into per-frame metric values (derived as in metrics.md).
pub fn read_truth(path: &Path) -> Result<BTreeMap<u64, TruthRow>, EvalError> {
    let mut r = csv::Reader::from_path(path).map_err(|e| footage_err(path, e))?;
    let headers = r.headers().map_err(|e| footage_err(path, e))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let need = |name: &str| col(name).ok_or_else(|| footage_err(path, format!("no column `{name}`")));
    let frame = need("frame")?;
    let trunk = need("trunk_incl_deg")?;
    let (tl, tr) = (need("trunk_thigh_angle3d_L")?, need("trunk_thigh_angle3d_R")?);
    let (kl, kr) = (need("knee_angle3d_L")?, need("knee_angle3d_R")?);
    let others = [col("hip_flexion_deg"), col("lumbar_flexion_deg"), col("pelvic_tilt_deg"), col("ribcage_pelvis_deg")];
    let mut out = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| footage_err(path, e))?;
        let num = |i: usize| rec.get(i).and_then(|s| s.trim().parse::<f64>().ok()).filter(|x| x.is_finite());
        let Some(f) = num(frame) else { continue };
        let mean = |a: usize, b: usize| match (num(a), num(b)) {
            (Some(x), Some(y)) => Some(180.0 - (x + y) / 2.0),
            _ => None,
        };
        let o = |k: usize| others[k].and_then(num);
        out.insert(f as u64, [num(trunk), mean(tl, tr), mean(kl, kr), o(0), o(1), o(2), o(3)]);
    }
    Ok(out)
}

/// Sum and count of absolute errors.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ErrorSum {
    pub sum_abs_deg: f64,
    pub n: usize,
}

impl ErrorSum {
    pub fn add(&mut self, e: f64) {
        self.sum_abs_deg += e.abs();
        self.n += 1;
    }
    pub fn merge(&mut self, o: &ErrorSum) {
        self.sum_abs_deg += o.sum_abs_deg;
        self.n += o.n;
    }
    pub fn mae_deg(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum_abs_deg / self.n as f64)
    }
}

/// One practice-set rep, scored.
#[derive(Debug, Clone, Serialize)]
pub struct RepScore {
    pub truth_index: usize,
    /// Our rep matched by time (1-based), if any.
    pub matched: Option<usize>,
    pub expected: Option<String>,
    pub found: Vec<String>,
    pub ok: bool,
}

/// Scores of one clip.
#[derive(Debug, Clone, Serialize)]
pub struct ClipScore {
    pub clip: Clip,
    pub frames: usize,
    pub frames_with_person: usize,
    /// Per metric in [`METRICS`] order: errors over frames with a person and a truth value.
    pub errors: [ErrorSum; 7],
    /// Frames with a person where the metric had no value (counted missing).
    pub missing: [usize; 7],
    pub reps_found: usize,
    pub faults_found: BTreeSet<String>,
    pub faults_expected: BTreeSet<String>,
    pub rep_scores: Vec<RepScore>,
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
}

/// Scores an analysis against its clip's truth.
pub fn score(clip: &Clip, a: &Analysis, truth: &BTreeMap<u64, TruthRow>) -> ClipScore {
    let mut errors = [ErrorSum::default(); 7];
    let mut missing = [0usize; 7];
    for f in a.frames.iter().filter(|f| f.landmarks.is_some()) {
        let Some(t) = truth.get(&f.index) else { continue };
        for k in 0..7 {
            match (metric_value(&f.metrics, k), t[k]) {
                (Some(v), Some(tv)) => errors[k].add(v - tv),
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
            let expected_set: BTreeSet<String> = tr.fault.iter().cloned().collect();
            let found_set: BTreeSet<String> = found.iter().cloned().collect();
            RepScore {
                truth_index: i + 1,
                matched: m.map(|r| r.index),
                expected: tr.fault.clone(),
                ok: m.is_some() && expected_set == found_set,
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
        faults_expected: clip.expected_faults(),
        rep_scores,
        seconds: a.timing.total.as_secs_f64(),
    }
}

/// Analyses and scores one clip; `out_dir` (if given) receives the report files.
pub fn evaluate_clip(
    clip: &Clip,
    estimator: &mut PoseEstimator,
    config: &Config,
    out_dir: Option<&Path>,
) -> Result<(ClipScore, Analysis), EvalError> {
    let truth = read_truth(&clip.truth_csv)?;
    let a = analyze_file(&clip.video, estimator, config, &mut |_, _| {})
        .map_err(|source| EvalError::Analyze { path: clip.video.clone(), source })?;
    if let Some(dir) = out_dir {
        let d = dir.join(&clip.name);
        crate::report::write_outputs(&a, &d).map_err(|e| footage_err(&d, e))?;
        write_features(&a, &d.join("features.csv")).map_err(|e| footage_err(&d, e))?;
    }
    Ok((score(clip, &a, &truth), a))
}

/// Debug dump of the intermediate per-frame measurements.
fn write_features(a: &Analysis, path: &Path) -> std::io::Result<()> {
    use std::fmt::Write as _;
    let mut s = String::from("frame,thigh_deg,shank_deg,sacral_lean_deg,thorax_lean_deg,low_bend_deg,dorsal\n");
    let c = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_default();
    for f in &a.frames {
        let dorsal: Vec<String> = f.features.dorsal.iter().map(|(t, x, y)| format!("{t:.2}:{x:.4}:{y:.4}")).collect();
        let g = &f.features;
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{}",
            f.index,
            c(g.thigh_deg),
            c(g.shank_deg),
            c(g.sacral_lean_deg),
            c(g.thorax_lean_deg),
            c(g.low_bend_deg),
            dorsal.join(" ")
        );
    }
    std::fs::write(path, s)
}

/// Scores of a whole footage set.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub clips: Vec<ClipScore>,
}

impl EvalReport {
    /// Pooled errors per metric over every frame of every clip.
    pub fn pooled(&self) -> [ErrorSum; 7] {
        let mut out = [ErrorSum::default(); 7];
        for c in &self.clips {
            for (o, e) in out.iter_mut().zip(&c.errors) {
                o.merge(e);
            }
        }
        out
    }

    /// Human-readable table: one line per clip, then the aggregates with their targets.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let short = ["trunk", "hip", "knee", "hipflx", "lumbar", "tilt", "rib"];
        let _ = write!(s, "{:<46} {:>5}", "clip", "det%");
        for h in short {
            let _ = write!(s, " {h:>6}");
        }
        let _ = writeln!(s, "  reps  faults (found / expected)");
        let mae = |e: &ErrorSum| e.mae_deg().map_or("-".to_string(), |m| format!("{m:.1}"));
        for c in &self.clips {
            let _ = write!(s, "{:<46} {:>5.1}", c.clip.name, 100.0 * c.detection_rate());
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
            let _ = writeln!(
                s,
                "  {}/{}{} {} / {}{}",
                c.reps_found,
                c.clip.reps,
                if c.reps_ok() { " " } else { "✗" },
                set(&c.faults_found),
                set(&c.faults_expected),
                if c.faults_ok() { "" } else { " ✗" }
            );
            for r in &c.rep_scores {
                let _ = writeln!(
                    s,
                    "    rep {} → ours {}: expected {}, found {}{}",
                    r.truth_index,
                    r.matched.map_or("-".to_string(), |m| m.to_string()),
                    r.expected.as_deref().unwrap_or("none"),
                    if r.found.is_empty() { "none".to_string() } else { r.found.join("+") },
                    if r.ok { "" } else { " ✗" }
                );
            }
        }
        let pooled = self.pooled();
        let _ = writeln!(s, "\nMAE over all frames with a person (target):");
        for (k, name) in METRICS.iter().enumerate() {
            let m = pooled[k].mae_deg();
            let ok = m.is_some_and(|m| m <= TARGET_MAE_DEG[k]);
            let missing: usize = self.clips.iter().map(|c| c.missing[k]).sum();
            let _ = writeln!(
                s,
                "  {:<20} {:>6} ° (≤ {:.1}) {}{}",
                name,
                m.map_or("-".to_string(), |m| format!("{m:.2}")),
                TARGET_MAE_DEG[k],
                if ok { "ok" } else { "MISS" },
                if missing > 0 { format!("  ({missing} frames without a value)") } else { String::new() }
            );
        }
        let n = self.clips.len();
        let single: Vec<&ClipScore> = self.clips.iter().filter(|c| c.clip.reps_detail.is_empty()).collect();
        let frames: usize = self.clips.iter().map(|c| c.frames).sum();
        let seen: usize = self.clips.iter().map(|c| c.frames_with_person).sum();
        let reps_ok = self.clips.iter().filter(|c| c.reps_ok()).count();
        let faults_ok = single.iter().filter(|c| c.faults_ok()).count();
        let rep_total: usize = self.clips.iter().map(|c| c.rep_scores.len()).sum();
        let rep_ok: usize = self.clips.iter().map(|c| c.rep_scores.iter().filter(|r| r.ok).count()).sum();
        let secs: f64 = self.clips.iter().map(|c| c.seconds).sum();
        let _ = writeln!(
            s,
            "  person found          {seen}/{frames} frames ({:.2}%)",
            100.0 * seen as f64 / frames.max(1) as f64
        );
        let _ = writeln!(s, "  rep count exact       {reps_ok}/{n} clips");
        let _ = writeln!(s, "  fault set exact       {faults_ok}/{} single-variant clips", single.len());
        if rep_total > 0 {
            let _ = writeln!(s, "  session reps right    {rep_ok}/{rep_total}");
        }
        let _ = writeln!(
            s,
            "  analysis time         {secs:.1} s ({:.0} frames/s per worker)",
            frames as f64 / secs.max(1e-9)
        );
        s
    }
}

/// Evaluates every clip, spreading them over the given estimators (one
/// worker thread each). Clip order in the report is the discovery order.
pub fn evaluate(
    clips: &[Clip],
    estimators: Vec<PoseEstimator>,
    config: &Config,
    out_dir: Option<&Path>,
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
                        done.push((i, evaluate_clip(clip, &mut est, config, out_dir).map(|r| r.0)));
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
    Ok(EvalReport { clips })
}
