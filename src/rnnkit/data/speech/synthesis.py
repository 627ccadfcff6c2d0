"""Speaking one utterance: voices, the espeak-ng / flite and sox calls, and added noise.

A voice is ``"espeak:ACCENT+VARIANT"`` (an espeak-ng accent with a voice variant, rate
``speed`` words/min and ``pitch`` 0-99) or ``"flite:VOICE"`` (tempo factor ``speed`` and a
``pitch`` shift in cents, both applied by sox). sox converts the speech to mono 16-bit at
``sample_rate``, trims leading/trailing silence (below -60 dBFS), normalises the peak to
-6 dBFS and pads silence at each end; :func:`add_noise` mixes white or pink noise in at a
given SNR.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnkit.errors import ConfigError, RnnkitError, problem, unknown_name

ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp")
ESPEAK_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
FLITE_VOICES = ("kal", "awb", "rms", "slt")
TOOLS_FIX = "install them: sudo apt-get install espeak-ng flite sox"


class MissingToolError(RnnkitError, RuntimeError):
    """A program the corpus generator runs (espeak-ng, flite, sox) is not installed."""


class SynthesisError(RnnkitError, RuntimeError):
    """A synthesizer or sox call failed."""


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


def parse_voice(voice: str) -> tuple[str, str, str | None]:
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


def check_tools(voices: list[str]) -> None:
    """Every program needed is on PATH, and every voice exists (the synthesizers silently fall
    back to a default voice for an unknown name, so this is checked here)."""
    synths = {parse_voice(v)[0] for v in voices}
    needed = ["sox"] + (["espeak-ng"] if "espeak" in synths else []) + (["flite"] if "flite" in synths else [])
    missing = [t for t in needed if shutil.which(t) is None]
    if missing:
        raise MissingToolError(problem("make_speech_corpus: programs", expected=", ".join(needed) + " on PATH",
                                       got="not found: " + ", ".join(missing), fix=TOOLS_FIX))
    known = installed_voices(tuple(sorted(synths)))
    for voice in voices:
        synth, name, variant = parse_voice(voice)
        for part, kind in ((name, f"{synth} voice"), (variant, "espeak variant")):
            if part is not None and part not in known[kind]:
                raise ConfigError(problem(f"make_speech_corpus: voice {voice!r}", expected=f"an installed {kind}",
                                          got=repr(part), fix=unknown_name(kind, part, known[kind])))


@functools.lru_cache(maxsize=4)
def installed_voices(synths: tuple[str, ...]) -> dict[str, set[str]]:
    """Installed espeak-ng languages (mbrola left out) and variants, and flite voices."""
    known: dict[str, set[str]] = {"espeak voice": set(), "espeak variant": set(), "flite voice": set()}
    if "espeak" in synths:
        for line in run(["espeak-ng", "--voices"]).splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 5 and not fields[4].startswith("mb/") and fields[1] != "variant":
                known["espeak voice"].add(fields[1])
        for line in run(["espeak-ng", "--voices=variant"]).splitlines()[1:]:
            fields = line.split()
            file = next((f for f in fields if f.startswith("!v/")), None)
            if file:
                known["espeak variant"].add(file[3:])
    if "flite" in synths:
        known["flite voice"] = set(run(["flite", "-lv"]).split(":", 1)[-1].split())
    return known


def render(u: Utterance, *, out_dir: Path, sample_rate: int) -> tuple[float, list[str]]:
    """Synthesise ``u``, write its clean and noisy copies; return (seconds, relative paths)."""
    import soundfile as sf

    clean = synthesize(u, sample_rate)  # (n,) int16
    signal = clean.astype(np.float64) / 32768.0
    paths = []
    for snr, noise_kind, noise_seed in u.noises:
        if snr is None:
            samples, name = clean, f"wav/{u.utt}_clean.wav"
        else:
            samples = to_int16(add_noise(signal, float(snr), kind=noise_kind, seed=noise_seed))
            name = f"wav/{u.utt}_snr{float(snr):g}.wav"
        sf.write(out_dir / name, samples, sample_rate, subtype="PCM_16")
        paths.append(name)
    return round(len(clean) / sample_rate, 3), paths


def synthesize(u: Utterance, sample_rate: int) -> np.ndarray:
    """The clean utterance as int16 ``(n,)`` at ``sample_rate``: synthesizer -> sox (mono,
    16-bit, resample, tempo/pitch for flite, trim, -6 dBFS peak, pad)."""
    import soundfile as sf

    synth, name, variant = parse_voice(u.voice)
    with tempfile.TemporaryDirectory(prefix="rnnkit-speech-") as tmp:
        raw, out = os.path.join(tmp, "raw.wav"), os.path.join(tmp, "out.wav")
        effects: list[str] = []
        if synth == "espeak":
            voice = name + (f"+{variant}" if variant else "")
            run(["espeak-ng", "-v", voice, "-s", str(int(u.speed)), "-p", str(u.pitch), "-w", raw, u.transcript])
        else:
            run(["flite", "-voice", name, "-t", u.transcript, "-o", raw])
            effects += ["tempo", "-s", f"{u.speed:g}", "pitch", str(u.pitch)]
        trim = ["silence", "1", "0.01", "0.1%"]
        effects += trim + ["reverse"] + trim + ["reverse", "norm", "-6", "pad", f"{u.pad[0]:g}", f"{u.pad[1]:g}"]
        # -D: no dither, -R: repeatable; nothing random happens in sox
        run(["sox", "-D", "-R", "-V1", raw, "-c", "1", "-b", "16", "-r", str(sample_rate), out] + effects)
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


def to_int16(x: np.ndarray) -> np.ndarray:
    """Float in ``[-1, 1)`` -> int16 by ``round(32768 x)``, clipped (inverse of ``/ 32768``)."""
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def run(command: list[str]) -> str:
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
