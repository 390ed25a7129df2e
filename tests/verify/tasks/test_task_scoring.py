import numpy as np
import pytest

from constructions import ssm
from constructions.affine import Affine
from constructions.fnn import FNN
from constructions.model import Decoding, Embedding, SSMModel
from verify.tasks import generate, scoring


def copy_model(V: int, L: int, err: float = 0.0, N: int = 64) -> SSMModel:
    """Predicts tokens[t - L] (a perfect copier for generate.copying at length L); with err > 0 the current
    token 0 pushes the logit of token 1 up by err (the model then errs after every 0)."""
    chans = tuple([ssm.delay(L)] * V + [ssm.delay(0)] * V)
    layer = ssm.SSMLayer(chans, N, W_in=np.vstack([np.eye(V), np.eye(V)]))
    fnn = FNN([Affine.dense(np.eye(2 * V))])
    P = np.zeros((V, V))
    P[1, 0] = err
    return SSMModel(Embedding(np.eye(V)), [(layer, fnn)], Decoding(np.hstack([np.eye(V), P])))


def test_perfect_copier_scores_one_and_matches_greedy():
    task = generate.copying(12, 6, alphabet=4, seed=0)
    m = copy_model(task.vocab.size, 6)
    P = scoring.teacher_forced_predictions(m, task.tokens, chunk=5)
    assert task.score(P) == 1.0
    assert scoring.greedy_row_correct(m, task).all()
    assert scoring.score_model(m, task) == 1.0


def test_erring_model_exact_match_equals_greedy_per_row():
    task = generate.copying(40, 6, alphabet=4, seed=1)
    m = copy_model(task.vocab.size, 6, err=1.5)
    P = scoring.teacher_forced_predictions(m, task.tokens, method="exact")
    tf_rows = task.per_row_correct(P)
    greedy_rows = scoring.greedy_row_correct(m, task)
    assert np.array_equal(tf_rows, greedy_rows)
    assert 0 < tf_rows.sum() < task.rows  # the model errs on some rows and not on others
    assert task.score(P) == pytest.approx(tf_rows.mean())


def test_token_accuracy_differs_from_greedy_for_an_erring_model():
    # after the first error greedy generation continues from its own output; token accuracy is not preserved
    task = generate.copying(40, 6, alphabet=4, seed=1)
    m = copy_model(task.vocab.size, 6, err=1.5)
    P = scoring.teacher_forced_predictions(m, task.tokens)
    tf_tok = np.mean(P[task.scored] == task.targets[task.scored])
    gen_tok = []
    for r in range(task.rows):
        pos = np.flatnonzero(task.scored[r])
        gen = scoring.greedy_generate(m, task.tokens[r, :pos[0] + 1], pos.size)
        gen_tok.append(np.mean(gen == task.targets[r, pos]))
    assert tf_tok != np.mean(gen_tok)


def test_wrong_delay_model_fails_and_vocab_mismatch():
    task = generate.copying(10, 6, alphabet=4, seed=2)
    m = copy_model(task.vocab.size, 7)  # off by one position
    assert scoring.score_model(m, task) < 0.5
    with pytest.raises(ValueError, match="mismatched vocabulary"):
        scoring.score_model(copy_model(9, 6), task)
    with pytest.raises(ValueError):
        scoring.teacher_forced_predictions(m, task.tokens[0])


def test_greedy_needs_next_token_alignment():
    from verify.tasks.formats import zoology
    t = zoology.from_recall(generate.recall(3, 2, n_keys=4, n_values=5))
    with pytest.raises(ValueError):
        scoring.greedy_row_correct(copy_model(t.vocab.size, 1), t)
