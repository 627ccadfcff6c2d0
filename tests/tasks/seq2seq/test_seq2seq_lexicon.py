"""The IBM-1 lexicon over token ids and the decoder's lexical bias (Arthur et al. 2016)."""

import math
import warnings

import pytest
import torch
from seq2seq_data import reversal_pairs

import rnnkit
from rnnkit.tasks.seq2seq import Seq2Seq
from rnnkit.tasks.seq2seq.lexicon import ibm1_lexicon
from rnnkit.tasks.seq2seq.model import LEXICON_EPS, Seq2SeqNet


def test_ibm1_learns_word_translations_from_cooccurrence():
    # 4 das, 5 haus, 6 buch, 7 klein -> 4 the, 5 house, 6 book, 7 small
    sources = [[4, 5], [4, 6], [7, 5], [7, 6, 1], [4, 7, 5]]
    targets = [[4, 5], [4, 6], [7, 5], [7, 6], [4, 7, 5, 3]]
    index, prob = ibm1_lexicon(sources, targets, source_vocab=9, top_k=3, iterations=10)
    assert index.shape == prob.shape == (9, 3)
    for f in (4, 5, 6, 7):
        assert int(index[f, 0]) == f and float(prob[f, 0]) > 0.5
        assert math.isclose(float(prob[f].sum()), 1.0, rel_tol=1e-6)
    assert float(prob[[0, 2, 3]].abs().sum()) == 0 and float(prob[8].abs().sum()) == 0  # reserved, unseen
    assert math.isclose(float(prob[1].sum()), 1.0, rel_tol=1e-6)  # a source <unk> has a row
    assert not ((index[prob > 0] < 4).any())  # <pad> <unk> <bos> <eos> are not translations here


def test_a_rare_translation_points_to_unk():
    # source 8 always comes with a target too rare for the vocabulary (<unk> = 1)
    sources = [[4, 8], [4, 5], [8, 5], [4, 5, 8]]
    targets = [[4, 1], [4, 5], [1, 5], [4, 5, 1]]
    index, prob = ibm1_lexicon(sources, targets, source_vocab=9, top_k=2, iterations=10)
    assert int(index[8, 0]) == 1 and float(prob[8, 0]) > 0.5
    assert float(prob[1].abs().sum()) == 0  # no source <unk> in these pairs: an empty row


def test_a_source_unk_learns_to_point_to_a_target_unk():
    # words too rare for either vocabulary: a source <unk> comes with a target <unk>
    sources = [[4, 1], [4, 5], [1, 5], [4, 5, 1], [1, 6]]
    targets = [[4, 1], [4, 5], [1, 5], [4, 5, 1], [1, 6]]
    index, prob = ibm1_lexicon(sources, targets, source_vocab=9, top_k=2, iterations=10)
    assert int(index[1, 0]) == 1 and float(prob[1, 0]) > 0.5


def test_lexical_bias_is_attention_weighted_lexicon():
    torch.manual_seed(0)
    net = Seq2SeqNet(source_vocab=8, target_vocab=9, embedding_dim=6, hidden_size=8,
                     attention="luong", lexicon_top_k=2).eval()
    index = torch.tensor([[0, 0]] * 4 + [[4, 5], [6, 4], [7, 8], [5, 6]])
    prob = torch.tensor([[0.0, 0.0]] * 4 + [[0.7, 0.3], [0.6, 0.4], [1.0, 0.0], [0.5, 0.5]])
    net.set_lexicon(index, prob)
    src, lengths = torch.tensor([[4, 6, 5], [7, 4, 0]]), torch.tensor([3, 2])
    prev = torch.tensor([2, 2])
    logits, _, a = net.step(prev, net.encode(src, lengths))
    plain = Seq2SeqNet(source_vocab=8, target_vocab=9, embedding_dim=6, hidden_size=8, attention="luong")
    plain.load_state_dict({k: v for k, v in net.state_dict().items() if not k.startswith("lex_")})
    base, _, a2 = plain.eval().step(prev, plain.encode(src, lengths))
    assert torch.allclose(a, a2)
    p_lex = torch.zeros(2, 9)
    for n in range(2):
        for s in range(int(lengths[n])):
            for k in range(2):
                p_lex[n, index[src[n, s], k]] += a[n, s] * prob[src[n, s], k]
    assert torch.allclose(logits, base + torch.log(p_lex + LEXICON_EPS), atol=1e-6)
    assert float(a[1, 2].detach()) == 0.0  # the padded position adds nothing
    with pytest.raises(ValueError, match="lexicon_top_k"):
        plain.set_lexicon(index, prob)


@pytest.mark.parametrize("lexical_model", [False, True])  # True: + Nguyen & Chiang's lexical path
def test_fit_with_lexicon_learns_saves_and_loads(tmp_path, lexical_model):
    src, tgt = reversal_pairs(600, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = Seq2Seq(attention="luong", hidden_size=48, embedding_dim=24, epochs=8, batch_size=32,
                    lr=5e-3, dropout=0.0, val_fraction=0.0, min_freq=1, lowercase_target=True,
                    lexicon_top_k=3, word_dropout=0.1, label_smoothing=0.1,
                    lexical_model=lexical_model).fit(src, tgt)
    assert (m.model_.lexical is not None) == lexical_model
    enc_s, enc_t = m.source_encoder_.vocab, m.target_encoder_.vocab
    for word in "abcdefghij":  # the reversal task translates every word to itself
        assert enc_t.tokens[int(m.model_.lex_index[enc_s.tokens.index(word), 0])] == word
    test_src, test_ref = reversal_pairs(40, seed=5)
    out = m.translate(test_src, beam=3)
    assert sum(o == r for o, r in zip(out, test_ref)) >= 20
    again = rnnkit.load(m.save(tmp_path / "lex.rnnkit"))
    assert torch.equal(again.model_.lex_prob, m.model_.lex_prob)
    assert again.translate(test_src, beam=3) == out
    assert again.translate(test_src, beam=1) == m.translate(test_src, beam=1)


def test_unknown_output_takes_the_most_attended_word_never_punctuation(reversal_model):
    from rnnkit.data.text.vocab import UNK_ID
    from rnnkit.tasks.seq2seq.decoding import Hypothesis

    m = reversal_model
    a = m.target_encoder_.vocab.tokens.index("a")
    h = Hypothesis(tokens=[UNK_ID, a, UNK_ID], score=0.0, length=4, finished=True,
                   attention=[[0.1, 0.2, 0.7], [0.5, 0.3, 0.2], [0.3, 0.6, 0.1]])
    m.dictionary_.lexicon["zyx"] = "XYZ"
    m.config.decoding.unknown_source = "attention"
    try:
        # source "zyx qq ." : the first <unk> attends mostly to "." -> the best *word*, "qq"
        assert m.output_words(h, "zyx qq .") == ["qq", "a", "qq"]
        h.attention[2] = [0.6, 0.3, 0.1]
        assert m.output_words(h, "zyx qq .") == ["qq", "a", "XYZ"]  # dictionary translation
    finally:
        del m.dictionary_.lexicon["zyx"]
        m.config.decoding.unknown_source = "unknown_first"
