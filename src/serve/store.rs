//! The data directory: the database, videos stored by content hash
//! (`videos/<sha256>`), each analysis's files (`analyses/<video>-<settings>/`),
//! and scratch space (`uploads/` for uploads being received, `work/` for
//! analyses being written) that is emptied at start. Names given by users
//! are never used as paths.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::ServeError;
use crate::video::{VideoError, VideoSource};

/// The files of a finished analysis that can be downloaded (and nothing else).
pub const ANALYSIS_FILES: [&str; 5] = ["report.html", "annotated.mp4", "summary.json", "frames.csv", "reps.csv"];

/// The data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

static UPLOAD_COUNTER: AtomicU64 = AtomicU64::new(0);

fn data_err(path: &Path, e: impl ToString) -> ServeError {
    ServeError::DataDir { path: path.to_path_buf(), reason: e.to_string() }
}

/// Whether `s` is a lowercase hex SHA-256.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl DataDir {
    /// Creates the directory and its folders (absolute path kept).
    pub fn create(root: &Path) -> Result<DataDir, ServeError> {
        for sub in ["", "videos", "analyses", "work", "uploads"] {
            let p = if sub.is_empty() { root.to_path_buf() } else { root.join(sub) };
            crate::report::atomic::create_dir(&p).map_err(|e| data_err(&p, e))?;
        }
        let root = root.canonicalize().map_err(|e| data_err(root, e))?;
        Ok(DataDir { root })
    }

    /// Takes the folder for this server until the returned file is dropped:
    /// a second `hinge serve` on the same folder would requeue the first one's
    /// running analyses and empty its scratch folders (`hinge batch --into`
    /// only adds records, and takes no lock).
    pub fn lock_for_serving(&self) -> Result<std::fs::File, ServeError> {
        let p = self.root.join("serve.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(|e| data_err(&p, e))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(data_err(&self.root, "another hinge serve is using this data folder (serve.lock)"))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(data_err(&p, e)),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn database_path(&self) -> PathBuf {
        self.root.join("hinge.sqlite")
    }

    /// A stored video, relative to the root (`videos/<sha256>`).
    pub fn video_rel(sha256: &str) -> String {
        debug_assert!(is_sha256(sha256));
        format!("videos/{sha256}")
    }

    pub fn video_path(&self, sha256: &str) -> PathBuf {
        self.root.join(Self::video_rel(sha256))
    }

    /// The folder of a finished analysis.
    pub fn output_dir(&self, video_sha256: &str, settings_sha256: &str) -> PathBuf {
        self.root.join(super::db::output_dir_name(video_sha256, settings_sha256))
    }

    /// Scratch folder of a running analysis, relative to the root.
    pub fn work_rel(analysis_id: i64) -> String {
        format!("work/{analysis_id}")
    }

    pub fn work_dir(&self, analysis_id: i64) -> PathBuf {
        self.root.join(Self::work_rel(analysis_id))
    }

    /// A fresh scratch folder for an import.
    pub fn import_scratch(&self) -> PathBuf {
        self.root.join(format!("work/import-{}-{}", std::process::id(), UPLOAD_COUNTER.fetch_add(1, Ordering::SeqCst)))
    }

    /// A fresh name for an upload being received.
    pub fn new_upload_path(&self) -> PathBuf {
        let n = UPLOAD_COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        self.root.join(format!("uploads/{}-{n}-{nanos}.part", std::process::id()))
    }

    /// Empties `uploads/` and `work/`: what a stopped server left half-written.
    pub fn clear_scratch(&self) -> Result<(), ServeError> {
        for sub in ["uploads", "work"] {
            let p = self.root.join(sub);
            std::fs::remove_dir_all(&p)
                .or_else(|e| if p.exists() { Err(e) } else { Ok(()) })
                .map_err(|e| data_err(&p, e))?;
            std::fs::create_dir_all(&p).map_err(|e| data_err(&p, e))?;
        }
        Ok(())
    }

    /// Moves a received upload into the store under its hash (a copy already
    /// there is kept and the upload removed).
    pub fn keep_video(&self, upload: &Path, sha256: &str) -> std::io::Result<()> {
        let target = self.video_path(sha256);
        if target.is_file() {
            return std::fs::remove_file(upload);
        }
        std::fs::rename(upload, &target)
    }

    /// Puts a finished scratch folder in place of `target` (a leftover from an
    /// interrupted run is replaced), then syncs the parent so the rename holds.
    pub fn put_in_place(&self, scratch: &Path, target: &Path) -> std::io::Result<()> {
        if target.exists() {
            std::fs::remove_dir_all(target)?;
        }
        std::fs::rename(scratch, target)?;
        if let Some(parent) = target.parent() {
            if let Ok(d) = std::fs::File::open(parent) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

/// Checks that a file is a video hinge can analyse (FFmpeg opens it, it has a
/// video track, a first frame decodes); the reason in plain words when not.
pub fn check_video(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() == 0 => return Err("the file is empty".into()),
        Ok(_) => {}
        Err(e) => return Err(format!("the file could not be read: {e}")),
    }
    match VideoSource::open_file(path) {
        Ok(_) => Ok(()),
        Err(e) => Err(video_error_words(&e)),
    }
}

/// A video error in plain words, without the stored file's path.
pub fn video_error_words(e: &VideoError) -> String {
    match e {
        VideoError::NotAVideo { .. } => {
            "not a video: FFmpeg cannot open this file as a video (a text file, a document or a damaged file)".into()
        }
        VideoError::NoVideoTrack { .. } => "no video track: the file holds sound only".into(),
        VideoError::NoFrames { .. } => {
            "no picture could be decoded: the file is empty, cut short or uses a codec FFmpeg cannot decode".into()
        }
        VideoError::NotFound { .. } => "the file is missing".into(),
        VideoError::Unreadable { reason, .. } => format!("the file could not be read: {reason}"),
        VideoError::SourceUnavailable { reason, .. } | VideoError::Decode { reason, .. } => {
            format!("the video could not be decoded: {reason}")
        }
        VideoError::Stopped { .. } => "the analysis was stopped before the end of the video (its time was up)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lowercase_sha256_names_are_store_names() {
        assert!(is_sha256(&"a".repeat(64)));
        assert!(!is_sha256(&"A".repeat(64)));
        assert!(!is_sha256("../../etc/passwd"));
        assert!(!is_sha256(&"a".repeat(63)));
    }

    #[test]
    fn a_text_file_is_not_a_video_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("notes.mp4");
        std::fs::write(&p, "patient notes, not a video\n".repeat(50)).unwrap();
        let why = check_video(&p).unwrap_err();
        assert!(why.starts_with("not a video"), "{why}");
        assert!(!why.contains("notes.mp4"), "the stored path is not shown: {why}");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        assert_eq!(check_video(&empty).unwrap_err(), "the file is empty");
    }

    #[test]
    fn scratch_is_cleared_and_a_leftover_output_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::create(dir.path()).unwrap();
        std::fs::write(data.root().join("uploads/x.part"), "half").unwrap();
        std::fs::create_dir_all(data.work_dir(7)).unwrap();
        data.clear_scratch().unwrap();
        assert_eq!(std::fs::read_dir(data.root().join("uploads")).unwrap().count(), 0);
        assert_eq!(std::fs::read_dir(data.root().join("work")).unwrap().count(), 0);
        let target = data.output_dir("ab", "cd");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(target.join("stale"), "old").unwrap();
        let scratch = data.work_dir(1);
        std::fs::create_dir_all(&scratch).unwrap();
        std::fs::write(scratch.join("summary.json"), "{}").unwrap();
        data.put_in_place(&scratch, &target).unwrap();
        assert!(target.join("summary.json").is_file() && !target.join("stale").exists());
    }
}
