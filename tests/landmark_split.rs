//! The landmark model split at its mask branch (head: landmarks and the
//! values the branch reads; tail: the mask from them) gives what the whole
//! graph gives, holds each weight once, and the head is as cheap as the
//! pruned copy it replaces.

use std::path::Path;

use hinge::pose::model::{build_session, Runtime, SessionOptions};
use hinge::pose::prune::{prune_outputs, split_outputs};
use ndarray::Array4;
use ort::session::{Session, SessionInputValue};
use ort::value::TensorRef;

const MASK: &str = "Identity_2";
const LANDMARKS: [&str; 4] = ["Identity", "Identity_1", "Identity_3", "Identity_4"];

fn values(outputs: &ort::session::SessionOutputs<'_>, name: &str) -> Vec<f32> {
    outputs[name].try_extract_tensor::<f32>().expect(name).1.to_vec()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// A deterministic picture-like input: smooth gradients plus a pattern.
fn input() -> Array4<f32> {
    Array4::from_shape_fn((1, 256, 256, 3), |(_, y, x, c)| {
        let v = (x as f32 / 255.0) * 0.6 + (y as f32 / 255.0) * 0.3 + 0.1 * (((x / 16 + y / 16 + c) % 3) as f32 / 2.0);
        v.clamp(0.0, 1.0)
    })
}

fn run(session: &mut Session, input: &Array4<f32>) -> Vec<(String, Vec<f32>)> {
    let names: Vec<String> = session.outputs().iter().map(|o| o.name().to_string()).collect();
    let outputs = session.run(ort::inputs!["input_1" => TensorRef::from_array_view(input).unwrap()]).unwrap();
    names.iter().map(|n| (n.clone(), values(&outputs, n))).collect()
}

#[test]
fn split_landmark_graph_gives_what_the_whole_graph_gives() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("models/pose_landmark_full.onnx");
    let bytes = std::fs::read(&path).unwrap();
    let runtime = Runtime::init(None).expect("ONNX Runtime");
    let options = SessionOptions::default();
    let mut whole = build_session(&runtime, &path, &bytes, options).unwrap();
    let split = split_outputs(&bytes, &LANDMARKS, &[MASK]).expect("the bundled model splits");
    assert_eq!(split.boundary.len(), 2, "the mask branch reads two feature maps: {:?}", split.boundary);
    // each weight once: the head and the tail together are no larger than the whole
    assert!(split.head.len() + split.tail.len() <= bytes.len() + 4096, "weights held twice");
    assert!(split.tail.len() < 64 * 1024, "the tail holds only the mask branch ({} bytes)", split.tail.len());
    let pruned = prune_outputs(&bytes, &LANDMARKS).unwrap();
    assert!(split.head.len() < pruned.len() + 4096, "the head is the pruned graph and its two extra outputs");

    let mut head = build_session(&runtime, &path, &split.head, options).unwrap();
    let mut tail = build_session(&runtime, &path, &split.tail, options).unwrap();
    let x = input();
    let expected = run(&mut whole, &x);
    let head_out = head.run(ort::inputs!["input_1" => TensorRef::from_array_view(&x).unwrap()]).unwrap();
    for name in LANDMARKS {
        let want = &expected.iter().find(|(n, _)| n == name).unwrap().1;
        let d = max_diff(&values(&head_out, name), want);
        assert!(d <= 1e-4, "output {name}: head differs from the whole graph by {d}");
    }
    let inputs: Vec<(&str, SessionInputValue<'_>)> =
        split.boundary.iter().map(|b| (b.as_str(), (&head_out[b.as_str()]).into())).collect();
    let tail_out = tail.run(inputs).unwrap();
    let want = &expected.iter().find(|(n, _)| n == MASK).unwrap().1;
    let mask = values(&tail_out, MASK);
    // the mask is logits; the two graphs fuse its first layers differently, which
    // moves a logit by a few thousandths at most: no pixel changes side
    let d = max_diff(&mask, want);
    let range = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let flipped = mask.iter().zip(want).filter(|(a, b)| (**a > 0.0) != (**b > 0.0) && b.abs() > 0.01).count();
    eprintln!("mask: max difference {d} (logits up to {range}), {flipped} pixels on the other side");
    assert!(d <= 1e-5 * range.max(1.0), "mask from the tail differs from the whole graph's by {d}");
    assert_eq!(flipped, 0, "pixels of the mask changed side");
    assert!(mask.iter().any(|&v| v.abs() > 1e-3), "the mask is not all zeros");
}
