"""CTC decoding: frame-wise log-probabilities ``(T, C)`` -> text.

**The CTC collapse rule.** A frame path ``π = π_1 … π_T`` over the alphabet plus the blank
``∅`` maps to a label sequence ``B(π)`` by first merging runs of the same symbol and then
removing blanks: ``B(a a ∅ a b b) = "aab"``, ``B(a a a) = "a"`` — a doubled letter needs a
blank between its two frames. ``p(y | x) = Σ_{π : B(π) = y} Π_t p(π_t | t)``.

**Greedy** (best path): ``π*_t = argmax_c log p(c | t)``, output ``B(π*)``. Fast, but the most
probable path need not belong to the most probable ``y``: with two frames of ``p(∅) = 0.6``,
``p(a) = 0.4`` greedy says ``""`` (0.36) while ``p("a") = 0.4·0.6 + 0.6·0.4 + 0.4·0.4 = 0.64``.

**Prefix beam search** (Hannun et al. 2014, in log space). For every kept prefix ``ℓ`` it
tracks ``P_b(ℓ, t)`` (paths over frames ``1..t`` with ``B(π) = ℓ`` ending in a blank) and
``P_nb(ℓ, t)`` (ending in ``ℓ``'s last character). With ``P(ℓ) = P_b + P_nb`` and ``p_t(c)``
the model's frame probability, frame ``t`` does::

    P_b(ℓ, t)      += P(ℓ, t-1) · p_t(∅)                         # a blank keeps ℓ
    P_nb(ℓ, t)     += P_nb(ℓ, t-1) · p_t(last(ℓ))               # a repeat collapses into ℓ
    P_nb(ℓ + c, t) += P(ℓ, t-1) · p_t(c)        for c ≠ last(ℓ)
    P_nb(ℓ + c, t) += P_b(ℓ, t-1) · p_t(c)      for c = last(ℓ)  # needs the blank between

then keeps the ``beam`` prefixes of highest ``P``; the answer is the best final prefix.
Characters with ``log p_t(c) < prune`` are not tried at frame ``t`` (the blank always is).
Sums are ``logaddexp`` of log-probabilities. Every search forbids a space at the start
or after a space, so each text has one spelling (trailing spaces are dropped).

**Constraints** limit which prefixes may live (a :class:`Constraint` walks a state along
the characters; ``None`` = forbidden) and which may end (``accepts``):

* :class:`Vocabulary` — words from a list, separated by single spaces: a trie over the
  words; a character extends the current word only into a prefix of some word, a space
  is allowed only after a whole word, and the text must end on a whole word;
* :class:`Phrases` — a grammar of allowed full transcripts: a trie over the whole texts;
* :class:`AnyOf` — the union of constraints (e.g. any string of digit words *or* one of
  the command phrases): a prefix lives while one of them allows it;
* :class:`Pattern` — a regular expression that the whole transcript must match. Python
  regexes cannot test prefixes, so this one prunes nothing: it picks the best final
  beam that matches (widen ``beam`` to give it more candidates).

With a constraint that no kept beam satisfies at the end, the answer is ``""``; the empty
transcript is always allowed (silence).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import torch

from rnnkit.errors import ConfigError, DataError, problem
from rnnkit.tasks.asr import alphabet

NEG_INF = -math.inf
DEFAULT_PRUNE = math.log(1e-4)


# ---- greedy ---------------------------------------------------------------------------------
def collapse(path: Iterable[int]) -> list[int]:
    """``B(π)``: merge runs of the same id, then drop blanks (id 0)."""
    out, prev = [], None
    for i in path:
        i = int(i)
        if i != prev and i != alphabet.BLANK:
            out.append(i)
        prev = i
    return out


def greedy(log_probs) -> str:
    """Best-path decoding of one utterance ``(T, C)``."""
    lp = _as_array(log_probs)
    return alphabet.decode(collapse(lp.argmax(1))) if len(lp) else ""


# ---- constraints ----------------------------------------------------------------------------
class Constraint:
    """Which prefixes may live and which texts may end. A state walks the characters."""

    prunes = True  # False: only the final beams are checked (Pattern)

    def start(self):
        return None

    def advance(self, state, char: str):
        """The state after ``char`` (a letter, ``'`` or ``" "``), or None when forbidden."""
        return state

    def accepts(self, state, text: str) -> bool:
        return True


@dataclass
class _Node:
    children: dict = field(default_factory=dict)
    end: bool = False


def _trie(items: Iterable[str]) -> _Node:
    root = _Node()
    for item in items:
        node = root
        for ch in item:
            node = node.children.setdefault(ch, _Node())
        node.end = True
    return root


def _clean(items, what: str) -> list[str]:
    if isinstance(items, str) or not hasattr(items, "__iter__"):
        raise ConfigError(problem(what, expected="a list of strings", got=type(items).__name__))
    out = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(problem(what, expected="strings", got=f"{type(item).__name__} {item!r}"))
        text = alphabet.normalise(item)
        alphabet.encode(text, where=what)  # refuses characters the model cannot write
        if text:
            out.append(text)
    return sorted(set(out))


class Vocabulary(Constraint):
    """Words from ``words`` separated by single spaces (see the module doc)."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = _clean(words, "Vocabulary: words")
        if any(" " in w for w in self.words):
            bad = next(w for w in self.words if " " in w)
            raise ConfigError(problem("Vocabulary: word", expected="single words without spaces",
                                      got=repr(bad), fix="use Phrases([...]) for whole transcripts"))
        self.root = _trie(self.words)

    def start(self):
        return self.root

    def advance(self, node: _Node, char: str):
        if char == " ":
            return self.root if node is not self.root and node.end else None
        return node.children.get(char)

    def accepts(self, node: _Node, text: str) -> bool:
        return node is self.root or node.end

    def __repr__(self) -> str:
        return f"Vocabulary({len(self.words)} words)"


class Phrases(Constraint):
    """A grammar of allowed whole transcripts."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases = _clean(phrases, "Phrases: phrases")
        self.root = _trie(self.phrases)

    def start(self):
        return self.root

    def advance(self, node: _Node, char: str):
        return node.children.get(char)

    def accepts(self, node: _Node, text: str) -> bool:
        return node is self.root or node.end

    def __repr__(self) -> str:
        return f"Phrases({len(self.phrases)} phrases)"


class AnyOf(Constraint):
    """A text any one of ``constraints`` allows: ``AnyOf(Vocabulary(digits), Phrases(commands))``.

    The state is the tuple of the parts' states, None for a part that has refused."""

    def __init__(self, *constraints: Constraint) -> None:
        if not constraints or not all(isinstance(c, Constraint) and c.prunes for c in constraints):
            raise ConfigError(problem("AnyOf: constraints", expected="one or more Vocabulary / Phrases",
                                      got=[type(c).__name__ for c in constraints]))
        self.parts = constraints

    def start(self):
        return tuple(c.start() for c in self.parts)

    def advance(self, state: tuple, char: str):
        nxt = tuple(None if s is None else c.advance(s, char) for c, s in zip(self.parts, state))
        return None if all(s is None for s in nxt) else nxt

    def accepts(self, state: tuple, text: str) -> bool:
        return any(s is not None and c.accepts(s, text) for c, s in zip(self.parts, state))

    def __repr__(self) -> str:
        return f"AnyOf({', '.join(map(repr, self.parts))})"


class Pattern(Constraint):
    """The whole transcript must match the regular expression ``pattern`` (``re.fullmatch``)."""

    prunes = False

    def __init__(self, pattern: str | re.Pattern) -> None:
        try:
            self.regex = re.compile(pattern)
        except (re.error, TypeError) as err:
            raise ConfigError(problem("Pattern: pattern", expected="a regular expression",
                                      got=f"{pattern!r} ({err})")) from None

    def accepts(self, state, text: str) -> bool:
        return not text or self.regex.fullmatch(text) is not None

    def __repr__(self) -> str:
        return f"Pattern({self.regex.pattern!r})"


# ---- prefix beam search ---------------------------------------------------------------------
def _logaddexp(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def prefix_beam_search(log_probs, beam: int = 8, constraint: Constraint | None = None,
                       prune: float = DEFAULT_PRUNE, nbest: int = 1) -> list[tuple[str, float]]:
    """Prefix beam search of one utterance ``(T, C)`` (see the module doc).

    Returns up to ``nbest`` ``(text, log P(text))`` pairs, best first, among the final
    prefixes that the constraint accepts (``[("", -inf)]`` when none does).
    """
    if isinstance(beam, bool) or not isinstance(beam, int) or beam < 1:
        raise ConfigError(problem("prefix_beam_search: beam", expected="an integer >= 1", got=repr(beam)))
    lp = _as_array(log_probs)
    if lp.ndim != 2 or lp.shape[1] != alphabet.SIZE:
        raise DataError(problem("prefix_beam_search: log_probs", expected=f"(T, {alphabet.SIZE})",
                                got=lp.shape))
    guard = constraint is not None and constraint.prunes
    start = constraint.start() if guard else None
    # prefix (tuple of ids) -> [log P_b, log P_nb, constraint state]
    beams: dict[tuple, list] = {(): [0.0, NEG_INF, start]}
    symbols = alphabet.SYMBOLS
    for frame in lp:
        chars = [c for c in np.flatnonzero(frame >= prune).tolist() if c != alphabet.BLANK]
        blank = float(frame[alphabet.BLANK])
        nxt: dict[tuple, list] = {}
        for prefix, (pb, pnb, state) in beams.items():
            total = _logaddexp(pb, pnb)
            entry = nxt.setdefault(prefix, [NEG_INF, NEG_INF, state])
            entry[0] = _logaddexp(entry[0], total + blank)
            last = prefix[-1] if prefix else None
            for c in chars:
                p = float(frame[c])
                if c == last:
                    entry[1] = _logaddexp(entry[1], pnb + p)  # repeat: collapses into prefix
                    score = pb + p  # a new character only after a blank
                else:
                    score = total + p
                if score == NEG_INF:
                    continue
                char = symbols[c - 1]
                if char == " " and (last is None or last == alphabet.SPACE):
                    continue  # one spelling per text: no leading or double spaces
                new_state = state
                if guard:
                    new_state = constraint.advance(state, char)
                    if new_state is None:
                        continue
                ext = nxt.setdefault(prefix + (c,), [NEG_INF, NEG_INF, new_state])
                ext[1] = _logaddexp(ext[1], score)
        ranked = sorted(nxt.items(), key=lambda kv: _logaddexp(kv[1][0], kv[1][1]), reverse=True)
        beams = dict(ranked[:beam])
    results = []
    for prefix, (pb, pnb, state) in beams.items():
        text = alphabet.decode(prefix)
        if constraint is None or constraint.accepts(state, text):
            results.append((text, _logaddexp(pb, pnb)))
    results.sort(key=lambda r: r[1], reverse=True)
    return results[:nbest] or [("", NEG_INF)]


def decode_batch(log_probs: torch.Tensor, lengths: torch.Tensor, *, beam: int = 1,
                 constraint: Constraint | None = None) -> list[str]:
    """Texts of a batch ``(N, T', C)`` with ``lengths`` ``(N,)``: greedy when ``beam == 1``
    and no constraint, else prefix beam search."""
    lp = log_probs.detach().float().cpu().numpy()
    out = []
    for n, length in enumerate(lengths.tolist()):
        frames = lp[n, :length]
        if beam == 1 and constraint is None:
            out.append(greedy(frames))
        else:
            out.append(prefix_beam_search(frames, beam, constraint)[0][0])
    return out


def as_constraint(constrain, vocabulary: Sequence[str] | None = None) -> Constraint | None:
    """What ``transcribe(constrain=...)`` accepts -> a :class:`Constraint` or None.

    ``False``/``None``: none; ``True``: the model's training vocabulary; a list of words:
    :class:`Vocabulary`; a compiled regex: :class:`Pattern`; a :class:`Constraint` as is.
    """
    if constrain is None or constrain is False:
        return None
    if constrain is True:
        return Vocabulary(vocabulary or [])
    if isinstance(constrain, Constraint):
        return constrain
    if isinstance(constrain, re.Pattern):
        return Pattern(constrain)
    if isinstance(constrain, (list, tuple, set, frozenset)):
        return Vocabulary(constrain)
    raise ConfigError(problem("constrain", expected="True (the training vocabulary), False, a list "
                              "of words, a compiled regex or a Vocabulary/Phrases/Pattern",
                              got=type(constrain).__name__))


def _as_array(log_probs) -> np.ndarray:
    if isinstance(log_probs, torch.Tensor):
        log_probs = log_probs.detach().float().cpu().numpy()
    return np.asarray(log_probs, dtype=np.float64)
