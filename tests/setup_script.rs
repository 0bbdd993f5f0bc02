//! `scripts/setup.sh` and the Makefile: `make demo` asks only for what the
//! demo needs; the test set-up adds Xvfb, and Chromium only where apt has it
//! as a deb (Debian), not on Ubuntu (where `chromium` is no deb).

mod common;
use common::repo;
use std::path::Path;
use std::process::Command;

/// `scripts/setup.sh ARGS --list` with an `apt-cache` that answers `policy` as `apt_policy`.
fn listed(args: &[&str], apt_policy: &str, stub_dir: &Path) -> (Vec<String>, String) {
    let stub = stub_dir.join("apt-cache");
    std::fs::write(&stub, format!("#!/bin/sh\ncat <<'EOF'\n{apt_policy}\nEOF\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", stub_dir.display(), std::env::var("PATH").unwrap_or_default());
    let o =
        Command::new("bash").arg(repo("scripts/setup.sh")).args(args).arg("--list").env("PATH", path).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let list = String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect();
    (list, String::from_utf8_lossy(&o.stderr).to_string())
}

const DEBIAN: &str = "chromium:\n  Installed: (none)\n  Candidate: 156.0.8078.108-1~deb12u1\n  Version table:";
const UBUNTU: &str = "";

#[test]
fn the_demo_needs_no_browser_and_no_x_server() {
    let tmp = tempfile::tempdir().unwrap();
    let (list, _) = listed(&[], DEBIAN, tmp.path());
    for p in ["libopencv-dev", "clang", "libclang-dev", "ffmpeg", "pkg-config", "python3"] {
        assert!(list.contains(&p.to_string()), "{p} missing from {list:?}");
    }
    for p in ["chromium", "xvfb", "xauth"] {
        assert!(!list.contains(&p.to_string()), "the demo asks for {p}: {list:?}");
    }
}

#[test]
fn the_tests_get_chromium_where_it_is_a_deb_and_a_clear_skip_elsewhere() {
    let tmp = tempfile::tempdir().unwrap();
    let (list, _) = listed(&["--test"], DEBIAN, tmp.path());
    assert!(list.contains(&"xvfb".to_string()) && list.contains(&"chromium".to_string()), "{list:?}");
    let (list, err) = listed(&["--test"], UBUNTU, tmp.path());
    assert!(list.contains(&"xvfb".to_string()), "{list:?}");
    assert!(!list.contains(&"chromium".to_string()), "asks apt for a chromium it does not have: {list:?}");
    assert!(err.contains("chromium is not packaged as a deb here") && err.contains("skipped"), "{err}");
    // a candidate "(none)" (a transitional or removed package) is no candidate either
    let (list, _) = listed(&["--test"], "chromium:\n  Installed: (none)\n  Candidate: (none)", tmp.path());
    assert!(!list.contains(&"chromium".to_string()), "{list:?}");
}

#[test]
fn make_demo_runs_the_plain_set_up_and_make_test_the_test_one() {
    if Command::new("make").arg("--version").output().is_err() {
        eprintln!("SKIPPED: make not installed");
        return;
    }
    let dry = |target: &str| {
        let o = Command::new("make").arg("-n").arg(target).current_dir(repo("")).output().unwrap();
        assert!(o.status.success(), "make -n {target}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let demo = dry("demo");
    assert!(demo.contains("scripts/setup.sh") && !demo.contains("--test"), "{demo}");
    assert!(dry("test").contains("scripts/setup.sh --test"));
}
