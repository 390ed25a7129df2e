"""Embedding, decoding and the deep SSM class S(M, U, D, L, W, S, B) (paper Sections 2 (iii) and 3).

    F = f_M ∘ g_M ∘ ... ∘ f_1 ∘ g_1 ∘ Emb,    then optionally Dec on the last token.

No residual connections: identity (delay-0) channels carry whatever a later layer needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .affine import as_finite
from .fnn import FNN
from .ssm import SSMLayer


@dataclass(frozen=True)
class Embedding:
    """Token-wise linear map to R^D: ids (kind='onehot', E of shape (D, |V|)) or vectors (kind='vector')."""

    E: np.ndarray
    b: np.ndarray | None = None
    kind: str = "onehot"

    def __post_init__(self):
        object.__setattr__(self, "E", as_finite("embedding matrix", self.E, 2))
        if self.b is not None:
            b = as_finite("embedding bias", self.b, 1)
            if b.shape != (self.E.shape[0],):
                raise ValueError(f"embedding bias must have shape ({self.E.shape[0]},), got {b.shape}")
            object.__setattr__(self, "b", b)
        if self.kind not in ("onehot", "vector"):
            raise ValueError(f"embedding kind must be 'onehot' or 'vector', got {self.kind!r}")

    @property
    def D(self) -> int:
        return self.E.shape[0]

    @property
    def d_in(self) -> int:
        return self.E.shape[1]

    def __call__(self, X) -> np.ndarray:
        if self.kind == "onehot":
            ids = np.asarray(X)
            if not np.issubdtype(ids.dtype, np.integer):
                raise ValueError(f"one-hot embedding expects integer token ids, got dtype {ids.dtype}")
            if ids.size and (ids.min() < 0 or ids.max() >= self.d_in):
                raise ValueError(f"token ids must lie in [0, {self.d_in}), got range [{ids.min()}, {ids.max()}]")
            Z = self.E.T[ids]
        else:
            X = np.asarray(X, dtype=np.float64)
            if X.ndim < 1 or X.shape[-1] != self.d_in:
                raise ValueError(f"vector embedding expects inputs of shape (..., {self.d_in}), got {X.shape}")
            if not np.all(np.isfinite(X)):
                raise ValueError("embedding input contains NaN or inf")
            Z = X @ self.E.T
        return Z if self.b is None else Z + self.b


@dataclass(frozen=True)
class Decoding:
    """W_Dec applied to the last token; the prediction is the argmax coordinate."""

    W_dec: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "W_dec", as_finite("decoding matrix", self.W_dec, 2))

    def logits(self, Y, all_positions: bool = False) -> np.ndarray:
        Y = np.asarray(Y, dtype=np.float64)
        if Y.shape[-1] != self.W_dec.shape[1]:
            raise ValueError(f"decoding expects tokens of dimension {self.W_dec.shape[1]}, got {Y.shape[-1]}")
        return (Y if all_positions else Y[..., -1, :]) @ self.W_dec.T

    def predict(self, Y, all_positions: bool = False) -> np.ndarray:
        return np.argmax(self.logits(Y, all_positions), axis=-1)


@dataclass(frozen=True)
class SSMModel:
    """Emb, then an optional token-wise FNN ``pre`` (the first FNN of the paper's FNN + SSM + FNN), then M pairs
    (SSM layer g_i, FNN f_i), then optional Dec."""

    embedding: Embedding | None
    blocks: tuple
    decoding: Decoding | None = None
    pre: FNN | None = None

    def __post_init__(self):
        blocks = tuple(tuple(b) for b in self.blocks)
        if not blocks:
            raise ValueError("a model needs at least one (SSM layer, FNN) pair")
        d = self.embedding.D if self.embedding is not None else (self.pre.d_in if self.pre is not None
                                                                  else blocks[0][0].d_in)
        if self.pre is not None:
            if not isinstance(self.pre, FNN):
                raise TypeError("pre must be an FNN")
            if self.pre.d_in != d:
                raise ValueError(f"the first FNN takes dimension {self.pre.d_in}, the embedding gives {d}")
            d = self.pre.d_out
        for i, (g, f) in enumerate(blocks):
            if not isinstance(g, SSMLayer) or not isinstance(f, FNN):
                raise TypeError(f"block {i} must be (SSMLayer, FNN)")
            if g.d_in != d:
                raise ValueError(f"SSM layer {i + 1} takes dimension {g.d_in}, previous layer gives {d}")
            if f.d_in != g.d_out:
                raise ValueError(f"FNN {i + 1} takes dimension {f.d_in}, SSM layer {i + 1} gives {g.d_out}")
            d = f.d_out
        if self.decoding is not None and self.decoding.W_dec.shape[1] != d:
            raise ValueError(f"decoding takes dimension {self.decoding.W_dec.shape[1]}, model gives {d}")
        object.__setattr__(self, "blocks", blocks)

    @property
    def M(self) -> int:
        return len(self.blocks)

    @property
    def d_in(self) -> int:
        """What the model reads per token: the embedding's input size (vocabulary or vector dimension), else
        the first FNN's or the first SSM layer's input dimension."""
        if self.embedding is not None:
            return self.embedding.d_in
        return self.pre.d_in if self.pre is not None else self.blocks[0][0].d_in

    def forward(self, X, method: str = "auto") -> np.ndarray:
        """The model output before decoding, shape (..., N, D_out)."""
        Z = self.embedding(X) if self.embedding is not None else np.asarray(X, dtype=np.float64)
        if self.pre is not None:
            Z = self.pre(Z)
        for g, f in self.blocks:
            Z = f(g(Z, method=method))
        return Z

    def __call__(self, X, method: str = "auto") -> np.ndarray:
        Z = self.forward(X, method)
        return Z if self.decoding is None else self.decoding.logits(Z)

    def counts(self) -> dict:
        """M, U, D, per-FNN (L, W, S, B) and maxima, SSM state sizes and total nonzero parameters."""
        fnn = ([self.pre.counts()] if self.pre is not None else []) + [f.counts() for _, f in self.blocks]
        ssm = [g.counts() for g, _ in self.blocks]
        emb_nnz = 0 if self.embedding is None else int(np.count_nonzero(self.embedding.E)) + (
            0 if self.embedding.b is None else int(np.count_nonzero(self.embedding.b)))
        dec_nnz = 0 if self.decoding is None else int(np.count_nonzero(self.decoding.W_dec))
        # D: the token dimension the SSM layers carry (the embedding's D when the first layer reads it directly)
        D = max(g.d_in for g, _ in self.blocks)
        d_in = self.embedding.E.shape[1] if self.embedding is not None else (
            self.pre.d_in if self.pre is not None else self.blocks[0][0].d_in)
        return {
            "M": self.M,
            "U": max(s["U"] for s in ssm),
            "D": D,
            "d_in": d_in,
            "fnn": [c.as_dict() for c in fnn],
            "L": max(c.L for c in fnn), "W": max(c.W for c in fnn),
            "S": max(c.S for c in fnn), "B": max(c.B for c in fnn),
            "ssm": ssm,
            "state_sizes": [g.state_sizes for g, _ in self.blocks],
            "total_nonzeros": emb_nnz + dec_nnz + sum(c.S for c in fnn) + sum(s["nnz"] for s in ssm),
        }
