"""``rnnkit transcribe MODEL a.wav [b.wav ...]``: speech to text with a recognizer (task asr).

Prints one line per file, ``path<TAB>transcript`` (``--json``: one JSON object per line with
``path`` and ``transcript``). Any WAV works: any sample rate, mono or stereo, integer or
float samples. A file that cannot be read (missing, empty, not a WAV, too long) prints
``error: ...`` on stderr and the others are still transcribed; the exit status is then 2.
Silence gives an empty transcript.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from rnnkit.errors import ConfigError, RnnkitError


def transcribe(model: Path = typer.Argument(..., help="Speech recognizer file (.rnnkit) from SpeechRecognizer.save."),
               audio: list[Path] = typer.Argument(..., help="WAV files to transcribe."),
               beam: int = typer.Option(None, "--beam", "-b", help="Prefix beam width (1 = greedy); "
                                        "default: the model's beam setting."),
               vocabulary: bool = typer.Option(True, "--vocabulary/--no-vocabulary",
                                               help="Only words seen in training (default) or any "
                                               "letters."),
               json_out: bool = typer.Option(False, "--json", help="JSON lines instead of path<TAB>text.")) -> None:
    """Transcribe WAV files with a speech recognizer (task asr).

    Example: rnnkit transcribe runs/speech/model.rnnkit hello.wav call.wav --beam 16
    """
    failed = 0
    try:
        recognizer = load_recognizer(model)
        for path in audio:
            try:
                text = recognizer.transcribe(str(path), beam=beam, constrain=vocabulary)[0]
            except RnnkitError as err:
                if isinstance(err, ConfigError):
                    raise
                typer.echo(f"error: {err}", err=True)
                failed += 1
                continue
            typer.echo(json.dumps({"path": str(path), "transcript": text}) if json_out
                       else f"{path}\t{text}")
    except RnnkitError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2)
    if failed:
        raise typer.Exit(2)


def load_recognizer(model: Path):
    from rnnkit.cli.loading import load_task_model
    from rnnkit.tasks.asr import SpeechRecognizer

    return load_task_model(model, SpeechRecognizer, "transcribe", "a speech recognizer (task 'asr')",
                           "train one with rnnkit.SpeechRecognizer().fit(manifest).save(path)")


def register(app: typer.Typer) -> None:
    app.command("transcribe")(transcribe)
