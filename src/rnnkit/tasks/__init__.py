"""Task recipes; importing this package registers every task for :func:`rnnkit.load`."""

from rnnkit.tasks import (
    anomaly,  # noqa: F401,E402  (registers "anomaly")
    asr,  # noqa: F401,E402  (registers "asr")
    chat,  # noqa: F401,E402  (registers "chat")
    classify_series,  # noqa: F401,E402  (registers "classify-series")
    classify_text,  # noqa: F401,E402  (registers "classify-text")
    forecast,  # noqa: F401  (registers "forecast")
    lm,  # noqa: F401,E402  (registers "lm")
    seq2seq,  # noqa: F401,E402  (registers "seq2seq")
)
