"""``rnnkit serve``: recurrent models over HTTP with dynamic batching, streaming sessions,
Prometheus metrics and input-drift monitoring (see docs/serving.md).

>>> from rnnkit.serve import ServeConfig, create_app
>>> app = create_app(ServeConfig(models={"weather": "weather.rnnkit"}))  # doctest: +SKIP
"""

from rnnkit.serve.app import create_app
from rnnkit.serve.config import ServeConfig, api_key_from_env, model_specs

__all__ = ["ServeConfig", "create_app", "model_specs", "api_key_from_env"]
