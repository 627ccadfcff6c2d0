"""``AnomalyDetector``: fit, detect, stream, evaluate (against baselines), save and load.

>>> import rnnkit
>>> from rnnkit.data import datasets
>>> df = datasets.load("yahoo")
>>> det = rnnkit.AnomalyDetector(hidden_size=32, epochs=5)
>>> det = det.fit(df.iloc[:400], time="timestamp", columns="value")
>>> points, ranges = det.detect(df)          # per-point scores and flags; anomaly ranges
>>> result = det.evaluate(df, labels="label", start=400)
>>> stream = det.stream()                    # one step at a time, same scores as detect

Prediction-error detection with nonparametric dynamic thresholding (Hundman et al. 2018):
a recurrent network (any ``rnnkit.nn`` layer and option) predicts each step from its state
(``method="predict"``) or reconstructs windows (``method="autoencoder"``); the normalized
errors are smoothed and compared with a threshold searched over recent errors (see
:mod:`~rnnkit.tasks.anomaly.scoring` and :mod:`~rnnkit.tasks.anomaly.threshold`).

It stands on the estimator core (:class:`~rnnkit.tasks.core.Estimator`): scikit-learn's
contract, the model-file template and the shared training settings. A server or any
caller that holds a series as an array scores it with :meth:`AnomalyDetector.detect_arrays`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnkit.data.frames import SeriesSet, check_columns, read_series, read_table
from rnnkit.data.scaling import SeriesScaler
from rnnkit.errors import BundleError, DataError, problem
from rnnkit.tasks.anomaly import evaluation as ev
from rnnkit.tasks.anomaly.config import AnomalyConfig
from rnnkit.tasks.anomaly.model import build, scoring_copy
from rnnkit.tasks.anomaly.ranges import Detection, points_frame, ranges_frame
from rnnkit.tasks.anomaly.residuals import normalize, prediction_residuals, reconstruction_residuals, unscored_prefix
from rnnkit.tasks.anomaly.scoring import ScoreTracker
from rnnkit.tasks.anomaly.stream import AnomalyStream, AutoencoderStream, PredictorStream
from rnnkit.tasks.anomaly.threshold import Threshold, dynamic_threshold
from rnnkit.tasks.anomaly.training import train
from rnnkit.tasks.core import BundleParts, Estimator, finite_numbers, require, unique_names
from rnnkit.tasks.core.checks import FREQUENCY, is_frequency
from rnnkit.tasks.core.file_check import EDITED
from rnnkit.tasks.registry import register_task


@register_task("anomaly")
class AnomalyDetector(Estimator):
    """Recurrent anomaly detector for one regular, multivariate series (see
    ``AnomalyConfig`` for every setting)."""

    Config = AnomalyConfig
    FIT_CALL = "fit(data, time=..., columns=...)"
    FILE_CONFIG = {"columns": dict}
    FILE_PREPROCESSING = {"mean": list, "std": list, "error_scale": list, "threshold": dict,
                          "freq": (str, type(None)), "n_train": int}
    TENSOR_PREFIX = ""

    def __init__(self, method: str = "predict", cell: str = "lstm", **settings) -> None:
        super().__init__(method=method, cell=cell, **settings)

    # ---- fitting ----------------------------------------------------------------------------
    def fit(self, data, *, time: str, columns: str | list[str], out_dir: str | Path | None = None
            ) -> "AnomalyDetector":
        """Train on ``data`` (DataFrame or CSV/Parquet path) whose ``columns`` are the
        channels and ``time`` the timestamps; returns ``self``.

        The series should be mostly normal: the model learns what normal looks like, and
        the first threshold is searched over its errors on this data.
        """
        cfg = self.config
        cfg.validate()
        channels = [columns] if isinstance(columns, str) else list(columns)
        if not channels or len(set(channels)) != len(channels):
            raise DataError(problem("fit: columns", expected="one or more distinct channel columns",
                                    got=channels))
        self.columns_ = {"time": time, "channels": channels}
        series = self._read(data, cfg.freq)
        values, self.freq_ = series.values[0], series.freq
        self._check_length(len(values), cfg.window + 1, "window + 1", "fit")
        scaler = SeriesScaler.fit([values])
        self.mean_, self.std_ = scaler.mean[0], scaler.scale[0]  # (C,) training statistics
        x = self._scale(values)
        torch.manual_seed(cfg.seed)
        net = build(cfg.method, len(channels), cfg)
        self.history_ = train(net, x, cfg, out_dir)
        net = net.cpu().eval()
        self._scorer = scoring_copy(net)
        self._calibrate(x)
        self.n_train_ = len(values)
        self.model_ = net  # last: the detector counts as fitted from here on
        return self

    def _calibrate(self, x: np.ndarray) -> None:
        """From the errors on the (scaled) training series: the error scales ``σ`` ``(K, C)``
        (RMS per horizon and channel) and the threshold a fresh stream starts with (the
        search over the last ``buffer_size`` training scores)."""
        cfg = self.config
        raw = self._residuals(x)  # (T, K, C)
        rms = np.sqrt(np.nanmean(raw ** 2, axis=0))
        self.error_scale_ = np.where(rms > 1e-12, rms, 1.0)
        never = Threshold(math.inf, cfg.z_max, -math.inf, 0, 0)  # the scores do not depend on it
        scores = self._tracker(never).push_many(normalize(raw, self.error_scale_)).score
        scores = scores[~np.isnan(scores)][-cfg.buffer_size:]
        self.threshold_ = dynamic_threshold(scores, cfg.z_values, cfg.min_decrease)

    def _read(self, data, freq: str | None, extra: list[str] = (), fitted: bool = False) -> SeriesSet:
        """The validated series: channels as ``values[0]`` ``(T, C)``, ``extra`` columns (the
        caller's, such as a label column) as ``past[0]``; ``fitted``: read for this fitted
        model (a missing time or channel column is the model's)."""
        c = self.columns_
        if fitted and extra:  # the caller's column (labels): a misspelling gets the nearest name
            data = read_table(data)
            check_columns(data, list(extra), "labels")
        return read_series(data, time=c["time"], targets=c["channels"], past=list(extra),
                           freq=freq, fill=self.config.fill,
                           model="AnomalyDetector" if fitted else None)

    def _check_length(self, T: int, need: int, rule: str, what: str) -> None:
        if T < need:
            raise DataError(problem(f"{what}: series length", expected=f">= {rule} = {need} rows",
                                    got=T, fix="use a smaller window or burn_in, or more data"))

    def _scale(self, values: np.ndarray) -> np.ndarray:
        return (values - self.mean_) / self.std_

    def _residuals(self, x: np.ndarray) -> np.ndarray:
        """Raw residuals ``(T, K, C)`` of the scaled series ``x``."""
        cfg = self.config
        if cfg.method == "predict":
            return prediction_residuals(self._scorer, x, cfg.burn_in)
        return reconstruction_residuals(self._scorer, x, cfg.window)

    def _tracker(self, initial: Threshold | None = None) -> ScoreTracker:
        cfg = self.config
        return ScoreTracker(self.columns_["channels"], alpha=cfg.alpha,
                            initial=initial or self.threshold_, z_values=cfg.z_values,
                            min_decrease=cfg.min_decrease, buffer_size=cfg.buffer_size,
                            update_every=cfg.update_every, min_history=cfg.min_history)

    # ---- using ------------------------------------------------------------------------------
    def min_detect_length(self) -> tuple[int, str]:
        """The fewest steps a series needs for one scored point, and the rule as text:
        ``max(burn_in, horizons) + 1`` (predict) or ``window`` (autoencoder)."""
        cfg = self.config
        if cfg.method == "predict":
            return unscored_prefix(cfg.burn_in, cfg.horizons) + 1, "max(burn_in, horizons) + 1"
        return cfg.window, "window"

    def detect(self, data) -> Detection:
        """Score every point of ``data`` as a stream would, starting from a fresh state.

        Returns ``Detection(points, ranges)``: ``points`` has one row per step (time,
        ``score``, ``threshold``, ``anomaly``, ``<channel>_share``); ``ranges`` one row per
        anomaly (start, end, start_index, end_index, length, peak score, channels).
        """
        self.check_fitted()
        series = self._read(data, self.freq_, fitted=True)
        return self.detect_arrays(series.values[0], series.times[0])

    def detect_arrays(self, values: np.ndarray, index) -> Detection:
        """:meth:`detect` on a series already read: ``values`` ``(T, C)`` in data units, the
        channels in the order of ``columns_["channels"]``, finite; ``index`` ``(T,)`` the
        labels of the steps (timestamps, or positions ``0..T-1``) for the time column and
        the ranges' start and end. ``T`` must be at least :meth:`min_detect_length`."""
        self.check_fitted()
        values = np.asarray(values, dtype=np.float64)
        C = len(self.columns_["channels"])
        if values.ndim != 2 or values.shape[1] != C:
            raise DataError(problem("detect: values", expected=f"a (T, {C}) array, one column per "
                                    f"channel of {self.columns_['channels']}", got=f"shape {values.shape}"))
        if not np.isfinite(values).all():
            raise DataError(problem("detect: values", expected="finite numbers", got="NaN or inf",
                                    fix="fill the gaps first"))
        if len(index) != len(values):
            raise DataError(problem("detect: index", expected=f"{len(values)} labels (one per row "
                                    "of values)", got=len(index)))
        need, rule = self.min_detect_length()
        self._check_length(len(values), need, rule, "detect")
        r = normalize(self._residuals(self._scale(values)), self.error_scale_)  # (T, C)
        s = self._tracker().push_many(r)
        channels = self.columns_["channels"]
        return Detection(points_frame(index, self.columns_["time"], channels, s),
                         ranges_frame(index, channels, s))

    def predict(self, data) -> pd.DataFrame:
        """The per-point table of :meth:`detect` (what ``rnnkit predict`` prints)."""
        return self.detect(data).points

    def stream(self) -> AnomalyStream:
        """A fresh stateful scorer: ``stream.step(values)`` per time step (see
        :mod:`rnnkit.tasks.anomaly.stream`)."""
        self.check_fitted()
        cfg = self.config
        args = (self._scorer, self._tracker(), self.columns_["channels"], self.mean_, self.std_,
                self.error_scale_)
        if cfg.method == "predict":
            return PredictorStream(*args, burn_in=cfg.burn_in)
        return AutoencoderStream(*args, window=cfg.window)

    def evaluate(self, data, *, labels, start=0, baselines=ev.DEFAULT_BASELINES) -> ev.AnomalyEvaluation:
        """Score the detector and the baselines against ``labels`` (a 0/1 column of
        ``data`` or an array of its length) on the points from ``start`` (a row position
        or a timestamp) on; see :mod:`rnnkit.tasks.anomaly.evaluation`."""
        self.check_fitted()
        series = self._read(data, self.freq_, [labels] if isinstance(labels, str) else [], fitted=True)
        values, times = series.values[0], series.times[0]
        if isinstance(labels, str):
            y = series.past[0][:, 0] > 0.5
        else:
            y = np.asarray(labels).astype(bool).ravel()
            if len(y) != len(values):
                raise DataError(problem("evaluate: labels", expected=f"{len(values)} values (one "
                                        "per row of data)", got=len(y)))
        first = self._position(start, times)
        detection = self.detect_arrays(values, times)
        table, flags = ev.score_table(values, y, detection.points["anomaly"].to_numpy(), first,
                                      baselines)
        self.metrics_ = table.to_dict(orient="index")
        return ev.AnomalyEvaluation(table, detection, y, first, flags)

    @staticmethod
    def _position(start, times) -> int:
        if isinstance(start, (int, np.integer)) and not isinstance(start, bool):
            if not 0 <= start < len(times):
                raise DataError(problem("evaluate: start", expected=f"a row in [0, {len(times)})",
                                        got=start))
            return int(start)
        try:
            return int(times.searchsorted(pd.Timestamp(start)))
        except (TypeError, ValueError) as err:
            raise DataError(problem("evaluate: start", expected="a row position or a timestamp",
                                    got=repr(start))) from err

    def _automatic_settings(self) -> dict:
        return {"freq": self.freq_}

    # ---- persistence ------------------------------------------------------------------------
    def _bundle_parts(self) -> BundleParts:
        """Channel statistics, the error scales, the threshold found in training, the weights."""
        t = self.threshold_
        threshold = {"epsilon": t.epsilon, "z": t.z, "sequences": t.sequences, "kept": t.kept,
                     "cut": t.cut if math.isfinite(t.cut) else None, "min_decrease": t.min_decrease}
        return BundleParts(
            config={"columns": self.columns_}, tensors=self.model_.state_dict(),
            preprocessing={"mean": self.mean_, "std": self.std_, "error_scale": self.error_scale_,
                           "threshold": threshold, "freq": self.freq_, "n_train": self.n_train_})

    def _check_file_parts(self, meta, specs) -> dict:
        """Distinct channel names; finite statistics, one per channel; a valid frequency."""
        who, pre, columns = "AnomalyDetector", meta.preprocessing, meta.config["columns"]
        C = len(unique_names(who, "columns 'channels'", columns["channels"], at_least=1))
        require(who, "columns 'time'", columns["time"], str)
        finite_numbers(who, "preprocessing 'mean'", pre["mean"], C)
        finite_numbers(who, "preprocessing 'std'", pre["std"], C, positive=True)
        scales = finite_numbers(who, "preprocessing 'error_scale'", pre["error_scale"], positive=True)
        if not scales or len(scales) % C:
            raise BundleError(problem(f"{who}: preprocessing 'error_scale'", expected=f"a multiple "
                                      f"of {C} numbers (one per channel)", got=len(scales), fix=EDITED))
        if pre["freq"] is not None and not is_frequency(pre["freq"]):
            raise BundleError(problem(f"{who}: preprocessing 'freq'", expected=FREQUENCY,
                                      got=repr(pre["freq"])[:80], fix=EDITED))
        t = pre["threshold"]
        finite_numbers(who, "threshold 'epsilon', 'z', 'min_decrease'", [t["epsilon"], t["z"], t["min_decrease"]])
        if t["cut"] is not None:
            finite_numbers(who, "threshold 'cut'", t["cut"], 1)
        return {}

    def _file_network(self, meta, specs) -> torch.nn.Module:
        return build(self.config.method, len(meta.config["columns"]["channels"]), self.config)

    def _restore(self, bundle) -> None:
        self.columns_ = bundle.config["columns"]
        pre, C = bundle.preprocessing, len(self.columns_["channels"])
        self.mean_, self.std_ = np.asarray(pre["mean"], float), np.asarray(pre["std"], float)
        self.error_scale_ = np.asarray(pre["error_scale"], float).reshape(-1, C)
        t = pre["threshold"]
        self.threshold_ = Threshold(t["epsilon"], t["z"], -math.inf if t["cut"] is None else t["cut"],
                                    t["sequences"], t["kept"], t["min_decrease"])
        self.freq_, self.n_train_ = pre["freq"], pre["n_train"]
        model = self._file_network(bundle, None)
        try:
            model.load_state_dict(bundle.tensors)
        except RuntimeError as err:
            raise BundleError(problem("anomaly model file: weights", expected="tensors that fit its "
                                      "settings", got=str(err).splitlines()[-1].strip(),
                                      fix="the file was written by another rnnkit version; "
                                          "refit and save again")) from None
        self.model_ = model.eval()
        self._scorer = scoring_copy(self.model_)
