"""The packed-row network of ``lemmas/copying_packed.py`` (Theorem 3.1's rank memory, restarting at each reset
token) for ``python -m verify tasks run`` on Jelassi's packed train rows (docs/tasks/external.md).

Registers no claim: the paper states no packed-row theorem, and thm-3.1's own network and checks
(``verify/claims/copying.py``) are unchanged.  The verb builds the packed network through this module, the only
way from ``verify/`` to the builder (``verify/taskrun.py`` reaches builders through ``verify/claims``)."""

from __future__ import annotations

from lemmas import copying as lc


def build(params: dict):
    """params: V, Lmax (the row's data tokens up to the last segment read), N, copy, ignore, reset, eos (or None),
    delta, code_seed, route."""
    return lc.build_rank_memory(int(params["V"]), int(params["Lmax"]), int(params["N"]), params["copy"],
                                params["ignore"], float(params["delta"]), int(params["code_seed"]),
                                params.get("route", "exact"), reset=params["reset"], eos=params.get("eos"))
