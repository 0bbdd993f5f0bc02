"""Copies rendered footage (tools/synth) into the repository, each video as rendered, its truth CSV cut down to the
columns that are read and its metadata to what the scoring and the training need, plus a manifest:

  python3 tools/spine/pack_footage.py heldout [PLAN]    the held-out bodies, for the test suite
      PLAN test (default): .work/synth/test -> tests/fixtures/heldout (bodies test_0005..0009)
           testloose:      .work/synth/testloose -> tests/fixtures/heldout_loose (bodies test_0010..0015)
  python3 tools/spine/pack_footage.py training SET      the spine model's training footage
      SET bank | train2 | train3 | train4: .work/synth/SET -> data/synth/SET (every body)
          testA: .work/synth/test -> data/synth/testA (bodies test_0000..0004 of the test plan, trained on)

tools/spine/build.sh trains on data/synth where a set is there and renders only the sets that are not, so the
shipped model is rebuilt from the repository in under an hour instead of ~6 hours of rendering first. The held-out
sets keep only what `hinge eval` reads; the training sets also keep the pelvis and thorax pitches (auxiliary
outputs) and the image positions of the spine joints, dorsal skin points and ASIS/PSIS (train.py --aux).
"""
import csv, json, os, shutil, sys

from truth_columns import training_columns

# what `hinge eval` reads (src/eval.rs)
EVAL_COLUMNS = ["frame", "time_s", "phase", "trunk_incl_deg", "trunk_thigh_angle3d_L", "trunk_thigh_angle3d_R",
                "knee_angle3d_L", "knee_angle3d_R", "hip_flexion_deg", "lumbar_flexion_deg", "pelvic_tilt_deg",
                "ribcage_pelvis_deg", "hands_ankle_fwd_m", "rep", "rep_variant"]
# what tools/spine/train.py reads besides (truth_columns.py), and what eval's load-far timing reads
TRAINING_COLUMNS = list(dict.fromkeys(EVAL_COLUMNS + ["hinge_depth", "load_far", "wrist_L_Y", "wrist_R_Y", "ankle_L_Y",
                                                      "ankle_R_Y"] + training_columns()))
META = ["clip", "variant", "reps", "body_id", "fault_set", "reps_detail", "object", "width", "height", "fps",
        "n_frames", "camera"]
TRAINED_TEST_BODIES = {"test_%04d" % i for i in range(0, 5)}
HELDOUT_BODIES = {"test_%04d" % i for i in range(5, 16)}

# kind -> set -> (source plan under .work/synth, destination under the repository, bodies kept (None: all), note)
SETS = {
    "heldout": {
        "test": ("test", "tests/fixtures/heldout", HELDOUT_BODIES,
                 "bodies never used to train the spine model: test_0005..test_0009 of the test plan "
                 "(test_0000..test_0004 are trained on; tools/spine/build.sh)"),
        "testloose": ("testloose", "tests/fixtures/heldout_loose", HELDOUT_BODIES,
                      "bodies never used to train the spine model, in loose tops (sweatshirts, hoodies "
                      "over the waistband): test_0010..test_0015 of the testloose plan"),
    },
    "training": {
        "bank": ("bank", "data/synth/bank", None, "training footage of the spine model: make_bank.py --bodies 81"),
        "train2": ("train2", "data/synth/train2", None, "training footage of the spine model: make_hinge_set.py train2 --fps 10"),
        "train3": ("train3", "data/synth/train3", None, "training footage of the spine model: make_hinge_set.py train3 --fps 10"),
        "train4": ("train4", "data/synth/train4", None, "training footage of the spine model: make_hinge_set.py train4 --fps 10"),
        "testA": ("test", "data/synth/testA", TRAINED_TEST_BODIES,
                  "training footage of the spine model: bodies test_0000..test_0004 of make_hinge_set.py test"),
    },
}
DEFAULT_SET = {"heldout": "test"}


def small_meta(meta):
    """The metadata cut down to what eval and train.py read (train.py: body_id, variant, object, camera.kind)."""
    small = {k: meta[k] for k in META if k in meta}
    if "reps_detail" in small:
        small["reps_detail"] = [{k: r[k] for k in ("rep", "variant", "expected_fault", "start_s", "bottom_s", "end_s")}
                                for r in small["reps_detail"]]
    if "camera" in small:
        small["camera"] = {k: small["camera"][k] for k in ("kind", "view_deg") if k in small["camera"]}
    return small


def pack(src, dst, columns, bodies, set_name, note):
    """Copies every complete clip of `src` whose body is kept; returns the number of clips."""
    if not os.path.isdir(src):
        sys.exit("%s: no such folder (render the plan first: tools/synth/README.md)" % src)
    os.makedirs(dst, exist_ok=True)
    clips = []
    for name in sorted(os.listdir(src)):
        if not name.endswith(".meta.json"):
            continue
        stem = name[: -len(".meta.json")]
        if not (os.path.exists(os.path.join(src, stem + ".mp4")) and os.path.exists(os.path.join(src, stem + ".csv"))):
            continue
        meta = json.load(open(os.path.join(src, name)))
        if bodies is not None and meta.get("body_id") not in bodies:
            continue
        small = small_meta(meta)
        shutil.copyfile(os.path.join(src, stem + ".mp4"), os.path.join(dst, stem + ".mp4"))
        with open(os.path.join(src, stem + ".csv")) as fi, open(os.path.join(dst, stem + ".csv"), "w", newline="") as fo:
            r = csv.DictReader(fi)
            w = csv.writer(fo)
            w.writerow(columns)
            for row in r:
                w.writerow([row.get(c, "") for c in columns])
        with open(os.path.join(dst, stem + ".meta.json"), "w") as fo:
            json.dump(small, fo, indent=1)
        clips.append(dict(small, video=stem + ".mp4", truth_csv=stem + ".csv"))
    if not clips:
        sys.exit("%s: no rendered clip of the kept bodies" % src)
    with open(os.path.join(dst, "manifest.json"), "w") as fo:
        json.dump({"set": set_name, "note": note, "clips": clips}, fo, indent=1)
    return len(clips)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    a = sys.argv[1:]
    if not a or a[0] not in SETS:
        sys.exit("usage: pack_footage.py heldout [test | testloose] | training SET (%s)" % " | ".join(SETS["training"]))
    kind = a[0]
    name = a[1] if len(a) > 1 else DEFAULT_SET.get(kind)
    if name not in SETS[kind]:
        sys.exit("unknown %s set %r (%s)" % (kind, name, " | ".join(SETS[kind])))
    plan, dst, bodies, note = SETS[kind][name]
    columns = EVAL_COLUMNS if kind == "heldout" else TRAINING_COLUMNS
    set_name = os.path.basename(dst)
    n = pack(os.path.join(root, ".work", "synth", plan), os.path.join(root, dst), columns, bodies, set_name, note)
    print("%d clips -> %s" % (n, dst))


if __name__ == "__main__":
    main()
