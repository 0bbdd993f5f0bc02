//! The registry of per-frame metrics: one list that frames.csv, summary.json,
//! reps.csv, the report, live events, batch tables and `hinge eval` all read,
//! so a metric is added (or renamed) in one place.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::body::FrameMetrics;

/// A per-frame measurement (definitions in `docs/metrics.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    Trunk,
    HipAngle,
    KneeFlexion,
    HipFlexion,
    LumbarFlexion,
    PelvicTilt,
    RibStack,
    Ssi,
    LoadDistance,
}

impl Metric {
    /// Every metric, in the order of frames.csv's columns.
    pub const ALL: [Metric; 9] = [
        Metric::Trunk,
        Metric::HipAngle,
        Metric::KneeFlexion,
        Metric::HipFlexion,
        Metric::LumbarFlexion,
        Metric::PelvicTilt,
        Metric::RibStack,
        Metric::Ssi,
        Metric::LoadDistance,
    ];

    /// Column / key name (with its unit).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Trunk => "trunk_deg",
            Metric::HipAngle => "hip_angle_deg",
            Metric::KneeFlexion => "knee_flexion_deg",
            Metric::HipFlexion => "hip_flexion_deg",
            Metric::LumbarFlexion => "lumbar_flexion_deg",
            Metric::PelvicTilt => "pelvic_tilt_deg",
            Metric::RibStack => "rib_stack_deg",
            Metric::Ssi => "ssi",
            Metric::LoadDistance => "load_distance_cm",
        }
    }

    /// Short label for tables and plots.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Trunk => "trunk",
            Metric::HipAngle => "hip angle",
            Metric::KneeFlexion => "knee",
            Metric::HipFlexion => "hip flexion",
            Metric::LumbarFlexion => "lumbar",
            Metric::PelvicTilt => "pelvic tilt",
            Metric::RibStack => "rib stack",
            Metric::Ssi => "SSI",
            Metric::LoadDistance => "load distance",
        }
    }

    /// Unit as shown to people.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Ssi => "",
            Metric::LoadDistance => " cm",
            _ => "°",
        }
    }

    /// Decimals written to the data files.
    pub fn decimals(self) -> usize {
        match self {
            Metric::Ssi | Metric::LoadDistance => 1,
            _ => 2,
        }
    }

    /// The value of this metric in a frame.
    pub fn of(self, m: &FrameMetrics) -> Option<f64> {
        match self {
            Metric::Trunk => m.trunk_deg,
            Metric::HipAngle => m.hip_angle_deg,
            Metric::KneeFlexion => m.knee_flexion_deg,
            Metric::HipFlexion => m.hip_flexion_deg,
            Metric::LumbarFlexion => m.lumbar_flexion_deg,
            Metric::PelvicTilt => m.pelvic_tilt_deg,
            Metric::RibStack => m.rib_stack_deg,
            Metric::Ssi => m.ssi,
            Metric::LoadDistance => m.load_distance_cm,
        }
    }

    /// Parses a metric name.
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// One value per metric (e.g. a standing baseline or a rep's medians at
/// depth); serialised as a map from metric name to number or null.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MetricValues(pub [Option<f64>; Metric::ALL.len()]);

impl MetricValues {
    pub fn get(&self, m: Metric) -> Option<f64> {
        self.0[Metric::ALL.iter().position(|x| *x == m).expect("every metric is listed")]
    }

    pub fn set(&mut self, m: Metric, v: Option<f64>) {
        self.0[Metric::ALL.iter().position(|x| *x == m).expect("every metric is listed")] = v.filter(|x| x.is_finite());
    }

    /// Each metric computed by `f`.
    pub fn from_fn(mut f: impl FnMut(Metric) -> Option<f64>) -> MetricValues {
        let mut out = MetricValues::default();
        for m in Metric::ALL {
            out.set(m, f(m));
        }
        out
    }
}

impl Serialize for MetricValues {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(Metric::ALL.len()))?;
        for (m, v) in Metric::ALL.iter().zip(&self.0) {
            let rounded = v.map(|x| round_to(x, m.decimals()));
            map.serialize_entry(m.name(), &rounded)?;
        }
        map.end()
    }
}

/// A range per metric (e.g. over a rep), serialised as name → [min, max] or null.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MetricRanges(pub [Option<[f64; 2]>; Metric::ALL.len()]);

impl MetricRanges {
    pub fn get(&self, m: Metric) -> Option<[f64; 2]> {
        self.0[Metric::ALL.iter().position(|x| *x == m).expect("every metric is listed")]
    }

    /// Min and max of each metric over `frames`.
    pub fn over<'a>(frames: impl Iterator<Item = &'a FrameMetrics> + Clone) -> MetricRanges {
        let mut out = MetricRanges::default();
        for (k, m) in Metric::ALL.iter().enumerate() {
            out.0[k] = frames.clone().filter_map(|f| m.of(f)).filter(|x| x.is_finite()).fold(None, |acc, x| {
                Some(match acc {
                    None => [x, x],
                    Some([lo, hi]) => [lo.min(x), hi.max(x)],
                })
            });
        }
        out
    }
}

impl Serialize for MetricRanges {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(Metric::ALL.len()))?;
        for (m, v) in Metric::ALL.iter().zip(&self.0) {
            let rounded = v.map(|[a, b]| [round_to(a, m.decimals()), round_to(b, m.decimals())]);
            map.serialize_entry(m.name(), &rounded)?;
        }
        map.end()
    }
}

fn round_to(x: f64, decimals: usize) -> f64 {
    let k = 10f64.powi(decimals as i32);
    (x * k).round() / k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_parse_back() {
        for m in Metric::ALL {
            assert_eq!(Metric::from_name(m.name()), Some(m));
        }
        let mut names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Metric::ALL.len());
    }

    #[test]
    fn values_and_ranges_serialise_by_name() {
        let f = |t: f64| FrameMetrics { trunk_deg: Some(t), ssi: Some(t / 3.0), ..Default::default() };
        let frames = [f(10.0), f(40.123456)];
        let r = MetricRanges::over(frames.iter());
        assert_eq!(r.get(Metric::Trunk), Some([10.0, 40.123456]));
        assert_eq!(r.get(Metric::LumbarFlexion), None);
        let j = serde_json::to_value(r).unwrap();
        assert_eq!(j["trunk_deg"], serde_json::json!([10.0, 40.12]));
        assert!(j["lumbar_flexion_deg"].is_null());
        let v = MetricValues::from_fn(|m| Metric::of(m, &frames[1]));
        let j = serde_json::to_value(v).unwrap();
        assert_eq!(j["ssi"], serde_json::json!(13.4));
        let mut w = MetricValues::default();
        w.set(Metric::Ssi, Some(f64::NAN));
        assert_eq!(w.get(Metric::Ssi), None, "NaN is no value");
    }
}
