"""The emitted weights do not change by accident: every claim's weights at its default parameters (and, marked
slow, at every sweep point) have the SHA-256 fingerprint recorded in tests/data/emitted_fingerprints.json
(``constructions.export.fingerprint``; expansions without a network: their multi-indices and coefficients).

A change that is meant to change weights rewrites the file, in its own commit, with
    python tests/verify/test_emitted_fingerprints.py --write
The file records the numpy version it was written with; under another numpy the comparison is skipped (its
transcendental functions may round differently in the last bit)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from constructions import export
from verify.registry import load_all

DATA = Path(__file__).resolve().parents[1] / "data" / "emitted_fingerprints.json"


def fingerprint_of(obj) -> str:
    net = obj.net if hasattr(obj, "net") and hasattr(obj, "formula") else obj
    try:
        return export.fingerprint(net)
    except TypeError:  # no network (an expansion, a code matrix): every array attribute, by name
        h = hashlib.sha256(type(net).__name__.encode())
        fields = vars(net) if hasattr(net, "__dict__") else {k: getattr(net, k) for k in net.__dataclass_fields__}
        for name in sorted(fields):
            v = fields[name]
            if isinstance(v, (np.ndarray, list, tuple)):
                h.update(name.encode())
                h.update(np.ascontiguousarray(np.asarray(v, dtype=object if isinstance(v, (list, tuple)) else None)
                                              ).tobytes() if isinstance(v, np.ndarray) else repr(v).encode())
        return h.hexdigest()


def points():
    for cid, c in load_all().items():
        if c.build is None:
            continue
        for i, extra in enumerate([{}] + list(c.sweep)):
            yield f"{cid}#{i}", c, {**c.defaults(), **extra}


def built(c, p) -> str:
    """The fingerprint of the weights at ``p``, or the builder's refusal (a sweep point that shows one, e.g. the
    positive route of lemma-3.3 beyond float64's exponent range) as its text."""
    try:
        return fingerprint_of(c.build(p))
    except ValueError as e:
        return f"refused: {e}"


def compute(only_defaults: bool) -> dict:
    return {key: built(c, p) for key, c, p in points() if not (only_defaults and not key.endswith("#0"))}


def recorded() -> dict:
    rec = json.loads(DATA.read_text())
    if rec["numpy"].split(".")[:2] != np.__version__.split(".")[:2]:
        pytest.skip(f"fingerprints recorded with numpy {rec['numpy']}, this is {np.__version__}")
    return rec["fingerprints"]


def test_default_weights_unchanged():
    rec = recorded()
    now = compute(only_defaults=True)
    assert set(now) <= set(rec), f"claims without a recorded fingerprint: {sorted(set(now) - set(rec))}"
    changed = sorted(k for k in now if now[k] != rec[k])
    assert not changed, f"emitted weights changed: {changed}"


@pytest.mark.slow
def test_sweep_weights_unchanged():
    rec = recorded()
    now = compute(only_defaults=False)
    changed = sorted(k for k in now if now[k] != rec.get(k))
    assert not changed, f"emitted weights changed: {changed}"


def test_fingerprint_sees_one_ulp():
    from lemmas.square import build_square
    from verify.mutants import perturb_weight

    net = build_square(m=4).net
    assert export.fingerprint(net) == export.fingerprint(build_square(m=4).net)
    assert export.fingerprint(perturb_weight(net, 1, None, 2.0 ** -52)) != export.fingerprint(net)


if __name__ == "__main__" and "--write" in sys.argv:
    DATA.write_text(json.dumps({"numpy": np.__version__, "fingerprints": compute(only_defaults=False)}, indent=1,
                               sort_keys=True) + "\n")
    print(f"wrote {DATA}")
