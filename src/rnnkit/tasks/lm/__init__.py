"""Language modelling (task ``lm``): ``LanguageModel``, a character, word or subword
LSTM/GRU trained with truncated BPTT over a long corpus, scored in bits per character
against an interpolated Kneser-Ney character n-gram, and sampled with temperature,
top-k, top-p and a seed."""

from rnnkit.tasks.lm.config import LanguageModelConfig
from rnnkit.tasks.lm.estimator import LanguageModel, LanguageModelReport

__all__ = ["LanguageModel", "LanguageModelConfig", "LanguageModelReport"]
