//! `hinge analyze`: one video through the whole pipeline.
//!
//! video → pose → kinematics → reps → faults; the result ([`Analysis`]) is
//! what the report stage writes. Nothing here draws or writes files.

use std::path::Path;
use std::time::Instant;

use crate::faults::{clip_faults, frame_faults, median, rep_faults, FaultSet, RepFrame};
use crate::kinematics::metric::{Metric, MetricRanges, MetricValues};
use crate::kinematics::sagittal::FrameFeatures;
use crate::kinematics::spine_input::SpineInput;
use crate::kinematics::spine_model::{self, SpineEstimate, SpineModelError, SpineReader, MAX_BACK_OBLIQUITY_DEG};
use crate::kinematics::{self, BodyFrame, ClipView, FrameMetrics};
use crate::pose::{PoseError, PoseEstimator};
use crate::reps::{segment, Phase, Rep};
use crate::video::{Frame, VideoError, VideoInfo, VideoSource};

pub use crate::analysis::{Analysis, Baseline, FrameRecord, PeopleSeen, RepSummary, Timing, ViewCheck};
pub use crate::config::Rules;

/// Errors of an analysis.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// The video could not be opened or decoded.
    #[error(transparent)]
    Video(#[from] VideoError),
    /// Pose estimation failed.
    #[error(transparent)]
    Pose(#[from] PoseError),
    /// The spine model failed.
    #[error(transparent)]
    Spine(#[from] SpineModelError),
}

/// Progress reports: frames done and the expected total.
pub type Progress<'a> = &'a mut dyn FnMut(u64, Option<u64>);

/// Analyses a video file.
pub fn analyze_file(
    path: &Path,
    estimator: &mut PoseEstimator,
    spine: &dyn SpineReader,
    rules: Rules,
    progress: Progress,
) -> Result<Analysis, AnalyzeError> {
    analyze_file_until(path, estimator, spine, rules, progress, None)
}

/// [`analyze_file`] that ends early with [`VideoError::Stopped`] once `stop`
/// is set (a time limit), checked before every frame.
pub fn analyze_file_until(
    path: &Path,
    estimator: &mut PoseEstimator,
    spine: &dyn SpineReader,
    rules: Rules,
    progress: Progress,
    stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
) -> Result<Analysis, AnalyzeError> {
    // decode on its own thread, overlapping with inference; large frames are
    // scaled down right after decoding (see ANALYSIS_MAX_LONG_SIDE_PX)
    let source = VideoSource::open_file_until(path, stop.as_deref())?;
    let (width, height) = analysis_frame_size(source.info());
    let mut source = source.with_frame_size(width, height).prefetch(1);
    if let Some(stop) = stop {
        source = source.stop_when(stop);
    }
    analyze_source(source, &path.display().to_string(), estimator, spine, rules, progress)
}

/// Longest side of the frames pose estimation sees, pixels: larger video
/// (4K) is scaled down right after decoding, and landmarks are mapped back
/// to the video's pixels. The landmark model sees a 256-pixel crop of the
/// person and the detector a 224-pixel picture, so at 1920 pixels a person
/// down to a tenth of the frame's height still fills the crop with real
/// detail; a full-size 4K frame costs 24 MB for every one decoded ahead.
pub const ANALYSIS_MAX_LONG_SIDE_PX: u32 = 1920;

/// Size of the frames analysed for a video ([`ANALYSIS_MAX_LONG_SIDE_PX`]).
pub fn analysis_frame_size(info: &VideoInfo) -> (u32, u32) {
    crate::video::fit_long_side(info.width, info.height, ANALYSIS_MAX_LONG_SIDE_PX)
}

/// Analyses any frame source to its end.
pub fn analyze_source(
    source: VideoSource,
    name: &str,
    estimator: &mut PoseEstimator,
    spine: &dyn SpineReader,
    rules: Rules,
    progress: Progress,
) -> Result<Analysis, AnalyzeError> {
    let observation = observe_source(source, estimator, progress)?;
    observation.interpret(name, estimator.files().label.clone(), spine, rules)
}

/// What the pose stage saw of a whole video, before interpretation.
#[derive(Debug)]
pub struct Observation {
    pub info: VideoInfo,
    /// One entry per decoded frame.
    pub bodies: Vec<Observed>,
    lumas: Vec<f64>,
    people: PeopleSeen,
    /// Per decoded frame: reads failed just before it.
    failed_before: Vec<bool>,
    timing: Timing,
    started: Instant,
}

/// Runs pose estimation over a frame source to its end, keeping per frame
/// what measurement needs (landmarks, the torso outline and crop).
pub fn observe_source(
    mut source: VideoSource,
    estimator: &mut PoseEstimator,
    progress: Progress,
) -> Result<Observation, AnalyzeError> {
    let started = Instant::now();
    estimator.reset();
    let info = source.info().clone();
    // poses found in downscaled frames go back to the video's pixels
    let to_video_px = (1.0 / source.frame_scale()) as f32;
    let mut timing = Timing::default();
    let mut frame = Frame::default();
    let mut lumas: Vec<f64> = Vec::new();
    let mut bodies: Vec<Observed> = Vec::with_capacity(info.frame_count_hint.unwrap_or(0) as usize);
    let mut mask_skipped: Vec<bool> = Vec::with_capacity(bodies.capacity());
    let mut people = PeopleSeen::default();
    let mut failed_before: Vec<bool> = Vec::with_capacity(bodies.capacity());
    loop {
        let t0 = Instant::now();
        if !source.read(&mut frame)? {
            break;
        }
        timing.decode += t0.elapsed();
        let mut result = estimator.process(&frame.image, frame.time_s)?;
        if to_video_px != 1.0 {
            result.pose = result.pose.map(|p| p.scaled(to_video_px));
        }
        timing.pose.add(&result.times);
        if let Some(p) = result.people {
            people.add(frame.time_s, p.comparable);
        }
        let t1 = Instant::now();
        // keep only what measurement needs: the outline and crop are taken from the mask here
        let body = result.pose.as_ref().map(BodyFrame::from_pose);
        if frame.index % LUMA_SAMPLE_EVERY == 0 {
            lumas.extend(mean_luma(&frame.image));
        }
        timing.kinematics += t1.elapsed();
        mask_skipped.push(result.pose.as_ref().is_some_and(|p| p.mask_skipped));
        bodies.push(Observed { index: frame.index, time_s: frame.time_s, body });
        failed_before.push(frame.failed_reads_before > 0);
        progress(frame.index + 1, info.frame_count_hint);
    }
    timing.frames = bodies.len() as u64;
    let t_fill = Instant::now();
    fill_skipped_outlines(&mut bodies, &mask_skipped);
    timing.kinematics += t_fill.elapsed();
    Ok(Observation { info, bodies, lumas, people, failed_before, timing, started })
}

impl Observation {
    /// Interprets what was observed: view, metrics, reps, faults, warnings.
    pub fn interpret(
        self,
        name: &str,
        model: String,
        spine: &dyn SpineReader,
        rules: Rules,
    ) -> Result<Analysis, AnalyzeError> {
        let t_kin = Instant::now();
        let mut timing = self.timing;
        let mut analysis = interpret(name, self.info, model, &self.bodies, spine, rules)?;
        if let Some(l) = median(self.lumas) {
            if l < MIN_MEAN_LUMA {
                analysis.view.warnings.push(format!(
                    "video is dark (mean brightness {l:.0}/255): add light from the camera's side or film in a brighter room"
                ));
            }
        }
        let times: Vec<f64> = self.bodies.iter().map(|b| b.time_s).collect();
        analysis.missing_ranges_s = crate::video::missing_ranges(&times, &self.failed_before);
        if !analysis.missing_ranges_s.is_empty() {
            let spans: Vec<String> =
                analysis.missing_ranges_s.iter().map(|[a, b]| format!("{a:.2}–{b:.2} s")).collect();
            analysis.view.warnings.push(format!(
                "no frame could be decoded in {} (the file is damaged there): those moments are not analysed",
                spans.join(", ")
            ));
        }
        timing.kinematics += t_kin.elapsed();
        timing.total = self.started.elapsed();
        analysis.timing = timing;
        analysis.people = self.people;
        Ok(analysis)
    }
}

/// One decoded frame and what pose estimation kept of it.
#[derive(Debug, Clone)]
pub struct Observed {
    pub index: u64,
    pub time_s: f64,
    pub body: Option<BodyFrame>,
}

/// Default of `PoseConfig::segmentation_interval_s` for recorded video: the
/// person mask (the back's outline) is computed ten times a second and the
/// outline interpolated in between ([`fill_skipped_outlines`]). The landmark
/// model without its segmentation branch costs about half (full model, 2
/// threads: 6.4 vs 13.0 ms), so on 30 fps video this saves ~40% of the
/// inference; on the dev footage every MAE moved by less than 0.1° against a
/// mask on every frame (a hinge changes the back's shape over tenths of a
/// second, and the outline is smoothed over 0.25 s anyway).
pub const SEGMENTATION_INTERVAL_S: f64 = 0.1;

/// Farthest a frame whose mask was skipped may be from a frame with a
/// measured outline to take its outline from it, seconds.
pub const MAX_OUTLINE_GAP_S: f64 = 0.2;

/// Gives the frames whose segmentation mask was skipped (see
/// `PoseConfig::segmentation_interval_s`) an outline interpolated from the
/// nearest measured ones before and after (or the nearest one alone at the
/// ends of a track), each within [`MAX_OUTLINE_GAP_S`]; the edge distances
/// are placed on the frame's own hip→shoulder axis. `skipped` is parallel to
/// `bodies`. Frames whose mask was measured are left as they are.
pub fn fill_skipped_outlines(bodies: &mut [Observed], skipped: &[bool]) {
    use crate::kinematics::outline::TorsoOutline;
    use crate::pose::landmarks::LandmarkId as L;
    let measured = |o: &Observed, k: usize| !skipped.get(k).copied().unwrap_or(false) && o.body.is_some();
    // nearest measured frame before and after each frame
    let mut before: Vec<Option<usize>> = vec![None; bodies.len()];
    let mut last = None;
    for k in 0..bodies.len() {
        before[k] = last;
        if measured(&bodies[k], k) {
            last = Some(k);
        }
    }
    let mut next = None;
    for k in (0..bodies.len()).rev() {
        if skipped.get(k).copied().unwrap_or(false) && bodies[k].body.is_some() {
            let t = bodies[k].time_s;
            let near = |j: Option<usize>| {
                j.filter(|&j| (bodies[j].time_s - t).abs() <= MAX_OUTLINE_GAP_S)
                    .and_then(|j| bodies[j].body.as_ref().and_then(|b| b.outline.clone()).map(|o| (j, o)))
            };
            let outline = match (near(before[k]), near(next)) {
                (Some((i, a)), Some((j, b))) => {
                    let span = bodies[j].time_s - bodies[i].time_s;
                    Some((a, b, if span > 0.0 { (t - bodies[i].time_s) / span } else { 0.0 }))
                }
                (Some((_, a)), None) => Some((a.clone(), a, 0.0)),
                (None, Some((_, b))) => Some((b.clone(), b, 0.0)),
                (None, None) => None,
            };
            let body = bodies[k].body.as_mut().expect("checked above");
            body.outline = outline.and_then(|(a, b, frac)| {
                let hip = kinematics::mid2(&body.landmarks, L::LeftHip, L::RightHip)?;
                let shoulder = kinematics::mid2(&body.landmarks, L::LeftShoulder, L::RightShoulder)?;
                TorsoOutline::interpolated(&a, &b, frac, hip, shoulder)
            });
        }
        if measured(&bodies[k], k) {
            next = Some(k);
        }
    }
}

/// Brightness is sampled on one frame in this many.
const LUMA_SAMPLE_EVERY: u64 = 15;
/// Median brightness (0–255) under which the video counts as too dark.
pub const MIN_MEAN_LUMA: f64 = 40.0;

/// Mean brightness (Rec. 601 luma, 0–255) of a BGR image.
fn mean_luma(image: &opencv::core::Mat) -> Option<f64> {
    let m = opencv::core::mean(image, &opencv::core::no_array()).ok()?;
    let l = 0.114 * m[0] + 0.587 * m[1] + 0.299 * m[2];
    l.is_finite().then_some(l)
}

/// The spine model's readings of every frame (parallel to `bodies`).
fn read_spines(
    bodies: &[Observed],
    view: Option<&ClipView>,
    features: &[FrameFeatures],
    spine: &dyn SpineReader,
) -> Result<Vec<Option<SpineEstimate>>, SpineModelError> {
    let Some(view) = view else { return Ok(vec![None; bodies.len()]) };
    let body_refs: Vec<Option<&BodyFrame>> = bodies.iter().map(|o| o.body.as_ref()).collect();
    let inputs = kinematics::spine_inputs(&body_refs, view, features);
    let frames: Vec<u64> = bodies.iter().zip(&inputs).filter(|(_, x)| x.is_some()).map(|(o, _)| o.index).collect();
    let batch: Vec<&SpineInput> = inputs.iter().flatten().collect();
    let mut readings = spine.read(&frames, &batch)?.into_iter();
    Ok(inputs.iter().map(|x| x.as_ref().and_then(|_| readings.next().flatten())).collect())
}

/// From observed bodies to the analysis: view, metrics, baseline, reps, faults.
pub fn interpret(
    name: &str,
    info: VideoInfo,
    model: String,
    bodies: &[Observed],
    spine: &dyn SpineReader,
    rules: Rules,
) -> Result<Analysis, AnalyzeError> {
    let upright = upright_share(bodies).map(|share| share >= MIN_UPRIGHT_SHARE);
    // not upright: nothing is measured (no view, so no metrics, reps or faults)
    let clip_view = match upright {
        Some(false) => None,
        _ => ClipView::estimate(bodies.iter().filter_map(|o| o.body.as_ref())),
    };
    let measured: Vec<(FrameMetrics, FrameFeatures)> = bodies
        .iter()
        .map(|o| match (&o.body, &clip_view) {
            (Some(b), Some(v)) => kinematics::measure(b, v),
            _ => Default::default(),
        })
        .collect();
    let times: Vec<f64> = bodies.iter().map(|o| o.time_s).collect();
    let features: Vec<FrameFeatures> = measured.iter().map(|m| m.1.clone()).collect();
    let has_person: Vec<bool> = bodies.iter().map(|o| o.body.is_some()).collect();
    let readings = read_spines(bodies, clip_view.as_ref(), &features, spine)?;
    // filmed too far off the side, the back's outline is the flank's: the back is not read
    let back_in_view = clip_view.is_some_and(|v| spine_model::back_in_view(v.obliquity_deg));
    let mut metrics: Vec<FrameMetrics> =
        kinematics::finish_series(&times, measured.iter().map(|m| m.0).collect(), &has_person, &readings, back_in_view);
    let start_baseline = standing_baseline(&times, &has_person, &metrics, rules);
    let depth = |m: &FrameMetrics| match (m.hip_angle_deg, start_baseline.get(Metric::HipAngle)) {
        (Some(h), Some(b)) => Some(h - b),
        _ => None,
    };
    let reps: Vec<Rep> = segment(rules.reps, bodies.iter().zip(&metrics).map(|(o, m)| (o.index, o.time_s, depth(m))));
    // the reported baseline: every standing frame, before and between reps
    let standing: Vec<usize> =
        (0..bodies.len()).filter(|&i| has_person[i] && !reps.iter().any(|r| r.contains(bodies[i].index))).collect();
    let baseline = if upright == Some(false) {
        Baseline::default()
    } else if standing.len() >= start_baseline.frames {
        baseline_of(&standing, &metrics)
    } else {
        start_baseline
    };
    for m in &mut metrics {
        if let (Some(t), Some(k), Some(bt), Some(bk)) =
            (m.trunk_deg, m.knee_flexion_deg, baseline.get(Metric::Trunk), baseline.get(Metric::KneeFlexion))
        {
            m.ssi = kinematics::ssi(t, k, bt, bk);
        }
    }
    let mut frames: Vec<FrameRecord> = bodies
        .iter()
        .zip(metrics.iter().zip(measured))
        .map(|(o, (m, (_, features)))| {
            let rep = reps.iter().find(|r| r.contains(o.index));
            let phase = o
                .body
                .as_ref()
                .filter(|_| upright != Some(false))
                .map(|_| rep.and_then(|r| r.phase_of(o.index)).unwrap_or(Phase::Standing));
            FrameRecord {
                index: o.index,
                time_s: o.time_s,
                landmarks: o.body.as_ref().map(|p| p.landmarks),
                metrics: *m,
                features,
                phase,
                rep: rep.map(|r| r.index),
                faults: FaultSet::default(),
            }
        })
        .collect();
    for f in &mut frames {
        if f.landmarks.is_some() {
            f.faults = frame_faults(&f.metrics, f.phase, &baseline.values, rules.faults);
        }
    }
    let fault_frames: Vec<RepFrame> = frames
        .iter()
        .map(|f| RepFrame { index: f.index, time_s: f.time_s, metrics: f.metrics, faults: f.faults })
        .collect();
    let rep_summaries = reps.iter().map(|r| summarize_rep(r, &frames, &fault_frames, &baseline, rules)).collect();
    let clip_faults =
        // frame indices need not start at 0 or be contiguous (live windows): look them up
        clip_faults(
            &fault_frames,
            |i| frames.binary_search_by_key(&i, |f| f.index).is_ok_and(|k| frames[k].phase == Some(Phase::Standing)),
            rules.faults,
        );
    let mut view = view_check(&info, bodies, clip_view.as_ref());
    view.upright = upright;
    if upright == Some(false) {
        // the other checks read the picture as upright: only this one holds
        view.side_on = false;
        view.warnings = vec![NOT_UPRIGHT_WARNING.to_string()];
    }
    Ok(Analysis {
        video: name.to_string(),
        info,
        model,
        facing: clip_view.map(|v| v.facing),
        clip_view,
        baseline,
        view,
        frames,
        reps: rep_summaries,
        clip_faults,
        timing: Timing::default(),
        people: PeopleSeen::default(),
        missing_ranges_s: Vec::new(),
    })
}

/// Start baseline (used to find the reps): the median of the first `baseline_window_s` seconds
/// with a person, or, if the clip starts moving, of the least flexed 10% of frames.
fn standing_baseline(times: &[f64], has_person: &[bool], metrics: &[FrameMetrics], rules: Rules) -> Baseline {
    let first_t = (0..times.len()).find(|&i| has_person[i]).map(|i| times[i]);
    let Some(t0) = first_t else {
        return Baseline::default();
    };
    let window: Vec<usize> =
        (0..times.len()).filter(|&i| has_person[i] && times[i] <= t0 + rules.reps.baseline_window_s).collect();
    let hip_lo = {
        let mut hips: Vec<f64> = metrics.iter().filter_map(|m| m.hip_angle_deg).collect();
        hips.sort_by(f64::total_cmp);
        hips.get(hips.len() / 10).copied()
    };
    let early_hip = median(window.iter().filter_map(|&i| metrics[i].hip_angle_deg).collect());
    // if the clip starts mid-movement, fall back to the least flexed frames
    let idx: Vec<usize> = match (early_hip, hip_lo) {
        (Some(e), Some(lo)) if e > lo + rules.reps.end_deg => (0..metrics.len())
            .filter(|&i| metrics[i].hip_angle_deg.is_some_and(|h| h <= lo + rules.reps.end_deg / 2.0))
            .collect(),
        _ => window,
    };
    baseline_of(&idx, metrics)
}

/// Medians of the metrics over the frames `idx`.
fn baseline_of(idx: &[usize], metrics: &[FrameMetrics]) -> Baseline {
    Baseline {
        frames: idx.len(),
        values: MetricValues::from_fn(|m| median(idx.iter().filter_map(|&i| m.of(&metrics[i])).collect())),
    }
}

fn summarize_rep(
    rep: &Rep,
    frames: &[FrameRecord],
    fault_frames: &[RepFrame],
    baseline: &Baseline,
    rules: Rules,
) -> RepSummary {
    let inside = frames.iter().filter(|f| rep.contains(f.index) && f.landmarks.is_some()).map(|f| &f.metrics);
    let rf = rep_faults(rep, fault_frames, &baseline.values, rules.faults);
    RepSummary {
        index: rep.index,
        start_s: rep.start_s,
        bottom_s: rep.bottom_s,
        end_s: rep.end_s,
        start_frame: rep.start_frame,
        bottom_frame: rep.bottom_frame,
        end_frame: rep.end_frame,
        peak_depth_deg: rep.peak_depth_deg,
        at_depth: rf.at_depth,
        depth_frames: rf.depth_frames,
        range: MetricRanges::over(inside),
        verdict: if rf.faults.is_empty() { "good" } else { "fault" },
        faults: rf.faults,
        fault_frames: rf.fault_frames,
    }
}

/// The view warning (and batch reason) for a person who is not upright.
pub const NOT_UPRIGHT_WARNING: &str = "the person is not upright in the frame (lying down, upside down or on \
     its side): nothing is measured — rotate the video";

/// Smallest share of the frames with a person that must show them upright
/// for the clip to be measured (see [`upright_share`]).
pub const MIN_UPRIGHT_SHARE: f64 = 0.5;

/// Share of the frames with a person in which the person stands upright in
/// the picture, `None` with no person. A frame counts as upright when, in
/// image coordinates (y down), the legs point down — the mid-hip → mid-ankle
/// vector lies within 45° of straight down — and the trunk does not — the
/// mid-hip → mid-shoulder vector does not lie within 45° of straight down.
/// A hinge keeps both at every depth: at the bottom of a deep hinge the trunk
/// is near horizontal but the hips are still above the ankles, and a deep
/// squat keeps the ankles below the hips. A person lying down or on its side
/// (a phone turned 90° with no rotation tag) has the legs sideways, one
/// upside down has them up.
pub fn upright_share(bodies: &[Observed]) -> Option<f64> {
    use crate::pose::landmarks::LandmarkId as L;
    let mid = |b: &BodyFrame, a: L, c: L| {
        let (p, q) = (b.landmark(a), b.landmark(c));
        ((p.x_px + q.x_px) as f64 / 2.0, (p.y_px + q.y_px) as f64 / 2.0)
    };
    let votes: Vec<bool> = bodies
        .iter()
        .filter_map(|o| o.body.as_ref())
        .map(|b| {
            let (sx, sy) = mid(b, L::LeftShoulder, L::RightShoulder);
            let (hx, hy) = mid(b, L::LeftHip, L::RightHip);
            let (ax, ay) = mid(b, L::LeftAnkle, L::RightAnkle);
            let legs_down = ay - hy > (ax - hx).abs();
            let trunk_down = sy - hy > (sx - hx).abs();
            legs_down && !trunk_down
        })
        .collect();
    (!votes.is_empty()).then(|| votes.iter().filter(|&&v| v).count() as f64 / votes.len() as f64)
}

/// Largest camera obliquity that still counts as side-on, °.
pub const SIDE_ON_MAX_OBLIQUITY_DEG: f64 = 20.0;
/// Largest camera obliquity the sagittal correction is trusted for, °.
pub const MAX_MEASURABLE_OBLIQUITY_DEG: f64 = 45.0;

/// Camera-view checks: person found, whole body in frame, big enough, side-on.
fn view_check(info: &VideoInfo, bodies: &[Observed], clip_view: Option<&ClipView>) -> ViewCheck {
    use crate::pose::landmarks::LandmarkId as L;
    let mut warnings = Vec::new();
    let poses = bodies;
    let seen: Vec<&BodyFrame> = bodies.iter().filter_map(|p| p.body.as_ref()).collect();
    if seen.is_empty() {
        warnings.push("no person found: film the whole body from the side, in good light".to_string());
        return ViewCheck { side_on: false, warnings, ..Default::default() };
    }
    let share = seen.len() as f64 / poses.len().max(1) as f64;
    if share < 0.9 {
        warnings.push(format!("person tracked in only {:.0}% of frames: keep the whole body in view", share * 100.0));
    }
    let (w, h) = (info.width as f32, info.height as f32);
    let cut = seen
        .iter()
        .filter(|p| {
            [L::Nose, L::LeftAnkle, L::RightAnkle].iter().any(|&id| {
                let l = p.landmark(id);
                l.presence < 0.5 || l.x_px < 0.0 || l.y_px < 0.0 || l.x_px > w || l.y_px > h
            })
        })
        .count();
    if cut as f64 > 0.2 * seen.len() as f64 {
        warnings.push("body cut off (head or feet outside the frame): step back or tilt the camera".to_string());
    }
    let heights: Vec<f64> = seen
        .iter()
        .map(|p| (p.landmark(L::LeftAnkle).y_px.max(p.landmark(L::RightAnkle).y_px) - p.landmark(L::Nose).y_px) as f64)
        .collect();
    if let Some(hh) = median(heights) {
        if hh < 0.25 * h as f64 {
            warnings.push(format!(
                "person is small in the frame ({:.0}% of its height): move the camera closer",
                100.0 * hh / h as f64
            ));
        }
    }
    // side-on: shoulder and hip widths small against torso length
    let ratios: Vec<f64> = seen
        .iter()
        .filter_map(|p| {
            let sw = p.landmark(L::LeftShoulder).point().distance(p.landmark(L::RightShoulder).point());
            let hw = p.landmark(L::LeftHip).point().distance(p.landmark(L::RightHip).point());
            let mid_s = (p.landmark(L::LeftShoulder).point().x + p.landmark(L::RightShoulder).point().x) / 2.0;
            let mid_h = (p.landmark(L::LeftHip).point().x + p.landmark(L::RightHip).point().x) / 2.0;
            let sy = (p.landmark(L::LeftShoulder).y_px + p.landmark(L::RightShoulder).y_px) / 2.0;
            let hy = (p.landmark(L::LeftHip).y_px + p.landmark(L::RightHip).y_px) / 2.0;
            let torso = (mid_s - mid_h).hypot(sy - hy);
            (torso > 1.0).then(|| ((sw + hw) / 2.0 / torso) as f64)
        })
        .collect();
    let ratio = median(ratios);
    let obliquity_deg = clip_view.map(|v| v.obliquity_deg);
    // side-on: the world landmarks' left-right axis near the camera axis; the
    // keypoint width ratio is the fallback without an obliquity estimate
    let side_on = match obliquity_deg {
        Some(o) => o <= SIDE_ON_MAX_OBLIQUITY_DEG,
        None => ratio.is_some_and(|r| r < 0.45),
    };
    match obliquity_deg {
        Some(o) if o > MAX_MEASURABLE_OBLIQUITY_DEG => warnings.push(format!(
            "camera is {o:.0}° off the side view: angles are unreliable beyond {MAX_MEASURABLE_OBLIQUITY_DEG:.0}° \
             and the back is not read; move the camera to the person's side, at hip height"
        )),
        Some(o) if !spine_model::back_in_view(o) => warnings.push(format!(
            "camera is {o:.0}° off the side view: the back (lumbar flexion, pelvic tilt, rib stack) is not read \
             beyond {MAX_BACK_OBLIQUITY_DEG:.0}°, so no back fault is judged; joint angles are corrected for the \
             view; film square to the side of the body, at hip height"
        )),
        Some(o) if o > SIDE_ON_MAX_OBLIQUITY_DEG => warnings.push(format!(
            "camera is {o:.0}° off the side view: joint angles are corrected for it, but the lumbar, pelvic \
             tilt and rib readings from the back's outline are not (off by up to ~10° on test footage, so a \
             tilt may be missed or reported wrongly); film square to the side of the body, at hip height"
        )),
        None if !side_on => {
            warnings.push("camera is not side-on: place it at hip height, square to the side of the body".to_string())
        }
        _ => {}
    }
    ViewCheck {
        side_on,
        upright: None,
        back_read: obliquity_deg.is_some_and(spine_model::back_in_view),
        obliquity_deg: obliquity_deg.map(|o| (o * 10.0).round() / 10.0),
        near_side: clip_view.and_then(|v| v.near_side),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinematics::geometry::V2;
    use crate::kinematics::outline::{TorsoOutline, STATION_COUNT};
    use crate::pose::landmarks::LandmarkId as L;
    use crate::pose::landmarks::{Landmark, BODY_LANDMARKS};

    /// A frame at `time_s` with hips at (100 + x, 300) and shoulders 200 px
    /// above, and (when `edge` is given) an outline whose every edge is at `edge`.
    fn frame(k: u64, x: f32, edge: Option<f64>) -> Observed {
        let mut lms = [Landmark { visibility: 1.0, presence: 1.0, ..Default::default() }; BODY_LANDMARKS];
        for (id, y) in [(L::LeftHip, 300.0), (L::RightHip, 300.0), (L::LeftShoulder, 100.0), (L::RightShoulder, 100.0)]
        {
            lms[id.index()].x_px = 100.0 + x;
            lms[id.index()].y_px = y;
        }
        let outline = edge.map(|d| TorsoOutline {
            hip_px: V2::new(100.0 + x as f64, 300.0),
            shoulder_px: V2::new(100.0 + x as f64, 100.0),
            plus: [Some(d); STATION_COUNT],
            minus: [Some(d); STATION_COUNT],
        });
        Observed {
            index: k,
            time_s: k as f64 / 30.0,
            body: Some(BodyFrame { landmarks: lms, world_m: [[0.0; 3]; BODY_LANDMARKS], outline, crop: None }),
        }
    }

    fn edge(o: &Observed) -> Option<f64> {
        o.body.as_ref()?.outline.as_ref()?.plus[0]
    }

    #[test]
    fn only_video_above_1920_pixels_is_analysed_smaller() {
        let info = |width, height| VideoInfo {
            kind: crate::video::SourceKind::File("x.mp4".into()),
            width,
            height,
            fps: 30.0,
            frame_count_hint: None,
            rotation_deg: 0,
            mirrored: false,
        };
        assert_eq!(analysis_frame_size(&info(3840, 2160)), (1920, 1080));
        assert_eq!(analysis_frame_size(&info(2160, 3840)), (1080, 1920));
        assert_eq!(analysis_frame_size(&info(1080, 1920)), (1080, 1920));
        assert_eq!(analysis_frame_size(&info(640, 480)), (640, 480));
    }

    #[test]
    fn skipped_masks_get_outlines_between_their_neighbours() {
        // measured at 0 and 3 (edges 0.2 and 0.5), skipped at 1 and 2, the body moving right
        let mut bodies =
            vec![frame(0, 0.0, Some(0.2)), frame(1, 5.0, None), frame(2, 10.0, None), frame(3, 15.0, Some(0.5))];
        fill_skipped_outlines(&mut bodies, &[false, true, true, false]);
        assert!((edge(&bodies[1]).unwrap() - 0.3).abs() < 1e-9);
        assert!((edge(&bodies[2]).unwrap() - 0.4).abs() < 1e-9);
        let o = bodies[2].body.as_ref().unwrap().outline.as_ref().unwrap();
        assert_eq!(o.hip_px, V2::new(110.0, 300.0), "on the frame's own axis");
        assert_eq!(edge(&bodies[0]), Some(0.2), "measured frames untouched");
    }

    #[test]
    fn gaps_beyond_reach_and_unmeasured_frames_stay_empty() {
        // a track end: the last measured frame holds within MAX_OUTLINE_GAP_S only
        let mut bodies: Vec<Observed> =
            std::iter::once(frame(0, 0.0, Some(0.2))).chain((1..12).map(|k| frame(k, 0.0, None))).collect();
        let mut skipped = vec![true; 12];
        skipped[0] = false;
        // frame 11 was not skipped: its outline was measured and not found
        skipped[11] = false;
        fill_skipped_outlines(&mut bodies, &skipped);
        let reach = (MAX_OUTLINE_GAP_S * 30.0).floor() as usize;
        assert!((1..=reach).all(|k| edge(&bodies[k]) == Some(0.2)), "held up to {reach} frames");
        assert!((reach + 1..12).all(|k| edge(&bodies[k]).is_none()), "nothing beyond the reach");
        // no person: nothing to fill, no panic
        let mut empty = vec![Observed { index: 0, time_s: 0.0, body: None }];
        fill_skipped_outlines(&mut empty, &[true]);
        assert!(empty[0].body.is_none());
        fill_skipped_outlines(&mut [], &[]);
    }

    /// A body with mid-shoulders, mid-hips and mid-ankles at the given pixels.
    fn posed(shoulder: (f32, f32), hip: (f32, f32), ankle: (f32, f32)) -> Observed {
        let mut lms = [Landmark { visibility: 1.0, presence: 1.0, ..Default::default() }; BODY_LANDMARKS];
        for (ids, (x, y)) in [
            ([L::LeftShoulder, L::RightShoulder], shoulder),
            ([L::LeftHip, L::RightHip], hip),
            ([L::LeftAnkle, L::RightAnkle], ankle),
        ] {
            for id in ids {
                lms[id.index()].x_px = x;
                lms[id.index()].y_px = y;
            }
        }
        Observed {
            index: 0,
            time_s: 0.0,
            body: Some(BodyFrame { landmarks: lms, world_m: [[0.0; 3]; BODY_LANDMARKS], outline: None, crop: None }),
        }
    }

    #[test]
    fn upright_holds_through_a_deep_hinge_and_not_on_a_side() {
        let standing = posed((100.0, 100.0), (100.0, 300.0), (100.0, 500.0));
        // bottom of a deep hinge: trunk horizontal (even a little below), hips back of the ankles
        let bottom = posed((300.0, 310.0), (100.0, 300.0), (160.0, 500.0));
        // deep squat: hips low and far back, still above the ankles
        let squat = posed((250.0, 250.0), (100.0, 400.0), (230.0, 560.0));
        for b in [&standing, &bottom, &squat] {
            assert_eq!(upright_share(std::slice::from_ref(b)), Some(1.0));
        }
        // turned 90° either way (legs sideways), upside down (legs up), lying down
        let cw = posed((500.0, 100.0), (300.0, 100.0), (100.0, 100.0));
        let ccw = posed((100.0, 100.0), (300.0, 100.0), (500.0, 100.0));
        let upside_down = posed((100.0, 500.0), (100.0, 300.0), (100.0, 100.0));
        let lying = posed((100.0, 400.0), (300.0, 410.0), (500.0, 420.0));
        for b in [&cw, &ccw, &upside_down, &lying] {
            assert_eq!(upright_share(std::slice::from_ref(b)), Some(0.0));
        }
        // a clip: the share of frames with a person; none without one
        let none = Observed { index: 0, time_s: 0.0, body: None };
        let clip = [standing.clone(), bottom, cw.clone(), none.clone()];
        assert_eq!(upright_share(&clip), Some(2.0 / 3.0));
        assert_eq!(upright_share(&[none]), None);
        assert_eq!(upright_share(&[]), None);
    }

    #[test]
    fn a_clip_not_upright_is_not_measured() {
        let info = VideoInfo {
            kind: crate::video::SourceKind::File("x.mp4".into()),
            width: 640,
            height: 480,
            fps: 30.0,
            frame_count_hint: Some(60),
            rotation_deg: 0,
            mirrored: false,
        };
        let spine = crate::kinematics::spine_model::FixedReadings::default();
        let sideways: Vec<Observed> = (0..60)
            .map(|k| {
                let mut o = posed((500.0, 100.0), (300.0, 100.0), (100.0, 100.0));
                o.index = k;
                o.time_s = k as f64 / 30.0;
                o
            })
            .collect();
        let a = interpret("x", info.clone(), "full".into(), &sideways, &spine, Rules::default()).unwrap();
        assert_eq!(a.view.upright, Some(false));
        assert_eq!(a.view.warnings, vec![NOT_UPRIGHT_WARNING.to_string()]);
        assert!(a.reps.is_empty() && a.clip_faults.is_empty() && a.clip_view.is_none());
        assert!(a.frames.iter().all(|f| f.metrics == FrameMetrics::default() && f.phase.is_none()));
        assert_eq!(a.baseline.frames, 0);
        let upright: Vec<Observed> = (0..60)
            .map(|k| {
                let mut o = posed((100.0, 100.0), (100.0, 300.0), (100.0, 500.0));
                o.index = k;
                o.time_s = k as f64 / 30.0;
                o
            })
            .collect();
        let a = interpret("x", info, "full".into(), &upright, &spine, Rules::default()).unwrap();
        assert_eq!(a.view.upright, Some(true));
        assert!(a.frames.iter().all(|f| f.phase == Some(Phase::Standing)));
    }
}
