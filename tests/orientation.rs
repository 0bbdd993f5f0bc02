//! Phone videos tagged with a display matrix: every one of the eight
//! orientations (four rotations, each optionally mirrored) is analysed and
//! drawn upright.
//!
//! Each variant is made the way a phone makes it: the picture is stored turned
//! (FFmpeg re-encodes a sample with the inverse transform) and the track
//! header's matrix says how to turn it back. Displayed, every variant is the
//! sample itself, so the analysis must match the sample's. Needs `ffmpeg` and
//! `ffprobe` (skipped with a message without them).

mod common;
use common::{hinge, read_summary, repo, run, stderr, Table};
use hinge::video::Orientation;
use opencv::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const CLIP: &str = "samples/dev/dev_01_good_side_facing_left.mp4";

fn have(tool: &str) -> bool {
    Command::new(tool).arg("-version").output().map(|o| o.status.success()).unwrap_or(false)
}

/// The FFmpeg filter that stores the picture so that `o` displays it upright
/// (the inverse of `o`: the transposed matrix), as transpose then flips.
fn inverse_filter(o: Orientation) -> String {
    let (a, b, c, d) = o.matrix();
    let inv = Orientation::from_matrix(a as f64, c as f64, b as f64, d as f64);
    let mut f = vec![];
    if inv.transpose {
        f.push("transpose=cclock_flip"); // the plain transpose: top-left stays
    }
    if inv.hflip {
        f.push("hflip");
    }
    if inv.vflip {
        f.push("vflip");
    }
    if f.is_empty() {
        f.push("null");
    }
    f.join(",")
}

/// Overwrites the matrix of the (only) track header with `o`'s.
fn set_track_matrix(file: &Path, o: Orientation) {
    let mut bytes = std::fs::read(file).unwrap();
    let at = bytes.windows(4).position(|w| w == b"tkhd").expect("a tkhd box");
    assert_eq!(bytes[at + 4], 0, "version-0 tkhd");
    let m = at + 4 + 40;
    let (a, b, c, d) = o.matrix();
    let matrix = [a << 16, b << 16, 0, c << 16, d << 16, 0, 0, 0, 1 << 30];
    let identity = [1 << 16, 0, 0, 0, 1 << 16, 0, 0, 0, 1 << 30];
    for (i, (&v, &id)) in matrix.iter().zip(&identity).enumerate() {
        let cell = &mut bytes[m + 4 * i..m + 4 * i + 4];
        assert_eq!(i32::from_be_bytes(cell.try_into().unwrap()), id, "FFmpeg wrote an identity matrix");
        cell.copy_from_slice(&v.to_be_bytes());
    }
    assert_eq!(bytes.windows(4).filter(|w| *w == b"tkhd").count(), 1);
    std::fs::write(file, bytes).unwrap();
}

/// The sample stored for display orientation `o`.
fn make_variant(dir: &Path, o: Orientation) -> PathBuf {
    let out = dir.join(format!("t{}h{}v{}.mp4", o.transpose as u8, o.hflip as u8, o.vflip as u8));
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(repo(CLIP))
        .args(["-vf", &inverse_filter(o), "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "14"])
        .args(["-pix_fmt", "yuv420p"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success(), "ffmpeg failed for {o:?}");
    set_track_matrix(&out, o);
    out
}

/// FFmpeg's own reading of the display rotation (counter-clockwise degrees).
fn ffprobe_rotation(file: &Path) -> Option<i32> {
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream_side_data=rotation", "-of", "csv=p=0"])
        .arg(file)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).lines().find_map(|l| l.trim().trim_matches(',').parse().ok())
}

struct Result {
    summary: serde_json::Value,
    frames: Table,
    dir: tempfile::TempDir,
}

fn analyze(video: &Path) -> Result {
    let dir = tempfile::tempdir().unwrap();
    let mut c = hinge();
    c.arg("analyze").arg(video).arg("--out").arg(dir.path()).args(["--quiet", "--no-html"]);
    let o = run(c);
    assert!(o.status.success(), "analyze {} failed: {}", video.display(), stderr(&o));
    let summary = read_summary(dir.path());
    let frames = Table::read(&dir.path().join("frames.csv"));
    Result { summary, frames, dir }
}

fn trunk_at_depth(s: &serde_json::Value) -> Vec<f64> {
    s["reps"].as_array().unwrap().iter().map(|r| r["at_depth"]["trunk_deg"].as_f64().unwrap()).collect()
}

/// Frame `index` of a video, as hinge decodes it.
fn frame_of(video: &Path, index: i32) -> Mat {
    let mut source = hinge::video::VideoSource::open_file(video).unwrap();
    let mut frame = hinge::video::Frame::default();
    for _ in 0..=index {
        assert!(source.read(&mut frame).unwrap());
    }
    frame.image
}

fn mean_abs_diff(a: &Mat, b: &Mat) -> f64 {
    let mut d = Mat::default();
    opencv::core::absdiff(a, b, &mut d).unwrap();
    let m = opencv::core::mean(&d, &opencv::core::no_array()).unwrap();
    (m[0] + m[1] + m[2]) / 3.0
}

#[test]
fn every_display_orientation_is_analysed_and_drawn_upright() {
    if !have("ffmpeg") || !have("ffprobe") {
        eprintln!("SKIPPED: ffmpeg/ffprobe not installed (Debian package `ffmpeg`); the orientation test needs them");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let reference = analyze(&make_variant(tmp.path(), Orientation::UPRIGHT));
    let ref_trunk = trunk_at_depth(&reference.summary);
    assert_eq!(ref_trunk.len(), 2, "the sample has two reps");
    let ref_frame = frame_of(&reference.dir.path().join("annotated.mp4"), 37);
    let mut failures = vec![];
    for o in Orientation::ALL.into_iter().filter(|&o| o != Orientation::UPRIGHT) {
        let video = make_variant(tmp.path(), o);
        let r = analyze(&video);
        let s = &r.summary;
        let name = format!("{o:?} (rotation {}°, mirrored {})", o.rotation_cw_deg(), o.mirrored());
        // what hinge reads agrees with FFmpeg for the rotations FFmpeg names
        assert_eq!(s["rotation_deg"].as_i64(), Some(o.rotation_cw_deg() as i64), "{name}");
        assert_eq!(s["mirrored"].as_bool(), Some(o.mirrored()), "{name}");
        if !o.mirrored() {
            let ccw = ffprobe_rotation(&video).unwrap_or(0);
            assert_eq!((-ccw).rem_euclid(360), o.rotation_cw_deg(), "{name}: ffprobe says {ccw}° counter-clockwise");
        }
        assert_eq!((s["width"].as_i64(), s["height"].as_i64()), (Some(640), Some(480)), "{name}: upright size");
        assert_eq!(s["facing"], reference.summary["facing"], "{name}");
        let trunk = trunk_at_depth(s);
        let worst = if trunk.len() == ref_trunk.len() {
            trunk.iter().zip(&ref_trunk).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)
        } else {
            f64::INFINITY
        };
        // the per-frame trunk angle follows the reference's
        let col = |t: &Table| (0..t.rows.len()).map(|i| t.f64(i, "trunk_deg")).collect::<Vec<_>>();
        let (a, b) = (col(&r.frames), col(&reference.frames));
        let pairs: Vec<f64> = a.iter().zip(&b).filter_map(|(x, y)| Some((x.as_ref()? - y.as_ref()?).abs())).collect();
        let mae = pairs.iter().sum::<f64>() / pairs.len().max(1) as f64;
        // the annotated video is upright: its frame looks like the reference's
        let drawn = frame_of(&r.dir.path().join("annotated.mp4"), 37);
        let same_size = (drawn.cols(), drawn.rows()) == (ref_frame.cols(), ref_frame.rows());
        let diff = if same_size { mean_abs_diff(&drawn, &ref_frame) } else { f64::INFINITY };
        eprintln!(
            "{name}: reps {} (reference {}), trunk at depth {trunk:?} vs {ref_trunk:?}, per-frame trunk MAE {mae:.2}° over {} frames, annotated frame differs by {diff:.1}/255",
            trunk.len(),
            ref_trunk.len(),
            pairs.len()
        );
        if a.len() != b.len() || worst > 2.0 || mae > 1.5 || pairs.len() + 5 < b.len() || diff > 6.0 {
            failures.push(name);
        }
    }
    assert!(failures.is_empty(), "not analysed or drawn upright: {failures:?}");
}
