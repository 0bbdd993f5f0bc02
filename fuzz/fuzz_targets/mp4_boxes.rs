//! The MP4 box walker (`hinge::video::mp4`) on arbitrary bytes: see `hinge_fuzz::mp4_boxes`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hinge_fuzz::mp4_boxes(data));
