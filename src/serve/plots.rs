//! A patient's key figures across sessions, as inline SVG (plotters): faulty
//! reps per session, lumbar flexion and trunk at depth, the stoop–squat index.
//! The figures of a session are the medians over its reps of each rep's value
//! at depth (the metrics registry's names).

use std::fmt::Write;

use plotters::prelude::*;

use super::db::{AnalysisStatus, SessionRow};
use crate::faults::median;
use crate::kinematics::metric::Metric;
use crate::report::html::esc;
use crate::report::style::{rgb, ReportStyle};

/// One finished session's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionPoint {
    /// The date it was filmed.
    pub label: String,
    pub reps: usize,
    pub faulty_reps: usize,
    /// Median over the reps of each metric at depth, in registry order.
    pub at_depth: Vec<(Metric, Option<f64>)>,
}

impl SessionPoint {
    pub fn at_depth(&self, m: Metric) -> Option<f64> {
        self.at_depth.iter().find(|(x, _)| *x == m).and_then(|(_, v)| *v)
    }
}

/// The figures of the finished sessions, in the sessions' order.
pub fn session_points(sessions: &[SessionRow]) -> Vec<SessionPoint> {
    sessions
        .iter()
        .filter(|s| s.analysis.status == AnalysisStatus::Done)
        .map(|s| SessionPoint {
            label: s.recorded_on.clone(),
            reps: s.reps.len(),
            faulty_reps: s.reps.iter().filter(|r| r.verdict != "good").count(),
            at_depth: Metric::ALL
                .iter()
                .map(|m| (*m, median(s.reps.iter().filter_map(|r| r.at_depth.get(m.name()).copied()).collect())))
                .collect(),
        })
        .collect()
}

fn colour(hex: &str) -> RGBColor {
    let (r, g, b) = rgb(hex);
    RGBColor(r, g, b)
}

/// The colour a metric is drawn in (the report's colours).
fn metric_colour(style: &ReportStyle, m: Metric) -> &str {
    let c = &style.colors;
    match m {
        Metric::Trunk => &c.trunk,
        Metric::HipAngle => &c.hip,
        Metric::KneeFlexion => &c.knee,
        Metric::HipFlexion => &c.hip_flexion,
        Metric::LumbarFlexion => &c.lumbar,
        Metric::PelvicTilt => &c.pelvis,
        Metric::RibStack => &c.ribs,
        Metric::Ssi | Metric::LoadDistance => &c.threshold,
    }
}

const SIZE: (u32, u32) = (900, 260);

/// Inline SVG wrapped in a figure with its legend; a failure to draw becomes a line saying so.
fn figure(id: &str, svg: Result<String, Box<dyn std::error::Error>>, legend: &[(String, String)]) -> String {
    let svg = match svg {
        // inline in HTML the SVG namespace is implied: drop its URL so the page names none
        Ok(s) => s.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1),
        Err(e) => return format!("<p class=\"warn\">plot unavailable: {}</p>", esc(&e.to_string())),
    };
    let mut html = format!("<figure class=\"plot\" id=\"{id}\">{svg}<div class=\"legend\">");
    for (c, label) in legend {
        let _ = write!(html, "<span><i style=\"background:{}\"></i>{}</span>", esc(c), esc(label));
    }
    html.push_str("</div></figure>\n");
    html
}

/// Sessions the axis has room for at least (a first session does not fill the plot).
const MIN_SLOTS: usize = 4;

/// Session axis: index i at x = i, labelled with the date.
fn x_range(n: usize) -> std::ops::Range<f64> {
    -0.5..(n.max(MIN_SLOTS) as f64 - 0.5)
}

fn date_label(points: &[SessionPoint], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 0.01 || i < 0.0 {
        return String::new();
    }
    points.get(i as usize).map(|p| p.label.clone()).unwrap_or_default()
}

/// Bars: reps per session (light) and faulty reps (the fault colour).
pub fn faulty_reps_plot(points: &[SessionPoint], style: &ReportStyle) -> String {
    let draw = || -> Result<String, Box<dyn std::error::Error>> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            root.fill(&WHITE)?;
            let most = points.iter().map(|p| p.reps).max().unwrap_or(1).max(1);
            let top = most as f64 + 0.5;
            let mut chart = ChartBuilder::on(&root)
                .caption("Faulty reps per session", ("sans-serif", 18))
                .margin(8)
                .x_label_area_size(34)
                .y_label_area_size(44)
                .build_cartesian_2d(x_range(points.len()), 0.0..top)?;
            chart
                .configure_mesh()
                .x_labels(points.len().max(MIN_SLOTS) * 2 + 1)
                .x_label_formatter(&|x| date_label(points, *x))
                .y_desc("reps")
                .y_labels(most.min(10) + 1)
                .y_label_formatter(&|v| if (v - v.round()).abs() < 1e-6 { format!("{v:.0}") } else { String::new() })
                .light_line_style(TRANSPARENT)
                .draw()?;
            let good = colour(&style.colors.good);
            let bad = colour(&style.colors.fault);
            for (i, p) in points.iter().enumerate() {
                let x = i as f64;
                let faulty = p.faulty_reps as f64;
                chart
                    .draw_series(std::iter::once(Rectangle::new([(x - 0.3, 0.0), (x + 0.3, faulty)], bad.filled())))?;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.3, faulty), (x + 0.3, p.reps as f64)],
                    good.filled(),
                )))?;
            }
            root.present()?;
        }
        Ok(svg)
    };
    let legend = [
        (style.colors.fault.clone(), "reps with a fault".to_string()),
        (style.colors.good.clone(), "good reps".to_string()),
    ];
    figure("plot-faulty-reps", draw(), &legend)
}

/// Lines of some metrics at depth across sessions, with threshold lines.
pub fn at_depth_plot(
    id: &str,
    title: &str,
    points: &[SessionPoint],
    metrics: &[Metric],
    thresholds: &[(f64, String)],
    style: &ReportStyle,
) -> String {
    let draw = || -> Result<String, Box<dyn std::error::Error>> {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for v in points
            .iter()
            .flat_map(|p| metrics.iter().filter_map(|m| p.at_depth(*m)))
            .chain(thresholds.iter().map(|t| t.0))
        {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() {
            (lo, hi) = (0.0, 10.0);
        }
        let pad = ((hi - lo) * 0.1).max(2.0);
        let (lo, hi) = (lo - pad, hi + pad);
        let unit = metrics.first().map_or("", |m| m.unit()).trim();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 18))
                .margin(8)
                .x_label_area_size(34)
                .y_label_area_size(44)
                .build_cartesian_2d(x_range(points.len()), lo..hi)?;
            chart
                .configure_mesh()
                .x_labels(points.len().max(MIN_SLOTS) * 2 + 1)
                .x_label_formatter(&|x| date_label(points, *x))
                .y_desc(if unit == "°" { "degrees" } else { unit })
                .y_label_formatter(&|v| format!("{v:.0}"))
                .light_line_style(TRANSPARENT)
                .draw()?;
            let thr = colour(&style.colors.threshold);
            let n = points.len().max(MIN_SLOTS) as f64;
            for (v, label) in thresholds {
                chart.draw_series(DashedLineSeries::new(vec![(-0.5, *v), (n - 0.5, *v)], 6, 4, thr.stroke_width(1)))?;
                chart.draw_series(std::iter::once(Text::new(
                    label.clone(),
                    (-0.45, *v + (hi - lo) * 0.04),
                    ("sans-serif", 12).into_font().color(&RGBColor(80, 80, 80)),
                )))?;
            }
            for m in metrics {
                let c = colour(metric_colour(style, *m));
                let values: Vec<(f64, f64)> =
                    points.iter().enumerate().filter_map(|(i, p)| p.at_depth(*m).map(|v| (i as f64, v))).collect();
                chart.draw_series(LineSeries::new(values.clone(), c.stroke_width(2)))?;
                chart.draw_series(values.into_iter().map(|xy| Circle::new(xy, 4, c.filled())))?;
            }
            root.present()?;
        }
        Ok(svg)
    };
    let legend: Vec<(String, String)> = metrics
        .iter()
        .map(|m| (metric_colour(style, *m).to_string(), format!("{} at depth ({})", m.label(), m.name())))
        .collect();
    figure(id, draw(), &legend)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::db::{AnalysisRow, RepRecord};

    fn session(date: &str, status: AnalysisStatus, reps: &[(&str, f64)]) -> SessionRow {
        SessionRow {
            session_id: 1,
            patient: "p".into(),
            recorded_on: date.into(),
            note: String::new(),
            original_name: "x.mp4".into(),
            uploaded_at: 0,
            source: "upload".into(),
            analysis: AnalysisRow {
                id: 1,
                status,
                reason: None,
                outcome: None,
                warning: None,
                video_sha256: String::new(),
                settings_sha256: String::new(),
                created_at: 0,
                started_at: None,
                finished_at: None,
                frames: None,
                duration_s: None,
                faults: Vec::new(),
                model: None,
                hinge_version: None,
                attempts: 0,
            },
            reps: reps
                .iter()
                .enumerate()
                .map(|(i, (verdict, lumbar))| RepRecord {
                    rep: i as i64 + 1,
                    start_s: 0.0,
                    end_s: 1.0,
                    verdict: verdict.to_string(),
                    faults: Vec::new(),
                    at_depth: [(Metric::LumbarFlexion.name().to_string(), *lumbar)].into_iter().collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn points_are_the_finished_sessions_with_medians_at_depth() {
        let sessions = vec![
            session("2026-01-01", AnalysisStatus::Done, &[("fault", 30.0), ("good", 10.0), ("fault", 40.0)]),
            session("2026-01-08", AnalysisStatus::Queued, &[]),
            session("2026-01-15", AnalysisStatus::Done, &[("good", 12.0)]),
        ];
        let points = session_points(&sessions);
        assert_eq!(points.len(), 2);
        assert_eq!((points[0].reps, points[0].faulty_reps), (3, 2));
        assert_eq!(points[0].at_depth(Metric::LumbarFlexion), Some(30.0));
        assert_eq!(points[0].at_depth(Metric::Trunk), None);
        assert_eq!(points[1].label, "2026-01-15");
        let style = ReportStyle::default();
        let bars = faulty_reps_plot(&points, &style);
        assert!(bars.contains("<svg") && bars.contains("2026-01-15") && !bars.contains("http://"), "{bars}");
        let lines = at_depth_plot("x", "t", &points, &[Metric::LumbarFlexion], &[(32.0, "limit".into())], &style);
        assert!(lines.contains("<svg") && lines.contains("lumbar_flexion_deg"));
        // no session yet: still a plot, no panic
        assert!(faulty_reps_plot(&[], &style).contains("<svg"));
    }
}
