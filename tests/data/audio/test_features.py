"""AudioFeatures (log-mel / MFCC) and spec_augment."""

import json

import numpy as np
import pytest
import torch

from rnnkit.data.audio import AudioFeatures, spec_augment
from rnnkit.errors import ConfigError, DataError, ShapeError


@pytest.fixture(scope="module")
def logmel():
    return AudioFeatures()


@pytest.fixture(scope="module")
def speechy():
    """A 1.3 s chirp plus noise: non-constant in every band."""
    rng = np.random.default_rng(0)
    t = np.arange(20800) / 16000
    return (0.3 * np.sin(2 * np.pi * (200 + 1500 * t) * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.mark.parametrize("n", [1, 159, 160, 161, 16000, 20800])
def test_shape_and_frame_count(logmel, n):
    wave = np.random.default_rng(n).uniform(-0.5, 0.5, n).astype(np.float32)
    feats = logmel(wave)
    assert feats.dtype == torch.float32
    assert feats.shape == (1 + n // 160, 40) == (logmel.frames(n), logmel.n_features)


def test_mfcc_shape_and_input_types(speechy):
    mfcc = AudioFeatures("mfcc", n_mfcc=13)
    assert mfcc.n_features == 13
    from_numpy = mfcc(speechy)
    assert from_numpy.shape == (131, 13)
    torch.testing.assert_close(mfcc(torch.from_numpy(speechy)), from_numpy)
    torch.testing.assert_close(mfcc(speechy.astype(np.float64)), from_numpy)


def test_normalisation_gives_zero_mean_unit_std_per_feature(speechy):
    for kind in ("logmel", "mfcc"):
        feats = AudioFeatures(kind)(speechy)
        torch.testing.assert_close(feats.mean(0), torch.zeros(feats.shape[1]), atol=1e-5, rtol=0)
        torch.testing.assert_close(feats.std(0, unbiased=False), torch.ones(feats.shape[1]), atol=1e-3, rtol=0)


def test_tone_puts_energy_in_its_mel_band():
    import librosa

    features = AudioFeatures(normalize=False)
    centres = librosa.mel_frequencies(n_mels=42, fmax=8000)[1:-1]  # the 40 filters' centre frequencies
    for freq in (300.0, 1000.0, 3000.0, 6000.0):
        wave = 0.5 * np.sin(2 * np.pi * freq * np.arange(16000) / 16000)
        loudest = int(features(wave)[10:-10].mean(0).argmax())
        assert loudest == int(np.argmin(np.abs(centres - freq))), (freq, loudest, centres[loudest])


def test_mfcc_is_dct_of_logmel(speechy):
    from scipy.fft import dct

    logmel = AudioFeatures("logmel", normalize=False)(speechy).double().numpy()
    mfcc = AudioFeatures("mfcc", normalize=False)(speechy).double().numpy()
    np.testing.assert_allclose(mfcc, dct(logmel, type=2, norm="ortho", axis=1)[:, :13], rtol=1e-4, atol=1e-3)


def test_silence_gives_finite_features():
    for kind in ("logmel", "mfcc"):
        for normalize in (True, False):
            feats = AudioFeatures(kind, normalize=normalize)(np.zeros(16000, dtype=np.float32))
            assert torch.isfinite(feats).all()
            if normalize:
                assert (feats == 0).all()  # a constant feature normalises to exactly 0


def test_dict_round_trip_through_json():
    features = AudioFeatures("mfcc", sample_rate=8000, n_mels=30, n_mfcc=12, win_ms=32.0, hop_ms=16.0,
                             normalize=False)
    again = AudioFeatures.from_dict(json.loads(json.dumps(features.to_dict())))
    assert again == features and again.to_dict() == features.to_dict()
    wave = np.random.default_rng(0).uniform(-1, 1, 4000).astype(np.float32)
    torch.testing.assert_close(again(wave), features(wave))
    assert features.hop_length == 128 and features.n_fft == 256


def test_unknown_key_names_the_nearest():
    with pytest.raises(ConfigError, match="'n_mel'.*did you mean 'n_mels'"):
        AudioFeatures.from_dict({"kind": "logmel", "n_mel": 40})


def test_bad_settings_and_inputs():
    with pytest.raises(ConfigError, match="did you mean 'mfcc'"):
        AudioFeatures("mfc")
    with pytest.raises(ConfigError, match="n_mfcc"):
        AudioFeatures("mfcc", n_mels=10, n_mfcc=13)
    with pytest.raises(ConfigError, match="n_mels"):
        AudioFeatures(n_mels=0)
    features = AudioFeatures()
    with pytest.raises(ShapeError, match="1-D wave"):
        features(np.zeros((2, 100), dtype=np.float32))
    with pytest.raises(DataError, match="empty wave"):
        features(np.zeros(0, dtype=np.float32))
    with pytest.raises(DataError, match="NaN"):
        features(np.array([0.0, np.nan] * 100))


def _masked_bands(mask):
    """Indices where a boolean vector is True."""
    return np.flatnonzero(mask.numpy())


def test_spec_augment_leaves_input_untouched_and_masks_within_limits():
    feats = torch.randn(200, 40) + 5.0  # no zeros before masking
    before = feats.clone()
    for seed in range(30):
        out = spec_augment(feats, freq_masks=1, freq_width=8, time_masks=1, time_width=0.05,
                           generator=torch.Generator().manual_seed(seed))
        torch.testing.assert_close(feats, before)
        zero = out == 0
        full_columns = zero.all(dim=0)  # (40,) a frequency band
        full_rows = zero.all(dim=1)  # (200,) a time band
        columns, rows = _masked_bands(full_columns), _masked_bands(full_rows)
        assert len(columns) <= 8 and (len(columns) == 0 or np.ptp(columns) == len(columns) - 1)
        assert len(rows) <= 10 and (len(rows) == 0 or np.ptp(rows) == len(rows) - 1)  # 0.05 * 200
        # every zero lies in a masked band; everything else is the input
        assert (zero == (full_columns[None, :] | full_rows[:, None])).all()
        torch.testing.assert_close(out[~zero], feats[~zero])


def test_spec_augment_masks_something_and_is_deterministic():
    feats = torch.randn(300, 40) + 5.0
    a = spec_augment(feats, generator=torch.Generator().manual_seed(1))
    b = spec_augment(feats, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)
    masked = [int((spec_augment(feats, generator=torch.Generator().manual_seed(s)) == 0).sum()) for s in range(10)]
    assert max(masked) > 0 and len(set(masked)) > 1


def test_spec_augment_bad_arguments():
    with pytest.raises(ShapeError, match="2-D"):
        spec_augment(torch.zeros(10))
    with pytest.raises(ConfigError, match="time_width"):
        spec_augment(torch.zeros(10, 4), time_width=1.5)
    with pytest.raises(ConfigError, match="freq_masks"):
        spec_augment(torch.zeros(10, 4), freq_masks=-1)
    assert spec_augment(torch.ones(10, 4), freq_width=100, time_width=1.0).shape == (10, 4)
