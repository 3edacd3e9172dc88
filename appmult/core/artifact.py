"""The artifact: one characterized multiplier in memory, validated on construction.

:class:`Artifact` holds the operand axes, the product table, the error
metrics, the gradient estimates (:mod:`appmult.core.gradient`), the
``tune-hws`` record (:class:`TuningRecord`), the hardware cost
(:class:`HardwareCost`) and provenance. A wide artifact (an operand of 13..16
bits, or any width characterized with ``--stream``) holds no product table:
its metrics were streamed and it carries an
:class:`~appmult.core.summary.ErrorSummary` instead. Its file format, the HDF5
schema, is :mod:`appmult.core.artifact_file` (``load``, ``save``), whose reads
pass :mod:`appmult.core.artifact_gate`; the two are the only code that touches HDF5.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from appmult.core.errors import ArtifactError
from appmult.core.gradient import Gradient, GradientTable, SeparableGradient
from appmult.core.lazy import LazyArray, StoredTable, rows_of, shape_of
from appmult.core.metrics import METRIC_NAMES, error_metrics
from appmult.core.operands import OperandAxes, check_width, is_tabulated
from appmult.core.summary import ErrorSummary
from appmult.core.version import __version__

__all__ = ["Artifact", "HardwareCost", "TuningRecord", "sha256_of"]


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class TuningRecord:
    """How short retraining runs chose the gradient table (``appmult tune-hws``).

    Row g of the search is one candidate: ``kinds[g]`` names its gradient
    method (stage 2's registry; empty in records written before candidates
    other than LUT-2D were searched, where every row is LUT-2D) and
    ``grid[g]`` its ``(hws_a, hws_b)`` (``(0, 0)`` for a method without
    half-windows); ``train_loss[g][s]`` and ``test_accuracy[g][s]`` (in
    [0, 1]) are the final training loss and the test accuracy of seed s.
    ``hws_a``, ``hws_b`` is the LUT-2D half-window chosen by ``rule``;
    ``recommended`` the method retraining should use (empty in older
    records) and ``verdict`` why, in one sentence; ``settings`` holds the
    data, network, epochs, seeds, learning rate, range policy and device.
    """

    hws_a: int
    hws_b: int
    grid: tuple[tuple[int, int], ...]
    train_loss: tuple[tuple[float, ...], ...]
    test_accuracy: tuple[tuple[float, ...], ...]
    rule: str
    settings: dict[str, object] = field(default_factory=dict)
    kinds: tuple[str, ...] = ()
    recommended: str = ""
    verdict: str = ""

    def __post_init__(self) -> None:
        shapes = {np.shape(self.train_loss), np.shape(self.test_accuracy)}
        if len(shapes) != 1 or np.shape(self.grid) != (len(self.train_loss), 2):
            raise ArtifactError(
                "tuning record: grid, train_loss and test_accuracy disagree in length "
                f"({np.shape(self.grid)}, {np.shape(self.train_loss)}, {np.shape(self.test_accuracy)})"
            )
        if self.kinds and len(self.kinds) != len(self.grid):
            raise ArtifactError(
                f"tuning record: {len(self.kinds)} candidate kinds for {len(self.grid)} grid rows"
            )
        if (self.hws_a, self.hws_b) not in {tuple(point) for point in self.grid}:
            raise ArtifactError(f"tuning record: the choice ({self.hws_a}, {self.hws_b}) is not a grid point")
        if self.recommended and self.kinds and self.recommended not in self.kinds:
            raise ArtifactError(
                f"tuning record: the recommended kind {self.recommended!r} was not a candidate"
            )


@dataclass(frozen=True)
class HardwareCost:
    """What the multiplier costs in hardware: its sources synthesized by Yosys (``appmult cost``).

    ``cells_by_type`` counts the cells of the mapped netlist by Yosys type
    (``$_NAND_``, ``$_XOR_``, ...) and ``cells`` is their total;
    ``transistors`` is Yosys's static-CMOS transistor estimate of that
    netlist (``stat -tech cmos``); ``depth`` is its logic depth, the most
    cells on any path from an input (or a constant) to an output. ``yosys``
    names the Yosys that ran (version and executable) and ``script`` is the
    exact script, with the sources as the artifact names them.
    """

    cells_by_type: dict[str, int]
    cells: int
    transistors: int
    depth: int
    yosys: str
    script: str

    def __post_init__(self) -> None:
        counts = (self.cells, self.transistors, self.depth, *self.cells_by_type.values())
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in counts):
            raise ArtifactError(f"hardware cost: counts must be integers >= 0, got {counts}")
        if sum(self.cells_by_type.values()) != self.cells:
            raise ArtifactError(
                f"hardware cost: {self.cells} cells, but the cells by type add up to "
                f"{sum(self.cells_by_type.values())}"
            )


# --------------------------------------------------------------------------- the artifact


class _ProductTable(LazyArray):
    """The product table, read on first access; a wide artifact, which has none, refuses."""

    def __get__(self, instance: object, owner: type | None = None) -> np.ndarray:
        if instance is not None and getattr(instance, self.slot) is None:
            instance.require_table("this operation", "use its metrics, /summary and LUT-1D factors")
        return super().__get__(instance, owner)


class Artifact(OperandAxes):
    """A characterized multiplier: its product table, metrics, gradients and provenance.

    Operand ``a`` is the first operand (rows; the activation in a DNN layer),
    ``b`` the second (columns; the weight). Construct with the product table
    in value order; the header is validated on construction, so an
    ``Artifact`` that exists is a valid one. ``product`` is int32 [Na, Nb];
    an artifact read by :func:`appmult.core.artifact_file.load` reads it from
    its file when first used. ``gradients`` maps a group name (stage 2's
    registry, :mod:`appmult.lutgen.methods`) to its estimate.

    Provenance: ``source_files`` and their ``source_sha256``, ``simulator``
    (backend and versions), ``signedness`` (how the operands' signedness was
    decided), ``sandbox`` (how the simulator was confined), ``tool_version``,
    ``created_utc``. ``cost`` is the hardware cost of the sources, when
    ``appmult cost`` measured it.

    The wide form: ``product=None`` with the ``metrics`` and the ``summary``
    (:class:`~appmult.core.summary.ErrorSummary`) that streaming computed;
    required when an operand is wider than 12 bits. :attr:`tabulated` tells
    the forms apart; reading :attr:`product` of a wide artifact raises
    :class:`ArtifactError`, as does :meth:`require_table`.
    """

    product = _ProductTable()

    def __init__(
        self,
        *,
        name: str,
        top: str,
        width_a: int,
        width_b: int,
        width_out: int,
        signed_a: bool,
        signed_b: bool,
        product: np.ndarray | None,
        source_files: Iterable[str] = (),
        source_sha256: Iterable[str] = (),
        simulator: str = "",
        signedness: str = "",
        sandbox: str = "",
        tool_version: str = __version__,
        created_utc: str | None = None,
        metrics: Mapping[str, float] | None = None,
        gradients: Mapping[str, Gradient] | None = None,
        tuning: TuningRecord | None = None,
        cost: HardwareCost | None = None,
        summary: ErrorSummary | None = None,
    ) -> None:
        self.name, self.top = str(name), str(top)
        wide = product is None
        self.width_a = check_width(width_a, "operand a", streamed=wide)
        self.width_b = check_width(width_b, "operand b", streamed=wide)
        self.width_out = int(width_out)
        self.signed_a, self.signed_b = bool(signed_a), bool(signed_b)
        self.source_files = tuple(str(s) for s in source_files)
        self.source_sha256 = tuple(str(s) for s in source_sha256)
        self.simulator, self.signedness, self.sandbox = str(simulator), str(signedness), str(sandbox)
        self.tool_version = str(tool_version)
        self.created_utc = created_utc or _utc_now()
        if wide:
            self.product = None
            if not metrics or summary is None:
                raise ArtifactError(
                    f"{self.name or 'artifact'}: an artifact without a product table needs its streamed "
                    "metrics and summary"
                )
        else:
            self.product = product if isinstance(product, StoredTable) else self._checked_product(product)
            self._check_product_shape()
        self.metrics = (
            dict(metrics) if metrics else error_metrics(self.product, self.operand_a, self.operand_b)
        )
        self.summary = summary
        self.gradients: dict[str, Gradient] = dict(gradients or {})
        self.tuning = tuning
        self.cost = cost
        self.validate()

    @property
    def tabulated(self) -> bool:
        """True when the artifact holds its product table; False for the wide (streamed) form."""
        return self._product is not None

    def require_table(self, purpose: str, instead: str) -> None:
        """Raise :class:`ArtifactError` saying that ``purpose`` needs the table a wide artifact lacks.

        ``instead`` says what to use; the message is one line, e.g.
        ``mul16u: LUT-2D needs the product table, which this 16x16-bit artifact does not hold (...); ...``.
        """
        if self.tabulated:
            return
        pairs = self.shape[0] * self.shape[1]
        raise ArtifactError(
            f"{self.name or 'artifact'}: {purpose} needs the product table, which this "
            f"{self.width_a}x{self.width_b}-bit artifact does not hold (characterized by streaming: "
            f"{pairs:,} pairs, no table); {instead}"
        )

    def _checked_product(self, product: np.ndarray) -> np.ndarray:
        product = np.asarray(product)
        where = self.name or "artifact"
        if product.dtype.kind not in "iu":
            raise ArtifactError(f"{where}: product table must be integer, got {product.dtype}")
        limits = np.iinfo(np.int32)
        if product.size and (int(product.min()) < limits.min or int(product.max()) > limits.max):
            raise ArtifactError(f"{where}: product values do not fit in int32")
        return product.astype(np.int32, copy=False)

    def _check_product_shape(self) -> None:
        if shape_of(self._product) != self.shape:
            raise ArtifactError(
                f"{self.name or 'artifact'}: product table has shape {shape_of(self._product)}, expected "
                f"{self.shape} for {self.width_a}x{self.width_b}-bit operands"
            )

    def validate(self) -> None:
        """Raise :class:`ArtifactError` if any table disagrees with the header."""
        where = self.name or "artifact"
        if self.tabulated:
            self._check_product_shape()
            if self.summary is not None:
                raise ArtifactError(f"{where}: a summary belongs to an artifact without a product table")
            if not is_tabulated(self.width_a, self.width_b):
                raise ArtifactError(
                    f"{where}: a {self.width_a}x{self.width_b}-bit artifact cannot hold a table"
                )
        elif not isinstance(self.summary, ErrorSummary):
            raise ArtifactError(f"{where}: an artifact without a product table needs a summary")
        else:
            self.summary.check(self.shape, where)
        if len(self.source_sha256) not in (0, len(self.source_files)):
            raise ArtifactError(f"{where}: source_sha256 does not match source_files")
        missing = [m for m in METRIC_NAMES if m not in self.metrics]
        if missing:
            raise ArtifactError(f"{where}: metrics missing: {', '.join(missing)}")
        for method, gradient in self.gradients.items():
            if not isinstance(gradient, (GradientTable, SeparableGradient)):
                raise ArtifactError(f"{where}: /grad/{method} is a {type(gradient).__name__}, not a gradient")
            gradient._check(self.shape, f"{where}: /grad/{method}")
        if self.tuning is not None and not isinstance(self.tuning, TuningRecord):
            raise ArtifactError(f"{where}: tuning is a {type(self.tuning).__name__}, not a TuningRecord")
        if self.cost is not None and not isinstance(self.cost, HardwareCost):
            raise ArtifactError(f"{where}: cost is a {type(self.cost).__name__}, not a HardwareCost")

    @property
    def product_range(self) -> tuple[int, int]:
        """``(min, max)`` of the product table, from the file's header when it records them."""
        if not self.tabulated:
            return self.summary.product_min, self.summary.product_max
        recorded = self._product.attrs if isinstance(self._product, StoredTable) else {}
        if "min" in recorded and "max" in recorded:
            return int(recorded["min"]), int(recorded["max"])
        return int(self.product.min()), int(self.product.max())

    def product_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of the product table (reads only those rows of a stored table)."""
        self.require_table("reading rows", "use its metrics and /summary")
        return rows_of(self._product, start, stop)

    def materialize(self) -> Artifact:
        """Read every stored table into memory (before the file is replaced or shipped elsewhere)."""
        if self.tabulated:
            self.product  # noqa: B018 - reading the property loads the table
        for gradient in self.gradients.values():
            gradient._materialize()
        return self

    @classmethod
    def from_sources(cls, sources: Iterable[str | os.PathLike], **fields: object) -> Artifact:
        """Build an artifact whose provenance records ``sources`` and their SHA-256."""
        paths = [Path(s) for s in sources]
        return cls(
            source_files=tuple(str(p) for p in paths),
            source_sha256=tuple(sha256_of(p) for p in paths),
            **fields,  # type: ignore[arg-type]
        )

    def __repr__(self) -> str:
        sign = {True: "s", False: "u"}
        form = "" if self.tabulated else ", streamed"
        return (
            f"Artifact(name={self.name!r}, {self.width_a}x{self.width_b} "
            f"{sign[self.signed_a]}{sign[self.signed_b]}{form}, gradients={sorted(self.gradients)})"
        )
