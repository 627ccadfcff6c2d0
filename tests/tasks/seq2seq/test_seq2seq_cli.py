"""``rnnkit translate`` and ``rnnkit chat`` through a local typer app, stdin simulated."""

import pytest
import typer
from typer.testing import CliRunner

from rnnkit.cli import translate as cmd


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()
    cmd.register(app)
    return app


@pytest.fixture(scope="module")
def model_path(reversal_model, tmp_path_factory):
    return reversal_model.save(tmp_path_factory.mktemp("cli") / "rev.rnnkit")


def test_translate_text_file_and_stdin(app, model_path, tmp_path, reversal_model):
    runner = CliRunner()
    result = runner.invoke(app, ["translate", str(model_path), "a b c", "--beam", "3"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == reversal_model.translate(["a b c"], beam=3)[0]
    lines = tmp_path / "in.txt"
    lines.write_text("a b\n\nc d e\n", encoding="utf-8")
    result = runner.invoke(app, ["translate", str(model_path), "--file", str(lines), "-b", "1"])
    assert result.stdout.splitlines() == reversal_model.translate(["a b", "c d e"], beam=1)
    result = runner.invoke(app, ["translate", str(model_path), "-"], input="a b\nc d\n")
    assert len(result.stdout.splitlines()) == 2


def test_translate_bad_input_is_one_line(app, model_path, tmp_path):
    runner = CliRunner()
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Grüße\n".encode("latin-1"))
    result = runner.invoke(app, ["translate", str(model_path), "--file", str(bad)])
    assert result.exit_code == 2
    assert "not valid utf-8" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["translate", str(model_path), ""])
    assert result.exit_code == 2 and "at least one token" in result.output
    result = runner.invoke(app, ["translate", str(model_path), "a", "--beam", "0"])
    assert result.exit_code == 2 and "beam" in result.output
    result = runner.invoke(app, ["translate", str(tmp_path / "nope.rnnkit"), "a"])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_chat_loop_reads_until_quit(app, model_path):
    runner = CliRunner()
    args = ["chat", str(model_path), "--temperature", "0", "--no-context"]
    result = runner.invoke(app, args, input="a b c\n\nzz\n/quit\nnever read\n")
    assert result.exit_code == 0, result.output
    replies = result.stdout.splitlines()  # piped: a reply per message, no prompt, no echo
    assert replies[0] == "c b a" and len(replies) == 2
    assert "a b c" not in result.stdout and "never read" not in result.output
    # same seed, same session
    args = ["chat", str(model_path), "--temperature", "1.5", "--seed", "3"]
    first = runner.invoke(app, args, input="a b c\nd e\n").stdout
    assert first == runner.invoke(app, args, input="a b c\nd e\n").stdout
    result = runner.invoke(app, ["chat", str(model_path), "--top-p", "2"], input="a\n")
    assert result.exit_code == 2 and "top_p" in result.output
