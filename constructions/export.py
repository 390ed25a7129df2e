"""Weight export: every array in one ``.npz`` plus a JSON manifest naming them (docs/weights-format.md).

``save(obj, path)`` writes ``path.npz`` and ``path.json`` for an FNN, an SSMLayer or an SSMModel;
``load(path)`` rebuilds the same object from them, with outputs bit-identical to the original;
``fingerprint(obj)`` hashes the exported form (bit-identical weights <=> equal fingerprints).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .affine import Affine, BlockGroup, ExactTail
from .fnn import FNN
from .model import Decoding, Embedding, SSMModel
from .ssm import SSMChannel, SSMLayer

FORMAT = "ssm-verifier-weights"
VERSION = 1


class _Writer:
    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def put(self, name: str, a) -> str:
        if name in self.arrays:
            raise ValueError(f"duplicate array name {name}")
        self.arrays[name] = np.asarray(a)
        return name


def _fnn_manifest(f: FNN, w: _Writer, pre: str) -> dict:
    layers = []
    for i, lay in enumerate(f.layers):
        p = f"{pre}/A{i + 1}"
        groups = [{"shape": list(g.W.shape), "rows": w.put(f"{p}/g{j}/rows", g.rows),
                   "cols": w.put(f"{p}/g{j}/cols", g.cols), "W": w.put(f"{p}/g{j}/W", g.W)}
                  for j, g in enumerate(lay.groups)]
        entry = {"d_in": lay.d_in, "d_out": lay.d_out, "b": w.put(f"{pre}/b{i + 1}", lay.b), "groups": groups}
        if lay.tail is not None:  # exact parts beyond float64 (docs/weights-format.md, "Exact tails"); absent otherwise
            t = lay.tail
            entry["exact_tail"] = {"rows": w.put(f"{p}/tail/rows", t.rows), "cols": w.put(f"{p}/tail/cols", t.cols),
                                   "parts": w.put(f"{p}/tail/parts", t.parts),
                                   "b_parts": w.put(f"{p}/tail/b_parts", t.b_parts)}
        layers.append(entry)
    return {"kind": "fnn", "d_in": f.d_in, "d_out": f.d_out, "activation": "relu", "layers": layers}


def _ssm_manifest(g: SSMLayer, w: _Writer, pre: str) -> dict:
    by_m: dict[int, list[int]] = {}
    for i, ch in enumerate(g.channels):
        by_m.setdefault(ch.m, []).append(i)
    groups = []
    for m, idx in sorted(by_m.items()):
        if m == 0:
            continue
        p = f"{pre}/m{m}"
        groups.append({"m": m, "index": w.put(f"{p}/index", np.array(idx, dtype=np.int64)),
                       "A": w.put(f"{p}/A", np.stack([g.channels[i].A for i in idx])),
                       "B": w.put(f"{p}/B", np.stack([g.channels[i].B for i in idx])),
                       "C": w.put(f"{p}/C", np.stack([g.channels[i].C for i in idx]))})
    return {"kind": "ssm", "U": g.U, "channels": g.H, "d_in": g.d_in, "d_out": g.d_out,
            "convention": "x_t = A x_{t-1} + B u_t; y_t = C x_{t-1} + D u_t; k_0 = D, k_s = C A^(s-1) B; "
                          "y_t = sum_{s<U} k_s u_{t-s}",
            "D": w.put(f"{pre}/D", np.array([c.D for c in g.channels])),
            "family": [c.family for c in g.channels], "ell": [c.ell for c in g.channels],
            "state_groups": groups,
            "W_in": None if g.W_in is None else w.put(f"{pre}/W_in", g.W_in),
            "W_out": None if g.W_out is None else w.put(f"{pre}/W_out", g.W_out)}


def _sibling(path: Path, ext: str) -> Path:
    """``path`` + ``ext`` (a name with dots, such as lemma-F.3-mult, keeps every part)."""
    return path.with_name(path.name + ext)


def to_arrays(obj) -> tuple[dict, dict[str, np.ndarray]]:
    """The manifest's ``architecture`` entry and the named arrays of an FNN, SSMLayer or SSMModel."""
    w = _Writer()
    if isinstance(obj, FNN):
        arch = _fnn_manifest(obj, w, "fnn")
    elif isinstance(obj, SSMLayer):
        arch = _ssm_manifest(obj, w, "ssm")
    elif isinstance(obj, SSMModel):
        emb = None
        if obj.embedding is not None:
            emb = {"kind": obj.embedding.kind, "E": w.put("emb/E", obj.embedding.E),
                   "b": None if obj.embedding.b is None else w.put("emb/b", obj.embedding.b)}
        blocks = [{"ssm": _ssm_manifest(g, w, f"block{i + 1}/ssm"), "fnn": _fnn_manifest(f, w, f"block{i + 1}/fnn")}
                  for i, (g, f) in enumerate(obj.blocks)]
        dec = None if obj.decoding is None else {"W_dec": w.put("dec/W_dec", obj.decoding.W_dec)}
        arch = {"kind": "model", "M": obj.M, "embedding": emb, "blocks": blocks, "decoding": dec}
        if obj.pre is not None:  # the key is absent for models without a first FNN (older exports load unchanged)
            arch["pre"] = _fnn_manifest(obj.pre, w, "pre/fnn")
    else:
        raise TypeError(f"cannot export {type(obj).__name__}; expected FNN, SSMLayer or SSMModel")
    return arch, w.arrays


def fingerprint(obj) -> str:
    """A SHA-256 hex digest of the exported form (architecture and every array's name, dtype, shape and bytes):
    equal fingerprints mean bit-identical weights.  Used to check that a refactoring leaves emitted nets unchanged."""
    arch, arrays = to_arrays(obj)
    h = hashlib.sha256(json.dumps(arch, sort_keys=True).encode())
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}|{a.dtype}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save(obj, path) -> tuple[Path, Path]:
    """Write ``path.npz`` and ``path.json``; returns both paths."""
    path = Path(path)
    if path.suffix in (".npz", ".json"):
        path = path.with_suffix("")
    arch, arrays = to_arrays(obj)
    manifest = {"format": FORMAT, "version": VERSION, "arrays": path.name + ".npz",
                "shapes": {k: list(v.shape) for k, v in arrays.items()},
                "dtypes": {k: str(v.dtype) for k, v in arrays.items()}, "architecture": arch}
    npz, js = _sibling(path, ".npz"), _sibling(path, ".json")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(npz, **arrays)
        js.write_text(json.dumps(manifest, indent=1))
    except OSError as e:
        raise OSError(f"cannot write export to {path}: {e.strerror or e}") from e
    return npz, js


def _fnn_load(m: dict, a) -> FNN:
    layers = []
    for lay in m["layers"]:
        groups = [BlockGroup(a[g["rows"]], a[g["cols"]], a[g["W"]]) for g in lay["groups"]]
        t = lay.get("exact_tail")
        tail = None if t is None else ExactTail(a[t["rows"]], a[t["cols"]], a[t["parts"]], a[t["b_parts"]])
        layers.append(Affine(lay["d_in"], lay["d_out"], groups, a[lay["b"]], tail=tail))
    return FNN(layers)


def _ssm_load(m: dict, a) -> SSMLayer:
    D = a[m["D"]]
    chans: list = [SSMChannel(np.zeros((0, 0)), np.zeros(0), np.zeros(0), D[i], m["family"][i], m["ell"][i])
                   for i in range(m["channels"])]
    for grp in m["state_groups"]:
        A, B, C = a[grp["A"]], a[grp["B"]], a[grp["C"]]
        for j, i in enumerate(a[grp["index"]]):
            chans[i] = SSMChannel(A[j], B[j], C[j], D[i], m["family"][i], m["ell"][i])
    return SSMLayer(tuple(chans), m["U"], None if m["W_in"] is None else a[m["W_in"]],
                    None if m["W_out"] is None else a[m["W_out"]])


def load(path):
    """Rebuild the exported FNN, SSMLayer or SSMModel."""
    path = Path(path)
    if path.suffix in (".npz", ".json"):
        path = path.with_suffix("")
    try:
        manifest = json.loads(_sibling(path, ".json").read_text())
        a = dict(np.load(_sibling(path, ".npz")))
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read export {path}: {e}") from e
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{path}.json is not a {FORMAT} manifest")
    arch = manifest["architecture"]
    if arch["kind"] == "fnn":
        return _fnn_load(arch, a)
    if arch["kind"] == "ssm":
        return _ssm_load(arch, a)
    emb = None
    if arch["embedding"] is not None:
        e = arch["embedding"]
        emb = Embedding(a[e["E"]], None if e["b"] is None else a[e["b"]], e["kind"])
    blocks = tuple((_ssm_load(b["ssm"], a), _fnn_load(b["fnn"], a)) for b in arch["blocks"])
    dec = None if arch["decoding"] is None else Decoding(a[arch["decoding"]["W_dec"]])
    pre = _fnn_load(arch["pre"], a) if arch.get("pre") is not None else None
    return SSMModel(emb, blocks, dec, pre)


def to_torch(obj, max_len=None):
    """An ``nn.Module`` (float64) equal to ``obj``'s forward; see ``constructions.torch_export`` (extra .[torch])."""
    from .torch_export import to_torch as _to_torch

    return _to_torch(obj, max_len)
