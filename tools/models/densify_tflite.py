"""Replace DENSIFY ops (sparse constant weights) in a .tflite by dense constants.

tf2onnx/tflite2onnx cannot parse TFLite sparse tensors. We run the model once
in the TFLite interpreter (no delegates, all tensors preserved), read each
DENSIFY output, write it into the sparse input tensor's slot as a plain dense
buffer, rewire consumers and drop the DENSIFY op. Numerically exact.
usage: python densify_tflite.py in.tflite out.tflite

Part of tools/models/convert.sh (adapted from the shared BlazePose recipe).
Needs tensorflow-cpu (pinned in convert.sh).
"""
import sys
import numpy as np
import tensorflow as tf
from tensorflow.lite.tools import flatbuffer_utils as fbu
from tensorflow.lite.python import schema_py_generated as schema

if len(sys.argv) != 3:
    sys.exit(__doc__)
src, dst = sys.argv[1], sys.argv[2]
model = fbu.read_model(src)
assert len(model.subgraphs) == 1
sg = model.subgraphs[0]

def opname(op):
    oc = model.operatorCodes[op.opcodeIndex]
    return max(oc.builtinCode, oc.deprecatedBuiltinCode)

dens_ops = [op for op in sg.operators if opname(op) == schema.BuiltinOperator.DENSIFY]
print(f"{len(dens_ops)} DENSIFY ops")
if dens_ops:
    it = tf.lite.Interpreter(
        model_path=src, experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    for d in it.get_input_details():
        it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
    it.invoke()
    remap = {}
    for op in dens_ops:
        s_idx, d_idx = int(op.inputs[0]), int(op.outputs[0])
        dense = it.get_tensor(d_idx)
        st = sg.tensors[s_idx]
        assert list(st.shape) == list(dense.shape), (st.shape, dense.shape)
        want = {schema.TensorType.FLOAT16: np.float16, schema.TensorType.FLOAT32: np.float32,
                schema.TensorType.INT8: np.int8}[st.type]
        assert dense.dtype == want, (dense.dtype, want)
        model.buffers[st.buffer].data = np.frombuffer(dense.tobytes(), np.uint8)
        st.sparsity = None
        remap[d_idx] = s_idx
    sg.operators = [op for op in sg.operators if opname(op) != schema.BuiltinOperator.DENSIFY]
    for op in sg.operators:
        op.inputs = np.array([remap.get(int(i), int(i)) for i in op.inputs], dtype=np.int32)
    sg.outputs = np.array([remap.get(int(i), int(i)) for i in sg.outputs], dtype=np.int32)
fbu.write_model(model, dst)
print("wrote", dst)
