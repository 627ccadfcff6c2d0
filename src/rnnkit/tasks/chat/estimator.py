"""``ChatModel``: a retrieval chatbot that answers with real replies from a bank.

>>> import rnnkit
>>> from rnnkit.data.datasets import load
>>> table = load("chitchat")                                   # source, target, split
>>> train, test = table[table.split == "train"], table[table.split == "test"]
>>> bot = rnnkit.ChatModel().fit(train.source, train.target)   # "previous <sep> message"
>>> bot.reply("Do you like to read books?")                    # a real reply from bot.bank_
>>> bot.replies("hi!", k=3, diversity=0.3)                     # [(reply, score), ...] best first
>>> bot.evaluate(test.source, test.target).table               # Recall@1/2/5 of 10 vs TF-IDF, random
>>> bot.save("chat.rnnkit"); bot = rnnkit.load("chat.rnnkit")

The network is a recurrent dual encoder (:mod:`~rnnkit.tasks.chat.model`) trained with
in-batch negatives (:mod:`~rnnkit.tasks.chat.training`); its reply bank is the training
replies, deduplicated and filtered (:mod:`~rnnkit.tasks.chat.bank`), or any list of texts
(``fit(..., bank=...)``, :meth:`ChatModel.set_bank`). A context is the last
``context_turns`` earlier turns and the message (:mod:`~rnnkit.tasks.chat.turns`). A
reply's score is ``scale * cosine`` of the two vectors; with ``lexical_weight = w > 0``
(or ``None``: ``w`` chosen on the held-out pairs, reported in ``settings_``) it adds
``w`` times the TF-IDF cosine of context and reply, and ``evaluate`` then reports the
dual encoder alone as a row of its own.

Odd input, decided once: an empty or blank message (or one with nothing after its last
``<sep>``) is a :class:`~rnnkit.errors.DataError`; a message of unknown words only is
answered (its vector comes from ``<unk>`` and the turns before it); a very long message
or context keeps its last ``max_context_tokens`` tokens, with work bounded by that
(:data:`~rnnkit.tasks.chat.turns.CHARS_PER_TOKEN`); a context of many turns keeps its
last ``context_turns``.

The model file holds the settings, the tokenizer and vocabulary, the weights, the bank's
texts and their vectors (tensor ``bank.vectors``), and with ``keep_tfidf`` the TF-IDF
baseline's terms and idf weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rnnkit.bundle import TensorSpec
from rnnkit.data.text.encoder import TextEncoder, warn_user
from rnnkit.errors import BundleError, DataError, problem
from rnnkit.tasks.chat.bank import ReplyBank, build_bank
from rnnkit.tasks.chat.baselines import TFIDF, TfidfRetrieval
from rnnkit.tasks.chat.config import WHO, ChatConfig
from rnnkit.tasks.chat.evaluation import MODEL, ChatReport, check_request, choose_lexical_weight, evaluate_chat
from rnnkit.tasks.chat.metrics import draw_candidates, normalize, reply_keys
from rnnkit.tasks.chat.model import DualEncoder
from rnnkit.tasks.chat.selection import (
    ECHO_MARGIN,
    ECHO_TURNS,
    check_options,
    choose,
    echoes,
    pool_size,
    rerank as rerank_scores,
)
from rnnkit.tasks.chat.training import encode_all, split, train_network
from rnnkit.tasks.chat.turns import all_turns, context_ids, context_text, fit_encoder, reply_ids, split_turns
from rnnkit.tasks.common.texts import as_texts
from rnnkit.tasks.core import BundleParts, Estimator, Extra, finite_numbers, unique_names
from rnnkit.tasks.core.file_check import EDITED
from rnnkit.tasks.registry import register_task
from rnnkit.train.devices import select_device


@register_task("chat")
class ChatModel(Estimator):
    """Retrieval chatbot: a recurrent dual encoder and a bank of replies (see
    :class:`ChatConfig` for every setting)."""

    Config = ChatConfig
    FILE_CONFIG = {"lexical_weight": (int, float)}
    FILE_PREPROCESSING = {"encoder": dict, "bank": list, "tfidf": (dict, type(None)), "input_stats": dict}
    FIT_CALL = "fit(messages, replies)"

    # ---- fitting ----------------------------------------------------------------------------
    def fit(self, messages, replies, *, contexts=None, bank=None, out_dir: str | Path | None = None,
            resume: bool = False) -> "ChatModel":
        """Train on pairs ``messages[i] -> replies[i]``; returns ``self``.

        A message may carry earlier turns joined by ``" <sep> "``, or ``contexts`` gives
        each message's earlier turns (a list of str, oldest first). ``bank``: the texts the
        model may answer with (deduplicated); default the training replies, deduplicated
        and filtered. ``out_dir`` keeps checkpoints, metrics.csv and the training curve;
        ``resume=True`` continues a killed run from them.
        """
        cfg = self.config
        cfg.validate()
        where = f"{WHO}.fit"
        turn_lists, replies = self._pairs(messages, replies, contexts, where)
        if len(replies) < 2:
            raise DataError(problem(f"{where}: pairs", expected="at least 2 (the other replies of a "
                                    "batch are the negatives)", got=len(replies)))
        encoder = fit_encoder(turn_lists, replies, tokenizer=cfg.tokenizer, lowercase=cfg.lowercase,
                              bpe_vocab_size=cfg.bpe_vocab_size, min_freq=cfg.min_freq,
                              max_vocab=cfg.max_vocab)
        x = [context_ids(encoder, t, cfg.max_context_tokens) for t in turn_lists]
        y = [reply_ids(encoder, r, cfg.max_reply_tokens) for r in replies]
        torch.manual_seed(cfg.seed)
        model = self._build(len(encoder.vocab))
        history = train_network(model, x, y, reply_keys(replies), cfg, out_dir, resume)
        model.eval()
        texts = build_bank(replies, encoder, cfg, where) if bank is None else \
            _distinct(as_texts(bank, f"{where} bank"), f"{where} bank")
        tfidf = TfidfRetrieval().fit([t for turns in turn_lists for t in turns] + replies)
        self.__dict__.pop("metrics_", None)  # what a previous fit left
        self.encoder_, self.model_, self.history_ = encoder, model, history
        self.tfidf_ = tfidf if cfg.keep_tfidf else None
        self._tfidf = tfidf  # this session's evaluate() has it even when the file will not
        self.input_stats_ = TextEncoder.stats(x)
        self.lexical_weight_ = float(cfg.lexical_weight) if cfg.lexical_weight is not None else \
            self._choose_lexical_weight(turn_lists, replies)
        self.set_bank(texts)
        return self

    def _choose_lexical_weight(self, turn_lists: list[list[str]], replies: list[str]) -> float:
        """``lexical_weight=None``: the weight of the TF-IDF cosine that gives the held-out
        pairs (the early-stopping share) the best Recall@1 of 10 (fewer candidates when they
        have fewer distinct replies); 0 when they have fewer than 2."""
        cfg = self.config
        _, val = split(len(replies), cfg.val_fraction, cfg.seed)
        turns, texts = [turn_lists[i] for i in val], [replies[i] for i in val]
        keys = reply_keys(texts)
        n = min(10, len(np.unique(keys)))
        if n < 2:
            return 0.0
        cand = draw_candidates(keys, n, cfg.seed)  # (M, n)
        lexical = self.tfidf_.scores([" ".join(t) for t in turns], texts, cand)  # (M, n)
        return choose_lexical_weight(self._candidate_scores(turns, texts, cand), lexical, cfg.seed)

    def _build(self, vocab_size: int) -> DualEncoder:
        cfg = self.config
        return DualEncoder(vocab_size=vocab_size, embedding_dim=cfg.embedding_dim, cell=cfg.cell,
                           hidden_size=cfg.hidden_size, num_layers=cfg.num_layers,
                           bidirectional=cfg.bidirectional, vector_size=cfg.vector_size,
                           dropout=cfg.dropout, scale=cfg.scale, learn_scale=cfg.learn_scale,
                           pooling=cfg.pooling, batch_norm=cfg.batch_norm)

    def _pairs(self, messages, replies, contexts, where: str) -> tuple[list[list[str]], list[str]]:
        messages = as_texts(messages, f"{where} messages")
        replies = as_texts(replies, f"{where} replies")
        if len(replies) != len(messages):
            raise DataError(problem(f"{where}: replies", expected=f"one per message ({len(messages)})",
                                    got=len(replies), fix="pass aligned lists of pairs"))
        for i, r in enumerate(replies):
            if not r.strip():
                raise DataError(problem(f"{where}: replies[{i}]", expected="a text with at least one "
                                        "word", got=repr(r), fix="drop pairs with empty replies"))
        return all_turns(messages, contexts, where, self.config.context_turns), replies

    # ---- the bank ---------------------------------------------------------------------------
    def set_bank(self, texts) -> "ChatModel":
        """Answer with ``texts`` from now on (deduplicated under case and spaces, not
        filtered); their vectors are computed now. Returns ``self``."""
        self.check_fitted()
        texts = _distinct(as_texts(texts, f"{WHO}.set_bank"), f"{WHO}.set_bank")
        ids = [reply_ids(self.encoder_, t, self.config.max_reply_tokens) for t in texts]
        self.model_.eval()
        self.bank_ = texts
        self.bank_vectors_ = torch.from_numpy(encode_all(self.model_.encode_reply, ids))  # (B, K)
        self._bank_tfidf = None  # the bank's TF-IDF vectors, computed when first needed
        return self

    def _lexical_scores(self, turns: list[str]):
        """``extra(start, stop)`` for :meth:`ReplyBank.search`: ``lexical_weight`` times the
        TF-IDF cosine of the context with bank rows ``start:stop`` (None when the weight is 0)."""
        weight = self.lexical_weight_
        if not weight:
            return None
        if getattr(self, "_bank_tfidf", None) is None:
            self._bank_tfidf = self.tfidf_.matrix(self.bank_)  # (B, F) sparse
        lex = self.tfidf_.matrix([" ".join(turns)]) @ self._bank_tfidf.T  # (1, B) sparse
        lex = weight * torch.from_numpy(lex.toarray())  # (1, B)
        return lambda start, stop: lex[:, start:stop]

    # ---- replying ---------------------------------------------------------------------------
    def replies(self, message: str, context=None, *, k: int = 5, diversity: float = 0.0,
                temperature: float = 0.0, seed: int | None = None, rerank=None,
                rerank_top: int = 10) -> list[tuple[str, float]]:
        """The ``k`` best bank replies to ``message`` (after ``context``: None, a str or a
        list of earlier turns, oldest first), best first, as ``(reply, score)``.

        ``score`` is ``scale * cosine`` (plus ``lexical_weight`` times the TF-IDF cosine of
        context and reply, when that setting is > 0; reranked, the combined log-score). ``rerank``:
        an object with ``log_likelihood(sources, targets)`` (a chat :class:`rnnkit.Seq2Seq`)
        re-orders the best ``max(k, rerank_top)``; ``temperature > 0`` samples the order
        from ``softmax(score / temperature)`` with ``seed``; ``diversity`` in [0, 1) picks
        by maximal marginal relevance among the best 50 (see
        :mod:`rnnkit.tasks.chat.selection`). A reply that echoes the message or one of the
        last ``ECHO_TURNS`` earlier turns given (setting ``max_echo``) is skipped, unless
        every candidate does.
        """
        self.check_fitted()
        where = f"{WHO}.replies"
        check_options(k, diversity, temperature, seed, rerank, rerank_top, where)
        n = self.config.context_turns
        said = split_turns(message, context, where, max(n, ECHO_TURNS))  # what the conversation said
        turns = said[-(n + 1):]  # what the model reads: the last context_turns and the message
        ids = context_ids(self.encoder_, turns, self.config.max_context_tokens)
        self.model_.eval()
        q = torch.from_numpy(encode_all(self.model_.encode_context, [ids]))  # (1, K)
        bank = ReplyBank(self.bank_, self.bank_vectors_)
        scale = float(self.model_.scale.detach())
        pool = pool_size(k, diversity, temperature, rerank, rerank_top)
        max_echo = self.config.max_echo
        scores, idx = bank.search(q, pool + (ECHO_MARGIN if max_echo is not None else 0), scale,
                                  self._lexical_scores(turns))  # (1, P) each
        scores, idx = scores[0].double().cpu().numpy(), idx[0].cpu().numpy()  # (P,), (P,)
        if max_echo is not None:  # skip replies that repeat the message; keep one at least
            keep = ~echoes(self.encoder_.tokenizer, said[-(ECHO_TURNS + 1):], [self.bank_[i] for i in idx],
                           max_echo)
            keep[0] = keep[0] or not keep.any()
            scores, idx = scores[keep][:pool], idx[keep][:pool]
        if rerank is not None:
            scores = rerank_scores(rerank, context_text(turns), [self.bank_[i] for i in idx], scores,
                                   self.config.rerank_weight, where)
        picked = choose(scores, bank.subset_vectors(idx), k, diversity, temperature, seed, scale)
        return [(self.bank_[idx[p]], float(scores[p])) for p in picked]

    def reply(self, message: str, context=None, **options) -> str:
        """The best reply (``replies(message, context, **options)[0][0]``)."""
        return self.replies(message, context, **options)[0][0]

    # ---- evaluating -------------------------------------------------------------------------
    def evaluate(self, messages, replies, *, contexts=None, candidates: int = 10, ks=(1, 2, 5),
                 baselines=("tfidf", "random"), rerank=None, seed: int = 0) -> ChatReport:
        """Recall@k of ``candidates`` (the true reply among ``candidates - 1`` others drawn
        with ``seed`` from the other replies of these pairs) for the model, the reranked
        model (``rerank`` given) and each baseline (``"tfidf"``, ``"random"``); see
        :mod:`rnnkit.tasks.chat.evaluation`."""
        self.check_fitted()
        where = f"{WHO}.evaluate"
        ks, names = check_request(candidates, ks, baselines, where)
        check_options(1, 0.0, 0.0, seed, rerank, 10, where)
        turn_lists, replies = self._pairs(messages, replies, contexts, where)
        cand = draw_candidates(reply_keys(replies), candidates, seed, where)  # (M, n)
        dense = self._candidate_scores(turn_lists, replies, cand)  # (M, n)
        hybrid = None
        if self.lexical_weight_:
            lexical = self.tfidf_.scores([" ".join(t) for t in turn_lists], replies, cand)  # (M, n)
            hybrid = dense + self.lexical_weight_ * lexical
        report = evaluate_chat(dense if hybrid is None else hybrid, turn_lists, replies, cand,
                               dense_alone=None if hybrid is None else dense,
                               ks=ks, baselines=names, tfidf=self._tfidf_baseline(names, where),
                               rerank=rerank, rerank_weight=self.config.rerank_weight, seed=seed)
        self.metrics_ = report.metrics
        return report

    def score(self, messages, replies) -> float:
        """Recall@1 of 10 candidates (seed 0)."""
        report = self.evaluate(messages, replies, ks=(1,), baselines=())
        return float(report.table.set_index("method").loc[MODEL, "recall@1"])

    def _candidate_scores(self, turn_lists, replies, cand: np.ndarray) -> np.ndarray:
        """``scale * <c_m, r_cand[m, j]>`` ``(M, n)``."""
        cfg = self.config
        self.model_.eval()
        C = encode_all(self.model_.encode_context, [context_ids(self.encoder_, t, cfg.max_context_tokens)
                                                    for t in turn_lists])  # (M, K)
        R = encode_all(self.model_.encode_reply, [reply_ids(self.encoder_, r, cfg.max_reply_tokens)
                                                  for r in replies])  # (N, K)
        dots = np.einsum("mk,mjk->mj", C, R[cand]).astype(np.float64)  # (M, n)
        return float(self.model_.scale.detach()) * dots

    def _automatic_settings(self) -> dict:
        return {"lexical_weight": self.lexical_weight_}

    def _tfidf_baseline(self, names, where: str):
        if TFIDF not in names:
            return None
        tfidf = getattr(self, "_tfidf", None) or self.tfidf_
        if tfidf is None:
            warn_user(f"{where}: this model keeps no TF-IDF baseline (keep_tfidf=False), so the "
                      "tfidf row is skipped")
        return tfidf

    # ---- persistence ------------------------------------------------------------------------
    def _bundle_parts(self) -> BundleParts:
        """Tokenizer and vocabulary, weights (``model.*``), the bank's texts and vectors
        (``bank.vectors``), the TF-IDF baseline (with ``keep_tfidf``), input statistics."""
        tensors = {f"model.{k}": v for k, v in self.model_.state_dict().items()}
        tensors["bank.vectors"] = self.bank_vectors_.detach().float().cpu().contiguous()
        return BundleParts(config={"lexical_weight": self.lexical_weight_}, tensors=tensors, preprocessing={
            "encoder": self.encoder_.to_dict(), "bank": list(self.bank_),
            "tfidf": self.tfidf_.to_dict() if self.tfidf_ is not None else None,
            "input_stats": self.input_stats_})

    def _check_file_parts(self, meta, specs) -> dict:
        """Distinct vocabulary tokens and bank texts, a TF-IDF state of distinct terms with
        one finite idf > 0 each; the bank vectors, one row per bank text."""
        pre = meta.preprocessing
        unique_names(WHO, "vocabulary 'tokens'", pre["encoder"]["vocabulary"]["tokens"], at_least=5)
        bank = unique_names(WHO, "bank", pre["bank"], at_least=1)
        weight = meta.config["lexical_weight"]
        finite_numbers(WHO, "config 'lexical_weight'", weight, 1)
        if weight < 0 or (self.config.lexical_weight is not None and weight != self.config.lexical_weight):
            raise BundleError(problem(f"{WHO}: config 'lexical_weight'", expected="the setting's value "
                                      "(or, for lexical_weight=None, a number >= 0)", got=weight, fix=EDITED))
        if pre["tfidf"] is None and weight > 0:
            raise BundleError(problem(f"{WHO}: preprocessing 'tfidf'", expected="the TF-IDF state "
                                      "(lexical_weight > 0 scores with it)", got="null", fix=EDITED))
        if pre["tfidf"] is not None:
            terms = unique_names(WHO, "tfidf 'terms'", pre["tfidf"]["terms"])
            finite_numbers(WHO, "tfidf 'idf'", pre["tfidf"]["idf"], len(terms), positive=True)
        return {"bank.vectors": Extra(("F32",), (len(bank), self.config.vector_size), required=True)}

    def _file_network(self, meta, specs) -> DualEncoder:
        return self._build(len(meta.preprocessing["encoder"]["vocabulary"]["tokens"]))

    def _restore(self, bundle) -> None:
        pre = bundle.preprocessing
        self.encoder_ = TextEncoder.from_dict(pre["encoder"])
        self.tfidf_ = TfidfRetrieval.from_dict(pre["tfidf"]) if pre["tfidf"] is not None else None
        self.input_stats_ = pre["input_stats"]
        self.lexical_weight_ = float(bundle.config["lexical_weight"])
        weights = {k[len("model."):]: v for k, v in bundle.tensors.items() if k.startswith("model.")}
        model = self._file_network(bundle, {k: TensorSpec.of(v) for k, v in bundle.tensors.items()})
        model.load_state_dict(weights)
        self.model_ = model.to(select_device(self.config.device)).eval()
        self.bank_ = list(pre["bank"])
        self.bank_vectors_ = bundle.tensors["bank.vectors"].float().to(next(model.parameters()).device)


def _distinct(texts: list[str], where: str) -> list[str]:
    """``texts`` stripped, without blanks, each kept once under :func:`normalize`."""
    seen: set[str] = set()
    out = []
    for t in texts:
        key = normalize(t)
        if key and key not in seen:
            seen.add(key)
            out.append(t.strip())
    if not out:
        raise DataError(problem(f"{where}: texts", expected="at least one non-blank text",
                                got="none", fix="pass the replies the model may answer with"))
    return out
