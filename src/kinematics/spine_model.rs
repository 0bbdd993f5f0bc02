//! The spine model: lumbar flexion, pelvic tilt, rib stack and hip flexion
//! of a frame from its [`SpineInput`] (the torso's mask crop and the
//! landmarks around it).
//!
//! A small convolutional network trained on rendered bodies with exact spine
//! and pelvis truth (`tools/spine/train.py`, model card in
//! `docs/spine_model.md`), run by ONNX Runtime. It is shipped in `models/`
//! and checked against its SHA-256 before use, like the pose models. One
//! model serves every thread: inference is batched over a clip and takes a
//! fraction of a millisecond per frame.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::session::Session;
use ort::value::TensorRef;

use super::spine_input::{SpineInput, CROP_COLS, CROP_ROWS, PROFILE_STATIONS, SCALAR_COUNT};
use crate::pose::model::{build_session, model_search_dirs, read_model, Runtime, SessionOptions};
use crate::pose::PoseError;

/// File name of the bundled spine model.
pub const SPINE_MODEL_FILE: &str = "spine_back.onnx";
/// SHA-256 of the bundled spine model (see `models/SHA256SUMS`).
pub const SPINE_MODEL_SHA256: &str = "ea391961f2448b476d50a2baaef554d23c7de14faba9350765c2784093a1cd4e";

/// Outputs of the model, in order (degrees; each an ensemble's mean, followed
/// in the same order by the members' spread): `tools/spine/train.py`'s
/// `TARGETS`, whose names the model file lists (checked at load). The back
/// group's first five are read (the trunk as a correction of the keypoint
/// trunk line), its two pitches only helped training; the joint group's hip
/// angle and knee flexion are read as corrections of the keypoint angles.
pub const OUTPUTS: [&str; 9] = [
    "lumbar_flexion_deg",
    "pelvic_tilt_deg",
    "rib_stack_deg",
    "hip_flexion_deg",
    "trunk_deg",
    "pelvis_pitch_deg",
    "thorax_pitch_deg",
    "hip_angle_deg",
    "knee_flexion_deg",
];

/// Column of the hip angle in [`OUTPUTS`].
const HIP_ANGLE: usize = 7;
/// Column of the knee flexion in [`OUTPUTS`].
const KNEE_FLEXION: usize = 8;

/// The model returns each output's mean over its members, then their spread.
const COLUMNS: usize = 2 * OUTPUTS.len();

/// Spread of the ensemble's lumbar, pelvis and rib readings (the largest of
/// the three, degrees) above which a frame's back is not read: the members
/// disagree where a frame is unlike the footage they learnt from (clothes
/// that hide the back's outline, an arm across it, a view they never saw).
/// With the shipped model the back is left empty on 8% of the frames of the
/// held-out rendered bodies and 4% of those in loose tops (each metric's
/// spread has its 95th percentile at 6.9–7.7° there; docs/spine_model.md).
pub const MAX_BACK_SPREAD_DEG: f64 = 6.0;

/// Largest camera obliquity (the clip's estimate, [`super::ClipView`]) at
/// which the back is read, °. Turned further from the side, the camera sees
/// the flank's edge rather than the back's midline: on the cross-validated
/// readings of the 358 training bodies (each clip read by members that never
/// saw its body), clips estimated at 30–35° still read lumbar and tilt better
/// than predicting zero (MAE 0.87 and 0.93 of it), clips at 35–40° worse
/// (1.28 and 1.36), and past 40° a clip without a back fault got one on
/// three clips of four (docs/metrics.md, "The back is not read from too far
/// round"). Beyond it the lumbar flexion, pelvic tilt and rib stack are left
/// empty (no back fault is judged) and the view check says so; hip flexion,
/// trunk, hip and knee are still read.
pub const MAX_BACK_OBLIQUITY_DEG: f64 = 35.0;

/// Whether a clip filmed at `obliquity_deg` off the side view shows the back
/// well enough to read it ([`MAX_BACK_OBLIQUITY_DEG`]).
pub fn back_in_view(obliquity_deg: f64) -> bool {
    obliquity_deg <= MAX_BACK_OBLIQUITY_DEG
}

/// Frames per inference call.
const BATCH: usize = 256;

/// Errors of the spine model.
#[derive(Debug, thiserror::Error)]
pub enum SpineModelError {
    /// The model file is missing, corrupted or cannot be loaded.
    #[error(transparent)]
    Load(#[from] PoseError),
    /// Inference failed or the model's output has an unexpected shape.
    #[error("spine model {}: {reason}", .path.display())]
    Inference { path: PathBuf, reason: String },
}

/// The model's reading of one frame, degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpineEstimate {
    pub lumbar_flexion_deg: f64,
    pub pelvic_tilt_deg: f64,
    pub rib_stack_deg: f64,
    pub hip_flexion_deg: f64,
    /// Trunk inclination of the joint centres (hip and shoulder), which the
    /// keypoint trunk line misses by a body- and view-dependent offset.
    pub trunk_deg: f64,
    /// Hip angle (trunk line against thigh, joint centres), where read: the
    /// keypoint hip lies in the fabric of a loose top.
    pub hip_angle_deg: Option<f64>,
    /// Knee flexion (joint centres), where read.
    pub knee_flexion_deg: Option<f64>,
    /// How much the ensemble's members disagree on the back (the largest
    /// spread of lumbar, pelvis and rib readings), degrees.
    pub back_spread_deg: f64,
}

impl SpineEstimate {
    /// Whether the back readings (lumbar, pelvis, rib cage, hip flexion) are
    /// trusted: the members agree within [`MAX_BACK_SPREAD_DEG`].
    pub fn back_is_read(&self) -> bool {
        self.back_spread_deg <= MAX_BACK_SPREAD_DEG
    }
}

/// Anything that reads the spine angles of a clip's frames: the model, or
/// readings made elsewhere (`hinge eval --spine-readings`, for scoring the
/// cross-validated predictions of bodies the model never saw).
pub trait SpineReader: Sync {
    /// Readings for the frames `frames` (video frame indices) whose inputs are
    /// `inputs` (parallel); `None` where there is none.
    fn read(&self, frames: &[u64], inputs: &[&SpineInput]) -> Result<Vec<Option<SpineEstimate>>, SpineModelError>;
}

impl SpineReader for SpineModel {
    fn read(&self, _frames: &[u64], inputs: &[&SpineInput]) -> Result<Vec<Option<SpineEstimate>>, SpineModelError> {
        Ok(self.estimate(inputs)?.into_iter().map(Some).collect())
    }
}

/// A readings file (`hinge eval --spine-readings`) that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", .path.display())]
pub struct ReadingsError {
    pub path: PathBuf,
    pub reason: String,
}

/// Readings made elsewhere, by frame index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FixedReadings(pub std::collections::BTreeMap<u64, SpineEstimate>);

impl SpineReader for FixedReadings {
    fn read(&self, frames: &[u64], _inputs: &[&SpineInput]) -> Result<Vec<Option<SpineEstimate>>, SpineModelError> {
        Ok(frames.iter().map(|f| self.0.get(f).copied()).collect())
    }
}

impl FixedReadings {
    /// Columns a readings file must have.
    const REQUIRED: [&'static str; 6] =
        ["frame", "lumbar_flexion_deg", "pelvic_tilt_deg", "rib_stack_deg", "hip_flexion_deg", "trunk_deg"];

    /// Reads a CSV file with the columns `frame`, `lumbar_flexion_deg`,
    /// `pelvic_tilt_deg`, `rib_stack_deg`, `hip_flexion_deg` and `trunk_deg`,
    /// and optionally `back_spread_deg` (0 when absent), `hip_angle_deg` and
    /// `knee_flexion_deg` (no correction of the keypoint angles when absent),
    /// in any order; every frame a non-negative integer, every value a finite
    /// number, and at least one row.
    pub fn from_csv(path: &Path) -> Result<FixedReadings, ReadingsError> {
        let err = |e: &dyn std::fmt::Display| ReadingsError { path: path.to_path_buf(), reason: e.to_string() };
        let mut r = csv::Reader::from_path(path).map_err(|e| err(&e))?;
        let header = r.headers().map_err(|e| err(&e))?.clone();
        let column = |name: &str| header.iter().position(|h| h.trim() == name);
        let mut required = [0usize; 6];
        for (slot, name) in required.iter_mut().zip(Self::REQUIRED) {
            *slot = column(name).ok_or_else(|| err(&format!("no column `{name}`")))?;
        }
        let (spread, hip, knee) = (column("back_spread_deg"), column("hip_angle_deg"), column("knee_flexion_deg"));
        let mut out = std::collections::BTreeMap::new();
        for (line, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| err(&e))?;
            let value = |i: usize| -> Result<f64, ReadingsError> {
                rec.get(i)
                    .and_then(|x| x.trim().parse::<f64>().ok())
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| err(&format!("row {}: `{}` is not a finite number", line + 2, &header[i])))
            };
            let optional = |i: Option<usize>| i.map(value).transpose();
            let frame = rec.get(required[0]).unwrap_or_default().trim();
            let frame = frame
                .parse::<u64>()
                .map_err(|_| err(&format!("row {}: `frame` is not a non-negative integer: `{frame}`", line + 2)))?;
            let v: Vec<f64> = required[1..].iter().map(|&i| value(i)).collect::<Result<_, _>>()?;
            let reading = SpineEstimate {
                lumbar_flexion_deg: v[0],
                pelvic_tilt_deg: v[1],
                rib_stack_deg: v[2],
                hip_flexion_deg: v[3],
                trunk_deg: v[4],
                hip_angle_deg: optional(hip)?,
                knee_flexion_deg: optional(knee)?,
                back_spread_deg: optional(spread)?.unwrap_or(0.0),
            };
            if out.insert(frame, reading).is_some() {
                return Err(err(&format!("row {}: frame {frame} is given twice", line + 2)));
            }
        }
        if out.is_empty() {
            return Err(err(&"no readings (a header only)"));
        }
        Ok(FixedReadings(out))
    }
}

/// A spine model with a memory of the frames it has read, for callers that
/// interpret overlapping windows again and again (`hinge live`): each frame
/// is run through the model once. A reading is keyed by the frame and its
/// input's scalars, so a frame whose input changes (the clip's facing
/// flipped) is read again.
#[derive(Debug)]
pub struct CachedReader<'a> {
    model: &'a SpineModel,
    cache: Mutex<std::collections::HashMap<(u64, u64), Option<SpineEstimate>>>,
}

impl<'a> CachedReader<'a> {
    pub fn new(model: &'a SpineModel) -> Self {
        Self { model, cache: Mutex::new(std::collections::HashMap::new()) }
    }

    /// Keeps the readings of the frames `keep` accepts (those still in the window).
    pub fn retain(&self, keep: impl Fn(u64) -> bool) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).retain(|(f, _), _| keep(*f));
    }

    /// The frame and its edge profiles (which side is the back: they change
    /// only with the clip's facing). A frame is read once, in the view known
    /// when it is first read, and again only if the facing flips: the
    /// camera's obliquity is a median over the sliding window and moves a
    /// little from one frame to the next, and with it the keypoint leans of
    /// every frame (measured in the view it defines); keying on their exact
    /// values would read the whole window again at every frame (~270 frames
    /// through the ensemble, ~60 ms), while a reading changes by far less
    /// than its error over such a step.
    fn key(frame: u64, input: &SpineInput) -> (u64, u64) {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for x in &input.profile {
            x.to_bits().hash(&mut h);
        }
        (frame, h.finish())
    }
}

impl SpineReader for CachedReader<'_> {
    fn read(&self, frames: &[u64], inputs: &[&SpineInput]) -> Result<Vec<Option<SpineEstimate>>, SpineModelError> {
        let keys: Vec<(u64, u64)> = frames.iter().zip(inputs).map(|(f, x)| Self::key(*f, x)).collect();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let missing: Vec<usize> = (0..keys.len()).filter(|&i| !cache.contains_key(&keys[i])).collect();
        if !missing.is_empty() {
            let batch: Vec<&SpineInput> = missing.iter().map(|&i| inputs[i]).collect();
            for (i, e) in missing.iter().zip(self.model.estimate(&batch)?) {
                cache.insert(keys[*i], Some(e));
            }
        }
        Ok(keys.iter().map(|k| cache.get(k).copied().flatten()).collect())
    }
}

/// The output names a model file's description lists (`tools/spine/train.py`
/// writes "hinge spine model: outputs NAME,NAME,... (degrees, …"), if any.
fn output_names(description: &str) -> Option<Vec<&str>> {
    let rest = description.split_once("outputs ")?.1;
    let list = rest.split_once(' ').map_or(rest, |(list, _)| list);
    Some(list.split(',').collect())
}

/// A loaded spine model.
#[derive(Debug)]
pub struct SpineModel {
    session: Mutex<Session>,
    path: PathBuf,
}

impl SpineModel {
    /// Loads the bundled model from the model search directories (see
    /// [`model_search_dirs`]), checking its SHA-256.
    pub fn load_bundled(runtime: &Runtime, models_dir: Option<&Path>) -> Result<SpineModel, SpineModelError> {
        let dirs = model_search_dirs(models_dir);
        let path = dirs
            .iter()
            .map(|d| d.join(SPINE_MODEL_FILE))
            .find(|p| p.is_file())
            .unwrap_or_else(|| dirs.first().cloned().unwrap_or_default().join(SPINE_MODEL_FILE));
        Self::load(runtime, &path, Some(SPINE_MODEL_SHA256))
    }

    /// Loads a model file (a hash is checked when given).
    pub fn load(runtime: &Runtime, path: &Path, sha256: Option<&str>) -> Result<SpineModel, SpineModelError> {
        let bytes = read_model(path, sha256)?;
        let session = build_session(runtime, path, &bytes, SessionOptions::default())?;
        let description = session.metadata().ok().and_then(|m| m.description()).unwrap_or_default();
        if output_names(&description) != Some(OUTPUTS.to_vec()) {
            return Err(SpineModelError::Inference {
                path: path.to_path_buf(),
                reason: format!(
                    "the model does not list the outputs hinge reads ({}); its description: {description:?}",
                    OUTPUTS.join(",")
                ),
            });
        }
        Ok(SpineModel { session: Mutex::new(session), path: path.to_path_buf() })
    }

    /// The model file in use.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Readings for a batch of inputs, in order.
    pub fn estimate(&self, inputs: &[&SpineInput]) -> Result<Vec<SpineEstimate>, SpineModelError> {
        let fail = |reason: String| SpineModelError::Inference { path: self.path.clone(), reason };
        let mut out = Vec::with_capacity(inputs.len());
        let mut crops: Vec<f32> = Vec::with_capacity(BATCH.min(inputs.len()) * CROP_ROWS * CROP_COLS);
        let mut scalars: Vec<f32> = Vec::with_capacity(BATCH.min(inputs.len()) * SCALAR_COUNT);
        let mut profiles: Vec<f32> = Vec::with_capacity(BATCH.min(inputs.len()) * 4 * PROFILE_STATIONS);
        // a poisoned lock only means another thread panicked mid-run; the session itself is intact
        let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        for chunk in inputs.chunks(BATCH) {
            crops.clear();
            scalars.clear();
            profiles.clear();
            for x in chunk {
                crops.extend_from_slice(&x.crop);
                scalars.extend_from_slice(&x.scalars);
                profiles.extend_from_slice(&x.profile);
            }
            let n = chunk.len();
            let crop_t = TensorRef::from_array_view(([n, 1, CROP_ROWS, CROP_COLS], crops.as_slice()))
                .map_err(|e| fail(e.to_string()))?;
            let scalar_t =
                TensorRef::from_array_view(([n, SCALAR_COUNT], scalars.as_slice())).map_err(|e| fail(e.to_string()))?;
            let profile_t = TensorRef::from_array_view(([n, 4, PROFILE_STATIONS], profiles.as_slice()))
                .map_err(|e| fail(e.to_string()))?;
            let outputs = session
                .run(ort::inputs!["crop" => crop_t, "scalars" => scalar_t, "profile" => profile_t])
                .map_err(|e| fail(e.to_string()))?;
            let (shape, values) = outputs["angles"].try_extract_tensor::<f32>().map_err(|e| fail(e.to_string()))?;
            let dims: Vec<i64> = shape.iter().copied().collect();
            if dims != [n as i64, COLUMNS as i64] {
                return Err(fail(format!("output shape {dims:?}, expected [{n}, {COLUMNS}]")));
            }
            let spread = OUTPUTS.len();
            for row in values.chunks(COLUMNS) {
                out.push(SpineEstimate {
                    lumbar_flexion_deg: row[0] as f64,
                    pelvic_tilt_deg: row[1] as f64,
                    rib_stack_deg: row[2] as f64,
                    hip_flexion_deg: row[3] as f64,
                    trunk_deg: row[4] as f64,
                    hip_angle_deg: Some(row[HIP_ANGLE] as f64),
                    knee_flexion_deg: Some(row[KNEE_FLEXION] as f64),
                    back_spread_deg: row[spread..spread + 3].iter().fold(0.0f32, |a, b| a.max(*b)) as f64,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinematics::spine_input::{OBLIQUITY_SCALAR, SCALAR_COUNT};

    fn input(back: f32, obliquity_deg: f32, trunk_lean: f32) -> SpineInput {
        let mut scalars = [0.0; SCALAR_COUNT];
        scalars[0] = trunk_lean / 90.0;
        scalars[OBLIQUITY_SCALAR] = obliquity_deg / 90.0;
        let mut profile = vec![back; PROFILE_STATIONS];
        profile.extend(vec![0.5 - back; PROFILE_STATIONS]);
        profile.extend(vec![1.0; 2 * PROFILE_STATIONS]);
        SpineInput { crop: vec![0.0; CROP_ROWS * CROP_COLS], scalars, profile }
    }

    #[test]
    fn output_names_are_read_from_the_model_description() {
        let d = format!("hinge spine model: outputs {} (degrees, the fold models' mean), then …", OUTPUTS.join(","));
        assert_eq!(output_names(&d), Some(OUTPUTS.to_vec()));
        assert_eq!(output_names("hinge spine model: outputs a,b"), Some(vec!["a", "b"]));
        assert_eq!(output_names(""), None);
        assert_eq!(OUTPUTS[HIP_ANGLE], "hip_angle_deg");
        assert_eq!(OUTPUTS[KNEE_FLEXION], "knee_flexion_deg");
    }

    #[test]
    fn readings_files_are_read_by_column_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let write = |text: &str| std::fs::write(&path, text).unwrap();
        // the columns in any order; the joint angles optional
        write(
            "trunk_deg,frame,hip_flexion_deg,rib_stack_deg,pelvic_tilt_deg,lumbar_flexion_deg,knee_flexion_deg\n\
               40,3,60,5,-2,7,25\n",
        );
        let r = FixedReadings::from_csv(&path).unwrap();
        let e = r.0[&3];
        assert_eq!((e.lumbar_flexion_deg, e.pelvic_tilt_deg, e.trunk_deg), (7.0, -2.0, 40.0));
        assert_eq!((e.hip_angle_deg, e.knee_flexion_deg, e.back_spread_deg), (None, Some(25.0), 0.0));
        write("frame,lumbar_flexion_deg,pelvic_tilt_deg,rib_stack_deg,trunk_deg\n1,2,3,4,5\n");
        let err = FixedReadings::from_csv(&path).unwrap_err().to_string();
        assert!(err.contains("no column `hip_flexion_deg`") && err.contains("r.csv"), "{err}");
        let header = "frame,lumbar_flexion_deg,pelvic_tilt_deg,rib_stack_deg,hip_flexion_deg,trunk_deg\n";
        for (rows, cause) in [
            ("1,2,3,nan,5,6\n", "row 2: `rib_stack_deg` is not a finite number"),
            ("0,2,3,4,5,6\n-1,2,3,4,5,6\n", "row 3: `frame` is not a non-negative integer: `-1`"),
            ("2.5,2,3,4,5,6\n", "row 2: `frame` is not a non-negative integer: `2.5`"),
            ("abc,2,3,4,5,6\n", "row 2: `frame` is not a non-negative integer: `abc`"),
            ("0,2,3,4,5,6\n0,2,3,4,5,7\n", "row 3: frame 0 is given twice"),
            ("", "no readings"),
        ] {
            write(&format!("{header}{rows}"));
            let err = FixedReadings::from_csv(&path).unwrap_err().to_string();
            assert!(err.contains(cause) && err.starts_with(&path.display().to_string()), "{rows:?}: {err}");
        }
    }

    /// A frame already read keeps its reading when the window's view moves
    /// (obliquity, and with it the leans), and is read again when the
    /// facing flips (its profiles swap sides).
    #[test]
    fn cache_key_follows_the_facing_not_the_drifting_view() {
        let a = input(0.2, 20.0, 40.0);
        let drifted = input(0.2, 21.3, 40.8);
        let flipped = input(0.3, 20.0, 40.0);
        assert_eq!(CachedReader::key(7, &a), CachedReader::key(7, &drifted));
        assert_ne!(CachedReader::key(7, &a), CachedReader::key(7, &flipped));
        assert_ne!(CachedReader::key(7, &a), CachedReader::key(8, &a));
    }
}
