"""Seq2Seq: attention, padding invariance, learning, decoding, persistence, bad input."""

import copy

import numpy as np
import pytest
import torch
from seq2seq_data import reversal_pairs

import rnnkit
from rnnkit.data.text.batches import pad_ids
from rnnkit.errors import ConfigError, DataError, NotFittedError
from rnnkit.tasks.seq2seq import Seq2Seq
from rnnkit.tasks.seq2seq.attention import BahdanauAttention, LuongAttention, padding_mask
from rnnkit.tasks.seq2seq.model import Seq2SeqNet


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_attention_sums_to_one_and_ignores_padding(kind):
    torch.manual_seed(0)
    att = BahdanauAttention(8, 6, 5) if kind == "bahdanau" else LuongAttention(8, 6)
    keys = torch.randn(3, 5, 6)  # (N, S, K)
    lengths = torch.tensor([5, 2, 3])
    pad = padding_mask(lengths, 5)
    c, a = att(torch.randn(3, 8), keys, att.prepare(keys), pad)
    assert c.shape == (3, 6) and a.shape == (3, 5)
    torch.testing.assert_close(a.sum(1), torch.ones(3))
    assert (a[pad] == 0).all() and (a[~pad] > 0).all()
    # changing padded keys changes nothing
    keys2 = keys.clone()
    keys2[pad] = 100.0
    c2, a2 = att(torch.randn(3, 8).copy_(torch.zeros(3, 8)), keys2, att.prepare(keys2), pad)
    c1, a1 = att(torch.zeros(3, 8), keys, att.prepare(keys), pad)
    torch.testing.assert_close(a1, a2)
    torch.testing.assert_close(c1, c2)


@pytest.mark.parametrize("settings", [dict(lexicon_top_k=3, lexical_model=True),
                                      dict(cell="lstm", attention="bahdanau", coverage=True)])
def test_teacher_forcing_equals_one_step_at_a_time_dropout_included(settings):
    """forward() runs the output layers once over all steps; in training mode (dropout 0.5)
    it must give what T calls of step() give from the same RNG state."""
    torch.manual_seed(0)
    net = Seq2SeqNet(source_vocab=20, target_vocab=15, embedding_dim=8, hidden_size=12,
                     dropout=0.5, **settings).train()
    if net.lexicon_top_k:
        net.set_lexicon(torch.randint(4, 15, (20, 3)), torch.rand(20, 3) / 3)
    src, lengths = pad_ids([[5, 6, 7, 8], [9, 10]])
    target_in = torch.tensor([[2, 5, 6, 7, 8], [2, 9, 4, 0, 0]])
    torch.manual_seed(7)
    logits, weights = net(src, lengths, target_in, return_attention=True)
    torch.manual_seed(7)
    state, stepped, attended = net.encode(src, lengths), [], []
    for t in range(target_in.shape[1]):
        z, state, a = net.step(target_in[:, t], state)
        stepped.append(z)
        attended.append(a)
    torch.testing.assert_close(logits, torch.stack(stepped, 1))
    torch.testing.assert_close(weights, torch.stack(attended, 1))


@pytest.mark.parametrize("cell,attention", [("gru", "luong"), ("lstm", "bahdanau")])
def test_padding_invariance(cell, attention):
    torch.manual_seed(0)
    net = Seq2SeqNet(source_vocab=20, target_vocab=15, embedding_dim=8, cell=cell, hidden_size=12,
                     attention=attention, attention_size=7).eval()
    sources = [[5, 6, 7], [8, 9, 10, 11, 12, 13, 4]]
    target_in = torch.tensor([[2, 5, 6, 7, 8]])
    alone = net(*pad_ids(sources[:1]), target_in, return_attention=True)
    src, lengths = pad_ids(sources)
    batch = net(src, lengths, torch.cat([target_in, torch.tensor([[2, 9, 9, 4, 5]])]),
                return_attention=True)
    torch.testing.assert_close(batch[0][:1], alone[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(batch[1][:1, :, :3], alone[1], atol=1e-6, rtol=0)
    assert (batch[1][0, :, 3:] == 0).all()


def test_learns_reversal_greedy_and_beam(reversal_model):
    src, ref = reversal_pairs(100, seed=1)
    for beam in (1, 4):
        out = reversal_model.translate(src, beam=beam)
        exact = np.mean([o == r for o, r in zip(out, ref)])
        assert exact >= 0.8, (beam, exact)


def test_translation_alone_equals_in_batch(reversal_model):
    src, _ = reversal_pairs(20, seed=2)
    batch = reversal_model.translate(src, beam=1)
    assert [reversal_model.translate([s], beam=1)[0] for s in src[:5]] == batch[:5]


def test_beam_one_is_greedy_and_beam_never_worse(reversal_model):
    m = reversal_model
    src, _ = reversal_pairs(40, seed=3)
    ids = m.source_ids(src, "test")
    greedy = m.decode(ids, 1, 0.6, "gnmt")  # batched greedy decoding
    from rnnkit.tasks.seq2seq import decoding
    for x, g in zip(ids, greedy):
        state, device = m.encode_batch([x])
        one = decoding.beam_search(m.step_fn(), state, 1, m.max_output_length(len(x)), alpha=0.6)
        assert one.tokens == g.tokens and one.score == pytest.approx(g.score, abs=1e-5)
        state, device = m.encode_batch([x])
        wide = decoding.beam_search(m.step_fn(), state, 5, m.max_output_length(len(x)), alpha=0.6)
        # (batched vs single greedy differ by float rounding only)
        assert wide.normalised >= g.normalised - 1e-5
    assert m.translate(src, beam=1) == [m.output_text(g, s) for g, s in zip(greedy, src)]


class _Toy:
    """A fixed Markov 'model' over V=5 (ids 0..4; <eos>=3, 'x'=4): from <bos>, <eos> has
    p=0.5 and 'x' p=0.5; after 'x', <eos> has p=0.9."""

    class State:
        def select(self, index):
            return self

    def __call__(self, prev, state):
        p = torch.full((len(prev), 5), 1e-9)
        for r, t in enumerate(prev.tolist()):
            if t == 2:
                p[r, 3], p[r, 4] = 0.5, 0.5
            else:
                p[r, 3], p[r, 4] = 0.9, 0.1
        return p.log(), state, None


def test_length_normalisation():
    from rnnkit.tasks.seq2seq.decoding import beam_search, length_penalty

    assert length_penalty(7, 0.0) == 1.0
    assert length_penalty(1, 1.0, "gnmt") == pytest.approx(1.0)
    assert length_penalty(7, 0.6, "gnmt") == pytest.approx(2.0 ** 0.6)
    assert length_penalty(4, 1.0, "length") == 4.0
    # raw log-probability: "" (log .5) beats "x" (log .45); per-token mean prefers "x"
    short = beam_search(_Toy(), _Toy.State(), 3, 5, alpha=0.0)
    long = beam_search(_Toy(), _Toy.State(), 3, 5, alpha=1.0, kind="length")
    assert short.tokens == [] and short.length == 1
    assert long.tokens == [4] and long.normalised == pytest.approx(np.log(0.45) / 2)


class _Attending(_Toy):
    """_Toy over a 2-token source: the first step attends to source position 0, a step
    after 'x' to position 1 — only the longer output "x" covers the whole source."""

    def __call__(self, prev, state):
        logp, state, _ = super().__call__(prev, state)
        weights = torch.tensor([[1.0, 0.0] if t == 2 else [0.0, 1.0] for t in prev.tolist()])
        return logp, state, weights


def test_coverage_penalty_prefers_the_output_that_attends_to_every_source_word():
    from rnnkit.tasks.seq2seq.decoding import beam_search, coverage_penalty

    assert coverage_penalty([[0.5, 0.5], [0.5, 0.5]], 0.2) == 0.0  # every word attended fully
    assert coverage_penalty([[0.25, 0.75]], 1.0) == pytest.approx(np.log(0.25) + np.log(0.75))
    assert coverage_penalty([[1.0, 0.0]], 0.0) == 0.0 and coverage_penalty([], 0.3) == 0.0
    plain = beam_search(_Attending(), _Attending.State(), 3, 5, alpha=0.0)
    covered = beam_search(_Attending(), _Attending.State(), 3, 5, alpha=0.0, beta=0.01)
    assert plain.tokens == [] and plain.normalised == pytest.approx(np.log(0.5))
    assert covered.tokens == [4] and covered.normalised == pytest.approx(np.log(0.45))


def test_coverage_penalty_setting_reaches_beam_search(reversal_model):
    with pytest.raises(ConfigError, match="coverage_penalty"):
        Seq2Seq(decoding={"coverage_penalty": -0.1}).fit(["a b"], ["b a"])
    m = copy.deepcopy(reversal_model)
    sources = reversal_pairs(6, seed=9)[0]
    before = m.translate(sources, beam=3)
    m.config.decoding.coverage_penalty = 0.2
    assert m.translate(sources, beam=3) == before  # a model that attends well keeps its output


def test_sampling_is_deterministic_per_seed(reversal_model):
    m = reversal_model
    a = [m.reply("a b c d", temperature=1.5, seed=s) for s in range(6)]
    b = [m.reply("a b c d", temperature=1.5, seed=s) for s in range(6)]
    assert a == b
    assert len(set(a)) > 1
    assert m.reply("a b c", temperature=0) == m.translate(["a b c"], beam=1)[0]
    with pytest.raises(ConfigError, match="top_p"):
        m.reply("a b", top_p=1.5)


def test_save_load_round_trip(reversal_model, tmp_path):
    src, _ = reversal_pairs(10, seed=4)
    path = reversal_model.save(tmp_path / "rev.rnnkit")
    loaded = rnnkit.load(path)
    assert isinstance(loaded, Seq2Seq)
    assert loaded.translate(src, beam=3) == reversal_model.translate(src, beam=3)
    np.testing.assert_allclose(loaded.attention(src[0])[2], reversal_model.attention(src[0])[2])


def test_decoding_settings_as_an_object_or_a_dict(reversal_model):
    from sklearn.base import clone

    from rnnkit.tasks.seq2seq import DecodingSettings

    given = {"beam": 3, "alpha": 1.0}
    m = Seq2Seq(decoding=given)
    assert m.get_params()["decoding"] is given and m.config.decoding_settings == DecodingSettings(beam=3, alpha=1.0)
    copied = clone(m)  # a deep copy of the dict, equal params
    assert copied.get_params()["decoding"] == given and copied.get_params()["decoding"] is not given
    assert clone(Seq2Seq(decoding=DecodingSettings(beam=2))).config.decoding == DecodingSettings(beam=2)
    with pytest.raises(ConfigError, match=r"pass decoding=\{'beam': 5\}"):
        Seq2Seq(beam=5)
    with pytest.raises(ConfigError, match="did you mean 'beam'"):
        Seq2Seq(decoding={"beem": 5}).fit(["a b"], ["b a"])
    with pytest.raises(ConfigError, match="decoding: expected a DecodingSettings or a dict"):
        Seq2Seq(decoding=5).fit(["a b"], ["b a"])
    m = copy.deepcopy(reversal_model)
    src, _ = reversal_pairs(6, seed=4)
    m.set_params(decoding={"beam": 1})
    assert m.translate(src) == reversal_model.translate(src, beam=1)


def test_a_file_with_flat_decoding_settings_loads_the_same(reversal_model, tmp_path):
    """Model files saved before the decoding settings were grouped keep them at the top level."""
    from rnnkit.bundle import read_bundle, save_bundle

    bundle = read_bundle(reversal_model.save(tmp_path / "new.rnnkit"))
    settings = dict(bundle.config["settings"])
    flat = {**settings, **settings.pop("decoding"), "beam": 3}
    flat = {k: v for k, v in flat.items() if k not in ("decoding", "weight_decay", "plateau_patience",
                                                        "max_steps")}
    old = save_bundle(tmp_path / "old.rnnkit", task=bundle.task, config={**bundle.config, "settings": flat},
                      tensors=bundle.tensors, preprocessing=bundle.preprocessing, metrics=bundle.metrics)
    loaded = rnnkit.load(old)
    assert loaded.config.decoding.beam == 3
    src, _ = reversal_pairs(10, seed=6)
    assert loaded.translate(src) == reversal_model.translate(src, beam=3)


def test_plot_attention_matches_weights(reversal_model, tmp_path):
    import matplotlib.image

    from rnnkit.tasks.seq2seq.plots import attention_figure

    src, tgt, w = reversal_model.attention("a b c")
    assert src == ["a", "b", "c"] and tgt[-1] == "<eos>"
    assert w.shape == (len(tgt), 3)
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-5)
    s2, t2, w2 = reversal_model.plot_attention("a b c", tmp_path / "att.png")
    np.testing.assert_array_equal(w, w2)
    image = matplotlib.image.imread(tmp_path / "att.png")
    assert image.ndim == 3 and image.shape[0] > 100
    ax = attention_figure(src, tgt, w).axes[0]
    np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), w)
    assert [t.get_text() for t in ax.get_xticklabels()] == src
    assert [t.get_text() for t in ax.get_yticklabels()] == tgt


def test_bad_input(reversal_model):
    m = reversal_model
    with pytest.raises(DataError, match=r"texts\[1\].*at least one token"):
        m.translate(["a b", "   "])
    with pytest.raises(DataError, match="a list of texts"):
        m.translate("a b")
    with pytest.warns(UserWarning, match="no token in the vocabulary"):
        m.translate(["zz yy"])
    with pytest.warns(UserWarning, match="longer than max_length=12"):
        m.translate([" ".join(["a"] * 20)])
    m2 = Seq2Seq(**{**m.get_params(), "overlong": "error"})
    m2.__dict__.update({k: v for k, v in m.__dict__.items() if k.endswith("_")})
    m2.source_encoder_ = type(m.source_encoder_).from_dict({**m.source_encoder_.to_dict(),
                                                            "overlong": "error"})
    with pytest.raises(DataError, match="at most max_length=12"):
        m2.translate([" ".join(["a"] * 20)])
    with pytest.raises(NotFittedError, match="not fitted"):
        Seq2Seq().translate(["a"])
    with pytest.raises(ConfigError, match="did you mean 'attention'"):
        Seq2Seq(atention="luong")
    with pytest.raises(ConfigError, match="attention"):
        Seq2Seq(attention="dot").fit(["a b"], ["b a"])
    with pytest.raises(DataError, match="one per source"):
        Seq2Seq().fit(["a b", "c"], ["b a"])


def test_evaluate_table_and_perplexity(reversal_model):
    src, ref = reversal_pairs(30, seed=5)
    report = reversal_model.evaluate(src, ref, beam=3)
    assert list(report.table.index) == ["rnnkit greedy", "rnnkit beam 3", "word-by-word"]
    assert list(report.table.columns) == ["bleu", "chrf"]
    assert report.table.loc["rnnkit greedy", "bleu"] > report.table.loc["word-by-word", "bleu"]
    ppl = reversal_model.perplexity(src, ref)
    assert 1.0 <= ppl < 2.0
