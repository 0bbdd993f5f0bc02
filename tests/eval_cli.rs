//! `hinge eval` usage and error paths (the accuracy itself is checked in
//! metrics_accuracy.rs).

mod common;

use common::{hinge, repo, run, stderr, stdout};

#[test]
fn eval_needs_a_footage_directory() {
    let mut c = hinge();
    c.arg("eval");
    let o = run(c);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("footage directory"), "{}", stderr(&o));
}

#[test]
fn eval_of_a_directory_without_clips_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "no clips here").unwrap();
    let mut c = hinge();
    c.arg("eval").arg(tmp.path());
    let o = run(c);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no clips found"), "{}", stderr(&o));
}

#[test]
fn eval_prints_a_table_with_targets_and_writes_reports() {
    // one short clip, linked without a manifest (meta.json + csv beside the mp4)
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("set");
    std::fs::create_dir(&dir).unwrap();
    let name = "dev_12_idle_side_facing_right";
    for ext in ["mp4", "csv", "meta.json"] {
        std::os::unix::fs::symlink(repo(&format!("samples/dev/{name}.{ext}")), dir.join(format!("{name}.{ext}")))
            .unwrap();
    }
    let out = tmp.path().join("out");
    let mut c = hinge();
    c.args(["eval", "-q"]).arg(&dir).arg("--out").arg(&out);
    let o = run(c);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    for needle in
        [name, "trunk_deg", "≤ 2.5", "zero pred.", "bias ± SD", "rep count exact       1/1 clips", "person found"]
    {
        assert!(table.contains(needle), "missing `{needle}` in:\n{table}");
    }
    for f in ["frames.csv", "summary.json", "features.csv"] {
        assert!(out.join(name).join(f).is_file(), "{f} not written");
    }
}
