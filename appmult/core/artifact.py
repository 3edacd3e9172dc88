"""The artifact: one HDF5 file per multiplier, read and written only here.

Schema (``format="appmult-lut"``, ``format_version=1``; see design.md):

``/`` attributes
    ``format``, ``format_version``, ``name``, ``top``, ``width_a``, ``width_b``,
    ``width_out``, ``signed_a``, ``signed_b``, ``source_files``,
    ``source_sha256``, ``simulator``, ``tool_version``, ``created_utc``.
``/operand_a`` int32 [Na], ``/operand_b`` int32 [Nb]
    Operand values, ascending (value order, never bit-pattern order).
``/product`` int32 [Na, Nb]
    ``product[i, j] = AM(operand_a[i], operand_b[j])``; the multiplier output
    read as a two's-complement integer when either operand is signed,
    unsigned otherwise.
``/metrics`` attributes, float64
    See :mod:`appmult.core.metrics`.
``/grad/<method>/d_a``, ``/grad/<method>/d_b`` float32
    ``ste`` and ``lut2d``: [Na, Nb] each. ``lut1d``: ``d_a`` [Nb] (indexed by
    b), ``d_b`` [Na] (indexed by a). Group attributes hold the parameters.

Files are written to a temporary name in the target directory and renamed
into place, so an existing artifact is never half-overwritten.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from appmult import __version__
from appmult.core.atomic import replacing
from appmult.core.errors import ArtifactError
from appmult.core.metrics import METRIC_NAMES, error_metrics
from appmult.core.operands import OperandAxes, check_width

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "GRADIENT_METHODS",
    "Artifact",
    "GradientTable",
    "load",
    "save",
    "sha256_of",
]

FORMAT = "appmult-lut"
FORMAT_VERSION = 1

#: Gradient methods the schema knows, with the axis each table runs along:
#: "ab" is [Na, Nb]; for lut1d, d_a is indexed by b and d_b by a.
GRADIENT_METHODS: dict[str, tuple[str, str]] = {
    "ste": ("ab", "ab"),
    "lut2d": ("ab", "ab"),
    "lut1d": ("b", "a"),
}


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


@dataclass
class GradientTable:
    """One gradient estimate of ``AM`` with respect to each operand.

    ``d_a`` approximates dAM/da and ``d_b`` dAM/db, float32. Their shapes are
    given by :data:`GRADIENT_METHODS`. ``attrs`` records the parameters that
    produced them (half-windows, edge rule, reduction).
    """

    d_a: np.ndarray
    d_b: np.ndarray
    attrs: dict[str, object] = field(default_factory=dict)


@dataclass
class Artifact(OperandAxes):
    """A characterized multiplier: its product table, metrics, gradients and provenance.

    Operand ``a`` is the first operand (rows; the activation in a DNN layer),
    ``b`` the second (columns; the weight). Construct with the product table
    in value order; :meth:`validate` is run on construction, so an
    ``Artifact`` that exists is a valid one.
    """

    name: str
    top: str
    width_a: int
    width_b: int
    width_out: int
    signed_a: bool
    signed_b: bool
    product: np.ndarray
    source_files: tuple[str, ...] = ()
    source_sha256: tuple[str, ...] = ()
    simulator: str = ""
    tool_version: str = __version__
    created_utc: str = field(default_factory=_utc_now)
    metrics: dict[str, float] = field(default_factory=dict)
    gradients: dict[str, GradientTable] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.width_a = check_width(self.width_a, "operand a")
        self.width_b = check_width(self.width_b, "operand b")
        self.signed_a, self.signed_b = bool(self.signed_a), bool(self.signed_b)
        self.source_files = tuple(str(s) for s in self.source_files)
        self.source_sha256 = tuple(str(s) for s in self.source_sha256)
        product = np.asarray(self.product)
        if product.dtype.kind not in "iu":
            raise ArtifactError(f"{self.name}: product table must be integer, got {product.dtype}")
        wide = product.astype(np.int64)
        limits = np.iinfo(np.int32)
        if wide.size and (wide.min() < limits.min or wide.max() > limits.max):
            raise ArtifactError(f"{self.name}: product values do not fit in int32")
        self.product = wide.astype(np.int32)
        if self.product.shape != self.shape:
            raise ArtifactError(
                f"{self.name or 'artifact'}: product table has shape {self.product.shape}, expected "
                f"{self.shape} for {self.width_a}x{self.width_b}-bit operands"
            )
        if not self.metrics:
            self.metrics = error_metrics(self.product, self.operand_a, self.operand_b)
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ArtifactError` if any table disagrees with the header."""
        where = self.name or "artifact"
        if len(self.source_sha256) not in (0, len(self.source_files)):
            raise ArtifactError(f"{where}: source_sha256 does not match source_files")
        missing = [m for m in METRIC_NAMES if m not in self.metrics]
        if missing:
            raise ArtifactError(f"{where}: metrics missing: {', '.join(missing)}")
        sizes = {"ab": self.shape, "a": (self.shape[0],), "b": (self.shape[1],)}
        for method, table in self.gradients.items():
            if method not in GRADIENT_METHODS:
                raise ArtifactError(
                    f"{where}: unknown gradient method {method!r}; known: {', '.join(GRADIENT_METHODS)}"
                )
            for label, axes in zip(("d_a", "d_b"), GRADIENT_METHODS[method], strict=True):
                array = getattr(table, label)
                if np.shape(array) != sizes[axes]:
                    raise ArtifactError(
                        f"{where}: /grad/{method}/{label} has shape {np.shape(array)}, expected {sizes[axes]}"
                    )
            table.d_a = np.asarray(table.d_a, dtype=np.float32)
            table.d_b = np.asarray(table.d_b, dtype=np.float32)

    @classmethod
    def from_sources(cls, sources: Iterable[str | os.PathLike], **fields: object) -> Artifact:
        """Build an artifact whose provenance records ``sources`` and their SHA-256."""
        paths = [Path(s) for s in sources]
        return cls(
            source_files=tuple(str(p) for p in paths),
            source_sha256=tuple(sha256_of(p) for p in paths),
            **fields,  # type: ignore[arg-type]
        )


def save(artifact: Artifact, path: str | os.PathLike) -> Path:
    """Write ``artifact`` to ``path`` atomically (temporary file, then rename).

    Raises :class:`ArtifactError` when the directory cannot be written; an
    existing file at ``path`` is then left as it was.
    """
    artifact.validate()
    with replacing(path, ArtifactError) as tmp:
        _write_h5(artifact, tmp)
    return Path(path)


def _write_h5(artifact: Artifact, path: Path) -> None:
    import h5py

    text = h5py.string_dtype()
    with h5py.File(path, "w") as h5:
        attrs = h5.attrs
        attrs["format"] = FORMAT
        attrs["format_version"] = np.int32(FORMAT_VERSION)
        for key in ("name", "top", "simulator", "tool_version", "created_utc"):
            attrs[key] = str(getattr(artifact, key))
        for key in ("width_a", "width_b", "width_out"):
            attrs[key] = np.int32(getattr(artifact, key))
        attrs["signed_a"] = np.bool_(artifact.signed_a)
        attrs["signed_b"] = np.bool_(artifact.signed_b)
        attrs.create("source_files", np.array(artifact.source_files, dtype=object), dtype=text)
        attrs.create("source_sha256", np.array(artifact.source_sha256, dtype=object), dtype=text)
        h5.create_dataset("operand_a", data=artifact.operand_a)
        h5.create_dataset("operand_b", data=artifact.operand_b)
        h5.create_dataset("product", data=artifact.product)
        metrics = h5.create_group("metrics")
        for key, value in artifact.metrics.items():
            metrics.attrs[key] = np.float64(value)
        grad = h5.create_group("grad")
        for method, table in artifact.gradients.items():
            group = grad.create_group(method)
            group.create_dataset("d_a", data=np.asarray(table.d_a, dtype=np.float32))
            group.create_dataset("d_b", data=np.asarray(table.d_b, dtype=np.float32))
            for key, value in table.attrs.items():
                group.attrs[key] = value


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


def load(path: str | os.PathLike, *, gradients: bool = True) -> Artifact:
    """Read and validate an artifact; with ``gradients=False`` skip ``/grad``.

    Raises :class:`ArtifactError` naming the file for a missing, non-HDF5,
    foreign, newer-version or inconsistent file.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: no such artifact file")
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise ArtifactError(
            f"{path}: not a readable HDF5 file ({exc}); was it written by `appmult characterize`?"
        ) from exc
    with h5:
        attrs = {k: _plain(v) for k, v in h5.attrs.items()}
        if attrs.get("format") != FORMAT:
            raise ArtifactError(
                f"{path}: not an appmult artifact (format attribute is "
                f"{attrs.get('format')!r}, expected {FORMAT!r})"
            )
        version = attrs.get("format_version")
        if version != FORMAT_VERSION:
            newer = isinstance(version, int) and version > FORMAT_VERSION
            advice = "upgrade appmult" if newer else "re-run appmult characterize"
            raise ArtifactError(
                f"{path}: artifact format version {version!r}; this appmult "
                f"{__version__} reads version {FORMAT_VERSION} only ({advice})"
            )
        required = ("product", "operand_a", "operand_b", "metrics")
        missing = [key for key in required if key not in h5]
        missing += [key for key in _HEADER_KEYS if key not in attrs]
        if missing:
            raise ArtifactError(
                f"{path}: corrupt artifact, missing {', '.join(missing)}; re-run appmult characterize"
            )
        try:
            fields = {key: attrs[key] for key in _HEADER_KEYS}
            fields["source_files"] = attrs.get("source_files", ())
            fields["source_sha256"] = attrs.get("source_sha256", ())
            product = h5["product"][()]
            operand_a = h5["operand_a"][()]
            operand_b = h5["operand_b"][()]
            metrics = {k: float(v) for k, v in h5["metrics"].attrs.items()}
            tables = {}
            if gradients and "grad" in h5:
                for method, group in h5["grad"].items():
                    tables[method] = GradientTable(
                        d_a=group["d_a"][()],
                        d_b=group["d_b"][()],
                        attrs={k: _plain(v) for k, v in group.attrs.items()},
                    )
        except (KeyError, OSError) as exc:
            raise ArtifactError(f"{path}: corrupt artifact ({exc}); re-run appmult characterize") from exc
    try:
        artifact = Artifact(product=product, metrics=metrics, gradients=tables, **fields)
    except ArtifactError as exc:
        raise ArtifactError(f"{path}: {exc}") from exc
    for label, stored, expected in (
        ("operand_a", operand_a, artifact.operand_a),
        ("operand_b", operand_b, artifact.operand_b),
    ):
        if not np.array_equal(stored, expected):
            raise ArtifactError(f"{path}: /{label} is not the value-ordered axis its header declares")
    return artifact
