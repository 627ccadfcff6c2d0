"""A tiny reversal task ("a b c" -> "c b a") and one model trained on it, shared by the
seq2seq tests (trained once per session, a few seconds on CPU)."""

import random
import warnings

import pytest

WORDS = "a b c d e f g h i j".split()


def reversal_pairs(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    src = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))) for _ in range(n)]
    return src, [" ".join(reversed(s.split())) for s in src]


@pytest.fixture(scope="session")
def reversal_model():
    from rnnkit.tasks.seq2seq import Seq2Seq

    src, tgt = reversal_pairs(600, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Seq2Seq(attention="bahdanau", hidden_size=64, embedding_dim=32, epochs=12,
                       batch_size=32, lr=5e-3, dropout=0.0, val_fraction=0.0, min_freq=1,
                       lowercase_target=True, max_source_length=12).fit(src, tgt)
