"""Exact rationals and their sound rounding to float64: the conversions every exact certificate shares."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from flint import fmpq


def to_fmpq(x) -> fmpq:
    """A float64 (or Fraction / int / fmpq) as an exact fmpq."""
    if isinstance(x, fmpq):
        return x
    if isinstance(x, float):  # exact, and faster than through Fraction
        n, d = x.as_integer_ratio()
        return fmpq(n, d)
    n, d = Fraction(x).as_integer_ratio()
    return fmpq(n, d)


def fmpq_float_up(x: fmpq) -> float:
    """A float >= x (x an fmpq): the nearest float, pushed up when below."""
    f = float(Fraction(int(x.p), int(x.q)))
    return f if to_fmpq(f) >= x else float(np.nextafter(f, np.inf))


def float_up(x) -> float:
    """A float >= x for any exact number x (float, int, Fraction or fmpq)."""
    return fmpq_float_up(to_fmpq(x))
