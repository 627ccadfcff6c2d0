"""Task recipes; importing this package registers every task for :func:`rnnkit.load`."""

from rnnkit.tasks import forecast  # noqa: F401  (registers "forecast")
from rnnkit.tasks import classify_series  # noqa: F401,E402  (registers "classify-series")
from rnnkit.tasks import anomaly  # noqa: F401,E402  (registers "anomaly")
from rnnkit.tasks import classify_text  # noqa: F401,E402  (registers "classify-text")
from rnnkit.tasks import lm  # noqa: F401,E402  (registers "lm")
from rnnkit.tasks import seq2seq  # noqa: F401,E402  (registers "seq2seq")
from rnnkit.tasks import asr  # noqa: F401,E402  (registers "asr")
