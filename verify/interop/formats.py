"""``verify inspect --format {npz,onnx,safetensors} [--vnnlib]``: write a claim's net and check the file.

ONNX files are checked by ``onnx.checker`` and, where onnxruntime is installed, run against our evaluation
(tolerance ``ORT_TOL``: float64, differences only from summation order: BLAS blocking, CumSum vs our cumsum,
the direct convolution sum vs our FFT)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FORMATS = ("npz", "onnx", "safetensors")
ORT_TOL = 1e-9  # relative to max(1, max|ours|)


def sample_input(net, rng, n: int = 64, N: int = 32):
    """Random inputs of the right kind: (n, d) for an FNN, (2, N, d) sequences, int64 ids for one-hot models."""
    from constructions.fnn import FNN
    from constructions.model import SSMModel

    if isinstance(net, FNN):
        return rng.normal(size=(n, net.d_in)) * 2
    if isinstance(net, SSMModel) and net.embedding is not None and net.embedding.kind == "onehot":
        return rng.integers(0, net.embedding.d_in, size=(2, N))
    d = net.d_in
    return rng.normal(size=(2, N, d))


def ort_run(model_or_path, x):
    """Run an ONNX model (ModelProto or path) in onnxruntime on x."""
    import onnxruntime as ort

    src = model_or_path.SerializeToString() if hasattr(model_or_path, "SerializeToString") else str(model_or_path)
    s = ort.InferenceSession(src, providers=["CPUExecutionProvider"])
    inp = s.get_inputs()[0]
    feed = x if np.issubdtype(np.asarray(x).dtype, np.integer) else \
        np.asarray(x, dtype=np.float32 if inp.type == "tensor(float)" else np.float64)
    return s.run(None, {inp.name: feed})[0]


def ort_agreement(net, model_or_path, x) -> float:
    """max |onnxruntime - ours| / max(1, max |ours|)."""
    ref = net(x)
    return float(np.max(np.abs(ort_run(model_or_path, x) - ref)) / max(1.0, float(np.max(np.abs(ref)))))


def export(net, base: Path, fmt: str, claim_id: str, params: dict, vnnlib: bool = False) -> list[str]:
    """Write ``base`` in ``fmt``; return the lines to print.  Raises ValueError/TypeError/OSError/ImportError."""
    lines = []
    if fmt == "onnx":
        from constructions.onnx_export import save_onnx

        p = save_onnx(net, base)
        lines.append(f"exported {p} (onnx.checker passed)")
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            lines.append("onnxruntime not installed: no run-time comparison")
        else:
            err = ort_agreement(net, p, sample_input(net, np.random.default_rng(0)))
            lines.append(f"onnxruntime vs ours on random inputs: relative max difference {err:.3g} "
                         f"(tolerance {ORT_TOL:g}) {'ok' if err <= ORT_TOL else 'DISAGREES'}")
        if vnnlib:
            from . import vnnlib as vl

            spec = vl.spec_for(claim_id, params)
            d = base.with_name(base.name + ".vnnlib")
            idx = vl.write_properties(spec, net.d_out, d, params=params)
            lines.append(f"wrote {idx['boxes']} VNN-LIB properties to {d}/ (eps {idx['eps']!r}, enclosure width <= "
                         f"{idx['max_enclosure_width']:.3g}); unsat on every box => the claim")
    elif fmt == "safetensors":
        from constructions.safetensors_export import save_safetensors

        lines.append(f"exported {save_safetensors(net, base)}")
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return lines
