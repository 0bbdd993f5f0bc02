//! Renders the figure of `docs/metrics.md`: a frame with the person mask,
//! the torso axis and the spine model's edge profiles (back and front).
//!
//! Not part of the normal test run (it writes into docs/):
//! `cargo test --release --test eval_figure -- --ignored`
//! Environment: `FIG_CLIP` (video path), `FIG_FRAMES` (comma-separated frame
//! indices), `FIG_OUT` (output PNG prefix).

use hinge::kinematics::geometry::V2;
use hinge::kinematics::{spine_input, BodyFrame, ClipView};
use hinge::pose::model::Runtime;
use hinge::pose::{PoseConfig, PoseEstimator};
use hinge::video::{Frame, VideoSource};
use opencv::core::{Mat, Point, Scalar, Vec3b};
use opencv::imgproc;
use opencv::prelude::*;

fn pt(p: V2) -> Point {
    Point::new(p.x.round() as i32, p.y.round() as i32)
}

#[test]
#[ignore = "writes docs/figures; run explicitly"]
fn render_outline_figure() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let clip = std::env::var("FIG_CLIP")
        .unwrap_or_else(|_| root.join("samples/dev/dev_04_rounded_lumbar_side_facing_right.mp4").display().to_string());
    let wanted: Vec<u64> = std::env::var("FIG_FRAMES")
        .unwrap_or_else(|_| "5,34".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let out = std::env::var("FIG_OUT").unwrap_or_else(|_| root.join("docs/figures/outline").display().to_string());
    let runtime = Runtime::init(None).expect("onnx runtime");
    let cfg = PoseConfig { keep_segmentation: true, ..PoseConfig::default() };
    let mut est = PoseEstimator::new(&runtime, cfg).expect("estimator");
    let mut src = VideoSource::open_file(std::path::Path::new(&clip)).expect("video");
    let mut frame = Frame::default();
    let mut kept: Vec<(u64, Mat, hinge::pose::Pose)> = Vec::new();
    let mut bodies = Vec::new();
    while src.read(&mut frame).expect("decode") {
        let r = est.process(&frame.image, frame.time_s).expect("pose");
        if let Some(p) = r.pose {
            bodies.push(BodyFrame::from_pose(&p));
            if wanted.contains(&frame.index) {
                kept.push((frame.index, frame.image.clone(), p));
            }
        }
    }
    let view = ClipView::estimate(bodies.iter()).expect("view");
    for (index, image, pose) in kept {
        let body = BodyFrame::from_pose(&pose);
        let (w, h) = (image.cols() as u32, image.rows() as u32);
        let mask = pose.segmentation.as_ref().expect("mask").to_frame(w, h).expect("mask to frame");
        let mut img = image.clone();
        // tint the person blue where p >= 0.5
        for y in 0..h as i32 {
            for x in 0..w as i32 {
                let p = *mask.at_2d::<f32>(y, x).unwrap();
                if p >= 0.5 {
                    let px = img.at_2d_mut::<Vec3b>(y, x).unwrap();
                    px[0] = ((px[0] as u16 + 255) / 2) as u8;
                }
            }
        }
        let o = body.outline.as_ref().expect("outline");
        imgproc::line(
            &mut img,
            pt(o.hip_px),
            pt(o.shoulder_px),
            Scalar::new(0.0, 255.0, 255.0, 0.0),
            1,
            imgproc::LINE_AA,
            0,
        )
        .unwrap();
        // the spine model's edge profiles: the back (red) and the front (green) at every station
        let crop = body.crop.as_ref().expect("torso crop");
        let l = crop.axis_px();
        let u = (crop.shoulder_px - crop.hip_px).scale(1.0 / l);
        let n = V2::new(-u.y, u.x);
        let back_sign = spine_input::dorsal_sign(view.facing);
        for (edges, sign) in [(&crop.edge_plus, 1.0), (&crop.edge_minus, -1.0)] {
            let color =
                if sign == back_sign { Scalar::new(0.0, 0.0, 255.0, 0.0) } else { Scalar::new(0.0, 200.0, 0.0, 0.0) };
            for (k, e) in edges.iter().enumerate() {
                if let Some(d) = e {
                    let t = spine_input::profile_station(k);
                    let p = crop.hip_px + u.scale(t * l) + n.scale(sign * *d as f64 * l);
                    imgproc::circle(&mut img, pt(p), 2, color, -1, imgproc::LINE_AA, 0).unwrap();
                }
            }
        }
        // crop around the torso and enlarge
        let pts: Vec<V2> = [o.side_points_px(1.0), o.side_points_px(-1.0)].concat().into_iter().map(|p| p.1).collect();
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in &pts {
            (x0, y0, x1, y1) = (x0.min(p.x), y0.min(p.y), x1.max(p.x), y1.max(p.y));
        }
        let m = 40.0;
        let (x0, y0) = ((x0 - m).max(0.0) as i32, (y0 - m).max(0.0) as i32);
        let (x1, y1) = ((x1 + m).min(w as f64 - 1.0) as i32, (y1 + m).min(h as f64 - 1.0) as i32);
        let roi = Mat::roi(&img, opencv::core::Rect::new(x0, y0, x1 - x0, y1 - y0)).unwrap().try_clone().unwrap();
        let mut big = Mat::default();
        imgproc::resize(&roi, &mut big, opencv::core::Size::new(0, 0), 3.0, 3.0, imgproc::INTER_CUBIC).unwrap();
        let img = big;
        let path = format!("{out}_{index}.png");
        std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
        let mut rgb = Mat::default();
        imgproc::cvt_color_def(&img, &mut rgb, imgproc::COLOR_BGR2RGB).unwrap();
        image::save_buffer(
            &path,
            rgb.data_bytes().unwrap(),
            rgb.cols() as u32,
            rgb.rows() as u32,
            image::ExtendedColorType::Rgb8,
        )
        .expect("write png");
        eprintln!("wrote {path}");
    }
}
