"""One served model: its estimator, adapter, batchers, sessions and drift monitor.

Session steps run on *staged* copies of their sessions' states (:meth:`TaskAdapter.stage`):
the step batcher answers ``(output, new state)`` and the route makes the new state the
session's only when it answers the step, so a refused, failed or timed-out step leaves
its session as it was, and a retry of the same rows succeeds.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor

import numpy as np

import rnnkit
from rnnkit.serve.adapters import adapter_for
from rnnkit.serve.batching import Batcher
from rnnkit.serve.config import ServeConfig
from rnnkit.serve.drift import RunningStats
from rnnkit.serve.metrics import ServerMetrics
from rnnkit.serve.sessions import SessionStore


class ModelService:
    def __init__(self, name: str, path: str, config: ServeConfig, metrics: ServerMetrics,
                 executor: Executor, estimator=None) -> None:
        self.name, self.path, self.config, self.metrics = name, path, config, metrics
        start = time.perf_counter()
        self.estimator = self._load(path, config) if estimator is None else estimator
        self.adapter = adapter_for(self.estimator, name)
        self.load_seconds = time.perf_counter() - start
        metrics.load_seconds.labels(name).set(self.load_seconds)
        kw = dict(max_batch=config.max_batch, max_wait_ms=config.max_wait_ms, max_queue=config.max_queue)
        self.predict_batcher = Batcher(self.adapter.predict_batch, executor, **kw,
                                       on_batch=metrics.batch_size.labels(name, "predict").observe,
                                       on_depth=metrics.queue_depth.labels(name, "predict").set)
        self.step_batcher = Batcher(self._staged_steps, executor, **kw,
                                    on_batch=metrics.batch_size.labels(name, "session_step").observe,
                                    on_depth=metrics.queue_depth.labels(name, "session_step").set)
        self.sessions = SessionStore(name, max_sessions=config.max_sessions, ttl_s=config.session_ttl_s,
                                     prefix=config.instance_id,
                                     on_close=lambda reason: metrics.sessions_closed.labels(name, reason).inc(),
                                     on_count=metrics.sessions_open.labels(name).set)
        self.drift = self._drift()

    @staticmethod
    def _load(path: str, config: ServeConfig):
        """``rnnkit.load`` of ``path``; with ``config.trusted_keys``, signed files only."""
        return rnnkit.load(path, trusted_keys=list(config.trusted_keys) or None)

    def _staged_steps(self, pairs: list) -> list:
        """``[(state, payload)]`` -> ``[(output, new state)]`` (or the Exception of that step),
        computed on copies: the sessions' own states are not touched here."""
        staged = [(self.adapter.stage(state), payload) for state, payload in pairs]
        outputs = self.adapter.step_batch(staged)
        return [out if isinstance(out, BaseException) else (out, state)
                for out, (state, _) in zip(outputs, staged)]

    def _drift(self) -> RunningStats | None:
        spec = self.adapter.drift_features()
        if spec is None:
            return None
        names, mean, std = spec
        if mean is not None:
            for f, m, s in zip(names, np.ravel(mean), np.ravel(std)):
                self.metrics.train_mean.labels(self.name, f).set(float(m))
                self.metrics.train_std.labels(self.name, f).set(float(s))
        return RunningStats(names, mean, std)

    def observe(self, rows: np.ndarray | None) -> None:
        """Feed the rows ``(m, F)`` of an answered request to the drift monitor (refused
        rows never reach it)."""
        if self.drift is None or rows is None or not len(rows):
            return
        self.drift.update(rows)
        self.metrics.input_values.labels(self.name).inc(len(rows))

    def refresh_gauges(self) -> None:
        """Values read at scrape time: drift, queue depths, open sessions."""
        m = self.metrics
        m.queue_depth.labels(self.name, "predict").set(self.predict_batcher.depth)
        m.queue_depth.labels(self.name, "session_step").set(self.step_batcher.depth)
        self.sessions.sweep()
        m.sessions_open.labels(self.name).set(len(self.sessions))
        d = self.drift
        if d is None or not d.n:
            return
        scores = d.scores()
        for j, f in enumerate(d.names):
            m.input_mean.labels(self.name, f).set(float(d.mean[j]))
            m.input_std.labels(self.name, f).set(float(d.std[j]))
            if scores is not None:
                m.drift.labels(self.name, f).set(float(scores[j]))

    def start(self) -> None:
        self.predict_batcher.start()
        self.step_batcher.start()

    async def close(self) -> None:
        await self.predict_batcher.close()
        await self.step_batcher.close()
