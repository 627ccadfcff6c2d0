"""The synthetic speech corpus: manifest, voice-held-out splits, determinism, audio, SNR."""

import shutil

import numpy as np
import pandas as pd
import pytest

from rnnkit.data.audio import read_wav
from rnnkit.data.speech import (
    COMMANDS,
    DEFAULT_TEST_VOICES,
    DIGIT_WORDS,
    MANIFEST_COLUMNS,
    MissingToolError,
    corpus_vocabulary,
    make_speech_corpus,
    read_manifest,
)
from rnnkit.errors import ConfigError, DataError

TOOLS = ("espeak-ng", "flite", "sox")
needs_tools = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                 reason="needs espeak-ng, flite and sox (apt-get install espeak-ng flite sox)")

TINY = {"n_digits": 12, "n_commands": 4, "seed": 3, "voices": ["espeak:en-us+m3", "espeak:en-gb+f2", "flite:kal",
                                                                 "espeak:en-us+f4", "flite:slt", "espeak:en-029+m5"]}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    if any(shutil.which(t) is None for t in TOOLS):
        pytest.skip("needs espeak-ng, flite and sox (apt-get install espeak-ng flite sox)")
    out = tmp_path_factory.mktemp("speech")
    return out, make_speech_corpus(out, **TINY)


def test_vocabulary_covers_every_transcript_word():
    vocab = corpus_vocabulary()
    assert vocab == sorted(set(vocab)) and set(DIGIT_WORDS) <= set(vocab)
    assert {w for c in COMMANDS for w in c.split()} <= set(vocab)
    assert "oh" not in vocab and len(COMMANDS) == 20


@needs_tools
def test_manifest_columns_and_contents(corpus):
    out, manifest = corpus
    assert list(manifest.columns) == list(MANIFEST_COLUMNS)
    assert len(manifest) == (12 + 4) * 3 and manifest["utt"].nunique() == 16
    assert (manifest["kind"] == "digits").sum() == 36 and (manifest["kind"] == "command").sum() == 12
    vocab = set(corpus_vocabulary())
    for _, row in manifest.iterrows():
        assert (out / row["path"]).is_file()
        words = row["transcript"].split()
        assert set(words) <= vocab and row["transcript"] == row["transcript"].lower()
        if row["kind"] == "digits":
            assert 1 <= len(words) <= 7 and set(words) <= set(DIGIT_WORDS)
        else:
            assert row["transcript"] in COMMANDS
    assert sorted(manifest["snr"].fillna(0).unique()) == [0, 10, 20]
    assert set(manifest.loc[manifest["snr"].isna(), "noise"]) == {""}
    assert set(manifest.loc[manifest["snr"].notna(), "noise"]) <= {"white", "pink"}
    espeak = manifest[manifest["voice"].str.startswith("espeak:")]
    assert espeak["speed"].between(130, 200).all() and espeak["pitch"].between(30, 70).all()
    flite = manifest[manifest["voice"].str.startswith("flite:")]
    assert flite["speed"].between(0.85, 1.15).all() and flite["pitch"].between(-300, 700).all()
    on_disk = pd.read_csv(out / "manifest.csv", keep_default_na=False, na_values={"snr": [""]})
    assert list(on_disk["path"]) == list(manifest["path"])
    assert on_disk["snr"].isna().sum() == 16  # clean rows have an empty snr cell


@needs_tools
def test_splits_hold_out_whole_voices(corpus):
    _, manifest = corpus
    splits_per_voice = manifest.groupby("voice")["split"].nunique()
    assert (splits_per_voice == 1).all()
    voices = manifest.groupby("split")["voice"].unique()
    assert set(voices["test"]) <= {"espeak:en-us+f4", "flite:slt"}  # the defaults present in TINY
    assert set(voices["dev"]) <= {"espeak:en-029+m5"}
    assert manifest.groupby("utt")["split"].nunique().eq(1).all()


def test_default_test_voices_mix_synthesizers_and_genders():
    synths = {v.split(":")[0] for v in DEFAULT_TEST_VOICES}
    variants = {v.split("+")[-1][0] for v in DEFAULT_TEST_VOICES if v.startswith("espeak:")}
    assert synths == {"espeak", "flite"} and variants == {"m", "f"}


@needs_tools
def test_same_seed_same_corpus(corpus, tmp_path):
    out, manifest = corpus
    again = make_speech_corpus(tmp_path, **TINY)
    pd.testing.assert_frame_equal(again, manifest)
    for path in manifest["path"][:6]:
        assert (tmp_path / path).read_bytes() == (out / path).read_bytes()
    other = make_speech_corpus(tmp_path / "other", **(TINY | {"seed": 4, "n_digits": 4, "n_commands": 0}))
    assert list(other["transcript"]) != list(manifest["transcript"][:12])


@needs_tools
def test_wavs_are_16k_speech(corpus):
    out, manifest = corpus
    for _, row in manifest.iterrows():
        wave = read_wav(out / row["path"])
        assert wave.dtype == np.float32 and abs(len(wave) / 16000 - row["seconds"]) < 1e-3
        assert 0.3 < row["seconds"] < 6.0
        assert 0.3 < np.abs(wave).max() <= 1.0  # normalised to -6 dBFS, not silent


@needs_tools
def test_noisy_copies_have_the_requested_snr(corpus):
    """noisy = a * clean + noise (a < 1 only when the mix was scaled to avoid clipping)."""
    out, manifest = corpus
    clean = manifest[manifest["snr"].isna()].set_index("utt")
    for _, row in manifest[manifest["snr"].notna()].iterrows():
        s = read_wav(out / clean.loc[row["utt"], "path"]).astype(np.float64)
        y = read_wav(out / row["path"]).astype(np.float64)
        a = (y @ s) / (s @ s)
        noise = y - a * s
        measured = 10 * np.log10(a * a * np.mean(s ** 2) / np.mean(noise ** 2))
        assert abs(measured - row["snr"]) < 1.0, (row["path"], measured)


@needs_tools
def test_read_manifest_returns_checked_absolute_paths(corpus, tmp_path):
    out, manifest = corpus
    read = read_manifest(out / "manifest.csv")
    assert list(read.columns) == list(MANIFEST_COLUMNS)
    assert list(read["path"]) == [str((out / p).resolve()) for p in manifest["path"]]
    pd.testing.assert_frame_equal(read_manifest(out), read)  # a folder means its manifest.csv
    np.testing.assert_array_equal(read["snr"].to_numpy(), manifest["snr"].to_numpy())

    bad = tmp_path / "manifest.csv"
    manifest.rename(columns={"transcript": "transcrpt"}).to_csv(bad, index=False)
    with pytest.raises(DataError, match="'transcrpt'.*did you mean 'transcript'"):
        read_manifest(bad)
    manifest.drop(columns=["transcript"]).to_csv(bad, index=False)
    with pytest.raises(DataError, match="no column 'transcript'"):
        read_manifest(bad)
    manifest.head(0).to_csv(bad, index=False)
    with pytest.raises(DataError, match="at least one row"):
        read_manifest(bad)
    bad.write_text("")
    with pytest.raises(DataError, match="empty file"):
        read_manifest(bad)
    manifest.to_csv(bad, index=False)  # relative paths, but tmp_path has no wav/ folder
    with pytest.raises(DataError, match="48 missing, e.g. row 2"):
        read_manifest(bad)
    with pytest.raises(DataError, match="no such file"):
        read_manifest(tmp_path / "nope.csv")


def test_minimal_user_manifest(tmp_path):
    import soundfile as sf

    sf.write(tmp_path / "a.wav", np.zeros(1600), 16000, subtype="PCM_16")
    (tmp_path / "list.csv").write_text("path,transcript\na.wav,Call Mom \n")
    read = read_manifest(tmp_path / "list.csv")
    assert read.loc[0, "transcript"] == "call mom" and read.loc[0, "path"] == str(tmp_path / "a.wav")
    assert read.loc[0, "split"] == "" and read.loc[0, "voice"] == ""
    assert list(read.columns) == list(MANIFEST_COLUMNS) and np.isnan(read.loc[0, "snr"])
    (tmp_path / "list.csv").write_text("path,transcript,split\na.wav,stop,validation\n")
    with pytest.raises(DataError, match="'validation'"):
        read_manifest(tmp_path / "list.csv")


def test_bad_voices_and_splits(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'espeak'"):
        make_speech_corpus(tmp_path, voices=["espeek:en-us+m3"])
    with pytest.raises(ConfigError, match="no voice in both"):
        make_speech_corpus(tmp_path, voices=["flite:kal", "flite:slt", "flite:awb"], test_voices=["flite:slt"],
                           dev_voices=["flite:slt"])
    with pytest.raises(ConfigError, match="at least one training voice"):
        make_speech_corpus(tmp_path, voices=["flite:slt"], test_voices=["flite:slt"])
    with pytest.raises(ConfigError, match="test_voices.*'flite:rms'"):
        make_speech_corpus(tmp_path, voices=["flite:kal"], test_voices=["flite:rms"])
    with pytest.raises(ConfigError, match="snrs"):
        make_speech_corpus(tmp_path, snrs=(None, None))


@needs_tools
def test_unknown_installed_voice_is_caught(tmp_path):
    # espeak-ng and flite silently fall back to a default voice; the generator must not
    with pytest.raises(ConfigError, match="espeak variant.*'m99'"):
        make_speech_corpus(tmp_path, voices=["espeak:en-us+m99", "flite:kal"], n_digits=1, n_commands=0)
    with pytest.raises(ConfigError, match="flite voice.*'sltt'.*did you mean 'slt'"):
        make_speech_corpus(tmp_path, voices=["flite:sltt", "flite:kal"], n_digits=1, n_commands=0)


def test_missing_programs_name_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    with pytest.raises(MissingToolError, match="apt-get install espeak-ng flite sox"):
        make_speech_corpus(tmp_path, n_digits=1, n_commands=0)


@needs_tools
def test_cli_make_speech(tmp_path, capsys):
    from rnnkit.cli.main import main

    assert main(["datasets", "make-speech", "--help"]) == 0
    assert "Example: rnnkit datasets make-speech" in capsys.readouterr().out
    assert main(["datasets", "make-speech", str(tmp_path), "--digits", "3", "--commands", "1", "--snr", "15",
                 "--seed", "1", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "utterances per split" in out and "manifest.csv" in out and "8 WAV files" in out
    manifest = read_manifest(tmp_path)
    assert len(manifest) == 8 and sorted(manifest["snr"].fillna(0).unique()) == [0, 15]
