"""Nonparametric dynamic thresholding (Hundman et al., KDD 2018, "Detecting Spacecraft
Anomalies Using LSTMs and Nonparametric Dynamic Thresholding", §3.2-3.3).

Given smoothed errors ``e_s`` ``(n,)`` with mean ``μ`` and standard deviation ``σ``, the
threshold is ``ε = μ + z σ`` for the ``z`` in an ordered grid that maximises::

            Δμ/μ + Δσ/σ
    f(ε) = ───────────────────          Δμ = μ - μ({e ∈ e_s : e ≤ ε})
           |e_a| + |E_seq|²             Δσ = σ - σ({e ∈ e_s : e ≤ ε})

where ``e_a = {e ∈ e_s : e > ε}`` are the anomalous errors and ``E_seq`` the maximal runs
of consecutive anomalous errors. The best ``ε`` removes the most mean and spread with the
fewest, most compact anomalies. A ``z`` whose ``e_a`` is empty or covers half of ``e_s``
or more is not eligible; ties keep the larger ``z``. With no eligible ``z`` nothing in
``e_s`` stands out, and ``ε = max(e_s)``: every buffered error is nominal. (Telemanom
falls back to ``μ + z_max σ``, which for a short, even buffer is far above anything
seen; the maximum keeps the threshold where the data are.)

Pruning (minimum percent decrease ``p``, §3.3): the maxima of the sequences in ``E_seq``
are sorted in decreasing order, ``e_max^(1) ≥ … ≥ e_max^(K)``, and the largest error at or
below ``ε`` is appended as ``e_max^(K+1)``. With ``d^(i) = (e_max^(i) - e_max^(i+1)) /
e_max^(i)``, the sequences ``1..i*`` are kept for the largest ``i*`` with ``d^(i*) ≥ p``;
the rest (all of them when no ``d^(i) ≥ p``) are reclassified as nominal.

For a detector that runs forward in time the pruning rule becomes a level. In the
buffer, the sequences that pruning reclassifies as nominal lift the nominal level to
their largest maximum ``π``; a new error ``e`` is anomalous only if it beats that level
by more than the minimum percent decrease, ``(e - max(ε, π)) / e > p``, as a kept
sequence's maximum beats the next one. So the threshold applied to the errors that
follow is::

    τ = max(ε, π) / (1 - p)

and an error is anomalous when ``e > τ``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnkit.tasks.anomaly.runs import runs


@dataclass(frozen=True)
class Threshold:
    """The result of one search: ``value`` (``τ``) is what errors are compared to."""

    epsilon: float  # μ + z σ
    z: float  # the chosen z ((max - μ) / σ when none was eligible)
    cut: float  # π: the largest pruned sequence maximum (-inf when nothing was pruned)
    sequences: int  # |E_seq| at epsilon
    kept: int  # sequences that survived pruning
    min_decrease: float = 0.0  # p

    @property
    def level(self) -> float:
        """The nominal level ``max(ε, π)``."""
        return max(self.epsilon, self.cut)

    @property
    def value(self) -> float:
        """``τ = max(ε, π) / (1 - p)``: what the next errors are compared with."""
        return self.level / (1.0 - self.min_decrease)


def search_epsilon(e_s: np.ndarray, z_values) -> tuple[float, float]:
    """``(ε, z)`` maximising ``f(ε)`` over ``z_values`` (see the module docstring).

    All ``z`` at once in O(n log n): with ``e_s`` sorted, the errors at or below ``ε`` are a
    prefix (their mean and spread come from prefix sums), and the runs above ``ε`` are
    counted as ``#{e_i > ε} - #{min(e_i, e_{i-1}) > ε}`` (a run starts wherever an error
    above ``ε`` follows one at or below it).
    """
    e_s = np.asarray(e_s, dtype=np.float64)
    n, mu, sigma = len(e_s), float(e_s.mean()), float(e_s.std())
    if sigma <= 0.0 or mu <= 0.0:
        return mu, 0.0  # constant errors: anything above them is anomalous
    z = np.asarray(z_values, dtype=np.float64)  # (Z,)
    eps = mu + z * sigma  # (Z,)
    ordered = np.sort(e_s)
    below = np.searchsorted(ordered, eps, side="right")  # (Z,) errors <= eps
    above = n - below
    pairs = np.sort(np.minimum(e_s[1:], e_s[:-1]))  # (n - 1,)
    sequences = above - (len(pairs) - np.searchsorted(pairs, eps, side="right"))
    first = np.concatenate(([0.0], np.cumsum(ordered)))  # (n + 1,) prefix sums
    second = np.concatenate(([0.0], np.cumsum(ordered ** 2)))
    k = np.maximum(below, 1)
    mean_below = first[below] / k
    std_below = np.sqrt(np.maximum(second[below] / k - mean_below ** 2, 0.0))
    gain = (mu - mean_below) / mu + (sigma - std_below) / sigma
    eligible = (above > 0) & (2 * above < n)
    score = np.where(eligible, gain / np.maximum(above + sequences ** 2, 1), -np.inf)
    if not eligible.any():
        top = float(ordered[-1])
        return top, (top - mu) / sigma  # nothing stands out: all of e_s is nominal
    best = len(z) - 1 - int(np.argmax(score[::-1]))  # ties keep the larger z
    return float(eps[best]), float(z[best])


def prune(e_s: np.ndarray, epsilon: float, min_decrease: float) -> tuple[float, int, int]:
    """``(π, |E_seq|, kept)``: the pruning level of the sequences above ``epsilon``."""
    e_s = np.asarray(e_s, dtype=np.float64)
    above = e_s > epsilon
    seqs = runs(above)
    if len(seqs) == 0:
        return -np.inf, 0, 0
    masked = np.where(above, e_s, -np.inf)  # a run's max is the max from its start to the next
    maxima = np.sort(np.maximum.reduceat(masked, seqs[:, 0]))[::-1]  # (K,) decreasing
    nominal = float(e_s[~above].max()) if (~above).any() else 0.0
    chain = np.append(maxima, nominal)  # (K + 1,)
    with np.errstate(divide="ignore", invalid="ignore"):
        decrease = (chain[:-1] - chain[1:]) / chain[:-1]  # (K,)
    big = np.flatnonzero(decrease >= min_decrease)
    kept = int(big[-1]) + 1 if len(big) else 0
    cut = float(maxima[kept]) if kept < len(maxima) else -np.inf
    return cut, len(seqs), kept


def dynamic_threshold(e_s: np.ndarray, z_values, min_decrease: float) -> Threshold:
    """Search ``ε`` and prune: the threshold for the errors that follow ``e_s``."""
    epsilon, z = search_epsilon(e_s, z_values)
    cut, sequences, kept = prune(e_s, epsilon, min_decrease)
    return Threshold(float(epsilon), float(z), cut, sequences, kept, float(min_decrease))
