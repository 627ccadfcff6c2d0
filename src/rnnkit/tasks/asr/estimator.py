"""``SpeechRecognizer``: speech audio -> text, with a CTC-trained recurrent network.

>>> import rnnkit
>>> from rnnkit.data.speech import make_speech_corpus
>>> make_speech_corpus("corpus")                          # spoken digits and commands, many voices
>>> asr = rnnkit.SpeechRecognizer(epochs=30).fit("corpus")   # split=train, early stopping on dev
>>> asr.transcribe(["a.wav", "b.wav"])                    # ['three one four', 'stop']
>>> asr.evaluate("corpus").table                          # WER/CER on the held-out test voices
>>> asr.save("digits.rnnkit"); asr = rnnkit.load("digits.rnnkit")

Pipeline: WAV (any rate, mono or stereo, int or float) -> float32 mono at
``sample_rate`` (:func:`rnnkit.data.audio.read_wav`) -> log-mel or MFCC frames normalised
per utterance (:class:`~rnnkit.data.audio.AudioFeatures`) -> :class:`SpeechNet` (convolutions,
GRU/LSTM stack, per-frame character log-probabilities) -> CTC decoding
(:mod:`rnnkit.tasks.asr.decoding`: greedy, prefix beam search, optionally constrained to a
vocabulary or grammar). It stands on the estimator core
(:class:`~rnnkit.tasks.core.Estimator`): scikit-learn's contract, the model-file template
and the shared training settings.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnkit.bundle import Bundle
from rnnkit.errors import BundleError, ConfigError, DataError, problem, unknown_name
from rnnkit.tasks.asr import alphabet, decoding, inputs, metrics
from rnnkit.tasks.asr.augment import make_augment
from rnnkit.tasks.asr.config import SpeechRecognizerConfig
from rnnkit.tasks.asr.model import SpeechNet
from rnnkit.tasks.asr.report import DECODERS, SpeechReport
from rnnkit.tasks.asr.stream import SpeechStream
from rnnkit.tasks.asr.training import log_probs_of, too_short, train_network
from rnnkit.tasks.core import BundleParts, Estimator, Int, require
from rnnkit.tasks.core.file_check import EDITED
from rnnkit.tasks.registry import register_task
from rnnkit.train.devices import select_device

GROUP_COLUMNS = ("voice", "snr", "kind")


@register_task("asr")
class SpeechRecognizer(Estimator):
    """Recurrent CTC speech recognizer (see :class:`SpeechRecognizerConfig` for every setting)."""

    Config = SpeechRecognizerConfig
    FILE_PREPROCESSING = {"features": dict, "alphabet": str, "vocabulary": list}
    FIT_CALL = "fit(manifest)"

    def __init__(self, cell: str = "gru", hidden_size: int = 160, **settings) -> None:
        super().__init__(cell=cell, hidden_size=hidden_size, **settings)

    # ---- fitting ----------------------------------------------------------------------------
    def fit(self, data, *, dev=None, out_dir: str | Path | None = None,
            resume: bool = False) -> "SpeechRecognizer":
        """Train on a manifest (CSV path, corpus folder or DataFrame with ``path``,
        ``transcript``); returns ``self``.

        With a ``split`` column, the ``train`` rows train and the ``dev`` rows (unless
        ``dev`` is given) drive early stopping; ``test`` rows are never read. Without one,
        ``val_fraction`` of the rows is held out at random. ``out_dir`` keeps checkpoints
        and metrics.csv; ``resume=True`` continues a killed run from there.
        """
        from rnnkit.data.audio import AudioFeatures

        cfg = self.config
        cfg.validate()
        frame = inputs.as_manifest(data, "SpeechRecognizer.fit")
        train_rows, dev_rows = self._split(frame, dev)
        features = AudioFeatures(cfg.features, sample_rate=cfg.sample_rate, n_mels=cfg.n_mels,
                                 n_mfcc=cfg.n_mfcc, win_ms=cfg.win_ms, hop_ms=cfg.hop_ms)
        train = self._prepare(train_rows, features, "training")
        dev_set = self._prepare(dev_rows, features, "dev") if dev_rows is not None else None
        torch.manual_seed(cfg.seed)
        model = self._build(features.n_features)
        history = train_network(model, train[:2], dev_set, cfg, make_augment(cfg), out_dir, resume)
        # learned state only once training has succeeded (a failed fit leaves none behind)
        self.__dict__.pop("metrics_", None)
        self.features_, self.model_, self.history_ = features, model.eval(), history
        self.vocabulary_ = sorted({w for text in train[2] for w in text.split()})
        return self

    def _split(self, frame: pd.DataFrame, dev) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        cfg = self.config
        has_split = "split" in frame.columns
        train = inputs.split_rows(frame, "train") if has_split else frame
        if dev is not None:
            return train, inputs.split_rows(inputs.as_manifest(dev, "SpeechRecognizer.fit(dev=...)"), "dev")
        if has_split and (frame["split"].astype(str) == "dev").any():
            return train, inputs.split_rows(frame, "dev")
        if cfg.val_fraction == 0 or len(train) < 2:
            return train, None
        order = np.random.default_rng(cfg.seed).permutation(len(train))
        n_dev = max(1, int(round(len(train) * cfg.val_fraction)))
        return (train.iloc[np.sort(order[n_dev:])].reset_index(drop=True),
                train.iloc[np.sort(order[:n_dev])].reset_index(drop=True))

    def _prepare(self, rows: pd.DataFrame, features, what: str):
        """``(features, label ids, texts)`` of the rows; unusable utterances are dropped with a
        warning (the network's output would be too short for the transcript)."""
        from rnnkit.data.audio import read_wav

        cfg = self.config
        texts = [alphabet.normalise(t) for t in rows["transcript"]]
        labels = [alphabet.encode(t, unknown=cfg.unknown_chars, where=f"{what} transcript of "
                                  f"{p!r}") for t, p in zip(texts, rows["path"])]
        feats = [features(read_wav(p, sample_rate=cfg.sample_rate, max_seconds=cfg.max_seconds))
                 for p in rows["path"]]
        bad = set(too_short([len(f) for f in feats], labels, cfg.subsample))
        if bad:
            first = rows["path"].iloc[min(bad)]
            warnings.warn(f"SpeechRecognizer.fit: dropped {len(bad)} {what} utterance(s) too short for "
                          f"their transcript at subsample={cfg.subsample} (e.g. {first!r}); lower "
                          "subsample for fast speech", UserWarning, stacklevel=3)
            keep = [i for i in range(len(feats)) if i not in bad]
            feats, labels, texts = [feats[i] for i in keep], [labels[i] for i in keep], [texts[i] for i in keep]
        if not feats:
            raise DataError(problem(f"SpeechRecognizer.fit: {what} set", expected="at least one usable "
                                    "utterance", got="none"))
        return feats, labels, texts

    def _build(self, n_features: int) -> SpeechNet:
        cfg = self.config
        return SpeechNet(n_features=n_features, cell=cfg.cell, conv_channels=cfg.conv_channels,
                         conv_kernel=cfg.conv_kernel, subsample=cfg.subsample,
                         hidden_size=cfg.hidden_size, num_layers=cfg.num_layers,
                         bidirectional=cfg.bidirectional, layer_norm=cfg.layer_norm,
                         dropout=cfg.dropout)

    # ---- using ------------------------------------------------------------------------------
    def transcribe(self, audio, *, beam: int | None = None, constrain=True) -> list[str]:
        """Transcripts of ``audio``: a WAV path, WAV bytes or a 1-D float wave at the model's
        rate, or a list of those; always a list, one text per item.

        ``beam``: prefix beam width (default: the ``beam`` setting; 1 = greedy).
        ``constrain``: True = only words seen in training; False = any characters; a list
        of words, a compiled regex, or a :class:`~rnnkit.tasks.asr.decoding.Vocabulary` /
        ``Phrases`` / ``Pattern``. Silent or very short audio gives ``""``.
        """
        self.check_fitted()
        items, _ = inputs.as_audio_items(audio, "SpeechRecognizer.transcribe")
        cfg = self.config
        waves = [inputs.read_item(item, sample_rate=cfg.sample_rate, max_seconds=cfg.max_seconds,
                                  index=i, where="SpeechRecognizer.transcribe") for i, item in enumerate(items)]
        return self.transcribe_waves(waves, beam=beam, constrain=constrain)

    def predict(self, audio, **options) -> list[str]:
        """Alias of :meth:`transcribe` (scikit-learn's name)."""
        return self.transcribe(audio, **options)

    def transcribe_waves(self, waves: list[np.ndarray], *, beam: int | None = None,
                         constrain=True) -> list[str]:
        """Transcripts of waves already read: each a 1-D float32 array ``(n,)`` of mono samples
        in ``[-1, 1]`` at the model's ``sample_rate`` (what :func:`rnnkit.data.audio.read_wav`
        returns); ``beam`` and ``constrain`` as in :meth:`transcribe`. Quiet waves give ``""``."""
        self.check_fitted()
        beam = self.config.beam if beam is None else beam
        Int(1)("SpeechRecognizer.transcribe", "beam", beam)
        constraint = self._constraint(constrain)
        rate = self.features_.sample_rate
        live = [i for i, w in enumerate(waves) if not inputs.is_quiet(w, rate)]
        texts = [""] * len(waves)
        log_probs = log_probs_of(self.model_, [self.features_(waves[i]) for i in live])
        for i, lp in zip(live, log_probs):
            if beam == 1 and constraint is None:
                texts[i] = decoding.greedy(lp)
            else:
                texts[i] = decoding.prefix_beam_search(lp, beam, constraint)[0][0]
        return texts

    def _constraint(self, constrain):
        if constrain is True and not self.vocabulary_:
            return None  # a model trained on empty transcripts only: nothing to constrain to
        return decoding.as_constraint(constrain, self.vocabulary_)

    def stream(self, *, beam: int | None = None, constrain=True, every_seconds: float = 0.2,
               encoding: str = "pcm16") -> SpeechStream:
        """A :class:`~rnnkit.tasks.asr.stream.SpeechStream`: ``feed(chunk) -> partial``,
        ``finish() -> final`` (unidirectional models only); ``encoding`` is how its
        :meth:`~rnnkit.tasks.asr.stream.SpeechStream.read_bytes` reads raw chunks."""
        return SpeechStream(self, beam=beam, constrain=constrain, every_seconds=every_seconds,
                            encoding=encoding)

    def score(self, data, *, split: str | None = "test") -> float:
        """``1 - WER`` of the default decoder on a manifest (higher is better)."""
        return 1.0 - self.evaluate(data, split=split, decoders=("beam+vocabulary",)).table.loc[
            "beam+vocabulary", "wer"]

    def evaluate(self, data, *, split: str | None = "test", beam: int | None = None,
                 decoders=DECODERS, constraints: dict | None = None) -> SpeechReport:
        """WER/CER of each decoder (greedy, beam, beam+vocabulary) on a manifest, overall and per
        voice, SNR and kind when the manifest has those columns. With a ``split`` column only
        the ``split`` rows are scored (``split=None``: every row). ``constraints`` adds a
        decoder ``beam+NAME`` per ``{NAME: constraint}`` (anything ``transcribe(constrain=)``
        takes, e.g. a grammar ``AnyOf(Vocabulary(digits), Phrases(commands))``)."""
        self.check_fitted()
        frame = inputs.split_rows(inputs.as_manifest(data, "SpeechRecognizer.evaluate"), split)
        for d in decoders:
            if d not in DECODERS:
                raise ConfigError(unknown_name("decoder", str(d), DECODERS))
        cfg = self.config
        waves = [inputs.read_item(p, sample_rate=cfg.sample_rate, max_seconds=cfg.max_seconds, index=i,
                                  where="SpeechRecognizer.evaluate") for i, p in enumerate(frame["path"])]
        rate, beam = self.features_.sample_rate, cfg.beam if beam is None else beam
        live = [i for i, w in enumerate(waves) if not inputs.is_quiet(w, rate)]
        log_probs = dict(zip(live, log_probs_of(self.model_, [self.features_(waves[i]) for i in live])))
        named = {"greedy": None, "beam": None, "beam+vocabulary": self._constraint(True)}
        named = {name: named[name] for name in decoders}
        named.update({f"beam+{k}": decoding.as_constraint(v, self.vocabulary_) for k, v in (constraints or {}).items()})
        predictions = frame.copy()
        predictions["transcript"] = [alphabet.normalise(t) for t in frame["transcript"]]
        for name, constraint in named.items():
            out = []
            for i in range(len(frame)):
                if i not in log_probs:
                    out.append("")
                elif name == "greedy":
                    out.append(decoding.greedy(log_probs[i]))
                else:
                    out.append(decoding.prefix_beam_search(log_probs[i], beam, constraint)[0][0])
            predictions[name] = out
        table = pd.DataFrame({name: metrics.error_table(predictions["transcript"], predictions[name]).loc["all"]
                              for name in named}).T
        table.index.name = "decoder"
        table[["utterances", "words"]] = table[["utterances", "words"]].astype(int)
        report = SpeechReport(table, predictions)
        main = "beam+vocabulary" if "beam+vocabulary" in named else list(named)[-1]
        for column in GROUP_COLUMNS:
            if column in predictions.columns:
                report.groups[column] = report.breakdown(column, decoder=main)
        self.metrics_ = {name: {k: float(v) for k, v in row.items()} for name, row in table.iterrows()}
        return report

    # ---- persistence ------------------------------------------------------------------------
    def _bundle_parts(self) -> BundleParts:
        """Feature settings, the alphabet, the training vocabulary and the weights."""
        return BundleParts(
            tensors={f"model.{k}": v for k, v in self.model_.state_dict().items()},
            preprocessing={"features": self.features_.to_dict(), "alphabet": alphabet.SYMBOLS,
                           "vocabulary": list(self.vocabulary_)})

    def _check_file_parts(self, meta, specs) -> dict:
        """The alphabet this rnnkit decodes with, feature settings equal to the (checked)
        settings, a vocabulary of strings."""
        who, pre, cfg = "SpeechRecognizer", meta.preprocessing, self.config
        if pre["alphabet"] != alphabet.SYMBOLS:
            raise BundleError(problem(f"{who}: alphabet", expected=repr(alphabet.SYMBOLS),
                                      got=repr(pre["alphabet"])[:80], fix="load it with the rnnkit that saved it"))
        want = {"kind": cfg.features, "sample_rate": cfg.sample_rate, "n_mels": cfg.n_mels,
                "n_mfcc": cfg.n_mfcc, "win_ms": cfg.win_ms, "hop_ms": cfg.hop_ms}
        for key, value in want.items():
            got = pre["features"].get(key)
            if got != value or type(got) is bool:
                raise BundleError(problem(f"{who}: features {key!r}", expected=f"{value!r} (its "
                                          "setting)", got=repr(got)[:40], fix=EDITED))
        require(who, "features 'normalize'", pre["features"].get("normalize"), bool)
        for word in pre["vocabulary"]:
            require(who, "vocabulary", word, str)
        return {}

    def _file_network(self, meta, specs) -> SpeechNet:
        cfg = self.config
        return self._build(cfg.n_mels if cfg.features == "logmel" else cfg.n_mfcc)

    def _restore(self, bundle: Bundle) -> None:
        from rnnkit.data.audio import AudioFeatures

        pre = bundle.preprocessing
        self.features_ = AudioFeatures.from_dict(pre["features"])
        self.vocabulary_ = list(pre["vocabulary"])
        self.model_ = self._file_network(bundle, None)
        self.model_.load_state_dict({k[len("model."):]: v for k, v in bundle.tensors.items()
                                     if k.startswith("model.")})
        self.model_.to(select_device(self.config.device)).eval()
        self.history_ = None
