"""An in-process server for tests: the app, its lifespan, and an async HTTP client."""

import asyncio
import contextlib

import httpx
import numpy as np
import pandas as pd

from rnnkit.serve import ServeConfig, create_app


@contextlib.asynccontextmanager
async def serving(**config):
    app = create_app(ServeConfig(**config))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            client.app = app
            yield client


def run(coro):
    return asyncio.run(coro)


def example(client, schema: str) -> dict:
    return client.app.openapi()["components"]["schemas"][schema]["examples"][0]


def daily_frame(n=300, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({"date": pd.date_range("2022-01-01", periods=n, freq="D"),
                         "y": 10 + 3 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, n),
                         "x": rng.normal(0, 1, n)})


def hourly_frame(n=600, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({"time": pd.date_range("2021-01-01", periods=n, freq="h"),
                         "a": np.sin(2 * np.pi * t / 24) + 0.05 * rng.normal(size=n),
                         "b": np.cos(2 * np.pi * t / 36) + 0.05 * rng.normal(size=n)})
