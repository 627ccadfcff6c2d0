"""Scoring a translator: sacreBLEU's corpus BLEU and chrF (0-100) of greedy decoding, beam
search and the word-by-word dictionary baseline on the same pairs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from rnnkit.errors import ConfigError, problem
from rnnkit.tasks.core import Report
from rnnkit.tasks.seq2seq.baselines import NAME as BASELINE
from rnnkit.tasks.seq2seq.config import WHO


@dataclass(repr=False)  # keep Report's table-first repr
class TranslationReport(Report):
    """What :meth:`Seq2Seq.evaluate` returns: ``table`` (a row per system, columns ``bleu``
    and ``chrf``, sacreBLEU's corpus scores 0-100) and each system's ``outputs``."""

    outputs: dict[str, list[str]] = field(default_factory=dict)

    def fields_note(self) -> str:
        return ".outputs"


def evaluate_translation(model, sources: list[str], targets: list[str], beam: int, alpha: float,
                         baselines=(BASELINE,)) -> TranslationReport:
    """BLEU / chrF of ``model`` (a fitted Seq2Seq) on checked, aligned ``(sources, targets)``:
    greedy, beam search of width ``beam`` (when > 1) and each of ``baselines``."""
    import sacrebleu

    ids = model.source_ids(sources, "evaluate")
    kind = model.config.decoding_settings.length_penalty
    outputs = {"rnnkit greedy": _texts(model, model.decode(ids, 1, alpha, kind), sources)}
    if beam > 1:
        outputs[f"rnnkit beam {beam}"] = _texts(model, model.decode(ids, beam, alpha, kind), sources)
    for name in baselines:
        if name != BASELINE:
            raise ConfigError(problem(f"{WHO}.evaluate: baseline", expected=repr(BASELINE), got=repr(name)))
        if model.dictionary_ is None:
            raise ConfigError(problem(f"{WHO}.evaluate: baseline {BASELINE!r}", expected="a model "
                                      "fitted with dictionary=True", got="none learned",
                                      fix="pass baselines=()"))
        outputs[BASELINE] = model.dictionary_.translate(sources)
    table = pd.DataFrame(
        {name: {"bleu": sacrebleu.corpus_bleu(out, [targets], force=True).score,
                "chrf": sacrebleu.corpus_chrf(out, [targets]).score}
         for name, out in outputs.items()}).T
    table.index.name = "system"
    return TranslationReport(table, outputs)


def _texts(model, hyps, sources: list[str]) -> list[str]:
    return [model.output_text(h, s) for h, s in zip(hyps, sources)]
