//! The real pages of `hinge serve` in headless Chromium, driven over the
//! DevTools protocol: a video chosen in the desk's file input is uploaded for
//! a new patient, the queue shows it finish, the analysis page shows every
//! rep's verdict and plays the annotated video, the patient page shows the
//! verdicts and the plots — with no console error and no request leaving the
//! machine. Screenshots: target/tmp/serve_*.png.
//!
//! Chromium (Debian package `chromium`, `make test` installs it where apt has
//! it) is optional: without it the test is skipped with a message.

mod common;
use common::cdp::{find_chromium, Browser};
use common::repo;
use common::server::{get_json, Server};

use std::path::Path;
use std::time::Duration;

const CLIP: &str = "samples/dev/dev_04_rounded_lumbar_side_facing_right.mp4";
const PATIENT: &str = "Zoë Example";

fn screenshot_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve_{name}.png"))
}

#[test]
fn the_pages_upload_analyse_and_show_verdicts_and_plots_without_errors_or_outside_requests() {
    let chromium = match find_chromium() {
        Ok(b) => b,
        Err(why) => {
            eprintln!("SKIPPED: serve_browser: {why}");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "1"]);
    let mut b = Browser::launch(&chromium, (1200, 1000));

    // the checks see what they are meant to: a console error and an outside request on a bare page
    b.goto("about:blank");
    b.eval("console.error('probe'); new Image().src = 'http://203.0.113.9/probe.png'; 1");
    std::thread::sleep(Duration::from_millis(500));
    b.eval("1");
    assert!(b.problems().iter().any(|p| p.contains("probe")), "console errors are not seen: {:?}", b.events);
    assert!(b.requests().iter().any(|u| u.contains("203.0.113.9")), "requests are not seen");
    b.clear_events();

    // the desk: choose the file, name a new patient, send
    b.goto(&server.url("/"));
    // the date filmed starts at today on the browser's clock (not the server's UTC day), and no later
    let date = b.eval("const d = document.getElementById('date'); d.value + ' ' + d.max");
    let date = date.as_str().unwrap_or_default().to_string();
    let (value, max) = date.split_once(' ').unwrap_or_default();
    assert!(value.len() == 10 && value.as_bytes()[4] == b'-' && value == max, "date field: {date:?}");
    b.set_files("#files", &[&repo(CLIP)]);
    let picked = b.wait_for("document.querySelectorAll('#picked li').length", Duration::from_secs(10));
    assert_eq!(picked, 1, "the chosen file is listed");
    b.eval(&format!(
        "document.getElementById('patient').value = {}; document.getElementById('date').value = '2026-06-01'; \
         document.getElementById('note').value = 'first visit'; document.getElementById('send').click(); 1",
        serde_json::json!(PATIENT)
    ));
    let link = b.wait_for("(document.querySelector('#messages a') || {}).pathname", Duration::from_secs(60));
    let link = link.as_str().unwrap().to_string();
    let id: i64 = link.trim_start_matches("/analyses/").parse().unwrap();
    // the queue updates by itself: running with progress, then done
    let row = format!("document.querySelector('#queue tr[data-id=\"{id}\"]')");
    b.wait_for(
        &format!("{row} && {row}.dataset.status === 'running' && {row}.querySelector('.bar')"),
        Duration::from_secs(120),
    );
    b.screenshot(&screenshot_path("desk_running"));
    b.wait_for(&format!("{row} && {row}.dataset.status === 'done'"), Duration::from_secs(240));
    b.screenshot(&screenshot_path("desk_done"));

    // the analysis page: every rep's verdict, the video playing in the page
    let (_, doc) = get_json(&server.url(&format!("/api/analyses/{id}")));
    let reps = doc["summary"]["reps"].as_array().unwrap().clone();
    assert!(!reps.is_empty(), "{doc}");
    b.goto(&server.url(&link));
    let shown = b.eval(
        "Array.from(document.querySelectorAll('#reps tr[data-rep]')).map(r => [r.dataset.rep, r.dataset.verdict])",
    );
    let expected: Vec<serde_json::Value> =
        reps.iter().map(|r| serde_json::json!([r["index"].to_string(), r["verdict"]])).collect();
    assert_eq!(shown, serde_json::Value::Array(expected), "every rep's verdict on the analysis page");
    let style = hinge::report::style::ReportStyle::default();
    for r in &reps {
        let text = b.eval(&format!("document.querySelector('#reps tr[data-rep=\"{}\"]').textContent", r["index"]));
        for f in r["faults"].as_array().unwrap() {
            let label = style.fault_label(f.as_str().unwrap());
            assert!(text.as_str().unwrap().contains(label), "rep {} shows its fault `{label}`: {text}", r["index"]);
        }
    }
    let duration = b.wait_for(
        "(() => { const v = document.querySelector('video'); return v && v.readyState >= 1 && v.duration; })()",
        Duration::from_secs(30),
    );
    assert!(duration.as_f64().unwrap() > 3.0, "the annotated video loads in the page: {duration}");
    // no user gesture here: a muted video may play (Chromium's autoplay rule)
    let played = b.eval("(() => { const v = document.querySelector('video'); v.muted = true; return v.play().then(() => 'playing', e => String(e)); })()");
    assert_eq!(played, "playing", "the annotated video plays in the page");
    b.wait_for("document.querySelector('video').currentTime > 0.2", Duration::from_secs(30));
    b.eval("document.querySelector('video').pause(); 1");
    b.wait_for(
        "(() => { const f = document.querySelector('iframe.report'); return f && f.contentDocument && f.contentDocument.querySelector('svg'); })() ? true : false",
        Duration::from_secs(30),
    );
    b.screenshot(&screenshot_path("analysis"));

    // the patient page: verdict chips and the plots
    b.eval("document.querySelector('a[href^=\"/patients/\"]').click(); 1");
    b.wait_for("location.pathname.startsWith('/patients/') && document.readyState === 'complete' && document.querySelector('#sessions') ? true : false", Duration::from_secs(30));
    let title = b.eval("document.querySelector('h1').textContent");
    assert_eq!(title, PATIENT);
    let chips = b.eval("document.querySelectorAll('#sessions [data-verdict]').length");
    assert_eq!(chips.as_u64().unwrap(), reps.len() as u64, "a verdict per rep on the patient page");
    for plot in ["plot-faulty-reps", "plot-back", "plot-ssi"] {
        let drawn = b.eval(&format!("document.querySelectorAll('#{plot} svg rect, #{plot} svg circle').length"));
        assert!(drawn.as_u64().unwrap() > 0, "{plot} draws the session");
    }
    b.screenshot(&screenshot_path("patient"));
    // search finds the patient by part of the name
    b.goto(&server.url("/patients?q=zo%C3%AB"));
    let found = b.eval("document.querySelectorAll('#patients a').length");
    assert_eq!(found, 1);

    let problems = b.problems();
    assert!(problems.is_empty(), "console errors or warnings: {problems:#?}");
    let outside: Vec<String> = b
        .requests()
        .into_iter()
        .filter(|u| !(u.starts_with(&server.base) || u.starts_with("data:") || u.starts_with("blob:")))
        .collect();
    assert!(outside.is_empty(), "requests leaving the machine: {outside:?}");
    assert!(b.requests().iter().any(|u| u.contains("/api/analyses")), "the upload went through the API");
    for name in ["desk_running", "desk_done", "analysis", "patient"] {
        let size = std::fs::metadata(screenshot_path(name)).map(|m| m.len()).unwrap_or(0);
        assert!(size > 20_000, "{name} screenshot suspiciously small: {size} bytes");
        eprintln!("screenshot: {}", screenshot_path(name).display());
    }
}
