"""``rnnkit generate MODEL --prompt TEXT --max-tokens N``: sample text from a language model.

The text is the prompt followed by what the model writes, until ``--max-tokens`` tokens or
the end of a record. Errors (a model file of another task, bad sampling settings, a prompt
file that is not UTF-8) print one line on stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import typer

from rnnkit.errors import RnnkitError


def generate(model: Path = typer.Argument(..., help="Language-model file (.rnnkit) from LanguageModel.save."),
             prompt: str = typer.Option("", "--prompt", "-p", help="Text to continue ('' starts a "
                                        "new record)."),
             prompt_file: Path = typer.Option(None, "--prompt-file", help="Read the prompt from "
                                              "this file instead."),
             encoding: str = typer.Option("utf-8", "--encoding", help="Encoding of --prompt-file."),
             max_tokens: int = typer.Option(200, "--max-tokens", "-n", help="Most tokens to generate."),
             temperature: float = typer.Option(1.0, "--temperature", "-t", help="Sampling temperature; "
                                               "0 = greedy."),
             top_k: int = typer.Option(None, "--top-k", help="Sample among the k most probable tokens."),
             top_p: float = typer.Option(None, "--top-p", help="Nucleus sampling: the smallest set "
                                         "of tokens with probability mass >= p."),
             seed: int = typer.Option(None, "--seed", help="Seed: the same seed gives the same text."),
             echo_prompt: bool = typer.Option(True, "--echo-prompt/--no-echo-prompt",
                                              help="Print the prompt before the generated text.")) -> None:
    """Generate text with a language model (task lm), sampled token by token.

    Example: rnnkit generate fortunes.rnnkit --prompt "The " --max-tokens 120 --temperature 0.8 --top-p 0.95 --seed 1
    """
    try:
        typer.echo(run(model, prompt, prompt_file, encoding, max_tokens, temperature, top_k, top_p,
                       seed, echo_prompt))
    except RnnkitError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2)


def run(model: Path, prompt: str = "", prompt_file: Path | None = None, encoding: str = "utf-8",
        max_tokens: int = 200, temperature: float = 1.0, top_k: int | None = None,
        top_p: float | None = None, seed: int | None = None, echo_prompt: bool = True) -> str:
    """What ``rnnkit generate`` prints (the Python call behind the command)."""
    from rnnkit.cli.loading import load_task_model
    from rnnkit.data.text.reading import read_text
    from rnnkit.tasks.lm import LanguageModel

    if prompt_file is not None:
        prompt = read_text(prompt_file, encoding)
    lm = load_task_model(model, LanguageModel, "generate", "a language model (task 'lm')",
                         "train one with rnnkit.LanguageModel(...).fit(texts).save(path)")
    text = lm.generate(prompt, max_tokens=max_tokens, temperature=temperature, top_k=top_k,
                       top_p=top_p, seed=seed)
    if not echo_prompt or not prompt:
        return text
    return prompt + (lm.joiner if text else "") + text


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
