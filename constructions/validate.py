"""Parameter validation shared by every builder, and the float64 constants every layer uses.

Each validator returns the value converted (float or int) or raises ``ValueError`` with one clear line naming the
parameter, so that a builder's refusal reaches the command line as a usage error (exit 2).
"""

from __future__ import annotations

import math

import numpy as np

EPS64 = float(np.finfo(np.float64).eps)  # 2^-52, the float64 machine epsilon


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
    f = check_finite(name, v)
    if not f > 0:
        raise ValueError(f"{name} must be finite and > 0, got {v!r}")
    return f


def check_eps(eps) -> float:
    """An accuracy ε: finite and > 0."""
    return check_positive("eps", eps)


def check_int(name: str, v, lo: int) -> int:
    """``v`` as an int; ValueError unless it is an integer (not a bool) >= ``lo``."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def check_real(name: str, v, lo: float, hi: float, lo_open: bool = True) -> float:
    """``v`` as a float in (lo, hi] (``lo_open``) or [lo, hi]; ValueError otherwise."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {v!r}") from None
    if not math.isfinite(f) or (f <= lo if lo_open else f < lo) or f > hi:
        raise ValueError(f"{name} must lie in {'(' if lo_open else '['}{lo}, {hi}], got {v!r}")
    return f
