//! What a batch processes: files, directories (recursive) and manifest CSVs,
//! expanded into a deterministic, de-duplicated list of jobs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{tables, BatchError};

/// Extensions picked up when scanning directories.
pub const VIDEO_EXTENSIONS: [&str; 8] = ["mp4", "mov", "m4v", "avi", "mkv", "webm", "mpg", "mpeg"];

/// One video to process, with the manifest columns that travel with it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Job {
    /// The video's path (as resolved: manifest-relative paths are joined to the manifest's directory).
    pub path: PathBuf,
    /// Extra manifest columns (`patient`, `session_date`, `side`, `notes` ...).
    pub meta: BTreeMap<String, String>,
}

fn is_video(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn is_manifest(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// Whether `dir` is a folder hinge wrote an analysis into: a batch's
/// `videos/<name>/`, `hinge analyze --out DIR`, a `hinge serve` data folder's
/// `analyses/<id>/` (its `videos/` holds recordings and is scanned).
/// Its videos are hinge's own drawings (`annotated.mp4`), not recordings, so
/// a scan skips it; that is what keeps a batch whose `--out` lies inside an
/// input folder from analysing its own outputs when it is run again, with no
/// need to know where `--out` is (nor which batch or command wrote them).
/// The mark is hinge's `summary.json` (its `schema` is `hinge.summary/…`, so
/// a clinic's own `summary.json` hides nothing), not the batch's
/// `result.json`: summary.json is written before `annotated.mp4` by every
/// command, while result.json comes last and only from a batch, so a folder
/// left by a run killed while drawing is recognised too.
pub fn is_hinge_output(dir: &Path) -> bool {
    let Ok(bytes) = std::fs::read(dir.join("summary.json")) else { return false };
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("schema")?.as_str().map(|s| s.starts_with("hinge.summary/")))
        .unwrap_or(false)
}

/// Adds the videos under `dir`, recursively, leaving out the folders hinge
/// wrote ([`is_hinge_output`]).
fn scan_dir(dir: &Path, out: &mut Vec<Job>) -> Result<(), BatchError> {
    if is_hinge_output(dir) {
        return Ok(());
    }
    let entries =
        std::fs::read_dir(dir).map_err(|e| BatchError::Input { path: dir.to_path_buf(), reason: e.to_string() })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            scan_dir(&p, out)?;
        } else if is_video(&p) {
            out.push(Job { path: p, meta: BTreeMap::new() });
        }
    }
    Ok(())
}

/// Refuses manifest columns that the tables could not keep apart: a name
/// given twice, or the name of a column hinge writes itself in summary.csv
/// or reps.csv (`status`, `reps`, `trunk_deg_at_depth` …), which would give
/// the table two columns of that name.
fn check_columns(header: &[String], path_col: usize) -> Result<(), String> {
    let reserved = tables::output_columns();
    let mut seen = BTreeSet::from(["path"]);
    for h in header.iter().enumerate().filter(|(c, h)| *c != path_col && !h.is_empty()).map(|(_, h)| h) {
        if !seen.insert(h.as_str()) {
            return Err(format!("column `{h}` appears twice"));
        }
        if reserved.contains(h) {
            return Err(format!(
                "column `{h}` has the name of a column hinge writes in summary.csv or reps.csv: rename it (e.g. `clinic_{h}`)"
            ));
        }
    }
    Ok(())
}

/// Reads a manifest: a CSV with a `path` column; other columns are carried.
/// Refused: columns the tables could not keep apart (a name given twice, or one of
/// [`tables::output_columns`]), and
/// two rows for the same video (which row's columns would be meant?).
pub fn read_manifest(path: &Path) -> Result<Vec<Job>, BatchError> {
    let bad = |reason: String| BatchError::Input { path: path.to_path_buf(), reason };
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let header: Vec<String> =
        reader.headers().map_err(|e| bad(e.to_string()))?.iter().map(|h| h.trim().to_string()).collect();
    let path_col =
        header.iter().position(|h| h == "path").ok_or_else(|| bad("manifest has no `path` column".into()))?;
    check_columns(&header, path_col).map_err(bad)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut jobs = Vec::new();
    // each video's row and path as written, to name both rows of a video given twice
    let mut rows: BTreeMap<PathBuf, (usize, String)> = BTreeMap::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("row {}: {e}", i + 2)))?;
        let raw = rec.get(path_col).unwrap_or("").trim();
        if raw.is_empty() {
            return Err(bad(format!("row {}: empty path", i + 2)));
        }
        let p = Path::new(raw);
        let resolved = if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
        let video = resolved.canonicalize().unwrap_or_else(|_| resolved.clone());
        if let Some((row, first)) = rows.insert(video, (i + 2, raw.to_string())) {
            let named = if first == raw { format!("`{raw}`") } else { format!("`{first}` and `{raw}`") };
            return Err(bad(format!("rows {row} and {} give the same video, {named}: give each video one row", i + 2)));
        }
        let meta = header
            .iter()
            .enumerate()
            .filter(|(c, _)| *c != path_col)
            .map(|(c, h)| (h.clone(), rec.get(c).unwrap_or("").to_string()))
            .collect();
        jobs.push(Job { path: resolved, meta });
    }
    Ok(jobs)
}

/// Expands inputs into jobs, sorted by path, duplicates removed (the first
/// occurrence keeps its manifest columns). Missing explicit files still
/// become jobs: they get a failure row rather than stopping the batch.
/// When no input gives a video, the error names each input and why
/// ([`BatchError::NoVideos`]); an empty folder beside others is fine.
pub fn collect_jobs(inputs: &[PathBuf]) -> Result<Vec<Job>, BatchError> {
    let mut jobs = Vec::new();
    let mut empty = Vec::new();
    for input in inputs {
        let before = jobs.len();
        if input.is_dir() {
            scan_dir(input, &mut jobs)?;
        } else if is_manifest(input) && input.is_file() {
            jobs.extend(read_manifest(input)?);
        } else {
            jobs.push(Job { path: input.clone(), meta: BTreeMap::new() });
        }
        if jobs.len() == before {
            // why the input gave nothing (a file always gives its job)
            let why = if !input.is_dir() {
                "no rows".to_string()
            } else if is_hinge_output(input) {
                "a folder of hinge's outputs (its summary.json): its videos are hinge's drawings, not recordings".into()
            } else {
                let looked: Vec<String> = VIDEO_EXTENSIONS.iter().map(|e| format!(".{e}")).collect();
                format!("no videos (looked for {}, in every subfolder)", looked.join(", "))
            };
            empty.push((input.clone(), why));
        }
    }
    if jobs.is_empty() && !inputs.is_empty() {
        return Err(BatchError::NoVideos(empty));
    }
    // one job per file: the same file reached twice (a folder and a manifest,
    // `a/x.mp4` and `./a/x.mp4`) keeps the manifest's columns
    let mut unique: BTreeMap<PathBuf, Job> = BTreeMap::new();
    for mut job in jobs {
        if let Ok(canonical) = job.path.canonicalize() {
            job.path = canonical;
        }
        match unique.get_mut(&job.path) {
            Some(existing) => {
                for (k, v) in job.meta {
                    let slot = existing.meta.entry(k).or_default();
                    if slot.is_empty() {
                        *slot = v;
                    }
                }
            }
            None => {
                unique.insert(job.path.clone(), job);
            }
        }
    }
    Ok(unique.into_values().collect())
}

/// A deterministic 1/N slice of the jobs: every job whose position in the
/// sorted list is congruent to `index` modulo `count`.
pub fn shard(jobs: Vec<Job>, index: usize, count: usize) -> Vec<Job> {
    jobs.into_iter().enumerate().filter(|(i, _)| i % count == index).map(|(_, j)| j).collect()
}

/// Parses `I/N` (0-based index) or `N` (index from `JOB_COMPLETION_INDEX`
/// or `SLURM_ARRAY_TASK_ID`).
pub fn parse_shard(spec: &str, env: impl Fn(&str) -> Option<String>) -> Result<(usize, usize), String> {
    let (index, count) = match spec.split_once('/') {
        Some((i, n)) => (i.trim().to_string(), n.trim().to_string()),
        None => {
            let i = env("JOB_COMPLETION_INDEX").or_else(|| env("SLURM_ARRAY_TASK_ID")).ok_or_else(|| {
                format!(
                    "--shard {spec}: no shard index; give I/{spec} or set JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID"
                )
            })?;
            (i, spec.trim().to_string())
        }
    };
    let count: usize = count.parse().map_err(|_| format!("--shard: `{count}` is not a shard count"))?;
    let index: usize = index.parse().map_err(|_| format!("--shard: `{index}` is not a shard index"))?;
    if count == 0 || index >= count {
        return Err(format!("--shard: index {index} out of range for {count} shard(s) (indices start at 0)"));
    }
    Ok((index, count))
}

/// A file-system-safe directory name for a job: the sanitised file stem and
/// a short hash of the full path (so equal names in different folders never collide).
pub fn output_name(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let mut clean: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(60)
        .collect();
    if clean.trim_matches('_').is_empty() {
        clean = "video".into();
    }
    let digest = Sha256::digest(path.to_string_lossy().as_bytes());
    let short: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{clean}-{short}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shard_spec_from_flag_and_environment() {
        let none = |_: &str| None;
        assert_eq!(parse_shard("1/3", none), Ok((1, 3)));
        assert!(parse_shard("3/3", none).is_err());
        assert!(parse_shard("0/0", none).is_err());
        assert!(parse_shard("4", none).is_err());
        let k8s = |k: &str| (k == "JOB_COMPLETION_INDEX").then(|| "2".to_string());
        assert_eq!(parse_shard("4", k8s), Ok((2, 4)));
        let slurm = |k: &str| (k == "SLURM_ARRAY_TASK_ID").then(|| "0".to_string());
        assert_eq!(parse_shard("2", slurm), Ok((0, 2)));
    }

    #[test]
    fn names_are_safe_and_distinct() {
        let a = output_name(Path::new("/clinic/a/../../etc/passwd"));
        assert!(!a.contains('/') && !a.contains(".."));
        assert_ne!(output_name(Path::new("/x/a/lift.mp4")), output_name(Path::new("/x/b/lift.mp4")));
        assert!(output_name(Path::new("/x/ünïcode clip (1).MP4")).starts_with("_n_code_clip__1_-"));
        assert!(output_name(Path::new("/x/....mp4")).starts_with("video-"));
    }

    #[test]
    fn a_scan_leaves_out_the_folders_hinge_wrote() {
        assert!(crate::report::SUMMARY_SCHEMA.starts_with("hinge.summary/"));
        let tmp = tempfile::tempdir().unwrap();
        let clinic = tmp.path();
        let touch = |rel: &str, text: &str| {
            let p = clinic.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        touch("a.mp4", "");
        // a batch's video folder, finished or killed while drawing (no result.json), and `hinge analyze --out`
        touch("out/videos/a-0123abcd/annotated.mp4", "");
        touch("out/videos/a-0123abcd/summary.json", r#"{"schema": "hinge.summary/2"}"#);
        touch("lift/annotated.mp4", "");
        touch("lift/summary.json", r#"{"schema": "hinge.summary/1", "video": "x"}"#);
        // someone else's summary.json hides nothing
        touch("other/b.mov", "");
        touch("other/summary.json", r#"{"schema": "other"}"#);
        let jobs = collect_jobs(&[clinic.to_path_buf()]).unwrap();
        let found: Vec<PathBuf> = jobs.into_iter().map(|j| j.path).collect();
        let canonical = clinic.canonicalize().unwrap();
        assert_eq!(found, vec![canonical.join("a.mp4"), canonical.join("other/b.mov")]);
    }

    fn manifest(dir: &Path, text: &str) -> Result<Vec<Job>, String> {
        let m = dir.join("m.csv");
        std::fs::write(&m, text).unwrap();
        read_manifest(&m).map_err(|e| e.to_string())
    }

    #[test]
    fn a_manifest_giving_a_video_twice_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a.mp4"), "").unwrap();
        let e = manifest(tmp.path(), "path,patient\na.mp4,P1\nb.mp4,P1\n./a.mp4,P2\n").unwrap_err();
        assert!(e.contains("m.csv: rows 2 and 4 give the same video, `a.mp4` and `./a.mp4`"), "{e}");
        // also when the file is missing (then a failure row, once)
        let e = manifest(tmp.path(), "path\nc.mp4\nc.mp4\n").unwrap_err();
        assert!(e.contains("rows 2 and 3 give the same video, `c.mp4`"), "{e}");
        assert_eq!(manifest(tmp.path(), "path,patient\na.mp4,P1\nc.mp4,P2\n").unwrap().len(), 2);
    }

    #[test]
    fn manifest_columns_that_the_tables_cannot_keep_apart_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        for (header, column) in [
            ("path,status", "`status` has the name of a column hinge writes"),
            ("path,patient,reps", "`reps` has the name"),
            ("path,trunk_deg_at_depth", "`trunk_deg_at_depth` has the name"),
            ("path,verdict", "`verdict` has the name"),
            ("path,patient,patient", "`patient` appears twice"),
            ("path,path", "`path` appears twice"),
        ] {
            let e = manifest(tmp.path(), &format!("{header}\na.mp4,x,y\n")).unwrap_err();
            assert!(e.contains("m.csv: column ") && e.contains(column), "{header}: {e}");
        }
        let jobs = manifest(tmp.path(), "path,patient,session_date,notes,\na.mp4,P1,2026-01-01,,\n").unwrap();
        assert_eq!(jobs[0].meta["patient"], "P1");
    }

    #[test]
    fn inputs_without_videos_are_each_named() {
        let tmp = tempfile::tempdir().unwrap();
        let (empty, m) = (tmp.path().join("empty"), tmp.path().join("m.csv"));
        std::fs::create_dir_all(empty.join("sub")).unwrap();
        std::fs::write(empty.join("sub/notes.txt"), "").unwrap();
        std::fs::write(&m, "path,patient\n").unwrap();
        let e = collect_jobs(&[empty.clone(), m.clone()]).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}: no videos (looked for .mp4, .mov, .m4v, .avi, .mkv, .webm, .mpg, .mpeg, in every subfolder); {}: no rows",
                empty.display(),
                m.display()
            )
        );
        // an empty folder beside a video is fine
        std::fs::write(tmp.path().join("a.mp4"), "").unwrap();
        assert_eq!(collect_jobs(&[empty, tmp.path().join("a.mp4")]).unwrap().len(), 1);
    }

    proptest! {
        #[test]
        fn shards_partition_the_jobs(n in 0usize..40, count in 1usize..6) {
            let jobs: Vec<Job> = (0..n).map(|i| Job { path: PathBuf::from(format!("v{i:03}.mp4")), meta: BTreeMap::new() }).collect();
            let mut all: Vec<Job> = (0..count).flat_map(|i| shard(jobs.clone(), i, count)).collect();
            all.sort();
            prop_assert_eq!(all, jobs);
        }

        #[test]
        fn output_names_never_escape(s in "\\PC{0,80}") {
            let name = output_name(Path::new(&s));
            prop_assert!(!name.contains('/') && !name.contains('\\') && name != "." && name != "..");
            prop_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        }
    }
}
