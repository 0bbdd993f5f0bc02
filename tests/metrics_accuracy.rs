//! Accuracy on bodies the spine model never saw: runs the release binary's
//! `eval` on the held-out sets in the repository and checks each figure
//! against issue 13's target where it is met, and against a regression guard
//! (the figure measured when the model shipped, plus a margin) where it is
//! not — every such gap is stated in README.md. A failure names the set, the
//! metric, the figure and the bound.
//!
//! * `tests/fixtures/heldout`: five rendered bodies of the test plan
//!   (tools/synth/make_hinge_set.py test, bodies test_0005..test_0009) with
//!   every variant, box loads and a practice set — none of them used in
//!   training (the plan's other five bodies are, tools/spine/build.sh);
//! * `tests/fixtures/heldout_loose`: six more rendered bodies in loose tops
//!   (sweatshirts, hoodies over the waistband; make_hinge_set.py testloose,
//!   bodies test_0010..test_0015), never used in training either: the back's
//!   outline is fabric, as in the real lifts;
//! * `samples/dev` + `samples/dev_sessions`: the dev body (also never used in
//!   training), side and oblique views, and two practice sets, one a rotated
//!   phone video.

mod common;

use std::path::Path;

use common::{hinge, repo, run, stderr, stdout};
use serde_json::Value;

/// Least share of frames with the person found in each clip (a set's own
/// least share is in its [`Expect`]).
const MIN_PERSON_PER_CLIP: f64 = 0.85;

/// Where a figure is asserted.
#[derive(Clone, Copy)]
enum Bound {
    /// Issue 13's target, met today: the test holds the project to it.
    Target(f64),
    /// Issue 13's target is *not* met today (first number): the test holds
    /// the figure measured on this set when the spine model shipped, plus a
    /// margin (second number), so that nothing makes it worse unnoticed. The
    /// gap is stated in README.md and docs/spine_model.md.
    Guard(f64, f64),
    /// Issue 13's target (first number), met with room to spare: the test
    /// holds the figure measured when the spine model shipped, plus a margin
    /// (second number, below the target), so that the gain is not lost unnoticed.
    Kept(f64, f64),
}

impl Bound {
    fn limit(self) -> f64 {
        match self {
            Bound::Target(t) => t,
            Bound::Guard(_, g) | Bound::Kept(_, g) => g,
        }
    }
    fn describe(self) -> String {
        match self {
            Bound::Target(t) => format!("issue 13's target {t}"),
            Bound::Guard(t, g) => format!("regression guard {g}; issue 13's target {t} is not met yet"),
            Bound::Kept(t, g) => format!("regression guard {g}; issue 13's target {t} is met"),
        }
    }
}

/// What one set must show.
struct Expect {
    /// MAE bounds (°, cm) over all frames with a value.
    mae: [(&'static str, Bound); 7],
    /// Metrics whose MAE must stay below this share of predicting zero ("clearly better than zero").
    vs_zero: &'static [(&'static str, f64)],
    /// Least share of single-variant clips with the exact fault set.
    fault_sets: Bound,
    /// Least share of practice-set reps with the right faults.
    session_reps: Bound,
    /// Least share of the set's frames with the person found.
    min_person: f64,
    /// Least share of the set's frames with a back reading (lumbar flexion):
    /// the back is left empty where the camera is too far off the side view or
    /// the spine model's members disagree, and a back MAE over fewer frames is
    /// not a better one.
    min_back_read: f64,
    /// Least share of the single-variant clips filmed side-on (≤ 20° off the
    /// side) with the exact fault set.
    side_on_fault_sets: Bound,
    /// Faults found in every clip and practice rep that shows them and never
    /// reported where none is shown (the summary's `per_fault`).
    faults_always_right: &'static [&'static str],
    /// Largest mean distance of the reps' starts from the truth's descent
    /// onsets, s (the summary's `rep_start_s`, where every rep must have an
    /// onset of its own): a rep timed from the wrong frame is matched to the
    /// wrong truth rep, and its verdict read on the wrong frames.
    rep_start_mae_s: f64,
}

/// Five rendered bodies never used in training or for choosing anything.
/// Measured with the shipped model and the back not read beyond 35° off the
/// side (hinge eval, docs/spine_model.md): trunk 1.64, hip angle 1.57, knee
/// 1.72, hip flexion 6.36 (zero 33.76), lumbar 4.80 (zero 5.80), pelvic tilt
/// 4.28 (zero 3.99), rib stack 4.71 (zero 8.80), the back read on 3017/4896
/// frames (before the view limit: 5.66, 5.18, 5.69 on 4499 frames); fault
/// sets 17/28 (side-on 10/13; 18/28 and 11/13 before reps were timed from
/// where the descent begins), practice-set reps 3/5, rep starts 0.13 s from
/// the descent's onset (55 reps); person found in
/// 4896/4896 frames; squat and far load found on every clip that shows them,
/// never elsewhere.
/// Lumbar and tilt are under the 6° target, but tilt is worse than predicting
/// zero and lumbar only 17% better, so the target is not met: they are
/// guarded, and lumbar must stay ahead of zero.
const HELD_OUT: Expect = Expect {
    mae: [
        ("trunk_deg", Bound::Target(2.5)),
        ("hip_angle_deg", Bound::Kept(5.0, 2.2)),
        ("knee_flexion_deg", Bound::Kept(4.0, 2.4)),
        ("hip_flexion_deg", Bound::Guard(6.0, 7.0)),
        ("lumbar_flexion_deg", Bound::Guard(6.0, 5.3)),
        ("pelvic_tilt_deg", Bound::Guard(6.0, 4.8)),
        ("rib_stack_deg", Bound::Guard(6.0, 5.2)),
    ],
    vs_zero: &[("trunk_deg", 0.2), ("hip_flexion_deg", 0.35), ("lumbar_flexion_deg", 0.92), ("rib_stack_deg", 0.6)],
    fault_sets: Bound::Guard(0.9, 0.55),
    session_reps: Bound::Guard(0.9, 0.4),
    min_person: 0.995,
    min_back_read: 0.58,
    side_on_fault_sets: Bound::Guard(0.9, 0.75),
    faults_always_right: &["squat_pattern", "load_far"],
    rep_start_mae_s: 0.2,
};

/// Six more rendered bodies never used in training, in loose tops
/// (sweatshirts and hoodies over the waistband: the back's outline is fabric,
/// as in the real lifts). Measured with the shipped model and the back not
/// read beyond 35° off the side: trunk 1.92, hip angle 2.48, knee 2.57, hip
/// flexion 7.30 (zero 30.74), lumbar 6.71 (zero 9.80), pelvic tilt 6.36 (zero
/// 8.51), rib stack 6.94 (zero 11.98), the back read on 617/964 frames (before
/// the view limit: 6.05, 5.59, 6.39 against zero 7.84, 6.45, 9.77 on 930
/// frames: the frames left out were easy ones, near zero); fault sets 9/16
/// (side-on 5/8; 6/8 before the fault rules of December 2026), practice-set reps 3/5, rep starts 0.07 s from the
/// descent's onset (35 reps); person found in 964/971 frames;
/// squat and far load always right. The
/// landmark model's own hip and knee angles miss here (8.2° and 6.0°: the hip
/// keypoint sits in the fabric); the spine model's corrections bring them
/// under the targets, and the guards keep them there.
const HELD_OUT_LOOSE: Expect = Expect {
    mae: [
        ("trunk_deg", Bound::Target(2.5)),
        ("hip_angle_deg", Bound::Kept(5.0, 3.2)),
        ("knee_flexion_deg", Bound::Kept(4.0, 3.3)),
        ("hip_flexion_deg", Bound::Guard(6.0, 7.9)),
        ("lumbar_flexion_deg", Bound::Guard(6.0, 7.2)),
        ("pelvic_tilt_deg", Bound::Guard(6.0, 6.9)),
        ("rib_stack_deg", Bound::Guard(6.0, 7.4)),
    ],
    vs_zero: &[
        ("trunk_deg", 0.2),
        ("hip_flexion_deg", 0.35),
        ("lumbar_flexion_deg", 0.8),
        ("pelvic_tilt_deg", 0.85),
        ("rib_stack_deg", 0.7),
    ],
    fault_sets: Bound::Guard(0.9, 0.5),
    session_reps: Bound::Guard(0.9, 0.4),
    min_person: 0.99,
    min_back_read: 0.6,
    side_on_fault_sets: Bound::Guard(0.9, 0.6),
    faults_always_right: &["squat_pattern", "load_far"],
    rep_start_mae_s: 0.15,
};

/// The dev body (samples/dev, samples/dev_sessions), also never used in
/// training. Measured: trunk 1.93, hip angle 1.34, knee 1.56, hip flexion 6.42,
/// lumbar 6.04 (zero 6.83), pelvic tilt 5.47 (zero 5.73), rib stack 6.38
/// (zero 7.76), the back read on 2706/2835 frames (one clip filmed 39° off
/// the side is not read; before the view limit 5.91, 5.33, 6.19); fault sets 8/12 (6/12 before the
/// fault rules of December 2026), practice-set reps 8/11, rep starts 0.12 s from the descent's onset (35
/// reps; 0.31 s before reps were timed from where the descent begins); squat and far load always right (of the back
/// faults only the anterior tilt is found on this body: docs/metrics.md).
const DEV_BODY: Expect = Expect {
    mae: [
        ("trunk_deg", Bound::Target(2.5)),
        ("hip_angle_deg", Bound::Kept(5.0, 2.0)),
        ("knee_flexion_deg", Bound::Kept(4.0, 2.2)),
        ("hip_flexion_deg", Bound::Guard(6.0, 6.9)),
        ("lumbar_flexion_deg", Bound::Guard(6.0, 6.4)),
        ("pelvic_tilt_deg", Bound::Target(6.0)),
        ("rib_stack_deg", Bound::Guard(6.0, 6.9)),
    ],
    vs_zero: &[("trunk_deg", 0.2), ("hip_flexion_deg", 0.35)],
    fault_sets: Bound::Guard(0.9, 0.6),
    session_reps: Bound::Guard(0.9, 0.6),
    min_person: 0.995,
    min_back_read: 0.9,
    // its clips' metadata gives no camera angle: no side-on clips to count
    side_on_fault_sets: Bound::Guard(0.9, 0.0),
    faults_always_right: &["squat_pattern", "load_far"],
    rep_start_mae_s: 0.2,
};

fn run_eval(dirs: &[&Path]) -> Value {
    let mut c = hinge();
    c.args(["eval", "--json", "-q", "--jobs", "2"]);
    for d in dirs {
        c.arg(d);
    }
    let o = run(c);
    assert!(o.status.success(), "hinge eval failed: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("eval --json prints JSON")
}

fn name(c: &Value) -> &str {
    c["clip"]["name"].as_str().unwrap_or("?")
}

fn set(v: &Value) -> Vec<String> {
    let mut s: Vec<String> =
        v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect();
    s.sort();
    s
}

/// `ok` and `of` of one of the summary's tallies.
fn tally(summary: &Value, key: &str) -> (usize, usize) {
    let t = &summary[key];
    (t["ok"].as_u64().expect(key) as usize, t["of"].as_u64().expect(key) as usize)
}

/// Checks one held-out set from the summary `hinge eval --json` prints (the
/// figures of its table); the clips name what went wrong. Returns the
/// failures, each naming the set.
fn check(set_name: &str, report: &Value, expect: &Expect) -> Vec<String> {
    let summary = &report["summary"];
    let mut failures = Vec::new();
    for c in report["clips"].as_array().expect("clips") {
        let clip = name(c);
        let (frames, seen) = (c["frames"].as_u64().unwrap(), c["frames_with_person"].as_u64().unwrap());
        // BlazePose's detector can take a moment to fire on a person standing side-on (one held-out
        // clip: its first 18 frames); every other frame of every clip has the person
        if (seen as f64) < MIN_PERSON_PER_CLIP * frames as f64 {
            failures.push(format!("{set_name}: {clip}: person found in {seen}/{frames} frames"));
        }
        let (found, expected) = (c["reps_found"].as_u64().unwrap(), c["clip"]["reps"].as_u64().unwrap());
        if found != expected {
            failures.push(format!("{set_name}: {clip}: {found} reps counted, {expected} expected"));
        }
        if set(&c["faults_found"]) != set(&c["faults_expected"]) {
            eprintln!(
                "{set_name}: {clip} ({}): faults {:?}, expected {:?}",
                c["clip"]["variant"],
                set(&c["faults_found"]),
                set(&c["faults_expected"])
            );
        }
        for r in c["rep_scores"].as_array().into_iter().flatten().filter(|r| r["ok"].as_bool() != Some(true)) {
            eprintln!(
                "{set_name}: {clip}: rep {} expected {:?} but found {:?}",
                r["truth_index"],
                set(&r["expected"]),
                set(&r["found"])
            );
        }
    }
    let metrics = summary["metrics"].as_array().expect("summary.metrics");
    for (metric, bound) in expect.mae {
        let Some(m) = metrics.iter().find(|m| m["metric"] == metric) else {
            failures.push(format!("{set_name}: {metric} has no value in any frame"));
            continue;
        };
        let (mae, zero) = (m["mae"].as_f64().unwrap(), m["zero_mae"].as_f64().unwrap());
        eprintln!("{set_name}: {metric} MAE {mae:.2} (zero predictor {zero:.2}; {})", bound.describe());
        if mae > bound.limit() {
            failures.push(format!("{set_name}: {metric} MAE {mae:.2} > {} ({})", bound.limit(), bound.describe()));
        }
        if let Some((_, share)) = expect.vs_zero.iter().find(|(m, _)| *m == metric) {
            if mae > share * zero {
                failures.push(format!(
                    "{set_name}: {metric} MAE {mae:.2} is not clearly below predicting zero ({zero:.2}, ×{share})"
                ));
            }
        }
    }
    let (seen_all, frames_all) = (summary["frames_with_person"].as_u64().unwrap(), summary["frames"].as_u64().unwrap());
    if (seen_all as f64) < expect.min_person * frames_all as f64 {
        failures.push(format!("{set_name}: person found in {seen_all}/{frames_all} frames (< {})", expect.min_person));
    }
    if let Some(m) = metrics.iter().find(|m| m["metric"] == "lumbar_flexion_deg") {
        let (read, empty) = (m["frames"].as_u64().unwrap(), m["frames_without_value"].as_u64().unwrap());
        eprintln!("{set_name}: back read on {read}/{} frames", read + empty);
        if (read as f64) < expect.min_back_read * (read + empty) as f64 {
            failures.push(format!(
                "{set_name}: the back read on only {read}/{} frames (< {})",
                read + empty,
                expect.min_back_read
            ));
        }
    }
    let share = |(ok, n): (usize, usize)| if n == 0 { 1.0 } else { ok as f64 / n as f64 };
    let (sets, reps) = (tally(summary, "fault_set_exact"), tally(summary, "practice_reps_right"));
    eprintln!("{set_name}: fault sets exact {}/{}, practice reps right {}/{}", sets.0, sets.1, reps.0, reps.1);
    if share(sets) < expect.fault_sets.limit() {
        failures.push(format!(
            "{set_name}: fault set exact on {}/{} clips ({})",
            sets.0,
            sets.1,
            expect.fault_sets.describe()
        ));
    }
    if share(reps) < expect.session_reps.limit() {
        failures.push(format!(
            "{set_name}: practice-set reps right {}/{} ({})",
            reps.0,
            reps.1,
            expect.session_reps.describe()
        ));
    }
    let side_on = tally(summary, "fault_set_exact_side_on");
    eprintln!("{set_name}: fault sets exact on side-on clips {}/{}", side_on.0, side_on.1);
    if share(side_on) < expect.side_on_fault_sets.limit() {
        failures.push(format!(
            "{set_name}: fault set exact on {}/{} side-on clips ({})",
            side_on.0,
            side_on.1,
            expect.side_on_fault_sets.describe()
        ));
    }
    let unpaired = summary["rep_start_s"]["reps_without_onset"].as_u64();
    if unpaired != Some(0) {
        failures.push(format!("{set_name}: {unpaired:?} reps found with no truth onset of their own (rep_start_s)"));
    }
    match summary["rep_start_s"]["mae"].as_f64() {
        Some(mae) => {
            eprintln!("{set_name}: rep starts {mae:.2} s from the descent's onset");
            if mae > expect.rep_start_mae_s {
                failures.push(format!(
                    "{set_name}: rep starts {mae:.2} s from the truth's descent onset on average (> {} s)",
                    expect.rep_start_mae_s
                ));
            }
        }
        None => failures.push(format!("{set_name}: no rep paired with a truth onset (rep_start_s)")),
    }
    for fault in expect.faults_always_right {
        let per_fault = summary["per_fault"].as_array().expect("summary.per_fault");
        let Some(f) = per_fault.iter().find(|f| f["fault"] == *fault) else {
            failures.push(format!("{set_name}: no per-fault figures for {fault}"));
            continue;
        };
        let (found, absent) = (tally(f, "found_where_shown"), tally(f, "reported_where_absent"));
        if found.0 != found.1 || absent.0 != 0 {
            failures.push(format!(
                "{set_name}: {fault} found in {}/{} cases that show it and reported in {}/{} that do not \
                 (always right when the model shipped)",
                found.0, found.1, absent.0, absent.1
            ));
        }
    }
    failures
}

#[test]
fn held_out_bodies_meet_the_targets() {
    let report = run_eval(&[&repo("tests/fixtures/heldout")]);
    let failures = check("heldout", &report, &HELD_OUT);
    assert!(failures.is_empty(), "held-out figures missed:\n  {}", failures.join("\n  "));
}

#[test]
fn held_out_bodies_in_loose_tops_meet_the_targets() {
    let report = run_eval(&[&repo("tests/fixtures/heldout_loose")]);
    let failures = check("heldout_loose", &report, &HELD_OUT_LOOSE);
    assert!(failures.is_empty(), "held-out figures (loose tops) missed:\n  {}", failures.join("\n  "));
}

#[test]
fn the_dev_body_meets_the_targets() {
    let report = run_eval(&[&repo("samples/dev"), &repo("samples/dev_sessions")]);
    let failures = check("dev body", &report, &DEV_BODY);
    assert!(failures.is_empty(), "dev-body figures missed:\n  {}", failures.join("\n  "));
}
