"""verify/certify/lemma_ngram_attention.py: de Bruijn prompts and the P-bit certification of the paper's-route n-gram
lookup (lemmas/ngram_attention.py)."""

import numpy as np
import pytest

from lemmas.ngram_attention import build_ngram_lookup_paper, last_logits
from verify.certify.fixedpoint import model_fixed
from verify.certify.lemma_ngram_attention import (
    bits_needed,
    certify_rows,
    de_bruijn,
    de_bruijn_prompts,
    last_logits_fixed,
)
from verify.tasks.generate import ngram_ok


def test_de_bruijn_longest_prompts():
    s = de_bruijn(3, 2)
    grams = {tuple((s + s)[i:i + 2]) for i in range(len(s))}
    assert len(s) == 9 and len(grams) == 9
    X, T = de_bruijn_prompts(4, 2, 6)
    assert X.shape == (6, 4 ** 2 + 3)
    assert all(ngram_ok(x, 2)[0] for x in X)
    c = build_ngram_lookup_paper(4, 2, X.shape[1], 0.5, 0.1)
    assert np.all(last_logits(c.net, X).argmax(-1) == T)


def test_fixed_point_certifies_and_needs_bits():
    c = build_ngram_lookup_paper(4, 2, 19, 0.5, 0.1)
    X, T = de_bruijn_prompts(4, 2, 3)
    ok, margin = certify_rows(c.net, X, T, 30)
    assert ok.all() and np.all(margin > 0)
    assert not certify_rows(c.net, X, T, 3)[0].any()  # 3 bits cannot separate the logits
    P = bits_needed(c.net, X, T, P_lo=4, P_hi=40)
    assert P is not None and P <= 53 and not certify_rows(c.net, X, T, P - 1)[0].all()



def test_wrong_delay_is_not_certified():
    c = build_ngram_lookup_paper(4, 2, 19, 0.5, 0.1, key_delay_shift=1)
    X, T = de_bruijn_prompts(4, 2, 6, seed=1)
    assert not certify_rows(c.net, X, T, 60)[0].all()


def test_streamed_enclosure_equals_the_whole_model_one():
    c = build_ngram_lookup_paper(4, 2, 19, 0.5, 0.1)
    X, T = de_bruijn_prompts(4, 2, 2, seed=2)
    for P in (12, 40):
        lo, hi = last_logits_fixed(c.net, X[0], P, chunk=5)
        lo2, hi2 = model_fixed(c.net, X[0], P)
        assert list(lo) == list(lo2) and list(hi) == list(hi2)
    f64 = last_logits(c.net, X[0])
    lo, hi = last_logits_fixed(c.net, X[0], 80)
    assert all(int(a) / 2.0 ** 80 - 1e-12 <= v <= int(b) / 2.0 ** 80 + 1e-12 for a, v, b in zip(lo, f64, hi))
    ok_s, _ = certify_rows(c.net, X, T, 14)
    ok_m, _ = certify_rows(c.net, X, T, 14, streamed=False)
    assert list(ok_s) == list(ok_m)


@pytest.mark.slow
def test_longest_bigram_prompts_at_16_symbols_certified_at_53_bits():
    """|V| = 16, n = 2, N = 259 (every bigram once): right in float64 and certified at P = 53 (about 15 s)."""
    c = build_ngram_lookup_paper(16, 2, 259, 0.5, 0.1)
    X, T = de_bruijn_prompts(16, 2, 2, seed=3)
    assert np.all(last_logits(c.net, X).argmax(-1) == T)
    ok, margin = certify_rows(c.net, X[:1], T[:1], 53)
    # W_Dec = E^T/sqrt(k) (row l1 norm 1): the target's logit >= 1 - 2ε, every other <= δ_c + 2ε
    assert ok.all() and margin[0] >= 1.0 - c.notes["delta_c"] - 4 * 0.1
