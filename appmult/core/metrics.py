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


def error_metrics(product: np.ndarray, operand_a: np.ndarray, operand_b: np.ndarray) -> dict[str, float]:
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

    Rows are processed in blocks of about 2**20 entries, so a 12x12 table
    needs tens of MB of scratch space, not the table size several times over.
    Sums are exact. Within a block, ``e`` and ``|e|`` (below 2**32 for an int32 table) sum in
    int64; ``e**2`` can pass 2**63 over a block (a 12x12 table whose output is stuck at 0 has
    ``e**2`` up to 2**48 per entry), so it is summed through the 16-bit halves of ``|e| = h*2**16 + l``,
    ``e**2 = h*h*2**32 + h*l*2**17 + l*l``, each part in int64 and combined as Python integers.
    """
    a = np.asarray(operand_a, dtype=np.int64)
    b = np.asarray(operand_b, dtype=np.int64)
    product = np.asarray(product)
    rows = max(1, (1 << 20) // max(b.size, 1))
    errors = abs_sum = square_sum = error_sum = worst = 0
    rel_sum, rel_count, rel_worst = 0.0, 0, 0.0
    for start in range(0, a.size, rows):
        exact = np.multiply.outer(a[start : start + rows], b)
        err = product[start : start + rows].astype(np.int64) - exact
        abs_err = np.abs(err)
        errors += int(np.count_nonzero(err))
        abs_sum += int(abs_err.sum())
        high, low = abs_err >> 16, abs_err & 0xFFFF
        square_sum += int((high * high).sum()) << 32
        square_sum += (int((high * low).sum()) << 17) + int((low * low).sum())
        error_sum += int(err.sum())
        worst = max(worst, int(abs_err.max()))
        nonzero = exact != 0
        rel = abs_err[nonzero] / np.abs(exact[nonzero])
        rel_sum += float(rel.sum())
        rel_count += rel.size
        rel_worst = max(rel_worst, float(rel.max()) if rel.size else 0.0)
    pairs = a.size * b.size  # = 2**(width_a + width_b)
    return {
        "er": errors / pairs,
        "med": abs_sum / pairs,
        "nmed": abs_sum / pairs / pairs,
        "wce": float(worst),
        "wce_norm": worst / pairs,
        "mred": rel_sum / rel_count if rel_count else 0.0,
        "wcre": rel_worst,
        "mse": square_sum / pairs,
        "bias": error_sum / pairs,
    }
