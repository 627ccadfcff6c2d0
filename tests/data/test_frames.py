"""Tables to series: every bad input gets a clear error naming the problem and the fix."""

import numpy as np
import pandas as pd
import pytest

from rnnkit.data.frames import read_series
from rnnkit.errors import DataError


def daily(n=30, **cols):
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D"),
                          "y": np.arange(n, dtype=float)})
    for k, v in cols.items():
        frame[k] = v
    return frame


def test_regular_series_reads():
    s = read_series(daily(), time="date", targets=["y"])
    assert s.freq == "D" and len(s) == 1 and s.values[0].shape == (30, 1)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="is empty"):
        read_series(path, time="date", targets=["y"])
    header_only = tmp_path / "header.csv"
    header_only.write_text("date,y\n")
    with pytest.raises(DataError, match="data is empty: no rows"):
        read_series(header_only, time="date", targets=["y"])


def test_misspelled_column_suggests_nearest():
    with pytest.raises(DataError, match="unknown data column 'temp_mx'; did you mean 'temp_max'"):
        read_series(daily(temp_max=1.0), time="date", targets=["temp_mx"])


def test_non_numeric_values_name_rows():
    frame = daily()
    frame["y"] = frame["y"].astype(object)
    frame.loc[4, "y"] = "n/a"
    with pytest.raises(DataError, match=r"column 'y': expected numbers, got \['n/a'\] in rows \[4\]"):
        read_series(frame, time="date", targets=["y"])


def test_missing_values_name_rows_and_options():
    frame = daily()
    frame.loc[[3, 7], "y"] = np.nan
    with pytest.raises(DataError, match=r"missing values in \['y'\] at 2 rows, first \['2024-01-04.*fill='interpolate'"):
        read_series(frame, time="date", targets=["y"])
    s = read_series(frame, time="date", targets=["y"], fill="interpolate")
    assert s.values[0][3, 0] == pytest.approx(3.0)


def test_duplicate_timestamps():
    frame = pd.concat([daily(), daily().iloc[[5]]])
    with pytest.raises(DataError, match=r"duplicate timestamps: \['2024-01-06"):
        read_series(frame, time="date", targets=["y"])


def test_irregular_timestamps_suggest_freq():
    frame = daily().drop(index=[10, 11])
    with pytest.raises(DataError, match=r"irregular timestamps: most steps are 1 days.*2024-01-13.*freq="):
        read_series(frame, time="date", targets=["y"])
    s = read_series(frame, time="date", targets=["y"], freq="D", fill="interpolate")
    assert len(s.values[0]) == 30


def test_unparseable_time_column():
    frame = daily()
    frame["date"] = ["yesterday"] * 30
    with pytest.raises(DataError, match="time column 'date' does not parse as dates"):
        read_series(frame, time="date", targets=["y"])


def test_many_series_by_id():
    a, b = daily(id="a"), daily(id="b")
    b["y"] *= 10
    s = read_series(pd.concat([a, b]), time="date", targets=["y"], id="id")
    assert s.ids == ["a", "b"] and s.values[1][-1, 0] == 290.0
