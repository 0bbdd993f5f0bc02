//! From landmarks to angles: trunk, hip and knee per frame, with the side of
//! the body facing the camera and the walking direction detected, not
//! assumed; the spine model's lumbar, pelvis and rib-cage readings; and the
//! clip-level series (smoothing, readings carried between mask frames, the
//! stoop–squat index).
//!
//! All angles are in degrees. Definitions and signs follow `docs/metrics.md`.
//! The submodules depend on one another without cycles: `body` and
//! `geometry` are leaves, `outline` and `spine_input` read the mask,
//! `sagittal` measures a frame, `spine_model` reads the spine, and this
//! module puts a clip's series together.

pub mod body;
pub mod geometry;
pub mod metric;
pub mod outline;
pub mod sagittal;
pub mod spine_input;
pub mod spine_model;

pub use body::{facing_of, Facing, FacingVote, FrameMetrics, MIN_VISIBILITY};
pub(crate) use body::{mid2, usable};
use sagittal::FrameFeatures;
pub use sagittal::{measure, BodyFrame, ClipView, Side};

/// The spine model's input for each frame (parallel to `bodies`): frames with
/// a torso crop and the three segment angles, in the clip's view.
pub fn spine_inputs(
    bodies: &[Option<&BodyFrame>],
    view: &ClipView,
    features: &[FrameFeatures],
) -> Vec<Option<spine_input::SpineInput>> {
    bodies
        .iter()
        .zip(features)
        .map(|(b, f)| {
            let b = (*b)?;
            spine_input::SpineInput::new(
                b.crop.as_ref()?,
                &b.landmarks,
                view.facing,
                view.signed_obliquity_deg(),
                [f.trunk_lean_deg, f.thigh_deg, f.shank_deg],
            )
        })
        .collect()
}

/// Running-median window applied to the spine model's readings, s: a few
/// mask frames at the default 10 Hz, enough to drop a single bad mask.
pub const SPINE_SMOOTH_WINDOW_S: f64 = 0.3;

/// Farthest a frame may be from spine readings on both sides (or on one side
/// at the ends of a track) to take a value interpolated from them, s.
pub const SPINE_MAX_GAP_S: f64 = 0.25;

/// Completes a clip's per-frame metrics over time with the spine model's
/// readings (`spine`, parallel to `times` and `metrics`; `None` on frames
/// without a mask or where the model could not read the back). The readings
/// are smoothed with a centred running median over
/// [`SPINE_SMOOTH_WINDOW_S`], then carried to the frames between them by
/// linear interpolation when both neighbours lie within [`SPINE_MAX_GAP_S`]
/// (the mask is computed ten times a second by default). Frames without a
/// person (`has_person` false) stay empty. The trunk, the hip angle and the
/// knee flexion are read by the model as well: the difference between its
/// reading and the keypoint angle (the keypoint trunk line misses the joint
/// centres by a body- and view-dependent offset; the keypoint hip lies in the
/// fabric of a loose top) is carried over time the same way and added to every
/// frame's keypoint angle. An angle the model does not read stays as the
/// keypoints give it. With `back_in_view` false (the camera too far off the
/// side view, [`spine_model::back_in_view`]) the lumbar flexion, pelvic tilt
/// and rib stack stay empty on every frame.
pub fn finish_series(
    times: &[f64],
    mut metrics: Vec<FrameMetrics>,
    has_person: &[bool],
    spine: &[Option<spine_model::SpineEstimate>],
    back_in_view: bool,
) -> Vec<FrameMetrics> {
    let channel = |raw: Vec<Option<f64>>| -> Vec<Option<f64>> {
        let smoothed = smooth_median(times, raw, SPINE_SMOOTH_WINDOW_S);
        fill_gaps(times, &smoothed, has_person, SPINE_MAX_GAP_S)
    };
    // the back only where the ensemble agrees; the trunk correction wherever there is a reading
    let of = |f: fn(&spine_model::SpineEstimate) -> f64| {
        spine.iter().map(|e| e.as_ref().filter(|e| e.back_is_read()).map(f)).collect()
    };
    let back = |f: fn(&spine_model::SpineEstimate) -> f64| {
        if back_in_view {
            channel(of(f))
        } else {
            vec![None; times.len()]
        }
    };
    let lumbar = back(|e| e.lumbar_flexion_deg);
    let tilt = back(|e| e.pelvic_tilt_deg);
    let rib = back(|e| e.rib_stack_deg);
    let hip = channel(of(|e| e.hip_flexion_deg));
    // the trunk, hip angle and knee flexion: the model's reading at mask
    // frames as a correction of the keypoint angle, carried to every frame in between
    let fix = |model: fn(&spine_model::SpineEstimate) -> Option<f64>, keypoint: fn(&FrameMetrics) -> Option<f64>| {
        channel(spine.iter().zip(&metrics).map(|(e, m)| Some(model(e.as_ref()?)? - keypoint(m)?)).collect())
    };
    let trunk_fix = fix(|e| Some(e.trunk_deg), |m| m.trunk_deg);
    let hip_angle_fix = fix(|e| e.hip_angle_deg, |m| m.hip_angle_deg);
    let knee_fix = fix(|e| e.knee_flexion_deg, |m| m.knee_flexion_deg);
    let corrected = |v: Option<f64>, fix: Option<f64>| v.map(|v| v + fix.unwrap_or(0.0));
    for (i, m) in metrics.iter_mut().enumerate() {
        if !has_person.get(i).copied().unwrap_or(false) {
            continue;
        }
        m.lumbar_flexion_deg = lumbar[i];
        m.pelvic_tilt_deg = tilt[i];
        m.rib_stack_deg = rib[i];
        m.hip_flexion_deg = hip[i];
        m.trunk_deg = corrected(m.trunk_deg, trunk_fix[i]);
        m.hip_angle_deg = corrected(m.hip_angle_deg, hip_angle_fix[i]);
        m.knee_flexion_deg = corrected(m.knee_flexion_deg, knee_fix[i]);
    }
    metrics
}

/// Values at the frames that have none (`wanted` true), interpolated
/// linearly from the nearest values before and after within `max_gap_s`,
/// or taken from the one neighbour within half of it at the ends of a run.
pub fn fill_gaps(times: &[f64], values: &[Option<f64>], wanted: &[bool], max_gap_s: f64) -> Vec<Option<f64>> {
    let n = values.len();
    let mut prev: Vec<Option<usize>> = vec![None; n];
    let mut last = None;
    for i in 0..n {
        if values[i].is_some() {
            last = Some(i);
        }
        prev[i] = last;
    }
    let mut next: Vec<Option<usize>> = vec![None; n];
    let mut last = None;
    for i in (0..n).rev() {
        if values[i].is_some() {
            last = Some(i);
        }
        next[i] = last;
    }
    (0..n)
        .map(|i| {
            if values[i].is_some() || !wanted.get(i).copied().unwrap_or(false) {
                return values[i];
            }
            let t = times[i];
            let near = |j: Option<usize>, reach: f64| j.filter(|&j| (times[j] - t).abs() <= reach);
            match (near(prev[i], max_gap_s), near(next[i], max_gap_s)) {
                (Some(a), Some(b)) => {
                    let (va, vb) = (values[a]?, values[b]?);
                    let span = times[b] - times[a];
                    let f = if span > 0.0 { (t - times[a]) / span } else { 0.0 };
                    Some(va + (vb - va) * f)
                }
                _ => near(prev[i], max_gap_s / 2.0).or(near(next[i], max_gap_s / 2.0)).and_then(|j| values[j]),
            }
        })
        .collect()
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
        // the middle value, or the mean of the two middle ones
        let m = buf.len() / 2;
        out.push(match buf.len() {
            0 => None,
            n if n % 2 == 1 => Some(buf[m]),
            _ => Some(0.5 * (buf[m - 1] + buf[m])),
        });
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
    fn series_without_spine_readings_keeps_landmark_angles_only() {
        let m = FrameMetrics { trunk_deg: Some(70.0), hip_angle_deg: Some(85.0), ..Default::default() };
        let out = finish_series(&[0.0, 0.033], vec![m, FrameMetrics::default()], &[true, false], &[None, None], true);
        assert_eq!(out[0].trunk_deg, Some(70.0));
        assert!(out[0].lumbar_flexion_deg.is_none() && out[0].hip_flexion_deg.is_none());
        assert_eq!(out[1], FrameMetrics::default());
    }

    #[test]
    fn spine_readings_are_carried_between_mask_frames() {
        let e = |v: f64| spine_model::SpineEstimate {
            lumbar_flexion_deg: v,
            pelvic_tilt_deg: -v,
            rib_stack_deg: v,
            hip_flexion_deg: 2.0 * v,
            trunk_deg: 40.0,
            hip_angle_deg: Some(60.0),
            knee_flexion_deg: None,
            back_spread_deg: 1.0,
        };
        let times: Vec<f64> = (0..10).map(|i| i as f64 / 30.0).collect();
        // readings at frames 0, 3, 6 and 9 (10 Hz) rising steadily, one outlier at 6;
        // a person everywhere but frame 5
        let spine: Vec<Option<spine_model::SpineEstimate>> = (0..10)
            .map(|i| match i {
                0 | 3 | 9 => Some(e(i as f64 * 10.0 / 3.0)),
                6 => Some(e(90.0)),
                _ => None,
            })
            .collect();
        let mut has = [true; 10];
        has[5] = false;
        let out = finish_series(&times, vec![FrameMetrics::default(); 10], &has, &spine, true);
        let l: Vec<Option<f64>> = out.iter().map(|m| m.lumbar_flexion_deg).collect();
        // the 0.3 s median drops the outlier: frame 6 lies between its neighbours
        assert!(l[6].is_some_and(|v| (10.0..=30.0).contains(&v)), "{l:?}");
        // frames between readings are interpolated
        assert!(l[4].is_some_and(|v| v > l[3].unwrap() && v < l[6].unwrap()), "{l:?}");
        assert_eq!(l[5], None, "no person, no value");
        assert_eq!(out[3].pelvic_tilt_deg.map(|v| -v), l[3]);
        // the keypoint trunk (none here) stays empty; with one, the model's correction is carried
        assert!(out.iter().all(|m| m.trunk_deg.is_none()));
        let keypoint: Vec<FrameMetrics> =
            (0..10).map(|i| FrameMetrics { trunk_deg: Some(30.0 + i as f64), ..Default::default() }).collect();
        let out = finish_series(&times, keypoint, &has, &spine, true);
        // the model reads 40° where the keypoint line reads 30°, 33°, 36°, 39°: corrections +10, +7, +4, +1
        // (smoothed over 0.3 s), so the trunk reads about 40° throughout
        for (i, m) in out.iter().enumerate().filter(|(i, _)| *i != 5) {
            let t = m.trunk_deg.unwrap();
            assert!((37.0..=41.5).contains(&t), "frame {i}: {t}");
        }
    }

    /// A reading of a bent-over frame whose members spread by `back_spread_deg`.
    fn bent_reading(back_spread_deg: f64) -> spine_model::SpineEstimate {
        spine_model::SpineEstimate {
            lumbar_flexion_deg: 20.0,
            pelvic_tilt_deg: -5.0,
            rib_stack_deg: 22.0,
            hip_flexion_deg: 60.0,
            trunk_deg: 50.0,
            hip_angle_deg: Some(70.0),
            knee_flexion_deg: Some(30.0),
            back_spread_deg,
        }
    }

    #[test]
    fn back_readings_the_ensemble_disagrees_on_are_left_empty() {
        let e = |spread: f64| Some(bent_reading(spread));
        let times = [0.0, 1.0];
        let keypoint = vec![FrameMetrics { trunk_deg: Some(45.0), ..Default::default() }; 2];
        let out =
            finish_series(&times, keypoint, &[true, true], &[e(1.0), e(spine_model::MAX_BACK_SPREAD_DEG + 5.0)], true);
        assert_eq!(out[0].lumbar_flexion_deg, Some(20.0));
        assert_eq!(out[1].lumbar_flexion_deg, None, "members disagree: the back is not read");
        assert_eq!(out[1].pelvic_tilt_deg, None);
        assert_eq!(out[1].trunk_deg, Some(50.0), "the trunk still is");
        assert_eq!(out[0].hip_angle_deg, None, "no keypoint hip angle: nothing to correct");
    }

    #[test]
    fn back_is_left_empty_when_filmed_too_far_off_the_side() {
        let e = bent_reading(1.0);
        let keypoint = FrameMetrics {
            trunk_deg: Some(45.0),
            hip_angle_deg: Some(80.0),
            knee_flexion_deg: Some(20.0),
            ..Default::default()
        };
        let out = finish_series(&[0.0, 1.0], vec![keypoint; 2], &[true, true], &[Some(e), Some(e)], false);
        for m in &out {
            assert_eq!((m.lumbar_flexion_deg, m.pelvic_tilt_deg, m.rib_stack_deg), (None, None, None));
            assert_eq!(m.hip_flexion_deg, Some(60.0), "hip flexion is still read");
            assert_eq!((m.trunk_deg, m.hip_angle_deg, m.knee_flexion_deg), (Some(50.0), Some(70.0), Some(30.0)));
        }
        assert!(spine_model::back_in_view(spine_model::MAX_BACK_OBLIQUITY_DEG));
        assert!(!spine_model::back_in_view(spine_model::MAX_BACK_OBLIQUITY_DEG + 0.1));
    }

    #[test]
    fn hip_and_knee_readings_correct_the_keypoint_angles() {
        let e = |hip: Option<f64>, knee: Option<f64>| {
            Some(spine_model::SpineEstimate {
                lumbar_flexion_deg: 0.0,
                pelvic_tilt_deg: 0.0,
                rib_stack_deg: 0.0,
                hip_flexion_deg: 0.0,
                trunk_deg: 50.0,
                hip_angle_deg: hip,
                knee_flexion_deg: knee,
                back_spread_deg: spine_model::MAX_BACK_SPREAD_DEG + 1.0,
            })
        };
        let times = [0.0, 1.0, 2.0];
        let keypoint = FrameMetrics {
            trunk_deg: Some(45.0),
            hip_angle_deg: Some(80.0),
            knee_flexion_deg: Some(20.0),
            ..Default::default()
        };
        let spine = [e(Some(90.0), Some(25.0)), e(None, Some(15.0)), None];
        let out = finish_series(&times, vec![keypoint; 3], &[true; 3], &spine, true);
        assert_eq!(out[0].hip_angle_deg, Some(90.0), "corrected even where the back is not read");
        assert_eq!(out[0].knee_flexion_deg, Some(25.0));
        assert_eq!(out[1].hip_angle_deg, Some(80.0), "no hip reading: the keypoint angle");
        assert_eq!(out[1].knee_flexion_deg, Some(15.0));
        assert_eq!(out[2].hip_angle_deg, Some(80.0), "no reading within reach: the keypoint angle");
        assert_eq!(out[2].knee_flexion_deg, Some(20.0));
    }

    #[test]
    fn gaps_are_filled_only_within_reach() {
        let times: Vec<f64> = (0..20).map(|i| i as f64 / 30.0).collect();
        let mut v = vec![None; 20];
        v[0] = Some(0.0);
        v[4] = Some(4.0);
        v[19] = Some(19.0);
        let out = fill_gaps(&times, &v, &[true; 20], 0.25);
        assert!((out[2].unwrap() - 2.0).abs() < 1e-9, "interpolated");
        assert!(out[10].is_none(), "too far from both sides");
        assert_eq!(out[17], Some(19.0), "end of a run: the near neighbour");
        assert_eq!(out[14], None, "beyond half the reach at an end");
        let not_wanted = fill_gaps(&times, &v, &[false; 20], 0.25);
        assert_eq!(not_wanted[2], None);
    }
}
