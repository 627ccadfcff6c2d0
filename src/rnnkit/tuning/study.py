"""``tune``: an Optuna search over a declared space, resumable, with pruning.

The study lives in ``OUT/study.db`` (SQLite): run the same command again after a crash or
Ctrl-C and it continues until ``trials`` trials have finished (completed or pruned); a
trial that was running when the process died is marked failed and does not count.

What a trial scores, so that the final check is honest:

* ``forecast``: the last ``origins`` windows of each series are a *holdout* that no trial
  sees. On the rest, a trial runs ``folds`` rolling backtests (fold 1 ends earliest) and
  reports the running mean MASE after each; from the second fold on (and never after the
  last), the median pruner stops a trial whose running mean is worse than the median of
  earlier trials at the same fold. (The trainer has no
  per-epoch hook, so pruning is per fold, not per epoch.) Objective: mean MASE, minimised.
* ``classify-text``: fit on 80% of the train split, accuracy on the other 20% (one step,
  so nothing to prune), maximised; the test split is the holdout.

Trial 0 of a new study is the config as written (its values inside the space), so the
search starts from what it has to beat.

At the end: ``best.toml`` (the config with the best settings, runnable by ``rnnkit train``),
``best.rnnkit`` (the best settings fitted on all the data), and
``tune.json`` with the trials and a holdout check of the default config against the best.
"""

from __future__ import annotations

import json
import math
import random
import statistics
from dataclasses import dataclass, fields
from pathlib import Path

from rnnkit.compare.recipes import forecast_data, history_before, run_forecast, run_text, text_data
from rnnkit.errors import ConfigError, DataError, problem
from rnnkit.tuning.space import TRAIN_KEYS, parse_space
from rnnkit.tuning.toml_io import dumps

QUIET = {"progress": "none"}  # each trial or run prints its own line; a config may set progress

STUDY_NAME = "rnnkit-tune"
VAL_SHARE = 0.2  # classify-text: share of the train split a trial is scored on


@dataclass
class TuneResult:
    best_settings: dict
    best_value: float
    n_trials: int  # finished (complete or pruned) trials in the study
    check: dict | None  # holdout metric of the default config and of the best
    paths: dict


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ConfigError("rnnkit tune needs Optuna: pip install 'rnnkit[tune]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(problem(f"tune: {name}", expected="an integer >= 1", got=repr(value)))


def _seeds(cfg, n: int) -> list[int]:
    """The config's seed and the ``n - 1`` after it."""
    first = int({**cfg.model, **cfg.train}.get("seed", 0))
    return [first + i for i in range(n)]


def forecast_objective(cfg, dims, folds: int, origins: int, trial_seeds: int = 1):
    from rnnkit.tasks.forecast import Forecaster

    frame, columns = forecast_data(cfg)
    time_col, id_col = columns.get("time"), columns.get("id")

    def objective(trial):
        optuna = _optuna()
        settings = {d.name: d.suggest(trial) for d in dims}
        horizon = Forecaster(**{**cfg.model, **cfg.train, **settings}).config.horizon
        window = horizon * origins
        seen = history_before(frame, time_col, id_col, window)  # the holdout is never seen
        scores = []
        for fold in range(folds):  # fold 0 ends earliest
            part = history_before(seen, time_col, id_col, window * (folds - 1 - fold))
            fold_scores = []
            for seed in _seeds(cfg, trial_seeds):  # one fit per seed, averaged
                est = Forecaster(**{**QUIET, **cfg.model, **cfg.train, **settings, "seed": seed})
                est.fit(history_before(part, time_col, id_col, window), **columns)
                fold_scores.append(float(est.evaluate(part, origins=origins, baselines=()).table.loc["rnnkit", "MASE"]))
            scores.append(statistics.fmean(fold_scores))
            trial.report(statistics.fmean(scores), fold)
            if fold < folds - 1 and trial.should_prune():  # a trial that ran every fold completes
                raise optuna.TrialPruned()
        return statistics.fmean(scores)

    return objective


def text_objective(cfg, dims, seed: int, trial_seeds: int = 1):
    (X, y), _ = text_data(cfg)
    order = list(range(len(X)))
    random.Random(seed).shuffle(order)
    cut = len(X) - max(1, int(round(len(X) * VAL_SHARE)))
    fit_part = ([X[i] for i in order[:cut]], [y[i] for i in order[:cut]])
    val_part = ([X[i] for i in order[cut:]], [y[i] for i in order[cut:]])

    def objective(trial):
        settings = {d.name: d.suggest(trial) for d in dims}
        return statistics.fmean(run_text(cfg, {**settings, "seed": s}, (fit_part, val_part), latency=False)[0].metric
                                for s in _seeds(cfg, trial_seeds))

    return objective


def open_study(out: Path, task: str, space: dict, seed: int, scoring: dict | None = None):
    """The study in ``out/study.db``, created or resumed; stale running trials marked failed."""
    optuna = _optuna()
    out.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{out.resolve() / 'study.db'}"
    direction = "minimize" if task == "forecast" else "maximize"
    try:
        previous = optuna.load_study(study_name=STUDY_NAME, storage=storage).trials
    except KeyError:
        previous = []
    sampler = optuna.samplers.TPESampler(seed=seed + len(previous))  # new draws after a resume
    # one fold's score is noisy: prune only from the second fold on, against the median of
    # at least three earlier trials
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    study = optuna.create_study(study_name=STUDY_NAME, storage=storage, direction=direction,
                                sampler=sampler, pruner=pruner, load_if_exists=True)
    if study.direction.name.lower() != direction:
        raise ConfigError(problem(f"tune: study in {out}", expected=f"a {task} study ({direction})",
                                  got=study.direction.name.lower(), fix="use a new --out folder"))
    key = json.dumps({"task": task, "space": space, **({"scoring": scoring} if scoring else {})},
                     sort_keys=True, default=str)
    stored = study.user_attrs.get("space")
    if stored is not None and stored != key:
        raise ConfigError(problem(f"tune: study in {out}", expected=f"the space it began with: {stored}",
                                  got=key, fix="use a new --out folder for a new space or scoring"))
    study.set_user_attr("space", key)
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
    return study


def written_settings(cfg, dims) -> dict:
    """The config as written, as values of the searched dimensions (those inside their range).

    ``tune`` enqueues them as trial 0, so the search starts from the config it must beat and
    its best trial is never worse than the config as written on the tuning objective.
    """
    merged = {**cfg.model, **cfg.train}
    if cfg.task == "forecast":
        from rnnkit.tasks.forecast import Forecaster as Estimator
    else:
        from rnnkit.tasks.classify_text import TextClassifier as Estimator
    config = Estimator(**merged).config
    params = {f.name: getattr(config, f.name) for f in fields(config)}
    chosen = {}
    for d in dims:
        value = params.get(d.name)
        if d.kind == "categorical" and value in d.values:
            chosen[d.name] = value
        elif d.kind in ("int", "float") and value is not None and d.values[0] <= value <= d.values[1]:
            chosen[d.name] = value
    return chosen


def finished(study) -> int:
    optuna = _optuna()
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=states))


def best_config(cfg, settings: dict) -> dict:
    """The config's tables with the best settings in them (``[train]`` for lr, batch_size and
    weight_decay unless the config has them under ``[model]``)."""
    model, train = dict(cfg.model), dict(cfg.train)
    for key, value in settings.items():
        where = model if key in model or (key not in train and key not in TRAIN_KEYS) else train
        where[key] = value
    return {"task": {"name": cfg.task}, "data": dict(cfg.data), "model": model, "train": train}


def fit_best(cfg, settings: dict):
    """The best settings fitted on all the data (``rnnkit train`` holds the scored windows out)."""
    merged = {**QUIET, **cfg.model, **cfg.train, **settings}
    if cfg.task == "forecast":
        from rnnkit.tasks.forecast import Forecaster

        frame, columns = forecast_data(cfg)
        return Forecaster(**merged).fit(frame, **columns)
    from rnnkit.tasks.classify_text import TextClassifier

    (X, y), _ = text_data(cfg)
    return TextClassifier(**merged).fit(X, y)


def holdout_check(cfg, settings: dict, origins: int, seeds: int = 3) -> dict:
    """Holdout metric of the config as written and with the best settings, each fitted with
    ``seeds`` seeds (the config's seed, +1, ...): one seed's score moves by more than most
    differences between settings, so the comparison is of the means (per-seed lists kept)."""
    run = (lambda s: run_forecast(cfg, s, origins, latency=False)[0]) if cfg.task == "forecast" \
        else (lambda s: run_text(cfg, s, latency=False)[0])
    default = [run({"seed": s}) for s in _seeds(cfg, seeds)]
    best = [run({**settings, "seed": s}) for s in _seeds(cfg, seeds)]
    name = "MASE" if cfg.task == "forecast" else "accuracy"
    per = {"default": [r.metric for r in default], "best": [r.metric for r in best]}
    return {"metric": name, "seeds": seeds, "default": statistics.fmean(per["default"]),
            "best": statistics.fmean(per["best"]), "default_per_seed": per["default"],
            "best_per_seed": per["best"], "baseline": default[0].baseline,
            "baseline_metric": default[0].baseline_metric}


def tune(cfg, space: dict | None, out: str | Path, trials: int, *, folds: int = 2, origins: int = 5,
         seed: int = 0, check: bool = True, check_seeds: int = 3, trial_seeds: int = 2, callbacks=(),
         log=print) -> TuneResult:
    """Search ``space`` (a ``[tune]`` table; None: the task's default) for ``trials`` trials;
    with ``check``, score the config as written and the best on the holdout, ``check_seeds``
    fits each. ``trial_seeds`` > 1 averages each trial's score over that many fits."""
    _check_counts(trials=trials, folds=folds, origins=origins, check_seeds=check_seeds,
                  trial_seeds=trial_seeds)
    dims = parse_space(cfg.task, space)
    out = Path(out)
    scoring = {"folds": folds, "origins": origins, "trial_seeds": trial_seeds} if cfg.task == "forecast" \
        else {"trial_seeds": trial_seeds}
    study = open_study(out, cfg.task, {d.name: list(d.values) for d in dims}, seed, scoring)
    remaining = trials - finished(study)
    if not study.trials:  # a new study: trial 0 is the config as written
        study.enqueue_trial(written_settings(cfg, dims))
    objective = forecast_objective(cfg, dims, folds, origins, trial_seeds) if cfg.task == "forecast" \
        else text_objective(cfg, dims, seed, trial_seeds)
    if remaining > 0:
        log(f"tune: {finished(study)} of {trials} trials done; running {remaining} more")
        study.optimize(_recording(objective), n_trials=remaining, catch=(DataError,),
                       callbacks=list(callbacks))
    else:
        log(f"tune: the study already has {finished(study)} finished trials (asked for {trials})")
    complete = [t for t in study.trials if t.state.name == "COMPLETE" and t.value is not None
                and not math.isnan(t.value)]
    if not complete:
        reasons = [t.user_attrs["failure"] for t in study.trials if "failure" in t.user_attrs]
        reason = reasons[-1] if reasons else "not recorded (a study from an older rnnkit)"
        raise ConfigError(problem("tune: finished trials", expected="at least one complete trial",
                                  got=f"none of {len(study.trials)}",
                                  fix=f"check the space and the data; last failure: {reason}"))
    best = study.best_trial
    settings = {**{d.name: d.values[0] for d in dims if d.kind == "fixed"}, **best.params}
    return _write(cfg, study, best, settings, out, origins, check_seeds if check else 0, log)


def _recording(objective):
    """``objective`` that records why a trial failed in its user attributes ("failure"): Optuna
    marks a trial that raised a caught error or returned NaN as failed without keeping why."""
    def run(trial):
        try:
            value = objective(trial)
        except DataError as e:
            trial.set_user_attr("failure", str(e))
            raise
        if value is None or math.isnan(value):
            trial.set_user_attr("failure", "the trial's score was NaN (MASE is undefined when a "
                                           "series' history is constant)")
        return value
    return run


def _write(cfg, study, best, settings, out: Path, origins, check_seeds: int, log) -> TuneResult:
    metric = "mean MASE over the tuning folds" if cfg.task == "forecast" else "validation accuracy"
    header = (f"rnnkit tune: best of {finished(study)} trials (trial {best.number}, {metric} "
              f"{best.value:.4f})\nrnnkit train best.toml --out runs/best")
    paths = {"config": out / "best.toml", "model": out / "best.rnnkit", "summary": out / "tune.json",
             "study": out / "study.db"}
    paths["config"].write_text(dumps(best_config(cfg, settings), header), encoding="utf-8")
    log("tune: fitting the best settings on all the data")
    fit_best(cfg, settings).save(paths["model"])
    if check_seeds:
        log(f"tune: holdout check, the config as written and the best, {check_seeds} seeds each")
    result = holdout_check(cfg, settings, origins, check_seeds) if check_seeds else None
    trials_json = [{"number": t.number, "state": t.state.name, "value": t.value, "params": t.params}
                   for t in study.trials]
    summary = {"best_settings": settings, "best_value": best.value, "objective": metric,
               "trials": trials_json, "holdout_check": result}
    paths["summary"].write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return TuneResult(settings, float(best.value), finished(study), result, paths)
