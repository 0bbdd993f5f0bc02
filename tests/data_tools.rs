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
    let o = python(&["tools/spine/pack_footage.py", "heldout", "nosuch"]);
    fails_with(&o, "unknown heldout set 'nosuch' (test | testloose)");
    let o = python(&["tools/spine/pack_footage.py", "training", "test"]);
    fails_with(&o, "unknown training set 'test' (bank | train2 | train3 | train4 | testA)");
    let o = python(&["tools/spine/pack_footage.py", "fixtures"]);
    fails_with(&o, "usage: pack_footage.py heldout [test | testloose] | training SET");
}

#[test]
fn a_bad_frame_rate_is_refused_before_rendering() {
    let o = python(&["tools/synth/make_hinge_set.py", "testloose", "--fps", "fast"]);
    fails_with(&o, "--fps: expected a frame rate from 1 to 120, got 'fast'");
    let o = python(&["tools/synth/make_hinge_set.py", "testloose", "--fps", "0"]);
    fails_with(&o, "--fps: expected a frame rate from 1 to 120, got '0'");
    let o = python(&["tools/synth/make_hinge_set.py", "testloose", "--bodies", "test_000[0-4]"]);
    fails_with(&o, "--bodies: no body of plan testloose matches 'test_000[0-4]'");
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

/// The held-out accuracy tables of README.md and docs/metrics.md are written
/// from `hinge eval` summaries: every figure comes from them, met and missed
/// targets are judged per set, and an output that is not a summary is refused.
#[test]
fn the_accuracy_table_is_written_from_eval_summaries() {
    let dir = tempfile::tempdir().unwrap();
    // the shape of `hinge eval --json`'s summary (src/eval.rs, EvalSummary)
    let summary = |mae_hip: f64, faults: [usize; 2], no_fault: [usize; 2]| {
        let metric = |name: &str, mae: f64, bias: f64, sd: f64, zero: f64, target: Option<f64>| {
            // the back is left empty on some frames (the view, the members' spread)
            let empty = if name == "lumbar_flexion_deg" { 40 } else { 0 };
            serde_json::json!({"metric": name, "frames": 100 - empty, "mae": mae, "bias": bias, "sd": sd,
                               "zero_mae": zero, "target_mae": target, "frames_without_value": empty})
        };
        let tally = |[ok, of]: [usize; 2]| serde_json::json!({"ok": ok, "of": of});
        serde_json::json!({"summary": {
            "clips": 3, "bodies": 2, "frames": 100, "frames_with_person": 100,
            "metrics": [
                metric("trunk_deg", 1.5, 0.1, 2.0, 25.0, Some(2.5)),
                metric("hip_angle_deg", mae_hip, -0.5, 2.5, 47.0, Some(5.0)),
                metric("lumbar_flexion_deg", 6.5, 1.0, 8.0, 6.0, Some(6.0)),
                metric("load_distance_cm", 7.3, -1.2, 9.0, 16.5, None),
            ],
            "rep_count_exact": tally([3, 3]), "fault_set_exact": tally(faults),
            "rep_start_s": {"reps": 4, "mae": 0.12, "bias": 0.1, "sd": 0.05},
            "fault_set_no_fault_predictor": tally(no_fault), "practice_reps_right": tally([0, 0]),
            "standing_habits_found": tally([1, 2]), "fault_set_exact_side_on": tally([2, 2]),
            "fault_set_exact_oblique": tally([0, faults[1] - 2]),
            "per_fault": [
                {"fault": "rounded_lumbar", "found_where_shown": tally([1, 2]), "reported_where_absent": tally([0, 1])},
                {"fault": "squat_pattern", "found_where_shown": tally([0, 0]), "reported_where_absent": tally([1, 3])},
            ],
            "analysis_s": 1.0},
            "clips": []})
        .to_string()
    };
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&a, summary(1.81, [2, 3], [1, 3])).unwrap();
    std::fs::write(&b, summary(7.98, [1, 2], [0, 2])).unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let o = python(&["tools/accuracy_table.py", "--print", "--from", a, b]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for row in [
        "| `hip_angle_deg` | 1.81° (-0.5 ± 2.5) | 47.00° | 7.98° (-0.5 ± 2.5) | 47.00° | ≤ 5°: **missed** (heldout_loose) |",
        "| `lumbar_flexion_deg` | 6.50° (+1.0 ± 8.0) | 6.00° | 6.50° (+1.0 ± 8.0) | 6.00° | ≤ 6°: **missed** (heldout, heldout_loose); against zero: **8% worse** / **8% worse** |",
        "| `load_distance_cm` | 7.3 cm (-1.2 ± 9.0) | 16.5 cm | 7.3 cm (-1.2 ± 9.0) | 16.5 cm | — |",
        "| fault set exact (single-variant clips) | 2/3 | no fault: 1/3 | 1/2 | no fault: 0/2 | ≥ 90%: **missed** |",
        "| practice-set reps with the right faults | — |  | — |  | ≥ 90%: met |",
        "| rep start from the truth's descent onset (reps) | 0.12 s (+0.10 ± 0.05; 4 reps) |  | 0.12 s (+0.10 ± 0.05; 4 reps) |  | — |",
        "| standing tilt habit found (clips) | 1/2 |  | 1/2 |  | found: **missed** |",
        "| … of them filmed side-on (≤ 20° off the side) | 2/2 |  | 2/2 |  |  |",
        "| … of them filmed more obliquely | 0/1 |  | — |  |  |",
        "| frames with a back reading (the camera near enough the side view, the members agreeing) | 60/100 (60%) \
         |  | 60/100 (60%) |  | — |",
        // the per-fault table
        "| `rounded_lumbar` | 1/2 | 0/1 | 1/2 | 0/1 |",
        "| `squat_pattern` | — | 1/3 | — | 1/3 |",
    ] {
        assert!(out.contains(row), "no row {row}\nin\n{out}");
    }
    // the text table instead of the JSON, and a summary without a tally
    let c = dir.path().join("c.txt");
    std::fs::write(&c, "clip  det%  trunk\n  rep count exact       3/3 clips\n").unwrap();
    let o = python(&["tools/accuracy_table.py", "--print", "--from", c.to_str().unwrap(), b]);
    fails_with(&o, "c.txt: not a `hinge eval --json` summary");
    let d = dir.path().join("d.json");
    std::fs::write(&d, summary(1.0, [1, 1], [0, 1]).replace("rep_count_exact", "reps")).unwrap();
    let o = python(&["tools/accuracy_table.py", "--print", "--from", d.to_str().unwrap(), b]);
    fails_with(&o, "d.json: not a `hinge eval --json` summary (KeyError: 'rep_count_exact')");
    // a set whose reps had no truth onset to be timed against (footage without a phase column)
    let e = dir.path().join("e.json");
    let mut untimed: serde_json::Value = serde_json::from_str(&summary(1.0, [1, 1], [0, 1])).unwrap();
    untimed["summary"]["rep_start_s"] = serde_json::Value::Null;
    std::fs::write(&e, untimed.to_string()).unwrap();
    let o = python(&["tools/accuracy_table.py", "--print", "--from", e.to_str().unwrap(), b]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let row = "| rep start from the truth's descent onset (reps) | — |  | 0.12 s (+0.10 ± 0.05; 4 reps) |  | — |";
    assert!(String::from_utf8_lossy(&o.stdout).contains(row), "no row {row}");
}

/// The spine model's training footage packed in the repository (data/synth,
/// tools/spine/pack_footage.py) is complete as its manifests list it, and no
/// body of it is a held-out body of the test fixtures: the held-out figures
/// that README.md reports and tests/metrics_accuracy.rs asserts are on bodies
/// the model never saw.
#[test]
fn packed_training_footage_is_complete_and_shares_no_body_with_the_held_out_sets() {
    fn bodies(dir: &std::path::Path) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
        let clips = manifest["clips"].as_array().unwrap();
        assert!(!clips.is_empty(), "{}: no clips", dir.display());
        clips
            .iter()
            .map(|c| {
                let clip = c["clip"].as_str().unwrap().to_string();
                for key in ["video", "truth_csv"] {
                    let file = dir.join(c[key].as_str().unwrap());
                    assert!(file.is_file(), "{}: {key} {} missing", dir.display(), file.display());
                }
                assert!(dir.join(format!("{clip}.meta.json")).is_file(), "{clip}: no meta.json");
                (c["body_id"].as_str().unwrap_or_else(|| panic!("{clip}: no body_id")).to_string(), clip)
            })
            .collect()
    }
    let held_out: std::collections::BTreeSet<String> = ["tests/fixtures/heldout", "tests/fixtures/heldout_loose"]
        .iter()
        .flat_map(|d| bodies(&repo(d)))
        .map(|(body, _)| body)
        .collect();
    assert_eq!(held_out.len(), 11, "five test-plan bodies and six in loose tops: {held_out:?}");
    let packed = repo("data/synth");
    let mut sets = 0;
    for entry in std::fs::read_dir(&packed).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        sets += 1;
        let clips = bodies(&dir);
        let videos = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "mp4"))
            .count();
        assert_eq!(videos, clips.len(), "{}: videos the manifest does not list", dir.display());
        for (body, clip) in clips {
            assert!(!held_out.contains(&body), "{}: {clip} shows held-out body {body}", dir.display());
        }
    }
    assert!(sets > 0, "no packed set under {}", packed.display());
}
