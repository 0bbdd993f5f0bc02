//! A bad configuration file is refused before anything runs: one line naming
//! the file and the key, exit code 2, no output written (issue 14, item 3).

mod common;

use common::{hinge, repo, run, stderr};

const CLIP: &str = "samples/dev/dev_01_good_side_facing_left.mp4";

fn refused(toml: &str, key: &str) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("clinic settings.toml");
    std::fs::write(&cfg, toml).unwrap();
    let out = dir.path().join("out");
    let mut c = hinge();
    c.args(["analyze", "-q", "--config"]).arg(&cfg).arg("--out").arg(&out).arg(repo(CLIP));
    let o = run(c);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{toml:?}: exit {:?}, stderr {err}", o.status.code());
    assert_eq!(err.lines().count(), 1, "{toml:?}: not one line: {err}");
    assert!(err.contains("clinic settings.toml"), "{toml:?}: the file is not named: {err}");
    assert!(err.contains(key), "{toml:?}: the key {key} is not named: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.join("summary.json").exists(), "{toml:?}: an analysis was written");
}

#[test]
fn nan_thresholds_are_refused() {
    refused("[faults]\nrounded_lumbar_deg = nan\n", "faults.rounded_lumbar_deg");
    refused("[faults]\nposterior_tilt_deg = nan\n", "faults.posterior_tilt_deg");
    refused("[faults]\nsquat_ssi = inf\n", "faults.squat_ssi");
}

#[test]
fn an_arch_limit_on_the_wrong_side_of_neutral_is_refused() {
    // extension is negative: a positive arch limit would call every neutral back arched
    refused("[faults]\narched_lumbar_deg = 4.0\n", "faults.arched_lumbar_deg");
    refused("[faults]\narched_habit_deg = 0.0\n", "faults.arched_habit_deg");
}

#[test]
fn a_rep_start_window_that_reaches_the_rise_is_refused() {
    // the start is looked for among the frames within start_still_deg of the low: as wide as the rise
    // that starts a rep, it would take in the descent itself
    refused("[reps]\nstart_still_deg = 15.0\n", "start_still_deg < start_rise_deg");
    refused("[reps]\nstart_still_deg = -1.0\n", "reps.start_still_deg");
}

#[test]
fn negative_durations_are_refused() {
    refused("[reps]\nmin_duration_s = -0.5\n", "reps.min_duration_s");
    refused("[faults]\nmin_fault_s = -1.0\n", "faults.min_fault_s");
    // so long that no rep or fault could ever count
    refused("[reps]\nmin_duration_s = 1e308\n", "reps.min_duration_s");
    refused("[faults]\nmin_fault_s = 1e308\n", "faults.min_fault_s");
    refused("[faults]\nmin_standing_s = 61\n", "faults.min_standing_s");
    refused("[reps]\nbaseline_window_s = 31\n", "reps.baseline_window_s");
}

#[test]
fn unknown_keys_are_refused() {
    refused("[faults]\nrounded_lumbar_degg = 3\n", "rounded_lumbar_degg");
    refused("[report.cues]\nroundd_lumbar = \"hinge from the hips\"\n", "roundd_lumbar");
    refused("[repz]\nstart_deg = 10\n", "repz");
}

#[test]
fn toml_errors_name_the_line() {
    refused("# clinic\n[faults]\nrounded_lumbar_degg = 3\n", "line 3: unknown field `rounded_lumbar_degg`");
    refused("[faults]\nload_far_cm = \"far\"\n", "line 2: invalid type: string");
    refused("[faults]\nload_far_cm = 30\nload_far_cm = 31\n", "line 3: duplicate key");
    refused("[faults\n", "line 1:");
}

#[test]
fn a_valid_file_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ok.toml");
    std::fs::write(&cfg, "[faults]\nload_far_cm = 200\n").unwrap();
    let mut c = hinge();
    c.args(["analyze", "-q", "--json", "--no-video", "--no-html", "--config"]).arg(&cfg).arg(repo(CLIP));
    let o = run(c);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // with the load limit at 200 cm no rep of this clip can be load_far
    for r in s["reps"].as_array().unwrap() {
        assert!(!r["faults"].as_array().unwrap().iter().any(|f| f == "load_far"), "{r}");
    }
}
