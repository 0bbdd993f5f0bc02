//! `hinge eval` on footage whose truth or spine readings cannot be scored:
//! one line on stderr naming the file (once) and the cause, exit 1, never a
//! plausible score printed over rows that were silently dropped or merged.

mod common;

use std::path::{Path, PathBuf};

use common::{hinge, repo, run, stderr, stdout};

const CLIP: &str = "testloose_001_good_test_0010_side_R_7_box";

/// The fixture clip's truth CSV.
fn truth() -> String {
    std::fs::read_to_string(repo(&format!("tests/fixtures/heldout_loose/{CLIP}.csv"))).unwrap()
}

/// A footage directory under `root` with a copy of the fixture clip whose
/// truth is `truth`, listed in a manifest.json when `manifest`.
fn footage(root: &Path, truth: &str, manifest: bool) -> PathBuf {
    let dir = root.join("set");
    std::fs::create_dir_all(&dir).unwrap();
    for ext in ["mp4", "meta.json"] {
        let name = format!("{CLIP}.{ext}");
        std::fs::copy(repo(&format!("tests/fixtures/heldout_loose/{name}")), dir.join(name)).unwrap();
    }
    std::fs::write(dir.join(format!("{CLIP}.csv")), truth).unwrap();
    if manifest {
        let meta = std::fs::read_to_string(dir.join(format!("{CLIP}.meta.json"))).unwrap();
        std::fs::write(dir.join("manifest.json"), format!("{{\"clips\": [{meta}]}}")).unwrap();
    }
    dir
}

/// Runs `hinge eval DIR -q` with `extra` arguments.
fn eval(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut c = hinge();
    c.arg("eval").arg(dir).arg("-q").args(extra);
    run(c)
}

/// Asserts a failed run whose stderr is one line naming `file` once and
/// mentioning `cause`, with nothing on stdout.
fn assert_refused(o: &std::process::Output, file: &str, cause: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "exit code; stderr: {err}");
    assert!(err.starts_with("hinge: error:") && err.ends_with('\n'), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert_eq!(err.matches(file).count(), 1, "names {file} once: {err}");
    assert!(err.contains(cause), "stderr should mention `{cause}`: {err}");
    assert!(stdout(o).is_empty(), "no scores printed: {}", stdout(o));
}

/// The truth with the cell of `column` in data row `row` (1-based) replaced.
fn with_cell(truth: &str, row: usize, column: &str, value: &str) -> String {
    let mut lines: Vec<String> = truth.lines().map(str::to_string).collect();
    let col = lines[0].split(',').position(|h| h == column).unwrap();
    let mut cells: Vec<&str> = lines[row].split(',').collect();
    cells[col] = value;
    lines[row] = cells.join(",");
    lines.join("\n") + "\n"
}

#[test]
fn the_good_copy_evaluates_with_and_without_a_manifest() {
    for manifest in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let o = eval(&footage(tmp.path(), &truth(), manifest), &[]);
        assert!(o.status.success(), "manifest {manifest}: {}", stderr(&o));
        let table = stdout(&o);
        assert!(table.contains(CLIP) && table.contains("rep count exact       1/1 clips"), "{table}");
    }
}

#[test]
fn a_truth_csv_that_cannot_be_scored_is_refused() {
    let t = truth();
    let header = t.lines().next().unwrap().to_string();
    let negative: String = t
        .lines()
        .enumerate()
        .map(|(i, l)| match (i, l.split_once(',')) {
            (1.., Some((f, rest))) => format!("{},{rest}\n", f.parse::<i64>().unwrap() - 100),
            _ => format!("{l}\n"),
        })
        .collect();
    let garbage: String = t
        .lines()
        .enumerate()
        .map(|(i, l)| match (i, l.split_once(',')) {
            (1.., Some((f, rest))) => format!("{f},{}\n", rest.split(',').map(|_| "abc").collect::<Vec<_>>().join(",")),
            _ => format!("{l}\n"),
        })
        .collect();
    let cases = [
        (garbage, "row 2: `trunk_incl_deg` is not a finite number: `abc`"),
        (with_cell(&t, 3, "trunk_incl_deg", "abc"), "row 4: `trunk_incl_deg` is not a finite number: `abc`"),
        (with_cell(&t, 7, "knee_angle3d_L", "nan"), "row 8: `knee_angle3d_L` is not a finite number: `nan`"),
        (with_cell(&t, 2, "lumbar_flexion_deg", "inf"), "row 3: `lumbar_flexion_deg` is not a finite number: `inf`"),
        (with_cell(&t, 5, "frame", "five"), "row 6: `frame` is not a non-negative integer: `five`"),
        (with_cell(&t, 4, "frame", "3.5"), "row 5: `frame` is not a non-negative integer: `3.5`"),
        (negative, "row 2: `frame` is not a non-negative integer: `-100`"),
        (format!("{header}\n"), "no data rows"),
    ];
    for (manifest, (text, cause)) in cases.iter().enumerate().map(|(i, c)| (i % 2 == 0, c)) {
        let tmp = tempfile::tempdir().unwrap();
        let o = eval(&footage(tmp.path(), text, manifest), &[]);
        assert_refused(&o, &format!("{CLIP}.csv"), cause);
    }
}

#[test]
fn an_empty_truth_cell_is_no_truth_not_an_error() {
    let t = with_cell(&truth(), 3, "trunk_incl_deg", "");
    let tmp = tempfile::tempdir().unwrap();
    let o = eval(&footage(tmp.path(), &with_cell(&t, 4, "lumbar_flexion_deg", ""), false), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn spine_readings_that_cannot_be_used_are_refused_naming_the_file_once() {
    let header = "frame,lumbar_flexion_deg,pelvic_tilt_deg,rib_stack_deg,hip_flexion_deg,trunk_deg\n";
    let cases = [
        (format!("{header}0,1,2,3,4,5\n-1,1,2,3,4,5\n"), "row 3: `frame` is not a non-negative integer: `-1`"),
        (format!("{header}0.5,1,2,3,4,5\n"), "row 2: `frame` is not a non-negative integer: `0.5`"),
        (header.to_string(), "no readings"),
        ("frame,lumbar_flexion_deg\n0,1\n".to_string(), "no column `pelvic_tilt_deg`"),
        (format!("{header}0,1,2,abc,4,5\n"), "row 2: `rib_stack_deg` is not a finite number"),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let dir = footage(tmp.path(), &truth(), false);
    let readings = tmp.path().join("readings");
    std::fs::create_dir(&readings).unwrap();
    for (text, cause) in cases {
        std::fs::write(readings.join(format!("{CLIP}.spine_readings.csv")), text).unwrap();
        let o = eval(&dir, &["--spine-readings", readings.to_str().unwrap()]);
        assert_refused(&o, &format!("{CLIP}.spine_readings.csv"), cause);
    }
    // a file that is not there: named once too
    std::fs::remove_file(readings.join(format!("{CLIP}.spine_readings.csv"))).unwrap();
    let o = eval(&dir, &["--spine-readings", readings.to_str().unwrap()]);
    assert_refused(&o, &format!("{CLIP}.spine_readings.csv"), "No such file");
}

#[test]
fn a_clip_that_is_not_a_video_is_named_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = footage(tmp.path(), &truth(), false);
    std::fs::write(dir.join(format!("{CLIP}.mp4")), "patient notes, not a video\n".repeat(100)).unwrap();
    let o = eval(&dir, &[]);
    assert_refused(&o, &format!("{CLIP}.mp4"), "not a video");
}

/// A clip listed twice in a manifest would weigh twice in every figure.
#[test]
fn a_manifest_listing_a_clip_twice_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = footage(tmp.path(), &truth(), true);
    let meta = std::fs::read_to_string(dir.join(format!("{CLIP}.meta.json"))).unwrap();
    std::fs::write(dir.join("manifest.json"), format!("{{\"clips\": [{meta}, {meta}]}}")).unwrap();
    let o = eval(&dir, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("clip `{CLIP}` is listed twice")), "{err}");
    // the same set given twice
    let dir = footage(&tmp.path().join("b"), &truth(), false);
    let mut c = hinge();
    c.arg("eval").arg(&dir).arg(&dir).arg("-q");
    let o = run(c);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is listed twice"), "{}", stderr(&o));
}
