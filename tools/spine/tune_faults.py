"""Chooses the fault thresholds ([faults] of the configuration) on readings of bodies the spine model never
saw: `hinge eval FOOTAGE --spine-readings CV_DIR --json --out EVAL_DIR` (cross-validated readings, see
cv_readings.py) gives every rep's medians at depth and every clip's standing baseline; this script replays the
rules of src/faults/mod.rs on them for a grid of thresholds and prints the best settings with their scores.
The chosen values go to src/faults/mod.rs (FaultConfig::default) and docs/config.md with their rationale;
`hinge eval` then confirms them with the real rules.

Besides the best settings on all the clips it prints an estimate of how the choice does on bodies it was not
chosen on: the bodies split in five folds, each fold scored with the settings chosen on the other four.

  python3 tools/spine/tune_faults.py EVAL_JSON EVAL_DIR [EVAL_JSON EVAL_DIR ...]
"""
import csv, itertools, json, os, random, sys

DEFAULTS = dict(rounded_lumbar_change_deg=12.0, rounded_lumbar_deg=32.0, anterior_tilt_deg=10.0,
                posterior_tilt_deg=-10.0, arched_lumbar_deg=-6.0, anterior_habit_deg=10.0,
                posterior_habit_deg=-10.0, arched_habit_deg=-8.0, ribs_not_stacked_deg=10.0, squat_ssi=28.0,
                load_far_cm=29.0)


def rounding_limit(sl, c):
    if sl is None:
        return c["rounded_lumbar_deg"]
    return min(max(sl, c["arched_habit_deg"]) + c["rounded_lumbar_change_deg"], c["rounded_lumbar_deg"])


def change(now, then):
    return None if now is None else now - (then if then is not None else 0.0)


def back_fault(p, s, c):
    l = p.get("lumbar_flexion_deg")
    if l is not None and l >= rounding_limit(s.get("lumbar_flexion_deg"), c):
        return "rounded_lumbar"
    t = p.get("pelvic_tilt_deg")
    if t is not None:
        if t <= c["posterior_tilt_deg"]:
            return "posterior_tilt"
        if t >= c["anterior_tilt_deg"]:
            return "anterior_tilt"
    if l is not None and l <= c["arched_lumbar_deg"]:
        return "anterior_tilt"
    rib = change(p.get("rib_stack_deg"), s.get("rib_stack_deg"))
    if rib is None:
        return None
    lumbar = change(l, s.get("lumbar_flexion_deg")) or 0.0
    return "ribs_not_stacked" if abs(rib - lumbar) >= c["ribs_not_stacked_deg"] else None


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


def clip_faults(standing, c):
    """The clip's standing habit from the medians over its standing frames (`standing_medians`)."""
    t, l = standing.get("pelvic_tilt_deg"), standing.get("lumbar_flexion_deg")
    if (t is not None and t >= c["anterior_habit_deg"]) or (l is not None and l <= c["arched_habit_deg"]):
        return {"anterior_tilt"}
    if t is not None and t <= c["posterior_habit_deg"]:
        return {"posterior_tilt"}
    return set()


def standing_medians(frames_csv, min_standing_s=0.5):
    """As src/faults clip_faults takes them: each metric's median (the upper one) over the frames of the
    standing phase with a reading, where those last at least `min_standing_s`."""
    with open(frames_csv) as f:
        rows = list(csv.DictReader(f))
    if len(rows) < 2 or int(rows[-1]["frame"]) <= int(rows[0]["frame"]):
        dt = 1 / 30
    else:
        dt = (float(rows[-1]["time_s"]) - float(rows[0]["time_s"])) / (int(rows[-1]["frame"]) - int(rows[0]["frame"]))
    out = {}
    for key in ("pelvic_tilt_deg", "lumbar_flexion_deg"):
        v = sorted(float(r[key]) for r in rows if r["phase"] == "standing" and r[key] != "")
        out[key] = v[len(v) // 2] if v and len(v) * dt >= min_standing_s else None
    return out


def load(pairs):
    clips = []
    for ej, ed in pairs:
        rep = json.load(open(ej))
        for c in rep["clips"]:
            name = c["clip"]["name"]
            summ = json.load(open(os.path.join(ed, name, "summary.json")))
            clips.append(dict(name=name, body=c["clip"]["body"] or name, variant=c["clip"]["variant"],
                              expected=set(c["faults_expected"]), single=not c["clip"]["reps_detail"],
                              scored=c["clip"]["variant"] != "spine_mix",
                              reps=[(r["start_s"], r["end_s"], r["at_depth"]) for r in summ["reps"]],
                              truth_reps=c["clip"]["reps_detail"], base=summ["baseline"],
                              standing=standing_medians(os.path.join(ed, name, "frames.csv"))))
    return clips


def score(clips, c):
    ok_clips = n_clips = ok_reps = n_reps = 0
    for cl in clips:
        if not cl["scored"]:
            continue
        found_by_rep = [rep_faults(at, cl["base"], c) for _, _, at in cl["reps"]]
        if cl["single"]:
            found = clip_faults(cl["standing"], c).union(*found_by_rep)
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


# the back's thresholds searched; squat_ssi and load_far_cm rest on the joints and were chosen on their own
GRID = dict(rounded_lumbar_change_deg=[10, 12, 14, 16, 18], rounded_lumbar_deg=[28, 32], tilt=[8, 10, 12],
            arched_lumbar_deg=[-4, -6, -8, -10], habit=[6, 8, 10], arched_habit_deg=[-6, -8, -10],
            ribs_not_stacked_deg=[8, 10, 12, 14])


def settings(g):
    c = dict(DEFAULTS)
    c.update({k: v for k, v in g.items() if k in c})
    c["anterior_tilt_deg"], c["posterior_tilt_deg"] = g["tilt"], -g["tilt"]
    c["anterior_habit_deg"], c["posterior_habit_deg"] = g["habit"], -g["habit"]
    return c


def merit(s):
    oc, nc, orp, nr = s
    return oc / max(nc, 1) + orp / max(nr, 1)


def main():
    a = sys.argv[1:]
    if len(a) < 2 or len(a) % 2:
        sys.exit(__doc__)
    clips = load(list(zip(a[::2], a[1::2])))
    grid = [dict(zip(GRID, v)) for v in itertools.product(*GRID.values())]
    scored = sorted(((merit(s), s, g) for g in grid for s in [score(clips, settings(g))]), key=lambda x: -x[0])
    print("defaults: clips %d/%d reps %d/%d" % score(clips, DEFAULTS))
    for m, s, g in scored[:15]:
        print("%.3f clips %d/%d reps %d/%d %s" % (m, *s, g))
    # by body: each fold scored with the settings chosen on the other folds
    bodies = sorted({c["body"] for c in clips})
    random.Random(0).shuffle(bodies)
    fold = {b: i % 5 for i, b in enumerate(bodies)}
    chosen, defaults = [0, 0, 0, 0], [0, 0, 0, 0]
    for k in range(5):
        train = [c for c in clips if fold[c["body"]] != k]
        test = [c for c in clips if fold[c["body"]] == k]
        g = max(grid, key=lambda g: merit(score(train, settings(g))))
        chosen = [x + y for x, y in zip(chosen, score(test, settings(g)))]
        defaults = [x + y for x, y in zip(defaults, score(test, DEFAULTS))]
        print("fold %d chose %s" % (k, g))
    print("by body, chosen on the other folds: clips %d/%d reps %d/%d; the defaults on the same folds: clips %d/%d "
          "reps %d/%d" % (*chosen, *defaults))


if __name__ == "__main__":
    main()
