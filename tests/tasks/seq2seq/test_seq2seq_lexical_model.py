"""The lexical model (Nguyen & Chiang 2018): a feed-forward path from the attended source
embeddings to the output. Fitting, translating and loading it: test_seq2seq_lexicon.py."""

import torch

from rnnkit.tasks.seq2seq.model import Seq2SeqNet


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
