//! What the fuzz targets check, one function per target. The stable
//! regression test `tests/fuzz_regressions.rs` includes this file, so every
//! input kept under `tests/fixtures/fuzz/` is judged by the same rules in
//! `cargo test` as under the fuzzer. Each function panics (a finding) when a
//! property does not hold; it returns quietly for inputs the library refuses
//! as it should.

use std::io::{Cursor, Read, Seek, SeekFrom};

use hinge::config::Config;
use hinge::faults::Fault;
use hinge::report::style::{parse_hex, ReportStyle};
use hinge::video::mp4;
use hinge::video::Orientation;

/// Most reads one walk of a file of `len` bytes may make: linear in the file.
///
/// Every step from box to box moves forward by at least one 8-byte header
/// inside its container, and a walk makes a handful of passes over any byte
/// (the top level, `moov`, each `trak` twice, each `mdia`), each box header
/// taking at most two reads; a quadratic walk or a loop goes past this long
/// before the walker's own box budget would stop it.
pub fn mp4_read_bound(len: u64) -> u64 {
    16 * (len / 8 + 1) + 4
}

/// A reader over a byte slice that checks every read the MP4 walker asks for:
/// none may reach past `limit` (the length the walker was given, which may be
/// shorter than the slice), and there may be no more than [`mp4_read_bound`].
pub struct WatchedReader<'a> {
    inner: Cursor<&'a [u8]>,
    limit: u64,
    reads: u64,
    max_reads: u64,
}

impl<'a> WatchedReader<'a> {
    /// A reader over `data` for a walker told that the file is `limit` bytes long.
    pub fn new(data: &'a [u8], limit: u64) -> Self {
        WatchedReader { inner: Cursor::new(data), limit, reads: 0, max_reads: mp4_read_bound(limit) }
    }
}

impl Read for WatchedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let at = self.inner.position();
        self.reads += 1;
        assert!(
            self.reads <= self.max_reads,
            "the walk of {} bytes made more than {} reads (unbounded or quadratic work)",
            self.limit,
            self.max_reads
        );
        assert!(
            at.saturating_add(buf.len() as u64) <= self.limit,
            "read of {} bytes at {at} reaches past the {} bytes the walker was given",
            buf.len(),
            self.limit
        );
        self.inner.read(buf)
    }
}

impl Seek for WatchedReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(to)
    }
}

/// The walker's two answers about the first `len` bytes of `data`.
fn walk(data: &[u8], len: u64) -> (Option<Orientation>, Option<bool>) {
    let orientation = mp4::display_orientation_in(&mut WatchedReader::new(data, len), len);
    let has_video = mp4::has_video_track_in(&mut WatchedReader::new(data, len), len);
    (orientation, has_video)
}

/// The MP4 box walker on arbitrary bytes: no panic, bounded work, every read
/// within the length it was given, the same answer for a prefix whether or not
/// the bytes after it are there, and answers that agree with each other.
pub fn mp4_boxes(data: &[u8]) {
    let len = data.len() as u64;
    let (orientation, has_video) = walk(data, len);
    if let Some(o) = orientation {
        assert_eq!(has_video, Some(true), "an orientation {o:?} was read, so the file has a video track");
        let (a, b, c, d) = o.matrix();
        assert_eq!(Orientation::from_matrix(a.into(), b.into(), c.into(), d.into()), o);
        assert!([0, 90, 180, 270].contains(&o.rotation_cw_deg()), "{o:?}");
    }
    // the first three quarters, told the shorter length while the rest is still readable
    let prefix_len = len - len / 4;
    let prefix = &data[..prefix_len as usize];
    assert_eq!(
        walk(data, prefix_len),
        walk(prefix, prefix_len),
        "the answer for the first {prefix_len} bytes depends on bytes after them"
    );
}

/// The configuration parser on the input twice: as TOML text, and as the
/// recipe of a configuration file built from the configuration's own keys
/// ([`config_from_recipe`]), so that the fuzzer reaches well-formed files with
/// one bad value as easily as broken syntax. Checks of each:
/// [`check_config_text`].
pub fn config_toml(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        check_config_text(text);
    }
    check_config_text(&config_from_recipe(data));
}

/// The configuration parser on one text: no panic; whatever it accepts is
/// valid (every number finite and in its documented range, the report maps
/// complete and free of unknown keys, colours `#rrggbb`), prints back to TOML
/// that parses to the same configuration, and has the same `[report]` as
/// [`ReportStyle::from_toml_str`] reads from the same text.
pub fn check_config_text(text: &str) {
    let cfg = match Config::from_toml_str(text) {
        Ok(cfg) => cfg,
        Err(reason) => {
            assert!(!reason.trim().is_empty(), "a refused config must say why");
            return;
        }
    };
    check_config(&cfg);
    let printed = cfg.to_toml();
    match Config::from_toml_str(&printed) {
        Ok(again) => assert_eq!(again, cfg, "the printed config parses to another one:\n{printed}"),
        Err(e) => panic!("the printed config does not parse back ({e}):\n{printed}"),
    }
    match ReportStyle::from_toml_str(text) {
        Ok(style) => assert_eq!(style, cfg.report, "the [report] table reads differently on its own"),
        Err(e) => panic!("the config is accepted but its [report] table alone is not: {e}"),
    }
}

/// The invariants of an accepted configuration, restated from docs/config.md
/// independently of the `validate` methods (which must agree too).
pub fn check_config(cfg: &Config) {
    cfg.validate().unwrap_or_else(|e| panic!("an accepted config does not validate: {e}"));
    let value = toml::Value::try_from(cfg).expect("a config is representable as TOML");
    check_finite("", &value);

    let r = &cfg.reps;
    assert!(r.end_deg < r.start_deg && r.start_deg <= r.min_depth_deg, "reps: end < start <= min_depth: {r:?}");
    assert!(r.end_deg >= 0.0 && r.start_rise_deg > 0.0 && r.min_depth_deg <= 180.0, "reps degrees: {r:?}");
    assert!(r.start_still_deg >= 0.0 && r.start_still_deg < r.start_rise_deg, "reps.start_still_deg: {r:?}");
    for (key, share) in [("return_share", r.return_share), ("bottom_fraction", r.bottom_fraction)] {
        assert!(share > 0.0 && share <= 1.0, "reps.{key} = {share} is not a share");
    }
    assert!(r.min_duration_s > 0.0 && r.baseline_window_s > 0.0, "reps durations: {r:?}");

    let f = &cfg.faults;
    for (key, deg) in [
        ("rounded_lumbar_change_deg", f.rounded_lumbar_change_deg),
        ("rounded_lumbar_deg", f.rounded_lumbar_deg),
        ("anterior_tilt_deg", f.anterior_tilt_deg),
        ("anterior_habit_deg", f.anterior_habit_deg),
        ("ribs_not_stacked_deg", f.ribs_not_stacked_deg),
        ("load_far_cm", f.load_far_cm),
    ] {
        assert!(deg > 0.0, "faults.{key} = {deg} must be positive");
    }
    for (key, deg) in [
        ("posterior_tilt_deg", f.posterior_tilt_deg),
        ("posterior_habit_deg", f.posterior_habit_deg),
        ("arched_lumbar_deg", f.arched_lumbar_deg),
        ("arched_habit_deg", f.arched_habit_deg),
    ] {
        assert!(deg < 0.0, "faults.{key} = {deg} must be negative");
    }
    assert!((0.0..=100.0).contains(&f.squat_ssi), "faults.squat_ssi = {}", f.squat_ssi);
    assert!(f.depth_share > 0.0 && f.depth_share <= 1.0, "faults.depth_share = {}", f.depth_share);
    assert!(f.min_fault_s > 0.0 && f.min_standing_s > 0.0, "faults durations: {f:?}");

    let style = &cfg.report;
    let faults: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
    for (table, map) in [("fault_labels", &style.fault_labels), ("cues", &style.cues)] {
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        let mut expected = faults.clone();
        expected.sort_unstable();
        assert_eq!(keys, expected, "report.{table} must hold exactly one entry per fault");
    }
    let phases: Vec<&str> = style.phases.keys().map(String::as_str).collect();
    assert_eq!(phases, ["ascending", "bottom", "descending", "standing"], "report.phases");
    let colors = toml::Value::try_from(&style.colors).expect("colours are TOML");
    for (name, color) in colors.as_table().expect("colours are a table") {
        let hex = color.as_str().unwrap_or_else(|| panic!("colors.{name} is not a string"));
        assert!(parse_hex(hex).is_some(), "colors.{name} = {hex:?} is not #rrggbb");
    }
}

/// Every float anywhere in `value` is finite.
fn check_finite(key: &str, value: &toml::Value) {
    match value {
        toml::Value::Float(x) => assert!(x.is_finite(), "{key} = {x} is not finite"),
        toml::Value::Table(t) => t.iter().for_each(|(k, v)| check_finite(&format!("{key}.{k}"), v)),
        toml::Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| check_finite(&format!("{key}[{i}]"), v)),
        _ => {}
    }
}

/// Values a threshold is likely to be wrong about: non-finite, signed zero,
/// the bounds of the documented ranges and either side of them, extremes.
const EDGE_FLOATS: [f64; 30] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.0,
    -0.0,
    1e-9,
    0.01,
    0.05,
    0.3,
    0.5,
    0.7,
    0.99,
    1.0,
    1.5,
    8.0,
    15.0,
    30.0,
    60.0,
    90.0,
    100.0,
    180.0,
    200.0,
    -0.5,
    -1.0,
    -10.0,
    -60.0,
    -60.5,
    1e300,
    -1e300,
    f64::MIN_POSITIVE,
];

/// A float as TOML writes it (`nan`, `inf`, `-inf`, or Rust's shortest form, which TOML reads).
fn toml_float(x: f64) -> String {
    match x {
        x if x.is_nan() => if x.is_sign_negative() { "-nan" } else { "nan" }.to_string(),
        f64::INFINITY => "inf".to_string(),
        f64::NEG_INFINITY => "-inf".to_string(),
        x => format!("{x:?}"),
    }
}

/// The bytes of a recipe, read front to back; zeros once they run out.
struct Recipe<'a> {
    bytes: &'a [u8],
}

impl Recipe<'_> {
    fn byte(&mut self) -> u8 {
        let (&first, rest) = self.bytes.split_first().unwrap_or((&0, &[]));
        self.bytes = rest;
        first
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let (head, rest) = self.bytes.split_at(n.min(self.bytes.len()));
        self.bytes = rest;
        head
    }
}

/// Every (table, key, default value) of the default configuration, as TOML
/// tables: the keys the parser knows, taken from the configuration itself.
fn known_keys() -> &'static [(String, String, toml::Value)] {
    static KEYS: std::sync::OnceLock<Vec<(String, String, toml::Value)>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let mut out = Vec::new();
        walk_keys("", &toml::Value::try_from(Config::default()).expect("the default config is TOML"), &mut out);
        out
    })
}

/// Appends the leaves of `value` (a table) as (table path, key, value).
fn walk_keys(table: &str, value: &toml::Value, out: &mut Vec<(String, String, toml::Value)>) {
    for (key, v) in value.as_table().into_iter().flatten() {
        match v {
            toml::Value::Table(_) => {
                let inner = if table.is_empty() { key.clone() } else { format!("{table}.{key}") };
                walk_keys(&inner, v, out);
            }
            _ => out.push((table.to_string(), key.clone(), v.clone())),
        }
    }
}

/// A configuration file built from the bytes of a recipe: each entry picks a
/// key the configuration knows (or a misspelt one) and a value for it — an
/// edge-case float, any float, a step away from the key's default, an
/// integer, a string, a colour, another type or the default itself — and the
/// entries are written as `[table]` sections, the last value of a key winning.
pub fn config_from_recipe(data: &[u8]) -> String {
    let keys = known_keys();
    let mut recipe = Recipe { bytes: data };
    let mut tables: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for _ in 0..64 {
        if recipe.bytes.is_empty() {
            break;
        }
        let pick = usize::from(recipe.byte()) % (keys.len() + 4);
        let (table, key, default) = match keys.get(pick) {
            Some((t, k, d)) => (t.clone(), k.clone(), d.clone()),
            // a key no table has, in a table that exists or one that does not
            None => (
                ["reps", "faults", "report.cues", "unknown"][pick - keys.len()].to_string(),
                "typo_deg".into(),
                1.0.into(),
            ),
        };
        let value = match recipe.byte() % 8 {
            0 => toml_float(EDGE_FLOATS[usize::from(recipe.byte()) % EDGE_FLOATS.len()]),
            1 => {
                let mut bits = [0u8; 8];
                let given = recipe.take(8);
                bits[..given.len()].copy_from_slice(given);
                toml_float(f64::from_le_bytes(bits))
            }
            2 => {
                let step = f64::from(recipe.byte() as i8) / 32.0;
                match default.as_float() {
                    Some(x) => toml_float(x + step * x.abs().max(1.0)),
                    None => toml_float(step),
                }
            }
            3 => i16::from_le_bytes([recipe.byte(), recipe.byte()]).to_string(),
            4 => {
                let n = usize::from(recipe.byte() % 24);
                toml::Value::String(String::from_utf8_lossy(recipe.take(n)).into_owned()).to_string()
            }
            5 => {
                let rgb = recipe.take(3);
                let hex: String = rgb.iter().map(|b| format!("{b:02x}")).collect();
                toml::Value::String(format!("#{hex}")).to_string()
            }
            6 => ["true", "[1.0, 2.0]", "{}", "1979-05-27", "\"\"", "'#ffffff'"][usize::from(recipe.byte()) % 6]
                .to_string(),
            _ => default.to_string(),
        };
        let at = match tables.iter().position(|(t, _)| *t == table) {
            Some(at) => at,
            None => {
                tables.push((table, Vec::new()));
                tables.len() - 1
            }
        };
        let entries = &mut tables[at].1;
        entries.retain(|(k, _)| *k != key);
        entries.push((key, value));
    }
    // keys outside any table first, then one section per table
    tables.sort_by_key(|(t, _)| !t.is_empty());
    let mut text = String::new();
    for (table, entries) in tables {
        if !table.is_empty() {
            text.push_str(&format!("[{table}]\n"));
        }
        for (key, value) in entries {
            text.push_str(&format!("{} = {value}\n", toml_key(&key)));
        }
    }
    text
}

/// A key as TOML writes it (bare when it can be).
fn toml_key(key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        key.to_string()
    } else {
        toml::Value::String(key.to_string()).to_string()
    }
}
