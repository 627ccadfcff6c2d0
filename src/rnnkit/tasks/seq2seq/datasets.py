"""Offline corpora for sequence-to-sequence models: German->English sentence pairs from the
Ding dictionary (Debian ``trans-de-en``) and (message -> reply) pairs from the chit-chat
corpus (``chitchat_dataset``).

Ding. Each entry reads ``de1 | de2 | ... :: en1 | en2 | ...``; the i-th ``|`` part of one
side translates the i-th of the other. Cleaning, in order, for every part:

1. drop annotations: ``{f}``-style grammar tags, ``[ugs.]``-style notes, ``<...>`` and
   ``(...)`` remarks; typographic apostrophes ``’`` become ``'``; spaces are collapsed;
2. a part that holds alternatives (``Satz eins.; Satz zwei.``) keeps its first one;
3. a pair is kept when both sides end in ``.``, ``?`` or ``!`` (whole sentences), hold at
   least two words, and neither contains a ``/`` alternative (``It's not / It isn't``).

Exact duplicate pairs are kept once. The split never puts one sentence in two splits:
pairs are linked when they share a German or an English sentence, and each connected
group goes whole to one split, chosen from a hash of its first sentence (deterministic,
independent of the order of the file).

Chit-chat. A conversation is a list of turns, each a list of consecutive messages by one
sender (joined with a space). Every turn after the first is a reply to the turn before it;
the source is that message, preceded by the turn before it (the context) and
:data:`SEP` when there is one. Conversations go whole to one split (hash of their id).

Both are in the data-set registry (``ding-de-en``, ``chitchat``) as tables ``source, target,
split`` (``rnnkit datasets export ding-de-en``).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

from rnnkit.data.datasets import DatasetInfo, register
from rnnkit.data.text.reading import PathLike, iter_lines
from rnnkit.data.text.tokenizers import WORD_PATTERN
from rnnkit.errors import ConfigError, DataError, problem
from rnnkit.tasks.seq2seq.features import SEP

DING_PATH = Path("/usr/share/trans/de-en")
SPLITS = ("train", "test", "all")

_NOTES = re.compile(r"\{[^}]*\}|\[[^\]]*\]|<[^>]*>|\([^)]*\)")
_SPACES = re.compile(r"\s+")
_ALTERNATIVE = re.compile(r"(?<=[.?!]);\s*")
_END = (".", "?", "!")


def clean_part(part: str) -> str:
    """One ``|`` part cleaned by steps 1 and 2 of the module doc."""
    text = _NOTES.sub(" ", part.replace("’", "'").replace("‘", "'"))
    text = _SPACES.sub(" ", text).strip()
    text = _ALTERNATIVE.split(text)[0].strip()
    return re.sub(r"\s+([.?!,;:])", r"\1", text)


def _is_sentence(text: str) -> bool:
    return text.endswith(_END) and len(text.split()) >= 2 and "/" not in text and ";" not in text


def parse_ding(path: PathLike = DING_PATH) -> list[tuple[str, str]]:
    """Every cleaned whole-sentence ``(german, english)`` pair of the dictionary file, in
    file order, without duplicates (parsed once per path and process)."""
    return list(_parse_ding(str(Path(path).resolve()) if Path(path).exists() else str(path)))


@lru_cache(maxsize=2)
def _parse_ding(path: str) -> tuple[tuple[str, str], ...]:
    path = Path(path)
    if not path.exists() and path == DING_PATH:
        raise DataError(problem("ding_pairs: the Ding dictionary", expected=f"a file at {path}",
                                got="none", fix="sudo apt-get install trans-de-en"))
    pairs, seen = [], set()
    for parts in _ding_lines(path):
        for d, e in parts:
            if _is_sentence(d) and _is_sentence(e) and (d, e) not in seen:
                seen.add((d, e))
                pairs.append((d, e))
    return tuple(pairs)


def _ding_lines(path: PathLike):
    """The cleaned ``(german, english)`` parts (:func:`clean_part`) of each entry line of a
    dictionary file, one list per line (comments and lines without `` :: `` skipped)."""
    for _, line in iter_lines(Path(path), "utf-8"):
        if line.startswith("#") or " :: " not in line:
            continue
        de, en = line.split(" :: ", 1)
        yield [(clean_part(d), clean_part(e)) for d, e in zip(de.split(" | "), en.split(" | "))]


def _bucket(key: str) -> float:
    """A number in [0, 1) from ``key``, the same on every machine."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:12], 16) / 16 ** 12


def group_pairs(pairs: list[tuple[str, str]]) -> list[int]:
    """A group id per pair: pairs sharing a German or English sentence (directly or through
    other pairs) share a group (union-find)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for d, e in pairs:
        a, b = find("de:" + d), find("en:" + e)
        if a != b:
            parent[max(a, b)] = min(a, b)
    roots = [find("de:" + d) for d, _ in pairs]
    ids = {r: i for i, r in enumerate(dict.fromkeys(roots))}
    return [ids[r] for r in roots]


def _check_split(split: str, test_fraction: float, who: str, splits: tuple = SPLITS) -> None:
    if split not in splits:
        raise ConfigError(problem(f"{who}: split", expected=" or ".join(map(repr, splits)),
                                  got=repr(split)))
    if not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ConfigError(problem(f"{who}: test_fraction", expected="a number in (0, 1)",
                                  got=repr(test_fraction)))


def ding_pairs(split: str = "train", test_fraction: float = 0.08, path: PathLike = DING_PATH,
               dev_fraction: float = 0.0) -> tuple[list[str], list[str]]:
    """``(german, english)`` sentence lists of one split of the Ding whole-sentence pairs
    (see the module doc); no German or English sentence is in two splits.

    ``dev_fraction > 0`` carves a development split out of training (groups whose hash
    lies in ``[test_fraction, test_fraction + dev_fraction)``): ``"train"`` then leaves
    them out and ``"dev"`` returns them; the test split does not change."""
    _check_split(split, test_fraction, "ding_pairs", SPLITS + ("dev",))
    if not isinstance(dev_fraction, (int, float)) or not 0 <= dev_fraction < 1 - test_fraction:
        raise ConfigError(problem("ding_pairs: dev_fraction", expected=f"a number in [0, {1 - test_fraction:g})",
                                  got=repr(dev_fraction)))
    if split == "dev" and not dev_fraction:
        raise ConfigError(problem("ding_pairs: split 'dev'", expected="dev_fraction > 0",
                                  got=dev_fraction, fix="pass dev_fraction=0.065 (say)"))
    pairs = parse_ding(path)
    groups = group_pairs(pairs)
    first: dict[int, str] = {}
    for (d, _), g in zip(pairs, groups):
        first.setdefault(g, d)
    edges = {"test": (0.0, test_fraction), "dev": (test_fraction, test_fraction + dev_fraction),
             "train": (test_fraction + dev_fraction, 1.0), "all": (0.0, 1.0)}
    low, high = edges[split]
    chosen = [p for p, g in zip(pairs, groups) if low <= _bucket(first[g]) < high]
    return [d for d, _ in chosen], [e for _, e in chosen]


def ding_entries(split: str = "train", test_fraction: float = 0.08, path: PathLike = DING_PATH,
                 dev_fraction: float = 0.0, max_words: int = 4,
                 known: tuple[list[str], list[str]] | None = None) -> tuple[list[str], list[str]]:
    """``(german, english)`` word and phrase entries of the Ding dictionary (the parts that
    are not whole sentences), for training beside :func:`ding_pairs`.

    A part is cleaned like a sentence (:func:`clean_part`), keeps its first ``;``
    alternative, and is kept when neither side contains a ``/`` alternative and both have
    at most ``max_words`` words. A *line* that holds any sentence of a split other than
    ``split`` is skipped whole, so no word entry comes from the line of a held-out
    sentence. Duplicates are kept once, in file order.

    ``known=(sources, targets)`` (say the training sentences) keeps only the entries whose
    every German word occurs in ``sources`` (case-insensitive) and every English word in
    ``targets`` (words as :data:`~rnnkit.data.text.tokenizers.WORD_PATTERN` finds them):
    more examples of the words those sentences use, without the hundreds of thousands of
    technical terms that would grow both vocabularies and the training time."""
    _check_split(split, test_fraction, "ding_entries", ("train",))
    if not isinstance(max_words, int) or isinstance(max_words, bool) or max_words < 1:
        raise ConfigError(problem("ding_entries: max_words", expected="an integer >= 1", got=repr(max_words)))
    kept = ding_pairs("train", test_fraction, path, dev_fraction)
    held = {s for pair in parse_ding(path) for s in pair} - set(kept[0]) - set(kept[1])
    entries, seen = [], set()
    for parts in _ding_lines(path):
        if any(d in held or e in held for d, e in parts):
            continue
        for d, e in parts:
            d, e = d.split(";")[0].strip(), e.split(";")[0].strip()
            if (d and e and not (_is_sentence(d) or _is_sentence(e)) and "/" not in d + e
                    and len(d.split()) <= max_words and len(e.split()) <= max_words and (d, e) not in seen):
                seen.add((d, e))
                entries.append((d, e))
    if known is not None:
        words = re.compile(WORD_PATTERN)
        source = {w.lower() for text in known[0] for w in words.findall(text)}
        target = {w for text in known[1] for w in words.findall(text)}
        entries = [(d, e) for d, e in entries if all(w.lower() in source for w in words.findall(d))
                   and all(w in target for w in words.findall(e))]
    return [d for d, _ in entries], [e for _, e in entries]


def chitchat_pairs(split: str = "train", test_fraction: float = 0.1, context: bool = True
                   ) -> tuple[list[str], list[str]]:
    """``(sources, replies)`` of one split of the chit-chat corpus (see the module doc);
    ``context=False`` leaves the previous turn out of the sources."""
    _check_split(split, test_fraction, "chitchat_pairs")
    try:
        import chitchat_dataset
    except ImportError:
        raise DataError(problem("chitchat_pairs: package chitchat_dataset", expected="installed",
                                got="not found", fix="pip install chitchat_dataset")) from None
    conversations = chitchat_dataset.ConversationDataset()._data
    sources, replies = [], []
    for key in sorted(conversations):
        if split != "all" and (_bucket(key) < test_fraction) != (split == "test"):
            continue
        turns = [" ".join(m["text"].strip() for m in turn if m.get("text", "").strip())
                 for turn in conversations[key]["messages"]]
        turns = [t for t in turns if t]
        for i in range(1, len(turns)):
            before = f"{turns[i - 2]} {SEP} " if context and i >= 2 else ""
            sources.append(before + turns[i - 1])
            replies.append(turns[i])
    return sources, replies


def pairs_frame(load) -> pd.DataFrame:
    """The train and test pairs of ``load`` (:func:`ding_pairs`, :func:`chitchat_pairs`) as one
    table: ``source, target, split``."""
    parts = []
    for split in ("train", "test"):
        sources, targets = load(split)
        parts.append(pd.DataFrame({"source": sources, "target": targets, "split": split}))
    return pd.concat(parts, ignore_index=True)


register(DatasetInfo(
    "ding-de-en", "trans-de-en (apt)", "18,040 German -> English sentence pairs of the Ding "
    "dictionary; 16,640 train / 1400 test, no sentence in two splits; columns source, target, "
    "split", lambda: pairs_frame(ding_pairs), targets=("target",), kind="seq2seq"))
register(DatasetInfo(
    "chitchat", "chitchat_dataset", "131,557 (previous turn <sep> message -> reply) pairs of "
    "7168 conversations; 10% of conversations test; columns source, target, split",
    lambda: pairs_frame(chitchat_pairs), targets=("target",), kind="seq2seq"))
