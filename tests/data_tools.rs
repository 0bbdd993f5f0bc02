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
