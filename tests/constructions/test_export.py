"""Weight export: round trip bit-identical; the manifest alone suffices to run the weights with plain numpy."""

import json

import numpy as np
import pytest

from constructions import algebra, export, ssm
from constructions.affine import Affine
from constructions.fnn import FNN
from constructions.model import Decoding, Embedding, SSMModel
from verify.claims.foundation import random_channels


def _model(rng):
    fs = [FNN([Affine.dense(rng.normal(size=(4, 3)), rng.normal(size=4)), Affine.dense(rng.normal(size=(1, 4)))])
          for _ in range(5)]
    f2 = algebra.parallel(*fs)  # block-structured layers
    chans = tuple(random_channels(rng))
    g1 = ssm.SSMLayer(chans, 9, W_in=rng.normal(size=(len(chans), 3)), W_out=rng.normal(size=(3, len(chans))))
    g2 = ssm.SSMLayer((ssm.running_sum(), ssm.delay(2), ssm.delay(0)), 50)
    return SSMModel(Embedding(rng.normal(size=(3, 11)), rng.normal(size=3)),
                    [(g1, algebra.identity(3)), (g2, f2)], Decoding(rng.normal(size=(11, 5))))


def test_round_trip_bit_identical(tmp_path):
    rng = np.random.default_rng(0)
    m = _model(rng)
    X = rng.integers(0, 11, size=(4, 30))
    export.save(m, tmp_path / "m")
    m2 = export.load(tmp_path / "m")
    for method in ("auto", "fft", "scan"):
        assert np.array_equal(m(X, method), m2(X, method))
    f = m.blocks[1][1]
    export.save(f, tmp_path / "f.npz")
    x = rng.normal(size=(20, 3))
    assert np.array_equal(export.load(tmp_path / "f.json")(x), f(x))


def _standalone_run(path, X):
    """Run an exported model from the manifest with plain numpy, following docs/weights-format.md."""
    man = json.loads((path.with_suffix(".json")).read_text())
    a = np.load(path.with_suffix(".npz"))
    arch = man["architecture"]

    def fnn(m, Z):
        h = Z
        for i, lay in enumerate(m["layers"]):
            y = np.zeros(h.shape[:-1] + (lay["d_out"],)) + a[lay["b"]]
            for g in lay["groups"]:
                rows, cols, W = a[g["rows"]], a[g["cols"]], a[g["W"]]
                for j in range(W.shape[0]):
                    y[..., rows[j]] += h[..., cols[j]] @ W[j].T
            h = np.maximum(y, 0) if i < len(m["layers"]) - 1 else y
        return h

    def conv(m, Z):
        u = Z if m["W_in"] is None else Z @ a[m["W_in"]].T
        N = u.shape[-2]
        L = min(m["U"], N)
        D = a[m["D"]]
        k = np.zeros((m["channels"], L))
        k[:, 0] = D
        for g in m["state_groups"]:
            A, B, C = a[g["A"]], a[g["B"]], a[g["C"]]
            for j, h in enumerate(a[g["index"]]):
                v = B[j]
                for s in range(1, L):
                    k[h, s] = C[j] @ v
                    v = A[j] @ v
        y = np.zeros_like(u)
        for s in range(L):
            y[..., s:, :] += k[:, s] * u[..., :N - s, :]
        return y if m["W_out"] is None else y @ a[m["W_out"]].T

    e = arch["embedding"]
    Z = a[e["E"]].T[X] + (0 if e["b"] is None else a[e["b"]])
    if arch.get("pre") is not None:
        Z = fnn(arch["pre"], Z)
    for b in arch["blocks"]:
        Z = fnn(b["fnn"], conv(b["ssm"], Z))
    return Z[..., -1, :] @ a[arch["decoding"]["W_dec"]].T


def test_manifest_runs_without_library(tmp_path):
    rng = np.random.default_rng(1)
    m = _model(rng)
    X = rng.integers(0, 11, size=(2, 25))
    export.save(m, tmp_path / "w")
    np.testing.assert_allclose(_standalone_run(tmp_path / "w", X), m(X), rtol=1e-10, atol=1e-10)


def test_manifest_runs_a_model_with_a_first_fnn(tmp_path):
    """The optional ``pre`` FNN (FNN + SSM + FNN, as Lemma 3.3's export): the plain runner and reload agree."""
    import dataclasses
    rng = np.random.default_rng(2)
    m = _model(rng)
    D = m.embedding.D
    pre = \
        algebra.compose(algebra.identity(D, 2), algebra.affine(rng.normal(size=(D, D))))
    m2 = dataclasses.replace(m, pre=pre)
    X = rng.integers(0, 11, size=(2, 25))
    export.save(m2, tmp_path / "w")
    np.testing.assert_allclose(_standalone_run(tmp_path / "w", X), m2(X), rtol=1e-10, atol=1e-10)
    back = export.load(tmp_path / "w")
    assert back.pre is not None and np.array_equal(back(X), m2(X))
    assert not np.allclose(m2(X), m(X))  # the first FNN is really applied


def test_export_errors(tmp_path):
    with pytest.raises(TypeError):
        export.save(object(), tmp_path / "x")
    with pytest.raises(ValueError):
        export.load(tmp_path / "missing")
    (tmp_path / "bad.json").write_text("{}")
    np.savez(tmp_path / "bad.npz", x=np.ones(1))
    with pytest.raises(ValueError):
        export.load(tmp_path / "bad")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):
        export.save(algebra.identity(2), blocker / "sub" / "x")
