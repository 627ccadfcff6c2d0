"""The speech recognizer's settings: one dataclass, a default and a comment for each field.

The defaults are sized for the generated spoken-digit corpus (``rnnkit.data.speech``) on
two CPU cores: 40 log-mels every 10 ms, two stride-2 convolutions (40 ms per output
frame), two bidirectional GRU layers of 160 units, character CTC. Tests use far smaller
ones. The training settings (epochs, lr, patience …) come from
:class:`~rnnkit.tasks.core.TrainSettings`; the CLI reads the same fields from the
``[model]``/``[train]`` tables of a TOML file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.tasks.core import Choice, Flag, Int, Real, Rule, TrainSettings, setting
from rnnkit.tasks.core.limits import MAX_BEAM, MAX_LAYERS, MAX_WIDTH, bounded, bounded_real

WHO = "SpeechRecognizer"
CELLS = ("gru", "lstm")
FEATURES = ("logmel", "mfcc")
SUBSAMPLES = (1, 2, 4)
MONITORS = ("val_wer", "val_loss")
SCHEDULES = ("cosine", "plateau", "none")
UNKNOWN = ("error", "drop")


@dataclass
class SpeechRecognizerConfig(TrainSettings):

    WHO: ClassVar[str] = WHO
    SETTING: ClassVar[str] = f"{WHO} setting"
    # -- audio -> features
    sample_rate: int = setting(16000, bounded(4000, 384_000))  # every WAV is resampled (and mixed to mono) to this rate
    features: str = setting("logmel", Choice(*FEATURES))  # "logmel" or "mfcc" (rnnkit.data.audio.AudioFeatures)
    n_mels: int = setting(40, bounded(1, 1024))  # mel bands
    n_mfcc: int = setting(13, bounded(1, 1024))  # cepstral coefficients (features="mfcc" only)
    win_ms: float = setting(25.0, bounded_real(0, 10_000, low_open=True))  # analysis window
    hop_ms: float = setting(10.0, bounded_real(0, 10_000, low_open=True))  # frame step (<= win_ms)
    max_seconds: float = setting(120.0, bounded_real(0, 86_400, low_open=True))  # longer audio is refused with a clear error
    # -- network
    cell: str = setting("gru", Choice(*CELLS))  # "gru" or "lstm"
    conv_channels: int = setting(160, bounded(1, MAX_WIDTH))  # width of the convolutional front end
    conv_kernel: int = setting(5, bounded(1, 1023))  # temporal kernel of each convolution (odd)
    subsample: int = setting(4, Rule(lambda v: type(v) is int and v in SUBSAMPLES, "1, 2 or 4"))  # time
    #                                downsampling of the front end: 1, 2 or 4 (two stride-2 convs)
    hidden_size: int = setting(160, bounded(1, MAX_WIDTH))  # recurrent width per direction
    num_layers: int = setting(2, bounded(1, MAX_LAYERS))  # stacked recurrent layers
    bidirectional: bool = setting(True, Flag())  # False: a causal-direction model that can stream
    layer_norm: bool = setting(False, Flag())  # layer-normalised cells (rnnkit.nn extra; slower on CPU)
    dropout: float = setting(0.15, Real(0, 1, high_open=True))  # after the front end, between
    #                                layers and before the output layer
    # -- augmentation (training only)
    freq_warp: float = setting(0.15, Real(0, 0.5, high_open=True))  # random stretch of the mel
    #                                axis by up to ±this share (logmel only)
    spec_augment: bool = setting(True, Flag())  # SpecAugment masks on training features (Park et al. 2019)
    freq_masks: int = setting(2, Int(0))
    freq_width: int = setting(8, Int(0))  # widest frequency mask, in feature bins
    time_masks: int = setting(2, Int(0))
    time_width: float = setting(0.05, Real(0, 0.5, high_open=True))  # widest time mask, as a
    #                                share of the utterance
    # -- training (CTC); the shared block is TrainSettings
    schedule: str = setting("cosine", Choice(*SCHEDULES))  # "cosine" (per step, after warm-up),
    #                                "plateau" or "none"
    warmup_steps: int = setting(100, Int(0))  # linear warm-up (cosine / none)
    monitor: str = setting("val_wer", Choice(*MONITORS))  # "val_wer" (greedy, on the dev set)
    #                                or "val_loss" (CTC)
    unknown_chars: str = setting("error", Choice(*UNKNOWN))  # transcript characters outside
    #                                a-z ' space: "error" or "drop"
    # -- decoding
    beam: int = setting(8, bounded(1, MAX_BEAM))  # prefix beam width of transcribe(); 1 = greedy
    # -- training (TrainSettings), this task's defaults
    epochs: int = 40  # upper bound; early stopping usually ends sooner
    lr: float = 2e-3  # Adam
    grad_clip_norm: float | None = 5.0  # clip the total gradient norm
    patience: int = 6  # early stopping after this many epochs without a better `monitor`
    #                    (the lr halves after max(1, 6 // 3) = 2 with schedule="plateau")
    val_fraction: float = 0.1  # share held out for early stopping when there is no dev set

    def check_combinations(self) -> None:
        if self.conv_kernel % 2 == 0:
            self.refuse("conv_kernel", expected="an odd number", got=self.conv_kernel,
                        fix=f"use {self.conv_kernel + 1}")
        if self.hop_ms > self.win_ms:
            self.refuse("hop_ms", expected=f"<= win_ms ({self.win_ms})", got=self.hop_ms)
