"""SpeechRecognizer end to end on a tiny generated corpus (2 voices, 20 digit strings):
fit, overfit, save/load, any WAV format, bad audio, streaming and the transcribe CLI.
Skipped when espeak-ng, flite or sox is missing."""

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

import rnnkit
from rnnkit.cli.main import main
from rnnkit.errors import ConfigError, DataError, NotFittedError
from rnnkit.tasks.asr import SpeechRecognizer
from rnnkit.tasks.asr.model import SpeechNet

pytestmark = pytest.mark.skipif(any(shutil.which(t) is None for t in ("espeak-ng", "flite", "sox")),
                                reason="the speech corpus needs espeak-ng, flite and sox")

TINY = dict(hidden_size=96, conv_channels=96, num_layers=1, bidirectional=False, epochs=90, batch_size=4,
            lr=5e-3, spec_augment=False, freq_warp=0.0, val_fraction=0.0, schedule="none", warmup_steps=0, dropout=0.0)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from rnnkit.data.speech import make_speech_corpus, read_manifest

    folder = tmp_path_factory.mktemp("speech")
    make_speech_corpus(folder, n_digits=20, n_commands=0, snrs=(None,), seed=1, test_voices=[],
                       dev_voices=[], voices=["espeak:en-us+m3", "flite:kal"])
    return folder, read_manifest(folder)


@pytest.fixture(scope="module")
def asr(corpus):
    torch.set_num_threads(2)
    return SpeechRecognizer(**TINY).fit(corpus[0])


def test_overfits_the_training_utterances(asr, corpus):
    from rnnkit.data.speech import DIGIT_WORDS
    from rnnkit.tasks.asr import Vocabulary

    report = asr.evaluate(corpus[0], split=None, constraints={"digits": Vocabulary(DIGIT_WORDS)})
    assert list(report.table.index) == ["greedy", "beam", "beam+vocabulary", "beam+digits"]
    assert report.table.loc["beam+vocabulary", "wer"] <= 0.1
    assert report.table.loc["greedy", "cer"] <= 0.2
    assert set(report.groups) == {"voice", "snr", "kind"}
    assert list(report.groups["voice"].index) == ["espeak:en-us+m3", "flite:kal", "all"]
    assert asr.vocabulary_ and set(asr.vocabulary_) <= {"zero", "one", "two", "three", "four", "five", "six",
                                                        "seven", "eight", "nine"}
    assert report.breakdown(["voice", "snr"], decoder="greedy").index[0] == "espeak:en-us+m3 / clean"


def test_save_load_gives_identical_transcripts(asr, corpus, tmp_path):
    paths = list(corpus[1]["path"][:6])
    path = asr.save(tmp_path / "digits.rnnkit")
    loaded = rnnkit.load(path)
    assert isinstance(loaded, SpeechRecognizer)
    for options in ({}, {"beam": 1, "constrain": False}, {"beam": 4, "constrain": False}):
        assert loaded.transcribe(paths, **options) == asr.transcribe(paths, **options)
    assert loaded.predict(paths[0]) == asr.transcribe(paths[:1])


@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT"])
def test_transcribes_a_44k_stereo_file(asr, corpus, tmp_path, subtype):
    from scipy.signal import resample_poly

    row = corpus[1].iloc[3]
    wave, rate = sf.read(row["path"], dtype="float64")
    wide = resample_poly(wave, 441, 160) * 0.9  # 16 kHz -> 44.1 kHz
    stereo = np.stack([wide, 0.8 * wide], axis=1)  # (n, 2)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 44100, subtype=subtype)
    assert asr.transcribe(str(path)) == [row["transcript"]]


def test_silence_and_very_short_audio_give_empty_transcripts(asr, tmp_path):
    sf.write(tmp_path / "silence.wav", np.zeros(16000, dtype=np.int16), 16000, subtype="PCM_16")
    sf.write(tmp_path / "blip.wav", np.full(10, 0.5), 16000, subtype="PCM_16")
    assert asr.transcribe([str(tmp_path / "silence.wav"), str(tmp_path / "blip.wav"), np.zeros(3, np.float32)]) \
        == ["", "", ""]


def _bad_files(tmp_path, source):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("hello, I am not audio\n")
    data = open(source, "rb").read()
    (tmp_path / "header_only.wav").write_bytes(data[:44][:4] + (36).to_bytes(4, "little") + data[8:40]
                                                 + (0).to_bytes(4, "little"))
    sf.write(tmp_path / "long.wav", np.zeros(8000 * 121, dtype=np.int16), 8000, subtype="PCM_16")
    return ["empty.wav", "text.wav", "header_only.wav", "long.wav", "missing.wav"]


def test_bad_audio_gives_a_clear_error(asr, corpus, tmp_path):
    for name in _bad_files(tmp_path, corpus[1]["path"][0]):
        with pytest.raises(DataError, match="WAV"):
            asr.transcribe(str(tmp_path / name))
    with pytest.raises(DataError, match="1-D"):
        asr.transcribe(np.zeros((100, 2), np.float32))
    with pytest.raises(DataError, match="finite"):
        asr.transcribe([np.array([0.1, np.nan], np.float32)])


def test_truncated_wav_warns_and_transcribes_what_is_there(asr, corpus, tmp_path):
    data = open(corpus[1]["path"][0], "rb").read()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    with pytest.warns(UserWarning, match="truncated"):
        text, = asr.transcribe(str(tmp_path / "cut.wav"))
    assert isinstance(text, str)


def test_stream_partials_then_the_final_transcript(asr, corpus):
    from rnnkit.data.audio import read_wav

    row = corpus[1].iloc[5]
    wave = read_wav(row["path"])
    stream = asr.stream()
    partials = [stream.feed(wave[i:i + 1600]) for i in range(0, len(wave), 1600)]
    assert partials[0] == "" or isinstance(partials[0], str)
    assert partials[-1] == asr.transcribe(wave, beam=1, constrain=False)[0]
    assert stream.finish() == asr.transcribe(wave)[0] == row["transcript"]
    assert stream.samples == 0 and stream.finish() == ""  # finished streams start over
    assert stream.feed((wave[:3200] * 32767).astype(np.int16)) is not None  # int16 PCM chunks


def test_stream_reads_raw_bytes_by_its_encoding(asr, corpus):
    from rnnkit.data.audio import read_wav

    wave = read_wav(corpus[1]["path"].iloc[5])
    assert asr.transcribe_waves([wave]) == asr.transcribe(wave)
    pcm = (wave * 32767).astype("<i2").tobytes()
    stream = asr.stream(encoding="pcm16")
    assert stream.recognizer is asr and stream.encoding == "pcm16"
    np.testing.assert_array_equal(stream.read_bytes(pcm), (wave * 32767).astype(np.int16))
    assert stream.samples == 0  # reading changes no state
    floats = asr.stream(encoding="float32")
    np.testing.assert_array_equal(floats.read_bytes(wave.astype("<f4").tobytes()), wave)
    with pytest.raises(DataError, match="whole samples"):
        stream.read_bytes(pcm[:-1])
    with pytest.raises(DataError, match="finite"):
        floats.read_bytes(np.array([np.nan], "<f4").tobytes())
    with pytest.raises(ConfigError, match="pcm16"):
        asr.stream(encoding="mp3")


def test_bidirectional_models_refuse_to_stream(asr):
    bi = SpeechRecognizer(bidirectional=True)
    bi.features_, bi.vocabulary_ = asr.features_, asr.vocabulary_
    bi.model_ = SpeechNet(n_features=asr.features_.n_features, conv_channels=8, hidden_size=8).eval()
    with pytest.raises(ConfigError, match="bidirectional=False"):
        bi.stream()
    with pytest.raises(NotFittedError):
        SpeechRecognizer().transcribe(np.zeros(100, np.float32))


def test_transcribe_cli(asr, corpus, tmp_path, capsys):
    model = asr.save(tmp_path / "m.rnnkit")
    paths = list(corpus[1]["path"][:2])
    assert main(["transcribe", str(model), *paths]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{p}\t{t}" for p, t in zip(paths, asr.transcribe(paths))]
    assert main(["transcribe", str(model), paths[0], "--json", "--beam", "1", "--no-vocabulary"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record == {"path": paths[0], "transcript": asr.transcribe(paths[0], beam=1, constrain=False)[0]}


def test_transcribe_cli_bad_audio_is_one_line_and_status_2(asr, corpus, tmp_path, capsys):
    model = asr.save(tmp_path / "m.rnnkit")
    for name in _bad_files(tmp_path, corpus[1]["path"][0]):
        assert main(["transcribe", str(model), str(tmp_path / name)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in captured.err
    # a good file after a bad one is still transcribed
    assert main(["transcribe", str(model), str(tmp_path / "text.wav"), corpus[1]["path"][0]]) == 2
    captured = capsys.readouterr()
    assert captured.out.count("\t") == 1 and captured.err.count("error:") == 1
    assert main(["transcribe", str(tmp_path / "text.wav"), corpus[1]["path"][0]]) == 2  # not a model file
    assert capsys.readouterr().err.startswith("error: ")
    assert main(["transcribe", str(model), corpus[1]["path"][0], corpus[1]["path"][1], "--beam", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "beam" in captured.err


def test_server_predict_and_streaming_session(asr, corpus, tmp_path):
    import asyncio
    import base64

    import httpx

    from rnnkit.serve import ServeConfig, create_app

    model = asr.save(tmp_path / "m.rnnkit")
    row = corpus[1].iloc[2]
    wav = open(row["path"], "rb").read()
    pcm = (sf.read(row["path"], dtype="int16")[0]).astype("<i2")

    async def main():
        app = create_app(ServeConfig(models={"digits": str(model)}, request_timeout_s=120.0))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                body = {"instances": [{"audio": base64.b64encode(wav).decode()},
                                      {"audio": base64.b64encode(wav).decode(), "beam": 1, "vocabulary": False}]}
                predicted = (await c.post("/v1/models/digits/predict", json=body)).json()
                bad = await c.post("/v1/models/digits/predict", json={"instances": [{"audio": "aGVsbG8="}]})
                sid = (await c.post("/v1/models/digits/sessions", json={"encoding": "pcm16"})).json()["session_id"]
                steps = []
                for i in range(0, len(pcm), 4000):
                    r = await c.post(f"/v1/models/digits/sessions/{sid}/step",
                                     json={"audio": base64.b64encode(pcm[i:i + 4000].tobytes()).decode()})
                    assert r.status_code == 200, r.text
                    steps.append(r.json())
                last = (await c.post(f"/v1/models/digits/sessions/{sid}/step", json={"final": True})).json()
                odd = await c.post(f"/v1/models/digits/sessions/{sid}/step", json={"audio": "AAAA"})  # 3 bytes
                return predicted, bad, steps, last, odd

    predicted, bad, steps, last, odd = asyncio.run(main())
    texts = [p["transcript"] for p in predicted["predictions"]]
    assert texts == [asr.transcribe(row["path"])[0], asr.transcribe(row["path"], beam=1, constrain=False)[0]]
    assert bad.status_code == 422 and "WAV" in bad.json()["error"]["message"]
    assert all(not s["final"] for s in steps) and steps[-1]["seconds"] == pytest.approx(len(pcm) / 16000)
    assert last["final"] and last["transcript"] == asr.transcribe(row["path"])[0]
    assert odd.status_code == 422 and "whole samples" in odd.json()["error"]["message"]


def test_train_config_on_the_command_line(corpus, tmp_path, capsys):
    config = tmp_path / "speech.toml"
    config.write_text(f'[task]\nname = "asr"\n\n[data]\npath = "{corpus[0]}"\n\n'
                      "[model]\nhidden_size = 16\nconv_channels = 16\nnum_layers = 1\n\n"
                      "[train]\nepochs = 2\nval_fraction = 0.0\n")
    assert main(["train", str(config), "--out", str(tmp_path / "run")]) == 0
    loaded = rnnkit.load(tmp_path / "run" / "model.rnnkit")
    assert isinstance(loaded, SpeechRecognizer) and loaded.config.hidden_size == 16
    assert (tmp_path / "run" / "metrics.csv").exists()
    assert main(["evaluate", str(tmp_path / "run" / "model.rnnkit"), str(corpus[0]), "--json"]) == 0
    assert "beam+vocabulary" in capsys.readouterr().out
    assert main(["predict", str(tmp_path / "run" / "model.rnnkit"), str(corpus[0])]) == 2
    assert "rnnkit transcribe" in capsys.readouterr().err
