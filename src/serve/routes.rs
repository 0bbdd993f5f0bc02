//! The HTTP side: the API (docs/serve.md), the pages, the files of finished
//! analyses (with range requests, for the video), and the rules every
//! request passes: the token when one is set, and headers that keep the
//! browser from fetching anything outside this server.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::db::{AnalysisStatus, NewSession, SessionSource};
use super::store::{check_video, ANALYSIS_FILES};
use super::{pages, AppState};

type Shared = State<Arc<AppState>>;

/// What every page may load: itself, inline styles and scripts, data: images.
/// Nothing from another origin, so a page cannot send patients' data away.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'; connect-src 'self'; frame-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'self'";

/// Longest patient name, note and other text field, in characters.
pub const MAX_TEXT_CHARS: usize = 500;
/// Longest patient name, characters.
pub const MAX_PATIENT_CHARS: usize = 100;

/// The application's routes.
pub fn router(state: Arc<AppState>) -> Router {
    // the multipart body may hold the video plus a few small fields
    let upload_limit = usize::try_from(state.options.max_upload_bytes.saturating_add(1 << 20)).unwrap_or(usize::MAX);
    Router::new()
        .route("/", get(home))
        .route("/patients", get(patients_page))
        .route("/patients/{patient}", get(patient_page))
        .route("/analyses/{id}", get(analysis_page))
        .route("/analyses/{id}/files/{file}", get(analysis_file))
        .route("/api/analyses", post(upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/api/analyses/{id}", get(analysis_json))
        .route("/api/queue", get(queue_json))
        .route("/api/patients", get(patients_json))
        .route("/api/patients/{patient}", get(patient_json))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&state), require_token))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// A JSON error: `{"error": "..."}` with the status.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// The API answers every error as JSON ([`error`], docs/serve.md), also
/// those axum gives as plain text or with no body (an id that is not a
/// number, a body that is not multipart or over the limit, a wrong method)
/// and an unknown `/api/` path (the pages' 404 is HTML).
async fn json_errors(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let resp = next.run(req).await;
    let status = resp.status();
    let content_type = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !api || !(status.is_client_error() || status.is_server_error()) || content_type.starts_with("application/json") {
        return resp;
    }
    let plain = content_type.starts_with("text/plain");
    let text = axum::body::to_bytes(resp.into_body(), 64 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let message = match text.trim() {
        t if plain && !t.is_empty() => t.to_string(),
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    error(status, message)
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!("{e}");
    error(StatusCode::INTERNAL_SERVER_ERROR, format!("server error: {e}"))
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Equal strings, compared in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Decodes `%XX` and `+` in a query value.
fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

const TOKEN_COOKIE: &str = "hinge_token";

/// With `--token`: a request must carry it (`Authorization: Bearer`, the
/// cookie, or `?token=` once, which sets the cookie); otherwise 401.
async fn require_token(State(state): Shared, req: Request, next: Next) -> Response {
    let Some(token) = state.options.token.as_deref() else {
        return next.run(req).await;
    };
    let headers = req.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(&format!("{TOKEN_COOKIE}=")).map(str::to_string))
        .next();
    let query =
        req.uri().query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token="))).map(percent_decode);
    let from_query = query.as_deref().is_some_and(|q| same_secret(q, token));
    let allowed =
        bearer.is_some_and(|b| same_secret(b, token)) || cookie.is_some_and(|c| same_secret(&c, token)) || from_query;
    if !allowed {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "401: this hinge server needs its access token. Open the address once with ?token=YOUR-TOKEN \
             (the browser keeps it), or send the header Authorization: Bearer YOUR-TOKEN.\n",
        )
            .into_response();
    }
    let mut resp = next.run(req).await;
    if from_query {
        let cookie = format!("{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Html(pages::message_page("Not found", "There is no such page."))).into_response()
}

async fn home(State(state): Shared) -> Response {
    match pages::home(&state) {
        Ok(html) => Html(html).into_response(),
        Err(e) => internal(e),
    }
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn patients_page(State(state): Shared, Query(q): Query<SearchQuery>) -> Response {
    match pages::patients(&state, &q.q) {
        Ok(html) => Html(html).into_response(),
        Err(e) => internal(e),
    }
}

async fn patient_page(State(state): Shared, Path(patient): Path<String>) -> Response {
    match pages::patient(&state, &patient) {
        Ok(Some(html)) => Html(html).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Html(pages::message_page("No such patient", &format!("No patient is called “{patient}”."))),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

async fn analysis_page(State(state): Shared, Path(id): Path<i64>) -> Response {
    match pages::analysis(&state, id) {
        Ok(Some(html)) => Html(html).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, Html(pages::message_page("Not found", "There is no such analysis.")))
            .into_response(),
        Err(e) => internal(e),
    }
}

async fn analysis_file(State(state): Shared, Path((id, file)): Path<(i64, String)>, req: Request) -> Response {
    // only the known names: nothing from the request becomes a path
    let Some(name) = ANALYSIS_FILES.iter().find(|f| **f == file) else {
        return error(StatusCode::NOT_FOUND, "no such file");
    };
    let row = match state.db.analysis(id) {
        Ok(Some(r)) if r.status == AnalysisStatus::Done => r,
        Ok(_) => return error(StatusCode::NOT_FOUND, "no finished analysis with this id"),
        Err(e) => return internal(e),
    };
    let path = state.store.output_dir(&row.video_sha256, &row.settings_sha256).join(name);
    if !path.is_file() {
        return error(StatusCode::NOT_FOUND, format!("{name} was not written for this analysis"));
    }
    match tower_http::services::ServeFile::new(path).try_call(req).await {
        Ok(resp) => resp.map(Body::new),
        Err(e) => internal(e),
    }
}

/// A received upload: removed when dropped unless kept.
struct PartFile {
    path: std::path::PathBuf,
    keep: bool,
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

struct Received {
    part: PartFile,
    sha256: String,
    size_bytes: u64,
    name: String,
}

/// Streams the `video` field to a scratch file, hashing as it goes.
async fn receive_video(state: &AppState, mut field: axum::extract::multipart::Field<'_>) -> Result<Received, Response> {
    let name: String = field.file_name().unwrap_or("video").chars().filter(|c| !c.is_control()).take(200).collect();
    let part = PartFile { path: state.store.new_upload_path(), keep: false };
    let mut file = tokio::fs::File::create(&part.path).await.map_err(internal)?;
    let mut hasher = Sha256::new();
    let mut size_bytes: u64 = 0;
    let limit = state.options.max_upload_bytes;
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the file is larger than the upload limit ({})", super::size_text(limit)),
        )
    };
    loop {
        match field.chunk().await {
            Ok(Some(bytes)) => {
                size_bytes += bytes.len() as u64;
                if size_bytes > limit {
                    return Err(too_large());
                }
                hasher.update(&bytes);
                file.write_all(&bytes).await.map_err(internal)?;
            }
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(error(StatusCode::BAD_REQUEST, format!("the upload broke off: {}", e.body_text()))),
        }
    }
    // on disk before the database says it is queued
    file.sync_all().await.map_err(internal)?;
    let sha256 = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Received { part, sha256, size_bytes, name })
}

async fn text_field(mut field: axum::extract::multipart::Field<'_>, what: &str) -> Result<String, Response> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("the upload broke off: {}", e.body_text())))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > 4 * MAX_TEXT_CHARS {
            return Err(error(StatusCode::BAD_REQUEST, format!("`{what}` is too long")));
        }
    }
    String::from_utf8(bytes).map_err(|_| error(StatusCode::BAD_REQUEST, format!("`{what}` is not UTF-8 text")))
}

/// A patient name as typed, trimmed; why it cannot be used.
pub fn clean_patient(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("`patient` is missing: name or number the patient".into());
    }
    if name.chars().count() > MAX_PATIENT_CHARS {
        return Err(format!("`patient` is longer than {MAX_PATIENT_CHARS} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("`patient` holds control characters".into());
    }
    if name == "." || name == ".." {
        // a browser resolves such a path segment away: the patient's page could never be opened
        return Err("`patient` cannot be `.` or `..`".into());
    }
    Ok(name.to_string())
}

/// Whether `s` is a calendar date written YYYY-MM-DD.
pub fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return false };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else { return false };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2200).contains(&y) && (1..=days).contains(&d)
}

/// Today's date (UTC), YYYY-MM-DD.
pub fn today() -> String {
    civil_date(super::db::now_s().div_euclid(86_400))
}

/// The latest date a session may be filmed on: tomorrow in UTC, which is
/// today somewhere on Earth.
pub fn latest_date() -> String {
    civil_date(super::db::now_s().div_euclid(86_400) + 1)
}

/// The date `days` after 1970-01-01, YYYY-MM-DD.
fn civil_date(days: i64) -> String {
    // civil date from days since 1970-01-01 (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `POST /api/analyses`: multipart `video` (the file) and `patient`, optional
/// `note` and `date` (YYYY-MM-DD, when it was filmed; default today) → 202
/// `{"id": ...}`.
async fn upload(State(state): Shared, mut multipart: Multipart) -> Response {
    let mut patient = None;
    let mut note = String::new();
    let mut date = None;
    let mut video: Option<Received> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the file is larger than the upload limit ({})",
                        super::size_text(state.options.max_upload_bytes)
                    ),
                )
            }
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a multipart upload: {}", e.body_text())),
        };
        let field_name = field.name().unwrap_or("").to_string();
        let received = match field_name.as_str() {
            "video" if video.is_some() => Err(error(StatusCode::BAD_REQUEST, "one `video` per request")),
            "video" => receive_video(&state, field).await.map(|v| video = Some(v)),
            "patient" => text_field(field, "patient").await.map(|t| patient = Some(t)),
            "note" => text_field(field, "note").await.map(|t| note = t.trim().chars().take(MAX_TEXT_CHARS).collect()),
            "date" => text_field(field, "date").await.map(|t| date = Some(t.trim().to_string())),
            _ => Ok(()),
        };
        if let Err(resp) = received {
            return resp;
        }
    }
    let patient = match clean_patient(patient.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(why) => return error(StatusCode::BAD_REQUEST, why),
    };
    let recorded_on = match date.filter(|d| !d.is_empty()) {
        Some(d) if is_date(&d) && d > latest_date() => {
            return error(StatusCode::BAD_REQUEST, format!("`date` {d} is in the future (when was it filmed?)"))
        }
        Some(d) if is_date(&d) => d,
        Some(d) => {
            return error(StatusCode::BAD_REQUEST, format!("`date` must be a date written YYYY-MM-DD (got `{d}`)"))
        }
        None => today(),
    };
    let Some(mut video) = video else {
        return error(StatusCode::BAD_REQUEST, "the multipart field `video` (the file) is missing");
    };
    let settings = state.options.settings_sha256.clone();
    let known = match state.db.find_analysis(&video.sha256, &settings) {
        Ok(k) => k,
        Err(e) => return internal(e),
    };
    let mut refused = None;
    // a new video, or one whose analysis failed (it is tried again if it passes the check now)
    if known.is_none_or(|(_, status)| status == AnalysisStatus::Failed) {
        let path = video.part.path.clone();
        let checked = tokio::task::spawn_blocking(move || check_video(&path))
            .await
            .unwrap_or_else(|e| Err(format!("the video check crashed: {e}")));
        match checked {
            Ok(()) => {
                if let Err(e) = state.store.keep_video(&video.part.path, &video.sha256) {
                    return internal(e);
                }
                video.part.keep = true;
            }
            Err(why) => refused = Some(why),
        }
    }
    let session = NewSession {
        patient: &patient,
        recorded_on: &recorded_on,
        note: &note,
        original_name: &video.name,
        video_sha256: &video.sha256,
        size_bytes: video.size_bytes,
        settings_sha256: &settings,
        refused: refused.as_deref(),
        source: SessionSource::Upload,
    };
    let recorded = match state.db.record_session(&session) {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    if recorded.status == AnalysisStatus::Queued {
        state.queue.notify();
    }
    let mut body = json!({
        "id": recorded.analysis_id,
        "status": recorded.status,
        "patient": patient,
        "new_analysis": recorded.new_analysis,
        "new_session": recorded.new_session,
        "recorded_on": recorded.recorded_on,
    });
    if let Some(why) = refused {
        body["reason"] = json!(why);
    }
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// The JSON of one analysis: status, reason, progress, sessions, reps,
/// summary.json when done, and the file links.
pub fn analysis_document(state: &AppState, id: i64) -> Result<Option<serde_json::Value>, super::db::DbError> {
    let Some(row) = state.db.analysis(id)? else { return Ok(None) };
    let sessions = state.db.sessions_of_analysis(id)?;
    let mut doc = serde_json::to_value(&row).unwrap_or_default();
    doc["sessions"] = json!(sessions
        .iter()
        .map(|s| json!({
            "patient": s.patient,
            "recorded_on": s.recorded_on,
            "note": s.note,
            "original_name": s.original_name,
            "source": s.source,
        }))
        .collect::<Vec<_>>());
    if row.status == AnalysisStatus::Running {
        doc["progress"] = json!(state.queue.progress(id));
    }
    if row.status == AnalysisStatus::Done {
        doc["reps"] = json!(state.db.reps(id)?);
        let dir = state.store.output_dir(&row.video_sha256, &row.settings_sha256);
        doc["summary"] = std::fs::read(dir.join("summary.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null);
        doc["files"] = json!(ANALYSIS_FILES
            .iter()
            .filter(|f| dir.join(f).is_file())
            .map(|f| (f.to_string(), json!(format!("/analyses/{id}/files/{f}"))))
            .collect::<serde_json::Map<_, _>>());
    }
    Ok(Some(doc))
}

async fn analysis_json(State(state): Shared, Path(id): Path<i64>) -> Response {
    match analysis_document(&state, id) {
        Ok(Some(doc)) => Json(doc).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no analysis {id}")),
        Err(e) => internal(e),
    }
}

/// Rows shown in the queue besides the waiting and running ones.
const QUEUE_RECENT: usize = 30;

async fn queue_json(State(state): Shared) -> Response {
    match state.db.queue(QUEUE_RECENT) {
        Ok(rows) => {
            let rows: Vec<serde_json::Value> = rows
                .into_iter()
                .map(|r| {
                    let mut v = serde_json::to_value(&r).unwrap_or_default();
                    if r.status == AnalysisStatus::Running {
                        v["progress"] = json!(state.queue.progress(r.id));
                    }
                    v
                })
                .collect();
            Json(json!({ "analyses": rows })).into_response()
        }
        Err(e) => internal(e),
    }
}

async fn patients_json(State(state): Shared, Query(q): Query<SearchQuery>) -> Response {
    match state.db.search_patients(q.q.trim(), 200) {
        Ok(list) => Json(json!({ "patients": list })).into_response(),
        Err(e) => internal(e),
    }
}

async fn patient_json(State(state): Shared, Path(patient): Path<String>) -> Response {
    match state.db.patient_sessions(&patient) {
        Ok(Some(sessions)) => Json(json!({ "patient": patient, "sessions": sessions })).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no patient called `{patient}`")),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_against_the_calendar() {
        assert!(is_date("2026-02-28"));
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2025-02-29"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("26-01-01"));
        assert!(!is_date("2026-1-1"));
        assert!(is_date(&today()), "{}", today());
        assert!(is_date(&latest_date()) && latest_date() > today());
        assert_eq!((civil_date(0), civil_date(19_782)), ("1970-01-01".to_string(), "2024-02-29".to_string()));
    }

    #[test]
    fn patient_names_are_trimmed_and_bounded() {
        assert_eq!(clean_patient("  P-017 ").unwrap(), "P-017");
        assert!(clean_patient("   ").is_err());
        assert!(clean_patient(&"x".repeat(101)).is_err());
        assert!(clean_patient("a\u{0}b").is_err());
        assert!(clean_patient(" .. ").is_err() && clean_patient(".").is_err());
        assert_eq!(clean_patient("..P").unwrap(), "..P");
    }

    #[test]
    fn secrets_compare_whole_and_queries_decode() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert_eq!(percent_decode("a%2Fb+c"), "a/b c");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
