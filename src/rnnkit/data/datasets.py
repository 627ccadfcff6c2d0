"""Real data sets that ship inside installed packages, so they load with no network.

Each entry knows which package carries it, how to load it as a tidy pandas DataFrame and
which columns are the time, the targets and (for many series) the id. A loader whose
package is missing raises an error that names the install command. :func:`export` writes a
set to the file layout its task reads (a CSV, unless the set has a writer of its own, such
as the text records of a language model or the generated speech corpus). The task modules
register their own sets (japanese-vowels, yahoo, fine-food, ding-de-en, chitchat, fortunes)
when imported. See ``rnnkit datasets list`` and ``rnnkit datasets export NAME``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
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
    kind: str = "series"  # "series", "classification", "anomaly" or the task name of a text/audio set
    extra: dict = field(default_factory=dict)
    writer: Callable[[Path], str] | None = None  # writes the set to a path, returns what it wrote
    suffix: str = ".csv"  # of the default export path, NAME + suffix ("" for a folder)

    @property
    def task(self) -> str:
        """The task this set trains (``forecast`` for plain series)."""
        return {"series": "forecast", "classification": "classify-series"}.get(self.kind, self.kind)


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


def _no_frame() -> pd.DataFrame:
    raise DataError("the speech corpus is generated, not loaded: write it with rnnkit datasets "
                    "make-speech OUT (or rnnkit.data.speech.make_speech_corpus(OUT)), then read "
                    "OUT/manifest.csv")


def _write_speech(path: Path) -> str:
    from rnnkit.data.speech import make_speech_corpus

    manifest = make_speech_corpus(path, progress=True)
    return f"wrote {len(manifest)} WAV files and {path / 'manifest.csv'}"


REGISTRY["speech"] = DatasetInfo(
    "speech", "espeak-ng flite sox (apt)", "synthetic spoken digits and commands; dev and test "
    "hold out whole voices. Export makes OUT/wav/ and OUT/manifest.csv in a few minutes "
    "(options: rnnkit datasets make-speech)", _no_frame, targets=("transcript",), kind="asr",
    writer=_write_speech, suffix="")


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


def export(name: str, path: str | Path | None = None) -> str:
    """Write data set ``name`` to ``path`` (default ``NAME`` + its suffix, e.g. ``NAME.csv``)
    in the layout its task reads; returns a line that says what was written."""
    entry = info(name)
    path = Path(path) if path is not None else Path(name + entry.suffix)
    if entry.writer is not None:
        return entry.writer(path)
    frame = entry.loader()
    frame.to_csv(path, index=False)
    return f"wrote {len(frame)} rows x {frame.shape[1]} columns to {path}"
