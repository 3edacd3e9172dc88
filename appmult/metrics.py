"""Error metrics of a product table against the exact product.

Conventions follow the EvoApprox library so figures are comparable with
published ones. Inputs are uniform over all ``Na * Nb`` operand pairs and the
error is ``e = AM(a, b) - a * b``:

========== ==================================================================
``er``       fraction of pairs with ``e != 0``
``med``      mean ``|e|``
``nmed``     ``med / 2**(width_a + width_b)``
``wce``      max ``|e|``
``wce_norm`` ``wce / 2**(width_a + width_b)``
``mred``     mean of ``|e| / |a*b|`` over pairs with ``a*b != 0``
``wcre``     max of the same ratio
``mse``      mean ``e**2``
``bias``     mean ``e``
========== ==================================================================
"""

from __future__ import annotations

import numpy as np

__all__ = ["METRIC_NAMES", "error_metrics"]

METRIC_NAMES = ("er", "med", "nmed", "wce", "wce_norm", "mred", "wcre", "mse", "bias")


def error_metrics(
    product: np.ndarray, operand_a: np.ndarray, operand_b: np.ndarray
) -> dict[str, float]:
    """Compute the metrics above.

    Parameters
    ----------
    product : int array [Na, Nb]
        ``product[i, j] = AM(operand_a[i], operand_b[j])``.
    operand_a, operand_b : int arrays [Na], [Nb]
        Operand values (value order); their bit widths are ``log2(Na)``, ``log2(Nb)``.

    Returns
    -------
    dict of float
        One entry per name in :data:`METRIC_NAMES`.
    """
    a = np.asarray(operand_a, dtype=np.int64)[:, None]
    b = np.asarray(operand_b, dtype=np.int64)[None, :]
    exact = a * b
    err = np.asarray(product, dtype=np.int64) - exact
    abs_err = np.abs(err).astype(np.float64)
    scale = float(a.size * b.size)  # 2**(width_a + width_b)
    nonzero = exact != 0
    rel = abs_err[nonzero] / np.abs(exact[nonzero])
    med = float(abs_err.mean())
    wce = float(abs_err.max())
    return {
        "er": float(np.count_nonzero(err) / err.size),
        "med": med,
        "nmed": med / scale,
        "wce": wce,
        "wce_norm": wce / scale,
        "mred": float(rel.mean()) if rel.size else 0.0,
        "wcre": float(rel.max()) if rel.size else 0.0,
        "mse": float(np.mean(abs_err**2)),
        "bias": float(err.mean()),
    }
