"""ONNX export of FNNs, SSM layers and models (docs/interop.md); needs the optional extra ``.[onnx]``.

Operators (opset 17): an FNN layer is Gemm(x, A_i, b_i, transB=1) on a (batch, d) input and
MatMul(x, Transpose(A_i)) + b_i inside a model (tokens (batch, N, d)), with Relu between layers; the matrices
are stored dense (their cost against the block-sparse form: ``safetensors_export.dense_cost``).  An SSM layer:
MatMul by W_in^T, then per evaluation group a Gather of its channels and
  running_sum  CumSum over the sequence minus the same shifted by U (Pad on the left, Slice),
  delay ℓ      a shift by ℓ (Pad, Slice); zero when ℓ >= U,
  conv         the causal convolution with the filter k materialised up to K: in float32 a depthwise Conv with
               K - 1 zeros of left padding; in float64 (onnxruntime has no double Conv) the K shifted copies
               stacked, multiplied by k and summed (ReduceSum),
then Concat, a Gather by the inverse permutation and MatMul by W_out^T.  A model embeds (Gather of E^T rows for
token ids, or MatMul), runs its blocks, and decodes the last token (Gather index -1, MatMul by W_dec^T).
Tensor names are those of ``safetensors_export.lower`` (fnn/A1, block2/ssm/k, emb/E, dec/W_dec, ...).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .safetensors_export import lower

OPSET = 17
IR_VERSION = 8
_BIG = np.iinfo(np.int64).max


def _onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError("ONNX export needs the 'onnx' package: pip install -e '.[onnx]'") from e
    return onnx


class _Graph:
    def __init__(self, tensors: dict, dtype):
        self.onnx = _onnx()
        self.h = self.onnx.helper
        self.t = tensors
        self.dtype = np.dtype(dtype)
        self.nodes, self.inits, self.names = [], [], set()
        self.n = 0

    def weight(self, name: str) -> str:
        """The initializer ``name`` (float tensors in the export dtype, index tensors int64)."""
        if name not in self.names:
            a = self.t[name]
            a = a.astype(np.int64) if np.issubdtype(a.dtype, np.integer) else a.astype(self.dtype)
            self.inits.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(a), name))
            self.names.add(name)
        return name

    def const(self, hint: str, a) -> str:
        a = np.asarray(a)
        a = a.astype(np.int64) if np.issubdtype(a.dtype, np.integer) else a.astype(self.dtype)
        name = f"{hint}#{self.n}"
        self.n += 1
        self.inits.append(self.onnx.numpy_helper.from_array(a, name))
        return name

    def op(self, op: str, inputs: list, hint: str, **attrs) -> str:
        out = f"{hint}:{self.n}"
        self.n += 1
        self.nodes.append(self.h.make_node(op, inputs, [out], name=out, **attrs))
        return out

    # -------------------------------------------------------------------- layers
    def fnn(self, spec: dict, x: str, rank: int) -> str:
        L = len(spec["layers"])
        for i, lay in enumerate(spec["layers"]):
            A, b = self.weight(lay["A"]), self.weight(lay["b"])
            if rank == 2:
                x = self.op("Gemm", [x, A, b], f"{lay['A']}·x+{lay['b']}", transB=1)
            else:
                AT = self.op("Transpose", [A], f"{lay['A']}^T")
                x = self.op("Add", [self.op("MatMul", [x, AT], f"{lay['A']}·x"), b], f"{lay['A']}·x+{lay['b']}")
            if i < L - 1:
                x = self.op("Relu", [x], f"relu({lay['A']}·x+{lay['b']})")
        return x

    def shift(self, x: str, s: int, hint: str) -> str:
        """x[:, t - s, :] (zero for t < s) along axis 1 of a (batch, N, h) tensor."""
        if s == 0:
            return x
        p = self.op("Pad", [x, self.const("pads", [0, s, 0, 0, 0, 0]), self.const("zero", np.zeros(()))],
                    f"{hint}/pad{s}")
        return self.op("Slice", [p, self.const("start", [0]), self.const("end", [-s]), self.const("axis", [1])],
                       f"{hint}/shift{s}")

    def ssm(self, spec: dict, z: str) -> str:
        pre = spec["perm"].rsplit("/", 1)[0]
        U = spec["U"]
        u = z
        if spec["W_in"] is not None:
            u = self.op("MatMul", [z, self.op("Transpose", [self.weight(spec["W_in"])], f"{spec['W_in']}^T")],
                        f"{spec['W_in']}·Z")
        parts = []
        for g in spec["groups"]:
            x = self.op("Gather", [u, self.weight(g["index"])], f"{g['index']}/u", axis=2)
            if g["kind"] == "running_sum":
                c = self.op("CumSum", [x, self.const("axis", np.array(1))], f"{pre}/cumsum")
                y = self.op("Sub", [c, self.shift(c, U, f"{pre}/cumsum")], f"{pre}/running_sum_U{U}")
            elif g["kind"] == "delay":
                if g["ell"] < U:
                    y = self.shift(x, g["ell"], f"{pre}/delay{g['ell']}")
                else:
                    y = self.op("Mul", [x, self.const("zero", np.zeros(()))], f"{pre}/delay{g['ell']}_beyond_U")
            elif self.dtype == np.float32:
                K = g["K"]
                xt = self.op("Transpose", [x], f"{pre}/u^T", perm=[0, 2, 1])
                w = self.const(f"{g['k']}_flipped", self.t[g["k"]][:, ::-1][:, None, :])
                c = self.op("Conv", [xt, w], f"{g['k']}*u", group=g["h"], pads=[K - 1, 0], kernel_shape=[K])
                y = self.op("Transpose", [c], f"{g['k']}*u^T", perm=[0, 2, 1])
            else:
                K = g["K"]
                p = self.op("Pad", [x, self.const("pads", [0, K - 1, 0, 0, 0, 0]), self.const("zero", np.zeros(()))],
                            f"{pre}/conv_pad")
                cols = []
                for s in range(K):
                    sl = self.op("Slice", [p, self.const("start", [K - 1 - s]), self.const("end", [-s if s else _BIG]),
                                           self.const("axis", [1])], f"{pre}/u_t-{s}")
                    cols.append(self.op("Unsqueeze", [sl, self.const("axis", [3])], f"{pre}/u_t-{s}"))
                st = self.op("Concat", cols, f"{pre}/u_window", axis=3)
                y = self.op("ReduceSum", [self.op("Mul", [st, self.weight(g["k"])], f"{g['k']}⊙u_window"),
                                          self.const("axis", [3])], f"{g['k']}*u", keepdims=0)
            parts.append(y)
        y = parts[0] if len(parts) == 1 else self.op("Concat", parts, f"{pre}/groups", axis=2)
        y = self.op("Gather", [y, self.weight(spec["perm"])], f"{pre}/y", axis=2)
        if spec["W_out"] is not None:
            y = self.op("MatMul", [y, self.op("Transpose", [self.weight(spec["W_out"])], f"{spec['W_out']}^T")],
                        f"{spec['W_out']}·y")
        return y


def to_onnx(obj, dtype="float64", max_len: int | None = None, name: str = "net"):
    """The ONNX ModelProto of an FNN, SSMLayer or SSMModel (batch and sequence length are dynamic axes).

    Inputs: ``x`` (batch, d_in) for an FNN; ``Z`` (batch, N, d_in) for an SSM layer or a vector-embedding model;
    ``ids`` int64 (batch, N) for a one-hot model.  Output ``y`` (FNN, SSM layer, model without decoding:
    (batch, N, d_out)) or ``logits`` (batch, V) of the last token."""
    onnx = _onnx()
    spec, t = lower(obj, max_len)
    if np.dtype(dtype) not in (np.float64, np.float32):
        raise ValueError(f"dtype must be float64 or float32, got {dtype!r}")
    G = _Graph(t, dtype)
    ft = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    vi = onnx.helper.make_tensor_value_info
    if spec["kind"] == "fnn":
        inp = vi("x", ft, ["batch", spec["d_in"]])
        y = G.fnn(spec, "x", 2)
        out_shape = ["batch", spec["d_out"]]
        out_name = "y"
    elif spec["kind"] == "ssm":
        inp = vi("Z", ft, ["batch", "N", spec["d_in"]])
        y = G.ssm(spec, "Z")
        out_shape = ["batch", "N", spec["d_out"]]
        out_name = "y"
    else:
        emb = spec["embedding"]
        if emb is not None and emb["kind"] == "onehot":
            inp = vi("ids", onnx.TensorProto.INT64, ["batch", "N"])
            z = G.op("Gather", [G.op("Transpose", [G.weight("emb/E")], "emb/E^T"), "ids"], "emb/E^T[ids]", axis=0)
        else:
            inp = vi("Z", ft, ["batch", "N", spec["d_in"]])
            z = "Z" if emb is None else G.op("MatMul", ["Z", G.op("Transpose", [G.weight("emb/E")], "emb/E^T")],
                                              "emb/E·x")
        if emb is not None and emb["b"] is not None:
            z = G.op("Add", [z, G.weight("emb/b")], "emb/E·x+b")
        if spec.get("pre") is not None:  # the first FNN of FNN + SSM + FNN
            z = G.fnn(spec["pre"], z, 3)
        for blk in spec["blocks"]:
            z = G.fnn(blk["fnn"], G.ssm(blk["ssm"], z), 3)
        d_out = spec["blocks"][-1]["fnn"]["d_out"]
        out_shape = ["batch", "N", d_out]
        out_name = "y"
        y = z
        if spec["decoding"] is not None:
            last = G.op("Gather", [z, G.const("last", np.array(-1))], "last_token", axis=1)
            y = G.op("MatMul", [last, G.op("Transpose", [G.weight("dec/W_dec")], "dec/W_dec^T")], "dec/W_dec·z_N")
            out_shape = ["batch", int(t["dec/W_dec"].shape[0])]
            out_name = "logits"
    G.nodes.append(onnx.helper.make_node("Identity", [y], [out_name], name=out_name))
    graph = onnx.helper.make_graph(G.nodes, name, [inp], [vi(out_name, ft, out_shape)], G.inits)
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)],
                                   producer_name="ssm-verifier", ir_version=IR_VERSION)
    model.doc_string = ("Exported by constructions.onnx_export (docs/interop.md); weights named after the paper's "
                        "symbols (A_i, b_i, k, E, W_dec) and the layer index.")
    onnx.checker.check_model(model)
    return model


def save_onnx(obj, path, dtype="float64", max_len: int | None = None) -> Path:
    """Write ``path`` (.onnx added if missing) after ``onnx.checker``; returns the path."""
    onnx = _onnx()
    path = Path(path)
    if path.suffix != ".onnx":
        path = path.with_name(path.name + ".onnx")
    model = to_onnx(obj, dtype, max_len, name=path.stem)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(path))
    except OSError as e:
        raise OSError(f"cannot write {path}: {e.strerror or e}") from e
    return path
