"""``rnnkit train | evaluate`` for task ``lm``: a text file of records (cut at
``separator``, default a blank line), or the Debian fortunes when the config names no
``path`` (``apt-get install fortunes``)."""

from __future__ import annotations

from pathlib import Path

import typer

from rnnkit.cli.tables import print_table

DATA_KEYS = ("dataset", "path", "separator", "encoding", "limit")
DATASETS = ("fortunes",)


def train(cfg, out: Path, resume: bool) -> None:
    from rnnkit.cli.runs import check_data_keys, limit, save_model, subset
    from rnnkit.errors import ConfigError, unknown_name
    from rnnkit.tasks.lm import LanguageModel
    from rnnkit.tasks.lm.datasets import fortunes, read_records

    check_data_keys(cfg, DATA_KEYS)
    d, n = cfg.data, limit(cfg.data)
    if "path" in d:  # records of a text file; no held-out part of it here
        train_texts, test_texts = read_records(d["path"], d.get("separator", "\n\n"), d.get("encoding", "utf-8")), None
    elif d.get("dataset", DATASETS[0]) not in DATASETS:
        raise ConfigError(unknown_name("text data set", d["dataset"], DATASETS))
    else:
        train_texts, test_texts = fortunes("train"), fortunes("test")
    train_texts, test_texts = subset(train_texts, n), subset(test_texts, n)
    lm = LanguageModel(**cfg.model, **cfg.train).fit(train_texts, out_dir=out, resume=resume)
    if test_texts is not None:
        print_table(lm.evaluate(test_texts).table, f"Held-out fortunes ({len(test_texts)} records)",
                    highlight="rnnkit")
    save_model(lm, out)


def evaluate(est, model: Path, data: Path, json_out: bool = False, *, encoding: str = "utf-8") -> None:
    """Bits per character on a text file of records (cut at blank lines)."""
    table = est.evaluate(data, encoding=encoding).table
    if json_out:
        typer.echo(table.to_json(orient="index"))
    else:
        print_table(table, f"{model.name}: bits per character on {data.name}", highlight="rnnkit")
