//! Our landmarks against the official MediaPipe 0.10.14 Pose solution
//! (fixtures in tests/fixtures/mediapipe, made by tools/make_mediapipe_fixtures.sh).
//! Target: median error ≤ 3 px on 640x480 clips for the body landmarks, and a
//! person found in every frame where MediaPipe finds one.

mod common;
use common::{analyze, repo, Table};

/// Body landmarks compared: the nose, and shoulders to feet (indices 11..33).
fn body_landmarks() -> impl Iterator<Item = &'static str> {
    let names = &hinge::pose::landmarks::LANDMARK_NAMES;
    std::iter::once(names[0]).chain(names[11..].iter().copied())
}

struct Agreement {
    median_px: f64,
    p90_px: f64,
    frames_missed: usize,
    frames_reference: usize,
}

fn compare(ours: &Table, reference: &Table) -> Agreement {
    assert_eq!(ours.rows.len(), reference.rows.len(), "one row per decoded frame in both");
    let mut errors = Vec::new();
    let (mut missed, mut seen) = (0, 0);
    for r in 0..reference.rows.len() {
        if reference.get(r, "person") != "1" {
            continue;
        }
        seen += 1;
        if ours.get(r, "person") != "1" {
            missed += 1;
            continue;
        }
        for name in body_landmarks() {
            let (x, y) = (format!("{name}_x"), format!("{name}_y"));
            let dx = ours.f64(r, &x).unwrap() - reference.f64(r, &x).unwrap();
            let dy = ours.f64(r, &y).unwrap() - reference.f64(r, &y).unwrap();
            errors.push(dx.hypot(dy));
        }
    }
    errors.sort_by(f64::total_cmp);
    let q = |p: f64| errors[((errors.len() - 1) as f64 * p) as usize];
    Agreement { median_px: q(0.5), p90_px: q(0.9), frames_missed: missed, frames_reference: seen }
}

fn check(clip_path: &str, smooth: bool, max_median_px: f64) {
    let name = std::path::Path::new(clip_path).file_stem().unwrap().to_str().unwrap().to_string();
    let extra: &[&str] = if smooth { &[] } else { &["--no-smoothing"] };
    let (_dir, ours) = analyze(clip_path, extra);
    let kind = if smooth { "smooth" } else { "raw" };
    let reference = Table::read(&repo(&format!("tests/fixtures/mediapipe/{name}.{kind}.csv")));
    let a = compare(&ours, &reference);
    eprintln!(
        "{name} ({kind}): median {:.2} px, p90 {:.2} px, missed {}/{} frames",
        a.median_px, a.p90_px, a.frames_missed, a.frames_reference
    );
    assert_eq!(a.frames_missed, 0, "{name} ({kind}): frames where MediaPipe finds a person and we do not");
    assert!(
        a.median_px <= max_median_px,
        "{name} ({kind}): median landmark error {:.2} px > {max_median_px} px",
        a.median_px
    );
}

#[test]
fn side_view_640x480_smoothed() {
    check("samples/dev/dev_01_good_side_facing_left.mp4", true, 3.0);
}

#[test]
fn side_view_640x480_raw() {
    check("samples/dev/dev_01_good_side_facing_left.mp4", false, 3.0);
}

#[test]
fn oblique_view_640x480() {
    check("samples/dev/dev_03_good_oblique_front_left_35.mp4", true, 3.0);
}

#[test]
fn squat_640x480() {
    check("samples/dev/dev_10_squat_side_facing_left.mp4", true, 3.0);
}

#[test]
fn portrait_480x640() {
    check("samples/dev/dev_04_rounded_lumbar_side_facing_right.mp4", true, 3.0);
    check("samples/dev/dev_12_idle_side_facing_right.mp4", false, 3.0);
}

#[test]
fn rotated_phone_video_720x1280() {
    // twice the pixel scale of the 640x480 clips
    check("samples/dev_sessions/devs_02_phone_rotated.mp4", true, 6.0);
}

#[test]
fn real_portrait_1080x1920_60fps() {
    check("tests/fixtures/real/pose2sim_single_cam01_portrait60.mp4", true, 9.0);
}
