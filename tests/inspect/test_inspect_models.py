"""rnnkit inspect on a trained forecaster, text classifier and translator: the pictures show
the model's own tensors (checked through the figures' arrays), the files and the page are
written, and the CLI gives clear errors."""

import base64
import warnings

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
import torch

import rnnkit
from rnnkit.cli.main import main
from rnnkit.errors import ConfigError, DataError
from rnnkit.inspect import inspect
from rnnkit.inspect.forecast import window_tensors


def image(insp, name, panel=0):
    return np.asarray(insp.figures[name].axes[panel].images[0].get_array())


def line(insp, name):
    return np.asarray(insp.figures[name].axes[0].lines[0].get_ydata())


# ---- forecaster ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def series_csv(tmp_path_factory):
    n = 200
    t = np.arange(n)
    frame = pd.DataFrame({"date": pd.date_range("2021-01-01", periods=n, freq="D"),
                          "y": 10 + 3 * np.sin(2 * np.pi * t / 7) + np.random.default_rng(0).normal(0, 0.3, n)})
    path = tmp_path_factory.mktemp("fc") / "series.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def forecaster(series_csv):
    return rnnkit.Forecaster(cell="lstm", lookback=21, horizon=5, hidden_size=10, num_layers=2,
                             epochs=3, seed=0, ensemble=3, guard="keep").fit(series_csv, time="date", target="y")


def test_forecaster_pictures_hold_the_models_own_tensors(forecaster, series_csv):
    insp = inspect(forecaster, series_csv)
    _, _, inputs = window_tensors(forecaster, series_csv)
    past, future, static = inputs.past, inputs.future, inputs.static
    net = forecaster.model_.eval().members[0]  # an ensemble's pictures are its first member's
    window = past[:, -forecaster.lookbacks_[0]:]
    with torch.no_grad():
        out, _ = net.encoder(net.encoder_input(window))  # (1, L, H) top layer, the fused path
    np.testing.assert_allclose(image(insp, "encoder_hidden_l1"), out[0].numpy().T, atol=1e-5)
    # the input panel's forecast is what predict() returns
    predicted = forecaster.predict(series_csv)["y"].to_numpy()
    np.testing.assert_allclose(insp.figures["input"].axes[0].lines[1].get_ydata(), predicted, rtol=1e-5)
    np.testing.assert_allclose(insp.arrays["input.forecast"][:, 0], predicted, rtol=1e-5)
    # every gate panel: first panel is the input gate, bounded like a sigmoid
    gates = image(insp, "encoder_gates_l0")
    assert gates.shape == (10, 21) and (gates > 0).all() and (gates < 1).all()

    def first(x):
        return forecaster.likelihood_.summarize(forecaster.model_(x[None], future, static))[0][0, 0, 0]

    jac = torch.autograd.functional.jacobian(first, past[0])  # (L, F)
    np.testing.assert_allclose(line(insp, "gradient"), jac.norm(dim=1).numpy(), rtol=1e-4)


def test_inspection_files_and_page(forecaster, series_csv, tmp_path):
    insp = inspect(forecaster, series_csv)
    paths = insp.save(tmp_path / "out")
    for name in insp.figures:
        pixels = matplotlib.image.imread(paths[name])
        assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels[..., :3].std() > 0.05
    stored = np.load(paths["arrays"])
    assert set(stored.files) == set(insp.arrays)
    np.testing.assert_array_equal(stored["encoder_hidden_l1.values"], insp.arrays["encoder_hidden_l1.values"])
    page = paths["html"].read_text()
    assert page.count("data:image/png;base64,") == len(insp.figures)
    png = paths["gradient"].read_bytes()
    assert base64.b64encode(png).decode() in page  # self-contained: the very same PNG
    assert "forecast in bold" in page and "<table>" in page


def test_forecaster_series_choice_and_unknown_id(tmp_path):
    n = 120
    frame = pd.concat([pd.DataFrame({"id": k, "date": pd.date_range("2021-01-01", periods=n, freq="D"),
                                     "y": np.sin(np.arange(n) / (2 + i)) + i}) for i, k in enumerate("ab")])
    f = rnnkit.Forecaster(lookback=14, horizon=3, ensemble=1, hidden_size=6, epochs=1).fit(frame, time="date", target="y", id="id")
    a, b = inspect(f, frame, series="a"), inspect(f, frame, series="b")
    assert not np.allclose(a.arrays["input.history"], b.arrays["input.history"])
    np.testing.assert_allclose(b.arrays["input.history"][:, 0], frame[frame.id == "b"].y.to_numpy()[-14:])
    with pytest.raises(DataError, match="unknown series id 'c'"):
        inspect(f, frame, series="c")


# ---- text classifier ----------------------------------------------------------------------------
FILLER = "the a food taste item box price it was is very quite really ordered from store".split()


def cue_texts(n, seed):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        words = list(rng.choice(FILLER, int(rng.integers(4, 12))))
        label = "pos" if i % 2 == 0 else "neg"
        words.insert(int(rng.integers(0, len(words) + 1)), "good" if label == "pos" else "bad")
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def classifier():
    texts, labels = cue_texts(240, 0)
    return rnnkit.TextClassifier(hidden_size=12, embedding_dim=12, attention_size=8, min_freq=1, epochs=12,
                                 patience=12, batch_size=16, lr=5e-3, seed=0).fit(texts, labels)


def test_text_classifier_pictures_hold_the_models_own_tensors(classifier):
    text = "the box was really good and the price is very quite ok"
    insp = inspect(classifier, text)
    explained = np.array([w for _, w in classifier.explain(text)])
    np.testing.assert_allclose(image(insp, "attention")[0], explained, atol=1e-6)
    tokens = [t for t, _ in classifier.explain(text)]
    assert tokens[int(explained.argmax())] == "good"  # the trained model looks at the cue
    net = classifier.model_.eval()
    ids = torch.tensor([classifier.encode([text])[0]])
    with torch.no_grad():
        h, _ = net.encoder(net.embedding(ids))
    np.testing.assert_allclose(image(insp, "encoder_hidden_l0"), h[0].numpy().T, atol=1e-5)
    k = list(classifier.classes_).index(insp.summary["prediction"])

    def logit(e):  # the network from the embeddings on, written out
        h, _ = net.encoder(e[None])
        z, _ = net.attention(h, torch.tensor([len(tokens)]))
        return net.head(z)[0, k]

    jac = torch.autograd.functional.jacobian(logit, net.embedding(ids)[0].detach())  # (T, E)
    np.testing.assert_allclose(line(insp, "gradient"), jac.norm(dim=1).numpy(), rtol=1e-4)
    assert "good" in insp.input_html and "pos" in insp.summary["prediction"]


def test_text_classifier_empty_text_is_a_clear_error(classifier):
    with pytest.raises(DataError, match="at least one token"):
        inspect(classifier, "   ")


# ---- translator ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def translator():
    rng = np.random.default_rng(0)
    words = "a b c d e f g h".split()
    src = [" ".join(rng.choice(words, int(rng.integers(3, 7)))) for _ in range(600)]
    tgt = [" ".join(reversed(s.split())) for s in src]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rnnkit.Seq2Seq(attention="bahdanau", hidden_size=48, embedding_dim=24, epochs=12, batch_size=32,
                              lr=5e-3, dropout=0.0, val_fraction=0.0, min_freq=1, seed=0).fit(src, tgt)


def test_translator_pictures_hold_the_models_own_tensors(translator):
    text = "c a g e b"
    insp = inspect(translator, text)
    source, output, weights = translator.attention(text)  # the greedy decoder's own weights
    np.testing.assert_allclose(image(insp, "attention"), weights, atol=1e-5)  # teacher-forced = decoded
    assert insp.summary["output"] == translator.translate([text], beam=1)[0]
    if insp.summary["output"] == "b e g a c":  # learned the reversal: attention is anti-diagonal
        assert [int(r.argmax()) for r in weights[:5]] == [4, 3, 2, 1, 0]
    net = translator.model_.eval()
    src = torch.tensor(translator.source_ids([text], "test"))
    with torch.no_grad():
        keys, _ = net.encoder(net.source_embedding(src))
    np.testing.assert_allclose(image(insp, "encoder_hidden_l0"), keys[0].numpy().T, atol=1e-5)
    assert image(insp, "decoder_hidden_l0").shape == (48, len(output))
    assert {"encoder_gates_l0", "encoder_gates_l0_backward", "decoder_gates_l0", "gradient"} <= set(insp.figures)
    assert line(insp, "gradient").shape == (len(source),) and (line(insp, "gradient") > 0).all()


# ---- command line ---------------------------------------------------------------------------------
def test_cli_writes_the_page(forecaster, series_csv, tmp_path, capsys):
    model = forecaster.save(tmp_path / "f.rnnkit")
    assert main(["inspect", str(model), str(series_csv), "--out", str(tmp_path / "i")]) == 0
    assert (tmp_path / "i" / "index.html").is_file() and (tmp_path / "i" / "encoder_gates_l1.png").is_file()
    assert "encoder_hidden_l0.png" in capsys.readouterr().out


def test_cli_errors_are_one_line(forecaster, classifier, tmp_path, capsys):
    model = forecaster.save(tmp_path / "f.rnnkit")
    assert main(["inspect", str(model), str(tmp_path / "missing.csv")]) == 2
    assert "expected a CSV file for a forecaster" in capsys.readouterr().err
    text_model = classifier.save(tmp_path / "t.rnnkit")
    (tmp_path / "latin.txt").write_bytes("caf\xe9 good".encode("latin-1"))
    assert main(["inspect", str(text_model), str(tmp_path / "latin.txt"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "utf-8" in err.lower() and "Traceback" not in err


def test_unsupported_model_is_named():
    detector = rnnkit.AnomalyDetector()
    with pytest.raises(ConfigError, match="expected Forecaster or TextClassifier or Seq2Seq, got AnomalyDetector"):
        inspect(detector, [1.0, 2.0])
