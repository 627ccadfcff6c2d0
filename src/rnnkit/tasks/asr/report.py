"""What :meth:`SpeechRecognizer.evaluate` returns: error rates per decoder and per group.

Decoders compared (the "baselines" of this task are the simpler decoders of the same
network): ``greedy`` (best path), ``beam`` (prefix beam search, open vocabulary) and
``beam+vocabulary`` (prefix beam search constrained to the training words — what
``transcribe`` does by default), plus ``beam+NAME`` for each extra constraint passed to
``evaluate(constraints={NAME: ...})``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rnnkit.errors import ConfigError, unknown_name
from rnnkit.tasks.asr import metrics
from rnnkit.tasks.core import Report

DECODERS = ("greedy", "beam", "beam+vocabulary")


@dataclass(repr=False)  # keep Report's table-first repr
class SpeechReport(Report):
    """``table``: one row per decoder (``wer``, ``cer``, ``utterances``, ``words``);
    ``groups``: ``"voice"`` / ``"snr"`` / ``"kind"`` -> the same columns per group for the
    main decoder (``beam+vocabulary``); ``predictions``: one row per utterance, the manifest
    columns plus one transcript column per decoder."""

    predictions: pd.DataFrame

    def breakdown(self, by: str | list[str], decoder: str = "beam+vocabulary") -> pd.DataFrame:
        """WER/CER of ``decoder`` per value of the manifest column(s) ``by``, plus ``all``."""
        names = [c for c in self.predictions.columns if c == "greedy" or str(c).startswith("beam")]
        if decoder not in names:
            raise ConfigError(unknown_name("decoder", decoder, names))
        cols = [by] if isinstance(by, str) else list(by)
        for c in cols:
            if c not in self.predictions.columns:
                raise ConfigError(unknown_name("manifest column", c, self.predictions.columns))
        labels = [" / ".join(_label(c, v) for c, v in zip(cols, row))
                  for row in self.predictions[cols].itertuples(index=False)]
        return metrics.error_table(self.predictions["transcript"], self.predictions[decoder], labels,
                                   name=" / ".join(cols))

    def fields_note(self) -> str:
        return ".predictions, .breakdown(by)"


def _label(column: str, value) -> str:
    """A group label: a missing SNR is ``clean``, a whole-number float loses its ``.0``."""
    if value is None or value != value or value == "":
        return "clean" if column == "snr" else "-"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value} dB" if column == "snr" else str(value)
