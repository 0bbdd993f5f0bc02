//! A real `hinge serve` on a free port, and a small HTTP client for it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running server; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub data: PathBuf,
    /// Everything it printed to stderr.
    pub log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `hinge serve --data DATA --listen 127.0.0.1:0 EXTRA...` and waits
    /// for the line with the address it listens on.
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        let mut c = super::hinge();
        c.arg("serve").arg("--data").arg(data).args(["--listen", "127.0.0.1:0"]).args(extra);
        c.stdout(Stdio::null()).stderr(Stdio::piped()).env_remove("HINGE_TOKEN");
        let mut child = c.spawn().expect("hinge serve starts");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
                if !sent {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let addr = rest.split('/').next().unwrap().to_string();
                        let _ = tx.send(addr);
                        sent = true;
                    }
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!("hinge serve did not start: {}", log.lock().unwrap());
            }
        };
        Server { child, base: format!("http://{addr}"), data: data.to_path_buf(), log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL, as `kill -9` does, and reap.
    pub fn kill_9(&mut self) {
        // SAFETY: signalling our own child
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGKILL) };
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that returns every status (no error for 4xx/5xx) and uses no proxy.
pub fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::config::Config::builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(120)))
            .build(),
    )
}

/// GET → (status, body text).
pub fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap_or_default())
}

/// GET → (status, JSON).
pub fn get_json(url: &str) -> (u16, Value) {
    let (status, body) = get(url, &[]);
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}")))
}

/// A multipart/form-data body: text fields, then the file as field `video`.
pub fn multipart(fields: &[(&str, &str)], file_name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "hinge-test-boundary-7d1f0a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").bytes());
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .bytes(),
    );
    body.extend_from_slice(content);
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// POST /api/analyses → (status, JSON).
pub fn upload(server: &Server, fields: &[(&str, &str)], file_name: &str, content: &[u8]) -> (u16, Value) {
    let (content_type, body) = multipart(fields, file_name, content);
    let mut resp = agent()
        .post(&server.url("/api/analyses"))
        .header("Content-Type", &content_type)
        .send(&body[..])
        .unwrap_or_else(|e| panic!("upload: {e}"));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("upload: not JSON ({e}): {text}")))
}

/// Polls GET /api/analyses/{id} until `done` or `failed`; returns the last
/// document and every status seen, in order, without repeats.
pub fn wait_finished(server: &Server, id: i64, timeout: Duration) -> (Value, Vec<String>) {
    let started = Instant::now();
    let mut seen: Vec<String> = Vec::new();
    loop {
        let (code, doc) = get_json(&server.url(&format!("/api/analyses/{id}")));
        assert_eq!(code, 200, "{doc}");
        let status = doc["status"].as_str().unwrap().to_string();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "done" || status == "failed" {
            return (doc, seen);
        }
        assert!(
            started.elapsed() < timeout,
            "analysis {id} still {status} after {:?}; server log:\n{}",
            timeout,
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
