//! A person who is not upright in the picture (a phone held sideways with no
//! rotation tag, a video upside down) is not measured: no reps, no faults, no
//! metrics, a view warning and, in a batch, the status `not_upright`. Rotated
//! copies of a sample are made with FFmpeg at test time (re-encoded, so they
//! carry no rotation tag).

mod common;
use common::{hinge, read_summary, repo, run, stderr, Table};
use std::path::{Path, PathBuf};
use std::process::Command;

const CLIP: &str = "samples/dev/dev_01_good_side_facing_left.mp4";
const WARNING: &str = "the person is not upright in the frame";

fn ffmpeg_available() -> bool {
    Command::new("ffmpeg").arg("-version").output().is_ok_and(|o| o.status.success())
}

/// `CLIP` through the FFmpeg filter `vf`, re-encoded without a rotation tag.
fn rotated(dir: &Path, name: &str, vf: &str) -> PathBuf {
    let out = dir.join(name);
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(repo(CLIP))
        .args(["-vf", vf, "-an", "-c:v", "libx264", "-preset", "ultrafast", "-metadata:s:v:0", "rotate=0"])
        .arg(&out)
        .output()
        .expect("ffmpeg runs");
    assert!(o.status.success(), "ffmpeg {vf}: {}", String::from_utf8_lossy(&o.stderr));
    out
}

/// Analyses `video` into `out` and returns summary.json and frames.csv.
fn analyze(video: &Path, out: &Path) -> (serde_json::Value, Table) {
    let mut c = hinge();
    c.arg("analyze").arg(video).arg("--out").arg(out).arg("--no-video");
    let o = run(c);
    assert_eq!(o.status.code(), Some(0), "analyze {}: {}", video.display(), stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
    (read_summary(out), Table::read(&out.join("frames.csv")))
}

fn warnings(s: &serde_json::Value) -> Vec<String> {
    s["view"]["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_string()).collect()
}

fn assert_not_measured(name: &str, s: &serde_json::Value, t: &Table) {
    assert_eq!(s["view"]["upright"], serde_json::json!(false), "{name}: {}", s["view"]);
    assert!(
        warnings(s).iter().any(|w| w.starts_with(WARNING) && w.contains("rotate the video")),
        "{name}: {}",
        s["view"]
    );
    assert!(s["reps"].as_array().unwrap().is_empty(), "{name}: reps {}", s["reps"]);
    assert!(s["faults"].as_array().unwrap().is_empty(), "{name}: faults {}", s["faults"]);
    assert!(s["frames_with_person"].as_u64().unwrap() > 0, "{name}: the person is still found");
    assert_eq!(s["facing"], serde_json::Value::Null, "{name}");
    // no metric pretends to be valid: every metric, phase, rep and fault cell is empty
    for row in 0..t.rows.len() {
        for col in
            ["trunk_deg", "hip_angle_deg", "knee_flexion_deg", "lumbar_flexion_deg", "ssi", "phase", "rep", "faults"]
        {
            assert_eq!(t.get(row, col), "", "{name}: frame {row} has {col}");
        }
    }
    for (k, v) in s["baseline"].as_object().unwrap() {
        if k != "frames" {
            assert!(v.is_null(), "{name}: baseline {k} = {v}");
        }
    }
}

#[test]
fn rotated_sideways_or_upside_down_is_not_measured() {
    if !ffmpeg_available() {
        eprintln!("SKIPPED: ffmpeg is not installed; the rotated copies cannot be made");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, vf) in [("cw90.mp4", "transpose=1"), ("ccw90.mp4", "transpose=2"), ("upside_down.mp4", "vflip,hflip")] {
        let video = rotated(dir.path(), name, vf);
        let out = dir.path().join(format!("out_{name}"));
        let (s, t) = analyze(&video, &out);
        assert_not_measured(name, &s, &t);
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        assert!(html.contains(WARNING), "{name}: the report says why");
        assert!(html.contains("Nothing measured: the person is not upright"), "{name}: the report's verdict");
        assert!(!html.contains("No repetition found"), "{name}: not a clip without reps");
    }
}

#[test]
fn upright_sample_is_measured() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = analyze(&repo(CLIP), dir.path());
    assert_eq!(s["view"]["upright"], serde_json::json!(true), "{}", s["view"]);
    assert!(!warnings(&s).iter().any(|w| w.contains(WARNING)), "{}", s["view"]);
    assert_eq!(s["reps"].as_array().unwrap().len(), 2, "both reps of the sample");
    assert!(t.rows.iter().enumerate().any(|(k, _)| t.f64(k, "trunk_deg").is_some()));
}

#[test]
fn batch_gives_not_upright_a_row_status() {
    if !ffmpeg_available() {
        eprintln!("SKIPPED: ffmpeg is not installed; the rotated copy cannot be made");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    rotated(&inputs, "sideways.mp4", "transpose=1");
    let out = dir.path().join("out");
    let mut c = hinge();
    c.arg("batch").arg(&inputs).arg("--out").arg(&out).arg("--jobs").arg("1").arg("--quiet");
    let o = run(c);
    assert_eq!(o.status.code(), Some(3), "a failed row: exit 3; {}", stderr(&o));
    let t = Table::read(&out.join("summary.csv"));
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.get(0, "status"), "not_upright");
    assert!(t.get(0, "reason").starts_with(WARNING), "{}", t.get(0, "reason"));
    assert!(["", "0"].contains(&t.get(0, "reps")), "reps: {}", t.get(0, "reps"));
    assert_eq!(t.get(0, "faults"), "");
    assert_eq!(t.get(0, "trunk_deg_at_depth"), "", "no metric");
    assert_eq!(Table::read(&out.join("reps.csv")).rows.len(), 0);
}
