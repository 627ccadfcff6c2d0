"""How a :class:`~rnnkit.tasks.forecast.Forecaster` trains: the validation split, the
(series, origin) windows, the automatic transform and base, and one ensemble member.

A mixin of the forecaster (it reads the fitted state ``fit`` sets: ``config``,
``lookback_``, ``lookbacks_``, ``season_``, ``panel_``, ``steps_``, ``likelihood_``,
``dims_``); the math of each choice is in :mod:`rnnkit.tasks.forecast.auto`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from rnnkit.data.frames import SeriesSet
from rnnkit.tasks.forecast import auto
from rnnkit.tasks.forecast.features import SeriesFeatures
from rnnkit.tasks.forecast.model import ForecastNet
from rnnkit.train import Trainer

PANEL_MIN_ROWS = 3  # a panel series needs this many rows before a window (the rest padded)


class MemberTraining:
    """The forecaster's training steps (see the module docstring)."""

    def _longest(self, typical: int) -> int:
        """The longest member lookback allowed: the set lookback, or what the data allow."""
        if self.config.lookback:
            return self.config.lookback
        return max(self.lookback_, auto.lookback_cap(self.config.horizon, typical, self.panel_))

    def _member_dir(self, out_dir, k: int):
        if out_dir is None or k == 0:  # the first member's run is the run's own
            return out_dir
        return Path(out_dir) / f"member{k}"

    def _choose_transform(self, series: SeriesSet) -> str | None:
        t = self.config.transform
        if t == "auto":
            return auto.transform(series.values, self.season_)
        return "log" if t == "log" else None

    def _choose_base(self, feats: SeriesFeatures, pairs) -> int:
        """The base's lag: the season where seasonal naive beats naive on the training windows
        (scaled units), else 1."""
        m = self.season_
        if self.config.normalize != "window" or m <= 1 or m > min(self.lookbacks_) or not pairs:
            return 1  # every member must see a whole season
        w = feats.windows(pairs, m)
        y, C, H = w["y"].numpy(), len(feats.series.targets), self.config.horizon
        past = w["past"].numpy()[:, :, :C]
        naive = np.abs(y - past[:, -1:]).mean()
        seasonal = np.abs(y - past[:, [h % m - m for h in range(H)]]).mean()
        return m if seasonal < naive else 1

    def _splits(self, series: SeriesSet) -> list[int]:
        """Per series, the first validation step: the last ``val_fraction`` of its time."""
        cfg, out = self.config, []
        for values in series.values:
            T = len(values)
            val = max(cfg.horizon, int(round(T * cfg.val_fraction))) if cfg.val_fraction > 0 else 0
            enough = T - val - self._first_origin(self.lookback_) - cfg.horizon >= 1
            out.append(T - val if val and enough else T)
        return out

    def _pairs(self, series: SeriesSet, splits: list[int], lookback: int):
        """``(train, validation)`` (series, origin) pairs for a window of ``lookback`` steps."""
        L, H = self._first_origin(lookback), self.config.horizon
        train, val = [], []
        for i, (values, s) in enumerate(zip(series.values, splits)):
            train += [(i, o) for o in range(L, s - H + 1)]
            val += [(i, o) for o in range(max(L, s), len(values) - H + 1)] if s < len(values) else []
        return train, val

    def _first_origin(self, lookback: int) -> int:
        """The first origin a window may have: ``lookback``, or in a panel
        :data:`PANEL_MIN_ROWS` (earlier steps padded with the series' first value)."""
        return min(lookback, PANEL_MIN_ROWS) if self.panel_ else lookback

    def _member(self, dims: dict | None = None) -> ForecastNet:
        """One unfitted network of the dims ``dims`` (default: the fitted ``dims_``)."""
        cfg, dims = self.config, dict(dims or self.dims_)
        dims.pop("lookbacks", None)
        base_lag = dims.pop("base_lag", 1)
        return ForecastNet(**dims, horizon=cfg.horizon, n_outputs=self.likelihood_.n_outputs,
                           cell=cfg.cell, hidden_size=cfg.hidden_size, num_layers=cfg.num_layers,
                           dropout=cfg.dropout, layer_norm=cfg.layer_norm,
                           recurrent_dropout=cfg.recurrent_dropout, zoneout=cfg.zoneout,
                           base_lag=base_lag, window_norm=cfg.normalize == "window",
                           gaussian=cfg.likelihood == "gaussian")

    def _train(self, net: ForecastNet, feats: SeriesFeatures, train, val, lookback: int, seed: int,
               out_dir, resume: bool):
        """Train one member on windows of ``lookback`` steps; an epoch is at least
        :data:`auto.MIN_EPOCH_STEPS` updates (small data are sampled with replacement)."""
        cfg, lik = self.config, self.likelihood_
        keys = ("past", "future", "static", "y")
        w = feats.windows(train, lookback)
        data = TensorDataset(*(w[k] for k in keys))
        per_epoch = auto.epoch_steps(len(train), cfg.batch_size)
        sampler = None
        if per_epoch * cfg.batch_size > len(train):
            sampler = RandomSampler(data, replacement=True, num_samples=per_epoch * cfg.batch_size,
                                    generator=torch.Generator().manual_seed(seed))
        loader = DataLoader(data, batch_size=cfg.batch_size, shuffle=sampler is None, sampler=sampler)
        val_batches = None
        if val:
            v = feats.windows(val, lookback)
            val_batches = list(DataLoader(TensorDataset(*(v[k] for k in keys)), batch_size=1024))

        def loss_fn(model, batch):
            past, future, static, y = batch
            delta, base, scale = model.normalised(past, future, static)
            return lik.loss(delta, model.target(y, base, scale))

        epochs = cfg.epochs or -(-self.steps_ // per_epoch)
        trainer_cfg = cfg.trainer_config(validation=bool(val), epochs=epochs, max_steps=self.steps_,
                                         seed=seed)
        return Trainer(net, loss_fn, trainer_cfg, out_dir=out_dir).fit(loader, val_batches, resume=resume)
