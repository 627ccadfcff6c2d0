"""Batched beam search: each source gets what a search of it alone finds."""

import numpy as np
import pytest
import torch
from seq2seq_data import reversal_pairs

from rnnkit.tasks.seq2seq.decoding import beam_search, beam_search_batch, coverage_penalty


class _Markov:
    """Fixed per-row 'model' over V=5 (<eos>=3, 'x'=4): from <bos> p(<eos>)=0.4 and p('x')=0.6,
    after 'x' p(<eos>)=0.9. The attention has ``S`` columns: the first step looks at position 0,
    a later one at position 1, and columns from 2 on are padding (weight 0)."""

    def __init__(self, S: int = 2):
        self.S = S

    class State:
        def select(self, index):
            return self

    def __call__(self, prev, state):
        p = torch.full((len(prev), 5), 1e-9)
        w = torch.zeros(len(prev), self.S)
        for r, t in enumerate(prev.tolist()):
            first = t == 2
            p[r, 3], p[r, 4] = (0.4, 0.6) if first else (0.9, 0.1)
            w[r, 0 if first else 1] = 1.0
        return p.log(), state, w


def test_each_source_of_a_batch_gets_its_own_search_and_limit():
    kw = dict(alpha=1.0, kind="length")
    batch = beam_search_batch(_Markov(), _Markov.State(), 3, 3, [1, 5, 2], **kw)
    alone = [beam_search(_Markov(), _Markov.State(), 3, n, **kw) for n in (1, 5, 2)]
    assert [(h.tokens, h.finished, h.length) for h in batch] == [(h.tokens, h.finished, h.length) for h in alone]
    assert [h.normalised for h in batch] == pytest.approx([h.normalised for h in alone])
    assert batch[1].tokens == [4] and batch[1].normalised == pytest.approx(np.log(0.54) / 2)
    assert batch[0].tokens == [4] and not batch[0].finished and batch[0].length == 1  # cut at 1


def test_padding_never_enters_the_attention_or_the_coverage_penalty():
    """A 2-token source in a batch padded to 4: its attention rows keep 2 columns and the
    coverage penalty is what the unpadded search computes (padding would add log(1e-12))."""
    alone = beam_search(_Markov(2), _Markov.State(), 3, 5, alpha=0.0, beta=0.01)
    padded = beam_search_batch(_Markov(4), _Markov.State(), 2, 3, 5, alpha=0.0, beta=0.01,
                               source_lengths=[2, 2])
    for h in padded:
        assert h.tokens == alone.tokens == [4]
        assert h.normalised == pytest.approx(alone.normalised)
        assert all(len(row) == 2 for row in h.attention)
        assert h.normalised == pytest.approx(np.log(0.54) + coverage_penalty(h.attention, 0.01))
    counted = beam_search_batch(_Markov(4), _Markov.State(), 1, 3, 5, alpha=0.0, beta=0.01)[0]
    assert counted.normalised == pytest.approx(alone.normalised + 2 * 0.01 * np.log(1e-12))


def test_a_batch_of_real_sources_decodes_as_each_alone(reversal_model):
    m = reversal_model
    src, _ = reversal_pairs(24, seed=5)
    batch = m.translate(src, beam=4)
    assert batch == [m.translate([s], beam=4)[0] for s in src]
    source, target, weights = m.attention(src[0], beam=4)
    assert weights.shape == (len(target), len(source))
    assert np.allclose(weights.sum(1), 1.0, atol=1e-5)
