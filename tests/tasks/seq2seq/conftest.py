"""A tiny reversal task ("a b c" -> "c b a") and one model trained on it, shared by the
seq2seq tests (trained once per session, a few seconds on CPU)."""

import warnings

import pytest
from seq2seq_data import reversal_pairs


@pytest.fixture(scope="session")
def reversal_model():
    from rnnkit.tasks.seq2seq import Seq2Seq

    src, tgt = reversal_pairs(600, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Seq2Seq(attention="bahdanau", hidden_size=64, embedding_dim=32, epochs=12,
                       batch_size=32, lr=5e-3, dropout=0.0, val_fraction=0.0, min_freq=1,
                       lowercase_target=True, max_source_length=12).fit(src, tgt)
