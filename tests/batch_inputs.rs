//! `hinge batch` inputs: a rerun into an output folder inside an input folder
//! finds exactly the recordings (not hinge's own drawings), and the inputs
//! that cannot mean one clear thing are refused in one line: a manifest giving
//! a video twice, a manifest column named like a column hinge writes, inputs
//! without a video.

mod common;
use common::{hinge, repo, run, stderr, Table};
use std::path::Path;

const CLIP: &str = "samples/dev/dev_12_idle_side_facing_right.mp4";

fn batch(inputs: &[&Path], out: &Path) -> std::process::Output {
    let mut c = hinge();
    c.arg("batch").args(inputs).arg("--out").arg(out).arg("--jobs").arg("1");
    run(c)
}

/// The file names of summary.csv's rows.
fn names(out: &Path) -> Vec<String> {
    let t = Table::read(&out.join("summary.csv"));
    (0..t.rows.len()).map(|r| Path::new(t.get(r, "path")).file_name().unwrap().to_string_lossy().to_string()).collect()
}

/// The one line hinge printed for a refused command (exit 2), checked to be one line.
fn refused(o: &std::process::Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "not one line: {err}");
    lines[0].to_string()
}

#[test]
fn a_rerun_into_an_output_folder_inside_the_input_finds_only_the_recordings() {
    let tmp = tempfile::tempdir().unwrap();
    let clinic = tmp.path().join("clinic");
    std::fs::create_dir_all(&clinic).unwrap();
    std::fs::copy(repo(CLIP), clinic.join("lift.mp4")).unwrap();
    let out = clinic.join("out");
    let o = batch(&[&clinic], &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(names(&out), ["lift.mp4"]);
    let t = Table::read(&out.join("summary.csv"));
    let video_dir = out.join(t.get(0, "output_dir"));
    assert!(video_dir.join("annotated.mp4").is_file());
    // resumed as documented: the same command again skips the video and finds nothing new
    let o = batch(&[&clinic], &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 analysed now, 1 done before"), "{}", stderr(&o));
    assert_eq!(names(&out), ["lift.mp4"], "the batch analysed its own outputs");
    // a run killed while writing the report (annotated.mp4 there, no result.json yet): still only the recording
    std::fs::remove_file(video_dir.join("result.json")).unwrap();
    std::fs::remove_file(video_dir.join("report.html")).unwrap();
    let o = batch(&[&clinic], &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 analysed now, 0 done before"), "{}", stderr(&o));
    assert_eq!(names(&out), ["lift.mp4"], "the batch analysed its own outputs");
    let folders = std::fs::read_dir(out.join("videos")).unwrap().count();
    assert_eq!(folders, 1, "a video folder for one of hinge's own drawings");
}

#[test]
fn the_folder_of_a_hinge_analyze_inside_the_input_is_not_an_input() {
    let tmp = tempfile::tempdir().unwrap();
    let clinic = tmp.path().join("clinic");
    std::fs::create_dir_all(&clinic).unwrap();
    std::fs::copy(repo(CLIP), clinic.join("lift.mp4")).unwrap();
    let mut c = hinge();
    c.arg("analyze").arg(clinic.join("lift.mp4")).arg("--out").arg(clinic.join("lift")).arg("--quiet");
    let o = run(c);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(clinic.join("lift/annotated.mp4").is_file());
    let out = tmp.path().join("out");
    let o = batch(&[&clinic], &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(names(&out), ["lift.mp4"], "hinge's annotated.mp4 was taken for a recording");
    // an output folder given as the only input is named, not analysed
    let line = refused(&batch(&[&clinic.join("lift")], &tmp.path().join("o")));
    assert!(line.contains("lift: a folder of hinge's outputs"), "{line}");
}

#[test]
fn a_manifest_giving_one_video_two_rows_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(repo(CLIP), tmp.path().join("a.mp4")).unwrap();
    let m = tmp.path().join("sessions.csv");
    std::fs::write(&m, "path,patient\na.mp4,P1\n./a.mp4,P2\n").unwrap();
    let out = tmp.path().join("out");
    let line = refused(&batch(&[&m], &out));
    assert!(
        line.contains("sessions.csv: rows 2 and 3 give the same video, `a.mp4` and `./a.mp4`: give each video one row"),
        "{line}"
    );
    assert!(!out.join("summary.csv").exists());
}

#[test]
fn a_manifest_column_named_like_a_column_hinge_writes_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(repo(CLIP), tmp.path().join("a.mp4")).unwrap();
    for column in ["status", "reason", "reps", "faults", "output_dir", "lumbar_flexion_deg_at_depth", "verdict"] {
        let m = tmp.path().join("m.csv");
        std::fs::write(&m, format!("path,patient,{column}\na.mp4,P1,x\n")).unwrap();
        let out = tmp.path().join("out");
        let line = refused(&batch(&[&m], &out));
        assert!(line.contains(&format!("m.csv: column `{column}` has the name of a column hinge writes")), "{line}");
        assert!(!out.join("summary.csv").exists());
    }
}

#[test]
fn inputs_without_a_video_are_each_named() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("emptydir");
    std::fs::create_dir_all(empty.join("2026-11")).unwrap();
    std::fs::write(empty.join("2026-11/notes.txt"), "not a video").unwrap();
    let m = tmp.path().join("m.csv");
    std::fs::write(&m, "path,patient\n").unwrap();
    let line = refused(&batch(&[&empty], &tmp.path().join("o")));
    assert!(
        line.contains("emptydir: no videos (looked for .mp4, .mov, .m4v, .avi, .mkv, .webm, .mpg, .mpeg"),
        "{line}"
    );
    let line = refused(&batch(&[&empty, &m], &tmp.path().join("o")));
    assert!(line.contains("emptydir: no videos (looked for .mp4") && line.contains("m.csv: no rows"), "{line}");
}
