"""What the synthetic corpus says, by whom, and in which split (see :mod:`rnnkit.data.speech`).

Every random choice (text, voice, speed, pitch, padding, noise) is drawn up front by
:func:`plan_utterances` from one seeded generator; :func:`make_speech_corpus` then speaks
the plan (:mod:`~rnnkit.data.speech.synthesis`) and writes the manifest.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.data.speech.manifest import MANIFEST_COLUMNS, SPLITS
from rnnkit.data.speech.synthesis import (
    ESPEAK_ACCENTS,
    ESPEAK_VARIANTS,
    FLITE_VOICES,
    Utterance,
    check_tools,
    parse_voice,
    render,
)
from rnnkit.errors import ConfigError, problem, unknown_name

PathLike = str | os.PathLike

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
"""Spoken digits 0-9 (``"zero"``, never ``"oh"``)."""

COMMANDS = ("turn on the light", "turn off the light", "set a timer", "play music", "stop", "next song",
            "previous song", "volume up", "volume down", "what time is it", "call mom", "call dad",
            "open the door", "close the door", "start", "pause", "go back", "yes", "no", "cancel")
"""The 20 voice commands."""

DEFAULT_VOICES = tuple(f"espeak:{a}+{v}" for a in ESPEAK_ACCENTS for v in ESPEAK_VARIANTS) + \
    tuple(f"flite:{v}" for v in FLITE_VOICES)
"""60 espeak-ng accent x variant voices and 4 flite voices."""

DEFAULT_TEST_VOICES = ("flite:slt", "espeak:en-us+f4", "espeak:en-us+m7", "espeak:en-gb+m6", "espeak:en-029+f2",
                       "espeak:en-gb-scotland+m3", "espeak:en-gb-x-rp+f5")
"""Held out for testing: both synthesizers, both genders, every accent."""

DEFAULT_DEV_VOICES = ("espeak:en-gb+f3", "espeak:en-us+m2", "espeak:en-029+m5")


def corpus_vocabulary() -> list[str]:
    """Every word that can occur in a transcript, sorted."""
    return sorted({w for w in DIGIT_WORDS} | {w for c in COMMANDS for w in c.split()})


def make_speech_corpus(out_dir: PathLike, *, n_digits: int = 1200, n_commands: int = 400,
                       snrs: Sequence[float | None] = (None, 20, 10), seed: int = 0,
                       voices: list[str] | None = None, test_voices: list[str] | None = None,
                       dev_voices: list[str] | None = None, sample_rate: int = 16000, workers: int = 2,
                       progress: bool = False,
                       split_fractions: tuple[float, float, float] = (0.7, 0.1, 0.2),
                       flite_weight: float = 4.0) -> pd.DataFrame:
    """Write ``(n_digits + n_commands) * len(snrs)`` WAVs under ``out_dir/wav/`` and
    ``out_dir/manifest.csv``; return the manifest (``path`` relative to ``out_dir``).

    ``voices`` defaults to :data:`DEFAULT_VOICES`; ``test_voices`` / ``dev_voices`` default to
    :data:`DEFAULT_TEST_VOICES` / :data:`DEFAULT_DEV_VOICES` (those of them in ``voices``);
    every other voice is a training voice. ``workers`` synthesis processes run at once.
    In training, a flite voice is drawn ``flite_weight`` times as often as an espeak-ng one
    (flite has 4 voices against espeak's 60 accent x variant voices, and its voices differ
    more from each other than espeak's variants do); dev and test voices are drawn evenly.
    """
    if isinstance(flite_weight, bool) or not isinstance(flite_weight, (int, float)) or not flite_weight > 0:
        raise ConfigError(problem("make_speech_corpus: flite_weight", expected="a number > 0",
                                  got=repr(flite_weight)))
    _check_counts(n_digits, n_commands, snrs, workers, sample_rate)
    voices = list(DEFAULT_VOICES if voices is None else voices)
    splits = _assign_splits(voices, test_voices, dev_voices)
    check_tools(voices)
    utterances = plan_utterances(n_digits, n_commands, snrs, seed, voices, splits, split_fractions,
                                 float(flite_weight))
    out_dir = Path(out_dir)
    (out_dir / "wav").mkdir(parents=True, exist_ok=True)
    speak = functools.partial(render, out_dir=out_dir, sample_rate=sample_rate)
    rows: list[dict] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(speak, utterances)
        if progress:
            from rich.progress import track

            results = track(results, total=len(utterances), description="synthesising")
        for u, (seconds, paths) in zip(utterances, results):
            for (snr, noise, _), path in zip(u.noises, paths):
                rows.append({"path": path, "transcript": u.transcript, "kind": u.kind, "voice": u.voice,
                             "speed": u.speed, "pitch": u.pitch, "snr": np.nan if snr is None else float(snr),
                             "noise": noise, "split": splits[u.voice], "utt": u.utt, "seconds": seconds})
    manifest = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    assert manifest.groupby("voice")["split"].nunique().max() == 1, "a voice is in two splits"
    manifest.to_csv(out_dir / "manifest.csv", index=False)
    return manifest


def _check_counts(n_digits: int, n_commands: int, snrs: Sequence, workers: int, sample_rate: int) -> None:
    for option, value, low in (("n_digits", n_digits, 0), ("n_commands", n_commands, 0), ("workers", workers, 1),
                               ("sample_rate", sample_rate, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ConfigError(problem(f"make_speech_corpus: {option}", expected=f"an integer >= {low}",
                                      got=repr(value)))
    if n_digits + n_commands == 0:
        raise ConfigError(problem("make_speech_corpus: n_digits + n_commands", expected=">= 1", got=0))
    if len(snrs) == 0 or len(set(snrs)) != len(snrs):
        raise ConfigError(problem("make_speech_corpus: snrs", expected="distinct values, None for the clean copy "
                                  "and dB values for noisy ones, e.g. (None, 20, 10)", got=repr(tuple(snrs))))
    for snr in snrs:
        if snr is not None and (isinstance(snr, bool) or not isinstance(snr, (int, float, np.integer, np.floating))
                                or not np.isfinite(snr)):
            raise ConfigError(problem("make_speech_corpus: snrs", expected="None or a finite number of dB",
                                      got=repr(snr)))


def _assign_splits(voices: list[str], test_voices: Iterable[str] | None,
                   dev_voices: Iterable[str] | None) -> dict[str, str]:
    """``voice -> split``: test and dev voices as given (default: the defaults that are in
    ``voices``), the rest train. A voice in two splits or not in ``voices`` is an error."""
    if not voices or len(set(voices)) != len(voices):
        raise ConfigError(problem("make_speech_corpus: voices", expected="a non-empty list of distinct voices",
                                  got=repr(voices)))
    for voice in voices:
        parse_voice(voice)
    test = [v for v in DEFAULT_TEST_VOICES if v in voices] if test_voices is None else list(test_voices)
    dev = [v for v in DEFAULT_DEV_VOICES if v in voices] if dev_voices is None else list(dev_voices)
    for option, chosen in (("test_voices", test), ("dev_voices", dev)):
        for voice in chosen:
            if voice not in voices:
                raise ConfigError(problem(f"make_speech_corpus: {option}", expected="voices from `voices`",
                                          got=repr(voice), fix=unknown_name("voice", voice, voices)))
    both = sorted(set(test) & set(dev))
    if both:
        raise ConfigError(problem("make_speech_corpus: test_voices and dev_voices", expected="no voice in both",
                                  got=", ".join(both), fix="hold each voice out in one split only"))
    splits = {v: "train" for v in voices} | {v: "dev" for v in dev} | {v: "test" for v in test}
    if "train" not in splits.values():
        raise ConfigError(problem("make_speech_corpus: voices", expected="at least one training voice "
                                  "(not in test_voices or dev_voices)", got=f"{len(voices)} voices, all held out"))
    per_split = [{v for v, s in splits.items() if s == name} for name in SPLITS]
    assert all(not (a & b) for i, a in enumerate(per_split) for b in per_split[i + 1:]), "voice in two splits"
    return splits


def plan_utterances(n_digits: int, n_commands: int, snrs: Sequence[float | None], seed: int, voices: list[str],
          splits: dict[str, str], split_fractions: tuple[float, float, float],
          flite_weight: float = 1.0) -> list[Utterance]:
    """Draw every utterance's text, voice, speed, pitch, padding and noise from one seeded
    generator, in a fixed order (so the plan depends only on the arguments).

    A voice ``v`` in split ``s`` is drawn with probability ``fraction[s] * w_v / W_s``, where
    ``w_v`` is ``flite_weight`` for a flite training voice and 1 otherwise and ``W_s`` sums ``w`` over
    the voices of ``s`` (fractions renormalised over the splits that have voices). Flite
    pitch shifts span -300..+700 cents, so the male flite voices also sound higher."""
    if len(split_fractions) != 3 or min(split_fractions) < 0 or sum(split_fractions) <= 0:
        raise ConfigError(problem("make_speech_corpus: split_fractions", expected="3 non-negative numbers "
                                  "(train, dev, test)", got=repr(split_fractions)))
    fraction = dict(zip(SPLITS, split_fractions))
    w = {v: flite_weight if v.startswith("flite:") and splits[v] == "train" else 1.0 for v in voices}
    total = {s: sum(w[v] for v in voices if splits[v] == s) for s in SPLITS}
    weights = np.array([fraction[splits[v]] * w[v] / total[splits[v]] for v in voices])
    if weights.sum() <= 0:
        raise ConfigError(problem("make_speech_corpus: split_fractions", expected="a positive fraction for a "
                                  "split that has voices", got=repr(split_fractions)))
    probs = weights / weights.sum()
    rng = np.random.default_rng(seed)
    plan = []
    for i in range(n_digits + n_commands):
        if i < n_digits:
            kind = "digits"
            length = int(rng.integers(1, 8))
            text = " ".join(DIGIT_WORDS[d] for d in rng.integers(0, 10, size=length))
        else:
            kind, text = "command", COMMANDS[int(rng.integers(len(COMMANDS)))]
        voice = voices[int(rng.choice(len(voices), p=probs))]
        u_speed, u_pitch, pad_start, pad_end = rng.uniform(size=4)
        if voice.startswith("espeak:"):
            speed, pitch = float(round(130 + 70 * u_speed)), int(np.rint(30 + 40 * u_pitch))  # words/min, 0-99
        else:
            speed, pitch = round(0.85 + 0.3 * u_speed, 2), int(np.rint(-300 + 1000 * u_pitch))  # tempo, cents
        noises = []
        for snr in snrs:
            kind_noise, noise_seed = ("white", "pink")[int(rng.integers(2))], int(rng.integers(2 ** 63))
            noises.append((snr, "" if snr is None else kind_noise, noise_seed))
        plan.append(Utterance(f"u{i:05d}", kind, text, voice, speed, pitch,
                              (round(0.05 + 0.25 * pad_start, 2), round(0.05 + 0.25 * pad_end, 2)), tuple(noises)))
    return plan
