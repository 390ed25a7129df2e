from hypothesis import settings

# Deterministic property tests: the same examples on every run (tests are reproducible, CI included).
settings.register_profile("repo", derandomize=True, deadline=None, max_examples=40, print_blob=True)
settings.load_profile("repo")


def certified_bound(result, prefix: str = "certified") -> float:
    """The proven bound of the claim-level certificate in a run's result (the check that made it CERTIFIED)."""
    chks = [c for c in result.checks if (c.name.startswith(prefix) or f": {prefix}" in c.name) and c.certified]
    assert chks, [c.name for c in result.checks]
    return max(c.measured for c in chks)


def assert_never_exceeded(net, g, g_mp, X, Y, bound: float, V: float, output: int = 0) -> None:
    """A certified bound is never exceeded: on the float64 points X with the float64 allowance τ = S eps64 V,
    and on the points Y with no allowance at all (arb enclosures of the exact-arithmetic net at 120 bits
    against a 50-digit mpmath target)."""
    import mpmath
    import numpy as np

    from verify.certify import highprec as hp
    from verify.checks import allowance
    assert np.max(np.abs(net(X)[:, output] - g(X[:, 0]))) <= bound + allowance(net, V)
    lo, hi, _ = hp.fnn_arb(net, Y, prec=120)
    with mpmath.workdps(50):
        for y, a, b in zip(Y[:, 0], lo[:, output], hi[:, output]):
            t = g_mp(mpmath.mpf(float(y)))
            assert max(abs(mpmath.mpf(float(a)) - t), abs(mpmath.mpf(float(b)) - t)) <= bound
