//! A custom `--model PATH.onnx` whose outputs are not BlazePose's sizes: one
//! clear error naming the model file and the output, never a panic — whether
//! the model declares its output shapes (refused when loaded) or leaves them
//! dynamic (refused on the first run).
//!
//! The models are written here, a few hundred bytes of ONNX: every output is a
//! `ConstantOfShape`, the input is `input_1` as BlazePose's.

mod common;
use common::{repo, run, stderr};

const CLIP: &str = "samples/dev/dev_12_idle_side_facing_right.mp4";

// ---- a minimal protobuf writer, enough for an ONNX ModelProto ----------------------------
fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}
fn field_varint(field: u64, v: u64, out: &mut Vec<u8>) {
    varint(field << 3, out);
    varint(v, out);
}
fn field_bytes(field: u64, bytes: &[u8], out: &mut Vec<u8>) {
    varint((field << 3) | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// TensorProto: an int64 vector, or one float.
fn tensor_i64(name: &str, values: &[i64]) -> Vec<u8> {
    let mut t = vec![];
    field_varint(1, values.len() as u64, &mut t); // dims
    field_varint(2, 7, &mut t); // INT64
    let mut packed = vec![];
    for &v in values {
        varint(v as u64, &mut packed);
    }
    field_bytes(7, &packed, &mut t);
    field_bytes(8, name.as_bytes(), &mut t);
    t
}
fn tensor_f32(dims: &[i64], values: &[f32]) -> Vec<u8> {
    let mut t = vec![];
    for &d in dims {
        field_varint(1, d as u64, &mut t);
    }
    field_varint(2, 1, &mut t); // FLOAT
    field_bytes(4, &values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>(), &mut t);
    t
}

/// BlazePose's 39 landmarks (x, y, z, visibility, presence in crop pixels) of
/// someone standing in the middle of the crop, so that the back's outline is
/// looked for in the mask.
fn standing_landmarks() -> Vec<f32> {
    let y_of = |k: usize| match k {
        0..=10 => 40.0,
        11..=22 => 80.0 + (k % 3) as f32 * 10.0,
        23 | 24 | 33 => 150.0,
        25 | 26 => 195.0,
        27..=32 => 235.0,
        34 => 20.0,
        _ => 128.0,
    };
    (0..39).flat_map(|k| [128.0 + (k % 2) as f32 * 4.0, y_of(k), 0.0, 10.0, 10.0]).collect()
}

/// ValueInfoProto of a tensor of `elem_type` (1 float, 7 int64); `None` dims are dynamic.
fn value_info(name: &str, elem_type: u64, dims: &[Option<i64>]) -> Vec<u8> {
    let mut shape = vec![];
    for (i, d) in dims.iter().enumerate() {
        let mut dim = vec![];
        match d {
            Some(v) => field_varint(1, *v as u64, &mut dim),
            None => field_bytes(2, format!("d{i}").as_bytes(), &mut dim),
        }
        field_bytes(1, &dim, &mut shape);
    }
    let mut tensor_type = vec![];
    field_varint(1, elem_type, &mut tensor_type);
    field_bytes(2, &shape, &mut tensor_type);
    let mut ty = vec![];
    field_bytes(1, &tensor_type, &mut ty);
    let mut vi = vec![];
    field_bytes(1, name.as_bytes(), &mut vi);
    field_bytes(2, &ty, &mut vi);
    vi
}

/// A landmark model with BlazePose's input and outputs `(name, shape, value)`;
/// the shapes are declared in the graph when `declare`, else left dynamic: the
/// shape tensors are then also graph inputs (overridable, so ONNX Runtime
/// cannot infer the output sizes when it loads the model).
fn landmark_model(outputs: &[(&str, &[i64], f32)], declare: bool) -> Vec<u8> {
    let mut graph = vec![];
    for (name, dims, value) in outputs {
        let shape_name = format!("shape_{name}");
        // the landmarks are a Constant, every other output a ConstantOfShape filled with `value`
        let landmarks = *name == "Identity";
        let mut attr = vec![];
        field_bytes(1, b"value", &mut attr);
        if landmarks {
            field_bytes(5, &tensor_f32(dims, &standing_landmarks()), &mut attr);
        } else {
            field_bytes(5, &tensor_f32(&[1], &[*value]), &mut attr);
        }
        field_varint(20, 4, &mut attr); // TENSOR
        let mut node = vec![];
        if !landmarks {
            field_bytes(1, shape_name.as_bytes(), &mut node);
        }
        field_bytes(2, name.as_bytes(), &mut node);
        field_bytes(3, format!("make_{name}").as_bytes(), &mut node);
        field_bytes(4, if landmarks { &b"Constant"[..] } else { &b"ConstantOfShape"[..] }, &mut node);
        field_bytes(5, &attr, &mut node);
        field_bytes(1, &node, &mut graph);
    }
    field_bytes(2, b"fake_landmarks", &mut graph);
    for (name, dims, _) in outputs.iter().filter(|o| o.0 != "Identity") {
        field_bytes(5, &tensor_i64(&format!("shape_{name}"), dims), &mut graph);
    }
    field_bytes(11, &value_info("input_1", 1, &[Some(1), Some(256), Some(256), Some(3)]), &mut graph);
    if !declare {
        for (name, dims, _) in outputs.iter().filter(|o| o.0 != "Identity") {
            field_bytes(11, &value_info(&format!("shape_{name}"), 7, &[Some(dims.len() as i64)]), &mut graph);
        }
    }
    for (name, dims, _) in outputs {
        let d: Vec<Option<i64>> = dims.iter().map(|&v| declare.then_some(v)).collect();
        field_bytes(12, &value_info(name, 1, &d), &mut graph);
    }
    let mut model = vec![];
    field_varint(1, 8, &mut model); // ir_version
    let mut opset = vec![];
    field_bytes(1, b"", &mut opset);
    field_varint(2, 13, &mut opset);
    field_bytes(8, &opset, &mut model);
    field_bytes(7, &graph, &mut model);
    model
}

/// BlazePose's landmark outputs with the mask replaced by `mask`.
fn outputs_with_mask(mask: &'static [i64]) -> Vec<(&'static str, &'static [i64], f32)> {
    vec![
        ("Identity", &[1, 195], 0.0),
        ("Identity_1", &[1, 1], 1.0),
        ("Identity_2", mask, 5.0),
        ("Identity_3", &[1, 64, 64, 39], 0.0),
        ("Identity_4", &[1, 117], 0.0),
    ]
}

fn analyze_with(model: &std::path::Path, dir: &std::path::Path) -> std::process::Output {
    let mut c = common::hinge();
    c.arg("--model").arg(model).arg("analyze").arg(repo(CLIP)).arg("--out").arg(dir.join("o")).arg("--quiet");
    run(c)
}

fn assert_clear_model_error(o: &std::process::Output, needles: &[&str]) {
    let err = stderr(o);
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(o.status.code(), Some(1), "exit code; stderr: {err}");
    assert!(err.starts_with("hinge: error:"), "one clear error line: {err}");
    for n in needles {
        assert!(err.contains(n), "stderr should mention `{n}`: {err}");
    }
}

#[test]
fn a_mask_of_another_size_is_refused_at_run_time_when_the_model_does_not_declare_it() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("my_landmarks.onnx");
    std::fs::write(&model, landmark_model(&outputs_with_mask(&[1, 128, 128, 1]), false)).unwrap();
    let o = analyze_with(&model, dir.path());
    assert_clear_model_error(&o, &["my_landmarks.onnx", "Identity_2", "segmentation mask", "16384"]);
}

#[test]
fn a_mask_of_another_size_is_refused_when_the_model_declares_it() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("declared.onnx");
    std::fs::write(&model, landmark_model(&outputs_with_mask(&[1, 256, 256, 2]), true)).unwrap();
    let o = analyze_with(&model, dir.path());
    assert_clear_model_error(&o, &["declared.onnx", "Identity_2", "[1, 256, 256, 2]", "expected 65536"]);
}

#[test]
fn a_model_with_blazepose_sizes_runs() {
    // the same fake model with the right sizes is accepted: the checks refuse sizes, not fakes
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("right_sizes.onnx");
    std::fs::write(&model, landmark_model(&outputs_with_mask(&[1, 256, 256, 1]), false)).unwrap();
    let o = analyze_with(&model, dir.path());
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(!err.contains("Identity_2"), "{err}");
}
