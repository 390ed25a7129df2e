"""What every builder returns: the emitted weights and the exact count formula it promises."""

from __future__ import annotations

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
