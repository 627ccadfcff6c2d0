"""Guided alignment: the decoder's attention trained towards the IBM-1 lexicon's alignment."""

import warnings

import pytest
import torch
from seq2seq_data import distinct_reversal_pairs

from rnnkit.errors import ConfigError
from rnnkit.tasks.seq2seq import Seq2Seq
from rnnkit.tasks.seq2seq.model import Seq2SeqNet
from rnnkit.tasks.seq2seq.training import alignment_loss, lexicon_alignment, make_batch


def _net_with_lexicon():
    net = Seq2SeqNet(source_vocab=8, target_vocab=9, embedding_dim=4, hidden_size=6, lexicon_top_k=2)
    index = torch.tensor([[0, 0]] * 4 + [[4, 5], [6, 4], [7, 8], [5, 6]])
    prob = torch.tensor([[0.0, 0.0]] * 4 + [[0.7, 0.3], [0.6, 0.4], [1.0, 0.0], [0.5, 0.5]])
    net.set_lexicon(index, prob)
    return net


def test_lexicon_alignment_known_answer():
    net = _net_with_lexicon()
    src = torch.tensor([[4, 5, 6], [7, 4, 0]])  # second source padded
    target_out = torch.tensor([[4, 5, 7, 8, 3], [5, 6, 0, 0, 0]])  # 3 = <eos>, 0 = <pad>
    A, aligned = lexicon_alignment(net, src, target_out)
    assert A.shape == (2, 5, 3) and aligned.shape == (2, 5)
    # target 4 in row 0: lex(4|4)=0.7, lex(4|5)=0.4, lex(4|6)=0
    torch.testing.assert_close(A[0, 0], torch.tensor([0.7, 0.4, 0.0]) / 1.1)
    torch.testing.assert_close(A[0, 1], torch.tensor([1.0, 0.0, 0.0]))  # 5 only from 4
    torch.testing.assert_close(A[0, 2], torch.tensor([0.0, 0.0, 1.0]))  # 7 only from 6
    # target 5 in row 1: lex(5|7)=0.5, lex(5|4)=0.3; the pad position never takes weight
    torch.testing.assert_close(A[1, 0], torch.tensor([0.5, 0.3, 0.0]) / 0.8)
    torch.testing.assert_close(A[1, 1], torch.tensor([1.0, 0.0, 0.0]))  # 6 only from 7
    # 8 is in row 6 with probability 0, <eos> and <pad> in none: not aligned, all zero
    assert aligned.tolist() == [[True, True, True, False, False], [True, True, False, False, False]]
    assert float(A[0, 3:].abs().sum()) == 0 and float(A[1, 2:].abs().sum()) == 0


def test_alignment_loss_is_cross_entropy_over_aligned_tokens():
    attention = torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]]])
    target = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
    aligned = torch.tensor([[True, False]])
    loss = alignment_loss(attention, target, aligned)
    torch.testing.assert_close(loss, -torch.log(torch.tensor(0.5)))
    both = alignment_loss(attention, torch.tensor([[[1.0, 0, 0], [0, 0.5, 0.5]]]), torch.tensor([[True, True]]))
    expected = (-torch.log(torch.tensor(0.5)) - 0.5 * torch.log(torch.tensor(0.8))
                - 0.5 * torch.log(torch.tensor(0.1))) / 2
    torch.testing.assert_close(both, expected)
    assert float(alignment_loss(attention, target, torch.zeros(1, 2, dtype=torch.bool))) == 0.0



def _mass_on_source_word(model, src, tgt):
    """Mean teacher-forced attention on the source position that holds each reference word."""
    xs, ys = model.source_encoder_.encode(src), model.target_encoder_.encode(tgt)
    s, lengths, target_in, target_out = make_batch(xs, ys)
    net = model.model_.eval()
    with torch.no_grad():
        _, a = net(s, lengths, target_in, return_attention=True)  # (B, T, S)
    total, count = 0.0, 0
    for n, (x, y) in enumerate(zip(xs, ys)):
        for t in range(len(y)):
            total += float(a[n, t, len(x) - 1 - t])
            count += 1
    return total / count


def test_guided_alignment_teaches_the_attention_where_words_come_from():
    src, tgt = distinct_reversal_pairs(600, seed=0)
    test_src, test_tgt = distinct_reversal_pairs(40, seed=1)
    settings = dict(attention="luong", hidden_size=32, embedding_dim=16, epochs=3, batch_size=32,
                    lr=5e-3, dropout=0.0, val_fraction=0.0, min_freq=1, lowercase_target=True,
                    lexicon_top_k=1, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = Seq2Seq(**settings).fit(src, tgt)
        guided = Seq2Seq(**settings, guided_alignment=5.0).fit(src, tgt)
    plain_mass = _mass_on_source_word(plain, test_src, test_tgt)
    guided_mass = _mass_on_source_word(guided, test_src, test_tgt)
    # measured: plain 0.76, guided 0.88 (every word is in the lexicon, one position each)
    assert guided_mass > 0.82 and guided_mass > plain_mass + 0.08


@pytest.mark.parametrize("bad, message", [
    (dict(guided_alignment=1.0), "lexicon_top_k"),
    (dict(guided_alignment=-0.5, lexicon_top_k=4), ">= 0"),
    (dict(guided_alignment="lots", lexicon_top_k=4), ">= 0"),
])
def test_guided_alignment_settings_are_checked(bad, message):
    with pytest.raises(ConfigError, match=message):
        Seq2Seq(**bad).fit(["a b"], ["b a"])
