"""Bad input gives a clear error from Python: an empty file, a missing or misspelled
column, non-numeric values, NaN, a series too short, duplicate timestamps — for fit,
detect and the stream."""

import numpy as np
import pandas as pd
import pytest

from rnnkit.errors import DataError
from rnnkit.tasks.anomaly import AnomalyDetector

TINY = dict(hidden_size=8, epochs=1, window=16, burn_in=4)


pytestmark = pytest.mark.usefixtures("one_thread")


def frame(n=200):
    t = np.arange(n)
    return pd.DataFrame({"date": pd.date_range("2022-01-01", periods=n, freq="D"),
                         "value": np.sin(t / 5.0), "other": np.cos(t / 7.0)})


@pytest.fixture(scope="module")
def fitted():
    return AnomalyDetector(**TINY).fit(frame(), time="date", columns=["value", "other"])


def fit(data, **columns):
    return AnomalyDetector(**TINY).fit(data, **{"time": "date", "columns": "value", **columns})


def test_empty_file(tmp_path, fitted):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="is empty"):
        fit(empty)
    with pytest.raises(DataError, match="is empty"):
        fitted.detect(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("date,value\n")
    with pytest.raises(DataError, match="data is empty: no rows"):
        fit(header_only)


def test_missing_or_misspelled_column(fitted):
    with pytest.raises(DataError, match="unknown data column 'valeu'; did you mean 'value'"):
        fit(frame(), columns="valeu")
    with pytest.raises(DataError, match="unknown data column 'dat'; did you mean 'date'"):
        fit(frame(), time="dat")
    with pytest.raises(DataError, match="data lacks the column 'other' that this AnomalyDetector was "
                                        "fitted with; the data has: date, value, othr"):
        fitted.detect(frame().rename(columns={"other": "othr"}))


def test_non_numeric_values():
    data = frame().astype({"value": object})
    data.loc[5, "value"] = "n/a?"
    with pytest.raises(DataError, match=r"column 'value': expected numbers, got \['n/a\?'\] in rows \[5\]"):
        fit(data)


def test_nan_values(fitted):
    data = frame()
    data.loc[7, "value"] = np.nan
    with pytest.raises(DataError, match=r"missing values in \['value'\] at 1 rows.*fill='interpolate'"):
        fit(data)
    with pytest.raises(DataError, match="missing values"):
        fitted.detect(data)
    AnomalyDetector(**TINY, fill="interpolate").fit(data, time="date", columns="value")  # the fix works


def test_series_too_short(fitted):
    with pytest.raises(DataError, match=r"fit: series length: expected >= window \+ 1 = 17 rows, got 10"):
        fit(frame(10))
    with pytest.raises(DataError, match=r"detect: series length: expected >= "
                                        r"max\(burn_in, horizons\) \+ 1 = 5 rows, got 4"):
        fitted.detect(frame(4))
    ae = AnomalyDetector(**TINY, method="autoencoder").fit(frame(), time="date", columns="value")
    with pytest.raises(DataError, match=r"detect: series length: expected >= window = 16 rows, got 12"):
        ae.detect(frame(12))


def test_duplicate_timestamps(fitted):
    data = frame()
    data.loc[3, "date"] = data.loc[2, "date"]
    with pytest.raises(DataError, match=r"duplicate timestamps: \['2022-01-03'\]"):
        fit(data)
    with pytest.raises(DataError, match="duplicate timestamps"):
        fitted.detect(data)


@pytest.mark.parametrize("values,message", [
    ({"value": 1.0}, r"missing channel 'other'; got keys \['value'\]"),
    ({"value": 1.0, "othr": 2.0},
     r"missing channel 'other'; got keys \['value', 'othr'\] \(did you mean 'othr'\?"),
    ({"value": "abc", "other": 1.0}, r"channel 'value': expected a number, got 'abc'"),
    ({"value": float("nan"), "other": 1.0}, r"channel 'value': expected a finite number, got nan"),
    ({"value": None, "other": 1.0}, r"channel 'value': expected a number, got None"),
    ([1.0], r"step values: expected 2 values for \['value', 'other'\], got 1 values"),
    (3.0, r"step values: expected 2 values"),
])
def test_stream_step_refuses_bad_values(fitted, values, message):
    stream = fitted.stream()
    with pytest.raises(DataError, match=message):
        stream.step(values)
    assert stream.steps == 0  # nothing was fed
    stream.step({"value": "0.5", "other": 1})  # numbers as text are fine
    stream.step([0.5, 1.0])
    assert stream.steps == 2


def test_labels_of_the_wrong_length(fitted):
    with pytest.raises(DataError, match=r"evaluate: labels: expected 200 values "
                                        r"\(one per row of data\), got 3"):
        fitted.evaluate(frame(), labels=[0, 1, 0])
    with pytest.raises(DataError, match="evaluate: start"):
        fitted.evaluate(frame(), labels=np.zeros(200), start=500)
