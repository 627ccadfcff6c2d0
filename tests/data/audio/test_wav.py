"""read_wav / decode_wav_bytes: formats, resampling, and a clear DataError for every bad input."""

import struct
import warnings

import numpy as np
import pytest
import soundfile as sf

from rnnkit.data.audio import SAMPLE_RATE, TruncatedWavWarning, decode_wav_bytes, read_wav
from rnnkit.errors import DataError


def _sine(freq, rate, seconds, amplitude=0.5):
    t = np.arange(int(rate * seconds)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


def _peak_hz(wave, rate):
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return np.argmax(spectrum) * rate / len(wave)


def test_resamples_stereo_44k_int16_keeping_frequency_and_length(tmp_path):
    left = _sine(440, 44100, 1.5)
    stereo = np.stack([left, left], axis=1)  # same tone in both channels
    path = tmp_path / "tone.wav"
    sf.write(path, stereo, 44100, subtype="PCM_16")
    wave = read_wav(path)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert len(wave) == int(np.ceil(len(left) * 160 / 441))  # 16000 / 44100 = 160 / 441
    assert abs(_peak_hz(wave, SAMPLE_RATE) - 440) < 2
    assert abs(np.abs(wave[2000:-2000]).max() - 0.5) < 0.01  # amplitude kept (no clipping, no gain)


def test_channels_are_averaged(tmp_path):
    stereo = np.stack([np.full(1600, 0.5), np.full(1600, -0.1)], axis=1)
    path = tmp_path / "dc.wav"
    sf.write(path, stereo, 16000, subtype="FLOAT")
    np.testing.assert_allclose(read_wav(path), 0.2, atol=1e-6)


@pytest.mark.parametrize("subtype, atol", [("PCM_16", 1 / 32768), ("PCM_24", 1 / 2 ** 23), ("PCM_32", 1e-7),
                                           ("FLOAT", 1e-7), ("DOUBLE", 1e-7), ("PCM_U8", 1 / 128)])
def test_round_trips_every_sample_format(tmp_path, subtype, atol):
    wave = _sine(300, 16000, 0.25, amplitude=0.8)
    path = tmp_path / f"{subtype}.wav"
    sf.write(path, wave, 16000, subtype=subtype)
    got = read_wav(path)
    assert len(got) == len(wave)
    np.testing.assert_allclose(got, wave, atol=atol * 1.01)


def test_other_rates_are_resampled(tmp_path):
    for rate in (8000, 22050, 48000):
        path = tmp_path / f"{rate}.wav"
        sf.write(path, _sine(1000, rate, 1.0), rate, subtype="PCM_16")
        wave = read_wav(path)
        assert len(wave) == 16000
        assert abs(_peak_hz(wave, 16000) - 1000) < 2
    assert len(read_wav(tmp_path / "48000.wav", sample_rate=8000)) == 8000


def test_bytes_give_the_same_wave(tmp_path):
    path = tmp_path / "tone.wav"
    sf.write(path, _sine(440, 22050, 0.5), 22050, subtype="PCM_16")
    np.testing.assert_array_equal(decode_wav_bytes(path.read_bytes()), read_wav(path))


def test_silence_is_valid_zeros(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(8000), 16000, subtype="PCM_16")
    wave = read_wav(path)
    assert wave.shape == (8000,) and not wave.any()


def test_loud_float_is_scaled_down_with_a_warning(tmp_path):
    path = tmp_path / "loud.wav"
    sf.write(path, np.array([0.0, 2.0, -4.0, 1.0]), 16000, subtype="FLOAT")
    with pytest.warns(RuntimeWarning, match="peak at 4"):
        wave = read_wav(path)
    np.testing.assert_allclose(wave, [0.0, 0.5, -1.0, 0.25])


def _bad(path, *fragments, **kwargs):
    with pytest.raises(DataError) as info:
        read_wav(path, **kwargs)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_missing_file(tmp_path):
    _bad(tmp_path / "nope.wav", "no such file")
    _bad(tmp_path, "a directory")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    _bad(path, "empty file (0 bytes)")


@pytest.mark.parametrize("content, got", [(b"transcript,path\nhello,a.wav\n", "a text file"),
                                          (b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(100), "an MP3 file"),
                                          (b"\xff\xfb\x90\x64" + bytes(100), "an MP3 file"),
                                          (b"fLaC" + bytes(100), "a FLAC file"),
                                          (b"\x00\x01\x02\x03" * 30, "a file starting with the bytes"),
                                          (b"RIF", "too short for a WAV header")])
def test_not_a_wav(tmp_path, content, got):
    path = tmp_path / "audio.wav"
    path.write_bytes(content)
    message = _bad(path, got, "expected a WAV file")
    assert "sox" in message  # the fix says how to convert


def test_real_flac_is_rejected_as_not_wav(tmp_path):
    path = tmp_path / "audio.flac"
    sf.write(path, _sine(440, 16000, 0.1), 16000, format="FLAC")
    _bad(path, "a FLAC file")


def test_corrupt_header(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(path, _sine(440, 16000, 0.1), 16000, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[:20])  # cut inside the 'fmt ' chunk
    _bad(path, "corrupt or unsupported", "fmt")


def test_truncated_wav_gives_the_samples_present_and_a_warning(tmp_path):
    path = tmp_path / "truncated.wav"
    sf.write(path, _sine(440, 16000, 1.0), 16000, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[:10044])  # 44-byte header + 5000 samples of the promised 16000
    with pytest.warns(TruncatedWavWarning, match="32000 bytes.*10000 are present"):
        wave = read_wav(path)
    assert len(wave) == 5000
    with pytest.warns(TruncatedWavWarning):
        assert len(decode_wav_bytes(data[:10044])) == 5000


def test_complete_wav_gives_no_warning(tmp_path):
    path = tmp_path / "ok.wav"
    sf.write(path, _sine(440, 16000, 0.2), 16000, subtype="PCM_16")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_wav(path)


def test_zero_length_audio(tmp_path):
    path = tmp_path / "nothing.wav"
    sf.write(path, np.zeros(0), 16000, subtype="PCM_16")
    _bad(path, "zero-length audio")


def test_nan_and_inf_samples(tmp_path):
    wave = _sine(440, 16000, 0.1).astype(np.float32)
    wave[100], wave[200] = np.nan, np.inf
    path = tmp_path / "nan.wav"
    sf.write(path, wave, 16000, subtype="FLOAT")
    _bad(path, "2 NaN or infinite sample(s)", "0.006 s")


def test_too_long_names_length_and_option(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, np.zeros(16000 * 3, dtype=np.int16), 16000, subtype="PCM_16")
    _bad(path, "3.0 s", "max_seconds=2", "max_seconds=3", max_seconds=2)
    assert len(read_wav(path, max_seconds=3)) == 48000


def test_bytes_errors_name_the_source():
    with pytest.raises(DataError, match="WAV data 'upload'.*empty file"):
        decode_wav_bytes(b"", name="upload")
    with pytest.raises(DataError, match="WAV data 'upload'.*text file"):
        decode_wav_bytes(b"hello", name="upload")
    header = b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
    with pytest.raises(DataError, match="zero-length audio"):
        decode_wav_bytes(header + b"data" + struct.pack("<I", 0), name="upload")
