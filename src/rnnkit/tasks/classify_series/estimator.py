"""``SequenceClassifier``: whole multichannel series of any length -> a label.

>>> import rnnkit
>>> from rnnkit.data.panels import load_panel
>>> X, y = load_panel("japanese-vowels", "train")        # 270 series (T_i, 12), T_i in 7..26
>>> clf = rnnkit.SequenceClassifier(cell="lstm", epochs=60).fit(X, y)
>>> X_test, y_test = load_panel("japanese-vowels", "test")
>>> clf.predict(X_test[:3])
array(['1', '1', '1'], dtype='<U1')
>>> clf.evaluate(X_test, y_test).table                   # rnnkit and the baselines side by side
>>> clf.save("vowels.rnnkit"); clf = rnnkit.load("vowels.rnnkit")

``X`` is a list of ``(T_i, C)`` arrays (or a 3-D array ``(N, T, C)``), ``y`` labels of any
hashable type. It stands on the estimator core (:class:`~rnnkit.tasks.core.Estimator`):
scikit-learn's contract, the model-file template and the shared training settings.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from rnnkit.data.bucketing import pad
from rnnkit.data.panels import ChannelScaler
from rnnkit.errors import BundleError, ConfigError, problem, unknown_name
from rnnkit.tasks.classify_series import baselines as B
from rnnkit.tasks.classify_series.config import SequenceClassifierConfig
from rnnkit.tasks.classify_series.inputs import as_series_list
from rnnkit.tasks.classify_series.model import SequenceClassifierNet
from rnnkit.tasks.classify_series.training import predict_logits, train_network
from rnnkit.tasks.common import metrics as M
from rnnkit.tasks.common.labels import (
    JSON_LABEL_TYPES as LABEL_TYPES,
    as_labels,
    check_known_labels,
    class_array,
    encode_labels,
    storable_classes,
)
from rnnkit.tasks.common.report import ClassificationReport
from rnnkit.tasks.core import BundleParts, Estimator, Extra, finite_numbers, unique_names
from rnnkit.tasks.core.file_check import EDITED
from rnnkit.tasks.core.limits import MAX_WIDTH
from rnnkit.tasks.registry import register_task
from rnnkit.train.devices import select_device


@register_task("classify-series")
class SequenceClassifier(Estimator):
    """Recurrent classifier of whole multichannel series of variable length (see
    :class:`SequenceClassifierConfig` for every setting)."""

    Config = SequenceClassifierConfig
    FILE_PREPROCESSING = {"classes": list, "n_channels": int, "scaler": dict}
    FIT_CALL = "fit(X, y)"

    def __init__(self, cell: str = "lstm", hidden_size: int = 64, **settings) -> None:
        super().__init__(cell=cell, hidden_size=hidden_size, **settings)

    # ---- fitting ----------------------------------------------------------------------------
    def fit(self, X, y, *, out_dir: str | Path | None = None, resume: bool = False) -> "SequenceClassifier":
        """Train on series ``X`` with labels ``y``; returns ``self``.

        A stratified ``val_fraction`` of ``X`` is held out for early stopping. ``out_dir``
        keeps checkpoints, metrics.csv and the training curve; ``resume=True`` continues a
        killed run from its checkpoint there.
        """
        cfg = self.config
        cfg.validate()
        series = as_series_list(X, "SequenceClassifier.fit")
        classes, codes = encode_labels(as_labels(y, len(series), "SequenceClassifier.fit"),
                                       "SequenceClassifier.fit")
        scaler = ChannelScaler.fit(series)
        scaled = scaler.transform(series)
        torch.manual_seed(cfg.seed)
        model = self._build(series[0].shape[1], len(classes))
        history = train_network(model, scaled, codes, cfg, out_dir, resume)
        # learned state only once training has succeeded (a failed fit leaves none behind)
        for stale in ("metrics_", "train_set_"):
            self.__dict__.pop(stale, None)
        self.classes_, self.n_channels_, self.scaler_ = classes, series[0].shape[1], scaler
        self.model_, self.history_ = model.eval(), history
        self.train_set_ = (scaled, codes)
        return self

    def _build(self, n_channels: int, n_classes: int) -> SequenceClassifierNet:
        cfg = self.config
        return SequenceClassifierNet(n_channels=n_channels, n_classes=n_classes,
                                     cell=cfg.cell, hidden_size=cfg.hidden_size,
                                     num_layers=cfg.num_layers, bidirectional=cfg.bidirectional,
                                     pooling=cfg.pooling, dropout=cfg.dropout,
                                     layer_norm=cfg.layer_norm, recurrent_dropout=cfg.recurrent_dropout,
                                     zoneout=cfg.zoneout)

    # ---- using ------------------------------------------------------------------------------
    def _scaled(self, X, where: str) -> list[np.ndarray]:
        self.check_fitted()
        return self.scaler_.transform(as_series_list(X, where, n_channels=self.n_channels_))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(N, K)``, columns in the order of ``classes_``."""
        scaled = self._scaled(X, "SequenceClassifier.predict_proba")
        logits = predict_logits(self.model_, scaled)
        return torch.softmax(torch.from_numpy(logits).double(), dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        """The most probable label of each series ``(N,)``."""
        scaled = self._scaled(X, "SequenceClassifier.predict")
        logits = predict_logits(self.model_, scaled)
        return self.classes_[logits.argmax(1)]

    def score(self, X, y) -> float:
        """Accuracy on ``(X, y)`` (scikit-learn's ``ClassifierMixin.score``)."""
        predicted = self.predict(X).tolist()
        truth = as_labels(y, len(predicted), "SequenceClassifier.score")
        check_known_labels(truth, self.classes_, "SequenceClassifier.score")
        return M.accuracy(truth, predicted)

    def evaluate(self, X, y, *, baselines=B.NAMES) -> ClassificationReport:
        """Accuracy and macro-F1 of rnnkit and the ``baselines`` (fitted on the training set)
        on ``(X, y)``, side by side, with a confusion matrix per model."""
        scaled = self._scaled(X, "SequenceClassifier.evaluate")
        truth = as_labels(y, len(scaled), "SequenceClassifier.evaluate")
        check_known_labels(truth, self.classes_, "SequenceClassifier.evaluate")
        codes = {"rnnkit": predict_logits(self.model_, scaled).argmax(1)}
        for name in self._baselines(baselines):
            train, train_codes = self.train_set_
            codes[name] = B.fit_baseline(name, train, train_codes, len(self.classes_)).predict(scaled)
        labels = M.label_set(self.classes_.tolist(), truth)
        report = ClassificationReport.empty()
        for name, c in codes.items():
            report.add_single_label(name, truth, self.classes_[c], labels)
        self.metrics_ = report.metrics
        return report

    def _baselines(self, names) -> list[str]:
        names = [names] if isinstance(names, str) else list(names)
        for name in names:
            if name not in B.NAMES:
                raise ConfigError(unknown_name("baseline", str(name), B.NAMES))
        if names and not hasattr(self, "train_set_"):
            warnings.warn("SequenceClassifier.evaluate: this model file holds no training set "
                          "(saved with keep_train_set=False), so the baselines are skipped",
                          UserWarning, stacklevel=3)
            return []
        return names

    # ---- persistence ------------------------------------------------------------------------
    def _bundle_parts(self) -> BundleParts:
        """Classes, channel count, scaler, weights (``model.*``) and, with
        ``keep_train_set``, the scaled training set padded (``train.*``) for the baselines."""
        classes = storable_classes(self.classes_, "SequenceClassifier")
        tensors = {f"model.{k}": v for k, v in self.model_.state_dict().items()}
        if self.config.keep_train_set:
            x, lengths = pad(self.train_set_[0])
            tensors.update({"train.x": x, "train.lengths": lengths,
                            "train.y": torch.as_tensor(self.train_set_[1])})
        return BundleParts(tensors=tensors, preprocessing={
            "classes": classes, "n_channels": self.n_channels_, "scaler": self.scaler_.to_dict()})

    def _check_file_parts(self, meta, specs) -> dict:
        """Distinct classes, a channel count in range, a finite scaler per channel; the kept
        training set (``train.*``), when there is one, complete."""
        who, pre = "SequenceClassifier", meta.preprocessing
        unique_names(who, "classes", pre["classes"], at_least=2, kinds=LABEL_TYPES)
        C = pre["n_channels"]
        if not 1 <= C <= MAX_WIDTH:
            raise BundleError(problem(f"{who}: n_channels", expected=f"an integer in [1, {MAX_WIDTH}]",
                                      got=C, fix=EDITED))
        finite_numbers(who, "scaler 'mean'", pre["scaler"]["mean"], C)
        finite_numbers(who, "scaler 'scale'", pre["scaler"]["scale"], C, positive=True)
        kept = any(name.startswith("train.") for name in specs)
        return {"train.x": Extra(("F32",), (None, None, C), kept), "train.lengths": Extra(("I64",), (None,), kept),
                "train.y": Extra(("I64",), (None,), kept)}

    def _file_network(self, meta, specs) -> SequenceClassifierNet:
        return self._build(meta.preprocessing["n_channels"], len(meta.preprocessing["classes"]))

    def _restore(self, bundle) -> None:
        pre = bundle.preprocessing
        self.classes_ = class_array(pre["classes"])
        self.n_channels_ = pre["n_channels"]
        self.scaler_ = ChannelScaler.from_dict(pre["scaler"])
        self.model_ = self._file_network(bundle, None)
        self.model_.load_state_dict({k[len("model."):]: v for k, v in bundle.tensors.items()
                                     if k.startswith("model.")})
        self.model_.to(select_device(self.config.device)).eval()
        if "train.x" in bundle.tensors:
            x, lengths = bundle.tensors["train.x"].numpy(), bundle.tensors["train.lengths"].tolist()
            self.train_set_ = ([x[i, :n] for i, n in enumerate(lengths)], bundle.tensors["train.y"].numpy())
