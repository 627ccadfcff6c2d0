"""Detection output as tables: one row per point and one row per anomaly range.

A range is a maximal run of flagged points ``[start, end]``; its ``score`` is the peak
score in the run and its ``channels`` are the fewest channels whose mean share of the
smoothed squared error over the run adds up to one half (largest first), so a range
driven by one channel names that channel.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from rnnkit.tasks.anomaly.runs import runs
from rnnkit.tasks.anomaly.scoring import ScoreArrays, drivers

RANGE_COLUMNS = ["start", "end", "start_index", "end_index", "length", "score", "channels"]


class Detection(NamedTuple):
    """``points``: per-point scores and flags; ``ranges``: one row per anomaly range.
    Unpacks as ``points, ranges = detector.detect(data)``."""

    points: pd.DataFrame
    ranges: pd.DataFrame


def points_frame(times, time_name: str, channels, s: ScoreArrays) -> pd.DataFrame:
    """Columns: the time, ``score``, ``threshold``, ``anomaly`` and ``<channel>_share``."""
    frame = pd.DataFrame({time_name: times, "score": s.score, "threshold": s.threshold,
                          "anomaly": s.anomaly})
    for k, name in enumerate(channels):
        frame[f"{name}_share"] = s.shares[:, k]
    return frame


def ranges_frame(times, channels, s: ScoreArrays) -> pd.DataFrame:
    """One row per run of flagged points: start/end time and index, length, peak score,
    driving channels."""
    rows = []
    for a, b in runs(s.anomaly):
        mean_shares = np.nanmean(s.shares[a:b + 1], axis=0)  # (C,)
        rows.append({"start": times[a], "end": times[b], "start_index": int(a), "end_index": int(b),
                     "length": int(b - a + 1), "score": float(np.max(s.score[a:b + 1])),
                     "channels": list(drivers(mean_shares, list(channels)))})
    return pd.DataFrame(rows, columns=RANGE_COLUMNS)
