//! The Python tools that make the spine model's data (tools/synth, tools/spine):
//! a wrong argument gets one clear line and a non-zero exit before anything is
//! rendered or written, and the held-out plans never share a body with a
//! training plan. Needs only `python3` (installed by scripts/setup.sh), not
//! Blender.

mod common;
use common::repo;
use std::process::{Command, Output};

fn python(args: &[&str]) -> Output {
    Command::new("python3").current_dir(repo("")).args(args).output().expect("python3 runs")
}

fn fails_with(o: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "expected a failure, got success; stderr: {err}");
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
}

#[test]
fn an_unknown_plan_is_refused_naming_the_plans() {
    let o = python(&["tools/synth/make_hinge_set.py", "nosuch"]);
    fails_with(&o, "unknown plan 'nosuch' (train2 | train3 | train4 | test | testloose)");
    let o = python(&["tools/spine/make_heldout_fixtures.py", "nosuch"]);
    fails_with(&o, "unknown plan 'nosuch' (test | testloose)");
}

#[test]
fn a_bad_frame_rate_is_refused_before_rendering() {
    let o = python(&["tools/synth/make_hinge_set.py", "testloose", "--fps", "fast"]);
    fails_with(&o, "--fps: expected a frame rate from 1 to 120, got 'fast'");
    let o = python(&["tools/synth/make_hinge_set.py", "testloose", "--fps", "0"]);
    fails_with(&o, "--fps: expected a frame rate from 1 to 120, got '0'");
}

#[test]
fn plans_never_share_a_body_and_the_loose_plans_dress_every_body() {
    let script = r#"
import itertools, sys
sys.path.insert(0, "tools/synth")
import make_hinge_set as m
cfgs = {p: m.make_configs(p, "/nonexistent") for p in m.PLANS}
ids = {p: {c["character"]["body_id"] for c in cs} for p, cs in cfgs.items()}
for a, b in itertools.combinations(ids, 2):
    assert not ids[a] & ids[b], (a, b, sorted(ids[a] & ids[b]))
for p, cs in cfgs.items():
    loose = [("loose_top" in c["character"]) for c in cs]
    assert all(loose) if m.PLANS[p].get("loose") else not any(loose), p
print(sorted((p, len(v)) for p, v in ids.items()))
"#;
    let o = python(&["-c", script]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "[('test', 10), ('testloose', 6), ('train2', 40), ('train3', 100), ('train4', 100)]"
    );
}

/// The held-out accuracy table of README.md and docs/metrics.md is written
/// from `hinge eval` summaries: every figure comes from them, met and missed
/// targets are judged per set, and an output that is not a summary is refused.
#[test]
fn the_accuracy_table_is_written_from_eval_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let summary = |mae_hip: f64, faults: &str, no_fault: &str| {
        format!(
            "clip                                     det%  trunk  faults (found / expected)\n\
             t_001_idle_anterior_b_side_L_3_box     100.0    1.0  0/0  anterior_tilt / anterior_tilt\n\
             t_002_idle_posterior_b_side_L_3_box    100.0    1.0  0/0  none / posterior_tilt ✗\n\
             \nOver all frames with a person (3 clips, 2 bodies); error = hinge − truth:\n\
             \x20 metric                   MAE        bias ± SD zero pred.   target\n\
             \x20 trunk_deg               1.50    +0.10 ± 2.00       25.00   ≤ 2.5 ok\n\
             \x20 hip_angle_deg           {mae_hip:.2}    -0.50 ± 2.50       47.00   ≤ 5.0 ok\n\
             \x20 lumbar_flexion_deg      6.50    +1.00 ± 8.00        6.00   ≤ 6.0 MISS  (9 frames without a value)\n\
             \x20 load_distance_cm        7.30    -1.20 ± 9.00       16.50           \n\
             \x20 person found          100/100 frames (100.00%)\n\
             \x20 rep count exact       3/3 clips\n\
             \x20 fault set exact       {faults} single-variant clips (predicting no fault: {no_fault})\n"
        )
    };
    let (a, b) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
    std::fs::write(&a, summary(1.81, "2/3", "1/3")).unwrap();
    std::fs::write(&b, summary(7.98, "1/2", "0/2")).unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let o = python(&["tools/accuracy_table.py", "--print", "--from", a, b]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for row in [
        "| `hip_angle_deg` | 1.81° (-0.5 ± 2.5) | 47.00° | 7.98° (-0.5 ± 2.5) | 47.00° | ≤ 5°: **missed** (heldout_loose) |",
        "| `lumbar_flexion_deg` | 6.50° (+1.0 ± 8.0) | 6.00° | 6.50° (+1.0 ± 8.0) | 6.00° | ≤ 6°: **missed** (heldout, heldout_loose); against zero: **8% worse** / **8% worse** |",
        "| `load_distance_cm` | 7.3 cm (-1.2 ± 9.0) | 16.5 cm | 7.3 cm (-1.2 ± 9.0) | 16.5 cm | — |",
        "| fault set exact (single-variant clips) | 2/3 | no fault: 1/3 | 1/2 | no fault: 0/2 | ≥ 90%: **missed** |",
        "| standing tilt habit found (clips) | 1/2 |  | 1/2 |  | found: **missed** |",
    ] {
        assert!(out.contains(row), "no row {row}\nin\n{out}");
    }
    std::fs::write(dir.path().join("c.txt"), "error: tests/fixtures/heldout: no such directory\n").unwrap();
    let c = dir.path().join("c.txt");
    let o = python(&["tools/accuracy_table.py", "--print", "--from", c.to_str().unwrap(), b]);
    fails_with(&o, "c.txt: no `rep count exact` line in the hinge eval output");
}
