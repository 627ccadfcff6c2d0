"""``rnnkit train | evaluate`` for task ``lm``: a text file of records (cut at
``separator``, default a blank line), or the Debian fortunes when the config names no
``path`` (``apt-get install fortunes``)."""

from __future__ import annotations

from pathlib import Path

import typer

from rnnkit.cli.tables import print_table


def train(cfg, out: Path, resume: bool) -> None:
    from rnnkit.tasks.lm import LanguageModel
    from rnnkit.tasks.lm.datasets import fortunes

    d = cfg.data
    read = dict(separator=d.get("separator", "\n\n"), encoding=d.get("encoding", "utf-8"))
    if "path" in d:
        train_texts, test_texts = d["path"], None
    else:
        train_texts, test_texts, read = fortunes("train"), fortunes("test"), {}
    lm = LanguageModel(**cfg.model, **cfg.train).fit(train_texts, out_dir=out, **read)
    if test_texts is not None:
        print_table(lm.evaluate(test_texts).table, f"Held-out fortunes ({len(test_texts)} records)",
                    highlight="rnnkit")
    typer.echo(f"model file: {lm.save(out / 'model.rnnkit')}")


def evaluate(est, model: Path, data: Path, json_out: bool) -> None:
    table = est.evaluate(data).table
    if json_out:
        typer.echo(table.to_json(orient="index"))
    else:
        print_table(table, f"{model.name}: bits per character on {data.name}", highlight="rnnkit")
