"""What every builder returns: the emitted weights and the exact count formula it promises."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Construction:
    """Emitted weights ``net`` (an FNN, SSM layer or model), the counts ``formula`` predicts for them
    (keys L, W, S, B, ... as exact values of our construction), the parameters it was built for, and notes
    (e.g. the precision it needs, the paper's claimed growth)."""

    net: object
    formula: dict
    params: dict
    notes: dict = field(default_factory=dict)


def check_finite(name: str, v) -> float:
    """``v`` as a float; ValueError (one clear line) unless it is a finite real number."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {v!r}") from None
    if not math.isfinite(f):
        raise ValueError(f"{name} must be finite, got {v!r}")
    return f


def check_positive(name: str, v) -> float:
    """``v`` as a float; ValueError unless it is finite and > 0."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {v!r}") from None
    if not math.isfinite(f) or not f > 0:
        raise ValueError(f"{name} must be finite and > 0, got {v!r}")
    return f
