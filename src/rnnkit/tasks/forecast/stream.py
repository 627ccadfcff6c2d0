"""``Forecaster.stream()``: forecasts that follow a live series one observation at a time.

The forecaster's encoder reads a window of ``lookback`` steps from a zero state and the
guard's baselines read at most ``history_rows_`` steps, so a stream keeps the last
``history_rows_`` observations (a ring buffer) and re-encodes the window at each step: the
work per step is constant in the stream's length. Each ``step`` returns the same forecast
that ``predict`` gives for the history seen so far.
"""

from __future__ import annotations

from collections import deque

import pandas as pd

from rnnkit.data.calendar import parse_times
from rnnkit.errors import DataError, RnnkitError, problem


class ForecastStream:
    """Stateful forecasting of one series: ``step({"date": ..., "y": ...}) -> DataFrame | None``."""

    def __init__(self, forecaster) -> None:
        self.forecaster = forecaster
        c = forecaster.columns_
        if c["id"] is not None or c["static"]:
            raise DataError("Forecaster.stream() follows one series; a model trained with id= or "
                            "static covariates needs predict() on a table instead")
        self.columns = [c["time"], *c["targets"], *c["past"]]
        self.rows: deque = deque(maxlen=forecaster.history_rows_ + 2)

    def step(self, values: dict) -> pd.DataFrame | None:
        """Add one observation; return the next ``horizon`` steps' forecast, or None while
        fewer than ``lookback`` observations have arrived. A refused step (a time outside
        pandas' range, a forecast that would run past it, bad values) leaves the stream as
        it was."""
        missing = [k for k in self.columns if k not in values]
        if missing:
            raise DataError(problem("stream step", expected=f"values for {self.columns}",
                                    got=f"missing {missing}"))
        time = self.columns[0]
        parse_times([values[time]], f"stream step: time column {time!r}")  # in pandas' range
        dropped = self.rows[0] if len(self.rows) == self.rows.maxlen else None
        self.rows.append({k: values[k] for k in self.columns})
        if len(self.rows) < self.forecaster.lookback_:
            return None
        try:
            return self.forecaster.predict(pd.DataFrame(list(self.rows)))
        except RnnkitError:  # a refused step changes nothing: the next one starts from here
            self.rows.pop()
            if dropped is not None:
                self.rows.appendleft(dropped)
            raise
