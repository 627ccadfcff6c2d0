"""Repeated n-grams banned at decoding (``no_repeat_ngram_size``, fairseq's option)."""

import pytest
import torch
from typer.testing import CliRunner

from rnnkit.cli.main import app
from rnnkit.errors import ConfigError
from rnnkit.tasks.seq2seq.decoding import ban_repeats, beam_search_batch, greedy, sample

EOS = 3


def test_ban_repeats_known_answer():
    logp = torch.zeros(3, 8)
    banned = ban_repeats(logp, [[5, 6, 5], [5, 6, 5, 6], []], 2)
    # row 0 ends in 5 and holds (5, 6): 6 is banned; row 1 ends in 6, whose only bigram (6, 5)
    # bans 5; an empty output bans nothing
    assert torch.isinf(banned).nonzero().tolist() == [[0, 6], [1, 5]]
    assert torch.isinf(ban_repeats(logp, [[5, 6, 5, 6]], 3)).nonzero().tolist() == [[0, 5]]
    assert torch.isinf(ban_repeats(logp[:1], [[5, 6]], 1)).nonzero().tolist() == [[0, 5], [0, 6]]
    assert ban_repeats(logp, [[5, 5, 5]] * 3, 0) is logp  # off
    assert float(logp.abs().sum()) == 0  # the input is never changed in place


class _Loop:
    """A 'model' over V=6 that always prefers token 4, then 5, then <eos>."""

    class State:
        def select(self, index):
            return self

    def __call__(self, prev, state):
        p = torch.tensor([1e-9, 1e-9, 1e-9, 0.1, 0.6, 0.3]).repeat(len(prev), 1)
        return p.log(), state, None


def _bigrams(tokens):
    return list(zip(tokens, tokens[1:]))


def test_greedy_beam_and_sampling_never_repeat_a_bigram():
    plain = greedy(_Loop(), _Loop.State(), 2, 8)
    assert plain[0].tokens == [4] * 8  # stuck, cut at max_len
    out = greedy(_Loop(), _Loop.State(), 2, 8, no_repeat=2)
    # 4 4 (new bigram), then (4, 4) is taken -> 5, then 4, then (4, 4) and (4, 5) -> <eos>
    assert [h.tokens for h in out] == [[4, 4, 5, 4]] * 2 and out[0].finished
    assert out[0].score == pytest.approx(float(torch.log(torch.tensor([0.6, 0.6, 0.3, 0.6, 0.1])).sum()))
    for h in beam_search_batch(_Loop(), _Loop.State(), 2, 4, 12, alpha=1.0, kind="length", no_repeat=2):
        assert len(set(_bigrams(h.tokens))) == len(_bigrams(h.tokens))
    for seed in range(5):
        h = sample(_Loop(), _Loop.State(), 1, 12, temperature=1.0, seed=seed, no_repeat=2)[0]
        assert len(set(_bigrams(h.tokens))) == len(_bigrams(h.tokens))


def test_model_setting_and_call_override(reversal_model):
    m = reversal_model
    src = ["a b a b a b a b", "c d c d c d"]
    for beam in (1, 3):
        for out in m.translate(src, beam=beam, no_repeat_ngram_size=2):
            words = out.lower().split()
            assert len(set(_bigrams(words))) == len(_bigrams(words)), out
    before = m.config.decoding.no_repeat_ngram_size
    try:
        m.config.decoding.no_repeat_ngram_size = 2
        assert m.translate(src, beam=1) == m.translate(src, beam=1, no_repeat_ngram_size=2)
        assert m.translate(src, beam=1, no_repeat_ngram_size=0) != m.translate(src, beam=1)
    finally:
        m.config.decoding.no_repeat_ngram_size = before
    reply = m.reply("a b a b a b", temperature=0.0, no_repeat_ngram_size=1)
    assert len(set(reply.split())) == len(reply.split())
    with pytest.raises(ConfigError, match="no_repeat_ngram_size"):
        m.translate(src, no_repeat_ngram_size=-1)
    with pytest.raises(ConfigError, match="no_repeat_ngram_size"):
        m.reply("a b", no_repeat_ngram_size="two")


def test_cli_option(reversal_model, tmp_path):
    path = reversal_model.save(tmp_path / "rev.rnnkit")
    run = CliRunner().invoke(app, ["translate", str(path), "a b a b a b a b", "--beam", "1",
                                   "--no-repeat-ngram", "2"])
    assert run.exit_code == 0, run.output
    words = run.output.strip().lower().split()
    assert words and len(set(_bigrams(words))) == len(_bigrams(words))
    bad = CliRunner().invoke(app, ["translate", str(path), "a b", "--no-repeat-ngram", "-2"])
    assert bad.exit_code == 2 and "no_repeat_ngram_size" in bad.output
    chat = CliRunner().invoke(app, ["chat", str(path), "--no-repeat-ngram", "-1"], input="a b\n")
    assert chat.exit_code == 2 and "no_repeat_ngram_size" in chat.output
