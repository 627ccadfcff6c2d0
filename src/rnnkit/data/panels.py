"""Panels: many whole series, each a ``(T_i, C)`` array with one label — the input of series
classification.

* :func:`load_panel` loads a classification set that ships inside ``sktime`` as
  ``(series, labels)``: a list of ``(T_i, C)`` float arrays and an array of labels, with
  the archive's own train / test split (JapaneseVowels, BasicMotions, ItalyPowerDemand).
  The sets are also in the data-set registry (``rnnkit datasets list``), kind
  ``"classification"``, as one long table (:func:`panel_frame`).
* :func:`from_sktime` converts sktime's layouts (nested DataFrame, ``numpy3D`` ``(N, C, T)``)
  to a list of ``(T_i, C)`` arrays; :func:`panel_from_frame` reads a long table back.
* :class:`ChannelScaler` standardises each channel, ``z = (x - mean_c) / scale_c``, with
  the mean and spread of all steps of all training series: fit it on the training split
  only, then transform both splits with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from rnnkit.data import datasets
from rnnkit.data.datasets import DatasetInfo
from rnnkit.errors import DataError, problem, unknown_name

SPLITS = ("train", "test")

# registry name -> (sktime loader, description)
PANELS = {
    "japanese-vowels": ("load_japanese_vowels", "640 utterances of /ae/ by 9 speakers, 12 LPC "
                        "cepstrum channels, 7-29 steps (variable); label: speaker; 270 train / 370 test"),
    "basic-motions": ("load_basic_motions", "80 smartwatch recordings, 6 channels (accelerometer, "
                      "gyroscope) x 100 steps; label: standing/running/walking/badminton; 40 / 40"),
    "italy-power-demand": ("load_italy_power_demand", "1096 days of Italian power demand, 1 "
                           "channel x 24 hours; label: winter (1) or summer (2); 67 / 1029"),
}


def from_sktime(X) -> list[np.ndarray]:
    """sktime panel -> list of ``(T_i, C)`` float64 arrays.

    Accepts a nested DataFrame (one column per channel, a Series per cell; lengths may
    vary between series) or a ``numpy3D`` array ``(N, C, T)``.
    """
    if isinstance(X, np.ndarray):
        if X.ndim != 3:
            raise DataError(problem("from_sktime: X", expected="a numpy3D array (N, C, T)",
                                    got=f"{X.ndim} dims"))
        return [np.ascontiguousarray(x.T, dtype=np.float64) for x in X]  # (T, C) each
    if isinstance(X, pd.DataFrame):
        return [np.stack([np.asarray(X.iat[i, c], dtype=np.float64) for c in range(X.shape[1])],
                         axis=1) for i in range(len(X))]  # (T_i, C) each
    raise DataError(problem("from_sktime: X", expected="a nested DataFrame or a numpy3D array",
                            got=type(X).__name__))


def load_panel(name: str, split: str = "train") -> tuple[list[np.ndarray], np.ndarray]:
    """``(series, labels)`` of split ``"train"`` or ``"test"`` of panel ``name``, raw (not scaled).

    >>> series, labels = load_panel("japanese-vowels", "train")
    >>> len(series), series[0].shape, labels[0]
    (270, (20, 12), '1')
    """
    if name not in PANELS:
        raise DataError(unknown_name("panel", name, PANELS) + " (see: rnnkit datasets list)")
    if split not in SPLITS:
        raise DataError(unknown_name("split", str(split), SPLITS))
    module = datasets._require("sktime.datasets", "sktime")
    loader = getattr(module, PANELS[name][0])
    X, y = loader(split=split, return_type="nested_univ")  # numpy3D fails on variable lengths
    return from_sktime(X), np.asarray(y)


def panel_frame(name: str) -> pd.DataFrame:
    """Both splits of panel ``name`` as one long table: ``split, series, step, dim_0..dim_{C-1},
    label`` (one row per step; ``series`` numbers train then test)."""
    columns: dict[str, list] = {"split": [], "series": [], "step": [], "values": [], "label": []}
    offset = 0
    for split in SPLITS:
        series, labels = load_panel(name, split)
        lengths = np.array([len(s) for s in series])
        columns["split"].append(np.repeat(split, lengths.sum()))
        columns["series"].append(np.repeat(np.arange(offset, offset + len(series)), lengths))
        columns["step"].append(np.concatenate([np.arange(n) for n in lengths]))
        columns["values"].append(np.concatenate(series))  # (sum T_i, C)
        columns["label"].append(np.repeat(labels, lengths))
        offset += len(series)
    values = np.concatenate(columns.pop("values"))
    frame = pd.DataFrame({k: np.concatenate(v) for k, v in columns.items() if k != "label"})
    for c in range(values.shape[1]):
        frame[f"dim_{c}"] = values[:, c]
    frame["label"] = np.concatenate(columns["label"])
    return frame


def panel_from_frame(frame: pd.DataFrame, *, id: str = "series", label: str | None = "label",
                     time: str | None = "step", channels: Sequence[str] | None = None
                     ) -> tuple[list[np.ndarray], np.ndarray | None]:
    """A long table (one row per step) -> ``(series, labels)``, in order of first appearance.

    ``channels`` default to every column but ``id``, ``label``, ``time`` and ``split``;
    rows are ordered by ``time`` within a series when given. ``labels`` is None without a
    label column.
    """
    missing = [c for c in (id, label, time) if c is not None and c not in frame.columns]
    if missing:
        raise DataError(unknown_name("column", missing[0], frame.columns))
    skip = {id, label, time, "split"}
    channels = list(channels) if channels is not None else [c for c in frame.columns if c not in skip]
    groups = frame.groupby(id, sort=False)
    series, labels = [], []
    for key, group in groups:
        group = group.sort_values(time, kind="stable") if time is not None else group
        series.append(group[channels].to_numpy(dtype=np.float64))
        if label is not None:
            values = group[label].unique()
            if len(values) != 1:
                raise DataError(problem(f"panel_from_frame: series {key!r} label", expected="one label "
                                        "per series", got=f"{len(values)} labels {list(values)[:5]}"))
            labels.append(values[0])
    return series, (np.asarray(labels) if label is not None else None)


@dataclass
class ChannelScaler:
    """Per-channel standardisation: ``mean`` and ``scale`` of shape ``(C,)``, pooled over
    every step of every series it was fitted on. A constant channel gets scale 1."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, series: Sequence[np.ndarray]) -> "ChannelScaler":
        steps = np.concatenate([np.asarray(s, dtype=np.float64) for s in series], axis=0)  # (sum T_i, C)
        mean, scale = steps.mean(axis=0), steps.std(axis=0)
        scale = np.where(scale > 1e-12 * (1 + np.abs(mean)), scale, 1.0)
        return cls(mean, scale)

    def transform(self, series: Sequence[np.ndarray], dtype=np.float32) -> list[np.ndarray]:
        return [((np.asarray(s, dtype=np.float64) - self.mean) / self.scale).astype(dtype)
                for s in series]

    def inverse(self, series: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(s, dtype=np.float64) * self.scale + self.mean for s in series]

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "ChannelScaler":
        return cls(np.asarray(d["mean"], dtype=np.float64), np.asarray(d["scale"], dtype=np.float64))


def _register() -> None:
    for name, (_, description) in PANELS.items():
        datasets.register(DatasetInfo(
            name, "sktime", description, loader=lambda name=name: panel_frame(name),
            time="step", targets=("label",), id="series", kind="classification",
            extra={"load_panel": lambda split="train", name=name: load_panel(name, split)}))


_register()
