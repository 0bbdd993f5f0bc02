//! What a batch processes: files, directories (recursive) and manifest CSVs,
//! expanded into a deterministic, de-duplicated list of jobs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::BatchError;

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

fn scan_dir(dir: &Path, out: &mut Vec<Job>) -> Result<(), BatchError> {
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

/// Reads a manifest: a CSV with a `path` column; other columns are carried.
pub fn read_manifest(path: &Path) -> Result<Vec<Job>, BatchError> {
    let bad = |reason: String| BatchError::Input { path: path.to_path_buf(), reason };
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let header: Vec<String> =
        reader.headers().map_err(|e| bad(e.to_string()))?.iter().map(|h| h.trim().to_string()).collect();
    let path_col =
        header.iter().position(|h| h == "path").ok_or_else(|| bad("manifest has no `path` column".into()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut jobs = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("row {}: {e}", i + 2)))?;
        let raw = rec.get(path_col).unwrap_or("").trim();
        if raw.is_empty() {
            return Err(bad(format!("row {}: empty path", i + 2)));
        }
        let p = Path::new(raw);
        let resolved = if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
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
pub fn collect_jobs(inputs: &[PathBuf]) -> Result<Vec<Job>, BatchError> {
    let mut jobs = Vec::new();
    for input in inputs {
        if input.is_dir() {
            scan_dir(input, &mut jobs)?;
        } else if is_manifest(input) && input.is_file() {
            jobs.extend(read_manifest(input)?);
        } else {
            jobs.push(Job { path: input.clone(), meta: BTreeMap::new() });
        }
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
