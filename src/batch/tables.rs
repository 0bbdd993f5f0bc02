//! The batch tables: `summary.csv` (one row per video), `reps.csv` (one row
//! per rep), and `index.html` (every video linked, most severe first, and a
//! trend per patient when the manifest names patients).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use super::{BatchError, RepRow, Status, VideoResult};
use crate::faults::median;
use crate::kinematics::metric::Metric;
use crate::report::write_atomic;

fn num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map(|x| format!("{x:.1}")).unwrap_or_default()
}

/// summary.csv's columns before and after the figures (the manifest's come last).
const SUMMARY_BEFORE: [&str; 6] = ["path", "status", "reason", "reps", "faulty_reps", "faults"];
const SUMMARY_AFTER: [&str; 7] =
    ["frames", "frames_with_person", "duration_s", "model", "hinge_version", "input_sha256", "output_dir"];
/// reps.csv's columns before the figures (the manifest's come last).
const REPS_BEFORE: [&str; 6] = ["path", "rep", "start_s", "end_s", "verdict", "faults"];

/// Every column hinge writes itself in summary.csv and reps.csv: a manifest
/// column of one of these names would give a table two columns of that name.
pub fn output_columns() -> BTreeSet<String> {
    SUMMARY_BEFORE
        .iter()
        .chain(&SUMMARY_AFTER)
        .chain(&REPS_BEFORE)
        .map(|s| s.to_string())
        .chain(figure_columns())
        .collect()
}

fn meta_columns(results: &[VideoResult]) -> Vec<String> {
    let set: BTreeSet<&String> = results.iter().flat_map(|r| r.meta.keys()).collect();
    set.into_iter().cloned().collect()
}

/// Severity for sorting: failures first, then by faulty reps and distinct faults.
pub fn severity(r: &VideoResult) -> f64 {
    if r.status != Status::Ok {
        return 1e6;
    }
    let faulty = r.faulty_reps() as f64;
    let share = if r.reps.is_empty() { 0.0 } else { faulty / r.reps.len() as f64 };
    100.0 * r.faults.len() as f64 + 10.0 * share + faulty * 0.01
}

fn csv_bytes(header: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("in-memory");
    for r in rows {
        w.write_record(r).expect("in-memory");
    }
    w.into_inner().expect("in-memory")
}

/// The rep figures both tables carry (from the metrics registry): per rep in
/// reps.csv, the value at depth; in summary.csv, the median over the reps.
fn figure_columns() -> Vec<String> {
    Metric::ALL.iter().map(|m| format!("{}_at_depth", m.name())).collect()
}

fn rep_figures(x: &RepRow) -> Vec<Option<f64>> {
    Metric::ALL.iter().map(|m| x.at_depth(*m)).collect()
}

fn typical_figures(r: &VideoResult) -> Vec<Option<f64>> {
    Metric::ALL.iter().map(|m| median(r.reps.iter().filter_map(|x| x.at_depth(*m)).collect())).collect()
}

/// Header from fixed columns, the figures, more fixed columns and the manifest's columns.
fn header(before: &[&str], after: &[&str], meta: &[String]) -> Vec<String> {
    before
        .iter()
        .map(|s| s.to_string())
        .chain(figure_columns())
        .chain(after.iter().map(|s| s.to_string()))
        .chain(meta.iter().cloned())
        .collect()
}

fn meta_cells<'a>(r: &'a VideoResult, meta: &'a [String]) -> impl Iterator<Item = String> + 'a {
    meta.iter().map(|k| r.meta.get(k).cloned().unwrap_or_default())
}

/// summary.csv as (header, rows).
pub fn summary_rows(results: &[VideoResult]) -> (Vec<String>, Vec<Vec<String>>) {
    let meta = meta_columns(results);
    let header = header(&SUMMARY_BEFORE, &SUMMARY_AFTER, &meta);
    let rows = results
        .iter()
        .map(|r| {
            let ok = r.status == Status::Ok;
            let mut row = vec![
                r.path.clone(),
                r.status.name().to_string(),
                r.reason.clone(),
                if ok { r.reps.len().to_string() } else { String::new() },
                if ok { r.faulty_reps().to_string() } else { String::new() },
                r.faults.join(";"),
            ];
            row.extend(typical_figures(r).into_iter().map(num));
            row.extend([
                r.frames.to_string(),
                r.frames_with_person.to_string(),
                format!("{:.2}", r.duration_s),
                r.model.clone(),
                r.hinge_version.clone(),
                r.input_sha256.clone().unwrap_or_default(),
                r.output_dir.clone(),
            ]);
            row.extend(meta_cells(r, &meta));
            row
        })
        .collect();
    (header, rows)
}

/// reps.csv as (header, rows).
pub fn reps_rows(results: &[VideoResult]) -> (Vec<String>, Vec<Vec<String>>) {
    let meta = meta_columns(results);
    let header = header(&REPS_BEFORE, &[], &meta);
    let mut rows = Vec::new();
    for r in results {
        for x in &r.reps {
            let mut row = vec![
                r.path.clone(),
                x.rep.to_string(),
                format!("{:.2}", x.start_s),
                format!("{:.2}", x.end_s),
                x.verdict.clone(),
                x.faults.join(";"),
            ];
            row.extend(rep_figures(x).into_iter().map(num));
            row.extend(meta_cells(r, &meta));
            rows.push(row);
        }
    }
    (header, rows)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// index.html: self-contained, no external assets.
pub fn index_html(out_dir: &Path, results: &[VideoResult]) -> String {
    let mut sorted: Vec<&VideoResult> = results.iter().collect();
    sorted.sort_by(|a, b| severity(b).total_cmp(&severity(a)).then(a.path.cmp(&b.path)));
    let mut h = String::new();
    h.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>hinge batch</title><style>");
    h.push_str("body{font:15px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}th{background:#f3f3f3}.fail{color:#b00020}.fault{color:#b35c00}.good{color:#1b7f3b}</style></head><body>");
    let ok = results.iter().filter(|r| r.status == Status::Ok).count();
    let _ = write!(
        h,
        "<h1>hinge batch</h1><p>{} videos: {} analysed, {} failed. Most severe first.</p>",
        results.len(),
        ok,
        results.len() - ok
    );
    h.push_str(
        "<table><tr><th>video</th><th>status</th><th>reps</th><th>faulty reps</th><th>faults</th><th>reason</th></tr>",
    );
    for r in &sorted {
        let report = Path::new(&r.output_dir).join("report.html");
        let link = if out_dir.join(&report).exists() { report } else { Path::new(&r.output_dir).join("summary.json") };
        let name =
            Path::new(&r.path).file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| r.path.clone());
        let faulty = r.faulty_reps();
        let class = if r.status != Status::Ok {
            "fail"
        } else if r.faults.is_empty() {
            "good"
        } else {
            "fault"
        };
        let _ = write!(
            h,
            "<tr class=\"{class}\"><td><a href=\"{}\" title=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&link.to_string_lossy()),
            esc(&r.path),
            esc(&name),
            r.status.name(),
            if r.status == Status::Ok { r.reps.len().to_string() } else { String::new() },
            if r.status == Status::Ok { faulty.to_string() } else { String::new() },
            esc(&r.faults.join(", ")),
            esc(&r.reason)
        );
    }
    h.push_str("</table>");
    // per patient: sessions in date order
    let mut patients: BTreeMap<&str, Vec<&VideoResult>> = BTreeMap::new();
    for r in results.iter().filter(|r| r.status == Status::Ok) {
        if let Some(p) = r.meta.get("patient").filter(|p| !p.is_empty()) {
            patients.entry(p).or_default().push(r);
        }
    }
    if !patients.is_empty() {
        h.push_str("<h2>Trend per patient</h2>");
    }
    for (patient, mut sessions) in patients {
        sessions.sort_by(|a, b| a.meta.get("session_date").cmp(&b.meta.get("session_date")).then(a.path.cmp(&b.path)));
        let _ = write!(h, "<h3>{}</h3><table><tr><th>session</th><th>video</th><th>reps</th><th>good reps</th><th>faults</th><th>max lumbar flexion °</th></tr>", esc(patient));
        for s in &sessions {
            let good = s.reps.iter().filter(|x| x.verdict == "good").count();
            let share = if s.reps.is_empty() {
                String::new()
            } else {
                format!("{good}/{} ({:.0}%)", s.reps.len(), 100.0 * good as f64 / s.reps.len() as f64)
            };
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(s.meta.get("session_date").map(String::as_str).unwrap_or("")),
                esc(Path::new(&s.path)
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default()
                    .as_str()),
                s.reps.len(),
                share,
                esc(&s.faults.join(", ")),
                num(s.worst(|x| x.at_depth(Metric::LumbarFlexion)))
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</body></html>\n");
    h
}

/// Writes summary.csv, reps.csv and index.html (names get `suffix` before the extension).
pub fn write_tables(out_dir: &Path, results: &[VideoResult], suffix: &str) -> Result<(), BatchError> {
    let w = |name: String, bytes: Vec<u8>| {
        let p = out_dir.join(name);
        write_atomic(&p, &bytes).map_err(|e| BatchError::Output { path: p, reason: e.cause() })
    };
    let (h, rows) = summary_rows(results);
    w(format!("summary{suffix}.csv"), csv_bytes(&h, &rows))?;
    let (h, rows) = reps_rows(results);
    w(format!("reps{suffix}.csv"), csv_bytes(&h, &rows))?;
    w(format!("index{suffix}.html"), index_html(out_dir, results).into_bytes())?;
    Ok(())
}
