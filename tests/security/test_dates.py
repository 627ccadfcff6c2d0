"""Dates at the edges of pandas' datetime64[ns] range (issue 22, item 5).

pandas represents 1677-09-21 00:12:43 .. 2262-04-11 23:47:16; past either end numpy's
parser and int64 arithmetic wrap around silently. Each path that parses timestamps
(fit, predict, read, stream steps, the server's array path, the anomaly detector's time
column) or extends them (the forecast's future index) must refuse such a time with one
DataError line that names the column, the value and the range, and must never answer with
timestamps that wrapped around to the other end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rnnkit
from rnnkit.data import calendar
from rnnkit.errors import DataError
from rnnkit.tasks.anomaly.watching import LineProblem, watch_lines
from rnnkit.tasks.forecast import arrays, backtest as bt

H = 3
RANGE = ("1677-09-21 00:12:44", "2262-04-11 23:47:16")
TINY = dict(lookback=7, horizon=H, hidden_size=4, epochs=1, batch_size=64, progress="none", seed=0,
            ensemble=1)


def frame(start=None, end=None, n=30) -> pd.DataFrame:
    times = pd.date_range(start=start, end=end, periods=n if start is None or end is None else None,
                          freq="D")
    return pd.DataFrame({"date": [str(t.date()) for t in times],
                         "y": 10 + np.sin(np.arange(len(times)))})


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def assert_names_range(message: str) -> None:
    assert RANGE[0] in message and RANGE[1] in message


@pytest.fixture(scope="module")
def late_model():
    """Fitted on 30 days that end 2262-03-31: its forecasts end 2262-04-03."""
    return rnnkit.Forecaster(**TINY).fit(frame(end="2262-03-31"), time="date", target="y")


@pytest.fixture(scope="module")
def early_model():
    """Fitted on 30 days from 1677-09-22, the first whole day pandas represents."""
    return rnnkit.Forecaster(**TINY).fit(frame(start="1677-09-22"), time="date", target="y")


# ---- the start of the range -------------------------------------------------------------
def test_fit_refuses_a_row_before_the_range_naming_column_value_and_range():
    with pytest.raises(DataError) as err:
        rnnkit.Forecaster(**TINY).fit(frame(start="1677-09-20"), time="date", target="y")
    message = one_line(err)
    assert message.startswith("time column 'date', row 0:")
    assert "got '1677-09-20' and 1 more outside it" in message  # 09-20 and 09-21 00:00
    assert_names_range(message)


def test_a_series_from_the_first_whole_day_fits_and_forecasts_forward(early_model):
    out = early_model.predict(frame(start="1677-09-22"))
    assert list(out["date"]) == list(pd.date_range("1677-10-22", periods=H, freq="D"))
    assert early_model.train_end_ == {"None": "1677-10-21 00:00:00"}


def test_calendar_features_at_the_start_of_the_range_do_not_wrap():
    times = pd.DatetimeIndex(["1677-09-22", "1677-12-31", "2024-09-22"])
    feats = calendar.calendar_features(times, "D")  # dayofweek, dayofyear as sin/cos
    expected_doy = np.array([264, 364, 265])  # 0-based day of the year (2024 is a leap year)
    angle = 2 * np.pi * expected_doy / 365.25
    np.testing.assert_allclose(feats[:, 2], np.sin(angle), atol=1e-6)
    assert times.dayofweek.tolist() == [2, 4, 6]  # Wednesday, Friday, Sunday
    np.testing.assert_allclose(feats[:, 0], np.sin(2 * np.pi * np.array([2, 4, 6]) / 7), atol=1e-6)


# ---- the end of the range ---------------------------------------------------------------
def test_a_forecast_that_reaches_the_last_whole_day_is_answered_without_wrapping(late_model):
    out = late_model.predict(frame(end="2262-04-08"))
    assert list(out["date"]) == list(pd.date_range("2262-04-09", periods=H, freq="D"))
    assert out["date"].is_monotonic_increasing and (out["date"].dt.year == 2262).all()


@pytest.mark.parametrize("end", ["2262-04-09", "2262-04-10", "2262-04-11"])
def test_a_forecast_that_would_pass_the_end_is_refused(late_model, end):
    with pytest.raises(DataError) as err:
        late_model.predict(frame(end=end))
    message = one_line(err)
    assert message.startswith(f"input ends at {end} 00:00:00; a horizon of {H} steps of 'D' "
                              "would end after 2262-04-11 23:47:16")
    assert "expected input that ends by 2262-04-08 23:47:16" in message
    assert "forecast fewer steps" in message


def test_predict_and_read_refuse_a_row_after_the_range(late_model):
    data = frame(end="2262-04-12")
    for call in (late_model.predict, late_model.read):
        with pytest.raises(DataError) as err:
            call(data)
        message = one_line(err)
        assert message.startswith("time column 'date', row 29:") and "got '2262-04-12'" in message
        assert_names_range(message)


def test_forecast_table_refuses_a_future_past_the_end(late_model):
    series = late_model.read(frame(end="2262-04-10"))  # reading alone is fine: all in range
    T = len(series.values[0])
    zeros = bt.Forecasts(np.zeros((1, H, 1)), None, None)
    with pytest.raises(DataError, match=r"^input ends at 2262-04-10 00:00:00; a horizon of 3"):
        late_model.forecast_table(series, [(0, T)], zeros)
    table = late_model.forecast_table(series, [(0, T - 2)], zeros)  # origin two days earlier
    assert table["date"].iloc[-1] == pd.Timestamp("2262-04-11")


def test_stream_steps_at_the_end_are_refused_not_wrapped(late_model):
    stream = late_model.stream()
    rows = frame(end="2262-04-08", n=7)
    for row in rows.to_dict("records"):
        out = stream.step(row)
    assert out["date"].iloc[-1] == pd.Timestamp("2262-04-11")
    before = list(stream.rows)
    with pytest.raises(DataError, match=r"^input ends at 2262-04-09 00:00:00; a horizon of 3"):
        stream.step({"date": "2262-04-09", "y": 10.0})
    assert list(stream.rows) == before  # the refused step changed nothing
    with pytest.raises(DataError) as err:
        late_model.stream().step({"date": "2262-04-12", "y": 10.0})  # refused on arrival
    message = one_line(err)
    assert message.startswith("stream step: time column 'date': expected times from 1677")
    assert "got '2262-04-12'" in message


# ---- the server's array path (JSON instances and session steps) --------------------------
@pytest.mark.parametrize("stamp", ["2262-04-12", "2262-04-11T23:47:17", "1677-09-20",
                                   "1677-09-21T00:12:43", "3000-01-01", "2262-04-12T00:00:00+00:00"])
def test_parsing_json_times_refuses_stamps_numpy_would_wrap(stamp):
    with pytest.raises(DataError) as err:
        arrays.parse_times(["2024-01-01T00:00:00" + stamp[19:], stamp], "step")  # same zone
    message = one_line(err)
    assert message.startswith("step: time[1]:") and f"got {stamp!r}" in message
    assert_names_range(message)


def test_parsing_json_times_keeps_the_edges_and_nanoseconds():
    stamps = ["1677-09-21T00:12:44", "2024-01-01T00:00:00.123456789", "2262-04-11T23:47:16"]
    times = arrays.parse_times(stamps, "instance")
    assert [str(t) for t in times] == ["1677-09-21 00:12:44", "2024-01-01 00:00:00.123456789",
                                       "2262-04-11 23:47:16"]


def test_an_array_history_whose_forecast_would_pass_the_end_is_refused(late_model):
    ok = frame(end="2262-04-08", n=7)
    history = arrays.history(late_model, time=list(ok["date"]), values={"y": list(ok["y"])})
    (answer,) = arrays.forecast_many(late_model, [history])
    assert answer.times[-1] == pd.Timestamp("2262-04-11")
    late = frame(end="2262-04-10", n=7)
    history = arrays.history(late_model, time=list(late["date"]), values={"y": list(late["y"])})
    with pytest.raises(DataError, match=r"^input ends at 2262-04-10 00:00:00; a horizon of 3"):
        arrays.forecast_many(late_model, [history])
    with pytest.raises(DataError, match=r"^instance: time\[6\]: expected times from 1677"):
        arrays.history(late_model, time=list(frame(end="2262-04-12", n=7)["date"]),
                       values={"y": [1.0] * 7}, where="instance")


# ---- the public helpers ------------------------------------------------------------------
@pytest.mark.parametrize("last, freq, steps, end", [
    ("2262-04-10", "D", 1, "2262-04-11"),
    ("2262-04-11 22:00", "h", 1, "2262-04-11 23:00"),
    ("2262-01-01", "MS", 3, "2262-04-01"),
    ("2262-04-11 23:47:16.854775806", "ns", 1, "2262-04-11 23:47:16.854775807"),
])
def test_future_times_up_to_the_last_representable_time(last, freq, steps, end):
    times = calendar.future_times(pd.Timestamp(last), freq, steps)
    assert len(times) == steps and times[-1] == pd.Timestamp(end)


@pytest.mark.parametrize("last, freq, steps", [
    ("2262-04-11", "D", 1), ("2262-04-11 23:00", "h", 1), ("2262-01-01", "MS", 4),
    ("2262-04-11 23:47:16.854775807", "ns", 1), ("2024-01-01", "D", 10**6),
    ("2262-04-11 00:00+00:00", "h", 24),
])
def test_future_times_past_the_end_is_a_data_error(last, freq, steps):
    with pytest.raises(DataError) as err:
        calendar.future_times(pd.Timestamp(last), freq, steps)
    assert f"a horizon of {steps} steps of {freq!r} would end after 2262-04-11 23:47:16" in one_line(err)


def test_a_time_that_does_not_parse_is_one_line_too():
    with pytest.raises(DataError) as err:
        arrays.parse_times(["2024-01-01+00:00"], "step")
    assert one_line(err).startswith("step: time: expected ISO timestamps such as 2024-01-31, got ")


def test_parse_times_of_a_table_names_the_row_label():
    values = pd.Series(["2024-01-01", "1677-09-20"], index=["a", "b"])
    with pytest.raises(DataError, match=r"^time column 'when', row 'b': expected times from"):
        calendar.parse_times(values, "time column 'when'")


# ---- the anomaly detector's time column -----------------------------------------------------
def test_anomaly_detector_refuses_times_outside_the_range_and_watch_skips_such_a_line():
    detector = rnnkit.AnomalyDetector(hidden_size=4, epochs=1, window=16, progress="none")
    with pytest.raises(DataError) as err:
        detector.fit(frame(end="2262-04-12", n=60), time="date", columns="y")
    message = one_line(err)
    assert message.startswith("time column 'date', row 59:") and "got '2262-04-12'" in message
    detector.fit(frame(end="2262-03-01", n=60), time="date", columns="y")
    lines = [f'{{"date": "{t.date()}", "y": 10.0}}' for t in pd.date_range(end="2262-04-11", periods=15)]
    lines.insert(14, '{"date": "2262-04-12", "y": 10.0}')  # refused, then the series goes on
    problems = [str(p) for p in watch_lines(detector, lines) if isinstance(p, LineProblem)]
    assert len(problems) == 1 and problems[0].startswith("line 15: time: expected times from 1677")
    assert "got 2262-04-12 00:00:00" in problems[0]
