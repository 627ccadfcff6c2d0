"""What :meth:`SpeechRecognizer.evaluate` returns: error rates per decoder and per group.

Decoders compared (the "baselines" of this task are the simpler decoders of the same
network): ``greedy`` (best path), ``beam`` (prefix beam search, open vocabulary) and
``beam+vocabulary`` (prefix beam search constrained to the training words — what
``transcribe`` does by default), plus ``beam+NAME`` for each extra constraint passed to
``evaluate(constraints={NAME: ...})``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from rnnkit.errors import ConfigError, unknown_name
from rnnkit.tasks.asr import metrics

DECODERS = ("greedy", "beam", "beam+vocabulary")


@dataclass
class SpeechReport:
    table: pd.DataFrame  # one row per decoder: wer, cer, utterances, words
    predictions: pd.DataFrame  # one row per utterance: the manifest columns + one per decoder
    groups: dict[str, pd.DataFrame] = field(default_factory=dict)  # "voice"/"snr"/"kind" -> table

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

    def __repr__(self) -> str:
        fmt = lambda v: f"{v:.3f}"  # noqa: E731
        text = f"SpeechReport (.table, .groups, .predictions, .breakdown(by))\n{self.table.to_string(float_format=fmt)}"
        for name, table in self.groups.items():
            text += f"\n\nby {name} (beam+vocabulary):\n{table.to_string(float_format=fmt)}"
        return text


def _label(column: str, value) -> str:
    """A group label: a missing SNR is ``clean``, a whole-number float loses its ``.0``."""
    if value is None or value != value or value == "":
        return "clean" if column == "snr" else "-"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value} dB" if column == "snr" else str(value)
