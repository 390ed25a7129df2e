"""Converters between the neutral format and the native formats of public task repositories (docs/tasks/formats.md).

Each module has ``from_native(arrays, meta) -> TaskData``, ``to_native(TaskData) -> dict of arrays`` (the
inverse on data that came from the format), ``native_predictions(task, predictions)`` (neutral predictions ->
the array the original scores) and ``score_native(arrays, meta, predictions)``, the original metric computed
from the native arrays alone.
"""

from __future__ import annotations

import json

import numpy as np

FORMATS = ("jelassi", "zoology", "safari", "s4", "neutral")


def require(arrays, names, fmt: str) -> None:
    missing = [n for n in names if n not in arrays]
    if missing:
        raise ValueError(f"not a {fmt} file: missing array(s) {', '.join(missing)}")


def load_meta(arrays) -> dict:
    if "meta_json" not in arrays:
        return {}
    try:
        return json.loads(str(np.asarray(arrays["meta_json"])))
    except json.JSONDecodeError as e:
        raise ValueError(f"meta_json is not valid JSON: {e}") from None


def module(fmt: str):
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    import importlib

    return importlib.import_module(f"{__name__}.{fmt}")
