"""``rnnkit compare CONFIG --cells rnn,lstm,gru``: the trade-off between cells, measured."""

from __future__ import annotations

from pathlib import Path

import typer

from rnnkit.errors import ConfigError, problem


def _names(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _sizes(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        return [int(p) for p in _names(text)]
    except ValueError:
        raise ConfigError(problem("compare: --sizes", expected="comma-separated integers, e.g. 32,64",
                                  got=repr(text))) from None


def compare(config: Path = typer.Argument(..., help="TOML config (forecast or classify-text)."),
            cells: str = typer.Option("rnn,lstm,gru", "--cells", help="Comma-separated cells to train."),
            sizes: str = typer.Option(None, "--sizes", help="Comma-separated hidden sizes (default: the config's)."),
            set_: list[str] = typer.Option([], "--set", help="Override a key: TABLE.KEY=VALUE."),
            out: Path = typer.Option(Path("runs/compare"), "--out", help="Folder for compare.json/.md/.png."),
            origins: int = typer.Option(5, help="Forecast: backtest windows scored."),
            tolerance: float = typer.Option(0.02, help="Recommendation: runs within this share of the best metric."),
            isolate: bool = typer.Option(True, "--isolate/--in-process",
                                         help="One fresh process per run (honest peak memory)."),
            threads: int = typer.Option(None, "--threads", help="torch threads per run (default: torch's).")) -> None:
    """Train the config's recipe once per cell (and size) on the same data and seed; print
    metric vs baseline, training time, latency, parameters and peak memory, and a recommendation.

    Example: rnnkit compare examples/weather.toml --cells rnn,lstm,gru --set train.epochs=5
    """
    from rnnkit.cli.tables import print_table
    from rnnkit.compare import report
    from rnnkit.compare.recipes import METRICS
    from rnnkit.compare.runner import compare_cells, runs_to_dicts
    from rnnkit.config_file import read_config

    if origins < 1:
        raise ConfigError(problem("compare: --origins", expected="an integer >= 1", got=origins))
    cfg = read_config(config, set_)
    runs = compare_cells(cfg, _names(cells), _sizes(sizes), origins=origins, isolate=isolate,
                         threads=threads, log=lambda m: typer.echo(m, err=True))
    written = report.write(runs_to_dicts(runs, cfg.task), cfg.task, out, tolerance)
    metric = METRICS[cfg.task]
    lower = ("MASE", "MAE", "RMSE", "train_s", "latency_ms", "peak_mem_mb")
    title = f"compare ({cfg.task}): {metric.name}, {'lower' if metric.lower_is_better else 'higher'} is better"
    main = [metric.name, "beats_baseline", *report.COLUMNS]  # MAE, macro-F1 ...: in compare.md
    print_table(written["table"][main], title, lower_is_better=lower if metric.lower_is_better else lower[3:])
    typer.echo(f"recommendation: {written['recommendation']}")
    typer.echo(f"written: {written['markdown']}, {written['json']}, {written['plot']}")


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
