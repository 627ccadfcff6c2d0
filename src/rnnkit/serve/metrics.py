"""Prometheus metrics of one server: traffic, latency, batching, queues, sessions, drift.

Every metric is prefixed ``rnnkit_``; labels are the served model's name (``model``), the
endpoint (``predict``, ``session_open``, ``session_step``, ``session_close``, ``models``,
``health``) and the HTTP ``status``. A request for a model that is not served counts under
``model="_unknown"`` so hostile paths cannot grow the label set.

With ``--workers N`` each worker process writes its values to ``PROMETHEUS_MULTIPROC_DIR``
and ``/metrics`` sums them (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

disable_created_metrics()  # no *_created series: they double the exposition and nobody graphs them

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
UNKNOWN = "_unknown"


class ServerMetrics:
    """The metric objects of one app, in their own registry (tests build many apps)."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("rnnkit_requests", "HTTP requests answered.",
                                ["model", "endpoint", "status"], registry=r)
        self.latency = Histogram("rnnkit_request_latency_seconds", "Time from arrival to answer.",
                                 ["model", "endpoint"], buckets=LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram("rnnkit_batch_size", "Instances (or session steps) per network pass.",
                                    ["model", "kind"], buckets=BATCH_BUCKETS, registry=r)
        self.queue_depth = Gauge("rnnkit_queue_depth", "Instances waiting for a network pass.",
                                 ["model", "kind"], registry=r, multiprocess_mode="livesum")
        self.sessions_open = Gauge("rnnkit_sessions_open", "Open streaming sessions.", ["model"],
                                   registry=r, multiprocess_mode="livesum")
        self.sessions_closed = Counter("rnnkit_sessions_closed", "Sessions closed, by reason "
                                       "(deleted, expired, evicted, timeout).", ["model", "reason"], registry=r)
        self.connections_refused = Counter("rnnkit_connections_refused", "Connections the server "
                                           "answered itself and closed, by reason (header_timeout, "
                                           "body_timeout, header_too_large, max_connections, shutdown).",
                                           ["reason"], registry=r)
        self.load_seconds = Gauge("rnnkit_model_load_seconds", "Time to load the model file at start.",
                                  ["model"], registry=r, multiprocess_mode="max")
        self.input_values = Counter("rnnkit_input_values", "Input rows seen per model (drift sample size).",
                                    ["model"], registry=r)
        self.input_mean = Gauge("rnnkit_input_feature_mean", "Running mean of each input feature.",
                                ["model", "feature"], registry=r, multiprocess_mode="mostrecent")
        self.input_std = Gauge("rnnkit_input_feature_std", "Running standard deviation of each input feature.",
                               ["model", "feature"], registry=r, multiprocess_mode="mostrecent")
        self.train_mean = Gauge("rnnkit_training_feature_mean", "Mean of each feature in the training data.",
                                ["model", "feature"], registry=r, multiprocess_mode="max")
        self.train_std = Gauge("rnnkit_training_feature_std", "Standard deviation of each feature in "
                               "the training data.", ["model", "feature"], registry=r, multiprocess_mode="max")
        self.drift = Gauge("rnnkit_input_drift_score", "|running mean - training mean| / training std "
                           "of each feature (0 = no shift; above ~0.5 deserves a look).",
                           ["model", "feature"], registry=r, multiprocess_mode="mostrecent")

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if directory:
            from prometheus_client import multiprocess

            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged, path=directory)
            return generate_latest(merged), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
