"""Word and character error rates, overall and per group (voice, noise level, kind).

For references ``r_i`` and hypotheses ``h_i``, with ``S, D, I`` the substitutions, deletions
and insertions of a minimum edit-distance alignment of each pair (jiwer)::

    WER = Σ_i (S_i + D_i + I_i) / Σ_i |r_i|          (|r_i| in words)
    CER = the same over characters (spaces included)

Rates are pooled over a group (a corpus-level rate, not a mean of per-utterance rates),
so long utterances weigh more. A pair with an empty reference counts every hypothesis
word (character) as an insertion; a group whose references are all empty has rate 0 when
every hypothesis is empty too, else ``inf``.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from rnnkit.errors import DataError, problem


def _counts(refs: Sequence[str], hyps: Sequence[str], unit: str) -> tuple[int, int]:
    """``(errors, reference length)`` pooled over the pairs; ``unit`` "word" or "char"."""
    refs, hyps = [str(r) for r in refs], [str(h) for h in hyps]
    if len(refs) != len(hyps):
        raise DataError(problem("error rate: hypotheses", expected=f"one per reference ({len(refs)})",
                                got=len(hyps)))
    size = (lambda s: len(s.split())) if unit == "word" else len
    full = [i for i, r in enumerate(refs) if size(r) > 0]
    errors = sum(size(hyps[i]) for i in range(len(refs)) if size(refs[i]) == 0)  # insertions
    total = 0
    if full:
        import jiwer  # the speech extra: pip install rnnkit[speech]

        r, h = [refs[i] for i in full], [hyps[i] for i in full]
        out = jiwer.process_words(r, h) if unit == "word" else jiwer.process_characters(r, h)
        errors += out.substitutions + out.deletions + out.insertions
        total = out.hits + out.substitutions + out.deletions
    return errors, total


def _rate(errors: int, total: int) -> float:
    if total == 0:
        return 0.0 if errors == 0 else float("inf")
    return errors / total


def wer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Word error rate pooled over the pairs."""
    return _rate(*_counts(references, hypotheses, "word"))


def cer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Character error rate pooled over the pairs."""
    return _rate(*_counts(references, hypotheses, "char"))


def error_table(references: Sequence[str], hypotheses: Sequence[str], groups=None,
                name: str = "group") -> pd.DataFrame:
    """WER, CER, utterances and reference words, one row per group plus an ``all`` row.

    ``groups`` is one label per pair (a voice, an SNR), or None for the ``all`` row only.
    """
    refs, hyps = list(references), list(hypotheses)
    rows = {}
    if groups is not None:
        labels = [("clean" if g is None or g != g else str(g)) for g in groups]
        for label in sorted(set(labels)):
            idx = [i for i, g in enumerate(labels) if g == label]
            rows[label] = _row([refs[i] for i in idx], [hyps[i] for i in idx])
    rows["all"] = _row(refs, hyps)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = name
    return table


def _row(refs: list[str], hyps: list[str]) -> dict:
    words = _counts(refs, hyps, "word")
    chars = _counts(refs, hyps, "char")
    return {"wer": _rate(*words), "cer": _rate(*chars), "utterances": len(refs),
            "words": words[1]}
