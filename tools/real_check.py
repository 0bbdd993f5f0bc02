"""Runs hinge on the hand-labelled real lifts of ../shared/footage/real_hinge_dev (not in this repository: no
licence; look and measure locally only) and prints, per clip, the reps counted against the labels, each rep's
verdict against what the take shows, and the readings at depth.

  python3 tools/real_check.py [REAL_DIR] [--hinge target/release/hinge] [--config FILE.toml]

What each take should give (the labels' source classes): correct -> no fault; knee_dominant -> squat_pattern;
hip_first -> reported, no target (the spine stays roughly neutral, the knees straighten first on the way up).
"""
import json, os, subprocess, sys

EXPECTED = {"correct": set(), "knee_dominant": {"squat_pattern"}}


def main():
    a = sys.argv[1:]
    hinge = a[a.index("--hinge") + 1] if "--hinge" in a else "target/release/hinge"
    extra = ["--config", a[a.index("--config") + 1]] if "--config" in a else []
    pos = [x for i, x in enumerate(a) if not x.startswith("--") and (i == 0 or not a[i - 1].startswith("--"))]
    real = pos[0] if pos else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "footage", "real_hinge_dev")
    total = {}
    for name in sorted(os.listdir(real)):
        if not name.endswith(".json"):
            continue
        label = json.load(open(os.path.join(real, name)))
        video = os.path.join(real, label["file"])
        cls = label["source_label"].split("'")[1] if "'" in label["source_label"] else "?"
        cls = {"c": "correct", "k": "knee_dominant", "h": "hip_first", "r": "rounded_back"}.get(cls, cls)
        out = subprocess.run([hinge, "analyze", video, "--json", "--quiet", *extra], capture_output=True, text=True)
        if out.returncode != 0:
            print(name, "FAILED:", out.stderr.strip())
            continue
        s = json.loads(out.stdout)
        reps = s["reps"]
        want = EXPECTED.get(cls)
        matched = ok = 0
        print("== %s (%s): %d reps counted, %d labelled; clip faults %s" % (
            label["file"], cls, len(reps), len(label["reps"]), s["faults"] or "none"))
        for lr in label["reps"]:
            ov = [(min(r["end_s"], lr["end_s"]) - max(r["start_s"], lr["start_s"]), r) for r in reps]
            ov = [x for x in ov if x[0] > 0]
            if not ov:
                print("  rep %2d: not found" % lr["n"])
                continue
            r = max(ov, key=lambda x: x[0])[1]
            matched += 1
            f = set(r["faults"])
            good = want is not None and f == want
            ok += good
            d = r["at_depth"]
            g = lambda k, fmt="%5.1f": (fmt % d[k]) if d.get(k) is not None else "    -"
            print("  rep %2d -> %2d  trunk %s knee %s ssi %s lumbar %s tilt %s rib %s load %s cm  %-30s %s" % (
                lr["n"], r["index"], g("trunk_deg"), g("knee_flexion_deg"), g("ssi"), g("lumbar_flexion_deg"),
                g("pelvic_tilt_deg"), g("rib_stack_deg"), g("load_distance_cm"), ",".join(sorted(f)) or "none",
                "" if want is None else ("ok" if good else "WRONG")))
        print("  reps matched %d/%d%s" % (matched, len(label["reps"]),
                                          "" if want is None else ", verdict right %d/%d" % (ok, len(label["reps"]))))
        total[name] = (len(reps), len(label["reps"]), ok if want is not None else None)
    print("\nsummary (counted/labelled, right verdicts):", total)


if __name__ == "__main__":
    main()
