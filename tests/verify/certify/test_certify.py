"""Certification (verify/certify/interval.py, verify/certify/): interval bounds contain every evaluation of small
random networks; a certified bound is never exceeded (10^6 float64 points with the allowance, 10^4 in arb);
target enclosures are sound; broken networks are not certified; the CERTIFIED verdict."""

from fractions import Fraction

import numpy as np
import pytest
from flint import arb, ctx
from hypothesis import given
from hypothesis import strategies as st

from constructions.affine import Affine
from constructions.fnn import FNN
from lemmas import gauss_kernel as gk
from lemmas import mult as lmult
from lemmas import square as lsq
from verify import certify as cf
from verify.certify.lemma_gauss_kernel import certify_gauss_expansion
from verify.certify import highprec as hp
from verify import mutants as mu
from verify.checks import allowance
from verify.certify.interval import IntervalNet, box_centre
from verify.result import Check, Result


def random_net(rng, d_in, depth, width=5):
    dims = [d_in] + [int(rng.integers(1, width + 1)) for _ in range(depth - 1)] + [1]
    return FNN([Affine.dense(rng.normal(size=(b, a)) * (rng.random((b, a)) < 0.8), rng.normal(size=b))
                for a, b in zip(dims[:-1], dims[1:])])


@given(st.integers(0, 2**31), st.integers(1, 2), st.integers(1, 5), st.floats(1e-6, 3.0))
def test_interval_bounds_contain_exhaustive_evaluation(seed, d, depth, width):
    rng = np.random.default_rng(seed)
    net = random_net(rng, d, depth)
    lo = rng.uniform(-2, 2, (6, d))
    hi = lo + rng.uniform(0, width, (6, d))
    lb, ub = IntervalNet(net).propagate(lo, hi)
    assert np.all(lb <= ub)
    for i in range(6):  # dense grid of the box (corners included), float64 forward pass
        g = np.stack(np.meshgrid(*[np.linspace(lo[i, j], hi[i, j], 41 if d == 1 else 21) for j in range(d)]),
                     -1).reshape(-1, d)
        f = net(g)[:, 0]
        slack = 1e-12 * (1 + np.abs(f))  # float64 forward pass vs the exact network
        assert np.all(f >= lb[i, 0] - slack) and np.all(f <= ub[i, 0] + slack)
        for x in (lo[i], hi[i], box_centre(lo[i:i + 1], hi[i:i + 1])[0]):  # exact rationals: no slack at all
            v = hp.net_exact(net, x)[0]
            assert Fraction(lb[i, 0]) <= v <= Fraction(ub[i, 0])


def tied_net(rng, d_in, depth, width=5):
    """A random net whose maps repeat rows up to sign with new biases (the sawtooth pattern ρ(z), ρ(z - 1/2),
    ρ(-z)): the relational error groups of ``IntervalNet`` are exercised."""
    dims = [d_in] + [int(rng.integers(2, width + 1)) for _ in range(depth - 1)] + [1]
    maps = []
    for a, b in zip(dims[:-1], dims[1:]):
        A = rng.normal(size=(b, a)) * (rng.random((b, a)) < 0.8)
        for k in range(1, b):
            if rng.random() < 0.6:
                A[k] = A[int(rng.integers(0, k))] * (1.0 if rng.random() < 0.7 else -1.0)
        maps.append(Affine.dense(A, rng.normal(size=b)))
    return FNN(maps)


@given(st.integers(0, 2**31), st.integers(1, 2), st.integers(2, 6), st.sampled_from([1e-12, 1e-6, 1e-2, 1.0]))
def test_relational_bounds_contain_exact_values_on_nets_with_tied_rows(seed, d, depth, width):
    rng = np.random.default_rng(seed)
    net = tied_net(rng, d, depth)
    lo = rng.uniform(-2, 2, (5, d))
    hi = lo + width * rng.random((5, d))
    lb, ub = IntervalNet(net).propagate(lo, hi)
    for i in range(5):  # exact rationals at the box ends, the centre and two random points: no slack at all
        pts = [lo[i], hi[i], box_centre(lo[i:i + 1], hi[i:i + 1])[0]] + list(rng.uniform(lo[i], hi[i], (2, d)))
        for x in pts:
            v = hp.net_exact(net, x)[0]
            assert Fraction(lb[i, 0]) <= v <= Fraction(ub[i, 0])


def test_relational_errors_keep_deep_sawtooth_nets_tight():
    # exp net at ε = 1e-6 (L = 212): on a 2e-12-wide box every ReLU is stable and the true range is ~2e-12.
    # Propagating the error radius through |W| gave a width of 2.5 here (the two units of a tooth add their
    # errors); the row groups keep the cancellation, and the exact values stay inside.
    from lemmas.exp import build_exp
    net = build_exp(1e-6).net
    for x in (0.7, 3.3):
        lo, hi = np.array([[x]]), np.array([[x + 2e-12]])
        lb, ub = IntervalNet(net).propagate(lo, hi)
        assert ub[0, 0] - lb[0, 0] < 1e-8
        for p in (lo[0], hi[0]):
            v = hp.net_exact(net, p)[0]
            assert Fraction(lb[0, 0]) <= v <= Fraction(ub[0, 0])


def test_affine_forms_are_tight_once_relus_are_stable():
    c = lsq.build_square(m=6)
    n = 4096
    lo = np.linspace(0, 1, n + 1)[:-1, None]
    hi = np.linspace(0, 1, n + 1)[1:, None]
    lb, ub = IntervalNet(c.net).propagate(lo, hi)
    # the net is piecewise linear with slope <= 2: width <= 2 * box width + rounding, no dependency blow-up
    assert np.max(ub - lb) <= 2.0 / n + 1e-12


def _arb_err_upper(net, X, target_arb):
    """Sound upper bounds of |net(x) - g(x)| in arb (exact-arithmetic net, arb target)."""
    balls = hp.fnn_arb_balls(net, X, prec=120)
    out = []
    old = ctx.prec
    ctx.prec = 120
    try:
        for b, x in zip(balls, X):
            e = abs(b[0] - target_arb([arb(float(v)) for v in x]))
            out.append(float(e.upper()))
    finally:
        ctx.prec = old
    return np.nextafter(np.array(out), np.inf)


def test_certified_square_bound_never_exceeded():
    m = 8
    c = lsq.build_square(m=m)
    eps = lsq.square_error_bound(m) * (1 + 1e-6)
    res = cf.certify_fnn(c.net, cf.enclose_square, [0.0], [1.0], eps)
    assert res.certified and res.bound <= eps and res.boxes < 10_000
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (1_000_000, 1))
    err = np.abs(c.net(X)[:, 0] - X[:, 0] ** 2)
    assert err.max() <= res.bound + allowance(c.net, 1.0)
    Xh = np.concatenate([rng.uniform(0, 1, (9_900, 1)), ((2 * np.arange(100) + 1) * 2.0 ** (-m - 1))[:, None]])
    eh = _arb_err_upper(c.net, Xh, lambda x: x[0] * x[0])
    assert eh.max() <= res.bound
    assert eh.max() >= lsq.square_error_bound(m) * (1 - 1e-12)  # attained: the certificate is tight


def test_certified_mult_bound_never_exceeded():
    M, eps = 1.0, 1e-2
    c = lmult.build_mult(M, eps)
    res = cf.certify_fnn(c.net, cf.enclose_product, [-M, -M], [M, M], eps)
    assert res.certified and res.bound <= eps
    rng = np.random.default_rng(1)
    X = rng.uniform(-M, M, (1_000_000, 2))
    err = np.abs(c.net(X)[:, 0] - X[:, 0] * X[:, 1])
    assert err.max() <= res.bound + allowance(c.net, M * M)
    eh = _arb_err_upper(c.net, X[:10_000], lambda x: x[0] * x[1])
    assert eh.max() <= res.bound


@pytest.mark.parametrize("enc, g, d", [
    (cf.enclose_square, lambda x: x[0] * x[0], 1),
    (cf.enclose_exp_neg, lambda x: (-x[0]).exp(), 1),
    (cf.enclose_product, lambda x: x[0] * x[1], 2),
    (cf.enclose_product, lambda x: x[0] * x[1] * x[2], 3),
    (cf.enclose_clip(-0.5, 1.25), lambda x: x[0].max(arb(-0.5)).min(arb(1.25)), 1),
    (cf.enclose_quotient, lambda x: x[0] / x[1], 2),
])
def test_target_enclosures_are_sound(enc, g, d):
    rng = np.random.default_rng(7)
    lo = rng.uniform(-2, 3, (300, d))
    hi = lo + np.exp(rng.uniform(-20, 0.5, (300, d)))
    if enc is cf.enclose_exp_neg:
        lo, hi = np.abs(lo) * 4, np.abs(lo) * 4 + (hi - lo)
    if enc is cf.enclose_quotient:  # b > 0, down to 0.05 where the remainder is largest
        w = hi[:, 1] - lo[:, 1]
        lo[:, 1] = np.abs(lo[:, 1]) + 0.05
        hi[:, 1] = lo[:, 1] + w
    out = enc(lo, hi)
    m = box_centre(lo, hi)
    old = ctx.prec
    ctx.prec = 300  # products of a few floats are exact at 300 bits; exp is an arb enclosure
    try:
        _check_enclosure(out, m, lo, hi, g, d)
    finally:
        ctx.prec = old


def _check_enclosure(out, m, lo, hi, g, d):
    for i in range(len(lo)):
        for t in np.linspace(0, 1, 7):
            x = lo[i] + t * (hi[i] - lo[i])
            x = np.clip(x, lo[i], hi[i])
            val = g([arb(float(v)) for v in x])
            if len(out) == 3:
                val = val - sum(arb(float(out[2][i, j])) * (arb(float(x[j])) - arb(float(m[i, j]))) for j in range(d))
            assert val.lower() >= arb(float(out[0][i])), (i, t)
            assert val.upper() <= arb(float(out[1][i])), (i, t)


def test_broken_network_is_not_certified():
    m = 8
    c = lsq.build_square(m=m)
    eps = lsq.square_error_bound(m) * (1 + 1e-6)
    bad = mu.perturb_weight(c.net, 3, 0, 1e-3)
    res = cf.certify_fnn(bad, cf.enclose_square, [0.0], [1.0], eps)
    chk = cf.cert_check("cert", res)
    assert not res.certified and chk.status == "FAIL" and res.sampled_max > eps


def test_budget_exhausted_is_inconclusive_with_best_bound():
    c = lmult.build_mult(2.0, 1e-3)
    res = cf.certify_fnn(c.net, cf.enclose_product, [-2.0, -2.0], [2.0, 2.0], 1e-3, budget=2000)
    chk = cf.cert_check("cert", res)
    assert not res.certified and res.budget_exhausted and res.boxes <= 2000
    assert chk.status == "INCONCLUSIVE" and res.bound >= res.sampled_max and "budget" in chk.detail["reason"]


def test_certified_verdict():
    ok = Check("sampled", True, 0.1, 1.0)
    cert = Check("cert", True, 0.5, 1.0, certified=True)
    assert Result("x", {}, [ok, cert]).verdict == "CERTIFIED"
    assert Result("x", {}, [ok, Check("cert", True, 0.5, 1.0)]).verdict == "PASS"
    assert Result("x", {}, [Check("s", False), cert]).verdict == "FAIL"
    assert Result("x", {}, [Check("s", None), cert]).verdict == "INCONCLUSIVE"


def test_bad_inputs():
    c = lsq.build_square(m=3)
    with pytest.raises(ValueError):
        cf.certify_fnn(c.net, cf.enclose_square, [0.0], [1.0], 0.0)
    with pytest.raises(ValueError):
        cf.certify_fnn(c.net, cf.enclose_square, [1.0], [0.0], 1e-3)
    with pytest.raises(ValueError):
        cf.certify_fnn(c.net, cf.enclose_square, [0.0, 0.0], [1.0, 1.0], 1e-3)
    with pytest.raises(ValueError):
        IntervalNet(c.net).propagate(np.zeros((2, 1)), np.full((2, 1), np.nan))


@pytest.mark.parametrize("d", [1, 2])
def test_gauss_expansion_certificate_sound_and_fails_on_mutants(d):
    R, eps = 1.0, 1e-6
    c = gk.build_expansion(d, R, eps)
    chk = certify_gauss_expansion(c.net, R, eps)
    assert chk.status == "PASS" and chk.certified and chk.measured <= eps
    # sound: the attained error at x = y, ‖x‖ = R (50-digit mpmath) is below the certified bound, and close to it
    import mpmath
    from verify import reference as ref
    x = np.zeros(d)
    x[0] = R
    with mpmath.workdps(50):
        att = abs(ref.gauss_kernel_mp(x, x, 50) - c.net.value_mp(x, x, 50))
    assert att <= chk.measured and att >= 0.999 * chk.measured
    for bad in (c.net.without(len(c.net.alphas) - 1), c.net.without(0),
                gk.GaussExpansion(c.net.alphas, c.net.coef * (1 + 1e-3 * (np.arange(len(c.net.coef)) == 1)))):
        b = certify_gauss_expansion(bad, R, eps)
        assert b.status == "INCONCLUSIVE" and not b.certified


def test_affine_on_ray_and_constant_tail():
    from lemmas import exp as lexp
    c = lexp.build_exp(1e-2)
    A = c.params["A"]
    ab = cf.affine_on_ray(c.net, A)
    assert ab is not None and ab[0] == 0  # clip(x; 0, A): constant beyond A, exactly
    for x in (A, 3 * A, 1e9):
        assert hp.net_exact(c.net, [x])[0] == ab[1]
    assert cf.affine_on_ray(c.net, A / 2) is None  # ReLUs still switch on [A/2, A]
    t = cf.certify_decreasing_tail(c.net, 64 * A, lambda x: (-x).exp(), 0.0, 1e-2)
    assert t["proved"] and abs(t["bound"] - float(ab[1])) < 1e-15
    # a random net: the affine form on the ray agrees with exact evaluation whenever it is found
    rng = np.random.default_rng(3)
    found = 0
    for _ in range(30):
        net = random_net(rng, 1, 3)
        ab = cf.affine_on_ray(net, 5.0)
        if ab is not None:
            found += 1
            for x in (5.0, 17.25, 1e6):
                assert hp.net_exact(net, [x])[0] == ab[0] * Fraction(x) + ab[1]
    assert found > 0
    # mutant: the clip's saturating unit ρ(A - ρ(x)) turned into ρ(A + 1e-3 ρ(x)), which grows on the ray (the
    # float-robust clip is constant beyond A under any small perturbation of its weights)
    bad = mu.perturb_weight(c.net, 1, 0, -1.001)
    assert not cf.certify_decreasing_tail(bad, 64 * A, lambda x: (-x).exp(), 0.0, 1e-2)["proved"]


@pytest.mark.parametrize("d, R", [(1, 2.0), (2, 1.0)])
def test_gauss_expansion_bound_holds_for_perturbed_coefficients(d, R):
    """The certified upper bound (even when it exceeds ε) is never below the error of a mutated expansion
    (float64 on 300 random pairs; the coefficient error ~1e-3 dwarfs the float64 rounding)."""
    from verify import reference as ref
    c = gk.build_expansion(d, R, 1e-6)
    coef = c.net.coef.copy()
    coef[1:4] *= 1 + np.array([3e-3, -2e-3, 5e-3])
    bad = gk.GaussExpansion(c.net.alphas, coef)
    chk = certify_gauss_expansion(bad, R, 1e-6)
    rng = np.random.default_rng(0)
    X = rng.uniform(-R, R, (300, d)) / max(1.0, np.sqrt(d))
    Y = rng.uniform(-R, R, (300, d)) / max(1.0, np.sqrt(d))
    err = np.abs(bad(X, Y) - ref.gauss_kernel(X, Y))
    assert err.max() <= chk.measured
    assert chk.measured <= 50 * err.max()  # and the bound is not vacuous


@given(st.integers(0, 2**31))
def test_interval_bounds_block_structured_maps(seed):
    """Parallel stacks (batched block groups, scattered rows) go through the other Affine.apply_T paths."""
    from constructions import algebra
    rng = np.random.default_rng(seed)
    nets = [random_net(rng, 2, 3, width=3) for _ in range(4)]
    par = algebra.parallel(*nets)  # shared input, 4 outputs, identity padding
    sep = algebra.parallel(*nets[:2], shared_input=False)  # 4 inputs, block-diagonal maps
    for net, d in ((par, 2), (sep, 4)):
        lo = rng.uniform(-1, 1, (3, d))
        hi = lo + rng.uniform(0, 0.5, (3, d))
        lb, ub = IntervalNet(net).propagate(lo, hi)
        for i in range(3):
            for x in (lo[i], hi[i], 0.5 * (lo[i] + hi[i])):
                x = np.clip(x, lo[i], hi[i])
                v = hp.net_exact(net, x)
                assert all(Fraction(lb[i, j]) <= v[j] <= Fraction(ub[i, j]) for j in range(net.d_out))


# ------------------------------------------------------- exact piecewise-affine certificate, PL seeding (cert2)
def _sup_abs_piece(p, q, fp, fq):  # target g = 0: the sup of |line| is at an end
    return max(abs(fp), abs(fq))


@given(st.integers(0, 2**31), st.integers(1, 5))
def test_exact_pl_certificate_is_exact_and_seed_independent(seed, depth):
    """certify_pl_exact with g = 0 returns the EXACT sup |f| over [lo, hi]: it is >= |f| at every grid point
    (exact rationals) and is attained at a point of its own partition; with the float breakpoints, no seed
    or a bad random seed the exact sup is identical (the seed only chooses where to cut)."""
    from flint import fmpq
    rng = np.random.default_rng(seed)
    net = random_net(rng, 1, depth)
    lo, hi = -2.0, 2.0
    runs = [cf.certify_pl_exact(net, _sup_abs_piece, lo, hi, s)
            for s in (cf.pl_breakpoints(net, lo, hi), (), rng.uniform(lo, hi, 7))]
    assert all(r.proved for r in runs)
    assert runs[0].sup == runs[1].sup == runs[2].sup
    sup = runs[0].sup
    for x in np.linspace(lo, hi, 41):
        v = hp.net_exact(net, [x])[0]
        assert fmpq(v.numerator, v.denominator) <= sup or -fmpq(v.numerator, v.denominator) <= sup
        assert abs(fmpq(v.numerator, v.denominator)) <= sup
    assert runs[0].sup_upper >= float(np.max(np.abs(net(np.linspace(lo, hi, 2001)[:, None])))) * (1 - 1e-12)


def test_pl_breakpoints_find_the_dyadic_grid_of_square():
    c = lsq.build_square(m=5)
    X = cf.pl_breakpoints(c.net, 0.0, 1.0)
    assert np.array_equal(X, np.arange(33) / 32.0)
    with pytest.raises(ValueError):
        cf.pl_breakpoints(c.net, 1.0, 0.0)


def test_square_exact_certificate_never_exceeded_and_fails_on_mutants():
    """Default m = 8: the exact sup is 2^(-2m-2); 10^5 float64 points (allowance τ) and 10^3 exact rational
    points stay below it; a perturbed weight (1e-9) or a removed level is NOT certified and the check FAILS."""
    from verify.claims.square import square_exact_certificate
    m = 8
    c = lsq.build_square(m=m)
    chk = square_exact_certificate(c.net, m)
    bound = 2.0 ** (-2 * m - 2)
    assert chk.passed is True and chk.certified and chk.detail["attained: exact sup = 2^(-2m-2)"]
    rng = np.random.default_rng(5)
    X = rng.uniform(0, 1, (100_000, 1))
    assert np.max(np.abs(c.net(X)[:, 0] - X[:, 0] ** 2)) <= bound + allowance(c.net, 1.0)
    for x in rng.uniform(0, 1, 1000).tolist():
        assert abs(hp.net_exact(c.net, [x])[0] - Fraction(x) ** 2) <= Fraction(1, 2 ** (2 * m + 2))
    for bad in (mu.perturb_weight(c.net, 0, 0, 1e-9), mu.perturb_weight(c.net, 3, 0, 1e-9),
                lsq.build_square(m=m - 1).net):  # sup 1.0001x, 0.9999997x (not attained), 4x
        b = square_exact_certificate(bad, m)
        assert b.passed is False and not b.certified


def test_clip_exact_certificate_sound_and_fails_on_mutants():
    """clip d = 3: certified sup = 0 over R^3; 10^5 float64 points agree to rounding, 10^3 exact points exactly;
    a perturbed weight FAILS (exact sup > 0); a cross-coordinate weight is not certified (INCONCLUSIVE)."""
    from lemmas import clip as lclip
    from verify.claims.clip import clip_exact_certificate
    a, b = -0.5, 1.25
    c = lclip.build_clip(3, a, b)
    chk = clip_exact_certificate(c.net, a, b)
    assert chk.passed is True and chk.certified and chk.measured == 0.0
    rng = np.random.default_rng(6)
    X = rng.uniform(-20, 20, (100_000, 3))
    assert np.max(np.abs(c.net(X) - np.clip(X, a, b))) <= 1e-14
    for x in rng.uniform(-20, 20, (1000, 3)):
        v = hp.net_exact(c.net, x)
        assert all(vi == min(Fraction(b), max(Fraction(a), Fraction(xi))) for vi, xi in zip(v, x.tolist()))
    bad = clip_exact_certificate(mu.perturb_weight(c.net, 1, 0, 1e-9), a, b)
    assert bad.passed is False and not bad.certified
    (r, cc, v), bb, shape = c.net.affine_maps()[0]
    W = np.zeros(shape)
    W[r, cc] = v
    W[0, 1] = 1e-3  # the first neuron of output 0 now reads x_1
    maps = [Affine.dense(W, bb)] + [Affine.dense(*_dense(m)) for m in c.net.affine_maps()[1:]]
    cross = clip_exact_certificate(FNN(maps), a, b)
    assert cross.passed is None and not cross.certified


def _dense(m):
    (r, c, v), b, shape = m
    W = np.zeros(shape)
    W[r, c] = v
    return W, b


def test_affine_on_ray_left_direction_agrees_with_exact_evaluation():
    from lemmas import clip as lclip
    c = lclip.build_clip(1, -0.5, 1.25)
    al, be = cf.affine_on_ray(c.net, -2.0, direction=-1)
    for x in (-2.0, -7.5, -1e9):
        assert hp.net_exact(c.net, [x])[0] == al * (-Fraction(x)) + be
    assert cf.affine_on_ray(c.net, 0.0, direction=-1) is None  # a kink at -0.5 lies on the ray


def test_seed_points_do_not_change_the_verdict():
    """certify_fnn with the PL seed, with a bad seed (random points) and without: same verdict on a certified
    instance and on a perturbed one (the seed only moves the cuts)."""
    c = lsq.build_square(m=5)
    eps = 2.0 ** -12 * (1 + 1e-6)
    good = cf.pl_breakpoints(c.net, 0, 1)
    badseed = np.random.default_rng(1).uniform(0, 1, 50)
    for net, want in ((c.net, True), (mu.perturb_weight(c.net, 3, 0, -1e-3), False)):  # sup 1.09x
        out = [cf.certify_fnn(net, cf.enclose_square, [0.0], [1.0], eps, budget=50_000, seed_points=s)
               for s in (good, badseed, None)]
        assert {r.certified for r in out} == {want}
        if want:
            assert all(r.bound <= eps for r in out)


@pytest.mark.parametrize("which", ["exp", "rec", "cos", "sin"])
def test_seeded_certificates_of_rec_cos_sin_never_exceeded(which):
    """The certificates of the rec / cos / sin claims (auxiliary instances, PL-seeded branch-and-bound): the
    certified bound is never exceeded on 10^5 float64 points (allowance τ) and 10^3 points in arb (sound error
    upper bounds of the exact-arithmetic network against a 50-digit target, no allowance)."""
    import mpmath
    from lemmas import cos as lcos
    from lemmas import rec as lrec
    from verify.claims import cos as ccos
    from verify.claims import rec as crec
    if which == "exp":
        from lemmas import exp as lexp
        eps = 1e-2
        c = lexp.build_exp(eps)
        lo, hi = 0.0, 64 * c.params["A"]
        enc, g, gmp, V = cf.enclose_exp_neg, (lambda x: np.exp(-x)), (lambda x: mpmath.exp(-x)), 1.0
        focus = 1.5 * c.params["A"]  # beyond A the net is constant: sample mostly where it is not
    elif which == "rec":
        eps = crec.REC_CERT_EPS
        c, lo, hi = lrec.build_rec(eps), eps, 1 / eps
        enc = cf.enclose_taylor_arb(crec.arb_rec, crec.arb_drec, crec.arb_d2rec)
        g, gmp, V = (lambda x: 1 / x), (lambda x: 1 / x), 1 / eps
    else:
        a, b, D, eps = 3.0, 0.5, 2.0, ccos.COS_CERT_EPS
        c = (lcos.build_cos if which == "cos" else lcos.build_sin)(a, b, D, eps)
        lo, hi = -D, D
        enc = ccos.trig_enclosure(a, b, which)
        g = (lambda x: np.cos(a * x - b)) if which == "cos" else (lambda x: np.sin(a * x - b))
        gmp = (lambda x: mpmath.cos(a * x - b)) if which == "cos" else (lambda x: mpmath.sin(a * x - b))
        V = c.notes["V"]
    res = cf.certify_fnn(c.net, enc, [lo], [hi], eps, seed_points=cf.pl_breakpoints(c.net, lo, hi))
    assert res.certified and res.bound <= eps
    rng = np.random.default_rng(7)
    top = focus if which == "exp" else hi
    X = np.concatenate([rng.uniform(lo, top, (90_000, 1)), rng.uniform(lo, hi, (10_000, 1))])
    assert np.max(np.abs(c.net(X)[:, 0] - g(X[:, 0]))) <= res.bound + allowance(c.net, V)
    Y = np.concatenate([rng.uniform(lo, top, (900, 1)), rng.uniform(lo, hi, (100, 1))])
    lo_a, hi_a, _ = hp.fnn_arb(c.net, Y, prec=120)
    with mpmath.workdps(50):
        t = [gmp(mpmath.mpf(float(y))) for y in Y[:, 0]]
        worst = max(max(abs(mpmath.mpf(float(h)) - ti), abs(mpmath.mpf(float(lw)) - ti))
                    for h, lw, ti in zip(hi_a[:, 0], lo_a[:, 0], t))
    assert worst <= res.bound


def test_seeded_certificate_fails_or_is_inconclusive_on_a_broken_cos_net():
    from lemmas import cos as lcos
    from verify.claims import cos as ccos
    c = lcos.build_cos(3.0, 0.5, 2.0, ccos.COS_CERT_EPS)
    bad = mu.perturb_weight(c.net, 2, 0, 1e-3)
    res = cf.certify_fnn(bad, ccos.trig_enclosure(3.0, 0.5, "cos"), [-2.0], [2.0], ccos.COS_CERT_EPS,
                         budget=40_000, seed_points=cf.pl_breakpoints(bad, -2.0, 2.0))
    chk = cf.cert_check("broken cos", res)
    assert not res.certified and chk.passed is not True and not chk.certified


# ------------------------------------------------------------- Taylor-cell enclosures, several outputs at once
def _cells_series(x):
    return [x * x, (-(x * x)).exp() * (x ** 3), (3 * x).cos()]


def test_taylor_cell_enclosure_is_sound():
    enc, edges = cf.enclose_taylor_cells(_cells_series, -1.5, 2.0, cells=64)
    rng = np.random.default_rng(11)
    lo = rng.uniform(-1.5, 1.9, (200, 1))
    hi = np.minimum(lo + np.exp(rng.uniform(-25, -1, (200, 1))), 2.0)  # inside a cell, and across edges
    out = enc(lo, hi)
    m = box_centre(lo, hi)
    fns = [lambda x: x[0] * x[0], lambda x: (-(x[0] * x[0])).exp() * x[0] ** 3, lambda x: (3 * x[0]).cos()]
    old = ctx.prec
    ctx.prec = 300
    try:
        for q, g in enumerate(fns):
            _check_enclosure((out[0][:, q], out[1][:, q], out[2][:, q, :]), m, lo, hi, g, 1)
    finally:
        ctx.prec = old
    # the width on a tiny box is the cell's Taylor remainder (~ max|g^(4)| w^4 / 24, w the cell's half-width)
    # plus rounding: 1e-6 with 64 cells, below 1e-11 with 2048
    small = (hi - lo)[:, 0] < 1e-9
    assert small.any() and np.max((out[1] - out[0])[small]) < 1e-5
    fine, _ = cf.enclose_taylor_cells(_cells_series, -1.5, 2.0, cells=2048)
    o2 = fine(lo[small], hi[small])
    assert np.max(o2[1] - o2[0]) < 1e-11


def test_several_outputs_certified_together_and_a_broken_one_fails():
    from constructions.algebra import parallel, scale
    f = lsq.build_square(m=6).net
    net = parallel(f, scale(f, -1.0))  # outputs x^2 and -x^2 (on [0, 1])
    enc, edges = cf.enclose_taylor_cells(lambda x: [x * x, -(x * x)], 0.0, 1.0, cells=16)
    eps = 2.0 ** -14 * (1 + 1e-6)
    seeds = np.union1d(cf.pl_breakpoints(net, 0.0, 1.0), edges)
    res = cf.certify_fnn(net, enc, [0.0], [1.0], eps, output=[0, 1], seed_points=seeds)
    assert res.certified and len(res.bounds) == 2 and max(res.bounds) <= eps
    assert all(b >= 2.0 ** -14 * (1 - 1e-9) for b in res.bounds)  # the sup 2^(-2m-2) is attained
    maps = net.affine_maps()
    (r, c_, v), b, shape = maps[-1]
    b = b.copy()
    b[1] += 1e-3  # output 1 shifted by 1e-3 >> eps; output 0 untouched
    bad = FNN([Affine.from_coo(*m[0], m[2], m[1]) for m in maps[:-1]] + [Affine.from_coo(r, c_, v, shape, b)])
    res = cf.certify_fnn(bad, enc, [0.0], [1.0], eps, output=[0, 1], seed_points=seeds, budget=20_000)
    chk = cf.cert_check("broken second output", res)
    assert not res.certified and chk.passed is False
    assert res.sampled_maxes[1] > eps >= res.sampled_maxes[0]
    with pytest.raises(ValueError):
        cf.certify_fnn(net, enc, [0.0], [1.0], [eps, -1.0], output=[0, 1])
    with pytest.raises(ValueError):
        cf.certify_fnn(net, enc, [0.0], [1.0], eps, output=[0, 2])


def test_exact_line_batch_equals_pointwise_evaluation():
    """ExactLine.batch (integer arithmetic over a power of two) gives the same signs and outputs as the exact
    rational evaluation point by point, on a line through a 2-D net with a base point and a direction."""
    from flint import fmpq

    from verify.certify.piecewise import ExactLine

    net = lmult.build_mult(1.5, 1e-3).net
    line = ExactLine(net, 0, 0, base=[0.25, -0.75], direction=[1.0, 0.5])
    ts = sorted({float(t) for t in np.random.default_rng(3).uniform(-2, 2, 200)} | {0.0, -2.0, 2.0})
    pos, neg, out = line.batch(ts)
    for i, t in enumerate(ts):
        zs = line.pre_activations(t)
        assert out[i] == zs[-1][0]
        for k, z in enumerate(zs[:-1]):
            assert [bool(v) for v in pos[k][:, i]] == [x > 0 for x in z]
            assert [bool(v) for v in neg[k][:, i]] == [x < 0 for x in z]
    assert line.batch([fmpq(1, 3)]) is None  # not dyadic: the caller falls back to the exact scalar path
