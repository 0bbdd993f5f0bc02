//! The clinic's database: one SQLite file in WAL mode, schema migrations kept
//! in the repository (`migrations/*.sql`, applied in order; `PRAGMA
//! user_version` holds the last one applied).
//!
//! Every change that must not be seen half-done (an upload recorded, an
//! analysis finished with its reps) happens in one transaction.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::functions::FunctionFlags;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use crate::batch::{Status, VideoResult};

/// The migrations, in order: (name, SQL). Never edit one that has shipped;
/// add the next file instead.
const MIGRATIONS: &[(&str, &str)] = &[("0001_init", include_str!("../../migrations/0001_init.sql"))];

/// Errors of the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite refused an operation.
    #[error("database {context}: {source}")]
    Sqlite { context: String, source: rusqlite::Error },
    /// The file was written by a newer hinge (a migration this build does not know).
    #[error("database is at schema version {found}, newer than this hinge knows ({known}): use a newer hinge")]
    TooNew { found: i64, known: i64 },
}

fn sql(context: &str) -> impl FnOnce(rusqlite::Error) -> DbError + '_ {
    move |source| DbError::Sqlite { context: context.to_string(), source }
}

/// Where an analysis stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnalysisStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl AnalysisStatus {
    pub fn name(self) -> &'static str {
        match self {
            AnalysisStatus::Queued => "queued",
            AnalysisStatus::Running => "running",
            AnalysisStatus::Done => "done",
            AnalysisStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> AnalysisStatus {
        match s {
            "queued" => AnalysisStatus::Queued,
            "running" => AnalysisStatus::Running,
            "done" => AnalysisStatus::Done,
            _ => AnalysisStatus::Failed,
        }
    }
}

/// Where a session came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionSource {
    Upload,
    Batch,
}

impl SessionSource {
    fn name(self) -> &'static str {
        match self {
            SessionSource::Upload => "upload",
            SessionSource::Batch => "batch",
        }
    }
}

/// A video to record for a patient.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub patient: &'a str,
    /// YYYY-MM-DD.
    pub recorded_on: &'a str,
    pub note: &'a str,
    /// The name the file had; shown only.
    pub original_name: &'a str,
    pub video_sha256: &'a str,
    pub size_bytes: u64,
    pub settings_sha256: &'a str,
    /// `Some(reason)`: the content is not a video it can analyse; the analysis is
    /// recorded as failed at once and never queued.
    pub refused: Option<&'a str>,
    pub source: SessionSource,
}

/// What recording a session did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub analysis_id: i64,
    /// False when the same content had been analysed (or queued) before.
    pub new_analysis: bool,
    pub status: AnalysisStatus,
    /// False when the patient already had a session of this analysis: that
    /// session is kept as it was, with its date and note.
    pub new_session: bool,
    /// The date filmed of the patient's session of this analysis, as kept.
    pub recorded_on: String,
}

/// An analysis as stored.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisRow {
    pub id: i64,
    pub status: AnalysisStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The batch status of a finished analysis (`ok`, `no_person` ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    pub video_sha256: String,
    pub settings_sha256: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub frames: Option<i64>,
    pub duration_s: Option<f64>,
    pub faults: Vec<String>,
    pub model: Option<String>,
    pub hinge_version: Option<String>,
    pub attempts: i64,
}

/// One rep of a finished analysis.
#[derive(Debug, Clone, Serialize)]
pub struct RepRecord {
    pub rep: i64,
    pub start_s: f64,
    pub end_s: f64,
    pub verdict: String,
    pub faults: Vec<String>,
    /// Medians over the rep's deep part, by metric name (the metrics registry).
    pub at_depth: BTreeMap<String, f64>,
}

/// A session of a patient.
#[derive(Debug, Clone, Serialize)]
pub struct SessionRow {
    pub session_id: i64,
    pub patient: String,
    pub recorded_on: String,
    pub note: String,
    pub original_name: String,
    pub uploaded_at: i64,
    pub source: String,
    pub analysis: AnalysisRow,
    pub reps: Vec<RepRecord>,
}

/// A patient and the number of sessions, for lists and search.
#[derive(Debug, Clone, Serialize)]
pub struct PatientListing {
    pub name: String,
    pub sessions: i64,
    pub last_recorded_on: Option<String>,
}

/// An analysis for the queue: its state and the first session it belongs to.
#[derive(Debug, Clone, Serialize)]
pub struct QueueRow {
    pub id: i64,
    pub status: AnalysisStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    pub patient: Option<String>,
    pub original_name: Option<String>,
    pub created_at: i64,
}

/// An analysis a worker took from the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub video_sha256: String,
    pub settings_sha256: String,
    /// The name of its first upload (shown in its outputs).
    pub original_name: Option<String>,
}

/// What start-up recovery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Interrupted analyses put back in the queue.
    pub requeued: usize,
    /// Interrupted too often: marked failed.
    pub given_up: usize,
}

/// The database, shared by the request handlers and the workers (each call
/// holds the connection for one short statement or transaction).
pub struct Db {
    conn: Mutex<Connection>,
}

/// Seconds since the Unix epoch.
pub fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn split_list(s: &str) -> Vec<String> {
    s.split(';').filter(|x| !x.is_empty()).map(str::to_string).collect()
}

const ANALYSIS_COLUMNS: &str = "a.id, a.status, a.reason, a.outcome, a.warning, a.video_sha256, a.settings_sha256, \
     a.created_at, a.started_at, a.finished_at, a.frames, a.duration_s, a.faults, a.model, a.hinge_version, a.attempts";

fn analysis_from(row: &rusqlite::Row, at: usize) -> rusqlite::Result<AnalysisRow> {
    let status: String = row.get(at + 1)?;
    let faults: String = row.get(at + 12)?;
    Ok(AnalysisRow {
        id: row.get(at)?,
        status: AnalysisStatus::parse(&status),
        reason: row.get(at + 2)?,
        outcome: row.get(at + 3)?,
        warning: row.get(at + 4)?,
        video_sha256: row.get(at + 5)?,
        settings_sha256: row.get(at + 6)?,
        created_at: row.get(at + 7)?,
        started_at: row.get(at + 8)?,
        finished_at: row.get(at + 9)?,
        frames: row.get(at + 10)?,
        duration_s: row.get(at + 11)?,
        faults: split_list(&faults),
        model: row.get(at + 13)?,
        hinge_version: row.get(at + 14)?,
        attempts: row.get(at + 15)?,
    })
}

impl Db {
    /// Opens (creating) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let conn = Connection::open(path).map_err(sql("cannot be opened"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sql("settings"))?;
        let mode: String =
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(sql("cannot use WAL mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!("SQLite journal mode is {mode}, not WAL");
        }
        // FULL: a finished analysis survives a power cut, not only a killed server
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;").map_err(sql("settings"))?;
        // SQLite's LIKE and lower() fold ASCII only: "müller" would not find "MÜLLER"
        conn.create_scalar_function(
            "hinge_lower",
            1,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| Ok(ctx.get::<String>(0)?.to_lowercase()),
        )
        .map_err(sql("settings"))?;
        let mut db = Db { conn: Mutex::new(conn) };
        db.migrate()?;
        Ok(db)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // a panic while holding the lock leaves SQLite consistent (transactions roll back)
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<i64, DbError> {
        self.lock().query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(sql("reading the schema version"))
    }

    fn migrate(&mut self) -> Result<(), DbError> {
        let conn = self.conn.get_mut().unwrap_or_else(|e| e.into_inner());
        let found: i64 =
            conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(sql("reading the schema version"))?;
        let known = MIGRATIONS.len() as i64;
        if found > known {
            return Err(DbError::TooNew { found, known });
        }
        for (i, (name, text)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let context = format!("migration {name}");
            let tx = conn.transaction().map_err(sql(&context))?;
            tx.execute_batch(text).map_err(sql(&context))?;
            tx.pragma_update(None, "user_version", i as i64 + 1).map_err(sql(&context))?;
            tx.commit().map_err(sql(&context))?;
        }
        Ok(())
    }

    /// After a stop: analyses left `running` go back to the queue; one
    /// interrupted `max_attempts` times or more (it may be what kills the
    /// server) is marked failed instead.
    pub fn recover_interrupted(&self, max_attempts: i64) -> Result<Recovery, DbError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(sql("recovery"))?;
        let given_up = tx
            .execute(
                "UPDATE analyses SET status = 'failed', finished_at = ?1, reason = ?2 \
                 WHERE status = 'running' AND attempts >= ?3",
                params![
                    now_s(),
                    format!(
                        "the analysis was interrupted {max_attempts} times (the server stopped during it); \
                         upload the video again to retry"
                    ),
                    max_attempts
                ],
            )
            .map_err(sql("recovery"))?;
        let requeued = tx
            .execute("UPDATE analyses SET status = 'queued', started_at = NULL WHERE status = 'running'", [])
            .map_err(sql("recovery"))?;
        tx.commit().map_err(sql("recovery"))?;
        Ok(Recovery { requeued, given_up })
    }

    /// On an orderly stop: running analyses go back to the queue without
    /// counting the attempt.
    pub fn requeue_running(&self) -> Result<usize, DbError> {
        self.lock()
            .execute(
                "UPDATE analyses SET status = 'queued', started_at = NULL, attempts = MAX(attempts - 1, 0) \
                 WHERE status = 'running'",
                [],
            )
            .map_err(sql("requeueing"))
    }

    fn patient_id(tx: &Transaction, name: &str) -> rusqlite::Result<i64> {
        tx.execute("INSERT OR IGNORE INTO patients (name, created_at) VALUES (?1, ?2)", params![name, now_s()])?;
        tx.query_row("SELECT id FROM patients WHERE name = ?1", [name], |r| r.get(0))
    }

    /// Records a video for a patient: the patient (created if new), the video,
    /// its analysis (queued, or failed when `refused`; the existing one when the
    /// same content was seen before with the same settings) and the session.
    pub fn record_session(&self, s: &NewSession) -> Result<Recorded, DbError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(sql("recording an upload"))?;
        let recorded = Self::record_in(&tx, s).map_err(sql("recording an upload"))?;
        tx.commit().map_err(sql("recording an upload"))?;
        Ok(recorded)
    }

    fn record_in(tx: &Transaction, s: &NewSession) -> rusqlite::Result<Recorded> {
        let now = now_s();
        let patient = Self::patient_id(tx, s.patient)?;
        if s.refused.is_none() {
            tx.execute(
                "INSERT OR IGNORE INTO videos (sha256, size_bytes, stored_at) VALUES (?1, ?2, ?3)",
                params![s.video_sha256, s.size_bytes as i64, now],
            )?;
        }
        let existing: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, status FROM analyses WHERE video_sha256 = ?1 AND settings_sha256 = ?2",
                params![s.video_sha256, s.settings_sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (analysis_id, new_analysis, status) = match existing {
            // a failed analysis of a video that passes the check now is tried again, from its first attempt
            // (the give-up reason tells the clinic to upload the video again to retry)
            Some((id, status)) if AnalysisStatus::parse(&status) == AnalysisStatus::Failed && s.refused.is_none() => {
                tx.execute(
                    "UPDATE analyses SET status = 'queued', reason = NULL, attempts = 0, started_at = NULL, \
                     finished_at = NULL WHERE id = ?1",
                    params![id],
                )?;
                (id, false, AnalysisStatus::Queued)
            }
            Some((id, status)) => (id, false, AnalysisStatus::parse(&status)),
            None => {
                let status = if s.refused.is_some() { AnalysisStatus::Failed } else { AnalysisStatus::Queued };
                tx.execute(
                    "INSERT INTO analyses (video_sha256, settings_sha256, status, reason, created_at, finished_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![s.video_sha256, s.settings_sha256, status.name(), s.refused, now, s.refused.map(|_| now)],
                )?;
                (tx.last_insert_rowid(), true, status)
            }
        };
        let added = tx.execute(
            "INSERT OR IGNORE INTO sessions \
             (patient_id, analysis_id, recorded_on, note, original_name, uploaded_at, source) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![patient, analysis_id, s.recorded_on, s.note, s.original_name, now, s.source.name()],
        )?;
        // the date as kept: this upload's, or the earlier session's the insert left in place
        let recorded_on = if added > 0 {
            s.recorded_on.to_string()
        } else {
            tx.query_row(
                "SELECT recorded_on FROM sessions WHERE patient_id = ?1 AND analysis_id = ?2",
                params![patient, analysis_id],
                |r| r.get(0),
            )?
        };
        Ok(Recorded { analysis_id, new_analysis, status, new_session: added > 0, recorded_on })
    }

    /// Records an analysis made elsewhere (a batch) whose files are already in
    /// place, with its session, in one transaction. Returns the analysis id
    /// and whether it is new (false: the same content and settings were here).
    pub fn record_imported(&self, s: &NewSession, result: &VideoResult) -> Result<Recorded, DbError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(sql("importing"))?;
        let recorded = Self::record_in(&tx, s).map_err(sql("importing"))?;
        if recorded.new_analysis {
            Self::finish_in(&tx, recorded.analysis_id, result).map_err(sql("importing"))?;
        }
        tx.commit().map_err(sql("importing"))?;
        let status = if recorded.new_analysis { finished_status(result) } else { recorded.status };
        Ok(Recorded { status, ..recorded })
    }

    /// The id an analysis of this content and settings has, if any.
    pub fn find_analysis(
        &self,
        video_sha256: &str,
        settings_sha256: &str,
    ) -> Result<Option<(i64, AnalysisStatus)>, DbError> {
        self.lock()
            .query_row(
                "SELECT id, status FROM analyses WHERE video_sha256 = ?1 AND settings_sha256 = ?2",
                params![video_sha256, settings_sha256],
                |r| Ok((r.get(0)?, AnalysisStatus::parse(&r.get::<_, String>(1)?))),
            )
            .optional()
            .map_err(sql("looking up an analysis"))
    }

    /// Takes the oldest queued analysis and marks it running (one attempt more).
    pub fn claim_next(&self) -> Result<Option<Claimed>, DbError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(sql("taking work"))?;
        let next: Option<Claimed> = tx
            .query_row(
                "SELECT a.id, a.video_sha256, a.settings_sha256, \
                 (SELECT s.original_name FROM sessions s WHERE s.analysis_id = a.id ORDER BY s.id LIMIT 1) \
                 FROM analyses a WHERE a.status = 'queued' ORDER BY a.id LIMIT 1",
                [],
                |r| {
                    Ok(Claimed {
                        id: r.get(0)?,
                        video_sha256: r.get(1)?,
                        settings_sha256: r.get(2)?,
                        original_name: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(sql("taking work"))?;
        if let Some(c) = &next {
            tx.execute(
                "UPDATE analyses SET status = 'running', started_at = ?1, attempts = attempts + 1 WHERE id = ?2",
                params![now_s(), c.id],
            )
            .map_err(sql("taking work"))?;
        }
        tx.commit().map_err(sql("taking work"))?;
        Ok(next)
    }

    /// Marks an analysis finished from its record, with its reps, in one
    /// transaction: `done` when the analysis ran to its end (with a warning
    /// when its figures may not hold), else `failed` with the reason.
    pub fn finish(&self, id: i64, result: &VideoResult) -> Result<AnalysisStatus, DbError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(sql("saving a result"))?;
        Self::finish_in(&tx, id, result).map_err(sql("saving a result"))?;
        tx.commit().map_err(sql("saving a result"))?;
        Ok(finished_status(result))
    }

    fn finish_in(tx: &Transaction, id: i64, r: &VideoResult) -> rusqlite::Result<()> {
        let status = finished_status(r);
        let (reason, warning) = match (status, r.status) {
            (AnalysisStatus::Failed, _) => (Some(r.reason.clone()), None),
            (_, Status::Ok) => (None, None),
            _ => (None, Some(r.reason.clone())),
        };
        tx.execute("DELETE FROM reps WHERE analysis_id = ?1", [id])?;
        tx.execute(
            "UPDATE analyses SET status = ?1, reason = ?2, outcome = ?3, warning = ?4, finished_at = ?5, \
             frames = ?6, duration_s = ?7, faults = ?8, model = ?9, hinge_version = ?10 WHERE id = ?11",
            params![
                status.name(),
                reason,
                r.status.name(),
                warning,
                now_s(),
                r.frames as i64,
                r.duration_s,
                r.faults.join(";"),
                r.model,
                r.hinge_version,
                id
            ],
        )?;
        for rep in &r.reps {
            tx.execute(
                "INSERT INTO reps (analysis_id, rep, start_s, end_s, verdict, faults, at_depth_json) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    rep.rep as i64,
                    rep.start_s,
                    rep.end_s,
                    rep.verdict,
                    rep.faults.join(";"),
                    serde_json::to_string(&rep.at_depth).unwrap_or_else(|_| "{}".into())
                ],
            )?;
        }
        Ok(())
    }

    /// Marks an analysis failed with a reason in plain words.
    pub fn fail(&self, id: i64, reason: &str) -> Result<(), DbError> {
        self.lock()
            .execute(
                "UPDATE analyses SET status = 'failed', reason = ?1, finished_at = ?2 WHERE id = ?3",
                params![reason, now_s(), id],
            )
            .map(|_| ())
            .map_err(sql("saving a failure"))
    }

    /// One analysis.
    pub fn analysis(&self, id: i64) -> Result<Option<AnalysisRow>, DbError> {
        self.lock()
            .query_row(&format!("SELECT {ANALYSIS_COLUMNS} FROM analyses a WHERE a.id = ?1"), [id], |r| {
                analysis_from(r, 0)
            })
            .optional()
            .map_err(sql("reading an analysis"))
    }

    /// The reps of a finished analysis, in order.
    pub fn reps(&self, analysis_id: i64) -> Result<Vec<RepRecord>, DbError> {
        let conn = self.lock();
        Self::reps_in(&conn, analysis_id).map_err(sql("reading reps"))
    }

    fn reps_in(conn: &Connection, analysis_id: i64) -> rusqlite::Result<Vec<RepRecord>> {
        let mut st = conn.prepare_cached(
            "SELECT rep, start_s, end_s, verdict, faults, at_depth_json FROM reps WHERE analysis_id = ?1 ORDER BY rep",
        )?;
        let rows = st.query_map([analysis_id], |r| {
            let faults: String = r.get(4)?;
            let at_depth: String = r.get(5)?;
            Ok(RepRecord {
                rep: r.get(0)?,
                start_s: r.get(1)?,
                end_s: r.get(2)?,
                verdict: r.get(3)?,
                faults: split_list(&faults),
                at_depth: serde_json::from_str(&at_depth).unwrap_or_default(),
            })
        })?;
        rows.collect()
    }

    /// The sessions an analysis belongs to (usually one), oldest upload first.
    pub fn sessions_of_analysis(&self, analysis_id: i64) -> Result<Vec<SessionRow>, DbError> {
        self.sessions_where("s.analysis_id = ?1", analysis_id)
    }

    fn sessions_where(&self, condition: &str, key: i64) -> Result<Vec<SessionRow>, DbError> {
        let conn = self.lock();
        let query = format!(
            "SELECT s.id, p.name, s.recorded_on, s.note, s.original_name, s.uploaded_at, s.source, {ANALYSIS_COLUMNS} \
             FROM sessions s JOIN patients p ON p.id = s.patient_id JOIN analyses a ON a.id = s.analysis_id \
             WHERE {condition} ORDER BY s.recorded_on, s.uploaded_at, s.id"
        );
        let read = || -> rusqlite::Result<Vec<SessionRow>> {
            let mut st = conn.prepare(&query)?;
            let rows = st.query_map([key], |r| {
                Ok(SessionRow {
                    session_id: r.get(0)?,
                    patient: r.get(1)?,
                    recorded_on: r.get(2)?,
                    note: r.get(3)?,
                    original_name: r.get(4)?,
                    uploaded_at: r.get(5)?,
                    source: r.get(6)?,
                    analysis: analysis_from(r, 7)?,
                    reps: Vec::new(),
                })
            })?;
            let mut sessions = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            for s in &mut sessions {
                s.reps = Self::reps_in(&conn, s.analysis.id)?;
            }
            Ok(sessions)
        };
        read().map_err(sql("reading sessions"))
    }

    /// A patient's sessions in time order (date filmed, then upload time), each
    /// with its analysis and reps; `None` for an unknown patient.
    pub fn patient_sessions(&self, name: &str) -> Result<Option<Vec<SessionRow>>, DbError> {
        let id: Option<i64> = self
            .lock()
            .query_row("SELECT id FROM patients WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(sql("reading a patient"))?;
        match id {
            Some(id) => self.sessions_where("s.patient_id = ?1", id).map(Some),
            None => Ok(None),
        }
    }

    /// Patients whose name contains `query` (case-insensitive in any script:
    /// both sides lower-cased by Unicode's rules; all for an empty query), most
    /// recently seen first.
    pub fn search_patients(&self, query: &str, limit: usize) -> Result<Vec<PatientListing>, DbError> {
        let conn = self.lock();
        let needle = query.to_lowercase();
        let read = || -> rusqlite::Result<Vec<PatientListing>> {
            let mut st = conn.prepare(
                "SELECT p.name, COUNT(s.id), MAX(s.recorded_on) FROM patients p \
                 LEFT JOIN sessions s ON s.patient_id = p.id \
                 WHERE instr(hinge_lower(p.name), ?1) > 0 \
                 GROUP BY p.id ORDER BY MAX(s.uploaded_at) DESC, p.name LIMIT ?2",
            )?;
            let rows = st.query_map(params![needle, limit as i64], |r| {
                Ok(PatientListing { name: r.get(0)?, sessions: r.get(1)?, last_recorded_on: r.get(2)? })
            })?;
            rows.collect()
        };
        read().map_err(sql("searching patients"))
    }

    /// The queue: every queued and running analysis, then the latest finished
    /// ones (up to `recent`), newest first, each with its first session.
    pub fn queue(&self, recent: usize) -> Result<Vec<QueueRow>, DbError> {
        let conn = self.lock();
        let read = || -> rusqlite::Result<Vec<QueueRow>> {
            let mut st = conn.prepare(
                "SELECT a.id, a.status, a.reason, a.warning, a.created_at, \
                 (SELECT p.name FROM sessions s JOIN patients p ON p.id = s.patient_id \
                  WHERE s.analysis_id = a.id ORDER BY s.id LIMIT 1), \
                 (SELECT s.original_name FROM sessions s WHERE s.analysis_id = a.id ORDER BY s.id LIMIT 1) \
                 FROM analyses a WHERE a.status IN ('queued', 'running') \
                 OR a.id IN (SELECT id FROM analyses WHERE status IN ('done', 'failed') \
                             ORDER BY COALESCE(finished_at, created_at) DESC, id DESC LIMIT ?1) \
                 ORDER BY a.id DESC",
            )?;
            let rows = st.query_map([recent as i64], |r| {
                let status: String = r.get(1)?;
                Ok(QueueRow {
                    id: r.get(0)?,
                    status: AnalysisStatus::parse(&status),
                    reason: r.get(2)?,
                    warning: r.get(3)?,
                    created_at: r.get(4)?,
                    patient: r.get(5)?,
                    original_name: r.get(6)?,
                })
            })?;
            rows.collect()
        };
        read().map_err(sql("reading the queue"))
    }
}

/// The folder of an analysis's files under the data directory, from its
/// content and settings hashes (known before the row exists, so the files can
/// be put in place before the row says `done`).
pub fn output_dir_name(video_sha256: &str, settings_sha256: &str) -> String {
    let short = |s: &str| s.chars().filter(char::is_ascii_hexdigit).take(16).collect::<String>();
    format!("analyses/{}-{}", short(video_sha256), short(settings_sha256))
}

/// `done` when the analysis ran to its end (its verdicts stand, with a warning
/// when not `ok`); `failed` when it did not (the file could not be read ...).
pub fn finished_status(r: &VideoResult) -> AnalysisStatus {
    // the statuses a resumed batch retries are exactly those of an analysis that did not finish
    if r.status.retried_on_resume() {
        AnalysisStatus::Failed
    } else {
        AnalysisStatus::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session<'a>(patient: &'a str, sha: &'a str, refused: Option<&'a str>) -> NewSession<'a> {
        NewSession {
            patient,
            recorded_on: "2026-01-05",
            note: "",
            original_name: "lift.mp4",
            video_sha256: sha,
            size_bytes: 10,
            settings_sha256: "s1",
            refused,
            source: SessionSource::Upload,
        }
    }

    fn result(status: Status) -> VideoResult {
        VideoResult {
            path: "videos/x".into(),
            status,
            reason: if status == Status::Ok { String::new() } else { "why".into() },
            input_sha256: Some("x".into()),
            settings_sha256: "s1".into(),
            model: "full".into(),
            hinge_version: "0".into(),
            output_dir: ".".into(),
            frames: 10,
            frames_with_person: 10,
            duration_s: 1.0,
            reps: vec![crate::batch::RepRow {
                rep: 1,
                start_s: 0.1,
                end_s: 0.9,
                verdict: "fault".into(),
                faults: vec!["rounded_lumbar".into()],
                at_depth: [("trunk_deg".to_string(), 60.0)].into_iter().collect(),
            }],
            faults: vec!["rounded_lumbar".into()],
            meta: BTreeMap::new(),
        }
    }

    #[test]
    fn migrations_apply_once_and_a_newer_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let db = Db::open(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(db);
        // reopening applies nothing twice
        let db = Db::open(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), MIGRATIONS.len() as i64);
        db.lock().pragma_update(None, "user_version", 99).unwrap();
        drop(db);
        match Db::open(&path) {
            Err(DbError::TooNew { found: 99, .. }) => {}
            other => panic!("expected TooNew, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn the_same_content_is_analysed_once_and_sessions_come_in_date_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite")).unwrap();
        let first =
            db.record_session(&NewSession { recorded_on: "2026-02-01", ..session("ana", "aaa", None) }).unwrap();
        assert!(first.new_analysis);
        assert_eq!(first.status, AnalysisStatus::Queued);
        let again = db.record_session(&session("ana", "aaa", None)).unwrap();
        assert_eq!((again.analysis_id, again.new_analysis), (first.analysis_id, false));
        // the patient's session of it is kept with its first date, and the answer says so
        assert!(first.new_session && !again.new_session);
        assert_eq!((first.recorded_on.as_str(), again.recorded_on.as_str()), ("2026-02-01", "2026-02-01"));
        let other = db.record_session(&session("bo", "aaa", None)).unwrap();
        assert!(!other.new_analysis && other.new_session, "another patient adds a session");
        assert_eq!(other.recorded_on, "2026-01-05");
        let second =
            db.record_session(&NewSession { recorded_on: "2026-01-01", ..session("ana", "bbb", None) }).unwrap();
        let sessions = db.patient_sessions("ana").unwrap().unwrap();
        let order: Vec<i64> = sessions.iter().map(|s| s.analysis.id).collect();
        assert_eq!(order, vec![second.analysis_id, first.analysis_id], "January before February");
        assert!(db.patient_sessions("nobody").unwrap().is_none());
    }

    #[test]
    fn claim_finish_and_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite")).unwrap();
        let refused = db.record_session(&session("bo", "ttt", Some("not a video"))).unwrap();
        assert_eq!(refused.status, AnalysisStatus::Failed);
        let a = db.record_session(&session("bo", "aaa", None)).unwrap().analysis_id;
        let b = db.record_session(&session("bo", "bbb", None)).unwrap().analysis_id;
        // the refused one is never claimed; the oldest queued first
        assert_eq!(db.claim_next().unwrap().unwrap().id, a);
        assert_eq!(db.claim_next().unwrap().unwrap().id, b);
        assert!(db.claim_next().unwrap().is_none());
        assert_eq!(db.finish(a, &result(Status::Ok)).unwrap(), AnalysisStatus::Done);
        assert_eq!(db.reps(a).unwrap()[0].at_depth["trunk_deg"], 60.0);
        // b was interrupted: back in the queue, then given up after too many tries
        assert_eq!(db.recover_interrupted(3).unwrap(), Recovery { requeued: 1, given_up: 0 });
        assert_eq!(db.claim_next().unwrap().unwrap().id, b);
        assert_eq!(db.recover_interrupted(3).unwrap(), Recovery { requeued: 1, given_up: 0 });
        // the third interruption is the last
        assert_eq!(db.claim_next().unwrap().unwrap().id, b);
        assert_eq!(db.recover_interrupted(3).unwrap(), Recovery { requeued: 0, given_up: 1 });
        let row = db.analysis(b).unwrap().unwrap();
        assert_eq!(row.status, AnalysisStatus::Failed);
        assert!(row.reason.unwrap().contains("interrupted 3 times"));
        // a finished analysis whose file could not be read is failed, one without a person done with a warning
        assert_eq!(finished_status(&result(Status::NotAVideo)), AnalysisStatus::Failed);
        assert_eq!(finished_status(&result(Status::NoPerson)), AnalysisStatus::Done);
        let names: Vec<String> = db.search_patients("B", 10).unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(names, vec!["bo".to_string()]);
        assert_eq!(db.queue(10).unwrap().len(), 3);
    }

    #[test]
    fn patient_search_ignores_case_in_any_script_and_takes_wildcards_literally() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite")).unwrap();
        for (name, hash) in [("MÜLLER-Ødegård", "a1"), ("Élodie 50%", "a2"), ("Ilse_K", "a3"), ("Иван", "a4")] {
            db.record_session(&session(name, hash, None)).unwrap();
        }
        let find = |q: &str| -> Vec<String> {
            let mut v: Vec<String> = db.search_patients(q, 10).unwrap().into_iter().map(|p| p.name).collect();
            v.sort();
            v
        };
        assert_eq!(find("müller-ødegÅrd"), ["MÜLLER-Ødegård"]);
        assert_eq!(find("éLODIE"), ["Élodie 50%"]);
        assert_eq!(find("иВ"), ["Иван"]);
        // % and _ are characters of a name, not wildcards
        assert_eq!(find("0%"), ["Élodie 50%"]);
        assert_eq!(find("e_"), ["Ilse_K"]);
        assert_eq!(find("%"), ["Élodie 50%"]);
        assert_eq!(find("").len(), 4);
    }
}
