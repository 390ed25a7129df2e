"""PyTorch export (optional extra ``.[torch]``): ``to_torch(obj)`` -> an ``nn.Module`` in float64 whose forward
equals ours; its parameters carry the names of the ONNX / safetensors export (``safetensors_export.lower``), so
``module.load_safetensors(path)`` loads a file written by ``save_safetensors``.  ``obj`` is an FNN, SSMLayer,
SSMModel, or the path of such a safetensors file.
"""

from __future__ import annotations

import numpy as np

from .safetensors_export import load_safetensors, lower


def _torch():
    try:
        import torch
    except ImportError as e:
        raise ImportError("the PyTorch export needs torch: pip install -e '.[torch]'") from e
    return torch


def to_torch(obj, max_len: int | None = None):
    torch = _torch()
    if isinstance(obj, (str,)) or hasattr(obj, "__fspath__"):
        spec, t = load_safetensors(obj)
    else:
        spec, t = lower(obj, max_len)

    class Lowered(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.spec = spec
            self.keys = {}
            for k, v in t.items():
                buf = torch.from_numpy(np.ascontiguousarray(v)).clone()
                attr = k.replace("/", "__")
                self.keys[k] = attr
                self.register_buffer(attr, buf)

        def w(self, k):
            return getattr(self, self.keys[k])

        def load_safetensors(self, path):
            _, tt = load_safetensors(path)
            for k, v in tt.items():
                self.w(k).copy_(torch.from_numpy(np.ascontiguousarray(v)))
            return self

        def _fnn(self, s, x):
            L = len(s["layers"])
            for i, lay in enumerate(s["layers"]):
                x = x @ self.w(lay["A"]).T + self.w(lay["b"])
                if i < L - 1:
                    x = torch.relu(x)
            return x

        @staticmethod
        def _shift(x, s):
            if s == 0:
                return x
            N = x.shape[-2]
            z = torch.zeros_like(x)
            if s < N:
                z[..., s:, :] = x[..., :N - s, :]
            return z

        def _ssm(self, s, z):
            u = z if s["W_in"] is None else z @ self.w(s["W_in"]).T
            parts = []
            for g in s["groups"]:
                x = u[..., self.w(g["index"])]
                if g["kind"] == "running_sum":
                    c = torch.cumsum(x, dim=-2)
                    parts.append(c - self._shift(c, s["U"]))
                elif g["kind"] == "delay":
                    parts.append(self._shift(x, g["ell"]) if g["ell"] < s["U"] else torch.zeros_like(x))
                else:
                    k = self.w(g["k"])  # (h, K)
                    parts.append(sum(k[:, j] * self._shift(x, j) for j in range(min(g["K"], x.shape[-2]))))
            y = torch.cat(parts, dim=-1)[..., self.w(s["perm"])]
            return y if s["W_out"] is None else y @ self.w(s["W_out"]).T

        def forward(self, x):
            s = self.spec
            if s["kind"] == "fnn":
                return self._fnn(s, x)
            if s["kind"] == "ssm":
                return self._ssm(s, x)
            e = s["embedding"]
            if e is not None:
                x = self.w("emb/E").T[x] if e["kind"] == "onehot" else x @ self.w("emb/E").T
                if e["b"] is not None:
                    x = x + self.w("emb/b")
            if s.get("pre") is not None:
                x = self._fnn(s["pre"], x)
            for blk in s["blocks"]:
                x = self._fnn(blk["fnn"], self._ssm(blk["ssm"], x))
            if s["decoding"] is not None:
                x = x[..., -1, :] @ self.w("dec/W_dec").T
            return x

    return Lowered()
