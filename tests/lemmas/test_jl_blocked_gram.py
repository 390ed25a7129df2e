"""``jl.gram_offdiag_max``: the blocked float32 Gram equals the exact int64 one; early stop on a violation."""

import pytest

from lemmas import jl


@pytest.mark.parametrize("block", [1, 7, 64, 1024])
def test_blocked_max_equals_full_int64_gram(block):
    S = jl.draw_signs(3, 0, (64, 150))
    assert jl.gram_offdiag_max(S, block=block) == jl.off_diagonal_max(jl.int_gram(S))


def test_early_stop_and_violation():
    S = jl.draw_signs(0, 0, (16, 300))
    S[:, 299] = S[:, 0]  # equal columns in the first and the last block: |G| = k
    assert jl.gram_offdiag_max(S, block=32) == 16
    m = jl.gram_offdiag_max(S, stop_above=4, block=32)
    assert m > 4  # rejected without the whole Gram
    assert jl.code_ok(S, 0.5, early=True)[0] is False
    with pytest.raises(ValueError):
        jl.gram_offdiag_max(2 * S)


def test_code_search_unchanged_by_early_stop():
    """The emitted draw is the first that meets the margin, with or without the early stop."""
    vc = jl.vocab_code(200, 0.5, seed=1, k=64)
    first = next(d for d in range(jl.MAX_DRAWS) if jl.off_diagonal_max(jl.int_gram(jl.draw_signs(1, d, (64, 200))))
                 <= jl.margin_int(0.5, 64))
    assert vc.draw == first and vc.max_abs_gram == jl.off_diagonal_max(jl.int_gram(vc.signs))
