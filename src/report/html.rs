//! `report.html`: one self-contained page (inline CSS, inline SVG plots,
//! key frames as JPEG data URIs; no script, no network) rendering what the
//! [`Analysis`] holds. Nothing is measured here: values are printed as the
//! analysis produced them; thresholds come from the configuration.

// each HTML line is written with its own `\n` inside multi-line format strings
#![allow(clippy::write_with_newline)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use plotters::prelude::*;

use super::style::{rgb, Colors, ReportStyle};
use crate::analysis::{Analysis, FrameRecord};
use crate::faults::{rounding_limit_deg, Fault, FaultConfig};
use crate::kinematics::metric::{Metric, MetricValues};

/// One key frame shown in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyFrame {
    pub frame: u64,
    /// Rep it illustrates (None: the standing posture of the whole clip).
    pub rep: Option<usize>,
    /// "start", "bottom", or a fault name (its worst frame).
    pub what: String,
}

/// The frame of `frames` (restricted to `lo..=hi`) where fault `f` is worst:
/// frames where it holds first, then the largest severity.
fn worst_frame(frames: &[FrameRecord], f: Fault, lo: u64, hi: u64) -> Option<u64> {
    let cand = frames.iter().filter(|r| r.index >= lo && r.index <= hi && r.landmarks.is_some());
    cand.max_by(|a, b| {
        let ka = (a.faults.contains(f), f.severity(&a.metrics).unwrap_or(f64::NEG_INFINITY));
        let kb = (b.faults.contains(f), f.severity(&b.metrics).unwrap_or(f64::NEG_INFINITY));
        ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
    })
    .map(|r| r.index)
}

/// Key frames: each rep's start and bottom, and the worst frame of each of
/// its faults; for faults of the whole clip (standing posture), their worst
/// standing frame.
pub fn key_frames(a: &Analysis) -> Vec<KeyFrame> {
    let mut out = Vec::new();
    for r in &a.reps {
        out.push(KeyFrame { frame: r.start_frame, rep: Some(r.index), what: "start".into() });
        out.push(KeyFrame { frame: r.bottom_frame, rep: Some(r.index), what: "bottom".into() });
        for f in &r.faults {
            let [lo, hi] = r.fault_frames.get(f.name()).copied().unwrap_or([r.start_frame, r.end_frame]);
            if let Some(k) = worst_frame(&a.frames, *f, lo, hi) {
                out.push(KeyFrame { frame: k, rep: Some(r.index), what: f.name().into() });
            }
        }
    }
    for f in &a.clip_faults {
        let standing: Vec<FrameRecord> =
            a.frames.iter().filter(|x| x.rep.is_none() && x.faults.contains(*f)).cloned().collect();
        let (lo, hi) = (standing.first().map_or(0, |x| x.index), standing.last().map_or(0, |x| x.index));
        if let Some(k) = worst_frame(&standing, *f, lo, hi) {
            out.push(KeyFrame { frame: k, rep: None, what: f.name().into() });
        }
    }
    out
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// A metric's value as shown to people: rounded, with its unit; – when missing.
fn value_text(m: Metric, v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.0}{}", m.unit()),
        _ => "–".to_string(),
    }
}

/// One line of a plot: a metric of the registry.
struct Line<'a> {
    metric: Metric,
    label: &'static str,
    colour: &'a str,
}

/// The report's plots over time. Every metric of the registry is drawn in
/// exactly one of them: [`Plot::of`] is an exhaustive match, so a new metric
/// has to be placed before the report compiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plot {
    Joints,
    Back,
    Ssi,
    Load,
}

impl Plot {
    const ALL: [Plot; 4] = [Plot::Joints, Plot::Back, Plot::Ssi, Plot::Load];

    fn of(m: Metric) -> Plot {
        match m {
            Metric::Trunk | Metric::HipAngle | Metric::KneeFlexion | Metric::HipFlexion => Plot::Joints,
            Metric::LumbarFlexion | Metric::PelvicTilt | Metric::RibStack => Plot::Back,
            Metric::Ssi => Plot::Ssi,
            Metric::LoadDistance => Plot::Load,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Plot::Joints => "Trunk, hip and knee",
            Plot::Back => "Lower back, pelvis and rib cage",
            Plot::Ssi => "Stoop–squat index (100: all trunk, 0: all knees)",
            Plot::Load => "Hands in front of the ankles (the load's distance; NIOSH: ideally ≤ 25 cm)",
        }
    }

    /// The vertical axis's caption.
    fn y_unit(self) -> &'static str {
        match self {
            Plot::Joints | Plot::Back => "degrees",
            Plot::Ssi => "index",
            Plot::Load => "cm",
        }
    }

    /// The fault thresholds drawn across the plot, from the settings in use
    /// (the rounding limit from the standing lumbar angle, as the rule takes it).
    fn thresholds(self, f: &FaultConfig, baseline: &MetricValues) -> Vec<(f64, String)> {
        match self {
            Plot::Joints => Vec::new(),
            Plot::Back => {
                let rounded = rounding_limit_deg(baseline.get(Metric::LumbarFlexion), f);
                vec![
                    (f.anterior_tilt_deg, format!("anterior tilt > {:.0}°", f.anterior_tilt_deg)),
                    (f.posterior_tilt_deg, format!("posterior tilt < {:.0}°", f.posterior_tilt_deg)),
                    (f.arched_lumbar_deg, format!("arched < {:.0}°", f.arched_lumbar_deg)),
                    (rounded, format!("rounded > {rounded:.0}°")),
                ]
            }
            Plot::Ssi => vec![(f.squat_ssi, format!("squat < {:.0}", f.squat_ssi))],
            Plot::Load => vec![(f.load_far_cm, format!("far > {:.0} cm", f.load_far_cm))],
        }
    }
}

/// A metric's line in the plots: its legend (with what the sign means where
/// it matters) and its colour.
fn plot_line(m: Metric, c: &Colors) -> Line<'_> {
    let (label, colour) = match m {
        Metric::Trunk => ("trunk", &c.trunk),
        Metric::HipAngle => ("hip angle", &c.hip),
        Metric::KneeFlexion => ("knee flexion", &c.knee),
        Metric::HipFlexion => ("hip flexion", &c.hip_flexion),
        Metric::LumbarFlexion => ("lumbar flexion (+ rounded)", &c.lumbar),
        Metric::PelvicTilt => ("pelvic tilt (+ anterior)", &c.pelvis),
        Metric::RibStack => ("rib stack (+ closed)", &c.ribs),
        Metric::Ssi => ("SSI", &c.hip),
        Metric::LoadDistance => ("load distance", &c.trunk),
    };
    Line { metric: m, label, colour }
}

fn colour(hex: &str) -> RGBColor {
    let (r, g, b) = rgb(hex);
    RGBColor(r, g, b)
}

/// An SVG plot of metrics over time (`y_unit`: the vertical axis's caption)
/// with rep bands and threshold lines.
fn plot(
    a: &Analysis,
    style: &ReportStyle,
    title: &str,
    y_unit: &str,
    lines: &[Line],
    thresholds: &[(f64, String)],
) -> String {
    let mut svg = String::new();
    if let Err(e) = draw_plot(&mut svg, a, style, title, y_unit, lines, thresholds) {
        return format!("<p class=\"warn\">plot unavailable: {}</p>", esc(&e.to_string()));
    }
    // inline in HTML the SVG namespace is implied: drop its URL so the page names none
    let svg = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    let mut legend = String::from("<div class=\"legend\">");
    for l in lines {
        let _ = write!(legend, "<span><i style=\"background:{}\"></i>{}</span>", esc(l.colour), esc(l.label));
    }
    legend.push_str("</div>");
    format!("<figure class=\"plot\">{svg}{legend}</figure>\n")
}

fn draw_plot(
    svg: &mut String,
    a: &Analysis,
    style: &ReportStyle,
    title: &str,
    y_unit: &str,
    lines: &[Line],
    thresholds: &[(f64, String)],
) -> Result<(), Box<dyn std::error::Error>> {
    let t0 = a.frames.first().map_or(0.0, |f| f.time_s);
    let t1 = a.frames.last().map_or(1.0, |f| f.time_s).max(t0 + 0.1);
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for l in lines {
        for f in &a.frames {
            if let Some(v) = l.metric.of(&f.metrics).filter(|v| v.is_finite()) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    for (v, _) in thresholds {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if !lo.is_finite() || !hi.is_finite() {
        lo = -10.0;
        hi = 10.0;
    }
    let pad = ((hi - lo) * 0.08).max(2.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let root = SVGBackend::with_string(svg, (960, 300)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(34)
        .y_label_area_size(48)
        .build_cartesian_2d(t0..t1, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc(y_unit)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_label_formatter(&|v| format!("{v:.1}"))
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    let band = colour(&style.colors.rep_band);
    for r in &a.reps {
        chart.draw_series(std::iter::once(Rectangle::new([(r.start_s, lo), (r.end_s, hi)], band.filled())))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{} {}", style.rep_label, r.index),
            (r.start_s + (t1 - t0) * 0.005, hi - pad * 0.15),
            ("sans-serif", 14).into_font().color(&RGBColor(60, 60, 60)),
        )))?;
    }
    let thr = colour(&style.colors.threshold);
    for (v, label) in thresholds {
        chart.draw_series(DashedLineSeries::new(vec![(t0, *v), (t1, *v)], 6, 4, thr.stroke_width(1)))?;
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (t1 - (t1 - t0) * 0.16, *v + (hi - lo) * 0.045),
            ("sans-serif", 12).into_font().color(&RGBColor(80, 80, 80)),
        )))?;
    }
    for l in lines {
        let c = colour(l.colour);
        // contiguous runs: no line across frames without a value
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for f in &a.frames {
            match l.metric.of(&f.metrics).filter(|v| v.is_finite()) {
                Some(v) => runs.last_mut().expect("one run").push((f.time_s, v)),
                None if !runs.last().expect("one run").is_empty() => runs.push(Vec::new()),
                None => {}
            }
        }
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            chart.draw_series(LineSeries::new(run, c.stroke_width(2)))?;
        }
    }
    root.present()?;
    drop(chart);
    drop(root);
    Ok(())
}

const CSS: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f6f6;color:#212121}
main{max-width:1000px;margin:0 auto;padding:16px 20px 40px;background:#fff}
h1{margin:8px 0 4px;font-size:1.7em}h2{margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px;font-size:1.25em}
.sub{color:#666;margin:0 0 12px}
.verdict{font-size:1.15em;padding:10px 14px;border-radius:6px;margin:10px 0;color:#fff}
.rep{border-left:6px solid;padding:8px 12px;margin:10px 0;background:#fafafa;border-radius:4px}
.rep h3{margin:0 0 4px;font-size:1.05em}.rep p{margin:3px 0}
.cue{font-weight:600}
.warn{border-left:6px solid;padding:6px 12px;margin:6px 0;background:#fff8e1}
table{border-collapse:collapse;margin:8px 0;font-size:.92em}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
th{background:#f0f0f0}td{white-space:nowrap}.kv td{white-space:normal;word-break:break-word;text-align:left}.scroll{overflow-x:auto}td:first-child,th:first-child{text-align:left}
.frames{display:flex;flex-wrap:wrap;gap:10px}
figure{margin:0;width:230px}figure img{width:100%;height:auto;border:1px solid #ccc;border-radius:4px}
figcaption{font-size:.85em;color:#444}
svg{max-width:100%;height:auto}figure.plot{width:auto;margin:10px 0}
.legend{font-size:.9em;margin:2px 0 0 50px}.legend span{margin-right:16px;white-space:nowrap}
.legend i{display:inline-block;width:22px;height:4px;margin-right:6px;vertical-align:middle}
pre{background:#f4f4f4;padding:8px;overflow-x:auto;font-size:.85em}
footer{color:#888;font-size:.8em;margin-top:24px}
"#;

/// The report page. `key_jpegs` holds the key frames' JPEG bytes (from the
/// drawing pass); key frames without bytes are listed without an image.
pub fn report_html(
    a: &Analysis,
    settings: &super::Settings,
    style: &ReportStyle,
    key_jpegs: &BTreeMap<u64, Vec<u8>>,
) -> String {
    let c = &style.colors;
    let mut h = String::with_capacity(64 * 1024);
    let video_name =
        std::path::Path::new(&a.video).file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or(a.video.clone());
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} – {}</title><style>{}</style></head><body><main>\n",
        esc(&style.title),
        esc(&video_name),
        CSS
    );
    let _ = write!(h, "<h1>{}</h1><p class=\"sub\">{}</p>\n", esc(&style.title), esc(&video_name));

    // overall verdict
    let faulty = a.reps.iter().filter(|r| !r.faults.is_empty()).count();
    let (text, bg) = if a.view.upright == Some(false) {
        ("Nothing measured: the person is not upright in the frame — rotate the video.".to_string(), &c.warning)
    } else if a.reps.is_empty() {
        ("No repetition found.".to_string(), &c.warning)
    } else if faulty == 0 && a.clip_faults.is_empty() {
        (format!("{} rep(s), all good.", a.reps.len()), &c.good)
    } else {
        (format!("{} rep(s): {} good, {} to work on.", a.reps.len(), a.reps.len() - faulty, faulty), &c.fault)
    };
    let _ = write!(h, "<div class=\"verdict\" style=\"background:{}\">{}</div>\n", esc(bg), esc(&text));

    // warnings
    if !a.view.warnings.is_empty() {
        h.push_str("<h2>Camera view</h2>\n");
        for w in &a.view.warnings {
            let _ = write!(
                h,
                "<div class=\"warn view-warning\" style=\"border-color:{}\">{}</div>\n",
                esc(&c.warning),
                esc(w)
            );
        }
    }

    // standing posture faults
    if !a.clip_faults.is_empty() {
        h.push_str("<h2>Standing posture</h2>\n");
        for f in &a.clip_faults {
            let n = f.name();
            let _ = write!(
                h,
                "<div class=\"rep\" style=\"border-color:{}\"><p><span class=\"fault\" data-fault=\"{}\">{}</span> \
                 — also while standing.</p><p class=\"cue\">{}: {}</p></div>\n",
                esc(&c.fault),
                n,
                esc(style.fault_label(n)),
                esc(&style.practise),
                esc(style.cue(n))
            );
        }
    }

    // reps
    h.push_str("<h2>Repetitions</h2>\n");
    if a.view.upright == Some(false) {
        h.push_str("<p>Not measured: the person is not upright in the frame.</p>\n");
    } else if a.reps.is_empty() {
        h.push_str("<p>No hinge repetition was found in this video.</p>\n");
    }
    for r in &a.reps {
        let border = if r.faults.is_empty() { &c.good } else { &c.fault };
        let _ = write!(
            h,
            "<div class=\"rep\" data-rep=\"{}\" data-verdict=\"{}\" style=\"border-color:{}\"><h3>{} {} \
             <small>({:.1}–{:.1} s, frames {}–{})</small></h3>\n",
            r.index,
            r.verdict,
            esc(border),
            esc(&style.rep_label),
            r.index,
            r.start_s,
            r.end_s,
            r.start_frame,
            r.end_frame
        );
        if r.faults.is_empty() {
            let _ = write!(h, "<p>{}</p>\n", esc(&style.good_rep));
        } else {
            for f in &r.faults {
                let n = f.name();
                let when =
                    r.fault_frames.get(n).map(|[a, b]| format!(" <small>(frames {a}–{b})</small>")).unwrap_or_default();
                let _ = write!(
                    h,
                    "<p><span class=\"fault\" data-fault=\"{}\" style=\"color:{}\">{}</span>{}</p>\
                     <p class=\"cue\">{}: {}</p>\n",
                    n,
                    esc(&c.fault),
                    esc(style.fault_label(n)),
                    when,
                    esc(&style.practise),
                    esc(style.cue(n))
                );
            }
        }
        h.push_str("</div>\n");
    }
    if !a.reps.is_empty() {
        h.push_str("<div class=\"scroll\"><table><tr><th>rep</th>");
        for m in Metric::ALL {
            let _ = write!(h, "<th>{}</th>", esc(m.label()));
        }
        h.push_str("<th>verdict</th></tr>\n");
        for r in &a.reps {
            let _ = write!(h, "<tr><td>{}</td>", r.index);
            for m in Metric::ALL {
                let _ = write!(h, "<td>{}</td>", esc(&value_text(m, r.at_depth.get(m))));
            }
            let _ = write!(h, "<td>{}</td></tr>\n", esc(r.verdict));
        }
        h.push_str("</table><p class=\"note\">Medians over each rep's deep part (the verdict's evidence).</p></div>\n");
    }
    if !a.reps.is_empty() || !a.clip_faults.is_empty() {
        let _ = write!(h, "<p class=\"note trust\">{}</p>\n", esc(&style.trust_note));
    }

    // key frames
    let keys = key_frames(a);
    if !keys.is_empty() {
        h.push_str("<h2>Key frames</h2>\n<div class=\"frames\">\n");
        let b64 = base64::engine::general_purpose::STANDARD;
        for k in &keys {
            let what = match k.what.as_str() {
                "start" => "start".to_string(),
                "bottom" => "bottom".to_string(),
                n => format!("worst: {}", style.fault_label(n)),
            };
            let whose = match k.rep {
                Some(r) => format!("{} {}", style.rep_label, r),
                None => "standing".to_string(),
            };
            let time = a
                .frames
                .binary_search_by_key(&k.frame, |f| f.index)
                .ok()
                .map(|i| format!(", {:.2} s", a.frames[i].time_s))
                .unwrap_or_default();
            let caption = format!("{whose} — {what} (frame {}{time})", k.frame);
            let _ = write!(h, "<figure data-frame=\"{}\">", k.frame);
            if let Some(j) = key_jpegs.get(&k.frame) {
                let _ = write!(h, "<img alt=\"{}\" src=\"data:image/jpeg;base64,{}\">", esc(&caption), b64.encode(j));
            }
            let _ = write!(h, "<figcaption>{}</figcaption></figure>\n", esc(&caption));
        }
        h.push_str("</div>\n");
    }

    // plots
    h.push_str("<h2>Angles over time</h2>\n");
    for p in Plot::ALL {
        let lines: Vec<Line> =
            Metric::ALL.into_iter().filter(|m| Plot::of(*m) == p).map(|m| plot_line(m, &style.colors)).collect();
        h.push_str(&plot(a, style, p.title(), p.y_unit(), &lines, &p.thresholds(settings.faults, &a.baseline.values)));
    }
    h.push_str("<p class=\"sub\">Shaded: repetitions. Dashed: fault thresholds of the settings below (rounding is judged against the standing lumbar angle).</p>\n");

    // baseline
    let b = &a.baseline;
    h.push_str("<h2>Standing baseline</h2>\n<div class=\"scroll\"><table><tr>");
    for m in Metric::ALL {
        let _ = write!(h, "<th>{}</th>", esc(m.label()));
    }
    h.push_str("<th>frames</th></tr>\n<tr>");
    for m in Metric::ALL {
        let _ = write!(h, "<td>{}</td>", esc(&value_text(m, b.get(m))));
    }
    let _ = write!(h, "<td>{}</td></tr></table></div>\n", b.frames);

    // settings
    let facing = a.facing.map(|f| f.name()).unwrap_or("unknown");
    let obliq = a.view.obliquity_deg.map(|o| format!("{o:.0}°")).unwrap_or("–".into());
    let _ = write!(
        h,
        "<h2>Video and settings</h2>\n<div class=\"scroll\"><table class=\"kv\">\
         <tr><td>video</td><td>{}</td></tr><tr><td>frames</td><td>{} ({} with a person)</td></tr>\
         <tr><td>size, frame rate</td><td>{}×{}, {:.2} fps</td></tr><tr><td>facing</td><td>{}</td></tr>\
         <tr><td>camera off side view</td><td>{}</td></tr><tr><td>pose model</td><td>{}</td></tr>\
         <tr><td>hinge version</td><td>{}</td></tr></table></div>\n",
        esc(&a.video),
        a.frames.len(),
        a.frames_with_person(),
        a.info.width,
        a.info.height,
        a.info.fps,
        facing,
        obliq,
        esc(&a.model),
        env!("CARGO_PKG_VERSION")
    );
    let _ = write!(h, "<p>Thresholds used:</p><pre>{}</pre>\n", esc(settings.toml));
    h.push_str(
        "<footer>Made by hinge from the video alone. Angles are estimates from a 2D video; \
         they support, not replace, a clinician's judgement.</footer>\n</main></body></html>\n",
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinematics::FrameMetrics;

    #[test]
    fn every_plot_has_a_metric_of_the_registry() {
        for p in Plot::ALL {
            assert!(Metric::ALL.iter().any(|m| Plot::of(*m) == p), "{p:?} has no line");
        }
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn worst_frame_prefers_frames_where_the_fault_holds() {
        let mk = |i: u64, lumbar: f64, holds: bool| {
            let mut faults = crate::faults::FaultSet::default();
            if holds {
                faults.insert(Fault::RoundedLumbar);
            }
            FrameRecord {
                index: i,
                time_s: i as f64 / 30.0,
                landmarks: Some([Default::default(); crate::pose::landmarks::BODY_LANDMARKS]),
                metrics: FrameMetrics { lumbar_flexion_deg: Some(lumbar), ..Default::default() },
                features: Default::default(),
                phase: None,
                rep: Some(1),
                faults,
            }
        };
        let frames = vec![mk(0, 50.0, false), mk(1, 25.0, true), mk(2, 30.0, true), mk(3, 10.0, false)];
        assert_eq!(worst_frame(&frames, Fault::RoundedLumbar, 0, 3), Some(2));
        assert_eq!(worst_frame(&frames, Fault::RoundedLumbar, 0, 1), Some(1));
        assert_eq!(worst_frame(&frames, Fault::RoundedLumbar, 5, 9), None);
    }
}
