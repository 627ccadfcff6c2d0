"""Input ranges: is every number of an instance one the model can compute with?

JSON and pydantic refuse NaN and infinity, but a finite number can still break the
network: ``1e300`` becomes ``inf`` once scaled (``(x - mean) / scale``) and cast to
float32, the network's dtype, and a batched pass that holds it fails or answers NaN for
every instance in it. So each instance is checked on its own, *before* it is queued,
against the range its model computes with::

    |x - mean| / scale <= float32 max   <=>   mean - 3.4e38 * scale <= x <= mean + 3.4e38 * scale

The refusal names the field and the row, and says the range that fits.
"""

from __future__ import annotations

import numpy as np

from rnnkit.errors import DataError, problem

F32_MAX = float(np.finfo(np.float32).max)


def check_scaled(raw: np.ndarray, mean, scale, names: list[str], where: str,
                 field: str = "values") -> None:
    """Refuse ``raw`` ``(T, F)`` when some value is not finite after ``(raw - mean) / scale``
    in float32 (``mean`` and ``scale`` broadcast over the rows, one per feature ``names``),
    or when the scaling itself is not finite (a scaler fitted on the instance's own rows)."""
    raw = np.asarray(raw, dtype=np.float64).reshape(len(raw), len(names))
    mean = np.broadcast_to(np.asarray(mean, dtype=np.float64).reshape(-1), (len(names),))
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64).reshape(-1), (len(names),))
    with np.errstate(all="ignore"):
        # fast path: |x| <= min_j(F32_MAX * scale_j - |mean_j|) keeps every feature in range
        # (False for a broken scaler, whose NaN or negative bound fails the comparison)
        if np.abs(raw).max(initial=0.0) <= (F32_MAX * scale - np.abs(mean)).min(initial=np.inf):
            return
        broken = ~(np.isfinite(mean) & np.isfinite(scale) & (scale > 0))
        scaled = (raw - mean) / scale
        bad = ~(np.abs(scaled) <= F32_MAX) | broken  # also catches NaN
    if not bad.any():
        return
    row, col = (int(i) for i in np.argwhere(bad)[0])
    if broken[col]:
        raise DataError(problem(f"{where}: {field}[{names[col]!r}]", expected="values whose mean and "
                                "spread are finite numbers", got=f"values up to {np.abs(raw[:, col]).max():.3g}",
                                fix="send values in the units the model was trained on"))
    with np.errstate(all="ignore"):
        low, high = mean[col] - F32_MAX * scale[col], mean[col] + F32_MAX * scale[col]
    raise DataError(problem(f"{where}: {field}[{names[col]!r}][{row}]",
                            expected=f"a number the model can compute with, within [{low:.3g}, {high:.3g}] "
                            "(finite once scaled to the model's float32 units)", got=f"{raw[row, col]:.6g}",
                            fix="send values in the units the model was trained on"))


def check_positive(raw: np.ndarray, names: list[str], where: str, why: str) -> None:
    """Refuse ``raw`` ``(T, F)`` with a value ``<= 0`` (a model fitted on ``log`` values)."""
    raw = np.asarray(raw, dtype=np.float64).reshape(len(raw), len(names))
    bad = ~(raw > 0)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise DataError(problem(f"{where}: values[{names[col]!r}][{row}]", expected=f"a number > 0 ({why})",
                                got=f"{raw[row, col]:.6g}"))


def check_finite_output(arrays, where: str = "prediction") -> None:
    """Refuse an answer whose numbers are not finite: the instance's values, although
    each in range, drove the network out of the range it computes in."""
    for a in arrays:
        if a is not None and not np.isfinite(np.asarray(a, dtype=np.float64)).all():
            raise DataError(problem(f"{where}", expected="finite numbers from the model",
                                    got="NaN or infinity (the input values are beyond what the "
                                    "model can compute with)",
                                    fix="send values in the range of the training data"))
