//! Headless Chromium driven over the DevTools protocol (a websocket, JSON
//! messages): navigate, evaluate, set a file input, take screenshots, and
//! keep every event (console messages, exceptions, log entries, network
//! requests) for the checks.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// Flags every headless Chromium of the tests starts with: no sandbox (root),
/// no GPU, and none of the background connections a closed network refuses.
pub const HEADLESS_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// A Chromium (or Chrome) that runs: `$HINGE_CHROMIUM`, else the first of the
/// usual names whose `--version` works (Ubuntu's `chromium-browser` without its
/// snap does not). `Err` says what was tried.
pub fn find_chromium() -> Result<String, String> {
    let explicit = std::env::var("HINGE_CHROMIUM").ok().filter(|s| !s.is_empty());
    let candidates: Vec<String> = match &explicit {
        Some(b) => vec![b.clone()],
        None => ["chromium", "chromium-browser", "google-chrome-stable", "google-chrome"].map(String::from).to_vec(),
    };
    for c in &candidates {
        if Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Ok(c.clone());
        }
    }
    Err(match explicit {
        Some(b) => format!("HINGE_CHROMIUM={b} does not run"),
        None => format!(
            "no Chromium found (tried {}); `make test` installs Debian's `chromium` where apt has it, elsewhere set HINGE_CHROMIUM to a Chromium or Chrome binary",
            candidates.join(", ")
        ),
    })
}

/// A headless browser and a websocket to its one page.
pub struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Every event received, in order.
    pub events: Vec<Value>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const READ_TIMEOUT: Duration = Duration::from_secs(90);

impl Browser {
    /// Starts headless `binary` with a fresh profile. All traffic but to
    /// loopback goes to a proxy on a dead port, so nothing can leave the
    /// machine even by mistake; the checks also look at every request.
    pub fn launch(binary: &str, window: (u32, u32)) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary)
            .args(HEADLESS_FLAGS)
            .args([
                "--hide-scrollbars",
                "--mute-audio",
                "--proxy-server=http://127.0.0.1:9",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
            ])
            .arg(format!("--window-size={},{}", window.0, window.1))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let browser_ws = rx.recv_timeout(Duration::from_secs(60)).expect("chromium prints its DevTools address");
        let port = browser_ws.split(':').nth(2).unwrap().split('/').next().unwrap().to_string();
        // the page target's websocket
        let started = Instant::now();
        let page_ws = loop {
            let (_, body) = super::server::get(&format!("http://127.0.0.1:{port}/json/list"), &[]);
            let list: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            if let Some(url) = list
                .as_array()
                .and_then(|l| l.iter().find(|t| t["type"] == "page"))
                .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            {
                break url.to_string();
            }
            assert!(started.elapsed() < Duration::from_secs(30), "no page target: {body}");
            std::thread::sleep(Duration::from_millis(100));
        };
        let (socket, _) = tungstenite::connect(page_ws.as_str()).expect("DevTools websocket");
        if let MaybeTlsStream::Plain(s) = socket.get_ref() {
            s.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        }
        let mut b = Browser { child, _profile: profile, socket, next_id: 0, events: Vec::new() };
        for domain in ["Page", "Runtime", "Log", "Network", "DOM"] {
            b.call(&format!("{domain}.enable"), json!({}));
        }
        b
    }

    /// Sends a command and returns its `result` (events that arrive meanwhile are kept).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({ "id": id, "method": method, "params": params }).to_string();
        self.socket.send(Message::text(msg)).unwrap_or_else(|e| panic!("{method}: {e}"));
        loop {
            let m = self.socket.read().unwrap_or_else(|e| panic!("{method}: no answer: {e}"));
            let Message::Text(text) = m else { continue };
            let v: Value = serde_json::from_str(text.as_str()).unwrap();
            if v["id"].as_u64() == Some(id) {
                if let Some(err) = v.get("error") {
                    panic!("{method}: {err}");
                }
                return v["result"].clone();
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    /// Evaluates JavaScript (promises awaited) and returns its value.
    pub fn eval(&mut self, expression: &str) -> Value {
        let r = self
            .call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }));
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("{expression}: {ex}");
        }
        r["result"]["value"].clone()
    }

    /// Polls `expression` until it is truthy; returns its value.
    pub fn wait_for(&mut self, expression: &str, timeout: Duration) -> Value {
        let started = Instant::now();
        loop {
            let v = self.eval(expression);
            let truthy = !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0));
            if truthy {
                return v;
            }
            assert!(started.elapsed() < timeout, "timed out waiting for `{expression}`");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Opens `url` and waits until the document has loaded.
    pub fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
        let check = format!("document.readyState === 'complete' && location.href === {}", json!(url));
        self.wait_for(&check, Duration::from_secs(60));
    }

    /// Sets the files of the `<input type=file>` matching `selector`.
    pub fn set_files(&mut self, selector: &str, files: &[&Path]) {
        let root = self.call("DOM.getDocument", json!({}))["root"]["nodeId"].clone();
        let node = self.call("DOM.querySelector", json!({ "nodeId": root, "selector": selector }))["nodeId"].clone();
        assert_ne!(node, json!(0), "no element {selector}");
        let files: Vec<String> = files.iter().map(|p| p.canonicalize().unwrap().display().to_string()).collect();
        self.call("DOM.setFileInputFiles", json!({ "nodeId": node, "files": files }));
    }

    /// Saves a PNG of the whole page (up to 6000 px tall).
    pub fn screenshot(&mut self, path: &Path) {
        let metrics = self.call("Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let (w, h) = (size["width"].as_f64().unwrap_or(1200.0), size["height"].as_f64().unwrap_or(1000.0).min(6000.0));
        let shot = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": w, "height": h, "scale": 1 } }),
        );
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Console errors and warnings, uncaught exceptions and error log entries so far.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.events {
            let p = &e["params"];
            match e["method"].as_str() {
                Some("Runtime.consoleAPICalled") if p["type"] == "error" || p["type"] == "warning" => {
                    out.push(format!("console.{}: {}", p["type"].as_str().unwrap_or(""), p["args"]))
                }
                Some("Runtime.exceptionThrown") => out.push(format!("exception: {}", p["exceptionDetails"])),
                Some("Log.entryAdded") if p["entry"]["level"] == "error" || p["entry"]["level"] == "warning" => {
                    out.push(format!("log: {} {}", p["entry"]["text"], p["entry"]["url"]))
                }
                _ => {}
            }
        }
        out
    }

    /// Every URL the pages requested so far.
    pub fn requests(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .filter_map(|e| e["params"]["request"]["url"].as_str().map(str::to_string))
            .collect()
    }

    /// Forgets the events so far.
    pub fn clear_events(&mut self) {
        self.events.clear();
    }
}
