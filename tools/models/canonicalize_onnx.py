"""Make tf2onnx output byte-reproducible: tf2onnx numbers auto-generated tensor/node names
from global counters that vary run to run (the graph itself is identical). Rename every
internal tensor/initializer/node by first use in topological node order; keep graph I/O names.
usage: python canonicalize_onnx.py in.onnx out.onnx

Part of tools/models/convert.sh (adapted from the shared BlazePose recipe).
"""
import sys, onnx
if len(sys.argv) != 3:
    sys.exit(__doc__)
m = onnx.load(sys.argv[1]); g = m.graph
keep = {i.name for i in g.input} | {o.name for o in g.output}
ren = {}
def name(t):
    if t == "" or t in keep: return t
    if t not in ren: ren[t] = f"t{len(ren)}"
    return ren[t]
for i, n in enumerate(g.node):
    n.name = f"n{i}_{n.op_type}"
    for k in range(len(n.input)): n.input[k] = name(n.input[k])
    for k in range(len(n.output)): n.output[k] = name(n.output[k])
for t in g.initializer: t.name = name(t.name)
inits = sorted(g.initializer, key=lambda t: int(t.name[1:]) if t.name[1:].isdigit() else -1)
del g.initializer[:]; g.initializer.extend(inits)
for vi in list(g.value_info): vi.name = name(vi.name)
vis = sorted(g.value_info, key=lambda v: v.name); del g.value_info[:]; g.value_info.extend(vis)
m.doc_string = ""
onnx.checker.check_model(m)
onnx.save(m, sys.argv[2])
