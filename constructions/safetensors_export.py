"""Named weights shared by the ONNX, safetensors and PyTorch exports (docs/interop.md).

``lower(obj)`` turns an FNN, an SSMLayer or an SSMModel into a *spec* (a JSON-able description of the operators,
naming every tensor) and a dict ``name -> array`` of the tensors, with the paper's symbols in the names:

    fnn/A1, fnn/b1, ...              the affine maps A_i (d_i x d_{i-1}, the paper's orientation) and biases b_i
    ssm/W_in, ssm/W_out              the SSM layer's input and output maps (absent when the identity)
    ssm/k                            the filters k_0..k_{K-1} of the channels evaluated as a convolution, (h, K)
    ssm/idx_rs, ssm/idx_delay<l>,    channel indices of each evaluation group (int64) and the permutation that
    ssm/idx_conv, ssm/perm           puts the groups' outputs back in channel order
    emb/E, emb/b, dec/W_dec          embedding and decoding of a model; pre/fnn/... its first FNN (if any);
                                     block<i>/ssm/..., block<i>/fnn/... its blocks

Running-sum channels are lowered to a cumulative sum minus its value U steps back, delay channels to a shift
(both exact, no weights), every other channel to a causal convolution with its filter materialised up to
K = min(U, max_len).  ``save_safetensors`` writes the tensors with the spec in the file's metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .fnn import FNN
from .model import SSMModel
from .ssm import SSMLayer

# A convolution filter longer than this must be asked for explicitly (max_len): the lowered graph is O(N K).
MAX_FILTER = 4096


def _fnn(f: FNN, pre: str, t: dict) -> dict:
    layers = []
    for i, (A, b) in enumerate(f.dense_maps()):
        t[f"{pre}/A{i + 1}"] = A
        t[f"{pre}/b{i + 1}"] = b
        layers.append({"A": f"{pre}/A{i + 1}", "b": f"{pre}/b{i + 1}", "d_in": int(A.shape[1]),
                       "d_out": int(A.shape[0])})
    return {"kind": "fnn", "d_in": f.d_in, "d_out": f.d_out, "layers": layers}


def _ssm(g: SSMLayer, pre: str, t: dict, max_len: int | None) -> dict:
    groups, order = [], []
    rs = [i for i, c in enumerate(g.channels) if c.family == "running_sum"]
    if rs:
        t[f"{pre}/idx_rs"] = np.array(rs, dtype=np.int64)
        groups.append({"kind": "running_sum", "index": f"{pre}/idx_rs", "h": len(rs)})
        order += rs
    ells = sorted({c.ell for c in g.channels if c.family == "delay"})
    for ell in ells:
        idx = [i for i, c in enumerate(g.channels) if c.family == "delay" and c.ell == ell]
        t[f"{pre}/idx_delay{ell}"] = np.array(idx, dtype=np.int64)
        groups.append({"kind": "delay", "ell": int(ell), "index": f"{pre}/idx_delay{ell}", "h": len(idx)})
        order += idx
    conv = [i for i, c in enumerate(g.channels) if c.family not in ("running_sum", "delay")]
    K = None
    if conv:
        K = g.U if max_len is None else min(g.U, int(max_len))
        if K > MAX_FILTER and max_len is None:
            raise ValueError(f"the SSM layer {pre} has window U = {g.U} and {len(conv)} channels that need a "
                             f"materialised filter; pass max_len (the longest sequence the export must serve)")
        t[f"{pre}/idx_conv"] = np.array(conv, dtype=np.int64)
        t[f"{pre}/k"] = g.filters(K)[conv]
        groups.append({"kind": "conv", "index": f"{pre}/idx_conv", "k": f"{pre}/k", "K": int(K), "h": len(conv)})
        order += conv
    perm = np.argsort(np.array(order, dtype=np.int64)).astype(np.int64)
    t[f"{pre}/perm"] = perm
    spec = {"kind": "ssm", "U": g.U, "H": g.H, "d_in": g.d_in, "d_out": g.d_out, "groups": groups,
            "perm": f"{pre}/perm", "W_in": None, "W_out": None,
            "valid_for_N_up_to": None if (K is None or K == g.U) else int(K)}
    if g.W_in is not None:
        t[f"{pre}/W_in"] = g.W_in
        spec["W_in"] = f"{pre}/W_in"
    if g.W_out is not None:
        t[f"{pre}/W_out"] = g.W_out
        spec["W_out"] = f"{pre}/W_out"
    return spec


def lower(obj, max_len: int | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """(spec, tensors) of an FNN, SSMLayer or SSMModel; see the module docstring."""
    t: dict[str, np.ndarray] = {}
    if isinstance(obj, FNN):
        return _fnn(obj, "fnn", t), t
    if isinstance(obj, SSMLayer):
        return _ssm(obj, "ssm", t, max_len), t
    if isinstance(obj, SSMModel):
        emb = None
        if obj.embedding is not None:
            t["emb/E"] = obj.embedding.E
            emb = {"kind": obj.embedding.kind, "E": "emb/E", "b": None, "V": int(obj.embedding.E.shape[1]),
                   "D": int(obj.embedding.E.shape[0])}
            if obj.embedding.b is not None:
                t["emb/b"] = obj.embedding.b
                emb["b"] = "emb/b"
        blocks = [{"ssm": _ssm(g, f"block{i + 1}/ssm", t, max_len), "fnn": _fnn(f, f"block{i + 1}/fnn", t)}
                  for i, (g, f) in enumerate(obj.blocks)]
        dec = None
        if obj.decoding is not None:
            t["dec/W_dec"] = obj.decoding.W_dec
            dec = {"W_dec": "dec/W_dec"}
        pre = _fnn(obj.pre, "pre/fnn", t) if obj.pre is not None else None
        d_in = obj.embedding.d_in if obj.embedding is not None else (
            obj.pre.d_in if obj.pre is not None else obj.blocks[0][0].d_in)
        return {"kind": "model", "M": obj.M, "d_in": d_in, "embedding": emb, "pre": pre, "blocks": blocks,
                "decoding": dec}, t
    raise TypeError(f"cannot export {type(obj).__name__}; expected FNN, SSMLayer or SSMModel")


def dense_cost(obj) -> dict:
    """Entries the dense FNN maps store against the nonzeros S of the block-sparse form, over every FNN in obj."""
    fnns = [obj] if isinstance(obj, FNN) else (([obj.pre] if obj.pre is not None else []) + [f for _, f in obj.blocks]
                                               if isinstance(obj, SSMModel) else [])
    S = sum(f.counts().S for f in fnns)
    dense = sum(f.counts().dense for f in fnns)
    return {"S": S, "dense": dense, "ratio": dense / S if S else None}


def save_safetensors(obj, path, max_len: int | None = None) -> Path:
    """Write ``path`` (.safetensors added if missing): the tensors of ``lower(obj)``, the spec as metadata."""
    try:
        from safetensors.numpy import save_file
    except ImportError as e:
        raise ImportError("safetensors export needs the 'safetensors' package: pip install -e '.[onnx]'") from e
    spec, t = lower(obj, max_len)
    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_name(path.name + ".safetensors")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: np.ascontiguousarray(v) for k, v in t.items()}, str(path),
                  metadata={"format": "ssm-verifier-lowered", "spec": json.dumps(spec)})
    except OSError as e:
        raise OSError(f"cannot write {path}: {e.strerror or e}") from e
    return path


def load_safetensors(path) -> tuple[dict, dict[str, np.ndarray]]:
    """(spec, tensors) from a file written by ``save_safetensors``."""
    try:
        from safetensors import safe_open
    except ImportError as e:
        raise ImportError("reading safetensors needs the 'safetensors' package: pip install -e '.[onnx]'") from e
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            t = {k: f.get_tensor(k) for k in f.keys()}
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read {path}: {e}") from e
    if meta.get("format") != "ssm-verifier-lowered":
        raise ValueError(f"{path} was not written by constructions.safetensors_export")
    return json.loads(meta["spec"]), t
