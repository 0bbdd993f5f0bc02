//! Model files and the ONNX Runtime: finding, verifying and loading them.
//!
//! The runtime is a shared library loaded at run time (never downloaded);
//! bundled models are checked against their SHA-256 before use.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use sha2::{Digest, Sha256};

use super::PoseError;

/// ONNX Runtime version the project is built and tested against.
pub const ORT_VERSION: &str = "1.31.1";
/// File name of the runtime library as fetched by `make setup`.
pub const ORT_LIB_NAME: &str = "libonnxruntime.so.1.31.1";

/// Landmark model sizes of BlazePose (accuracy vs speed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LandmarkVariant {
    Lite,
    Full,
    Heavy,
}

impl LandmarkVariant {
    pub fn name(self) -> &'static str {
        match self {
            Self::Lite => "lite",
            Self::Full => "full",
            Self::Heavy => "heavy",
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Self::Lite => "pose_landmark_lite.onnx",
            Self::Full => "pose_landmark_full.onnx",
            Self::Heavy => "pose_landmark_heavy.onnx",
        }
    }

    /// SHA-256 of the bundled file (see `models/SHA256SUMS`).
    pub fn sha256(self) -> &'static str {
        match self {
            Self::Lite => "19c7db287d6dd8a4b6361f2986bea162428c4289a676b81b149097e21da1517b",
            Self::Full => "cbad7f61d629092bbbe1d9a8d927329894168db92f70f9999f8811d83a01d402",
            Self::Heavy => "a23f97a42a19d4489ff9fb2afbe4a6ef628e130b05c3caa4bcceffec9f6fdd5f",
        }
    }
}

impl std::str::FromStr for LandmarkVariant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "lite" => Ok(Self::Lite),
            "full" => Ok(Self::Full),
            "heavy" => Ok(Self::Heavy),
            other => Err(format!("unknown model variant `{other}` (expected lite, full or heavy)")),
        }
    }
}

/// File name and SHA-256 of the bundled detector.
pub const DETECTOR_FILE: &str = "pose_detection.onnx";
pub const DETECTOR_SHA256: &str = "58a074ad94a7a61a7f7153f06b0e907fadd3a84e2f8647e531fb1760baa7c596";

/// Which landmark model to use: a bundled variant or an ONNX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelChoice {
    Variant(LandmarkVariant),
    Path(PathBuf),
}

impl Default for ModelChoice {
    fn default() -> Self {
        Self::Variant(LandmarkVariant::Full)
    }
}

impl ModelChoice {
    /// `lite`, `full`, `heavy`, or a path to an `.onnx` file.
    pub fn parse(s: &str) -> Self {
        match s.parse::<LandmarkVariant>() {
            Ok(v) => Self::Variant(v),
            Err(_) => Self::Path(PathBuf::from(s)),
        }
    }

    /// Short name for reports: the variant, or the file name.
    pub fn label(&self) -> String {
        match self {
            Self::Variant(v) => v.name().to_string(),
            Self::Path(p) => p.display().to_string(),
        }
    }
}

/// Directories searched for the bundled models, in order: `$HINGE_MODELS_DIR`,
/// `models/` next to the executable, `../share/hinge/models` relative to it,
/// and the source tree's `models/` the binary was built from.
pub fn model_search_dirs(explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = explicit {
        dirs.push(d.to_path_buf());
        return dirs;
    }
    if let Some(d) = std::env::var_os("HINGE_MODELS_DIR").filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(d));
    }
    if let Some(exe_dir) = exe_dir() {
        dirs.push(exe_dir.join("models"));
        dirs.push(exe_dir.join("../share/hinge/models"));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    dirs
}

/// Candidate locations of the ONNX Runtime library, in order: the explicit
/// path, `$ORT_DYLIB_PATH`, next to the executable, `../lib/hinge/` relative
/// to it, and `vendor/onnxruntime/` of the source tree.
pub fn ort_library_candidates(explicit: Option<&Path>) -> Vec<PathBuf> {
    if let Some(p) = explicit {
        return vec![p.to_path_buf()];
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()) {
        return vec![PathBuf::from(p)];
    }
    let mut c = Vec::new();
    if let Some(exe_dir) = exe_dir() {
        c.push(exe_dir.join(ORT_LIB_NAME));
        c.push(exe_dir.join("../lib/hinge").join(ORT_LIB_NAME));
    }
    c.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("vendor/onnxruntime").join(ORT_LIB_NAME));
    c
}

fn exe_dir() -> Option<PathBuf> {
    std::env::current_exe().ok()?.canonicalize().ok()?.parent().map(Path::to_path_buf)
}

/// The loaded ONNX Runtime.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// Library file that was loaded.
    pub library: PathBuf,
    environment: ort::environment::Environment,
}

static RUNTIME: OnceLock<Result<Runtime, PoseError>> = OnceLock::new();

impl Runtime {
    /// Loads the ONNX Runtime library once per process (later calls return
    /// the first result). `explicit` overrides the search.
    pub fn init(explicit: Option<&Path>) -> Result<Runtime, PoseError> {
        RUNTIME.get_or_init(|| Self::load(explicit)).clone()
    }

    fn load(explicit: Option<&Path>) -> Result<Runtime, PoseError> {
        let candidates = ort_library_candidates(explicit);
        let path = if explicit.is_some() || candidates.len() == 1 {
            candidates[0].clone()
        } else {
            match candidates.iter().find(|p| p.is_file()) {
                Some(p) => p.clone(),
                None => return Err(PoseError::RuntimeNotFound { searched: candidates }),
            }
        };
        if !path.is_file() {
            return Err(PoseError::RuntimeNotFound { searched: vec![path] });
        }
        let builder = ort::init_from(&path).map_err(|e| classify_load_error(&path, e))?;
        let environment = builder
            .with_name("hinge")
            .with_telemetry(false)
            .build()
            .map_err(|e| PoseError::RuntimeLoad { path: path.clone(), reason: e.to_string() })?;
        register_shared_arena(&environment).map_err(|reason| PoseError::RuntimeLoad { path: path.clone(), reason })?;
        Ok(Runtime { library: path, environment })
    }

    /// Version string reported by the loaded library.
    pub fn version(&self) -> String {
        ort::info()
            .split(',')
            .find_map(|s| s.trim().strip_prefix("git-branch=rel-").map(str::to_string))
            .unwrap_or_else(|| ORT_VERSION.to_string())
    }

    pub(crate) fn environment(&self) -> &ort::environment::Environment {
        &self.environment
    }
}

fn classify_load_error(path: &Path, e: ort::LoadDynamicError) -> PoseError {
    let msg = e.to_string();
    if let Some(rest) = msg.split("but got '").nth(1) {
        let found = rest.trim_end_matches('\'').to_string();
        return PoseError::RuntimeVersion {
            path: path.to_path_buf(),
            found,
            required: format!(">= 1.{}", ort::MINOR_VERSION),
        };
    }
    PoseError::RuntimeLoad { path: path.to_path_buf(), reason: msg }
}

/// Threading of ONNX Runtime sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionOptions {
    /// Intra-op threads per session (1 is fastest on 2 shared cores).
    pub intra_op_threads: usize,
    /// Let idle worker threads spin (burns CPU, may help on idle machines).
    pub allow_spinning: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self { intra_op_threads: 1, allow_spinning: false }
    }
}

/// Reads a model file and checks its SHA-256 when one is expected.
pub fn read_model(path: &Path, expected_sha256: Option<&str>) -> Result<Vec<u8>, PoseError> {
    if !path.exists() {
        return Err(PoseError::ModelNotFound { path: path.to_path_buf() });
    }
    let bytes = std::fs::read(path).map_err(|e| PoseError::read(path.to_path_buf(), e))?;
    if let Some(expected) = expected_sha256 {
        let actual = hex(&Sha256::digest(&bytes));
        if actual != expected {
            return Err(PoseError::ModelHashMismatch {
                path: path.to_path_buf(),
                expected: expected.to_string(),
                actual,
            });
        }
    }
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Registers one CPU arena with the environment for every session to share
/// (sessions opt in with `session.use_env_allocators`): the models run one
/// after another, so one arena's blocks serve each in turn, where an arena of
/// its own per session keeps each session's peak. It grows by what is asked
/// (`kSameAsRequested`), not by doubling.
fn register_shared_arena(environment: &ort::environment::Environment) -> Result<(), String> {
    use ort::sys::{OrtAllocatorType, OrtMemType, OrtStatusPtr};
    use ort::AsPointer;
    let api = ort::api();
    let check = |status: OrtStatusPtr| -> Result<(), String> {
        if status.0.is_null() {
            return Ok(());
        }
        // SAFETY: a non-null status from the API; its message is a C string it owns until released.
        let message =
            unsafe { std::ffi::CStr::from_ptr((api.GetErrorMessage)(status.0)) }.to_string_lossy().into_owned();
        // SAFETY: released once, after its message was copied.
        unsafe { (api.ReleaseStatus)(status.0) };
        Err(format!("cannot set up the shared memory arena: {message}"))
    };
    let keys = [c"arena_extend_strategy".as_ptr()];
    let values = [1usize]; // kSameAsRequested
    let mut cfg = std::ptr::null_mut();
    let mut info = std::ptr::null_mut();
    // SAFETY: the arrays outlive the calls; the out-pointers are written by the API and released below.
    unsafe {
        check((api.CreateArenaCfgV2)(keys.as_ptr(), values.as_ptr(), keys.len(), &mut cfg))?;
        let made = check((api.CreateCpuMemoryInfo)(
            OrtAllocatorType::OrtArenaAllocator,
            OrtMemType::OrtMemTypeDefault,
            &mut info,
        ))
        .and_then(|()| check((api.CreateAndRegisterAllocator)(environment.ptr().cast_mut(), info, cfg)));
        if !info.is_null() {
            (api.ReleaseMemoryInfo)(info);
        }
        (api.ReleaseArenaCfg)(cfg);
        made
    }
}

/// Builds a session from model bytes.
pub fn build_session(
    runtime: &Runtime,
    path: &Path,
    bytes: &[u8],
    options: SessionOptions,
) -> Result<Session, PoseError> {
    let load = |reason: String| PoseError::ModelLoad { path: path.to_path_buf(), reason };
    Session::builder(runtime.environment())
        .map_err(|e| load(e.to_string()))?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| load(e.to_string()))?
        .with_intra_threads(options.intra_op_threads.max(1))
        .map_err(|e| load(e.to_string()))?
        .with_inter_threads(1)
        .map_err(|e| load(e.to_string()))?
        .with_config_entry("session.intra_op.allow_spinning", if options.allow_spinning { "1" } else { "0" })
        .map_err(|e| load(e.to_string()))?
        // memory (issue 14): the buffers between nodes come from the arena shared by
        // all sessions (see `register_shared_arena`), not from one block per session
        // planned ahead for the whole graph (the memory pattern), which each session
        // would keep to itself; on a 4K clip the two save ~30 MB, at the same speed
        .with_memory_pattern(false)
        .map_err(|e| load(e.to_string()))?
        .with_config_entry("session.use_env_allocators", "1")
        .map_err(|e| load(e.to_string()))?
        .commit_from_memory(bytes)
        .map_err(|e| load(e.to_string()))
}

/// Resolved model files for one pose estimator.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFiles {
    pub detector: PathBuf,
    pub landmark: PathBuf,
    /// Expected hashes (None for a user-supplied landmark file).
    pub detector_sha256: Option<&'static str>,
    pub landmark_sha256: Option<&'static str>,
    pub label: String,
}

impl ModelFiles {
    /// Finds the files for `choice` in the model search directories.
    pub fn resolve(choice: &ModelChoice, models_dir: Option<&Path>) -> Result<ModelFiles, PoseError> {
        let dirs = model_search_dirs(models_dir);
        let find = |name: &str| dirs.iter().map(|d| d.join(name)).find(|p| p.is_file());
        let detector = find(DETECTOR_FILE).ok_or_else(|| PoseError::ModelNotFound {
            path: dirs.first().cloned().unwrap_or_default().join(DETECTOR_FILE),
        })?;
        let (landmark, landmark_sha256) = match choice {
            ModelChoice::Variant(v) => {
                let p = find(v.file_name()).ok_or_else(|| {
                    let hint = if *v == LandmarkVariant::Heavy {
                        " (the heavy model is not bundled: run `make models-heavy`)"
                    } else {
                        ""
                    };
                    PoseError::ModelMissing {
                        variant: v.name().to_string(),
                        searched: dirs.clone(),
                        hint: hint.to_string(),
                    }
                })?;
                (p, Some(v.sha256()))
            }
            ModelChoice::Path(p) => (p.clone(), None),
        };
        Ok(ModelFiles {
            detector,
            landmark,
            detector_sha256: Some(DETECTOR_SHA256),
            landmark_sha256,
            label: choice.label(),
        })
    }
}
