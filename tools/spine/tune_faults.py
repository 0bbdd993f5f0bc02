"""Chooses the fault thresholds ([faults] of the configuration) on readings of bodies the spine model never
saw: `hinge eval FOOTAGE --spine-readings CV_DIR --json --out EVAL_DIR` (cross-validated readings, see
cv_readings.py) gives every rep's medians at depth and every clip's standing baseline; this script replays the
rules of src/faults/mod.rs on them for a grid of thresholds and prints the best settings with their scores.
The chosen values go to src/faults/mod.rs (FaultConfig::default) and docs/config.md with their rationale;
`hinge eval` then confirms them with the real rules.

  python3 tools/spine/tune_faults.py EVAL_JSON EVAL_DIR [EVAL_JSON EVAL_DIR ...]
"""
import itertools, json, os, sys

DEFAULTS = dict(rounded_lumbar_change_deg=18.0, rounded_lumbar_deg=32.0, anterior_tilt_deg=10.0,
                posterior_tilt_deg=-10.0, anterior_habit_deg=10.0, posterior_habit_deg=-10.0,
                ribs_not_stacked_deg=14.0, squat_ssi=28.0, load_far_cm=29.0)


def back_fault(p, s, c):
    l = p.get("lumbar_flexion_deg")
    if l is not None:
        sl = s.get("lumbar_flexion_deg")
        if (sl is not None and l - sl >= c["rounded_lumbar_change_deg"]) or l >= c["rounded_lumbar_deg"]:
            return "rounded_lumbar"
    t = p.get("pelvic_tilt_deg")
    if t is not None:
        if t <= c["posterior_tilt_deg"]:
            return "posterior_tilt"
        if t >= c["anterior_tilt_deg"]:
            return "anterior_tilt"
    r, sr = p.get("rib_stack_deg"), s.get("rib_stack_deg")
    ch = None if r is None else (r - sr if sr is not None else r)
    if ch is not None and abs(ch) >= c["ribs_not_stacked_deg"]:
        return "ribs_not_stacked"
    return None


def rep_faults(at, base, c):
    out = set()
    f = back_fault(at, base, c)
    if f:
        out.add(f)
    if at.get("ssi") is not None and at["ssi"] < c["squat_ssi"]:
        out.add("squat_pattern")
    if at.get("load_distance_cm") is not None and at["load_distance_cm"] >= c["load_far_cm"]:
        out.add("load_far")
    return out


def clip_faults(base, c):
    t = base.get("pelvic_tilt_deg")
    if t is None or base.get("frames", 0) < 15:
        return set()
    if t >= c["anterior_habit_deg"]:
        return {"anterior_tilt"}
    if t <= c["posterior_habit_deg"]:
        return {"posterior_tilt"}
    return set()


def load(pairs):
    clips = []
    for ej, ed in pairs:
        rep = json.load(open(ej))
        for c in rep["clips"]:
            name = c["clip"]["name"]
            summ = json.load(open(os.path.join(ed, name, "summary.json")))
            clips.append(dict(name=name, variant=c["clip"]["variant"], expected=set(c["faults_expected"]),
                              single=not c["clip"]["reps_detail"], scored=c["clip"]["variant"] != "spine_mix",
                              reps=[(r["start_s"], r["end_s"], r["at_depth"]) for r in summ["reps"]],
                              truth_reps=c["clip"]["reps_detail"], base=summ["baseline"]))
    return clips


def score(clips, c):
    ok_clips = n_clips = ok_reps = n_reps = 0
    for cl in clips:
        if not cl["scored"]:
            continue
        found_by_rep = [rep_faults(at, cl["base"], c) for _, _, at in cl["reps"]]
        if cl["single"]:
            found = clip_faults(cl["base"], c).union(*found_by_rep) if found_by_rep else clip_faults(cl["base"], c)
            n_clips += 1
            ok_clips += found == cl["expected"]
        for tr in cl["truth_reps"]:
            n_reps += 1
            ov = [(min(e, tr["end_s"]) - max(s, tr["start_s"]), k) for k, (s, e, _) in enumerate(cl["reps"])]
            ov = [x for x in ov if x[0] > 0]
            if ov:
                k = max(ov)[1]
                exp = {tr["fault"]} if tr["fault"] else set()
                ok_reps += found_by_rep[k] == exp
    return ok_clips, n_clips, ok_reps, n_reps


def main():
    a = sys.argv[1:]
    if len(a) < 2 or len(a) % 2:
        sys.exit(__doc__)
    clips = load(list(zip(a[::2], a[1::2])))
    grid = dict(rounded_lumbar_change_deg=[16, 18, 20, 22, 24, 26], rounded_lumbar_deg=[28, 32, 36, 40],
                tilt=[8, 10, 12, 14], habit=[6, 8, 10], ribs_not_stacked_deg=[10, 12, 14, 16, 18],
                squat_ssi=[28, 30, 33, 36], load_far_cm=[25, 27, 29, 31, 33])
    best = []
    keys = list(grid)
    for vals in itertools.product(*grid.values()):
        g = dict(zip(keys, vals))
        c = dict(DEFAULTS)
        c.update({k: v for k, v in g.items() if k in c})
        c["anterior_tilt_deg"], c["posterior_tilt_deg"] = g["tilt"], -g["tilt"]
        c["anterior_habit_deg"], c["posterior_habit_deg"] = g["habit"], -g["habit"]
        oc, nc, orp, nr = score(clips, c)
        best.append(((oc / max(nc, 1) + orp / max(nr, 1)), oc, nc, orp, nr, g))
    best.sort(key=lambda x: -x[0])
    print("defaults:", score(clips, DEFAULTS))
    for b in best[:15]:
        print("%.3f clips %d/%d reps %d/%d %s" % b)


if __name__ == "__main__":
    main()
