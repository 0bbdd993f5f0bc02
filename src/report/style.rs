//! Colours and wording of what a clinician and a patient see (annotated video
//! and report.html), in one place.
//!
//! Every field has a default; a clinic overrides any of them from the
//! `[report]` table of the configuration file, e.g. to translate the cues:
//!
//! ```
//! let s = hinge::report::style::ReportStyle::from_toml_str(
//!     "[report.cues]\nrounded_lumbar = \"Aus der Hüfte beugen, Rücken lang\"\n",
//! ).unwrap();
//! assert_eq!(s.cue("rounded_lumbar"), "Aus der Hüfte beugen, Rücken lang");
//! assert_eq!(s.cue("load_far"), "keep the load close");
//! ```
//!
//! The video overlay is drawn with OpenCV's built-in (Hershey) fonts, which
//! only have ASCII glyphs: other characters are drawn as `?` there (report.html
//! shows them as written).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::faults::Fault;

/// Errors reading the `[report]` table.
#[derive(Debug, thiserror::Error)]
pub enum StyleError {
    #[error("{}: cannot read config: {source}", .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid [report] settings: {0}")]
    Parse(String),
}

/// Colours as CSS hex strings (`#rrggbb`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Colors {
    /// A good rep, a neutral back.
    pub good: String,
    /// A fault.
    pub fault: String,
    /// Warnings (camera view) and a back near its limit.
    pub warning: String,
    /// Skeleton lines on the video.
    pub skeleton: String,
    /// Joint dots on the video.
    pub joints: String,
    /// Text on the video and headings of the report.
    pub text: String,
    /// Background of the status bar on the video.
    pub panel: String,
    /// Back contour, lower back arched (extension).
    pub arched: String,
    /// Plot lines, one per metric.
    pub trunk: String,
    pub hip: String,
    pub knee: String,
    pub hip_flexion: String,
    pub lumbar: String,
    pub pelvis: String,
    pub ribs: String,
    /// Rep bands behind the plots.
    pub rep_band: String,
    /// Threshold lines in the plots.
    pub threshold: String,
}

impl Default for Colors {
    fn default() -> Self {
        let s = |x: &str| x.to_string();
        Colors {
            good: s("#2e7d32"),
            fault: s("#c62828"),
            warning: s("#ef6c00"),
            skeleton: s("#00e5ff"),
            joints: s("#ffffff"),
            text: s("#ffffff"),
            panel: s("#202020"),
            arched: s("#8e24aa"),
            trunk: s("#1565c0"),
            hip: s("#2e7d32"),
            knee: s("#6d4c41"),
            hip_flexion: s("#00897b"),
            lumbar: s("#c62828"),
            pelvis: s("#8e24aa"),
            ribs: s("#ef6c00"),
            rep_band: s("#e3f2fd"),
            threshold: s("#9e9e9e"),
        }
    }
}

/// Words shown to the clinician and the patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportStyle {
    pub colors: Colors,
    /// Title of report.html.
    pub title: String,
    /// Verdict of a rep without faults.
    pub good_rep: String,
    /// Lead-in of the cue to practise.
    pub practise: String,
    /// Short fault names, by fault name (`rounded_lumbar` ...).
    pub fault_labels: BTreeMap<String, String>,
    /// The cue to practise, by fault name.
    pub cues: BTreeMap<String, String>,
    /// The short cue `hinge live` shows and sends the moment a fault appears, by fault name.
    pub live_cues: BTreeMap<String, String>,
    /// Phase names (standing, descending, bottom, ascending).
    pub phases: BTreeMap<String, String>,
    /// Labels of the angles drawn next to the joints.
    pub trunk_label: String,
    pub hip_label: String,
    pub knee_label: String,
    /// "Rep" in the video's rep counter and the report.
    pub rep_label: String,
    /// Under the repetitions of report.html: which verdicts rest on measured
    /// joints and which on the spine model's estimate of the back.
    pub trust_note: String,
}

/// Default [`ReportStyle::trust_note`]: what the held-out figures say
/// (docs/metrics.md, docs/spine_model.md; trunk, hip and knee MAE 1.6–2.6°,
/// load distance 7.3 cm on the held-out sets, which tests/metrics_accuracy.rs
/// holds below 2.5–3.3°).
pub const DEFAULT_TRUST_NOTE: &str = "How far to trust this: the trunk, hip and knee angles, the rep count \
    and squatting instead of hinging come from the joints; on bodies hinge never saw the angles were off by \
    about 2° on average (the load's distance by about 7 cm). The lower back, pelvis and rib-cage readings, and \
    the rounded-back, tilt and rib faults built on them, are a model's estimate from the body's outline: on \
    a new person, and more so in loose clothing, they are often wrong. Check those against the video.";

/// Default short fault names.
pub fn default_fault_label(f: Fault) -> &'static str {
    match f {
        Fault::RoundedLumbar => "rounded lower back",
        Fault::AnteriorTilt => "arched lower back (pelvis tipped forward)",
        Fault::PosteriorTilt => "tucked pelvis (lower back flattened)",
        Fault::RibsNotStacked => "ribs not stacked over the pelvis",
        Fault::SquatPattern => "squatting instead of hinging",
        Fault::LoadFar => "load away from the body",
    }
}

/// Default cues of `hinge live`: what went wrong and what to do, short
/// enough to read mid-rep.
pub fn default_live_cue(f: Fault) -> &'static str {
    match f {
        Fault::RoundedLumbar => "Round back - hinge from the hips",
        Fault::AnteriorTilt => "Arched back - soften the arch, neutral pelvis",
        Fault::PosteriorTilt => "Tucked pelvis - untuck, hips back",
        Fault::RibsNotStacked => "Ribs flared - stack ribs over pelvis",
        Fault::SquatPattern => "Knees forward - this is a squat",
        Fault::LoadFar => "Load drifting - keep it close",
    }
}

/// Default cues (metrics.md).
pub fn default_cue(f: Fault) -> &'static str {
    match f {
        Fault::RoundedLumbar => "hinge from the hips, keep the spine long",
        Fault::AnteriorTilt => "soften the arch, neutral pelvis",
        Fault::PosteriorTilt => "untuck, let the hips go back",
        Fault::RibsNotStacked => "stack ribs over pelvis, 360° breath",
        Fault::SquatPattern => "push the hips back, shins near vertical",
        Fault::LoadFar => "keep the load close",
    }
}

impl Default for ReportStyle {
    fn default() -> Self {
        let by_fault = |f: fn(Fault) -> &'static str| -> BTreeMap<String, String> {
            Fault::ALL.iter().map(|&x| (x.name().to_string(), f(x).to_string())).collect()
        };
        ReportStyle {
            colors: Colors::default(),
            title: "Hip hinge report".to_string(),
            good_rep: "good hinge: hips back, spine long".to_string(),
            practise: "Practise".to_string(),
            fault_labels: by_fault(default_fault_label),
            cues: by_fault(default_cue),
            live_cues: by_fault(default_live_cue),
            phases: [
                ("standing", "standing"),
                ("descending", "going down"),
                ("bottom", "bottom"),
                ("ascending", "coming up"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            trunk_label: "trunk".to_string(),
            hip_label: "hip".to_string(),
            knee_label: "knee".to_string(),
            rep_label: "Rep".to_string(),
            trust_note: DEFAULT_TRUST_NOTE.to_string(),
        }
    }
}

/// The configuration file as a whole: only `[report]` is read here (the
/// other tables belong to [`crate::config::Config`]).
#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(default)]
    report: Option<ReportStyle>,
}

impl ReportStyle {
    /// The `[report]` table of a configuration file's text; defaults without one.
    pub fn from_toml_str(s: &str) -> Result<Self, StyleError> {
        let f: File = toml::from_str(s).map_err(|e| StyleError::Parse(e.to_string()))?;
        let mut style = f.report.unwrap_or_default();
        style.fill_missing();
        style.validate()?;
        Ok(style)
    }

    /// Reads the `[report]` table of a configuration file.
    pub fn load(path: &Path) -> Result<Self, StyleError> {
        let s =
            std::fs::read_to_string(path).map_err(|source| StyleError::Read { path: path.to_path_buf(), source })?;
        Self::from_toml_str(&s)
    }

    /// A partial map in the file replaces the whole default map: put the defaults back for the keys it lacks.
    pub(crate) fn fill_missing(&mut self) {
        let d = ReportStyle::default();
        for (mine, def) in [
            (&mut self.fault_labels, &d.fault_labels),
            (&mut self.cues, &d.cues),
            (&mut self.live_cues, &d.live_cues),
            (&mut self.phases, &d.phases),
        ] {
            for (k, v) in def {
                mine.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }

    pub(crate) fn validate(&self) -> Result<(), StyleError> {
        // a misspelt key in a map would silently keep the default: refuse it
        for (table, map) in [("fault_labels", &self.fault_labels), ("cues", &self.cues), ("live_cues", &self.live_cues)]
        {
            if let Some(k) = map.keys().find(|k| Fault::from_name(k).is_none()) {
                let known: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                return Err(StyleError::Parse(format!(
                    "report.{table}.{k} is not a fault (known: {})",
                    known.join(", ")
                )));
            }
        }
        let phases = ["standing", "descending", "bottom", "ascending"];
        if let Some(k) = self.phases.keys().find(|k| !phases.contains(&k.as_str())) {
            return Err(StyleError::Parse(format!("report.phases.{k} is not a phase (known: {})", phases.join(", "))));
        }
        let c = &self.colors;
        for (name, v) in [
            ("good", &c.good),
            ("fault", &c.fault),
            ("warning", &c.warning),
            ("skeleton", &c.skeleton),
            ("joints", &c.joints),
            ("text", &c.text),
            ("panel", &c.panel),
            ("arched", &c.arched),
            ("trunk", &c.trunk),
            ("hip", &c.hip),
            ("knee", &c.knee),
            ("hip_flexion", &c.hip_flexion),
            ("lumbar", &c.lumbar),
            ("pelvis", &c.pelvis),
            ("ribs", &c.ribs),
            ("rep_band", &c.rep_band),
            ("threshold", &c.threshold),
        ] {
            if parse_hex(v).is_none() {
                return Err(StyleError::Parse(format!("colors.{name} must be #rrggbb (got `{v}`)")));
            }
        }
        Ok(())
    }

    /// Short name of a fault (by its name), falling back to the default wording.
    pub fn fault_label<'a>(&'a self, name: &'a str) -> &'a str {
        match self.fault_labels.get(name) {
            Some(v) => v,
            None => fault_named(name).map(default_fault_label).unwrap_or(name),
        }
    }

    /// The cue to practise for a fault (by its name), falling back to the default wording.
    pub fn cue<'a>(&'a self, name: &'a str) -> &'a str {
        match self.cues.get(name) {
            Some(v) => v,
            None => fault_named(name).map(default_cue).unwrap_or(""),
        }
    }

    /// The cue `hinge live` shows for a fault, falling back to the default wording.
    pub fn live_cue(&self, f: Fault) -> &str {
        self.live_cues.get(f.name()).map_or_else(|| default_live_cue(f), String::as_str)
    }

    /// Name of a phase as shown.
    pub fn phase<'a>(&'a self, name: &'a str) -> &'a str {
        self.phases.get(name).map(String::as_str).unwrap_or(name)
    }
}

fn fault_named(name: &str) -> Option<Fault> {
    Fault::ALL.into_iter().find(|f| f.name() == name)
}

/// `#rrggbb` → (r, g, b).
pub fn parse_hex(s: &str) -> Option<(u8, u8, u8)> {
    let h = s.strip_prefix('#')?;
    if h.len() != 6 || !h.is_ascii() {
        return None;
    }
    let p = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some((p(0)?, p(2)?, p(4)?))
}

/// `#rrggbb` → RGB, grey for an invalid string (validated at load).
pub fn rgb(s: &str) -> (u8, u8, u8) {
    parse_hex(s).unwrap_or((128, 128, 128))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_every_fault() {
        let s = ReportStyle::default();
        for f in Fault::ALL {
            assert!(!s.cue(f.name()).is_empty());
            assert_ne!(s.fault_label(f.name()), f.name());
        }
        assert!(s.validate().is_ok());
    }

    #[test]
    fn partial_override_keeps_other_defaults() {
        let s = ReportStyle::from_toml_str(
            "[reps]\nstart_deg = 12.0\n[report]\ntitle = \"Bericht\"\n[report.colors]\nfault = \"#ff0000\"\n[report.fault_labels]\nload_far = \"Last weit weg\"\n",
        )
        .unwrap();
        assert_eq!(s.title, "Bericht");
        assert_eq!(s.colors.fault, "#ff0000");
        assert_eq!(s.colors.good, Colors::default().good);
        assert_eq!(s.fault_label("load_far"), "Last weit weg");
        assert_eq!(s.fault_label("rounded_lumbar"), "rounded lower back");
        assert_eq!(s.trust_note, DEFAULT_TRUST_NOTE);
        let s = ReportStyle::from_toml_str("[report]\ntrust_note = \"Rücken: nur eine Schätzung\"\n").unwrap();
        assert_eq!(s.trust_note, "Rücken: nur eine Schätzung");
        // a live cue given for one fault; the others keep theirs
        let s = ReportStyle::from_toml_str("[report.live_cues]\nload_far = \"Last nah\"\n").unwrap();
        assert_eq!(s.live_cue(Fault::LoadFar), "Last nah");
        assert_eq!(s.live_cue(Fault::RoundedLumbar), default_live_cue(Fault::RoundedLumbar));
    }

    #[test]
    fn bad_colour_and_unknown_key_are_errors() {
        assert!(ReportStyle::from_toml_str("[report.colors]\nfault = \"red\"\n").is_err());
        assert!(ReportStyle::from_toml_str("[report]\ntitel = \"x\"\n").is_err());
        // a misspelt fault or phase in a map is named, not silently ignored
        let e = ReportStyle::from_toml_str("[report.cues]\nrounded_lumbr = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("report.cues.rounded_lumbr"), "{e}");
        assert!(ReportStyle::from_toml_str("[report.fault_labels]\nsquat = \"x\"\n").is_err());
        assert!(ReportStyle::from_toml_str("[report.phases]\nlowering = \"x\"\n").is_err());
        assert_eq!(ReportStyle::from_toml_str("").unwrap(), ReportStyle::default());
    }
}
