//! The configuration parser (`hinge::config::Config::from_toml_str`) on arbitrary text: see `hinge_fuzz::config_toml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hinge_fuzz::config_toml(data));
