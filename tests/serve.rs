//! `hinge serve` over HTTP: the real binary on a free port. Uploads go
//! queued → running → done with the summary readable; a text file fails with
//! a reason; the same video is analysed once; a kill -9 mid-analysis leaves no
//! half-written record and the restarted server finishes it; a patient's
//! history comes in the order the sessions were filmed; the token and the
//! upload limit hold; `hinge batch --into` adds its results to the database.

mod common;
use common::server::{get, get_json, upload, wait_finished, Server};
use common::{hinge, repo, run, stderr};

use std::path::Path;
use std::time::{Duration, Instant};

/// The shortest clips of samples/dev (127–133 frames).
const CLIP_A: &str = "samples/dev/dev_01_good_side_facing_left.mp4";
const CLIP_B: &str = "samples/dev/dev_04_rounded_lumbar_side_facing_right.mp4";
const CLIP_C: &str = "samples/dev/dev_12_idle_side_facing_right.mp4";

const ANALYSIS_TIMEOUT: Duration = Duration::from_secs(240);

fn bytes(clip: &str) -> Vec<u8> {
    std::fs::read(repo(clip)).unwrap()
}

fn truth_reps(clip: &str) -> u64 {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo(&clip.replace(".mp4", ".meta.json"))).unwrap()).unwrap();
    meta["reps"].as_u64().unwrap()
}

fn file_name(clip: &str) -> &str {
    Path::new(clip).file_name().unwrap().to_str().unwrap()
}

#[test]
fn uploads_are_queued_run_and_done_and_the_patient_history_is_in_filming_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "1"]);
    // A filmed later than B, uploaded first: with one worker B waits in the queue while A runs
    let (code, a) = upload(
        &server,
        &[("patient", "P-017"), ("date", "2026-03-09"), ("note", "week 2")],
        file_name(CLIP_A),
        &bytes(CLIP_A),
    );
    assert_eq!(code, 202, "{a}");
    let (code, b) = upload(&server, &[("patient", "P-017"), ("date", "2026-03-02")], file_name(CLIP_B), &bytes(CLIP_B));
    assert_eq!(code, 202, "{b}");
    let (a_id, b_id) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    assert_eq!(b["status"], "queued");
    let (b_doc, b_seen) = wait_finished(&server, b_id, ANALYSIS_TIMEOUT);
    assert_eq!(b_seen, ["queued", "running", "done"], "B's statuses as polled: {b_doc}");
    let (a_doc, _) = wait_finished(&server, a_id, ANALYSIS_TIMEOUT);
    assert_eq!(a_doc["status"], "done", "{a_doc}");

    // the summary, as `hinge analyze` writes it, with the ground truth's reps
    for (doc, clip) in [(&a_doc, CLIP_A), (&b_doc, CLIP_B)] {
        let summary = &doc["summary"];
        assert_eq!(summary["schema"], "hinge.summary/2", "{doc}");
        let reps = summary["reps"].as_array().unwrap();
        assert_eq!(reps.len() as u64, truth_reps(clip), "{clip}");
        let api_verdicts: Vec<&str> =
            doc["reps"].as_array().unwrap().iter().map(|r| r["verdict"].as_str().unwrap()).collect();
        let summary_verdicts: Vec<&str> = reps.iter().map(|r| r["verdict"].as_str().unwrap()).collect();
        assert_eq!(api_verdicts, summary_verdicts, "the database's reps are the summary's");
        let api_faults: Vec<&serde_json::Value> =
            doc["reps"].as_array().unwrap().iter().map(|r| &r["faults"]).collect();
        let summary_faults: Vec<&serde_json::Value> = reps.iter().map(|r| &r["faults"]).collect();
        assert_eq!(api_faults, summary_faults);
        // every file downloadable from its link
        for (name, link) in doc["files"].as_object().unwrap() {
            let (code, _) = get(&server.url(link.as_str().unwrap()), &[]);
            assert_eq!(code, 200, "{name}");
        }
        assert_eq!(doc["files"].as_object().unwrap().len(), 5, "{doc}");
    }
    // the video plays in the page: range requests are answered
    let (code, _) = get(&server.url(&format!("/analyses/{a_id}/files/annotated.mp4")), &[("Range", "bytes=0-99")]);
    assert_eq!(code, 206);
    // names are not paths
    let (code, _) = get(&server.url(&format!("/analyses/{a_id}/files/..%2Fhinge.sqlite")), &[]);
    assert_eq!(code, 404);

    // the same video again: the same analysis, not a second one
    let (code, again) = upload(&server, &[("patient", "P-017")], "renamed.mp4", &bytes(CLIP_A));
    assert_eq!(code, 202);
    assert_eq!((again["id"].as_i64().unwrap(), again["new_analysis"].as_bool().unwrap()), (a_id, false), "{again}");
    assert_eq!(again["new_session"], false, "the patient already has it: {again}");
    assert!(again["recorded_on"].as_str().is_some_and(|d| d.len() == 10), "the kept session's date: {again}");
    let stored = std::fs::read_dir(dir.path().join("videos")).unwrap().count();
    assert_eq!(stored, 2, "videos stored by content, once each");

    // the patient's history: both sessions, in the order filmed (B, then A), each with its reps' verdicts
    let (code, history) = get_json(&server.url("/api/patients/P-017"));
    assert_eq!(code, 200);
    let sessions = history["sessions"].as_array().unwrap();
    let ids: Vec<i64> = sessions.iter().map(|s| s["analysis"]["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [b_id, a_id], "{history}");
    assert_eq!(sessions[0]["recorded_on"], "2026-03-02");
    assert_eq!(sessions[1]["note"], "week 2");
    for (s, clip) in sessions.iter().zip([CLIP_B, CLIP_A]) {
        let reps = s["reps"].as_array().unwrap();
        assert_eq!(reps.len() as u64, truth_reps(clip));
        assert!(reps.iter().all(|r| r["verdict"] == "good" || r["verdict"] == "fault"), "{s}");
    }

    // the pages
    let (code, page) = get(&server.url(&format!("/analyses/{b_id}")), &[]);
    assert_eq!(code, 200);
    assert!(page.contains("data-rep=\"1\"") && page.contains("<video") && page.contains("report.html"));
    let (code, page) = get(&server.url("/patients/P-017"), &[]);
    assert_eq!(code, 200);
    assert!(page.contains("id=\"plot-faulty-reps\"") && page.contains("<svg"), "the patient's plots");
    let (code, page) = get(&server.url("/patients?q=p-01"), &[]);
    assert_eq!(code, 200);
    assert!(page.contains("P-017"), "search is case-insensitive");
    let (code, _) = get_json(&server.url("/api/patients/nobody"));
    assert_eq!(code, 404);
}

#[test]
fn a_text_file_fails_with_a_reason_and_bad_uploads_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "1", "--max-upload", "20KB"]);
    let text = "Notes on the patient's lift, not a video.\n".repeat(20);
    let (code, r) = upload(&server, &[("patient", "P-020")], "lift.mp4", text.as_bytes());
    assert_eq!(code, 202, "{r}");
    let id = r["id"].as_i64().unwrap();
    let (doc, _) = wait_finished(&server, id, Duration::from_secs(10));
    assert_eq!(doc["status"], "failed");
    let reason = doc["reason"].as_str().unwrap();
    assert!(reason.starts_with("not a video"), "{reason}");
    let (code, page) = get(&server.url(&format!("/analyses/{id}")), &[]);
    assert_eq!(code, 200);
    assert!(page.contains("not a video"), "the page shows the reason");
    // nothing kept of it
    assert_eq!(std::fs::read_dir(dir.path().join("videos")).unwrap().count(), 0);
    // a file over the limit: 413, nothing kept
    let (code, r) = upload(&server, &[("patient", "P-020")], "big.mp4", &bytes(CLIP_A));
    assert_eq!(code, 413, "{r}");
    assert!(r["error"].as_str().unwrap().contains("20 KB") || r["error"].as_str().unwrap().contains("limit"), "{r}");
    // no patient, a bad date, no file
    let (code, r) = upload(&server, &[("patient", " ")], "a.mp4", b"x");
    assert_eq!(code, 400, "{r}");
    let (code, r) = upload(&server, &[("patient", "P-020"), ("date", "2026-02-30")], "a.mp4", b"x");
    assert_eq!(code, 400, "{r}");
    assert!(r["error"].as_str().unwrap().contains("YYYY-MM-DD"));
    assert_eq!(std::fs::read_dir(dir.path().join("uploads")).unwrap().count(), 0, "no upload left behind");
    assert_eq!(std::fs::read_dir(dir.path().join("videos")).unwrap().count(), 0);
    // what axum's extractors refuse is answered as JSON too
    let (code, r) = get_json(&server.url("/api/analyses/abc"));
    assert_eq!(code, 400, "{r}");
    assert!(r["error"].as_str().is_some_and(|e| e.contains("abc")), "{r}");
    let mut resp = common::server::agent()
        .post(&server.url("/api/analyses"))
        .header("Content-Type", "text/plain")
        .send(&b"not a form"[..])
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    let r: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    assert!((400..500).contains(&status) && r["error"].is_string(), "{status}: {r}");
    // an unknown API path and a wrong method
    let (code, r) = get_json(&server.url("/api/nosuch"));
    assert_eq!((code, r["error"].as_str()), (404, Some("not found")), "{r}");
    let mut resp = common::server::agent().post(&server.url("/api/queue")).send(&b""[..]).unwrap();
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    let r: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    assert_eq!((status, r["error"].as_str()), (405, Some("method not allowed")), "{r}");
    // a session filmed in the future, a patient whose page could not be opened
    let (code, r) = upload(&server, &[("patient", "P-020"), ("date", "2199-01-01")], "a.mp4", b"x");
    assert_eq!(code, 400, "{r}");
    assert!(r["error"].as_str().unwrap().contains("in the future"), "{r}");
    let (code, r) = upload(&server, &[("patient", "..")], "a.mp4", b"x");
    assert_eq!(code, 400, "{r}");
}

/// Processes (other than `except`) whose working directory is `dir`: the
/// server's analysis children run there.
fn processes_in(dir: &Path) -> Vec<u32> {
    let dir = dir.canonicalize().unwrap();
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        if std::fs::read_link(e.path().join("cwd")).is_ok_and(|c| c == dir) {
            found.push(pid);
        }
    }
    found
}

#[test]
fn a_kill_9_mid_analysis_leaves_no_half_record_and_the_restart_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--workers", "1"]);
    let (code, r) = upload(&server, &[("patient", "P-030"), ("date", "2026-04-01")], file_name(CLIP_C), &bytes(CLIP_C));
    assert_eq!(code, 202, "{r}");
    let id = r["id"].as_i64().unwrap();
    // wait until the analysis is under way (the child reports progress)
    let started = Instant::now();
    loop {
        let (_, doc) = get_json(&server.url(&format!("/api/analyses/{id}")));
        if doc["status"] == "running" && doc["progress"]["done"].as_u64().is_some_and(|d| d > 0) {
            break;
        }
        assert_ne!(doc["status"], "done", "finished before it could be killed");
        assert!(started.elapsed() < ANALYSIS_TIMEOUT, "never running: {doc}\n{}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!processes_in(dir.path()).is_empty(), "the analysis runs as a child in the data directory");
    server.kill_9();
    // the child dies with the server: nothing keeps writing into the data directory
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_in(dir.path()).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(processes_in(dir.path()), Vec::<u32>::new(), "orphaned analysis processes");
    // no half-written record: the row still says running, no reps, no results in place
    {
        let db = rusqlite::Connection::open(dir.path().join("hinge.sqlite")).unwrap();
        let status: String = db.query_row("SELECT status FROM analyses WHERE id = ?1", [id], |r| r.get(0)).unwrap();
        assert_eq!(status, "running");
        let reps: i64 = db.query_row("SELECT COUNT(*) FROM reps", [], |r| r.get(0)).unwrap();
        assert_eq!(reps, 0);
    }
    assert_eq!(std::fs::read_dir(dir.path().join("analyses")).unwrap().count(), 0, "no results in place");
    // restart: the analysis resumes and finishes
    let server = Server::start(dir.path(), &["--workers", "1"]);
    let (doc, _) = wait_finished(&server, id, ANALYSIS_TIMEOUT);
    assert_eq!(doc["status"], "done", "{doc}");
    assert_eq!(doc["attempts"], 2, "{doc}");
    assert_eq!(doc["summary"]["schema"], "hinge.summary/2");
    assert_eq!(doc["reps"].as_array().unwrap().len() as u64, truth_reps(CLIP_C));
    assert_eq!(std::fs::read_dir(dir.path().join("work")).unwrap().count(), 0, "scratch cleared");
    assert_eq!(std::fs::read_dir(dir.path().join("analyses")).unwrap().count(), 1);
    let (_, history) = get_json(&server.url("/api/patients/P-030"));
    assert_eq!(history["sessions"].as_array().unwrap().len(), 1, "one session, not two");
}

#[test]
fn a_token_is_required_off_loopback_and_checked_on_every_request() {
    let dir = tempfile::tempdir().unwrap();
    // reachable from other machines without a token: refused before anything starts
    let mut c = hinge();
    c.arg("serve").arg("--data").arg(dir.path()).args(["--listen", "0.0.0.0:0"]).env_remove("HINGE_TOKEN");
    let o = run(c);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--token"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "one line: {}", stderr(&o));
    // a token that a link or a cookie would mangle
    let mut c = hinge();
    c.arg("serve").arg("--data").arg(dir.path()).args(["--token", "correct;horse battery"]);
    let o = run(c);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--token must be at least 16 characters of A-Z"), "{}", stderr(&o));
    // with a token every request needs it
    let token = "correct-horse-battery-staple";
    let server = Server::start(dir.path(), &["--workers", "1", "--token", token]);
    assert_eq!(get(&server.url("/api/queue"), &[]).0, 401);
    assert_eq!(get(&server.url("/"), &[]).0, 401);
    assert_eq!(get(&server.url("/api/queue"), &[("Authorization", "Bearer wrong-token-wrong-token")]).0, 401);
    assert_eq!(get(&server.url("/api/queue"), &[("Authorization", &format!("Bearer {token}"))]).0, 200);
    assert_eq!(get(&server.url(&format!("/?token={token}")), &[]).0, 200);
    assert_eq!(get(&server.url("/"), &[("Cookie", &format!("hinge_token={token}"))]).0, 200);
}

#[test]
fn batch_into_adds_the_results_to_the_patient_pages() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(
        &manifest,
        format!("path,patient,session_date,notes\n{},P-040,2026-05-04,from the cluster\n", repo(CLIP_C).display()),
    )
    .unwrap();
    let (out, data) = (dir.path().join("batch"), dir.path().join("data"));
    let mut c = hinge();
    c.arg("batch").arg(&manifest).arg("--out").arg(&out).arg("--into").arg(&data).args(["--jobs", "1"]);
    let o = run(c);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 analyses added"), "{}", stderr(&o));
    // again, as an import: nothing added twice
    let mut c = hinge();
    c.arg("import").arg(&out).arg("--data").arg(&data);
    let o = run(c);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 analyses added") && stderr(&o).contains("1 there before"), "{}", stderr(&o));
    let server = Server::start(&data, &["--workers", "1"]);
    let (code, history) = get_json(&server.url("/api/patients/P-040"));
    assert_eq!(code, 200, "{history}");
    let sessions = history["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{history}");
    let s = &sessions[0];
    assert_eq!(
        (s["recorded_on"].as_str(), s["note"].as_str(), s["source"].as_str()),
        (Some("2026-05-04"), Some("from the cluster"), Some("batch"))
    );
    assert_eq!(s["analysis"]["status"], "done");
    assert_eq!(s["reps"].as_array().unwrap().len() as u64, truth_reps(CLIP_C));
    let id = s["analysis"]["id"].as_i64().unwrap();
    let (_, doc) = get_json(&server.url(&format!("/api/analyses/{id}")));
    assert_eq!(doc["summary"]["schema"], "hinge.summary/2", "{doc}");
    // uploading the same video now finds the batch's analysis: analysed once
    let (code, r) = upload(&server, &[("patient", "P-040")], "again.mp4", &bytes(CLIP_C));
    assert_eq!(code, 202);
    assert_eq!((r["id"].as_i64(), r["new_analysis"].as_bool()), (Some(id), Some(false)), "{r}");
}

/// A second server started by mistake on the same data folder (or on a port
/// in use) fails with one line and leaves the running one and its analyses
/// alone: it must not requeue them or empty their scratch folders.
#[test]
fn a_second_server_fails_without_touching_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "1"]);
    let (code, r) = upload(&server, &[("patient", "P-040")], "lift.mp4", &bytes(CLIP_A));
    assert_eq!(code, 202, "{r}");
    let id = r["id"].as_i64().unwrap();
    // the same data folder, another port
    let mut c = hinge();
    c.arg("serve").arg("--data").arg(dir.path()).args(["--listen", "127.0.0.1:0"]).env_remove("HINGE_TOKEN");
    let o = run(c);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("another hinge serve is using this data folder"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    // another data folder, the port in use
    let other = tempfile::tempdir().unwrap();
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut c = hinge();
    c.arg("serve").arg("--data").arg(other.path()).args(["--listen", &addr]).env_remove("HINGE_TOKEN");
    let o = run(c);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("cannot listen on {addr}")), "{}", stderr(&o));
    // the first server's analysis ran once, undisturbed
    let (doc, _) = wait_finished(&server, id, ANALYSIS_TIMEOUT);
    assert_eq!((doc["status"].as_str(), doc["attempts"].as_i64()), (Some("done"), Some(1)), "{doc}");
}

/// A failed analysis is tried again when its video is uploaded again (what
/// the give-up reasons tell the clinic to do), here after a time limit that
/// was too short.
#[test]
fn a_failed_analysis_is_retried_when_the_video_is_uploaded_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--workers", "1", "--time-limit", "0.002"]);
    let (code, r) = upload(&server, &[("patient", "P-050")], "lift.mp4", &bytes(CLIP_C));
    assert_eq!(code, 202, "{r}");
    let id = r["id"].as_i64().unwrap();
    let (doc, _) = wait_finished(&server, id, ANALYSIS_TIMEOUT);
    assert_eq!(doc["status"], "failed", "{doc}");
    server.kill_9();
    let server = Server::start(dir.path(), &["--workers", "1"]);
    let (code, r) = upload(&server, &[("patient", "P-050")], "lift.mp4", &bytes(CLIP_C));
    assert_eq!((code, r["id"].as_i64()), (202, Some(id)), "{r}");
    assert_eq!(r["status"], "queued", "{r}");
    let (doc, _) = wait_finished(&server, id, ANALYSIS_TIMEOUT);
    assert_eq!((doc["status"].as_str(), doc["attempts"].as_i64()), (Some("done"), Some(1)), "{doc}");
    // a text file stays refused however often it comes
    let text = "not a video\n".repeat(50);
    let (_, first) = upload(&server, &[("patient", "P-050")], "notes.mp4", text.as_bytes());
    let (_, again) = upload(&server, &[("patient", "P-050")], "notes.mp4", text.as_bytes());
    assert_eq!((first["id"].clone(), again["status"].as_str()), (again["id"].clone(), Some("failed")), "{again}");
}
