"""The artifact: one HDF5 file per multiplier, read and written only here.

Schema (``format="appmult-lut"``, ``format_version=2``; version 1 files still load):

``/`` attributes
    ``format``, ``format_version``, ``name``, ``top``, ``width_a``, ``width_b``,
    ``width_out``, ``signed_a``, ``signed_b``, ``source_files``,
    ``source_sha256``, ``simulator``, ``signedness`` (how the operands'
    signedness was decided), ``sandbox`` (how the simulator was confined),
    ``tool_version``, ``created_utc``.
``/operand_a`` int32 [Na], ``/operand_b`` int32 [Nb]
    Operand values, ascending (value order, never bit-pattern order).
``/product`` int32 [Na, Nb]
    ``product[i, j] = AM(operand_a[i], operand_b[j])``; the multiplier output
    read as a two's-complement integer when either operand is signed,
    unsigned otherwise. Attributes ``min`` and ``max`` (version 2) give its
    range without reading it.
``/metrics`` attributes, float64
    See :mod:`appmult.core.metrics`.
``/grad/<method>``
    One group per gradient estimate, its parameters as attributes (``kind``
    says how its tables are stored):

    ``kind="table"`` (``lut2d``): ``d_a``, ``d_b`` float32 [Na, Nb], the
    estimates of dAM/da and dAM/db at every ``(a_i, b_j)``.

    ``kind="separable"`` (``lut1d``): ``u_a``, ``u_b`` float32 [R, Na] and
    ``v_a``, ``v_b`` float32 [R, Nb] with
    ``dAM/da(a_i, b_j) ~ sum_r u_a[r, i] * v_a[r, j]`` and
    ``dAM/db(a_i, b_j) ~ sum_r u_b[r, i] * v_b[r, j]``: u is always a function
    of operand a, v of operand b.

    ``kind="axes"`` (``ste``): no datasets. The exact multiplier's gradient
    (dAM/da = b, dAM/db = a) is the operand axes themselves; readers
    materialize it (a rank-1 separable gradient) on demand.
``/tuning`` (optional)
    How ``appmult tune-hws`` chose the LUT-2D half-window: datasets ``grid``
    int32 [G, 2] (hws_a, hws_b per grid point), ``train_loss`` and
    ``test_accuracy`` float64 [G, S] (per seed); attributes ``hws_a``,
    ``hws_b`` (the choice), ``rule`` and ``settings`` (JSON: data, network,
    epochs, seeds, learning rate, range policy, ...).

Storage: the 2-D tables are chunked in blocks of whole rows and compressed
with the standard deflate (gzip) filter after byte shuffle, so ``h5dump``,
h5py, MATLAB and HDFView read them without plugins. Whole-row chunks of
about 1 MiB (64 rows at 12 bits, the whole table up to 8x8 bits) suit the
two access patterns that matter: whole-table reads are sequential, and row
blocks (12-bit metrics, exports, plots) decompress only their own chunks.
Shuffle puts the similar high bytes of neighbouring integers and floats
together, which is what makes these tables compress 10-30x.

Reading is lazy for large tables: :func:`load` reads the header, metrics,
vectors and every table of up to 2**18 entries (9x9 bits, a millisecond's
work); a larger table is read from the file the first time it is used
(``artifact.product``, ``gradient.d_a``), and ``product_rows``/``rows``
read only the rows asked for. A lazily read file must not change before its
tables are read (it is checked). Files are written to a temporary name in
the target directory and renamed into place, so an existing artifact is
never half-overwritten.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from appmult.core.atomic import replacing
from appmult.core.errors import ArtifactError, ParameterError
from appmult.core.metrics import METRIC_NAMES, error_metrics
from appmult.core.operands import OperandAxes, check_width
from appmult.core.version import __version__

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "METHODS",
    "READABLE_VERSIONS",
    "Artifact",
    "Gradient",
    "GradientTable",
    "SeparableGradient",
    "TuningRecord",
    "load",
    "save",
    "sha256_of",
    "ste_gradient",
]

FORMAT = "appmult-lut"
FORMAT_VERSION = 2

#: The gradient methods, in the order they are computed, listed and read back.
METHODS: tuple[str, ...] = ("ste", "lut2d", "lut1d")
READABLE_VERSIONS = (1, 2)

#: Elements per chunk of a 2-D table (1 MiB of int32 or float32).
_CHUNK_ELEMENTS = 1 << 18
#: Deflate level. zlib's levels 1-3 use its fast matcher, whose streams also decompress faster:
#: measured on a 12x12 artifact, level 3 writes in 0.8 s and reads in 0.4 s where level 4 takes
#: 1.7 s and 0.7 s, for files 3-5 % larger (bench/bench_artifact.py).
_GZIP_LEVEL = 3
#: Tables of up to this many entries (9x9 bits) are read at load; larger ones when first used.
_EAGER_ELEMENTS = 1 << 18


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


# --------------------------------------------------------------------------- lazy tables


class _Stored:
    """A dataset of an artifact file, read when first needed.

    Records the file's size and modification time at load; reading after
    the file changed raises :class:`ArtifactError` instead of mixing tables
    of two files.
    """

    def __init__(self, path: Path, dataset, stamp: tuple) -> None:  # noqa: ANN001 - an h5py.Dataset
        self.path, self.dataset, self.stamp = path, dataset.name.lstrip("/"), stamp
        self.shape, self.dtype = tuple(dataset.shape), dataset.dtype
        self.attrs = {key: _plain(value) for key, value in dataset.attrs.items()}

    def read(self, rows: slice | tuple = slice(None)) -> np.ndarray:
        import h5py

        if _stamp(self.path) != self.stamp:
            raise ArtifactError(
                f"{self.path}: the file changed after it was loaded; load it again to read /{self.dataset}"
            )
        try:
            with h5py.File(self.path, "r") as h5:
                return np.asarray(h5[self.dataset][rows])
        except (OSError, KeyError) as exc:
            raise ArtifactError(
                f"{self.path}: cannot read /{self.dataset} ({exc}); the file is corrupt"
            ) from exc


def _stamp(path: Path) -> tuple:
    try:
        status = path.stat()
    except OSError:
        return ()
    return (status.st_ino, status.st_size, status.st_mtime_ns)


class _LazyArray:
    """Descriptor: an instance attribute holding an ndarray or a :class:`_Stored`, read on first access."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, instance: object, owner: type | None = None) -> np.ndarray:
        if instance is None:
            return self  # type: ignore[return-value]
        value = getattr(instance, self.slot)
        if isinstance(value, _Stored):
            value = value.read()
            setattr(instance, self.slot, value)
        return value

    def __set__(self, instance: object, value: object) -> None:
        setattr(instance, self.slot, value)


def _shape(value: object) -> tuple[int, ...]:
    return tuple(value.shape) if isinstance(value, _Stored) else np.shape(value)


def _rows(value: object, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of an ndarray or a stored table (reading only those rows)."""
    if isinstance(value, _Stored):
        return value.read(slice(start, stop))
    return np.asarray(value)[start:stop]


def _columns(value: object, indices: list[int]) -> np.ndarray:
    """Columns ``indices`` (distinct) [N, len(indices)] of an ndarray or a stored table, chunk by chunk."""
    if isinstance(value, _Stored):
        return value.read((slice(None), sorted(indices)))[:, np.argsort(np.argsort(indices))]
    return np.asarray(value)[:, indices]


# --------------------------------------------------------------------------- gradients


class GradientTable:
    """A gradient estimate stored as two full tables (LUT-2D).

    ``d_a`` approximates dAM/da and ``d_b`` dAM/db at every ``(a_i, b_j)``,
    float32 [Na, Nb] each, read from the file when first used. ``attrs``
    records the parameters that produced them (half-windows, edge rule).
    """

    kind = "table"
    d_a = _LazyArray()
    d_b = _LazyArray()

    def __init__(self, d_a: np.ndarray, d_b: np.ndarray, attrs: Mapping[str, object] | None = None) -> None:
        self.d_a = d_a if isinstance(d_a, _Stored) else np.asarray(d_a, dtype=np.float32)
        self.d_b = d_b if isinstance(d_b, _Stored) else np.asarray(d_b, dtype=np.float32)
        self.attrs = dict(attrs or {})

    @property
    def shape(self) -> tuple[int, int]:
        """``(Na, Nb)``."""
        return _shape(self._d_a)  # type: ignore[return-value]

    def rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """``(d_a, d_b)`` rows ``start:stop`` (operand a values ``a[start:stop]``), float32."""
        return _rows(self._d_a, start, stop), _rows(self._d_b, start, stop)

    def columns(self, indices: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """``(d_a, d_b)`` columns ``indices`` (operand b value indices), float32 [Na, len(indices)]."""
        return _columns(self._d_a, indices), _columns(self._d_b, indices)

    def _check(self, shape: tuple[int, int], where: str) -> None:
        for label in ("d_a", "d_b"):
            if _shape(getattr(self, f"_{label}")) != shape:
                raise ArtifactError(
                    f"{where}/{label} has shape {_shape(getattr(self, f'_{label}'))}, expected {shape}"
                )

    def _materialize(self) -> None:
        self.d_a, self.d_b  # noqa: B018 - reading the properties loads the tables

    def __repr__(self) -> str:
        return f"GradientTable(shape={self.shape}, attrs={self.attrs})"


class SeparableGradient:
    """A gradient estimate as a sum of R separable terms (LUT-1D, and STE with R = 1).

    ``dAM/da(a_i, b_j) ~ sum_r u_a[r, i] * v_a[r, j]`` and
    ``dAM/db(a_i, b_j) ~ sum_r u_b[r, i] * v_b[r, j]``, with ``u_a``, ``u_b``
    float32 [R, Na] (functions of operand a) and ``v_a``, ``v_b`` float32
    [R, Nb] (functions of operand b). A form that gives each derivative as a
    function of the *other* operand only has R = 1 and ``u_a = 1``,
    ``v_b = 1``. ``d_a`` and ``d_b`` expand the sums to [Na, Nb] on first use.
    """

    kind = "separable"

    def __init__(
        self,
        u_a: np.ndarray,
        v_a: np.ndarray,
        u_b: np.ndarray,
        v_b: np.ndarray,
        attrs: Mapping[str, object] | None = None,
    ) -> None:
        self.u_a, self.v_a, self.u_b, self.v_b = (
            np.atleast_2d(np.asarray(f, dtype=np.float32)) for f in (u_a, v_a, u_b, v_b)
        )
        self.attrs = dict(attrs or {})

    @property
    def rank(self) -> int:
        """Number of separable terms R of ``d_a`` (and of ``d_b``)."""
        return int(self.u_a.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        """``(Na, Nb)``."""
        return (int(self.u_a.shape[1]), int(self.v_a.shape[1]))

    @cached_property
    def d_a(self) -> np.ndarray:
        """dAM/da expanded to float32 [Na, Nb]."""
        return _expand(self.u_a, self.v_a)

    @cached_property
    def d_b(self) -> np.ndarray:
        """dAM/db expanded to float32 [Na, Nb]."""
        return _expand(self.u_b, self.v_b)

    def rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """``(d_a, d_b)`` rows ``start:stop``, float32, without expanding the whole table."""
        return _expand(self.u_a[:, start:stop], self.v_a), _expand(self.u_b[:, start:stop], self.v_b)

    def columns(self, indices: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """``(d_a, d_b)`` columns ``indices``, float32 [Na, len(indices)], without expanding the table."""
        return _expand(self.u_a, self.v_a[:, indices]), _expand(self.u_b, self.v_b[:, indices])

    def _check(self, shape: tuple[int, int], where: str) -> None:
        n_a, n_b = shape
        for label, factor, length in (("u_a", self.u_a, n_a), ("u_b", self.u_b, n_a)):
            if factor.ndim != 2 or factor.shape[1] != length:
                raise ArtifactError(f"{where}/{label} has shape {factor.shape}, expected [R, {length}]")
        for label, factor, partner in (("v_a", self.v_a, self.u_a), ("v_b", self.v_b, self.u_b)):
            if factor.shape != (partner.shape[0], n_b):
                raise ArtifactError(
                    f"{where}/{label} has shape {factor.shape}, expected {(partner.shape[0], n_b)}"
                )

    def _materialize(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"SeparableGradient(rank={self.rank}, shape={self.shape}, attrs={self.attrs})"


Gradient = GradientTable | SeparableGradient


def _expand(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``sum_r outer(u[r], v[r])`` as float32 [N, M], one pass per term (STE: a single outer product)."""
    table = np.multiply.outer(u[0], v[0])
    for u_r, v_r in zip(u[1:], v[1:], strict=True):
        table += np.multiply.outer(u_r, v_r)
    return table


def ste_gradient(operand_a: np.ndarray, operand_b: np.ndarray) -> SeparableGradient:
    """The straight-through estimator, the exact multiplier's gradient: dAM/da = b, dAM/db = a.

    Rank 1: ``u_a = 1``, ``v_a = b``, ``u_b = a``, ``v_b = 1``.
    """
    a = np.asarray(operand_a, dtype=np.float32)[np.newaxis]
    b = np.asarray(operand_b, dtype=np.float32)[np.newaxis]
    return SeparableGradient(np.ones_like(a), b, a, np.ones_like(b))


# --------------------------------------------------------------------------- tuning record


@dataclass(frozen=True)
class TuningRecord:
    """How the LUT-2D half-window was chosen by short retraining runs (``appmult tune-hws``).

    ``grid[g]`` is the ``(hws_a, hws_b)`` of grid point g; ``train_loss[g][s]``
    and ``test_accuracy[g][s]`` are the final training loss and the test
    accuracy (in [0, 1]) of seed s at that point. ``hws_a``, ``hws_b`` is
    the point chosen by ``rule``; ``settings`` holds the data, network,
    epochs, seeds, learning rate, range policy and device used.
    """

    hws_a: int
    hws_b: int
    grid: tuple[tuple[int, int], ...]
    train_loss: tuple[tuple[float, ...], ...]
    test_accuracy: tuple[tuple[float, ...], ...]
    rule: str
    settings: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shapes = {np.shape(self.train_loss), np.shape(self.test_accuracy)}
        if len(shapes) != 1 or np.shape(self.grid) != (len(self.train_loss), 2):
            raise ArtifactError(
                "tuning record: grid, train_loss and test_accuracy disagree in length "
                f"({np.shape(self.grid)}, {np.shape(self.train_loss)}, {np.shape(self.test_accuracy)})"
            )
        if (self.hws_a, self.hws_b) not in {tuple(point) for point in self.grid}:
            raise ArtifactError(f"tuning record: the choice ({self.hws_a}, {self.hws_b}) is not a grid point")


# --------------------------------------------------------------------------- the artifact


class Artifact(OperandAxes):
    """A characterized multiplier: its product table, metrics, gradients and provenance.

    Operand ``a`` is the first operand (rows; the activation in a DNN layer),
    ``b`` the second (columns; the weight). Construct with the product table
    in value order; the header is validated on construction, so an
    ``Artifact`` that exists is a valid one. ``product`` is int32 [Na, Nb];
    an artifact from :func:`load` reads it from its file when first used.

    Provenance: ``source_files`` and their ``source_sha256``, ``simulator``
    (backend and versions), ``signedness`` (how the operands' signedness was
    decided), ``sandbox`` (how the simulator was confined), ``tool_version``,
    ``created_utc``.
    """

    product = _LazyArray()

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
        product: np.ndarray,
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
    ) -> None:
        self.name, self.top = str(name), str(top)
        self.width_a = check_width(width_a, "operand a")
        self.width_b = check_width(width_b, "operand b")
        self.width_out = int(width_out)
        self.signed_a, self.signed_b = bool(signed_a), bool(signed_b)
        self.source_files = tuple(str(s) for s in source_files)
        self.source_sha256 = tuple(str(s) for s in source_sha256)
        self.simulator, self.signedness, self.sandbox = str(simulator), str(signedness), str(sandbox)
        self.tool_version = str(tool_version)
        self.created_utc = created_utc or _utc_now()
        self.product = product if isinstance(product, _Stored) else self._checked_product(product)
        self._check_product_shape()
        self.metrics = (
            dict(metrics) if metrics else error_metrics(self.product, self.operand_a, self.operand_b)
        )
        self.gradients: dict[str, Gradient] = dict(gradients or {})
        self.tuning = tuning
        self.validate()

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
        if _shape(self._product) != self.shape:
            raise ArtifactError(
                f"{self.name or 'artifact'}: product table has shape {_shape(self._product)}, expected "
                f"{self.shape} for {self.width_a}x{self.width_b}-bit operands"
            )

    def validate(self) -> None:
        """Raise :class:`ArtifactError` if any table disagrees with the header."""
        where = self.name or "artifact"
        self._check_product_shape()
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

    def gradient(self, method: str) -> Gradient:
        """The gradient group ``method``; ``ste`` is always available (built from the axes)."""
        if method in self.gradients:
            return self.gradients[method]
        if method == "ste":
            return ste_gradient(self.operand_a, self.operand_b)
        have = ", ".join(self.gradients) or "none"
        raise ArtifactError(
            f"{self.name}: no /grad/{method} group (it holds {have}); run `appmult lutgen` on it"
        )

    @property
    def product_range(self) -> tuple[int, int]:
        """``(min, max)`` of the product table, from the file's header when it records them."""
        recorded = self._product.attrs if isinstance(self._product, _Stored) else {}
        if "min" in recorded and "max" in recorded:
            return int(recorded["min"]), int(recorded["max"])
        return int(self.product.min()), int(self.product.max())

    def product_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of the product table (reads only those rows of a stored table)."""
        return _rows(self._product, start, stop)

    def materialize(self) -> Artifact:
        """Read every stored table into memory (before the file is replaced or shipped elsewhere)."""
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
        return (
            f"Artifact(name={self.name!r}, {self.width_a}x{self.width_b} "
            f"{sign[self.signed_a]}{sign[self.signed_b]}, gradients={sorted(self.gradients)})"
        )


# --------------------------------------------------------------------------- writing


def save(artifact: Artifact, path: str | os.PathLike) -> Path:
    """Write ``artifact`` to ``path`` atomically (temporary file, then rename), format version 2.

    Raises :class:`ArtifactError` when the directory cannot be written; an
    existing file at ``path`` is then left as it was. Tables the artifact
    has not read yet are read from its file first.
    """
    artifact.validate()
    artifact.materialize()
    with replacing(path, ArtifactError) as tmp:
        _write_h5(artifact, tmp)
    return Path(path)


_TEXT_KEYS = ("name", "top", "simulator", "signedness", "sandbox", "tool_version", "created_utc")


def _table(group, name: str, data: np.ndarray) -> None:  # noqa: ANN001
    """A chunked, shuffled, deflate-compressed 2-D dataset of whole-row chunks (module docstring)."""
    rows = max(1, min(data.shape[0], _CHUNK_ELEMENTS // max(1, data.shape[1])))
    group.create_dataset(
        name,
        data=data,
        chunks=(rows, data.shape[1]),
        shuffle=True,
        compression="gzip",
        compression_opts=_GZIP_LEVEL,
    )


def _write_h5(artifact: Artifact, path: Path) -> None:
    import h5py

    text = h5py.string_dtype()
    with h5py.File(path, "w") as h5:
        attrs = h5.attrs
        attrs["format"] = FORMAT
        attrs["format_version"] = np.int32(FORMAT_VERSION)
        for key in _TEXT_KEYS:
            attrs[key] = str(getattr(artifact, key))
        for key in ("width_a", "width_b", "width_out"):
            attrs[key] = np.int32(getattr(artifact, key))
        attrs["signed_a"] = np.bool_(artifact.signed_a)
        attrs["signed_b"] = np.bool_(artifact.signed_b)
        attrs.create("source_files", np.array(artifact.source_files, dtype=object), dtype=text)
        attrs.create("source_sha256", np.array(artifact.source_sha256, dtype=object), dtype=text)
        h5.create_dataset("operand_a", data=artifact.operand_a)
        h5.create_dataset("operand_b", data=artifact.operand_b)
        _table(h5, "product", artifact.product)
        low, high = artifact.product_range
        h5["product"].attrs["min"], h5["product"].attrs["max"] = np.int32(low), np.int32(high)
        metrics = h5.create_group("metrics")
        for key, value in artifact.metrics.items():
            metrics.attrs[key] = np.float64(value)
        grad = h5.create_group("grad")
        for method, gradient in artifact.gradients.items():
            group = grad.create_group(method)
            for key, value in gradient.attrs.items():
                group.attrs[key] = value
            if method == "ste":
                group.attrs["kind"] = "axes"
            elif isinstance(gradient, GradientTable):
                group.attrs["kind"] = GradientTable.kind
                _table(group, "d_a", gradient.d_a)
                _table(group, "d_b", gradient.d_b)
            else:
                group.attrs["kind"] = SeparableGradient.kind
                for label in ("u_a", "v_a", "u_b", "v_b"):
                    group.create_dataset(label, data=getattr(gradient, label))
        if artifact.tuning is not None:
            _write_tuning(h5.create_group("tuning"), artifact.tuning)


def _write_tuning(group, record: TuningRecord) -> None:  # noqa: ANN001
    group.create_dataset("grid", data=np.asarray(record.grid, dtype=np.int32).reshape(-1, 2))
    group.create_dataset("train_loss", data=np.asarray(record.train_loss, dtype=np.float64))
    group.create_dataset("test_accuracy", data=np.asarray(record.test_accuracy, dtype=np.float64))
    group.attrs["hws_a"] = np.int32(record.hws_a)
    group.attrs["hws_b"] = np.int32(record.hws_b)
    group.attrs["rule"] = record.rule
    group.attrs["settings"] = json.dumps(record.settings, sort_keys=True)


# --------------------------------------------------------------------------- reading


def _plain(value: object) -> object:
    """HDF5 attribute value as a plain Python object."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        return tuple(_plain(v) for v in value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


_HEADER_KEYS = (
    "name", "top", "width_a", "width_b", "width_out", "signed_a", "signed_b",
    "simulator", "tool_version", "created_utc",
)  # fmt: skip


def load(path: str | os.PathLike) -> Artifact:
    """Open and validate an artifact; its tables are read when first used (module docstring).

    Reads format versions 1 and 2. Raises :class:`ArtifactError` naming the
    file for a missing, non-HDF5, foreign, newer-version or inconsistent file.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: no such artifact file")
    stamp = _stamp(path)
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise ArtifactError(
            f"{path}: not a readable HDF5 file ({exc}); was it written by `appmult characterize`?"
        ) from exc
    with h5:
        attrs = {k: _plain(v) for k, v in h5.attrs.items()}
        version = _check_format(path, attrs)
        required = ("product", "operand_a", "operand_b", "metrics")
        missing = [key for key in required if key not in h5]
        missing += [key for key in _HEADER_KEYS if key not in attrs]
        if missing:
            raise ArtifactError(
                f"{path}: corrupt artifact, missing {', '.join(missing)}; re-run appmult characterize"
            )

        def stored(name: str, dtype: str) -> np.ndarray | _Stored:
            dataset = h5[name]
            if not isinstance(dataset, h5py.Dataset) or dataset.dtype.kind != dtype:
                raise ArtifactError(
                    f"{path}: /{name} is not a {'integer' if dtype == 'i' else 'float'} dataset"
                )
            return dataset[()] if dataset.size <= _EAGER_ELEMENTS else _Stored(path, dataset, stamp)

        try:
            fields = {key: attrs[key] for key in _HEADER_KEYS}
            for key in ("source_files", "source_sha256"):
                fields[key] = attrs.get(key, ())
            for key in ("signedness", "sandbox"):
                fields[key] = str(attrs.get(key, ""))
            axes = {label: h5[label][()] for label in ("operand_a", "operand_b")}
            metrics = {k: float(v) for k, v in h5["metrics"].attrs.items()}
            gradients = {}
            for method, group in h5["grad"].items() if "grad" in h5 else ():
                gradients[method] = _read_gradient(path, method, group, version, stored)
            tuning = _read_tuning(path, h5["tuning"]) if "tuning" in h5 else None
            product = stored("product", "i")
        except (KeyError, OSError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{path}: corrupt artifact ({exc}); re-run appmult characterize") from exc
    stored_gradients = {method: g for method, g in gradients.items() if g is not None}
    try:
        artifact = Artifact(
            product=product, metrics=metrics, gradients=stored_gradients, tuning=tuning, **fields
        )
    except (ArtifactError, ParameterError) as exc:
        raise ArtifactError(f"{path}: {exc}") from exc
    for label in ("operand_a", "operand_b"):
        if not np.array_equal(axes[label], getattr(artifact, label)):
            raise ArtifactError(f"{path}: /{label} is not the value-ordered axis its header declares")
    order = sorted(gradients, key=lambda m: (METHODS.index(m) if m in METHODS else len(METHODS), m))
    artifact.gradients = {
        method: stored_gradients.get(method) or ste_gradient(artifact.operand_a, artifact.operand_b)
        for method in order
    }
    return artifact


def _check_format(path: Path, attrs: dict[str, object]) -> int:
    if attrs.get("format") != FORMAT:
        raise ArtifactError(
            f"{path}: not an appmult artifact (format attribute is {attrs.get('format')!r}, "
            f"expected {FORMAT!r})"
        )
    version = attrs.get("format_version")
    if version not in READABLE_VERSIONS:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        advice = "upgrade appmult" if newer else "re-run appmult characterize"
        raise ArtifactError(
            f"{path}: artifact format version {version!r}; this appmult {__version__} reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))} ({advice})"
        )
    return int(version)  # type: ignore[arg-type]


def _read_gradient(path: Path, method: str, group, version: int, stored) -> Gradient | None:  # noqa: ANN001
    """One ``/grad/<method>`` group; version-1 groups are converted to the version-2 forms.

    Returns None for a gradient defined by the operand axes (STE), which
    :func:`load` builds once the header is validated.
    """
    attrs = {k: _plain(v) for k, v in group.attrs.items()}
    if version == 1:
        if method == "lut1d":
            # version 1: d_a [Nb] as a function of b, d_b [Na] as a function of a
            d_a, d_b = np.asarray(group["d_a"][()]), np.asarray(group["d_b"][()])
            form = attrs.pop("reduction", "mean")
            attrs.update(form=form, rank=1)
            return SeparableGradient(np.ones((1, d_b.size)), d_a, d_b, np.ones((1, d_a.size)), attrs)
        if method == "ste":
            return None  # version 1 stored the broadcast axes; they are rebuilt from the header
        return GradientTable(stored(f"grad/{method}/d_a", "f"), stored(f"grad/{method}/d_b", "f"), attrs)
    kind = attrs.pop("kind", None)
    if kind == "axes":
        return None
    if kind == GradientTable.kind:
        return GradientTable(stored(f"grad/{method}/d_a", "f"), stored(f"grad/{method}/d_b", "f"), attrs)
    if kind == SeparableGradient.kind:
        factors = [np.asarray(group[label][()], dtype=np.float32) for label in ("u_a", "v_a", "u_b", "v_b")]
        return SeparableGradient(*factors, attrs=attrs)
    raise ArtifactError(f"{path}: /grad/{method} has unknown kind {kind!r}")


def _read_tuning(path: Path, group) -> TuningRecord:  # noqa: ANN001
    try:
        settings = json.loads(_plain(group.attrs["settings"]))
    except (KeyError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: /tuning has no readable settings ({exc})") from exc
    return TuningRecord(
        hws_a=int(_plain(group.attrs["hws_a"])),
        hws_b=int(_plain(group.attrs["hws_b"])),
        grid=tuple(tuple(int(v) for v in row) for row in group["grid"][()]),
        train_loss=tuple(tuple(float(v) for v in row) for row in group["train_loss"][()]),
        test_accuracy=tuple(tuple(float(v) for v in row) for row in group["test_accuracy"][()]),
        rule=str(_plain(group.attrs["rule"])),
        settings=settings if isinstance(settings, dict) else {},
    )
