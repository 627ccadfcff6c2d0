"""``LanguageModel``: character, word or subword language models trained with truncated
BPTT over a long corpus, scored in bits per character against a Kneser-Ney n-gram, and
sampled with temperature, top-k, top-p and a seed.

>>> import rnnkit
>>> from rnnkit.tasks.lm.datasets import fortunes
>>> lm = rnnkit.LanguageModel(tokenizer="char", epochs=5).fit(fortunes("train"))
>>> lm.evaluate(fortunes("test")).table          # bits/char and perplexity, rnnkit vs n-gram
>>> lm.generate("The ", max_tokens=80, temperature=0.8, top_p=0.95, seed=1)
>>> s = lm.stream(); s.step("Hello").top         # next-token distribution, step by step
>>> lm.save("fortunes.rnnkit"); lm = rnnkit.load("fortunes.rnnkit")

Data: a list of records (texts), or the path of a text file cut into records at
``separator`` (blank lines by default; ``"\\n%\\n"`` for fortune files). Records are joined
into one stream with ``<eos>`` after each (:mod:`rnnkit.tasks.lm.features`).

Bits per character: ``bpc = -sum log2 p(token) / C`` where the sum runs over every token
of the evaluated records and their ``<eos>`` and ``C`` counts the records' characters plus
one per record (its end). The numerator is the code length of the whole text, so ``bpc``
compares character, word and subword models and the character n-gram on the same text
(for a word model the text's whitespace is not coded, and an unknown word costs only
``p(<unk>)``, both of which flatter it). Perplexity is ``exp`` of the mean negative log
likelihood per token of the model's own kind.

Odd input, decided once: an empty corpus, or an empty (or whitespace-only) record, in
``fit``/``evaluate`` is a :class:`~rnnkit.errors.DataError`; a file that is not valid in
its encoding is a ``DataError`` naming the byte and the fix. In ``generate`` and ``stream`` an empty prompt
means "start a new record" (the model reads ``<eos>`` alone); a prompt whose tokens are all
unknown is read (as ``<unk>``) with a ``UserWarning``; a prompt of more than
``max_prompt_tokens`` tokens keeps only its last ``max_prompt_tokens`` with a warning
(a recurrent model carries the rest only through its state, and the cap bounds the work of
one call). ``<pad>``, ``<bos>`` and ``<unk>`` are never generated; ``<eos>`` ends the text.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from rnnkit.data.text.encoder import TextEncoder, warn_user
from rnnkit.data.text.tokenizers import tokenize_all
from rnnkit.data.text.vocab import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from rnnkit.errors import ConfigError, DataError, problem
from rnnkit.tasks.common.sampling import check_sampling, make_generator, sample
from rnnkit.tasks.common.texts import as_texts, requested_baselines
from rnnkit.tasks.core import BundleParts, Estimator, Int, Report, unique_names
from rnnkit.tasks.lm.baselines import KneserNeyCharModel
from rnnkit.tasks.lm.config import LanguageModelConfig
from rnnkit.tasks.lm.datasets import read_records, split_indices
from rnnkit.tasks.lm.features import join_records
from rnnkit.tasks.lm.model import LanguageModelNet
from rnnkit.tasks.lm.stream import LMStream
from rnnkit.tasks.lm.training import total_nll, train_network
from rnnkit.tasks.registry import register_task
from rnnkit.train.devices import select_device

WHO = "LanguageModel"
MAX_NEW_TOKENS = 100_000  # the most tokens one generate() call may ask for
NEVER = (PAD_ID, BOS_ID, UNK_ID)  # ids generate() never emits
BASELINE = "ngram"


@dataclass(repr=False)  # keep Report's table-first repr
class LanguageModelReport(Report):
    """What :meth:`LanguageModel.evaluate` returns: ``table`` has one row per model (rnnkit
    first) and the columns ``bits_per_char``, ``perplexity``, ``token`` (the model's kind of
    token), ``predictions`` (tokens predicted) and ``characters`` (what bpc divides by)."""


@register_task("lm")
class LanguageModel(Estimator):
    """Recurrent language model (see :class:`LanguageModelConfig` for every setting and
    :mod:`rnnkit.tasks.lm.model` for the network)."""

    Config = LanguageModelConfig
    FILE_PREPROCESSING = {"tokenizer": dict, "vocabulary": dict, "n_train_tokens": int}
    FIT_CALL = "fit(texts)"

    def __init__(self, tokenizer: str = "char", cell: str = "lstm", **settings) -> None:
        super().__init__(tokenizer=tokenizer, cell=cell, **settings)

    # ---- fitting ----------------------------------------------------------------------------
    def fit(self, texts, *, separator: str = "\n\n", encoding: str = "utf-8",
            out_dir: str | Path | None = None, resume: bool = False) -> "LanguageModel":
        """Train on ``texts`` (a list of records, or a text file's path cut at ``separator``);
        returns ``self``. A seeded share ``val_fraction`` of the records is held out for early
        stopping on bits per character; ``out_dir`` keeps checkpoints and the training curve."""
        cfg = self.config
        cfg.validate()
        where = f"{WHO}.fit"
        records = _records(texts, where, separator, encoding)
        train, val = self._split(records)
        encoder = TextEncoder.fit(train, tokenizer=cfg.tokenizer, lowercase=cfg.lowercase,
                                  bpe_vocab_size=cfg.bpe_vocab_size, min_freq=cfg.min_freq,
                                  max_vocab=cfg.max_vocab, where=where)
        train_stream = join_records(encoder.encode(train, where))
        val_data = None
        if val:
            val_data = (join_records(encoder.encode(val, where), start=True), _characters(val))
        torch.manual_seed(cfg.seed)
        model = self._build(len(encoder.vocab))
        history = train_network(model, train_stream, val_data, cfg, out_dir, resume)
        # learned state only once training has succeeded (a failed fit leaves none behind)
        for stale in ("metrics_", "train_texts_", "_ngram"):
            self.__dict__.pop(stale, None)
        self.encoder_, self.model_, self.history_ = encoder, model.eval(), history
        self.n_train_tokens_ = len(train_stream)
        if cfg.keep_train_texts:
            self.train_texts_ = records
        return self

    def _split(self, records: list[str]) -> tuple[list[str], list[str]]:
        cfg = self.config
        if cfg.val_fraction == 0:
            return records, []
        if len(records) < 2:
            warn_user(f"{WHO}.fit: one record cannot be split for validation; training on it "
                      "without early stopping (give more records, or set val_fraction=0)")
            return records, []
        n_val = max(1, int(round(len(records) * cfg.val_fraction)))
        train, val = split_indices(len(records), n_val / len(records), cfg.seed)
        return [records[i] for i in train], [records[i] for i in val]

    def _build(self, vocab_size: int) -> LanguageModelNet:
        cfg = self.config
        return LanguageModelNet(vocab_size=vocab_size, embedding_dim=cfg.embedding_dim, cell=cfg.cell,
                                hidden_size=cfg.hidden_size, num_layers=cfg.num_layers,
                                dropout=cfg.dropout, layer_norm=cfg.layer_norm,
                                recurrent_dropout=cfg.recurrent_dropout, zoneout=cfg.zoneout,
                                weight_drop=cfg.weight_drop, embedding_dropout=cfg.embedding_dropout,
                                tie_weights=cfg.tie_weights)

    # ---- scoring ------------------------------------------------------------------------------
    def evaluate(self, texts, *, separator: str = "\n\n", encoding: str = "utf-8",
                 baselines=(BASELINE,)) -> LanguageModelReport:
        """Bits per character and perplexity of rnnkit and the Kneser-Ney character n-gram
        (fitted on the training records) on ``texts``, side by side."""
        self.check_fitted()
        where = f"{WHO}.evaluate"
        records = _records(texts, where, separator, encoding)
        ids = self.encoder_.encode(records, where)
        self._warn_unknown(ids, where)
        nll, count = total_nll(self.model_, join_records(ids, start=True))
        chars = _characters(records)
        rows = {"rnnkit": [nll / math.log(2) / chars, math.exp(nll / count),
                           self.config.tokenizer, count, chars]}
        for _ in self._baselines(baselines):
            ngram = self._ngram_model()
            bits, n = ngram.total_bits(records)
            rows[ngram.name] = [bits / n, 2.0 ** (bits / n), "char", n, n]
        table = pd.DataFrame.from_dict(rows, orient="index", columns=[
            "bits_per_char", "perplexity", "token", "predictions", "characters"])
        table.index.name = "model"
        self.metrics_ = table.to_dict(orient="index")
        return LanguageModelReport(table)

    def bits_per_char(self, texts, **read) -> float:
        """rnnkit's bits per character on ``texts`` (no baseline)."""
        return float(self.evaluate(texts, baselines=(), **read).table.loc["rnnkit", "bits_per_char"])

    def perplexity(self, texts, **read) -> float:
        """rnnkit's per-token perplexity on ``texts``."""
        return float(self.evaluate(texts, baselines=(), **read).table.loc["rnnkit", "perplexity"])

    def _warn_unknown(self, ids: list[list[int]], where: str) -> None:
        unknown = [i for i, x in enumerate(ids) if all(t == UNK_ID for t in x)]
        if unknown:
            warn_user(f"{where}: {len(unknown)} of {len(ids)} texts (texts{unknown[:5]}) have no "
                      "token in the vocabulary; they are scored as <unk>s (check the language and "
                      "the tokenizer)")

    def _baselines(self, names) -> list[str]:
        return requested_baselines(names, BASELINE, f"{WHO}.evaluate", kept=hasattr(self, "train_texts_"),
                                   what="n-gram")

    def _ngram_model(self) -> KneserNeyCharModel:
        if getattr(self, "_ngram", None) is None:
            self._ngram = KneserNeyCharModel(self.config.ngram_order, self.config.lowercase
                                             ).fit(self.train_texts_)
        return self._ngram

    # ---- generating ---------------------------------------------------------------------------
    @property
    def joiner(self) -> str:
        """What goes between tokens when they are written out ("" for characters)."""
        return "" if self.encoder_.tokenizer.kind == "char" else " "

    def _prompt_ids(self, prompt: str, where: str, allow_empty: bool = True) -> list[int]:
        if not isinstance(prompt, str):
            raise DataError(problem(f"{where}: prompt", expected="a str", got=type(prompt).__name__))
        tokens = tokenize_all(self.encoder_.tokenizer, [prompt])[0]
        if not tokens and not allow_empty:
            raise DataError(problem(f"{where}: text", expected="at least one token",
                                    got=repr(prompt[:40]), fix="pass some text or a token id"))
        limit = self.config.max_prompt_tokens
        if len(tokens) > limit:
            warn_user(f"{where}: the prompt has {len(tokens)} tokens; only its last "
                      f"max_prompt_tokens={limit} are read (raise max_prompt_tokens to read more)")
            tokens = tokens[-limit:]
        ids = self.encoder_.vocab.encode(tokens)
        if ids and all(i == UNK_ID for i in ids):
            warn_user(f"{where}: no token of the prompt {prompt[:40]!r} is in the vocabulary; the "
                      "model reads only <unk>s, so the text that follows ignores the prompt "
                      "(check the language, the case and the tokenizer)")
        return ids

    @torch.inference_mode()
    def generate(self, prompt: str = "", max_tokens: int = 200, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None,
                 seed: int | None = None) -> str:
        """The text that follows ``prompt`` (without the prompt), sampled token by token until
        ``max_tokens`` or ``<eos>``. ``temperature=0`` is greedy; the same ``seed`` gives the
        same text (see :mod:`rnnkit.tasks.common.sampling`)."""
        self.check_fitted()
        where = f"{WHO}.generate"
        Int(1)(where, "max_tokens", max_tokens)
        if max_tokens > MAX_NEW_TOKENS:
            raise ConfigError(problem(f"{where}: max_tokens", expected=f"at most {MAX_NEW_TOKENS}",
                                      got=max_tokens, fix="generate in several calls"))
        check_sampling(temperature, top_k, top_p, seed, where)
        model, g = self.model_, make_generator(seed)
        device = next(model.parameters()).device
        x = torch.tensor([[EOS_ID] + self._prompt_ids(prompt, where)], device=device)  # (1, T)
        logits, state = model(x)  # warm the state on the prompt
        last = logits[0, -1]  # (V,)
        out: list[int] = []
        for _ in range(max_tokens):
            last = last.clone()
            last[list(NEVER)] = float("-inf")
            token = sample(last, g, temperature, top_k, top_p)
            if token == EOS_ID:
                break
            out.append(token)
            logits, state = model.step(torch.tensor([token], device=device), state)
            last = logits[0]
        return self.encoder_.tokenizer.detokenize(self.encoder_.vocab.decode(out))

    def stream(self, top: int = 10) -> LMStream:
        """A fresh stateful reader: ``stream.step(text_or_token)`` returns the next-token
        distribution and its ``top`` most probable tokens (see :mod:`rnnkit.tasks.lm.stream`)."""
        self.check_fitted()
        Int(1)(f"{WHO}.stream", "top", top)
        return LMStream(self, top)

    # ---- persistence ------------------------------------------------------------------------
    def _bundle_parts(self) -> BundleParts:
        """Tokenizer and vocabulary, weights (``model.*``) and, with ``keep_train_texts``, the
        training records for the n-gram baseline."""
        preprocessing = {**self.encoder_.to_dict(), "n_train_tokens": self.n_train_tokens_}
        if hasattr(self, "train_texts_"):
            preprocessing["train_texts"] = self.train_texts_
        return BundleParts(tensors={f"model.{k}": v for k, v in self.model_.state_dict().items()},
                           preprocessing=preprocessing)

    def _check_file_parts(self, meta, specs) -> dict:
        """Distinct vocabulary tokens (a repeated one would map two ids to one text)."""
        unique_names(WHO, "vocabulary 'tokens'", meta.preprocessing["vocabulary"]["tokens"],
                     at_least=4)
        return {}

    def _file_network(self, meta, specs) -> LanguageModelNet:
        return self._build(len(meta.preprocessing["vocabulary"]["tokens"]))

    def _restore(self, bundle) -> None:
        pre = bundle.preprocessing
        self.encoder_ = TextEncoder.from_dict(pre)
        self.n_train_tokens_ = int(pre["n_train_tokens"])
        weights = {k[len("model."):]: v for k, v in bundle.tensors.items() if k.startswith("model.")}
        self.model_ = self._file_network(bundle, None)
        self.model_.load_state_dict(weights)
        self.model_.to(select_device(self.config.device)).eval()
        if "train_texts" in pre:
            self.train_texts_ = list(pre["train_texts"])


def _records(data, where: str, separator: str, encoding: str) -> list[str]:
    """A non-empty list of records from a list of texts or a text file's path."""
    if isinstance(data, os.PathLike) or isinstance(data, str) and _is_file(data):
        return read_records(data, separator, encoding)
    if isinstance(data, str):
        raise DataError(problem(f"{where}: texts", expected="a list of texts or the path of a "
                                "text file", got=f"one str that is not a file ({data[:40]!r})",
                                fix="wrap a single text in a list: [text]"))
    records = as_texts(data, where)
    for i, r in enumerate(records):
        if not r.strip():
            raise DataError(problem(f"{where}: texts[{i}]", expected="a text with at least one "
                                    "token", got=f"{r[:20]!r} (empty or only whitespace)",
                                    fix="drop empty texts, or replace them with a placeholder"))
    return records


def _is_file(text: str) -> bool:
    try:
        return len(text) < 4096 and "\n" not in text and Path(text).is_file()
    except (OSError, ValueError):
        return False


def _characters(records: list[str]) -> int:
    """Characters the bpc divides by: every record's characters plus one for its end."""
    return int(sum(len(r) + 1 for r in records))
