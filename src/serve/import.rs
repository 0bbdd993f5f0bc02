//! `hinge batch --into DIR` and `hinge import BATCH_DIR... --data DIR`: the
//! results of a batch (on this machine or merged from a cluster) added to the
//! clinic's database, so they show on the patient pages. The manifest's
//! `patient`, `session_date` and `notes` columns say whose session it is and
//! when; a video without a patient is filed under [`UNASSIGNED_PATIENT`].
//!
//! Each analysis's files are copied into a scratch folder, put in place, and
//! only then recorded (one transaction per video), as the workers do; the same
//! content with the same settings already in the database is not copied again
//! (only the session is added). The video itself is copied into the store when
//! it is still where the batch read it and unchanged.

use std::path::{Path, PathBuf};

use super::db::{Db, NewSession, SessionSource};
use super::routes::{clean_patient, is_date, today};
use super::store::{is_sha256, DataDir, ANALYSIS_FILES};
use super::ServeError;
use crate::batch::{file_sha256, VideoResult};

/// The patient of a video whose manifest row names none.
pub const UNASSIGNED_PATIENT: &str = "unassigned";

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportOutcome {
    /// Analyses added with their session.
    pub added: usize,
    /// Videos whose analysis was there already (a session added when new).
    pub already: usize,
    /// Videos left out: (path, reason).
    pub skipped: Vec<(String, String)>,
}

fn meta<'a>(r: &'a VideoResult, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| r.meta.get(*k)).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// Adds batch results (`(batch directory, result)`, as
/// [`crate::batch::collect_results`] gives them) to the database in `data_dir`.
pub fn import_results(data_dir: &Path, found: &[(PathBuf, VideoResult)]) -> Result<ImportOutcome, ServeError> {
    let store = DataDir::create(data_dir)?;
    let db_path = store.database_path();
    let db = Db::open(&db_path).map_err(|source| ServeError::Database { path: db_path.clone(), source })?;
    let db_err = |source| ServeError::Database { path: db_path.clone(), source };
    let mut outcome = ImportOutcome::default();
    for (batch_dir, r) in found {
        let Some(sha) = r.input_sha256.as_deref().filter(|s| is_sha256(s)) else {
            outcome.skipped.push((r.path.clone(), "the batch could not read the video (no content hash)".into()));
            continue;
        };
        let patient = match meta(r, &["patient"]).map(clean_patient) {
            Some(Ok(p)) => p,
            Some(Err(why)) => {
                outcome.skipped.push((r.path.clone(), why));
                continue;
            }
            None => UNASSIGNED_PATIENT.to_string(),
        };
        let recorded_on = meta(r, &["session_date", "date"]).filter(|d| is_date(d)).map_or_else(today, str::to_string);
        let note = meta(r, &["notes", "note"]).unwrap_or("");
        let original_name = Path::new(&r.path).file_name().map_or(r.path.clone(), |n| n.to_string_lossy().into_owned());
        let session = NewSession {
            patient: &patient,
            recorded_on: &recorded_on,
            note,
            original_name: &original_name,
            video_sha256: sha,
            size_bytes: std::fs::metadata(&r.path).map_or(0, |m| m.len()),
            settings_sha256: &r.settings_sha256,
            refused: None,
            source: SessionSource::Batch,
        };
        if db.find_analysis(sha, &r.settings_sha256).map_err(db_err)?.is_some() {
            db.record_session(&session).map_err(db_err)?;
            outcome.already += 1;
            continue;
        }
        let from = batch_dir.join(&r.output_dir);
        let scratch = store.import_scratch();
        let copied = copy_outputs(&from, &scratch)
            .and_then(|_| store.put_in_place(&scratch, &store.output_dir(sha, &r.settings_sha256)));
        if let Err(e) = copied {
            let _ = std::fs::remove_dir_all(&scratch);
            outcome.skipped.push((r.path.clone(), format!("cannot copy {}: {e}", from.display())));
            continue;
        }
        keep_source_video(&store, Path::new(&r.path), sha);
        db.record_imported(&session, r).map_err(db_err)?;
        outcome.added += 1;
    }
    Ok(outcome)
}

/// Copies the downloadable files and result.json of a batch's video folder.
fn copy_outputs(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for name in ANALYSIS_FILES.iter().chain(std::iter::once(&super::worker::RESULT_FILE)) {
        let src = from.join(name);
        if src.is_file() {
            std::fs::copy(&src, to.join(name))?;
        }
    }
    Ok(())
}

/// Copies the video into the store when it is still there unchanged (a copy,
/// not a link: the store's files never change under their hash).
fn keep_source_video(store: &DataDir, source: &Path, sha256: &str) {
    let target = store.video_path(sha256);
    if target.is_file() || file_sha256(source).as_deref() != Some(sha256) {
        return;
    }
    let part = store.new_upload_path();
    if std::fs::copy(source, &part).is_ok() {
        let _ = std::fs::rename(&part, &target);
    } else {
        let _ = std::fs::remove_file(&part);
    }
}
