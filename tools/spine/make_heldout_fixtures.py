"""Copies the held-out test clips (bodies the spine model never saw, tools/synth/make_hinge_set.py test and
testloose) into tests/fixtures/ for the test suite: each video as rendered, its truth CSV cut down to the columns
`hinge eval` reads, and its metadata cut down to what the scoring needs, plus a manifest.

  python3 tools/spine/make_heldout_fixtures.py [PLAN]
PLAN test (default): .work/synth/test -> tests/fixtures/heldout
     testloose:      .work/synth/testloose -> tests/fixtures/heldout_loose
Only the bodies that stay held out are copied (HELDOUT_BODIES; the others are trained on, tools/spine/build.sh).
"""
import csv, json, os, shutil, sys

COLUMNS = ["frame", "time_s", "phase", "trunk_incl_deg", "trunk_thigh_angle3d_L", "trunk_thigh_angle3d_R",
           "knee_angle3d_L", "knee_angle3d_R", "hip_flexion_deg", "lumbar_flexion_deg", "pelvic_tilt_deg",
           "ribcage_pelvis_deg", "hands_ankle_fwd_m", "rep", "rep_variant"]
# bodies never trained on: test_0005..0009 of the test plan (tools/spine/build.sh: HELDOUT_TEST_BODIES) and
# test_0010..0015 of the testloose plan
HELDOUT_BODIES = {"test_%04d" % i for i in range(5, 16)}
PLANS = {
    "test": ("heldout", "bodies never used to train the spine model: test_0005..test_0009 of the test plan "
                        "(test_0000..test_0004 are trained on; tools/spine/build.sh)"),
    "testloose": ("heldout_loose", "bodies never used to train the spine model, in loose tops (sweatshirts, hoodies "
                                   "over the waistband): test_0010..test_0015 of the testloose plan"),
}
META = ["clip", "variant", "reps", "body_id", "fault_set", "reps_detail", "object", "width", "height", "fps",
        "n_frames", "camera"]


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    plan = sys.argv[1] if len(sys.argv) > 1 else "test"
    if plan not in PLANS:
        sys.exit("unknown plan %r (%s)" % (plan, " | ".join(PLANS)))
    set_name, note = PLANS[plan]
    src = os.path.join(root, ".work", "synth", plan)
    dst = os.path.join(root, "tests", "fixtures", set_name)
    os.makedirs(dst, exist_ok=True)
    clips = []
    for name in sorted(os.listdir(src)):
        if not name.endswith(".meta.json"):
            continue
        stem = name[: -len(".meta.json")]
        if not (os.path.exists(os.path.join(src, stem + ".mp4")) and os.path.exists(os.path.join(src, stem + ".csv"))):
            continue
        meta = json.load(open(os.path.join(src, name)))
        if meta.get("body_id") not in HELDOUT_BODIES:
            continue
        small = {k: meta[k] for k in META if k in meta}
        if "reps_detail" in small:
            small["reps_detail"] = [{k: r[k] for k in ("rep", "variant", "expected_fault", "start_s", "bottom_s", "end_s")}
                                    for r in small["reps_detail"]]
        if "camera" in small:
            small["camera"] = {k: small["camera"][k] for k in ("kind", "view_deg") if k in small["camera"]}
        shutil.copyfile(os.path.join(src, stem + ".mp4"), os.path.join(dst, stem + ".mp4"))
        with open(os.path.join(src, stem + ".csv")) as fi, open(os.path.join(dst, stem + ".csv"), "w", newline="") as fo:
            r = csv.DictReader(fi)
            w = csv.writer(fo)
            w.writerow(COLUMNS)
            for row in r:
                w.writerow([row.get(c, "") for c in COLUMNS])
        json.dump(small, open(os.path.join(dst, stem + ".meta.json"), "w"), indent=1)
        clips.append(dict(small, video=stem + ".mp4", truth_csv=stem + ".csv"))
    json.dump({"set": set_name, "note": note, "clips": clips}, open(os.path.join(dst, "manifest.json"), "w"), indent=1)
    print("%d clips -> %s" % (len(clips), dst))


if __name__ == "__main__":
    main()
