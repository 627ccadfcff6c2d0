"""The CTC network: shapes, lengths, batch independence, gradients; metrics; settings."""

import pytest
import torch

from rnnkit import SpeechRecognizer
from rnnkit.errors import ConfigError
from rnnkit.tasks.asr import alphabet, metrics
from rnnkit.tasks.asr.model import SpeechNet, output_lengths
from rnnkit.tasks.asr.training import SpeechBatches, ctc_loss, too_short


@pytest.mark.parametrize("subsample", [1, 2, 4])
def test_shapes_and_lengths(subsample):
    net = SpeechNet(n_features=13, conv_channels=16, hidden_size=12, num_layers=2, subsample=subsample).eval()
    x, lengths = torch.randn(3, 41, 13), torch.tensor([41, 20, 1])
    log_probs, out = net(x, lengths)
    expected = {1: [41, 20, 1], 2: [21, 10, 1], 4: [11, 5, 1]}[subsample]  # ceil(ceil(T / s1) / s2)
    assert out.tolist() == expected == output_lengths(lengths, subsample).tolist()
    assert log_probs.shape == (3, expected[0], alphabet.SIZE)
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(3, expected[0]), atol=1e-5)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_an_utterance_decodes_the_same_alone_or_padded(bidirectional):
    net = SpeechNet(n_features=8, conv_channels=16, hidden_size=12, bidirectional=bidirectional,
                    cell="lstm").eval()
    x = torch.randn(2, 30, 8)
    x[1, 17:] = 0  # padding
    batch, out = net(x, torch.tensor([30, 17]))
    alone, out1 = net(x[1:, :17], torch.tensor([17]))
    assert out[1] == out1[0]
    assert torch.allclose(batch[1, : out1[0]], alone[0], atol=1e-5)


def test_ctc_gradients_reach_every_parameter():
    net = SpeechNet(n_features=8, conv_channels=16, hidden_size=12, num_layers=2)
    feats = [torch.randn(n, 8) for n in (40, 33, 25)]
    labels = [alphabet.encode(t) for t in ("one two", "three", "go")]
    batch = next(iter(SpeechBatches(feats, labels, 3, shuffle=False)))
    loss = ctc_loss(net, batch)
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_too_short_counts_blanks_between_doubled_letters():
    # 8 frames at subsample 4 -> 2 output frames; "ab" fits, "aa" needs a blank between (3)
    assert too_short([8, 8, 8], [alphabet.encode("ab"), alphabet.encode("aa"), alphabet.encode("abc")], 4) == [1, 2]


def test_error_rates_pooled_and_per_group():
    refs, hyps = ["one two", "three", "four five six"], ["one", "three four", "four five six"]
    assert metrics.wer(refs, hyps) == pytest.approx(2 / 6)
    assert metrics.cer(["ab"], ["ac"]) == pytest.approx(0.5)
    table = metrics.error_table(refs, hyps, ["v1", "v2", "v1"], name="voice")
    assert table.loc["v1", "wer"] == pytest.approx(1 / 5) and table.loc["v2", "wer"] == pytest.approx(1.0)
    assert table.loc["all", "utterances"] == 3 and table.loc["all", "words"] == 6
    assert metrics.wer([""], [""]) == 0.0 and metrics.wer([""], ["x"]) == float("inf")


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="hidden_sise"):
        SpeechRecognizer(hidden_sise=3)
    with pytest.raises(ConfigError, match="cell"):
        SpeechRecognizer(cell="tcn").fit("nowhere.csv")
    with pytest.raises(ConfigError, match="subsample"):
        SpeechRecognizer(subsample=3).fit("nowhere.csv")
    asr = SpeechRecognizer(hidden_size=32)
    assert asr.get_params()["hidden_size"] == 32
    assert asr.set_params(beam=4).clone().config.beam == 4


def test_frequency_warp_keeps_shape_and_stretches_the_feature_axis():
    from rnnkit.tasks.asr.augment import freq_warp, make_augment
    from rnnkit.tasks.asr.config import SpeechRecognizerConfig

    feats = torch.arange(10.0).repeat(4, 1)  # (T=4, D=10): bin j holds j
    assert torch.equal(freq_warp(feats, 0.0), feats)
    gen = torch.Generator().manual_seed(1)
    warped = freq_warp(feats, 0.2, generator=gen)
    assert warped.shape == feats.shape and torch.equal(warped[0], warped[3])
    alpha = float(warped[0, 1])  # bin 1 reads position 1 * alpha
    assert 0.8 <= alpha <= 1.2 and torch.allclose(warped[0], (torch.arange(10.0) * alpha).clamp(max=9))
    assert make_augment(SpeechRecognizerConfig(spec_augment=False, freq_warp=0.0)) is None
    assert make_augment(SpeechRecognizerConfig(features="mfcc", spec_augment=False)) is None
    assert make_augment(SpeechRecognizerConfig())(torch.randn(50, 40)).shape == (50, 40)


def test_transcribe_help_shows_an_example(capsys):
    from rnnkit.cli.main import main

    assert main(["transcribe", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example: rnnkit transcribe" in out and "--no-vocabulary" in out
