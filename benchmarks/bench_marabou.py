"""Marabou against our certificates on small nets (docs/interop.md): writes the table rows as JSON lines.

    PYTHONPATH=. python benchmarks/bench_marabou.py OUT_DIR
"""
import json
import sys
import time
from pathlib import Path

from constructions.onnx_export import save_onnx
from verify.interop import marabou, vnnlib
from verify.registry import load_all, run_claim

CASES = [  # (claim, params, eps for the property, piece of the domain, max enclosure width)
    ("lemma-F.2-clip", {"d": 1, "a": -0.5, "b": 1.25}, None, None, None),
    ("lemma-F.3-square", {"m": 4}, 2.0 ** -10 * 17 / 16, None, None),
    ("lemma-F.3-square", {"m": 4}, 2.0 ** -10 * 15 / 16, None, None),
    ("lemma-F.3-mult", {"M": 1.0, "eps": 1e-2}, None, None, 1e-2 / 4),
    ("lemma-F.3-exp", {"eps": 1e-2, "samples": 2000}, None, ((0.0,), (0.25,)), None),
    ("lemma-F.4-ratio", {"eps": 0.1, "C": 1.0, "b_min": 0.5, "b_max": 1.0}, None, ((0.0, 0.875), (0.125, 1.0)), None),
]

if __name__ == "__main__":
    out = Path(sys.argv[1])
    reg = load_all()
    for cid, params, eps, piece, width in CASES[int(sys.argv[2]) if len(sys.argv) > 2 else 0:]:
        c = reg[cid]
        p = {**c.params, **params}
        obj = c.build(p)
        net = obj.net
        base = out / f"{cid}-{len(list(out.glob('*.onnx')))}"
        onnx_path = save_onnx(net, base)
        spec = vnnlib.spec_for(cid, p, eps, piece)
        idx = vnnlib.write_properties(spec, net.d_out, str(base) + ".vnnlib", width, params=params)
        r = marabou.check_claim(net, onnx_path, spec, str(base) + ".vnnlib", timeout=60)
        t0 = time.perf_counter()
        ours = run_claim(c, p)
        ours_s = time.perf_counter() - t0
        row = {"claim": cid, "params": params, "eps": spec.eps, "piece": piece, "boxes": idx["boxes"],
               "width": idx["max_enclosure_width"], "ours_verdict": ours.verdict,
               "ours_checks": [(ch.name, ch.measured, ch.bound) for ch in ours.checks if "cert" in ch.name.lower()
                               or "exact" in ch.name.lower() or "construction" in ch.name.lower()][:3],
               "ours_seconds": ours_s, **{k: v for k, v in r.items() if k != "sat_points"},
               "max_sat_error": max((s["error_upper"] for s in r["sat_points"] if s["violates_claim"]), default=None)}
        print(json.dumps(row, default=str), flush=True)
