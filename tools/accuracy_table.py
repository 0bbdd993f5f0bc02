"""Writes the held-out accuracy table of README.md and docs/metrics.md from `hinge eval` itself, so that the
figures the documents show are the figures the shipped model gives (one table, written in both places).

  python3 tools/accuracy_table.py            # runs target/release/hinge eval on both held-out fixture sets
  python3 tools/accuracy_table.py --check    # exits 1 if a document's table differs from a fresh run
  python3 tools/accuracy_table.py --from HELDOUT.txt LOOSE.txt   # eval outputs already written
  python3 tools/accuracy_table.py --print ...                     # the table only; no document touched

The table sits between `<!-- accuracy-table:begin -->` and `<!-- accuracy-table:end -->` in each document.
Targets are issue 13's (the `target` column of `hinge eval`; fault sets, practice-set reps: 90 %).
"""
import argparse, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETS = [("heldout", "tests/fixtures/heldout"), ("heldout_loose", "tests/fixtures/heldout_loose")]
DOCS = ["README.md", "docs/metrics.md"]
BEGIN, END = "<!-- accuracy-table:begin -->", "<!-- accuracy-table:end -->"
# metrics whose issue-13 target also asks for "clearly better than predicting zero"
VS_ZERO = ("hip_flexion_deg", "lumbar_flexion_deg", "pelvic_tilt_deg", "rib_stack_deg")
# standing tilt habits: clips of these variants must report the habit at clip level
HABIT_VARIANTS = ("idle_anterior", "idle_posterior")
SHARE_TARGET = 0.9

METRIC = re.compile(r"^\s{2}(\w+_(?:deg|cm))\s+([\d.]+)\s+([+-][\d.]+) ± ([\d.]+)\s+([\d.]+)\s*(?:≤ ([\d.]+))?")
COUNT = re.compile(r"^\s{2}(rep count exact|fault set exact|session reps right)\s+(\d+)/(\d+)")
NO_FAULT = re.compile(r"predicting no fault: (\d+)/(\d+)")
BODIES = re.compile(r"^Over all frames with a person \((\d+) clips, (\d+) bodies\)")
CLIP = re.compile(r"^(\S+)\s+\d+\.\d\s.*\s(\S+) / (\S+)( ✗)?$")


def parse(text, source):
    """Figures of one `hinge eval` summary."""
    out = dict(metrics={}, counts={}, habits=[0, 0])
    for line in text.splitlines():
        m = METRIC.match(line)
        if m:
            name, mae, bias, sd, zero, target = m.groups()
            out["metrics"][name] = dict(mae=float(mae), bias=float(bias), sd=float(sd), zero=float(zero),
                                        target=float(target) if target else None)
            continue
        m = COUNT.match(line)
        if m:
            out["counts"][m.group(1)] = (int(m.group(2)), int(m.group(3)))
            n = NO_FAULT.search(line)
            if n:
                out["counts"]["no fault"] = (int(n.group(1)), int(n.group(2)))
            continue
        m = BODIES.match(line)
        if m:
            out["clips"], out["bodies"] = int(m.group(1)), int(m.group(2))
            continue
        m = CLIP.match(line)
        if m and any("_%s_" % v in m.group(1) for v in HABIT_VARIANTS):
            out["habits"][1] += 1
            out["habits"][0] += m.group(4) is None
    for need in ("rep count exact", "fault set exact", "no fault"):
        if need not in out["counts"]:
            sys.exit("%s: no `%s` line in the hinge eval output" % (source, need))
    if not out["metrics"] or "bodies" not in out:
        sys.exit("%s: not a hinge eval summary" % source)
    return out


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
            c = figs[n]["counts"].get(key)
            if c is None:
                cells += ["—", ""]
                continue
            ok &= c[0] >= SHARE_TARGET * c[1]
            b = figs[n]["counts"].get(baseline) if baseline else None
            cells += ["%d/%d" % c, "no fault: %d/%d" % b if b else ""]
        cells.append("≥ 90%%: %s" % ("met" if ok else "**missed**"))
        rows.append("| " + " | ".join(cells) + " |")

    share_row("reps counted exactly (clips)", "rep count exact")
    share_row("fault set exact (single-variant clips)", "fault set exact", "no fault")
    share_row("practice-set reps with the right faults", "session reps right")
    cells = ["standing tilt habit found (clips)"]
    for n in names:
        cells += ["%d/%d" % tuple(figs[n]["habits"]), ""]
    cells.append("found: %s" % ("met" if all(figs[n]["habits"][0] == figs[n]["habits"][1] for n in names)
                                else "**missed**"))
    rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def replace_block(path, block):
    text = open(path, encoding="utf-8").read()
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        sys.exit("%s: needs exactly one %s ... %s block" % (path, BEGIN, END))
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    return text, head + BEGIN + "\n" + block + END + tail


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="sources", nargs=len(SETS), metavar="EVAL_TXT",
                    help="hinge eval outputs of %s, in that order" % " and ".join(n for n, _ in SETS))
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
            r = subprocess.run([a.hinge, "eval", os.path.join(ROOT, fixtures), "--jobs", "2", "--quiet"],
                               capture_output=True, text=True)
            text, source = r.stdout + r.stderr, "hinge eval " + fixtures
        figs[name] = parse(text, source)
    block = table(figs)
    if a.print_only:
        print(block, end="")
        return
    stale = []
    for doc in DOCS:
        path = os.path.join(ROOT, doc)
        old, new = replace_block(path, block)
        if old != new:
            stale.append(doc)
            if not a.check:
                open(path, "w", encoding="utf-8").write(new)
    if a.check and stale:
        sys.exit("accuracy table out of date in %s (run python3 tools/accuracy_table.py)" % ", ".join(stale))
    print(block, end="")
    if a.check:
        print("up to date: %s" % ", ".join(DOCS), file=sys.stderr)
    else:
        print("written: %s" % (", ".join(stale) or "nothing (already up to date)"), file=sys.stderr)


if __name__ == "__main__":
    main()
