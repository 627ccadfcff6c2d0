"""``rnnkit generate MODEL --prompt ... --max-tokens N`` through a local typer app."""

import typer
from typer.testing import CliRunner

from rnnkit.cli.generate import register, run
from rnnkit.tasks.lm import LanguageModel

TEXTS = ["the cat sat on the mat.", "a dog ran in the park!"] * 10


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """test app"""

    register(app)
    return app


def test_generate_command_prints_prompt_and_sampled_text(tmp_path):
    lm = LanguageModel(hidden_size=16, embedding_dim=8, batch_size=4, bptt=8, epochs=1,
                       min_freq=1).fit(TEXTS)
    model = lm.save(tmp_path / "lm.rnnkit")
    runner = CliRunner()
    args = ["generate", str(model), "--prompt", "the ", "--max-tokens", "12", "--temperature", "0.7",
            "--top-k", "5", "--top-p", "0.9", "--seed", "4"]
    first = runner.invoke(_app(), args)
    assert first.exit_code == 0, first.output
    expected = "the " + lm.generate("the ", 12, temperature=0.7, top_k=5, top_p=0.9, seed=4)
    assert first.output == expected + "\n"
    assert runner.invoke(_app(), args).output == first.output  # same seed, same text
    assert run(model, "the ", max_tokens=12, temperature=0.7, top_k=5, top_p=0.9, seed=4,
               echo_prompt=False) == expected[4:]


def test_generate_command_bad_input_is_one_line_and_status_2(tmp_path):
    lm = LanguageModel(hidden_size=8, embedding_dim=8, batch_size=4, bptt=8, epochs=1,
                       min_freq=1).fit(TEXTS)
    model = lm.save(tmp_path / "lm.rnnkit")
    runner = CliRunner()
    bad = runner.invoke(_app(), ["generate", str(model), "--top-p", "2"])
    assert bad.exit_code == 2 and "top_p: expected None or a number in (0, 1]" in bad.output
    assert "Traceback" not in bad.output
    latin = tmp_path / "prompt.txt"
    latin.write_bytes("caf\u00e9 ".encode("latin-1"))
    bad = runner.invoke(_app(), ["generate", str(model), "--prompt-file", str(latin)])
    assert bad.exit_code == 2 and 'encoding="latin-1"' in bad.output
    ok = runner.invoke(_app(), ["generate", str(model), "--prompt-file", str(latin),
                                "--encoding", "latin-1", "-n", "3", "--seed", "0"])
    assert ok.exit_code == 0 and ok.output.startswith("caf\u00e9 ")
    missing = runner.invoke(_app(), ["generate", str(tmp_path / "nope.rnnkit")])
    assert missing.exit_code == 2 and "error:" in missing.output
