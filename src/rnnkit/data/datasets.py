"""Real data sets that ship inside installed packages, so they load with no network.

Each entry knows which package carries it, how to load it as a tidy pandas DataFrame and
which columns are the time, the targets and (for many series) the id. A loader whose
package is missing raises an error that names the install command. See
``rnnkit datasets list`` and ``rnnkit datasets export NAME``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from rnnkit.errors import DataError, unknown_name


@dataclass(frozen=True)
class DatasetInfo:
    """What a data set is and how to use it."""

    name: str
    package: str  # pip name of the package that ships it
    description: str
    loader: Callable[[], pd.DataFrame]
    time: str | None = None  # time column
    targets: tuple[str, ...] = ()  # columns to forecast / classify
    id: str | None = None  # series id column (long format)
    freq: str | None = None  # pandas frequency of the time column
    season: int | None = None  # seasonal period in steps
    kind: str = "series"  # "series", "classification" or "anomaly"
    extra: dict = field(default_factory=dict)


def _require(module: str, package: str):
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise DataError(f"this data set needs the package {package!r}, which is not installed "
                        f"(install it: pip install {package})") from err


def _seattle_weather() -> pd.DataFrame:
    return _require("vega_datasets", "vega_datasets").data.seattle_weather()


def _stocks() -> pd.DataFrame:
    return _require("vega_datasets", "vega_datasets").data.stocks()


def _seattle_temps() -> pd.DataFrame:
    return _require("vega_datasets", "vega_datasets").data.seattle_temps()


def _sf_temps() -> pd.DataFrame:
    return _require("vega_datasets", "vega_datasets").data.sf_temps()


def _co2() -> pd.DataFrame:
    sm = _require("statsmodels.api", "statsmodels")
    frame = sm.datasets.co2.load_pandas().data
    return frame.rename_axis("date").reset_index()


def _airline() -> pd.DataFrame:
    sktime_datasets = _require("sktime.datasets", "sktime")
    series = sktime_datasets.load_airline()
    return pd.DataFrame({"month": series.index.to_timestamp(), "passengers": series.to_numpy()})


REGISTRY: dict[str, DatasetInfo] = {
    info.name: info for info in [
        DatasetInfo("seattle-weather", "vega_datasets", "1461 daily rows 2012-2015: precipitation, "
                    "temp_max, temp_min, wind, weather label", _seattle_weather, time="date",
                    targets=("temp_max",), freq="D", season=7),
        DatasetInfo("stocks", "vega_datasets", "monthly prices of AAPL, AMZN, GOOG, IBM, MSFT "
                    "2000-2010, long format", _stocks, time="date", targets=("price",),
                    id="symbol", freq="MS", season=12),
        DatasetInfo("seattle-temps", "vega_datasets", "8759 hourly temperatures, Seattle 2010",
                    _seattle_temps, time="date", targets=("temp",), freq="h", season=24),
        DatasetInfo("sf-temps", "vega_datasets", "8759 hourly temperatures, San Francisco 2010",
                    _sf_temps, time="date", targets=("temp",), freq="h", season=24),
        DatasetInfo("co2", "statsmodels", "2284 weekly CO2 readings at Mauna Loa, with gaps",
                    _co2, time="date", targets=("co2",), freq="W-SAT", season=52),
        DatasetInfo("airline", "sktime", "144 monthly airline passenger counts 1949-1960",
                    _airline, time="month", targets=("passengers",), freq="MS", season=12),
    ]
}


def register(info: DatasetInfo) -> DatasetInfo:
    """Add a data set to the registry (used by the task modules for their own sets)."""
    REGISTRY[info.name] = info
    return info


def info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of ``name``; unknown names suggest the nearest."""
    if name not in REGISTRY:
        raise DataError(unknown_name("data set", name, REGISTRY) + " (see: rnnkit datasets list)")
    return REGISTRY[name]


def load(name: str) -> pd.DataFrame:
    """Load data set ``name`` as a DataFrame."""
    return info(name).loader()
