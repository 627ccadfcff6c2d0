"""A synthetic spoken-digits-and-commands corpus, made offline with espeak-ng, flite and sox.

Each utterance is either a digit string of 1-7 digits read as words (``"three one four
one"``, from :data:`DIGIT_WORDS`) or one of the :data:`COMMANDS` (``"turn on the light"``).
It is spoken by one *voice*: an espeak-ng accent with a voice variant
(``"espeak:en-us+f3"``, rate ``speed`` words/min and ``pitch`` 0-99) or a flite voice
(``"flite:slt"``, tempo factor ``speed`` and a ``pitch`` shift in cents, both applied by
sox). sox converts it to mono 16-bit at ``sample_rate``, trims leading/trailing silence
(below -60 dBFS), normalises the peak to -6 dBFS and pads 0.05-0.3 s of silence at each end.

Every clean utterance ``s`` is written once per entry of ``snrs``: clean for ``None``, else
mixed with white or pink (1/f power) noise ``n`` scaled so that

    SNR = 10 log10(mean(s^2) / mean(n^2))   (dB, means over the whole file)

equals the requested value; a mix that would clip is scaled down as a whole (the SNR is
kept). All copies of one utterance share its ``utt`` id, so the noise can be recovered as
``noisy - clean``. Text, voice, speed, pitch, padding, noise kind and noise samples all come
from ``numpy.random.default_rng(seed)``: the same seed gives the same manifest and audio.

Splits hold out whole voices: no voice is in two of train/dev/test, so the test error is
the error on speakers never heard in training. Voices are drawn so that the splits get
about ``split_fractions`` = 70 % / 10 % / 20 % of the utterances.

>>> manifest = make_speech_corpus("speech", n_digits=1200, n_commands=400)
>>> manifest = read_manifest("speech/manifest.csv")     # absolute paths, checked
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.errors import ConfigError, DataError, RnnkitError, problem, unknown_name

PathLike = str | os.PathLike

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
"""Spoken digits 0-9 (``"zero"``, never ``"oh"``)."""

COMMANDS = ("turn on the light", "turn off the light", "set a timer", "play music", "stop", "next song",
            "previous song", "volume up", "volume down", "what time is it", "call mom", "call dad",
            "open the door", "close the door", "start", "pause", "go back", "yes", "no", "cancel")
"""The 20 voice commands."""

ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp")
ESPEAK_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
FLITE_VOICES = ("kal", "awb", "rms", "slt")
DEFAULT_VOICES = tuple(f"espeak:{a}+{v}" for a in ESPEAK_ACCENTS for v in ESPEAK_VARIANTS) + \
    tuple(f"flite:{v}" for v in FLITE_VOICES)
"""60 espeak-ng accent x variant voices and 4 flite voices."""

DEFAULT_TEST_VOICES = ("flite:slt", "espeak:en-us+f4", "espeak:en-us+m7", "espeak:en-gb+m6", "espeak:en-029+f2",
                       "espeak:en-gb-scotland+m3", "espeak:en-gb-x-rp+f5")
"""Held out for testing: both synthesizers, both genders, every accent."""

DEFAULT_DEV_VOICES = ("espeak:en-gb+f3", "espeak:en-us+m2", "espeak:en-029+m5")
SPLITS = ("train", "dev", "test")
MANIFEST_COLUMNS = ("path", "transcript", "kind", "voice", "speed", "pitch", "snr", "noise", "split", "utt",
                    "seconds")
REQUIRED_COLUMNS = ("path", "transcript")
TOOLS_FIX = "install them: sudo apt-get install espeak-ng flite sox"


class MissingToolError(RnnkitError, RuntimeError):
    """A program the corpus generator runs (espeak-ng, flite, sox) is not installed."""


class SynthesisError(RnnkitError, RuntimeError):
    """A synthesizer or sox call failed."""


def corpus_vocabulary() -> list[str]:
    """Every word that can occur in a transcript, sorted."""
    return sorted({w for w in DIGIT_WORDS} | {w for c in COMMANDS for w in c.split()})


@dataclass(frozen=True)
class Utterance:
    """One clean utterance to synthesise and its noisy copies (all randomness drawn up front)."""

    utt: str
    kind: str
    transcript: str
    voice: str
    speed: float
    pitch: int
    pad: tuple[float, float]
    noises: tuple[tuple[float | None, str, int], ...]  # (snr dB or None, "white"/"pink"/"", noise seed)


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
    _check_tools(voices)
    utterances = _plan(n_digits, n_commands, snrs, seed, voices, splits, split_fractions, float(flite_weight))
    out_dir = Path(out_dir)
    (out_dir / "wav").mkdir(parents=True, exist_ok=True)
    render = functools.partial(_render, out_dir=out_dir, sample_rate=sample_rate)
    rows: list[dict] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(render, utterances)
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


def read_manifest(path: PathLike) -> pd.DataFrame:
    """Read and check a manifest CSV (or a folder holding ``manifest.csv``).

    Columns ``path`` and ``transcript`` are required; the others of :data:`MANIFEST_COLUMNS`
    are optional (absent ones are added empty; ``split`` must be train/dev/test or empty);
    any other column is an error naming the nearest valid one. Every ``path`` is resolved relative to the
    manifest's folder, must exist, and is returned absolute. Transcripts are lower-cased
    strings (a missing one is ``""``).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.csv"
    if not path.is_file():
        raise DataError(problem(f"manifest {str(path)!r}", expected="an existing CSV file", got="no such file",
                                fix="make one with `rnnkit datasets make-speech OUT` or check the path"))
    try:
        frame = pd.read_csv(path, dtype={"path": str, "transcript": str, "split": str, "voice": str,
                                         "noise": str, "utt": str, "kind": str}, keep_default_na=False,
                            na_values={"snr": [""], "speed": [""], "pitch": [""], "seconds": [""]})
    except pd.errors.EmptyDataError:
        raise DataError(problem(f"manifest {str(path)!r}", expected="a CSV with a header and rows",
                                got="an empty file")) from None
    for column in frame.columns:
        if column not in MANIFEST_COLUMNS:
            raise DataError(problem(f"manifest {str(path)!r}: column {column!r}", expected="one of "
                                    + ", ".join(MANIFEST_COLUMNS), got=repr(column),
                                    fix=unknown_name("manifest column", str(column), MANIFEST_COLUMNS)))
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(problem(f"manifest {str(path)!r}", expected="columns " + ", ".join(REQUIRED_COLUMNS),
                                got=f"no column {', '.join(map(repr, missing))} (columns: {list(frame.columns)})",
                                fix="add the missing column(s) to the CSV header"))
    if frame.empty:
        raise DataError(problem(f"manifest {str(path)!r}", expected="at least one row", got="a header only",
                                fix="list one WAV file per row"))
    bad_splits = sorted(set(frame["split"]) - {*SPLITS, ""}) if "split" in frame.columns else []
    if bad_splits:
        raise DataError(problem(f"manifest {str(path)!r}: column 'split'", expected=" / ".join(SPLITS) + " or empty",
                                got=", ".join(map(repr, bad_splits[:5]))))
    base = path.resolve().parent
    absolute = [str(p if p.is_absolute() else base / p) for p in map(Path, frame["path"])]
    absent = [(i, p) for i, p in enumerate(absolute) if not os.path.isfile(p)]
    if absent:
        first = ", ".join(f"row {i + 2}: {p!r}" for i, p in absent[:3])
        raise DataError(problem(f"manifest {str(path)!r}", expected="every path to be an existing audio file "
                                "(relative paths are relative to the manifest's folder)",
                                got=f"{len(absent)} missing, e.g. {first}", fix="regenerate the corpus or fix "
                                "the paths"))
    frame["path"] = absolute
    frame["transcript"] = frame["transcript"].str.strip().str.lower()
    for column in MANIFEST_COLUMNS:
        if column not in frame.columns:
            frame[column] = np.nan if column in ("speed", "pitch", "snr", "seconds") else ""
    return frame[list(MANIFEST_COLUMNS)]


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
        _parse_voice(voice)
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


def _parse_voice(voice: str) -> tuple[str, str, str | None]:
    """``"espeak:en-us+f3"`` -> ``("espeak", "en-us", "f3")``; ``"flite:slt"`` -> ``("flite", "slt", None)``."""
    match = re.fullmatch(r"(\w+):([\w-]+)(?:\+([\w-]+))?", str(voice))
    if not match or match.group(1) not in ("espeak", "flite") or (match.group(1) == "flite" and match.group(3)):
        synth = str(voice).split(":")[0]
        fix = unknown_name("synthesizer", synth, ("espeak", "flite")) if ":" in str(voice) and \
            synth not in ("espeak", "flite") else "write 'espeak:ACCENT+VARIANT' or 'flite:VOICE'"
        raise ConfigError(problem("make_speech_corpus: voice", expected="'espeak:ACCENT+VARIANT' "
                                  "(e.g. 'espeak:en-us+f3') or 'flite:VOICE' (e.g. 'flite:slt')",
                                  got=repr(voice), fix=fix))
    return match.group(1), match.group(2), match.group(3)


def _check_tools(voices: list[str]) -> None:
    """Every program needed is on PATH, and every voice exists (the synthesizers silently fall
    back to a default voice for an unknown name, so this is checked here)."""
    synths = {_parse_voice(v)[0] for v in voices}
    needed = ["sox"] + (["espeak-ng"] if "espeak" in synths else []) + (["flite"] if "flite" in synths else [])
    missing = [t for t in needed if shutil.which(t) is None]
    if missing:
        raise MissingToolError(problem("make_speech_corpus: programs", expected=", ".join(needed) + " on PATH",
                                       got="not found: " + ", ".join(missing), fix=TOOLS_FIX))
    known = _installed_voices(tuple(sorted(synths)))
    for voice in voices:
        synth, name, variant = _parse_voice(voice)
        for part, kind in ((name, f"{synth} voice"), (variant, "espeak variant")):
            if part is not None and part not in known[kind]:
                raise ConfigError(problem(f"make_speech_corpus: voice {voice!r}", expected=f"an installed {kind}",
                                          got=repr(part), fix=unknown_name(kind, part, known[kind])))


@functools.lru_cache(maxsize=4)
def _installed_voices(synths: tuple[str, ...]) -> dict[str, set[str]]:
    """Installed espeak-ng languages (mbrola left out) and variants, and flite voices."""
    known: dict[str, set[str]] = {"espeak voice": set(), "espeak variant": set(), "flite voice": set()}
    if "espeak" in synths:
        for line in _run(["espeak-ng", "--voices"]).splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 5 and not fields[4].startswith("mb/") and fields[1] != "variant":
                known["espeak voice"].add(fields[1])
        for line in _run(["espeak-ng", "--voices=variant"]).splitlines()[1:]:
            fields = line.split()
            file = next((f for f in fields if f.startswith("!v/")), None)
            if file:
                known["espeak variant"].add(file[3:])
    if "flite" in synths:
        known["flite voice"] = set(_run(["flite", "-lv"]).split(":", 1)[-1].split())
    return known


def _plan(n_digits: int, n_commands: int, snrs: Sequence[float | None], seed: int, voices: list[str],
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


def _render(u: Utterance, *, out_dir: Path, sample_rate: int) -> tuple[float, list[str]]:
    """Synthesise ``u``, write its clean and noisy copies; return (seconds, relative paths)."""
    import soundfile as sf

    clean = _synthesize(u, sample_rate)  # (n,) int16
    signal = clean.astype(np.float64) / 32768.0
    paths = []
    for snr, noise_kind, noise_seed in u.noises:
        if snr is None:
            samples, name = clean, f"wav/{u.utt}_clean.wav"
        else:
            samples = _to_int16(add_noise(signal, float(snr), kind=noise_kind, seed=noise_seed))
            name = f"wav/{u.utt}_snr{float(snr):g}.wav"
        sf.write(out_dir / name, samples, sample_rate, subtype="PCM_16")
        paths.append(name)
    return round(len(clean) / sample_rate, 3), paths


def _synthesize(u: Utterance, sample_rate: int) -> np.ndarray:
    """The clean utterance as int16 ``(n,)`` at ``sample_rate``: synthesizer -> sox (mono,
    16-bit, resample, tempo/pitch for flite, trim, -6 dBFS peak, pad)."""
    import soundfile as sf

    synth, name, variant = _parse_voice(u.voice)
    with tempfile.TemporaryDirectory(prefix="rnnkit-speech-") as tmp:
        raw, out = os.path.join(tmp, "raw.wav"), os.path.join(tmp, "out.wav")
        effects: list[str] = []
        if synth == "espeak":
            voice = name + (f"+{variant}" if variant else "")
            _run(["espeak-ng", "-v", voice, "-s", str(int(u.speed)), "-p", str(u.pitch), "-w", raw, u.transcript])
        else:
            _run(["flite", "-voice", name, "-t", u.transcript, "-o", raw])
            effects += ["tempo", "-s", f"{u.speed:g}", "pitch", str(u.pitch)]
        trim = ["silence", "1", "0.01", "0.1%"]
        effects += trim + ["reverse"] + trim + ["reverse", "norm", "-6", "pad", f"{u.pad[0]:g}", f"{u.pad[1]:g}"]
        # -D: no dither, -R: repeatable; nothing random happens in sox
        _run(["sox", "-D", "-R", "-V1", raw, "-c", "1", "-b", "16", "-r", str(sample_rate), out] + effects)
        samples, rate = sf.read(out, dtype="int16")
    if rate != sample_rate or samples.ndim != 1 or not np.any(samples):
        raise SynthesisError(problem(f"make_speech_corpus: utterance {u.utt} ({u.voice}, {u.transcript!r})",
                                     expected=f"mono speech at {sample_rate} Hz",
                                     got=f"{samples.shape} samples at {rate} Hz, peak {np.abs(samples).max()}",
                                     fix="check the voice with espeak-ng/flite by hand"))
    return samples


def add_noise(signal: np.ndarray, snr: float, *, kind: str = "white", seed: int = 0) -> np.ndarray:
    """``signal (n,)`` + noise at ``snr`` dB: ``n = g * z`` with ``z`` white (standard normal)
    or pink (white shaped by ``1/sqrt(f)`` in amplitude, i.e. ``1/f`` power, DC removed) and
    ``g^2 = mean(signal^2) / (10^(snr/10) * mean(z^2))``. A mix that would clip is scaled by
    ``0.99 / peak`` (signal and noise alike, so the SNR is unchanged)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(len(signal))
    if kind == "pink":
        spectrum = np.fft.rfft(z)
        f = np.arange(len(spectrum), dtype=np.float64)
        spectrum[1:] /= np.sqrt(f[1:])
        spectrum[0] = 0.0
        z = np.fft.irfft(spectrum, n=len(signal))
    elif kind != "white":
        raise ConfigError(problem("add_noise: kind", expected="'white' or 'pink'", got=repr(kind)))
    power_signal, power_noise = np.mean(signal ** 2), np.mean(z ** 2)
    gain = np.sqrt(power_signal / (10.0 ** (snr / 10.0) * power_noise)) if power_noise > 0 else 0.0
    mixed = signal + gain * z
    peak = np.abs(mixed).max()
    return mixed * (0.99 / peak) if peak > 0.99 else mixed


def _to_int16(x: np.ndarray) -> np.ndarray:
    """Float in ``[-1, 1)`` -> int16 by ``round(32768 x)``, clipped (inverse of ``/ 32768``)."""
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def _run(command: list[str]) -> str:
    """Run a program; its stdout, or :class:`SynthesisError` with its stderr."""
    try:
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise MissingToolError(problem("make_speech_corpus: program", expected=f"{command[0]!r} on PATH",
                                       got="not found", fix=TOOLS_FIX)) from None
    except subprocess.TimeoutExpired:
        raise SynthesisError(problem(f"make_speech_corpus: {command[0]}", expected="to finish within 120 s",
                                     got=f"a timeout running {' '.join(command)}")) from None
    if done.returncode != 0:
        raise SynthesisError(problem(f"make_speech_corpus: {command[0]}", expected="exit status 0",
                                     got=f"{done.returncode}: {done.stderr.strip()[-500:]} "
                                         f"(command: {' '.join(command)})"))
    return done.stdout
