"""``rnnkit train | evaluate | predict`` for task classify-text, end to end on a CSV."""

import json

import pandas as pd

from rnnkit.cli.main import main


def test_train_evaluate_predict_on_a_csv(tmp_path, capsys):
    good = ["good tasty fresh", "really good", "fresh and good value", "tasty snack"]
    bad = ["bad stale", "awful and bad", "stale old bad", "not fresh awful"]
    rows = [(t, "great", "train") for t in good * 5] + [(t, "other", "train") for t in bad * 5]
    rows += [("good and fresh", "great", "test"), ("stale and awful", "other", "test")]
    csv = tmp_path / "reviews.csv"
    pd.DataFrame(rows, columns=["text", "label", "split"]).to_csv(csv, index=False)
    cfg = tmp_path / "reviews.toml"
    cfg.write_text(f'[task]\nname = "classify-text"\n[data]\npath = "{csv}"\n'
                   '[model]\nhidden_size = 8\nmin_freq = 1\n[train]\nepochs = 3\nprogress = "none"\n')
    assert main(["train", str(cfg), "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "Test split (2 texts)" in out and "tfidf" in out.lower()
    model = tmp_path / "run" / "model.rnnkit"
    assert main(["evaluate", str(model), str(csv), "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert "rnnkit" in table
    assert main(["predict", str(model), str(csv)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(rows)
    first = json.loads(lines[0])
    assert first["label"] in ("great", "other") and abs(sum(first["proba"].values()) - 1) < 1e-6


def test_unknown_config_key_names_the_nearest(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[task]\nname = "classify-text"\n[data]\ntexts = "x"\n')
    assert main(["train", str(cfg)]) == 2
    assert "did you mean 'text'" in capsys.readouterr().err
