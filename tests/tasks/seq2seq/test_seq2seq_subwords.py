"""Seq2Seq with BPE pieces on both sides, and word dropout."""

import random
import warnings

import numpy as np
import pytest
import torch

from rnnkit.data.text.vocab import BOS_ID, PAD_ID, UNK_ID
from rnnkit.errors import ConfigError
from rnnkit.tasks.seq2seq import Seq2Seq
from rnnkit.tasks.seq2seq.training import drop_words, make_batch

SYLLABLES = "ka lu mi to re sa no vi".split()


def syllable_pairs(n: int, seed: int):
    """Sentences of made-up words of 2-3 syllables -> the same words reversed and capitalised
    with a full stop, so a BPE target vocabulary splits words into several pieces."""
    rng = random.Random(seed)
    lexicon = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))) for _ in range(12)]
    src = [" ".join(rng.choice(lexicon) for _ in range(rng.randint(2, 5))) for _ in range(n)]
    tgt = [" ".join(reversed(s.split())).capitalize() + "." for s in src]
    return src, tgt


def test_bpe_model_outputs_whole_words():
    src, tgt = syllable_pairs(500, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = Seq2Seq(tokenizer="bpe", bpe_vocab_size=40, min_freq=1, hidden_size=64, embedding_dim=32,
                    epochs=14, batch_size=32, lr=5e-3, dropout=0.0, val_fraction=0.0,
                    max_target_length=40, seed=0).fit(src, tgt)
    pieces = m.target_encoder_.tokenizer.tokenize(tgt[0])
    assert len(pieces) > len(tgt[0].split()) + 1  # words really are split into pieces
    test_src, test_tgt = syllable_pairs(60, seed=0)  # same lexicon (seed), new sentences
    out = m.translate(test_src[:60], beam=3)
    assert all("</w>" not in o for o in out)
    assert np.mean([o == t for o, t in zip(out, test_tgt)]) >= 0.6
    assert m.evaluate(test_src, test_tgt, beam=3).table.loc["rnnkit beam 3", "bleu"] > 50


def test_word_dropout_turns_real_tokens_into_unk_only():
    torch.manual_seed(0)
    rng = random.Random(0)
    sources = [[rng.randrange(4, 50) for _ in range(rng.randint(1, 30))] for _ in range(200)]
    targets = [[rng.randrange(4, 50) for _ in range(rng.randint(1, 30))] for _ in range(200)]
    batch = make_batch(sources, targets)
    src, lengths, tin, tout = drop_words(batch, 0.3)
    for before, after in ((batch[0], src), (batch[2], tin)):
        changed = before != after
        assert (after[changed] == UNK_ID).all()
        assert not changed[before == PAD_ID].any() and not changed[before == BOS_ID].any()
        real = (before != PAD_ID) & (before != BOS_ID)
        assert abs(float(changed[real].float().mean()) - 0.3) < 0.03
    assert torch.equal(tout, batch[3]) and torch.equal(lengths, batch[1])  # targets untouched
    same = drop_words(batch, 0.0)
    assert all(torch.equal(a, b) for a, b in zip(same, batch))


@pytest.mark.parametrize("value", [-0.1, 1.0, "0.2"])
def test_word_dropout_is_checked(value):
    with pytest.raises(ConfigError, match="word_dropout"):
        Seq2Seq(word_dropout=value).fit(["a b"], ["b a"])
