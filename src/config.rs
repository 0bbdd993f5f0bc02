//! The configuration file (`--config FILE.toml`): one table per stage, each
//! owned by its stage (`[reps]` → [`RepConfig`], `[faults]` → [`FaultConfig`],
//! `[report]` → [`crate::report::style::ReportStyle`]); this module only
//! gathers them, refuses unknown keys and checks every value. Defaults and
//! their rationale: docs/config.md.
//!
//! ```
//! let cfg = hinge::config::Config::from_toml_str("[reps]\nmin_depth_deg = 25.0\n").unwrap();
//! assert_eq!(cfg.reps.min_depth_deg, 25.0);
//! assert_eq!(cfg.reps.start_deg, hinge::config::Config::default().reps.start_deg);
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Errors reading a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{}: cannot read config: {error}", .path.display())]
    Read { path: PathBuf, error: std::io::Error },
    /// The file is not valid TOML or has unknown keys / wrong types.
    #[error("{}: invalid config: {reason}", .path.display())]
    Parse { path: PathBuf, reason: String },
    /// A value is out of its allowed range (the message names the key).
    #[error("{0}")]
    Invalid(String),
}

pub use crate::faults::FaultConfig;
pub use crate::reps::RepConfig;

/// The rules an analysis applies: the rep stage's and the fault stage's
/// settings (the `[reps]` and `[faults]` tables of the configuration file).
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub reps: &'a RepConfig,
    pub faults: &'a FaultConfig,
}

impl Default for Rules<'static> {
    fn default() -> Self {
        static REPS: std::sync::OnceLock<RepConfig> = std::sync::OnceLock::new();
        static FAULTS: std::sync::OnceLock<FaultConfig> = std::sync::OnceLock::new();
        Rules { reps: REPS.get_or_init(RepConfig::default), faults: FAULTS.get_or_init(FaultConfig::default) }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub reps: RepConfig,
    pub faults: FaultConfig,
    /// Colours and wording of the report and the annotated video (`[report]`, docs/report.md).
    pub report: crate::report::style::ReportStyle,
}

/// A TOML error on one line: where (the line of the document) and what,
/// without the quoted snippet and caret that the error's own text spreads
/// over several lines.
fn toml_error_line(text: &str, e: &toml::de::Error) -> String {
    let what = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
    match e.span().and_then(|span| text.get(..span.start)) {
        Some(before) => format!("line {}: {what}", before.matches('\n').count() + 1),
        None => what,
    }
}

impl Config {
    /// Parses TOML; missing keys keep their defaults, unknown keys are errors.
    pub fn from_toml_str(s: &str) -> Result<Self, String> {
        let mut cfg: Config = toml::from_str(s).map_err(|e| toml_error_line(s, &e))?;
        cfg.report.fill_missing();
        cfg.validate().map_err(|e| e.to_string())?;
        cfg.report.validate().map_err(|e| e.to_string())?;
        Ok(cfg)
    }

    /// Reads a TOML file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|error| ConfigError::Read { path: path.to_path_buf(), error })?;
        Self::from_toml_str(&text).map_err(|reason| ConfigError::Parse { path: path.to_path_buf(), reason })
    }

    /// The rules of an analysis (`[reps]` and `[faults]`).
    pub fn rules(&self) -> Rules<'_> {
        Rules { reps: &self.reps, faults: &self.faults }
    }

    /// The whole configuration as TOML (what the report prints).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("(cannot print settings: {e})"))
    }

    /// What the report stage needs of the configuration; `toml` is [`Self::to_toml`]'s text.
    pub fn report_settings<'a>(&'a self, toml: &'a str) -> crate::report::Settings<'a> {
        crate::report::Settings { faults: &self.faults, toml, style: &self.report }
    }

    /// Checks every stage's values (finite, in range, consistent).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.reps.validate().map_err(ConfigError::Invalid)?;
        self.faults.validate().map_err(ConfigError::Invalid)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_bad_ranges_are_rejected() {
        assert!(Config::from_toml_str("[reps]\nstart_degs = 3\n").is_err());
        assert!(Config::from_toml_str("[reps]\nstart_deg = 40.0\n").is_err());
        assert!(Config::from_toml_str("[faults]\nposterior_tilt_deg = 5.0\n").is_err());
        assert!(Config::from_toml_str("[faults]\nrounded_lumbar_deg = nan\n").is_err());
        assert!(Config::from_toml_str("[reps]\nmin_duration_s = -1.0\n").is_err());
        let e = Config::from_toml_str("[faults]\nsquat_ssi = inf\n").unwrap_err();
        assert!(e.contains("faults.squat_ssi"), "{e}");
        assert_eq!(Config::from_toml_str("").unwrap(), Config::default());
        // one line: where and what, without the error's quoted snippet
        let e = Config::from_toml_str("[reps]\n\nstart_degs = 3\n").unwrap_err();
        assert!(e.starts_with("line 3: unknown field `start_degs`, expected one of"), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
}
