"""``rnnkit tune CONFIG --trials N``: Optuna search over the config's ``[tune]`` space."""

from __future__ import annotations

from pathlib import Path

import typer


def tune(config: Path = typer.Argument(..., help="TOML config; an optional [tune] table declares the space."),
         trials: int = typer.Option(20, "--trials", help="Finished trials the study should reach."),
         set_: list[str] = typer.Option([], "--set", help="Override a key: TABLE.KEY=VALUE."),
         out: Path = typer.Option(Path("runs/tune"), "--out", help="Folder: study.db, best.toml, "
                                  "best.rnnkit, tune.json. Rerun with the same --out to resume."),
         folds: int = typer.Option(2, help="Forecast: rolling backtests per trial (pruned between folds)."),
         origins: int = typer.Option(5, help="Forecast: windows per backtest and in the holdout."),
         seed: int = typer.Option(0, help="Sampler seed."),
         check: bool = typer.Option(True, "--check/--no-check",
                                    help="Score the default config and the best on the holdout."),
         check_seeds: int = typer.Option(3, "--check-seeds", help="Fits per config in the holdout "
                                         "check (seeds seed, seed+1, ...); the means are compared."),
         trial_seeds: int = typer.Option(2, "--trial-seeds", help="Fits per trial (and fold), averaged: "
                                         "less seed noise in the ranking, at that many times the cost.")) -> None:
    """Search hyperparameters (cell, hidden size, layers, dropout, lr, lookback ...) with
    Optuna; resumable; writes the best config and model.

    Example: rnnkit tune examples/weather_tune.toml --trials 20 --out runs/tune-weather
    """
    from rnnkit.tuning import read_tune_config, tune as run_tune

    cfg, space = read_tune_config(config, set_)
    result = run_tune(cfg, space, out, trials, folds=folds, origins=origins, seed=seed, check=check,
                      check_seeds=check_seeds, trial_seeds=trial_seeds,
                      log=lambda m: typer.echo(m, err=True))
    typer.echo(f"best settings ({result.n_trials} trials, objective {result.best_value:.4f}): "
               + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in result.best_settings.items()))
    if result.check:
        c = result.check
        spread = lambda v: f"{min(v):.4f}-{max(v):.4f}"  # noqa: E731
        typer.echo(f"holdout {c['metric']}, mean of {c['seeds']} seeds: default config {c['default']:.4f} "
                   f"({spread(c['default_per_seed'])}), best {c['best']:.4f} ({spread(c['best_per_seed'])}), "
                   f"baseline {c['baseline']} {c['baseline_metric']:.4f}")
    typer.echo(f"written: {result.paths['config']}, {result.paths['model']}, {result.paths['summary']}")


def register(app: typer.Typer) -> None:
    app.command("tune")(tune)
