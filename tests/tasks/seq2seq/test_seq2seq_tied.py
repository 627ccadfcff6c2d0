"""Tied target embeddings: the output layer scores the target embeddings (Press & Wolf 2017)."""

import warnings

import pytest
import torch

import rnnkit
from rnnkit.errors import ConfigError
from rnnkit.tasks.seq2seq import Seq2Seq
from rnnkit.tasks.seq2seq.model import Seq2SeqNet


def test_tied_output_is_the_embedding_matrix_times_the_projection():
    torch.manual_seed(0)
    net = Seq2SeqNet(source_vocab=20, target_vocab=15, embedding_dim=8, hidden_size=12,
                     tie_embeddings=True).eval()
    assert net.out is None and net.out_projection.weight.shape == (8, 12)
    assert not any(p.shape == (15, 12) for p in net.parameters())  # no separate W_o
    with torch.no_grad():
        net.out_bias.copy_(torch.linspace(-1, 1, 15))
    state = net.encode(torch.tensor([[5, 6, 7]]), torch.tensor([3]))
    logits, after, _ = net.step(torch.tensor([2]), state)
    expected = net.target_embedding.weight @ (net.out_projection.weight @ after.feed[0]) + net.out_bias
    torch.testing.assert_close(logits[0], expected)


def test_the_output_loss_trains_the_embedding_of_a_word_never_read():
    torch.manual_seed(1)
    net = Seq2SeqNet(source_vocab=20, target_vocab=15, embedding_dim=8, hidden_size=12,
                     tie_embeddings=True)
    target_in, target_out = torch.tensor([[2, 5]]), torch.tensor([[9, 3]])  # 9 is never an input
    logits = net(torch.tensor([[5, 6]]), torch.tensor([2]), target_in)
    torch.nn.functional.cross_entropy(logits.reshape(-1, 15), target_out.reshape(-1)).backward()
    assert float(net.target_embedding.weight.grad[9].abs().sum()) > 0
    untied = Seq2SeqNet(source_vocab=20, target_vocab=15, embedding_dim=8, hidden_size=12)
    logits = untied(torch.tensor([[5, 6]]), torch.tensor([2]), target_in)
    torch.nn.functional.cross_entropy(logits.reshape(-1, 15), target_out.reshape(-1)).backward()
    assert float(untied.target_embedding.weight.grad[9].abs().sum()) == 0


def test_tied_model_learns_and_round_trips(tmp_path):
    words = "a b c d e f".split()
    src = [" ".join(words[i % 6:] + words[:i % 6]) for i in range(60)]
    tgt = [" ".join(reversed(s.split())) for s in src]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mt = Seq2Seq(tie_embeddings=True, hidden_size=32, embedding_dim=16, epochs=6, lr=1e-2,
                     batch_size=8, dropout=0.0, val_fraction=0.0, min_freq=1, lowercase_target=True,
                     seed=0).fit(src, tgt)
    out = mt.translate(src[:6], beam=3)
    assert sum(o == t for o, t in zip(out, tgt[:6])) >= 4, out
    loaded = rnnkit.load(mt.save(tmp_path / "tied.rnnkit"))
    assert loaded.config.tie_embeddings and loaded.translate(src[:6], beam=3) == out


def test_tie_embeddings_setting_is_checked():
    with pytest.raises(ConfigError, match="True or False"):
        Seq2Seq(tie_embeddings="yes").fit(["a b"], ["b a"])
