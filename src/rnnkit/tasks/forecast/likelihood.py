"""Output distributions of the forecaster: loss, point forecast and interval.

* ``quantile``: the network outputs one value per quantile ``q`` and is trained with the
  pinball loss ``max(q (y - ŷ_q), (q - 1)(y - ŷ_q))``; the interval is the lowest and the
  highest quantile (0.1 and 0.9 give an 80% interval), the point forecast the median.
  Quantiles are sorted at prediction so they never cross.
* ``gaussian``: outputs ``(μ, s)`` with ``σ = softplus(s) + 1e-4``, trained on the
  Gaussian negative log-likelihood; the interval is ``μ ± z σ`` for the chosen level.
* ``point``: one output trained on squared error; no interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.errors import ConfigError, problem, unknown_name

KINDS = ("quantile", "gaussian", "point")


@dataclass(frozen=True)
class Likelihood:
    kind: str = "quantile"
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    level: float = 0.8  # interval level for "gaussian"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ConfigError(unknown_name("likelihood", self.kind, KINDS))
        if self.kind == "quantile":
            qs = self.quantiles
            if len(qs) < 2 or any(not 0 < q < 1 for q in qs) or list(qs) != sorted(set(qs)):
                raise ConfigError(problem("quantiles", expected="at least two increasing values "
                                          "in (0, 1), e.g. (0.1, 0.5, 0.9)", got=qs))
        if not 0 < self.level < 1:
            raise ConfigError(problem("interval", expected="a level in (0, 1)", got=self.level))

    @property
    def n_outputs(self) -> int:
        return {"quantile": len(self.quantiles), "gaussian": 2, "point": 1}[self.kind]

    @property
    def interval_level(self) -> float | None:
        if self.kind == "quantile":
            return round(self.quantiles[-1] - self.quantiles[0], 6)
        return self.level if self.kind == "gaussian" else None

    def loss(self, out: Tensor, y: Tensor) -> Tensor:
        """Mean loss of ``out`` ``(N, H, C, K)`` against ``y`` ``(N, H, C)``."""
        if self.kind == "quantile":
            q = torch.tensor(self.quantiles, dtype=out.dtype, device=out.device)
            err = y.unsqueeze(-1) - out  # (N, H, C, K)
            return torch.maximum(q * err, (q - 1) * err).mean()
        if self.kind == "gaussian":
            mu, sigma = out[..., 0], F.softplus(out[..., 1]) + 1e-4
            return F.gaussian_nll_loss(mu, y, sigma ** 2, full=False)
        return F.mse_loss(out[..., 0], y)

    def summarize(self, out: Tensor) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """``(point, lower, upper)``, each ``(N, H, C)``; bounds None for ``point``."""
        if self.kind == "quantile":
            qs = out.sort(dim=-1).values
            mid = min(range(len(self.quantiles)), key=lambda i: abs(self.quantiles[i] - 0.5))
            return qs[..., mid], qs[..., 0], qs[..., -1]
        if self.kind == "gaussian":
            mu, sigma = out[..., 0], F.softplus(out[..., 1]) + 1e-4
            z = math.sqrt(2) * torch.special.erfinv(torch.tensor(self.level, dtype=out.dtype))
            return mu, mu - z * sigma, mu + z * sigma
        return out[..., 0], None, None
