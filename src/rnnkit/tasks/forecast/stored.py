"""What a forecaster's model file must hold to answer right, checked before its weights are
read (the forecaster's part of :meth:`rnnkit.tasks.core.Estimator.check_file`).

Each refusal is one :class:`~rnnkit.errors.BundleError` line naming the field:

* ``columns``: the time, id, target and covariate names, all distinct — a repeated name
  would send one column's values to another's place (and every predict would fail);
* ``dims``: the network's input sizes agree with those columns, the calendar features of
  ``freq`` and ``calendar``;
* ``freq``: a pandas frequency with a step longer than zero; ``season`` in range;
* ``scalers``: one finite mean and a finite scale > 0 per target, past covariate and
  static covariate — an edited scaler would move every forecast.
"""

from __future__ import annotations

from typing import Any

from rnnkit.data.calendar import feature_names
from rnnkit.errors import BundleError, problem
from rnnkit.tasks.core import finite_numbers, require, unique_names
from rnnkit.tasks.core.checks import FREQUENCY, is_frequency
from rnnkit.tasks.core.file_check import EDITED
from rnnkit.tasks.core.limits import MAX_STEPS

WHO = "Forecaster"
FILE_CONFIG = {"columns": dict, "dims": dict}
FILE_PREPROCESSING = {"scalers": dict, "freq": str, "season": int, "train_end": dict}


def check_forecast_file(config: Any, meta: Any) -> None:
    """Check ``meta``'s columns, dims, frequency, season and scalers against the settings
    ``config`` (a validated ForecastConfig); see the module docstring."""
    columns, pre = meta.config["columns"], meta.preprocessing
    targets = unique_names(WHO, "columns 'targets'", columns["targets"], at_least=1)
    past = unique_names(WHO, "columns 'past'", columns["past"])
    static = unique_names(WHO, "columns 'static'", columns["static"])
    ident = require(WHO, "columns 'id'", columns["id"], (str, type(None)))
    time = require(WHO, "columns 'time'", columns["time"], str)
    unique_names(WHO, "columns (time, id, targets, covariates)",
                 [time, *([ident] if ident is not None else []), *targets, *past, *static])
    freq = pre["freq"]
    if not is_frequency(freq):
        raise BundleError(problem(f"{WHO}: preprocessing 'freq'", expected=FREQUENCY,
                                  got=repr(freq)[:80], fix=EDITED))
    season = pre["season"]
    if not 1 <= season <= MAX_STEPS:
        raise BundleError(problem(f"{WHO}: preprocessing 'season'", expected=f"an integer in "
                                  f"[1, {MAX_STEPS}]", got=season, fix=EDITED))
    n_future = len(feature_names(freq)) if config.calendar else 0
    _check_dims(meta.config["dims"], dict(n_targets=len(targets), n_static=len(static),
                                          n_future=n_future,
                                          n_inputs=len(targets) + len(past) + n_future))
    _check_scalers(pre["scalers"], len(targets), len(past), len(static))
    for key, end in pre["train_end"].items():
        require(WHO, f"preprocessing 'train_end' of series {key!r}"[:120], end, str)


def _check_dims(dims: dict, want: dict[str, int]) -> None:
    for key, value in want.items():
        got = dims.get(key)
        if got != value or isinstance(got, bool):
            raise BundleError(problem(f"{WHO}: config 'dims' {key!r}", expected=f"{value} (from the "
                                      "columns, freq and calendar settings)", got=repr(got)[:40], fix=EDITED))


def _check_scalers(scalers: dict, n_targets: int, n_past: int, n_static: int) -> None:
    parts = require(WHO, "scalers 'target'", scalers["target"], dict)
    if not parts:
        raise BundleError(problem(f"{WHO}: scalers 'target'", expected="one scaler per "
                                  "training series", got="none", fix=EDITED))
    named = [(f"scalers 'target' of series {k!r}"[:120], v, n_targets) for k, v in parts.items()]
    named += [("scalers 'past'", scalers["past"], n_past), ("scalers 'static'", scalers["static"], n_static)]
    for where, scaler, n in named:
        require(WHO, where, scaler, dict)
        finite_numbers(WHO, f"{where} 'mean'", scaler["mean"], n)
        finite_numbers(WHO, f"{where} 'scale'", scaler["scale"], n, positive=True)
