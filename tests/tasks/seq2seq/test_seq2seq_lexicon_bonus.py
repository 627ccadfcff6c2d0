"""The lexicon bonus: each source word's best lexicon translation pushed until it is written."""

import warnings
from collections import Counter

import pytest
import torch
from seq2seq_data import reversal_pairs

import rnnkit
from rnnkit.errors import ConfigError
from rnnkit.tasks.seq2seq import Seq2Seq
from rnnkit.tasks.seq2seq.bonus import LexiconBonus

# source ids 4..7; lexicon rows (top 2): 4 -> 5 (0.9), 5 -> 6 (0.15 < min_prob), 6 -> 8 (a
# punctuation mark), 7 -> <unk> (1); target ids 0..9
LEX_INDEX = torch.tensor([[0, 0]] * 4 + [[5, 7], [6, 5], [8, 4], [1, 4]])
LEX_PROB = torch.tensor([[0.0, 0.0]] * 4 + [[0.9, 0.1], [0.15, 0.85], [0.8, 0.2], [0.7, 0.3]])
SURPRISAL = torch.arange(10, dtype=torch.float64)  # -ln pi(e) = e, to read the weights off
ELIGIBLE = torch.tensor([False, True, False, False, True, True, True, True, False, True])  # 8: "."


def start(src, beta=0.5, min_prob=0.2):
    return LexiconBonus.start(torch.tensor(src), LEX_INDEX, LEX_PROB, SURPRISAL, ELIGIBLE, beta, min_prob)


def test_start_asks_for_confident_word_translations_only():
    b = start([[4, 5, 6, 7], [4, 4, 0, 0]])  # row 1 padded
    assert b.ids.tolist() == [[5, 6, 8, 1], [5, 5, 0, 0]]
    # 5 -> 6 is under min_prob, 6 -> 8 is punctuation, padding asks nothing; <unk> is asked for
    assert b.pending.tolist() == [[True, False, False, True], [True, True, False, False]]
    assert b.weight.tolist() == [[2.5, 0.0, 0.0, 0.5], [2.5, 2.5, 0.0, 0.0]]  # beta * surprisal
    assert start([[5]], min_prob=0.1).pending.tolist() == [[True]]


def test_bonus_logits_and_settling_one_position_per_written_word():
    b = start([[4, 4, 7]])  # asks for 5 twice and <unk> once
    assert b.logits(10)[0].tolist() == [0, 0.5, 0, 0, 0, 2.5, 0, 0, 0, 0]
    b = b.written(torch.tensor([5]))
    assert b.pending.tolist() == [[False, True, True]]  # the first of the two
    assert float(b.logits(10)[0, 5]) == 2.5  # still one 5 to write
    b = b.written(torch.tensor([9])).written(torch.tensor([5]))  # 9: asked by nobody
    assert b.pending.tolist() == [[False, False, True]]
    assert b.logits(10)[0].tolist() == [0, 0.5] + [0] * 8
    b = b.written(torch.tensor([1]))
    assert not b.pending.any() and float(b.logits(10).abs().sum()) == 0


def test_logits_take_the_largest_weight_and_select_follows_the_rows():
    b = LexiconBonus(ids=torch.tensor([[3, 3], [4, 3]]), weight=torch.tensor([[1.0, 2.0], [0.5, 1.5]]),
                     pending=torch.tensor([[True, True], [True, False]]))
    assert b.logits(5).tolist() == [[0, 0, 0, 2.0, 0], [0, 0, 0, 0, 0.5]]
    picked = b.select(torch.tensor([1, 1, 0]))
    assert picked.logits(5).tolist() == [[0, 0, 0, 0, 0.5]] * 2 + [[0, 0, 0, 2.0, 0]]


def weak_model(**settings):
    """A reversal model trained too briefly to write every source word."""
    src, tgt = reversal_pairs(300, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Seq2Seq(attention="luong", hidden_size=24, embedding_dim=12, epochs=1, batch_size=32,
                       lr=3e-3, dropout=0.0, val_fraction=0.0, min_freq=1, lowercase_target=True,
                       lexicon_top_k=3, seed=0, **settings).fit(src, tgt)


@pytest.fixture(scope="module")
def weak():
    return weak_model()


def writes_every_source_word(source: str, output: str) -> bool:
    return not Counter(source.split()) - Counter(output.split())


def test_a_large_bonus_writes_every_source_word_as_often_as_the_source_holds_it(weak):
    sources = reversal_pairs(30, seed=7)[0] + ["a a b", "c d c d c"]
    for word in "abcdefghij":  # the lexicon translates each word to itself
        row = weak.source_encoder_.vocab.tokens.index(word)
        assert weak.target_encoder_.vocab.tokens[int(weak.model_.lex_index[row, 0])] == word
    plain = weak.translate(sources, beam=1)
    assert sum(writes_every_source_word(s, o) for s, o in zip(sources, plain)) < len(sources) - 5
    weak.config.decoding.lexicon_bonus = 20.0
    try:
        for beam in (1, 3):
            out = weak.translate(sources, beam=beam)
            assert all(writes_every_source_word(s, o) for s, o in zip(sources, out)), (beam, out)
    finally:
        weak.config.decoding.lexicon_bonus = 0.0


def test_a_tiny_bonus_changes_nothing_and_the_bonus_survives_saving(weak, tmp_path):
    sources = reversal_pairs(20, seed=3)[0]
    plain = [weak.translate(sources, beam=b) for b in (1, 3)]
    weak.config.decoding.lexicon_bonus = 1e-9
    try:
        assert [weak.translate(sources, beam=b) for b in (1, 3)] == plain
        weak.config.decoding.lexicon_bonus = 0.5
        pushed = [weak.translate(sources, beam=b) for b in (1, 3)]
        loaded = rnnkit.load(weak.save(tmp_path / "bonus.rnnkit"))
    finally:
        weak.config.decoding.lexicon_bonus = 0.0
    assert loaded.config.decoding.lexicon_bonus == 0.5
    assert (loaded.target_counts_ == weak.target_counts_).all()
    assert [loaded.translate(sources, beam=b) for b in (1, 3)] == pushed


def test_target_counts_count_each_id_and_one_eos_per_target(weak):
    from rnnkit.data.text.vocab import EOS_ID
    from rnnkit.tasks.seq2seq.estimator import target_counts

    counts = target_counts([[4, 5, 5], [5]], 7)
    assert counts.tolist() == [0, 0, 0, 2, 1, 3, 0] and EOS_ID == 3
    n_words = sum(len(t.split()) for t in reversal_pairs(300, seed=0)[1])
    assert int(weak.target_counts_.sum()) == n_words + 300


def test_a_model_file_without_target_counts_explains_the_fix(weak):
    weak.config.decoding.lexicon_bonus = 0.5
    saved, weak.target_counts_ = weak.target_counts_, None
    weak.__dict__.pop("_bonus_cache", None)
    try:
        with pytest.raises(ConfigError, match="fit the model again, or set lexicon_bonus=0"):
            weak.translate(["a b"])
    finally:
        weak.config.decoding.lexicon_bonus, weak.target_counts_ = 0.0, saved


@pytest.mark.parametrize("settings, message", [
    (dict(decoding={"lexicon_bonus": 0.5}), "lexicon_top_k > 0"),
    (dict(lexicon_top_k=4, decoding={"lexicon_bonus": -1}), "lexicon_bonus: expected a number >= 0"),
    (dict(lexicon_top_k=4, decoding={"lexicon_bonus_min_prob": 1.5}), r"lexicon_bonus_min_prob: expected a number in \[0, 1\]"),
    (dict(decoding={"unknown_source": "nearest"}), "unknown_source"),
    (dict(decoding={"decompound": "yes"}), "decompound: expected True or False"),
])
def test_bonus_and_unknown_word_settings_are_checked(settings, message):
    with pytest.raises(ConfigError, match=message):
        Seq2Seq(**settings).fit(["a b"], ["b a"])


def test_a_damaged_target_counts_tensor_is_refused_with_a_fix(weak, tmp_path):
    from rnnkit.bundle import read_bundle, save_bundle
    from rnnkit.errors import BundleError

    bundle = read_bundle(weak.save(tmp_path / "ok.rnnkit"))
    tensors = dict(bundle.tensors, target_counts=bundle.tensors["target_counts"][:-3])
    bad = save_bundle(tmp_path / "bad.rnnkit", task=bundle.task, config=bundle.config, tensors=tensors,
                      preprocessing=bundle.preprocessing, metrics=bundle.metrics)
    with pytest.raises(BundleError, match=r"tensor 'target_counts': expected I64 shape \(14,\), got I64 shape .* save the model again"):
        rnnkit.load(bad)


def test_cli_lexicon_bonus_option(weak, reversal_model, tmp_path):
    from typer.testing import CliRunner

    from rnnkit.cli.main import app

    source = "a a b c d e"
    path = weak.save(tmp_path / "weak.rnnkit")
    plain = CliRunner().invoke(app, ["translate", str(path), source, "--beam", "1"])
    pushed = CliRunner().invoke(app, ["translate", str(path), source, "--beam", "1", "--lexicon-bonus", "20"])
    assert plain.exit_code == pushed.exit_code == 0, (plain.output, pushed.output)
    assert not writes_every_source_word(source, plain.output.strip())
    assert writes_every_source_word(source, pushed.output.strip())
    bad = CliRunner().invoke(app, ["translate", str(path), "a b", "--lexicon-bonus", "-1"])
    assert bad.exit_code == 2 and "lexicon_bonus: expected a number >= 0" in bad.output
    no_lexicon = reversal_model.save(tmp_path / "rev.rnnkit")  # lexicon_top_k=0
    bad = CliRunner().invoke(app, ["translate", str(no_lexicon), "a b", "--lexicon-bonus", "0.5"])
    assert bad.exit_code == 2 and "lexicon_top_k > 0" in bad.output and "Traceback" not in bad.output
