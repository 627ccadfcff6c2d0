"""The speech recognizer's settings: one dataclass, a default and a comment for each field.

The defaults are sized for the generated spoken-digit corpus (``rnnkit.data.speech``) on
two CPU cores: 40 log-mels every 10 ms, two stride-2 convolutions (40 ms per output
frame), two bidirectional GRU layers of 160 units, character CTC. Tests use far smaller
ones. The CLI reads the same fields from the ``[model]``/``[train]`` tables of a TOML file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from rnnkit import settings
from rnnkit.errors import ConfigError, problem, unknown_name
from rnnkit.settings import StrictSettings

WHO = "SpeechRecognizer"
CELLS = ("gru", "lstm")
FEATURES = ("logmel", "mfcc")
SUBSAMPLES = (1, 2, 4)
MONITORS = ("val_wer", "val_loss")
SCHEDULES = ("cosine", "plateau", "none")
UNKNOWN = ("error", "drop")


@dataclass
class SpeechRecognizerConfig(StrictSettings):

    SETTING: ClassVar[str] = f"{WHO} setting"
    # -- audio -> features
    sample_rate: int = 16000  # every WAV is resampled (and mixed to mono) to this rate
    features: str = "logmel"  # "logmel" or "mfcc" (rnnkit.data.audio.AudioFeatures)
    n_mels: int = 40  # mel bands
    n_mfcc: int = 13  # cepstral coefficients (features="mfcc" only)
    win_ms: float = 25.0  # analysis window
    hop_ms: float = 10.0  # frame step
    max_seconds: float = 120.0  # longer audio is refused with a clear error
    # -- network
    cell: str = "gru"  # "gru" or "lstm"
    conv_channels: int = 160  # width of the convolutional front end
    conv_kernel: int = 5  # temporal kernel of each convolution (odd)
    subsample: int = 4  # time downsampling of the front end: 1, 2 or 4 (two stride-2 convs)
    hidden_size: int = 160  # recurrent width per direction
    num_layers: int = 2  # stacked recurrent layers
    bidirectional: bool = True  # False: a causal-direction model that can stream
    layer_norm: bool = False  # layer-normalised cells (rnnkit.nn extra; slower on CPU)
    dropout: float = 0.15  # after the front end, between layers and before the output layer
    # -- augmentation (training only)
    freq_warp: float = 0.15  # random stretch of the mel axis by up to ±this share (logmel only)
    spec_augment: bool = True  # SpecAugment masks on training features (Park et al. 2019)
    freq_masks: int = 2
    freq_width: int = 8  # widest frequency mask, in feature bins
    time_masks: int = 2
    time_width: float = 0.05  # widest time mask, as a share of the utterance
    # -- training (CTC)
    epochs: int = 40  # upper bound; early stopping usually ends sooner
    batch_size: int = 32
    lr: float = 2e-3  # Adam
    schedule: str = "cosine"  # "cosine" (per step, after warm-up), "plateau" or "none"
    warmup_steps: int = 100  # linear warm-up (cosine / none)
    weight_decay: float = 0.0
    grad_clip_norm: float = 5.0  # clip the total gradient norm
    ema_decay: float | None = None  # evaluate, keep and return a moving average of the
    #                                 weights with this decay (e.g. 0.999); None = off
    patience: int = 6  # early stopping after this many epochs without a better `monitor`
    monitor: str = "val_wer"  # "val_wer" (greedy, on the dev set) or "val_loss" (CTC)
    val_fraction: float = 0.1  # share held out for early stopping when there is no dev set
    max_steps: int | None = None  # stop after this many optimizer steps (a time budget)
    unknown_chars: str = "error"  # transcript characters outside a-z ' space: "error" or "drop"
    # -- decoding
    beam: int = 8  # prefix beam width of transcribe(); 1 = greedy
    seed: int = 0
    device: str = "auto"
    progress: str = "none"  # "auto", "bar", "plain" or "none"

    def validate(self) -> None:
        settings.check_ema_decay(self.ema_decay, who=WHO)
        for name, choices in (("cell", CELLS), ("features", FEATURES), ("monitor", MONITORS),
                              ("schedule", SCHEDULES), ("unknown_chars", UNKNOWN)):
            if getattr(self, name) not in choices:
                raise ConfigError(unknown_name(f"{WHO} {name}", str(getattr(self, name)), choices))
        if self.subsample not in SUBSAMPLES:
            raise ConfigError(problem(f"{WHO}: subsample", expected="1, 2 or 4", got=repr(self.subsample)))
        for name in ("sample_rate", "n_mels", "n_mfcc", "conv_channels", "conv_kernel",
                     "hidden_size", "num_layers", "epochs", "batch_size", "beam"):
            check_int(name, getattr(self, name), low=1)
        for name in ("freq_masks", "freq_width", "time_masks", "warmup_steps", "patience", "seed"):
            check_int(name, getattr(self, name), low=0)
        if self.max_steps is not None:
            check_int("max_steps", self.max_steps, low=1, optional=True)
        if self.conv_kernel % 2 == 0:
            raise ConfigError(problem(f"{WHO}: conv_kernel", expected="an odd number",
                                      got=self.conv_kernel, fix=f"use {self.conv_kernel + 1}"))
        if self.sample_rate < 4000:
            raise ConfigError(problem(f"{WHO}: sample_rate", expected="at least 4000 Hz",
                                      got=self.sample_rate))
        for name in ("bidirectional", "layer_norm", "spec_augment"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(problem(f"{WHO}: {name}", expected="True or False",
                                          got=repr(getattr(self, name))))
        for name, high in (("dropout", 1.0), ("time_width", 0.5), ("val_fraction", 0.5), ("freq_warp", 0.5)):
            _check_share(name, getattr(self, name), high)
        for name in ("lr", "grad_clip_norm", "win_ms", "hop_ms", "max_seconds"):
            if not number(getattr(self, name)) or getattr(self, name) <= 0:
                raise ConfigError(problem(f"{WHO}: {name}", expected="a number > 0",
                                          got=repr(getattr(self, name))))
        if self.hop_ms > self.win_ms:
            raise ConfigError(problem(f"{WHO}: hop_ms", expected=f"<= win_ms ({self.win_ms})",
                                      got=self.hop_ms))
        if not number(self.weight_decay) or self.weight_decay < 0:
            raise ConfigError(problem(f"{WHO}: weight_decay", expected="a number >= 0",
                                      got=repr(self.weight_decay)))


number = settings.number
check_int = partial(settings.check_int, who=WHO)


def _check_share(name: str, value, high: float) -> None:
    if not number(value) or not 0.0 <= value < high:
        raise ConfigError(problem(f"{WHO}: {name}", expected=f"a number in [0, {high:g})",
                                  got=repr(value)))
