"""The tiny reversal task ("a b c" -> "c b a") the seq2seq tests learn."""

import random

WORDS = "a b c d e f g h i j".split()


def reversal_pairs(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    src = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))) for _ in range(n)]
    return src, [" ".join(reversed(s.split())) for s in src]


def distinct_reversal_pairs(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Reversal of 3-6 *distinct* words: each target word comes from exactly one source
    position (what the attention tests measure)."""
    rng = random.Random(seed)
    src = [" ".join(rng.sample(WORDS, rng.randint(3, 6))) for _ in range(n)]
    return src, [" ".join(reversed(s.split())) for s in src]
