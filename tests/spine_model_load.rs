//! The spine model file and hinge agree on what the model gives: the bundled
//! model lists hinge's outputs in order and reads a frame into every field,
//! and a model that does not list them is refused at load with one line
//! naming the file (not read with its columns taken for others).

use std::path::Path;

use hinge::kinematics::spine_input::{SpineInput, CROP_COLS, CROP_ROWS, PROFILE_STATIONS, SCALAR_COUNT};
use hinge::kinematics::spine_model::{SpineModel, SPINE_MODEL_SHA256};
use hinge::pose::model::Runtime;

#[test]
fn the_bundled_model_loads_and_a_model_without_hinges_outputs_is_refused() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let runtime = Runtime::init(None).expect("ONNX Runtime");
    let model = SpineModel::load(&runtime, &models.join("spine_back.onnx"), Some(SPINE_MODEL_SHA256))
        .expect("the bundled spine model loads");
    // a standing side view: a back edge a little behind the axis, every station found
    let mut profile = vec![0.18; PROFILE_STATIONS];
    profile.extend(vec![0.22; PROFILE_STATIONS]);
    profile.extend(vec![1.0; 2 * PROFILE_STATIONS]);
    let input = SpineInput { crop: vec![0.0; CROP_ROWS * CROP_COLS], scalars: [0.0; SCALAR_COUNT], profile };
    let e = model.estimate(&[&input]).expect("a reading");
    assert_eq!(e.len(), 1);
    let e = e[0];
    assert!(e.hip_angle_deg.is_some_and(f64::is_finite) && e.knee_flexion_deg.is_some_and(f64::is_finite), "{e:?}");
    assert!(e.trunk_deg.is_finite() && e.back_spread_deg >= 0.0, "{e:?}");

    // another ONNX file (the pose detector) in the spine model's place
    let other = models.join("pose_detection.onnx");
    let err = SpineModel::load(&runtime, &other, None).expect_err("refused").to_string();
    assert!(err.contains("pose_detection.onnx") && err.contains("does not list the outputs hinge reads"), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");
}
