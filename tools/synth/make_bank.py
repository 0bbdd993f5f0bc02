"""The wiggle bank: many random bodies, one short clip each (10 fps, 3.5-4.5 s), in which hinge depth, pelvic tilt,
lumbar, thoracic and rib-cage angles, legs and hands follow their own smooth random courses. A frame of a
wiggle clip is a fresh posture of a fresh body at a quarter of the render time of a rep clip, which is what a
model of the back needs most: many bodies (see docs/spine_model.md).

  python3 make_bank.py [--bodies 300] [--first 1000] [--out DIR] [--workers 1] [--dry] [--stop-at UNIX_TIME]

Bodies bank_1000.. (seed base 60000) never overlap make_train.py, make_hinge_set.py or footage/dev.
Default output ../../.work/synth/bank (ignored by git); clips already rendered are skipped.
"""
import os, random, sys
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import synth_common as sc

SEED0 = 60000


def make_configs(n, first, out):
    cfgs = []
    for i in range(first, first + n):
        r = random.Random(SEED0 + 1000 + 131 * i)
        body = sc.make_body("bank_%04d" % i, SEED0 + i)
        view = [r.uniform(-8, 8), r.uniform(10, 45), -r.uniform(10, 45)][i % 3]
        fu = r.random()
        fmt = "land43" if fu < 0.45 else ("port34" if fu < 0.9 else ("land169" if fu < 0.95 else "port916"))
        load = r.choice([None, None, "dumbbells", "kettlebell"])
        p = sc.variant_params("wiggle", r, load)
        if load in (None, "dumbbells") and r.random() < 0.25:
            p["hand_fwd_stand"] = round(r.uniform(-0.12, -0.02), 3)   # arms behind: they cover the lower back
        cam = sc.camera(r, r.choice("LR"), view, fmt)
        clip = "bank_%04d_%s_%s" % (i, cam["kind"], load or "noload")
        cfgs.append(sc.clip_config(clip, out, out, "wiggle", 0, SEED0 + 5000 + i, body, cam, fmt, sc.scene(r), load, p,
                                   fps=10))
    return cfgs


if __name__ == "__main__":
    a = sys.argv
    n = int(a[a.index("--bodies") + 1]) if "--bodies" in a else 300
    first = int(a[a.index("--first") + 1]) if "--first" in a else 1000
    out = os.path.abspath(a[a.index("--out") + 1]) if "--out" in a else os.path.abspath(
        os.path.join(HERE, "..", "..", ".work", "synth", "bank"))
    cfgs = make_configs(n, first, out)
    if "--dry" in a:
        for c in cfgs[:10]:
            print(c["clip"], c["width"], c["height"], c["params"]["lumbar_free"], c["params"]["tilt_range"])
        sys.exit(0)
    os.makedirs(out, exist_ok=True)
    stop = float(a[a.index("--stop-at") + 1]) if "--stop-at" in a else None
    sc.run_queue(cfgs, int(a[a.index("--workers") + 1]) if "--workers" in a else 1, stop_at=stop)
    import make_manifest_synth
    make_manifest_synth.main(out, "bank")
