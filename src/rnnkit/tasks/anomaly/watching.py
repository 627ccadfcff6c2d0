"""Watch a stream of text lines, one time step per line: what ``rnnkit watch`` runs.

The first non-blank line decides the format:

* CSV: that line is the header and must name every channel the model was trained on
  (extra columns are ignored; the training time column, when present, is passed
  through to the events);
* JSON: every line is one object ``{"<channel>": number, ..., "<time>": "..."}``.

:func:`watch_lines` yields a :class:`~rnnkit.tasks.anomaly.scoring.StepResult` per scored
step (with the input ``line`` it came from) and a :class:`LineProblem` per line that
cannot be used: not a number, NaN or infinite, a missing channel, a wrong number of
CSV fields, bad JSON, a duplicate timestamp or one that goes back in time. A bad line
is not fed to the model. Problems that make the whole input unusable (it is empty, the
header lacks a channel, it ends before one step could be scored) raise
:class:`~rnnkit.errors.DataError`.
"""

from __future__ import annotations

import csv
import json
from collections import deque
from dataclasses import dataclass
from typing import Iterable, Iterator

import pandas as pd

from rnnkit.data.calendar import parse_times
from rnnkit.errors import DataError, nearest
from rnnkit.tasks.anomaly.scoring import StepResult


@dataclass(frozen=True)
class LineProblem:
    line: int  # 1-based input line number
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Watched:
    """A scored step and the input line it came from."""

    result: StepResult
    line: int

    def to_dict(self) -> dict:
        return {"line": self.line, **self.result.to_dict()}


def watch_lines(detector, lines: Iterable[str]) -> Iterator[Watched | LineProblem]:
    """Feed ``lines`` to a fresh ``detector.stream()``; see the module docstring."""
    channels, time_name = detector.columns_["channels"], detector.columns_["time"]
    stream, pending = detector.stream(), deque()  # input lines of steps not yet scored
    parse, last_time, seen = None, None, False
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        seen = True
        if parse is None and not text.lstrip().startswith("{"):
            parse = _csv_parser(text, channels, number)
            continue  # that line was the header
        parse = parse or _parse_json
        row = parse(text)
        if isinstance(row, str):
            yield LineProblem(number, row)
            continue
        stamp, problem = _timestamp(row.get(time_name), last_time)
        if problem:
            yield LineProblem(number, problem)
            continue
        try:
            result = stream.step(row, time=row.get(time_name))
        except DataError as err:
            yield LineProblem(number, str(err))
            continue
        last_time = stamp if stamp is not None else last_time
        pending.append(number)
        if result is not None:
            yield Watched(result, pending.popleft())
    if not seen:
        raise DataError("input is empty: no header and no data line (expected a CSV header naming "
                        f"{channels}, or one JSON object per line)")
    _check_scored(detector, stream)


def _check_scored(detector, stream) -> None:
    need, rule = detector.min_detect_length()
    if stream.steps < need:
        n = stream.steps
        raise DataError(f"input ended after {n} usable step{'' if n == 1 else 's'}; the detector "
                        f"needs at least {rule} = {need} to score one (send more steps, or use a "
                        "model with a smaller burn_in or window)")


def _parse_json(text: str) -> dict | str:
    """One JSON line as a dict, or the problem with it."""
    try:
        row = json.loads(text)
    except json.JSONDecodeError as err:
        return f"not valid JSON ({err.msg} at column {err.colno})"
    if not isinstance(row, dict):
        return f"expected a JSON object of channel values, got {type(row).__name__}"
    return row


def _csv_parser(header_line: str, channels, number: int):
    """A parser of the data lines under ``header_line``; the header must name each channel."""
    header = [h.strip() for h in next(csv.reader([header_line]))]
    for name in channels:
        if name not in header:
            guess = nearest(name, header)
            hint = f"did you mean {guess!r}? " if guess else ""
            raise DataError(f"CSV header (line {number}) has no column {name!r}; {hint}the model "
                            f"needs {channels}, the header has {header}")

    def parse(text: str) -> dict | str:
        fields = next(csv.reader([text]))
        if len(fields) != len(header):
            return f"expected {len(header)} CSV fields ({', '.join(header)}), got {len(fields)}"
        return dict(zip(header, fields))

    return parse


def _timestamp(value, last):
    """``(parsed time or None, problem or None)``: times, when given, must increase."""
    if value is None:
        return None, None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None, f"time {value!r} does not parse as a date (use ISO times, e.g. 2024-01-31 13:00)"
    try:  # inside pandas' datetime64[ns] range, as the time column the detector was fitted on
        parse_times([stamp], "time")
    except DataError as err:
        return None, str(err)
    if stamp is pd.NaT:
        return None, "time is missing"
    if last is not None and stamp == last:
        return None, f"duplicate timestamp {value} (the previous step has the same time)"
    if last is not None and stamp < last:
        return None, f"timestamp {value} goes back in time (previous step: {last})"
    return stamp, None
