"""Log-mel and MFCC features of a wave: what a speech recognizer reads instead of samples.

For a wave ``x`` of ``n`` samples at ``sample_rate`` Hz, with window ``W = round(win_ms *
sample_rate / 1000)`` samples (400 at 16 kHz, 25 ms), hop ``H = round(hop_ms * sample_rate /
1000)`` (160, 10 ms) and FFT size ``N`` = the next power of two >= ``W`` (512):

1. short-time spectrum (``torch.stft``, Hann window of length ``W`` zero-padded to ``N``,
   ``center=True`` so frame ``t`` is centred on sample ``t * H``, signal zero-padded by
   ``N / 2`` at both ends): ``X[t, k]``, ``T = 1 + n // H`` frames, ``k = 0 .. N / 2``;
2. power ``P[t, k] = |X[t, k]|^2``;
3. mel energies ``M = P @ B^T`` with ``B`` the ``(n_mels, N / 2 + 1)`` triangular mel filter
   bank of :func:`librosa.filters.mel` (Slaney mel scale and area normalisation, 0 to
   ``sample_rate / 2``);
4. log-mel ``L = log(M + 1e-6)`` -> ``(T, n_mels)``, the ``"logmel"`` features;
5. MFCC ``C = L @ D[:n_mfcc]^T`` with ``D`` the orthonormal DCT-II matrix
   ``D[q, m] = s_q cos(pi q (2m + 1) / (2 n_mels))``, ``s_0 = sqrt(1 / n_mels)``,
   ``s_q = sqrt(2 / n_mels)`` -> ``(T, n_mfcc)``, the ``"mfcc"`` features;
6. with ``normalize=True``, per-utterance mean and variance normalisation of each feature
   over time: ``(F - mean_t F) / (std_t F + 1e-5)``; a constant feature (e.g. pure silence)
   becomes 0, never NaN.

The filter bank and DCT matrix are built once in the constructor. The settings round-trip
through :meth:`AudioFeatures.to_dict` / :meth:`AudioFeatures.from_dict`, so a saved model
computes its features the same way it was trained.

>>> features = AudioFeatures("mfcc")
>>> feats = features(wave)            # (frames, 13) float32, frames = features.frames(len(wave))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit.errors import ConfigError, DataError, ShapeError, problem, unknown_name

KINDS = ("logmel", "mfcc")
LOG_FLOOR = 1e-6
STD_FLOOR = 1e-5


class AudioFeatures:
    """Callable ``wave (n,) -> features (frames, n_features)`` float32 (see the module doc)."""

    def __init__(self, kind: str = "logmel", sample_rate: int = 16000, n_mels: int = 40, n_mfcc: int = 13,
                 win_ms: float = 25.0, hop_ms: float = 10.0, normalize: bool = True) -> None:
        if kind not in KINDS:
            raise ConfigError(problem("AudioFeatures: kind", expected=" or ".join(map(repr, KINDS)), got=repr(kind),
                                      fix=unknown_name("feature kind", str(kind), KINDS)))
        for option, value in (("sample_rate", sample_rate), ("n_mels", n_mels), ("n_mfcc", n_mfcc)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ConfigError(problem(f"AudioFeatures: {option}", expected="a positive integer", got=repr(value)))
        if kind == "mfcc" and n_mfcc > n_mels:
            raise ConfigError(problem("AudioFeatures: n_mfcc", expected=f"<= n_mels={n_mels}", got=n_mfcc,
                                      fix="lower n_mfcc or raise n_mels"))
        self.kind, self.sample_rate, self.n_mels, self.n_mfcc = kind, int(sample_rate), int(n_mels), int(n_mfcc)
        self.win_ms, self.hop_ms, self.normalize = float(win_ms), float(hop_ms), bool(normalize)
        self.win_length = round(self.win_ms * self.sample_rate / 1000)
        self.hop_length = round(self.hop_ms * self.sample_rate / 1000)
        if self.win_length < 2 or self.hop_length < 1:
            raise ConfigError(problem("AudioFeatures: win_ms / hop_ms", expected="a window of >= 2 samples and a "
                                      "hop of >= 1 sample", got=f"win_ms={win_ms}, hop_ms={hop_ms} at "
                                      f"{sample_rate} Hz ({self.win_length} / {self.hop_length} samples)"))
        self.n_fft = 1 << (self.win_length - 1).bit_length()  # next power of two >= window
        if self.n_mels > self.n_fft // 2 + 1:
            raise ConfigError(problem("AudioFeatures: n_mels", expected=f"<= {self.n_fft // 2 + 1} (FFT bins)",
                                      got=n_mels, fix="lower n_mels or lengthen win_ms"))

        import librosa  # slow to import (numba): only here

        mel = librosa.filters.mel(sr=self.sample_rate, n_fft=self.n_fft, n_mels=self.n_mels)  # (n_mels, N/2+1)
        self._mel = torch.as_tensor(mel, dtype=torch.float32)
        self._window = torch.hann_window(self.win_length, dtype=torch.float32)  # periodic Hann
        from scipy.fft import dct

        dct_matrix = dct(np.eye(self.n_mels), type=2, norm="ortho", axis=0)[: self.n_mfcc]  # (n_mfcc, n_mels)
        self._dct = torch.as_tensor(dct_matrix, dtype=torch.float32)

    @property
    def n_features(self) -> int:
        """Features per frame: ``n_mels`` for ``"logmel"``, ``n_mfcc`` for ``"mfcc"``."""
        return self.n_mels if self.kind == "logmel" else self.n_mfcc

    def frames(self, n_samples: int) -> int:
        """Frames made from ``n_samples`` samples: ``1 + n_samples // hop_length``."""
        return 1 + int(n_samples) // self.hop_length

    def __call__(self, wave: np.ndarray | Tensor) -> Tensor:
        """``wave (n,)`` float in ``[-1, 1]`` -> ``(frames(n), n_features)`` float32 on the wave's device."""
        x = torch.as_tensor(np.asarray(wave) if not isinstance(wave, Tensor) else wave, dtype=torch.float32)
        if x.dim() != 1:
            raise ShapeError(problem("AudioFeatures: wave", expected="a 1-D wave (n_samples,)",
                                     got=f"shape {tuple(x.shape)}", fix="average the channels first, or use "
                                     "rnnkit.data.audio.read_wav, which returns mono"))
        if x.numel() == 0:
            raise DataError(problem("AudioFeatures: wave", expected="at least one sample", got="an empty wave"))
        if not torch.isfinite(x).all():
            raise DataError(problem("AudioFeatures: wave", expected="finite samples", got="NaN or infinite values"))
        device = x.device
        spec = torch.stft(x, n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.win_length,
                          window=self._window.to(device), center=True, pad_mode="constant",
                          return_complex=True)  # (N/2+1, T)
        power = spec.real.square() + spec.imag.square()  # (N/2+1, T)
        feats = torch.log(power.T @ self._mel.to(device).T + LOG_FLOOR)  # (T, n_mels)
        if self.kind == "mfcc":
            feats = feats @ self._dct.to(device).T  # (T, n_mfcc)
        if self.normalize:  # in float64, so a constant feature gives exactly 0 (no rounding / 1e-5)
            wide = feats.double()
            mean = wide.mean(dim=0, keepdim=True)  # (1, F)
            std = wide.std(dim=0, unbiased=False, keepdim=True)  # (1, F)
            feats = ((wide - mean) / (std + STD_FLOOR)).float()
        return feats.contiguous()

    def to_dict(self) -> dict[str, Any]:
        """The constructor arguments as JSON values."""
        return {"kind": self.kind, "sample_rate": self.sample_rate, "n_mels": self.n_mels, "n_mfcc": self.n_mfcc,
                "win_ms": self.win_ms, "hop_ms": self.hop_ms, "normalize": self.normalize}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AudioFeatures:
        """Rebuild from :meth:`to_dict`; an unknown key raises :class:`ConfigError` naming the nearest one."""
        valid = ("kind", "sample_rate", "n_mels", "n_mfcc", "win_ms", "hop_ms", "normalize")
        for key in d:
            if key not in valid:
                raise ConfigError(problem("AudioFeatures.from_dict", expected="only the keys " + ", ".join(valid),
                                          got=repr(key), fix=unknown_name("AudioFeatures key", str(key), valid)))
        return cls(**d)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AudioFeatures) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.to_dict().items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"AudioFeatures({args})"
