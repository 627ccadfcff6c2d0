"""``Seq2Seq``: text -> text with a bidirectional encoder and an attentional decoder, for
translation and for chat.

>>> import rnnkit
>>> from rnnkit.tasks.seq2seq.datasets import ding_pairs
>>> de, en = ding_pairs("train")                          # Ding whole-sentence pairs
>>> mt = rnnkit.Seq2Seq(attention="luong", epochs=8, decoding={"beam": 5}).fit(de, en)
>>> mt.translate(["Ich bin müde."])                        # ['I am tired.'] (beam 5)
>>> mt.evaluate(*ding_pairs("test")).table                 # BLEU / chrF: greedy, beam, baseline
>>> mt.plot_attention("Ich bin müde.", "attention.png")
>>> mt.save("de-en.rnnkit"); mt = rnnkit.load("de-en.rnnkit")

Chat is the same model trained on ``(context <sep> message -> reply)`` pairs
(:func:`~rnnkit.tasks.seq2seq.datasets.chitchat_pairs`); :meth:`Seq2Seq.reply` samples a
reply (temperature, top-k, top-p, seed) or searches one (``beam=``).

Decoding settings (beam width, length penalty, the lexicon bonus, ``<unk>`` replacement)
sit under ``decoding=`` (:class:`~rnnkit.tasks.seq2seq.config.DecodingSettings`). It stands
on the estimator core (:class:`~rnnkit.tasks.core.Estimator`: scikit-learn's contract, the
model-file template, the shared training settings); the decoding calls are
:class:`~rnnkit.tasks.seq2seq.inference.Inference`. Odd input, decided once: an empty text is a
:class:`~rnnkit.errors.DataError`; a text whose tokens are all unknown is translated (from
``<unk>`` alone) with one ``UserWarning`` per call; a source over ``max_source_length``
tokens is cut with a warning (``overlong="truncate"``) or refused (``overlong="error"``);
a training target over ``max_target_length`` tokens is cut with a warning.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from rnnkit.bundle import Bundle
from rnnkit.data.bucketing import length_batches
from rnnkit.data.text.encoder import TextEncoder, warn_user
from rnnkit.data.text.vocab import EOS, EOS_ID, PAD_ID
from rnnkit.errors import BundleError, DataError, problem
from rnnkit.tasks.common.sampling import check_sampling
from rnnkit.tasks.common.texts import as_texts
from rnnkit.tasks.core import BundleParts, Estimator, Extra, unique_names
from rnnkit.tasks.registry import register_task
from rnnkit.tasks.seq2seq import decoding
from rnnkit.tasks.seq2seq.baselines import NAME as BASELINE, WordByWord
from rnnkit.tasks.seq2seq.config import WHO, Seq2SeqConfig, settings_from_file
from rnnkit.tasks.seq2seq.evaluation import TranslationReport, evaluate_translation
from rnnkit.tasks.seq2seq.features import SEP, encode, fit_encoder, tokens
from rnnkit.tasks.seq2seq.inference import Inference
from rnnkit.tasks.seq2seq.lexicon import ibm1_lexicon
from rnnkit.tasks.seq2seq.model import Seq2SeqNet
from rnnkit.tasks.seq2seq.plots import save_attention
from rnnkit.tasks.seq2seq.training import EVAL_BATCH, logits_loss, make_batch, split, total_nll, train_network
from rnnkit.train.devices import select_device


@register_task("seq2seq")
class Seq2Seq(Inference, Estimator):
    """Attentional encoder-decoder (see :class:`Seq2SeqConfig` for every setting and
    :mod:`rnnkit.tasks.seq2seq.model` for the network)."""

    Config = Seq2SeqConfig
    FILE_PREPROCESSING = {"source": dict, "target": dict, "dictionary": (dict, type(None)),
                          "input_stats": dict}
    FIT_CALL = "fit(sources, targets)"

    def __init__(self, tokenizer: str = "word", cell: str = "gru", attention: str = "luong",
                 **settings) -> None:
        super().__init__(tokenizer=tokenizer, cell=cell, attention=attention, **settings)

    # ---- fitting ----------------------------------------------------------------------------
    def fit(self, sources, targets, *, dictionary: bool = True, out_dir=None,
            resume: bool = False) -> "Seq2Seq":
        """Train on pairs ``sources[i] -> targets[i]``; returns ``self``.

        ``dictionary`` also learns the word-by-word dictionary of the training pairs (the
        translation baseline of :meth:`evaluate`, and the replacement of an output
        ``<unk>``); chat models can skip it.
        """
        cfg = self.config
        cfg.validate()
        sources, targets = self._pairs(sources, targets, "fit")
        side = dict(tokenizer=cfg.tokenizer, bpe_vocab_size=cfg.bpe_vocab_size, min_freq=cfg.min_freq,
                    max_vocab=cfg.max_vocab, where=f"{WHO}.fit")
        source_enc = fit_encoder(sources, lowercase=cfg.lowercase_source, max_length=cfg.max_source_length,
                                 overlong=cfg.overlong, **side)
        if cfg.target_min_freq is not None:
            side["min_freq"] = cfg.target_min_freq
        target_enc = fit_encoder(targets, lowercase=cfg.lowercase_target, max_length=None,
                                 overlong="truncate", **side)
        x = encode(source_enc, sources, f"{WHO}.fit")
        y = self._targets(target_enc, targets, "fit")
        torch.manual_seed(cfg.seed)
        model = self._build(len(source_enc.vocab), len(target_enc.vocab))
        if cfg.lexicon_top_k:  # learned on the pairs the network trains on, not its validation
            fit_idx, _ = split(len(x), cfg.val_fraction, cfg.seed)
            model.set_lexicon(*ibm1_lexicon([x[i] for i in fit_idx], [y[i] for i in fit_idx],
                                            len(source_enc.vocab), top_k=cfg.lexicon_top_k))
        history = train_network(model, x, y, cfg, out_dir, resume)
        baseline = WordByWord().fit(sources, targets) if dictionary else None
        for stale in ("metrics_", "_bonus_cache"):  # what a previous fit left
            self.__dict__.pop(stale, None)
        self.source_encoder_, self.target_encoder_ = source_enc, target_enc
        self.target_counts_ = target_counts(y, len(target_enc.vocab))
        self.model_, self.history_, self.dictionary_ = model.eval(), history, baseline
        self.input_stats_ = TextEncoder.stats(x)
        return self

    def _build(self, source_vocab: int, target_vocab: int) -> Seq2SeqNet:
        cfg = self.config
        return Seq2SeqNet(source_vocab=source_vocab, target_vocab=target_vocab,
                          embedding_dim=cfg.embedding_dim, cell=cfg.cell, hidden_size=cfg.hidden_size,
                          num_layers=cfg.num_layers, attention=cfg.attention,
                          attention_size=cfg.attention_size, dropout=cfg.dropout,
                          lexicon_top_k=cfg.lexicon_top_k, lexical_model=cfg.lexical_model,
                          coverage=cfg.coverage, tie_embeddings=cfg.tie_embeddings)

    def _pairs(self, sources, targets, method: str) -> tuple[list[str], list[str]]:
        where = f"{WHO}.{method}"
        sources = as_texts(sources, f"{where} sources")
        targets = as_texts(targets, f"{where} targets")
        if len(sources) != len(targets):
            raise DataError(problem(f"{where}: targets", expected=f"one per source ({len(sources)})",
                                    got=len(targets), fix="pass aligned lists of pairs"))
        return sources, targets

    def _targets(self, encoder: TextEncoder, targets: list[str], method: str) -> list[list[int]]:
        """Target ids, each cut to ``max_target_length`` tokens (with a warning)."""
        lists = tokens(encoder, targets, f"{WHO}.{method} targets", cut=False)
        limit = self.config.max_target_length
        long = sum(len(t) > limit for t in lists)
        if long:
            warn_user(f"{WHO}.{method}: {long} of {len(lists)} targets are longer than "
                      f"max_target_length={limit} tokens and keep only their first {limit}")
        return [encoder.vocab.encode(t[:limit]) for t in lists]

    # ---- translating -------------------------------------------------------------------------
    def translate(self, texts, beam: int | None = None, alpha: float | None = None,
                  max_length: int | None = None, no_repeat_ngram_size: int | None = None) -> list[str]:
        """The output text of each source: greedy for ``beam=1``, else beam search of that
        width with length normalisation ``alpha``; ``no_repeat_ngram_size=n`` keeps any
        n-gram from appearing twice in an output (defaults: the decoding settings)."""
        beam, alpha = self._decoding_options(beam, alpha, "translate")
        no_repeat = self._no_repeat(no_repeat_ngram_size, "translate")
        texts = as_texts(texts, f"{WHO}.translate")
        hyps = self.decode(self.source_ids(texts, "translate"), beam, alpha,
                           self.config.decoding_settings.length_penalty, max_length, no_repeat=no_repeat)
        return [self.output_text(h, t) for h, t in zip(hyps, texts)]

    predict = translate

    # ---- attention --------------------------------------------------------------------------
    def attention(self, text: str, beam: int = 1) -> tuple[list[str], list[str], np.ndarray]:
        """``(source tokens, output tokens, weights (T, S))`` of one translation: row ``t``
        is the attention of output token ``t`` (``<eos>`` last when reached) over the
        source tokens, and sums to 1."""
        self.check_fitted()
        if not isinstance(text, str):
            raise DataError(problem(f"{WHO}.attention: text", expected="one str",
                                    got=type(text).__name__, fix="call it once per text"))
        beam, alpha = self._decoding_options(beam, None, "attention")
        ids = self.source_ids([text], "attention")
        h = self.decode(ids, beam, alpha, self.config.decoding_settings.length_penalty)[0]
        source = tokens(self.source_encoder_, [text], f"{WHO}.attention")[0]
        target = self.target_encoder_.vocab.decode(h.tokens) + ([EOS] if h.finished else [])
        weights = np.asarray(h.attention, dtype=np.float64).reshape(len(target), len(source))
        return source, target, weights

    def plot_attention(self, text: str, path, beam: int = 1) -> tuple[list[str], list[str], np.ndarray]:
        """Write the attention heat-map of ``text``'s translation to ``path`` (PNG) and
        return what :meth:`attention` returns."""
        source, target, weights = self.attention(text, beam)
        save_attention(source, target, weights, path)
        return source, target, weights

    # ---- evaluating -------------------------------------------------------------------------
    def evaluate(self, sources, targets, *, beam: int | None = None, alpha: float | None = None,
                 baselines=(BASELINE,)) -> TranslationReport:
        """sacreBLEU and chrF on ``(sources, targets)`` of greedy decoding, beam search
        (width ``beam``, default the decoding settings') and the word-by-word baseline."""
        beam, alpha = self._decoding_options(beam, alpha, "evaluate")
        sources, targets = self._pairs(sources, targets, "evaluate")
        report = evaluate_translation(self, sources, targets, beam, alpha, baselines)
        self.metrics_ = report.metrics
        return report

    def score(self, sources, targets) -> float:
        """Corpus BLEU of greedy decoding."""
        return float(self.evaluate(sources, targets, beam=1, baselines=()).table.iloc[0]["bleu"])

    def perplexity(self, sources, targets) -> float:
        """``exp`` of the mean negative log-likelihood per target token (``<eos>`` included)
        of the references given their sources, with teacher forcing."""
        sources, targets = self._pairs(sources, targets, "perplexity")
        x = self.source_ids(sources, "perplexity")
        y = self._targets(self.target_encoder_, targets, "perplexity")
        total, count = total_nll(self.model_, x, y)
        return math.exp(total / count)

    @torch.no_grad()
    def log_likelihood(self, sources, targets) -> np.ndarray:
        """The mean log-probability per target token of each ``targets[i]`` given
        ``sources[i]``, with teacher forcing: ``(N,)`` float64, each
        ``(1 / (T_i + 1)) sum_{t <= T_i + 1} log p(y_t | y_<t, x)`` over the reply's ``T_i``
        tokens and ``<eos>`` (what :meth:`perplexity` averages over all tokens:
        ``perplexity = exp(-sum_i (T_i + 1) ll_i / sum_i (T_i + 1))``). Computed in batches
        of similar source length. A chat model's score of a candidate reply, e.g. to rerank
        the replies a :class:`rnnkit.ChatModel` retrieves (its ``rerank=`` option)."""
        sources, targets = self._pairs(sources, targets, "log_likelihood")
        x = self.source_ids(sources, "log_likelihood")
        y = self._targets(self.target_encoder_, targets, "log_likelihood")
        device = next(self.model_.parameters()).device
        self.model_.eval()
        out = np.empty(len(x), dtype=np.float64)
        for idx in length_batches([len(s) for s in x], EVAL_BATCH, shuffle=False):
            src, lengths, target_in, target_out = (t.to(device) for t in make_batch(
                [x[i] for i in idx], [y[i] for i in idx]))
            nll = logits_loss(self.model_(src, lengths, target_in), target_out, reduction="none")
            nll = nll.reshape(target_out.shape).double()  # (B, T), 0 at <pad>
            real = (target_out != PAD_ID).sum(1)  # (B,) reply tokens + <eos>
            out[idx] = (-nll.sum(1) / real).cpu().numpy()
        return out

    # ---- chat -------------------------------------------------------------------------------
    @property
    def is_chat(self) -> bool:
        """Whether the model was fitted as a chat bot rather than a translator: its sources
        join context and message with ``<sep>``, or it was fitted without the word-by-word
        dictionary (``fit(..., dictionary=False)``, which a translator learns)."""
        self.check_fitted()
        return SEP in self.source_encoder_.vocab or getattr(self, "dictionary_", None) is None

    def reply(self, message: str, context: str | None = None, *, temperature: float = 0.8,
              top_k: int | None = None, top_p: float | None = 0.9, seed: int | None = None,
              beam: int | None = None, max_length: int | None = None,
              no_repeat_ngram_size: int | None = None) -> str:
        """A reply to ``message`` (after the turn ``context``, if any): sampled (with
        ``temperature``, ``top_k``, ``top_p``, ``seed``; ``temperature=0`` is greedy) or,
        with ``beam=k``, searched by beam; ``no_repeat_ngram_size=n`` keeps any n-gram from
        appearing twice (default: the decoding settings'). A reply is never empty and never holds ``<unk>``."""
        self.check_fitted()
        for name, value in (("message", message), ("context", context)):
            if value is not None and not isinstance(value, str):
                raise DataError(problem(f"{WHO}.reply: {name}", expected="a str",
                                        got=type(value).__name__))
        check_sampling(temperature, top_k, top_p, seed, f"{WHO}.reply")
        no_repeat = self._no_repeat(no_repeat_ngram_size, "reply")
        source = f"{context} {SEP} {message}" if context and context.strip() else message
        ids = self.source_ids([source], "reply")
        if beam is not None:
            beam, alpha = self._decoding_options(beam, None, "reply")
            h = self.decode(ids, beam, alpha, self.config.decoding_settings.length_penalty, max_length,
                            chat=True, no_repeat=no_repeat)[0]
        else:
            state, device = self.encode_batch(ids)
            h = decoding.sample(self.step_fn(chat=True), state, 1,
                                self.max_output_length(len(ids[0]), max_length), temperature=temperature,
                                top_k=top_k, top_p=top_p, seed=seed, device=device,
                                no_repeat=no_repeat)[0]
        return self.target_encoder_.tokenizer.detokenize(self.target_encoder_.vocab.decode(h.tokens))

    # ---- persistence ------------------------------------------------------------------------
    def _bundle_parts(self) -> BundleParts:
        """Both encoders, the word dictionary, the weights and the target counts."""
        tensors = {f"model.{k}": v for k, v in self.model_.state_dict().items()}
        if getattr(self, "target_counts_", None) is not None:
            tensors["target_counts"] = torch.as_tensor(self.target_counts_, dtype=torch.int64)
        return BundleParts(tensors=tensors, preprocessing={
            "source": self.source_encoder_.to_dict(), "target": self.target_encoder_.to_dict(),
            "dictionary": self.dictionary_.to_dict() if self.dictionary_ else None,
            "input_stats": self.input_stats_})

    @classmethod
    def _settings_from_file(cls, settings: dict) -> dict:
        return settings_from_file(settings)

    def _check_file_parts(self, meta, specs) -> dict:
        """Distinct tokens in both vocabularies; ``target_counts``, when stored, one per
        target token."""
        pre = meta.preprocessing
        for side in ("source", "target"):
            unique_names(WHO, f"{side} vocabulary 'tokens'", pre[side]["vocabulary"]["tokens"],
                         at_least=4)
        return {"target_counts": Extra(("I64",), (len(pre["target"]["vocabulary"]["tokens"]),))}

    def _file_network(self, meta, specs) -> Seq2SeqNet:
        pre = meta.preprocessing
        return self._build(len(pre["source"]["vocabulary"]["tokens"]), len(pre["target"]["vocabulary"]["tokens"]))

    def _restore(self, bundle: Bundle) -> None:
        pre = bundle.preprocessing
        self.source_encoder_ = TextEncoder.from_dict(pre["source"])
        self.target_encoder_ = TextEncoder.from_dict(pre["target"])
        self.dictionary_ = WordByWord.from_dict(pre["dictionary"]) if pre["dictionary"] else None
        self.input_stats_ = pre["input_stats"]
        weights = {k[len("model."):]: v for k, v in bundle.tensors.items() if k.startswith("model.")}
        self.model_ = self._file_network(bundle, None)
        self.model_.load_state_dict(weights)
        counts = bundle.tensors.get("target_counts")  # None in files saved before it was stored
        V = len(self.target_encoder_.vocab)
        if counts is not None and tuple(counts.shape) != (V,):
            raise BundleError(problem(f"{WHO} model file: target_counts", expected=f"shape ({V},), one "
                                      "count per target token", got=f"shape {tuple(counts.shape)}",
                                      fix="the file is damaged: save the model again or refit it"))
        self.target_counts_ = None if counts is None else np.asarray(counts, dtype=np.int64)
        self.model_.to(select_device(self.config.device)).eval()


def target_counts(targets: list[list[int]], vocab_size: int) -> np.ndarray:
    """How often each target id occurs in the training targets ``(V,)``, ``<eos>`` once per
    target (the unigram frequencies of the lexicon bonus)."""
    counts = np.bincount(np.fromiter((i for t in targets for i in t), dtype=np.int64),
                         minlength=vocab_size)
    counts[EOS_ID] += len(targets)
    return counts
