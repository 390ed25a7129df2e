"""Every soundness tool of the verifier, behind one interface (docs/certification.md, docs/architecture.md).

A certificate bounds sup |f - g| over a whole domain for the EXACT-arithmetic network f on the stored weights
(or evaluates it soundly at a stated precision).  Generic tools, one job per module:

    rational      exact rationals (``to_fmpq``) and their sound rounding to float64 (``fmpq_float_up``, ``float_up``)
    interval      interval/affine-form propagation through an FNN with outward rounding (``IntervalNet``)
    highprec      evaluation in mpmath, exact rationals and python-flint arb balls (FNNs, SSM layers, models)
    fixedpoint    sound fixed-point (integer) enclosures of FNNs and of the Lemma 3.3 block at P bits
    bnb           branch-and-bound over boxes (``certify_fnn``) and its Check (``cert_check``)
    enclosures    sound target enclosures for ``certify_fnn`` (x^2, products, e^{-x}, clip, Taylor cells)
    piecewise     exact certificates of 1-D piecewise-linear nets (``certify_pl_exact``, ``pl_breakpoints``)
    tails         unbounded 1-D rays (``affine_on_ray``, ``certify_decreasing_tail``)
    separable     exact certificates of separable product levels
    twostage      split at a product level's clip layer; 1-D stage certificates; composition; its Check
    cascade       product trees level by level
    sawtooth      sawtooth product levels recognised from their exact weights, certified in O(m) (Yarotsky's bound)
    float64       E_fl: a sound bound on |float64 net - exact net| over a box domain up to the largest float
    dyadic        float64 evaluation of a dyadic SSM model proved exact on given inputs (``dyadic_profile``)

A certificate that only makes sense for one lemma lives in ``lemma_<module>.py``, named after the builder module
``lemmas/<module>.py`` it certifies: ``lemma_quotient``, ``lemma_ratio``, ``lemma_gauss_kernel``,
``lemma_gauss_kernel_net``, ``lemma_attention``, ``lemma_fixed_positions``.  Nothing here imports a claim, the registry or the CLI.

The names re-exported below are the interface the claims use most.
"""

from .bnb import CertResult, cert_check, certify_fnn
from .enclosures import (
                         enclose_clip,
                         enclose_exp_neg,
                         enclose_monotone_arb,
                         enclose_product,
                         enclose_quotient,
                         enclose_square,
                         enclose_taylor_arb,
                         enclose_taylor_cells,
)
from .piecewise import (
                         ExactLine,
                         ExactPLResult,
                         certify_pl_exact,
                         clip_piece_error,
                         depends_only_on,
                         pl_breakpoints,
                         square_piece_error,
)
from .rational import float_up, fmpq_float_up, to_fmpq
from .tails import affine_on_ray, certify_decreasing_tail

__all__ = ["CertResult", "ExactLine", "ExactPLResult", "affine_on_ray", "cert_check", "certify_decreasing_tail",
           "certify_fnn", "certify_pl_exact", "clip_piece_error", "depends_only_on", "enclose_clip", "enclose_exp_neg",
           "enclose_monotone_arb", "enclose_product", "enclose_quotient", "enclose_square", "enclose_taylor_arb", "enclose_taylor_cells",
           "float_up", "fmpq_float_up", "pl_breakpoints", "square_piece_error", "to_fmpq"]
