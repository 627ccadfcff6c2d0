"""Tiny synthetic dialogues whose right reply is learnable: 20 topics, each with a few
paraphrased questions and one answer, plus a little chatter for the context turn."""

from __future__ import annotations

import random

TOPICS = [
    ("sky", "colour", "the sky is blue"), ("grass", "colour", "grass is green"),
    ("snow", "colour", "snow is white"), ("cat", "sound", "a cat says meow"),
    ("dog", "sound", "a dog says woof"), ("cow", "sound", "a cow says moo"),
    ("pizza", "taste", "pizza tastes cheesy"), ("lemon", "taste", "lemons taste sour"),
    ("sugar", "taste", "sugar tastes sweet"), ("paris", "country", "paris is in france"),
    ("rome", "country", "rome is in italy"), ("tokyo", "country", "tokyo is in japan"),
    ("winter", "weather", "winter is cold"), ("summer", "weather", "summer is hot"),
    ("autumn", "weather", "autumn is windy"), ("guitar", "strings", "a guitar has six strings"),
    ("violin", "strings", "a violin has four strings"), ("bass", "strings", "a bass has four thick strings"),
    ("fish", "home", "fish live in water"), ("bird", "home", "birds live in nests"),
]
FORMS = ["what {a} is the {t}", "tell me the {a} of the {t}", "{t} {a} ?", "do you know the {a} of {t}",
         "which {a} does the {t} have"]
CHATTER = ["hello there", "hi friend", "good morning", "hey you", "nice to meet you"]


def pairs(n_per_topic: int = 10, seed: int = 0, context: bool = True) -> tuple[list[str], list[str]]:
    """``(messages, replies)``: messages ``"chatter <sep> question"`` (or the question alone)."""
    rng = random.Random(seed)
    messages, replies = [], []
    for _ in range(n_per_topic):
        for topic, aspect, answer in TOPICS:
            question = rng.choice(FORMS).format(a=aspect, t=topic)
            messages.append(f"{rng.choice(CHATTER)} <sep> {question}" if context else question)
            replies.append(answer)
    order = list(range(len(messages)))
    rng.shuffle(order)
    return [messages[i] for i in order], [replies[i] for i in order]


ANSWERS = [answer for _, _, answer in TOPICS]
