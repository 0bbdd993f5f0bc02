//! Per-operation timings of the hot stages around the model (a benchmark, not
//! a test): `cargo bench --bench stages`. The model itself and the whole
//! pipeline are timed by `hinge bench` / `make bench`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use opencv::core::{Mat, Point, Scalar, CV_8UC3};
use opencv::prelude::*;

use hinge::kinematics::geometry::V2;
use hinge::kinematics::outline;
use hinge::pose::prune::prune_outputs;
use hinge::pose::roi::{PointPx, Roi};
use hinge::pose::segmentation::SegmentationMask;
use hinge::pose::tensor::{Border, Normalization, TensorBuilder};
use hinge::report::text::TextPainter;

/// A 640x480 BGR frame with some structure (a gradient).
fn frame() -> Mat {
    let mut m = Mat::new_rows_cols_with_default(480, 640, CV_8UC3, Scalar::all(0.0)).unwrap();
    let data = m.data_bytes_mut().unwrap();
    for (i, px) in data.chunks_exact_mut(3).enumerate() {
        let (x, y) = (i % 640, i / 640);
        px.copy_from_slice(&[(x / 3) as u8, (y / 2) as u8, ((x + y) / 5) as u8]);
    }
    m
}

fn tensor_fill(c: &mut Criterion) {
    let f = frame();
    let roi = Roi { center: PointPx::new(330.0, 250.0), size_px: 420.0, rotation_rad: 0.3 };
    let mut builder = TensorBuilder::new(256, Normalization::UNIT, Border::Replicate);
    let mut tensor = vec![0.0f32; 256 * 256 * 3];
    c.bench_function("landmark tensor from a 640x480 frame (rotated ROI)", |b| {
        b.iter(|| builder.fill(black_box(&f), &roi, &mut tensor).unwrap())
    });
}

fn outline_extract(c: &mut Criterion) {
    // a person-shaped blob: probability 1 inside an ellipse around the torso
    let roi = Roi { center: PointPx::new(320.0, 240.0), size_px: 400.0, rotation_rad: 0.0 };
    let mut logits = vec![-8.0f32; 256 * 256];
    for y in 0..256 {
        for x in 0..256 {
            let (dx, dy) = ((x as f32 - 128.0) / 40.0, (y as f32 - 128.0) / 90.0);
            if dx * dx + dy * dy < 1.0 {
                logits[y * 256 + x] = 8.0;
            }
        }
    }
    let mask = SegmentationMask::new(logits, roi);
    c.bench_function("torso outline from the mask (27 stations, both sides)", |b| {
        b.iter(|| outline::extract(black_box(&mask), V2::new(320.0, 320.0), V2::new(320.0, 170.0)))
    });
}

fn text(c: &mut Criterion) {
    let painter = TextPainter::default();
    let mut img = frame();
    let colour = Scalar::new(255.0, 255.0, 255.0, 0.0);
    c.bench_function("overlay label, cached (\"trunk 45°\")", |b| {
        b.iter(|| painter.draw(&mut img, black_box("trunk 45\u{b0}"), Point::new(100, 100), 0.75, 2, colour, true))
    });
    c.bench_function("overlay label, drawn directly (OpenCV putText, outline + fill)", |b| {
        b.iter(|| {
            opencv::imgproc::put_text(
                &mut img,
                "trunk 45",
                Point::new(100, 100),
                0,
                0.75,
                Scalar::all(0.0),
                5,
                16,
                false,
            )
            .unwrap();
            opencv::imgproc::put_text(&mut img, "trunk 45", Point::new(100, 100), 0, 0.75, colour, 2, 16, false)
                .unwrap();
        })
    });
}

fn prune(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/pose_landmark_full.onnx");
    let Ok(model) = std::fs::read(path) else { return };
    let keep = ["Identity", "Identity_1", "Identity_3", "Identity_4"];
    c.bench_function("prune the full landmark model of its mask branch", |b| {
        b.iter(|| prune_outputs(black_box(&model), &keep).unwrap())
    });
}

criterion_group!(stages, tensor_fill, outline_extract, text, prune);
criterion_main!(stages);
