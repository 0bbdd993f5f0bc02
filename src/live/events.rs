//! Live events, one JSON object per line with an `event` field (schema in docs/live.md).

use std::time::Duration;

use serde::Serialize;

use crate::kinematics::metric::MetricValues;

use crate::analysis::{Baseline, RepSummary};

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencyMs {
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
}

/// Capture-to-feedback latencies in a fixed histogram (0.1 ms bins up to
/// 2 s): constant memory however long the session.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    bins: Vec<u32>,
    count: u64,
    max_ms: f64,
}

const BIN_MS: f64 = 0.1;
const BINS: usize = 20_000;

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self { bins: vec![0; BINS + 1], count: 0, max_ms: 0.0 }
    }
}

impl LatencyHistogram {
    pub fn add(&mut self, d: Duration) {
        let ms = d.as_secs_f64() * 1e3;
        self.bins[((ms / BIN_MS) as usize).min(BINS)] += 1;
        self.count += 1;
        self.max_ms = self.max_ms.max(ms);
    }

    fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let target = (q * self.count as f64).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (i, n) in self.bins.iter().enumerate() {
            seen += *n as u64;
            if seen >= target {
                return ((i as f64 + 0.5) * BIN_MS).min(self.max_ms);
            }
        }
        self.max_ms
    }

    /// Forgets all samples.
    pub fn clear(&mut self) {
        self.bins.iter_mut().for_each(|b| *b = 0);
        self.count = 0;
        self.max_ms = 0.0;
    }

    pub fn summary(&self) -> LatencyMs {
        let r = |x: f64| (x * 10.0).round() / 10.0;
        LatencyMs { p50: r(self.quantile(0.5)), p95: r(self.quantile(0.95)), max: r(self.max_ms) }
    }
}

/// A completed rep as reported live.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepEvent {
    pub rep: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub verdict: &'static str,
    pub faults: Vec<&'static str>,
    /// Medians of every metric over the rep's deep part (what the verdict was taken on).
    pub at_depth: MetricValues,
}

impl RepEvent {
    pub fn from_summary(rep: usize, r: &RepSummary) -> Self {
        Self {
            rep,
            start_s: r.start_s,
            end_s: r.end_s,
            verdict: r.verdict,
            faults: r.faults.iter().map(|f| f.name()).collect(),
            at_depth: r.at_depth,
        }
    }
}

/// One live event. `time_s` is the source's clock (video time or capture time).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The standing baseline was captured.
    Calibrated { time_s: f64, baseline: Baseline },
    /// A rep ended, with its figures and verdict.
    RepCompleted {
        time_s: f64,
        #[serde(flatten)]
        rep: RepEvent,
    },
    /// A fault appeared (`raised`) or went away (`cleared`).
    Fault { time_s: f64, fault: &'static str, state: &'static str, cue: String },
    /// The camera view needs changing.
    ViewWarning { time_s: f64, warning: String },
    /// Once a second: speed, drops, latency so far and over the last second.
    Status {
        time_s: f64,
        fps: f64,
        frames_processed: u64,
        frames_dropped: u64,
        latency_ms: LatencyMs,
        latency_ms_last_s: LatencyMs,
    },
    /// Last line: the whole session.
    Summary { reps: Vec<RepEvent>, frames_processed: u64, frames_dropped: u64, latency_ms: LatencyMs, ended: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_percentiles() {
        let mut h = LatencyHistogram::default();
        for ms in 1..=100 {
            h.add(Duration::from_millis(ms));
        }
        let s = h.summary();
        assert!((s.p50 - 50.0).abs() <= 0.2, "{s:?}");
        assert!((s.p95 - 95.0).abs() <= 0.2, "{s:?}");
        assert_eq!(s.max, 100.0);
        h.add(Duration::from_secs(5));
        assert_eq!(h.summary().max, 5000.0);
    }

    #[test]
    fn events_are_tagged_json_objects() {
        let e = Event::Fault { time_s: 1.5, fault: "rounded_lumbar", state: "raised", cue: "x".into() };
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(v["event"], "fault");
        assert_eq!(v["fault"], "rounded_lumbar");
    }
}
