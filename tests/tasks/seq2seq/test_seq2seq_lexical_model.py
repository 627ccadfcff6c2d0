"""The lexical model (Nguyen & Chiang 2018): a feed-forward path from the attended source
embeddings to the output."""

import warnings

import torch

import rnnkit
from rnnkit.tasks.seq2seq import Seq2Seq
from rnnkit.tasks.seq2seq.model import Seq2SeqNet

from seq2seq_data import reversal_pairs


def test_lexical_path_adds_the_feed_forward_of_the_attended_embeddings():
    torch.manual_seed(0)
    net = Seq2SeqNet(source_vocab=8, target_vocab=9, embedding_dim=6, hidden_size=8,
                     lexical_model=True).eval()
    plain = Seq2SeqNet(source_vocab=8, target_vocab=9, embedding_dim=6, hidden_size=8).eval()
    plain.load_state_dict({k: v for k, v in net.state_dict().items() if not k.startswith("lexical")})
    src, lengths = torch.tensor([[4, 6, 5], [7, 4, 0]]), torch.tensor([3, 2])
    prev = torch.tensor([2, 2])
    with torch.no_grad():
        logits, state, a = net.step(prev, net.encode(src, lengths))
        base, _, a2 = plain.step(prev, plain.encode(src, lengths))
        torch.testing.assert_close(a, a2)
        l = torch.tanh(torch.einsum("ns,nse->ne", a, net.source_embedding(src)))  # (N, E)
        expected = base + net.lexical_out(torch.tanh(net.lexical(l)) + l)
    torch.testing.assert_close(logits, expected)
    assert state.embedded.shape == (2, 3, 6)
    picked = state.select(torch.tensor([1, 1, 0]))  # beam search reorders the embeddings too
    assert torch.equal(picked.embedded[0], state.embedded[1]) and picked.embedded.shape[0] == 3


def test_fit_with_the_lexical_model_translates_saves_and_loads(tmp_path):
    src, tgt = reversal_pairs(600, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = Seq2Seq(attention="luong", hidden_size=48, embedding_dim=24, epochs=8, batch_size=32,
                    lr=5e-3, dropout=0.0, val_fraction=0.0, min_freq=1, lowercase_target=True,
                    lexicon_top_k=3, lexical_model=True).fit(src, tgt)
    assert m.model_.lexical is not None
    test_src, test_ref = reversal_pairs(40, seed=5)
    out = m.translate(test_src, beam=3)
    assert sum(o == r for o, r in zip(out, test_ref)) >= 20
    again = rnnkit.load(m.save(tmp_path / "lexical.rnnkit"))
    assert again.translate(test_src, beam=3) == out
    assert again.translate(test_src, beam=1) == m.translate(test_src, beam=1)
