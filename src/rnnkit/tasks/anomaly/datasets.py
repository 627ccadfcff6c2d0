"""Labelled anomaly data that ships inside installed packages (registered in
:mod:`rnnkit.data.datasets` when this task is imported).

``yahoo``: sktime's ``datasets/data/yahoo/yahoo.csv`` (a series in the style of Yahoo's
S5 benchmark; 1000 points, 7 labelled anomalies, no timestamps). It has no loader in
sktime, so it is read with :mod:`importlib.resources`; the loader adds an hourly
``timestamp`` column from 2000-01-01 (the points are equally spaced) and names the
columns ``value`` and ``label``.
"""

from __future__ import annotations

import importlib.resources

import pandas as pd

from rnnkit.data.datasets import DatasetInfo, register
from rnnkit.errors import DataError


def _yahoo() -> pd.DataFrame:
    try:
        import sktime  # noqa: F401
    except ImportError as err:
        raise DataError("the yahoo data set ships with the package 'sktime', which is not "
                        "installed (install it: pip install sktime)") from err
    path = importlib.resources.files("sktime") / "datasets" / "data" / "yahoo" / "yahoo.csv"
    with importlib.resources.as_file(path) as file:
        raw = pd.read_csv(file)
    return pd.DataFrame({"timestamp": pd.date_range("2000-01-01", periods=len(raw), freq="h"),
                         "value": raw["data"].to_numpy(), "label": raw["label"].to_numpy()})


YAHOO = register(DatasetInfo(
    "yahoo", "sktime", "1000 points in the style of Yahoo S5 with 7 labelled anomalies "
    "(hourly timestamps added)", _yahoo, time="timestamp", targets=("value",), freq="h",
    season=24, kind="anomaly", extra={"labels": "label"}))
