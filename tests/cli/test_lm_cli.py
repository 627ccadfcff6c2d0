"""``rnnkit train | evaluate | generate`` for task lm, end to end on a text file."""

import json

from rnnkit.cli.main import main


def test_train_evaluate_generate_on_a_text_file(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n\n".join(["the cat sat on the mat", "a dog ran in the fog", "the end"] * 10))
    cfg = tmp_path / "lm.toml"
    cfg.write_text(f'[task]\nname = "lm"\n[data]\npath = "{corpus}"\n'
                   '[model]\nhidden_size = 16\nembedding_dim = 8\nmin_freq = 1\n'
                   '[train]\nepochs = 1\nbptt = 8\nbatch_size = 4\n')
    assert main(["train", str(cfg), "--out", str(tmp_path / "run")]) == 0
    model = tmp_path / "run" / "model.rnnkit"
    capsys.readouterr()
    assert main(["evaluate", str(model), str(corpus), "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["rnnkit"]["bits_per_char"] > 0
    assert main(["generate", str(model), "--prompt", "the ", "--max-tokens", "5", "--seed", "1"]) == 0
    assert capsys.readouterr().out.strip()
    assert main(["predict", str(model), str(corpus)]) == 2
    assert "rnnkit generate" in capsys.readouterr().err
