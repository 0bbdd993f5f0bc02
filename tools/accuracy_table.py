"""Writes the held-out accuracy table of README.md and docs/metrics.md from `hinge eval` itself, so that the
figures the documents show are the figures the shipped model gives (one table, written in both places).

  python3 tools/accuracy_table.py            # runs target/release/hinge eval on both held-out fixture sets
  python3 tools/accuracy_table.py --check    # exits 1 if a document's table differs from a fresh run
  python3 tools/accuracy_table.py --from HELDOUT.json LOOSE.json # `hinge eval --json` outputs already written
  python3 tools/accuracy_table.py --print ...                     # the table only; no document touched

The table sits between `<!-- accuracy-table:begin -->` and `<!-- accuracy-table:end -->` in each document; the
per-fault table (each fault found where a clip or practice rep shows it, reported where it does not) between `<!-- fault-table:begin -->` and `<!-- fault-table:end -->` in docs/metrics.md.
Targets are issue 13's (the `target` column of `hinge eval`; fault sets, practice-set reps: 90 %).
"""
import argparse, json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETS = [("heldout", "tests/fixtures/heldout"), ("heldout_loose", "tests/fixtures/heldout_loose")]
DOCS = ["README.md", "docs/metrics.md"]
FAULT_DOCS = ["docs/metrics.md"]
# metrics whose issue-13 target also asks for "clearly better than predicting zero"
VS_ZERO = ("hip_flexion_deg", "lumbar_flexion_deg", "pelvic_tilt_deg", "rib_stack_deg")
SHARE_TARGET = 0.9
# the metric whose frames with a value say how much of a set the back is read on (the back's three readings are
# left empty together: too oblique a view, or the spine model's members disagreeing)
BACK_COVERAGE = "lumbar_flexion_deg"

# the summary `hinge eval --json` prints (src/eval.rs, EvalSummary): the figures its table shows
TALLIES = ("rep_count_exact", "fault_set_exact", "fault_set_no_fault_predictor", "practice_reps_right",
           "standing_habits_found", "fault_set_exact_side_on", "fault_set_exact_oblique")


def parse(text, source):
    """Figures of one `hinge eval --json` output: its summary, in the shape table() reads."""
    try:
        summary = json.loads(text)["summary"]
        metrics = {m["metric"]: dict(mae=m["mae"], bias=m["bias"], sd=m["sd"], zero=m["zero_mae"],
                                     target=m["target_mae"], frames=m["frames"], empty=m["frames_without_value"])
                   for m in summary["metrics"]}
        counts = {k: (summary[k]["ok"], summary[k]["of"]) for k in TALLIES}
        bodies = summary["bodies"]
        # null where no rep had a truth onset to be timed against (footage without a phase column)
        rep_start = summary.get("rep_start_s") and {k: summary["rep_start_s"][k] for k in ("reps", "mae", "bias", "sd")}
        per_fault = [(f["fault"], (f["found_where_shown"]["ok"], f["found_where_shown"]["of"]),
                      (f["reported_where_absent"]["ok"], f["reported_where_absent"]["of"])) for f in summary["per_fault"]]
    except (ValueError, KeyError, TypeError) as e:
        sys.exit("%s: not a `hinge eval --json` summary (%s: %s)" % (source, type(e).__name__, e))
    if not metrics:
        sys.exit("%s: the summary scores no metric" % source)
    return dict(metrics=metrics, counts=counts, bodies=bodies, per_fault=per_fault, rep_start=rep_start)


def deg(name, x):
    return ("%.1f cm" if name.endswith("_cm") else "%.2f°") % x


def table(figs):
    """The markdown table for the sets' figures (in SETS order)."""
    names = [n for n, _ in SETS]
    head = ["metric (MAE; bias ± SD)"]
    for n in names:
        f = figs[n]
        head += ["`%s` (%d bodies)" % (n, f["bodies"]), "predicting zero"]
    head.append("issue 13 asks")
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for metric in figs[names[0]]["metrics"]:
        cells, misses, vs_zero = ["`%s`" % metric], [], []
        target = figs[names[0]]["metrics"][metric]["target"]
        for n in names:
            v = figs[n]["metrics"][metric]
            cells += ["%s (%+.1f ± %.1f)" % (deg(metric, v["mae"]), v["bias"], v["sd"]), deg(metric, v["zero"])]
            if target is not None and v["mae"] > target:
                misses.append(n)
            if metric in VS_ZERO:
                vs_zero.append(1.0 - v["mae"] / v["zero"])
        if target is None:
            ask = "—"
        else:
            ask = "≤ %g°: %s" % (target, "met" if not misses else "**missed** (%s)" % ", ".join(misses))
        if vs_zero:
            ask += "; against zero: " + " / ".join(
                ("%d%% better" % round(100 * r)) if r > 0 else "**%d%% worse**" % round(-100 * r) for r in vs_zero)
        rows.append("| " + " | ".join(cells + [ask]) + " |")

    def share_row(label, key, baseline=None):
        cells, ok = [label], True
        for n in names:
            c = figs[n]["counts"][key]
            if c[1] == 0:
                cells += ["—", ""]
                continue
            ok &= c[0] >= SHARE_TARGET * c[1]
            b = figs[n]["counts"][baseline] if baseline else None
            cells += ["%d/%d" % c, "no fault: %d/%d" % b if b else ""]
        cells.append("≥ 90%%: %s" % ("met" if ok else "**missed**"))
        rows.append("| " + " | ".join(cells) + " |")

    cells = ["frames with a back reading (the camera near enough the side view, the members agreeing)"]
    for n in names:
        m = figs[n]["metrics"][BACK_COVERAGE]
        read = m["frames"]
        cells += ["%d/%d (%d%%)" % (read, read + m["empty"], round(100 * read / max(read + m["empty"], 1))), ""]
    cells.append("—")
    rows.append("| " + " | ".join(cells) + " |")
    share_row("reps counted exactly (clips)", "rep_count_exact")
    cells = ["rep start from the truth's descent onset (reps)"]
    for n in names:
        t = figs[n]["rep_start"]
        cells += ["%.2f s (%+.2f ± %.2f; %d reps)" % (t["mae"], t["bias"], t["sd"], t["reps"]) if t else "—", ""]
    cells.append("—")
    rows.append("| " + " | ".join(cells) + " |")
    share_row("fault set exact (single-variant clips)", "fault_set_exact", "fault_set_no_fault_predictor")
    for label, key in (("… of them filmed side-on (≤ 20° off the side)", "fault_set_exact_side_on"),
                       ("… of them filmed more obliquely", "fault_set_exact_oblique")):
        cells = [label]
        for n in names:
            c = figs[n]["counts"][key]
            cells += ["%d/%d" % c if c[1] else "—", ""]
        cells.append("")
        rows.append("| " + " | ".join(cells) + " |")
    share_row("practice-set reps with the right faults", "practice_reps_right")
    habits = [figs[n]["counts"]["standing_habits_found"] for n in names]
    cells = ["standing tilt habit found (clips)"]
    for h in habits:
        cells += ["%d/%d" % h, ""]
    cells.append("found: %s" % ("met" if all(ok == of for ok, of in habits) else "**missed**"))
    rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def fault_table(figs):
    """The markdown per-fault table: each fault over the single-variant clips and practice-set reps (in SETS
    order)."""
    names = [n for n, _ in SETS]
    head = ["fault"]
    for n in names:
        head += ["`%s`: found where shown" % n, "reported where absent"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    share = lambda c: "%d/%d" % c if c[1] else "—"
    for k, (fault, _, _) in enumerate(figs[names[0]]["per_fault"]):
        cells = ["`%s`" % fault]
        for n in names:
            name, shown, absent = figs[n]["per_fault"][k]
            assert name == fault, "per_fault order differs between the sets"
            cells += [share(shown), share(absent)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def replace_block(path, block, tag):
    BEGIN, END = "<!-- %s:begin -->" % tag, "<!-- %s:end -->" % tag
    text = open(path, encoding="utf-8").read()
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        sys.exit("%s: needs exactly one %s ... %s block" % (path, BEGIN, END))
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    return text, head + BEGIN + "\n" + block + END + tail


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="sources", nargs=len(SETS), metavar="EVAL_JSON",
                    help="`hinge eval --json` outputs of %s, in that order" % " and ".join(n for n, _ in SETS))
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    ap.add_argument("--print", dest="print_only", action="store_true", help="print the table; touch no document")
    ap.add_argument("--hinge", default=os.path.join(ROOT, "target/release/hinge"))
    a = ap.parse_args()
    figs = {}
    for k, (name, fixtures) in enumerate(SETS):
        if a.sources:
            text = open(a.sources[k], encoding="utf-8").read()
            source = a.sources[k]
        else:
            r = subprocess.run([a.hinge, "eval", os.path.join(ROOT, fixtures), "--jobs", "2", "--quiet", "--json"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit("hinge eval %s failed: %s" % (fixtures, r.stderr.strip()))
            text, source = r.stdout, "hinge eval " + fixtures
        figs[name] = parse(text, source)
    blocks = [("accuracy-table", table(figs), DOCS), ("fault-table", fault_table(figs), FAULT_DOCS)]
    if a.print_only:
        print("\n".join(block for _, block, _ in blocks), end="")
        return
    stale = []
    for tag, block, docs in blocks:
        for doc in docs:
            path = os.path.join(ROOT, doc)
            old, new = replace_block(path, block, tag)
            if old != new:
                stale.append("%s (%s)" % (doc, tag))
                if not a.check:
                    open(path, "w", encoding="utf-8").write(new)
    if a.check and stale:
        sys.exit("accuracy tables out of date in %s (run python3 tools/accuracy_table.py)" % ", ".join(stale))
    print("\n".join(block for _, block, _ in blocks), end="")
    if a.check:
        print("up to date: %s" % ", ".join(DOCS), file=sys.stderr)
    else:
        print("written: %s" % (", ".join(stale) or "nothing (already up to date)"), file=sys.stderr)


if __name__ == "__main__":
    main()
