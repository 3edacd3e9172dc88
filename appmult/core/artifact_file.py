"""The artifact file: one HDF5 file per multiplier, read and written only here.

Schema (``format="appmult-lut"``, ``format_version=2``, or 3 for the wide form
below; version 1 files still load):

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
``/grad/<name>``
    One group per gradient estimate (names from stage 2's registry,
    :mod:`appmult.lutgen.methods`), its parameters as attributes; ``kind``
    says how its tables are stored (:mod:`appmult.core.gradient`):

    ``kind="table"`` (LUT-2D): ``d_a``, ``d_b`` float32 [Na, Nb], the
    estimates of dAM/da and dAM/db at every ``(a_i, b_j)``.

    ``kind="separable"`` (LUT-1D): ``u_a``, ``u_b`` float32 [R, Na] and
    ``v_a``, ``v_b`` float32 [R, Nb] with
    ``dAM/da(a_i, b_j) ~ sum_r u_a[r, i] * v_a[r, j]`` and
    ``dAM/db(a_i, b_j) ~ sum_r u_b[r, i] * v_b[r, j]``: u is always a function
    of operand a, v of operand b.

    ``kind="axes"`` (STE): no datasets. The exact multiplier's gradient
    (dAM/da = b, dAM/db = a) is the operand axes themselves; readers
    materialize it (a rank-1 separable gradient) on demand.
``/summary`` (version 3, the wide form only)
    A multiplier characterized by streaming (an operand of 13..16 bits, or
    ``--stream``) has no ``/product``; its metrics are exact over every pair
    and this group holds what a report needs instead, all in value order
    (:mod:`appmult.core.summary`; ``e = AM(a, b) - a*b``; Na, Nb the axis
    lengths, ``Ma = min(Na, 256)``, ``Mb = min(Nb, 256)``):

    ``histogram`` int64 [67]: pairs per signed power-of-two error bin, bin
    ``33 + sign(e) * k`` for ``2**(k-1) <= |e| < 2**k`` (bin 33: ``e = 0``);
    ``row_mean_abs`` float64 [Na] and ``row_max_abs`` int64 [Na]: mean and
    max ``|e|`` for each a; ``col_mean_abs`` float64 [Nb] and
    ``col_max_abs`` int64 [Nb]: the same for each b; ``map_mean`` float64
    [Ma, Mb] and ``map_max_abs`` int64 [Ma, Mb]: mean ``e`` and max ``|e|``
    over blocks of ``Na/Ma x Nb/Mb`` pairs. Attributes ``product_min``,
    ``product_max`` (int64, the range of AM) and ``metrics_by`` (how the
    metrics were computed). Subgroup ``cross_check`` (optional, attributes
    only): ``reference`` (the simulator), ``corner_pairs``, ``random_pairs``,
    ``seed``, ``mismatches`` (int64) and ``seconds`` (float64) of the
    sampled comparison with the reference simulator.

    Wide files are version 3 so that an appmult that reads only versions
    1-2 says "upgrade appmult" instead of calling a file without
    ``/product`` corrupt; files with a table stay version 2 and still load
    in those versions.
``/tuning`` (optional)
    How ``appmult tune-hws`` chose the gradient table: datasets ``grid``
    int32 [G, 2] (hws_a, hws_b per candidate; 0, 0 for a method without
    half-windows), ``train_loss`` and ``test_accuracy`` float64 [G, S] (per
    seed); attributes ``hws_a``, ``hws_b`` (the LUT-2D choice), ``rule``,
    ``settings`` (JSON: data, network, epochs, seeds, learning rate, range
    policy, ...) and, since candidates other than LUT-2D are searched,
    ``kinds`` (text [G], each candidate's gradient method), ``recommended``
    (the method to retrain with) and ``verdict``.
``/cost`` (optional)
    The hardware cost of the sources, by Yosys (``appmult cost``):
    attributes ``cells``, ``transistors`` (static-CMOS estimate), ``depth``
    (logic levels) int64, ``yosys`` (version and executable that ran) and
    ``script`` (the exact Yosys script); subgroup ``cells_by_type`` with one
    int64 attribute per cell type (``$_NAND_``, ...).

Storage: the 2-D tables are chunked in blocks of whole rows and compressed
with the standard deflate (gzip) filter after byte shuffle, so ``h5dump``,
h5py, MATLAB and HDFView read them without plugins. Whole-row chunks of
about 1 MiB (64 rows at 12 bits, the whole table up to 8x8 bits) suit the
two access patterns that matter: whole-table reads are sequential, and row
blocks (12-bit metrics, exports, plots) decompress only their own chunks.
Shuffle puts the similar high bytes of neighbouring integers and floats
together, which is what makes these tables compress 10-30x.

Reading is gated: before anything else, :func:`load` has
:mod:`appmult.core.artifact_gate` compare the file's metadata with the table
of what this schema allows (its ``SCHEMA``: one row per object, with dtype,
shape as a function of ``width_a`` and ``width_b``, filters and attributes)
and refuse external storage, virtual datasets, soft and external links,
aliases, other filters, dtypes and shapes, and oversized chunks and
attributes; every table read then checks that the chunks it touches inflate
to their declared size. A new group of the schema is new rows in that table.

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

import io
import json
import os
from pathlib import Path

import numpy as np

from appmult.core import artifact_gate
from appmult.core.artifact import Artifact, HardwareCost, TuningRecord
from appmult.core.atomic import replacing
from appmult.core.errors import ArtifactError, ParameterError
from appmult.core.gradient import AxesGradient, Gradient, GradientTable, SeparableGradient
from appmult.core.lazy import StoredTable
from appmult.core.summary import ErrorSummary, SampledCheck
from appmult.core.version import __version__

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "READABLE_VERSIONS",
    "SEPARABLE_FACTORS",
    "SUMMARY_DATASETS",
    "WIDE_FORMAT_VERSION",
    "load",
    "outline",
    "save",
]

FORMAT = "appmult-lut"
#: The version of files that hold a product table.
FORMAT_VERSION = 2
#: The version of wide files (no ``/product``, a ``/summary`` group).
WIDE_FORMAT_VERSION = 3

READABLE_VERSIONS = (1, 2, 3)

#: The datasets of ``/summary``, by name: (dtype kind, shape for a table of shape (Na, Nb)).
SUMMARY_DATASETS = ErrorSummary.ARRAYS
#: The attributes of ``/summary/cross_check``, with their types.
_CROSS_CHECK_FIELDS = {
    "reference": str,
    "corner_pairs": int,
    "random_pairs": int,
    "seed": int,
    "mismatches": int,
    "seconds": float,
}

#: Elements per chunk of a 2-D table (1 MiB of int32 or float32).
_CHUNK_ELEMENTS = 1 << 18
#: Deflate level. zlib's levels 1-3 use its fast matcher, whose streams also decompress faster:
#: measured on a 12x12 artifact, level 3 writes in 0.8 s and reads in 0.4 s where level 4 takes
#: 1.7 s and 0.7 s, for files 3-5 % larger (bench/bench_artifact.py).
_GZIP_LEVEL = 3
#: Tables of up to this many entries (9x9 bits) are read at load; larger ones when first used.
_EAGER_ELEMENTS = 1 << 18


# --------------------------------------------------------------------------- stored tables


class _Stored(StoredTable):
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
                return artifact_gate.read(self.path, h5[self.dataset], rows)
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


# --------------------------------------------------------------------------- writing


def save(artifact: Artifact, path: str | os.PathLike) -> Path:
    """Write ``artifact`` to ``path`` atomically (temporary file, then rename).

    Format version 2 for an artifact with a product table, 3 for the wide form.

    Raises :class:`ArtifactError` when the directory cannot be written (a
    full disk included); an existing file at ``path`` is then left as it was.
    Tables the artifact has not read yet are read from its file first.

    The HDF5 file is built in memory and its bytes written with ordinary
    I/O: HDF5 2.0 under h5py 3.16 crashes the process (segmentation fault)
    when it closes a file whose write failed, so HDF5 never writes to disk.
    """
    artifact.validate()
    artifact.materialize()
    with replacing(path, ArtifactError) as tmp:  # a signal waits for the image and its bytes
        tmp.write_bytes(_file_image(artifact))
    return Path(path)


def _file_image(artifact: Artifact) -> bytes:
    """The bytes of ``artifact``'s HDF5 file, built in memory."""
    buffer = io.BytesIO()
    _write_h5(artifact, buffer)
    return buffer.getvalue()


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


def _write_h5(artifact: Artifact, path: Path | io.BytesIO) -> None:
    import h5py

    text = h5py.string_dtype()
    with h5py.File(path, "w") as h5:
        attrs = h5.attrs
        attrs["format"] = FORMAT
        attrs["format_version"] = np.int32(FORMAT_VERSION if artifact.tabulated else WIDE_FORMAT_VERSION)
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
        if artifact.tabulated:
            _table(h5, "product", artifact.product)
            low, high = artifact.product_range
            h5["product"].attrs["min"], h5["product"].attrs["max"] = np.int32(low), np.int32(high)
        else:
            _write_summary(h5.create_group("summary"), artifact.summary)
        metrics = h5.create_group("metrics")
        for key, value in artifact.metrics.items():
            metrics.attrs[key] = np.float64(value)
        grad = h5.create_group("grad", track_order=True)  # read back in the order written
        for name, gradient in artifact.gradients.items():
            group = grad.create_group(name)
            for key, value in gradient.attrs.items():
                group.attrs[key] = value
            group.attrs["kind"] = gradient.kind
            if isinstance(gradient, AxesGradient):
                continue  # the header's axes determine it
            if isinstance(gradient, GradientTable):
                _table(group, "d_a", gradient.d_a)
                _table(group, "d_b", gradient.d_b)
            else:
                for label in SEPARABLE_FACTORS:
                    group.create_dataset(label, data=getattr(gradient, label))
        if artifact.tuning is not None:
            _write_tuning(h5.create_group("tuning"), artifact.tuning)
        if artifact.cost is not None:
            _write_cost(h5.create_group("cost"), artifact.cost)


def _write_summary(group, summary: ErrorSummary) -> None:  # noqa: ANN001
    for name in SUMMARY_DATASETS:
        data = getattr(summary, name)
        group.create_dataset(name, data=data, shuffle=True, compression="gzip", compression_opts=_GZIP_LEVEL)
    group.attrs["product_min"] = np.int64(summary.product_min)
    group.attrs["product_max"] = np.int64(summary.product_max)
    group.attrs["metrics_by"] = summary.metrics_by
    if summary.cross_check is not None:
        check = group.create_group("cross_check")
        for key, kind in _CROSS_CHECK_FIELDS.items():
            value = getattr(summary.cross_check, key)
            check.attrs[key] = (
                value if kind is str else (np.float64(value) if kind is float else np.int64(value))
            )


def _write_tuning(group, record: TuningRecord) -> None:  # noqa: ANN001
    import h5py

    group.create_dataset("grid", data=np.asarray(record.grid, dtype=np.int32).reshape(-1, 2))
    group.create_dataset("train_loss", data=np.asarray(record.train_loss, dtype=np.float64))
    group.create_dataset("test_accuracy", data=np.asarray(record.test_accuracy, dtype=np.float64))
    group.attrs["hws_a"] = np.int32(record.hws_a)
    group.attrs["hws_b"] = np.int32(record.hws_b)
    group.attrs["rule"] = record.rule
    group.attrs["settings"] = json.dumps(record.settings, sort_keys=True)
    if record.kinds:
        group.attrs.create("kinds", np.array(record.kinds, dtype=object), dtype=h5py.string_dtype())
        group.attrs["recommended"] = record.recommended
        group.attrs["verdict"] = record.verdict


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


#: The factor datasets of a separable group, in the order SeparableGradient takes them.
SEPARABLE_FACTORS = ("u_a", "v_a", "u_b", "v_b")

_HEADER_KEYS = (
    "name", "top", "width_a", "width_b", "width_out", "signed_a", "signed_b",
    "simulator", "tool_version", "created_utc",
)  # fmt: skip


def load(path: str | os.PathLike) -> Artifact:
    """Open and validate an artifact; its tables are read when first used (module docstring).

    Reads format versions 1 to 3. Raises :class:`ArtifactError` naming the
    file for a missing, non-HDF5, foreign, newer-version or inconsistent file,
    and for anything the schema does not allow (:mod:`appmult.core.artifact_gate`).
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
        attrs = {k: _plain(v) for k, v in artifact_gate.admit_header(path, h5).items()}
        version = _check_format(path, attrs)
        artifact_gate.admit(path, h5, version, attrs)
        wide = version == WIDE_FORMAT_VERSION
        required = ("summary" if wide else "product", "operand_a", "operand_b", "metrics")
        missing = [key for key in required if key not in h5]
        missing += [key for key in _HEADER_KEYS if key not in attrs]
        if missing:
            raise ArtifactError(
                f"{path}: corrupt artifact, missing {', '.join(missing)}; re-run appmult characterize"
            )
        if wide and "product" in h5:
            raise ArtifactError(f"{path}: corrupt artifact, a version-3 (wide) file holds no /product")

        def stored(name: str) -> np.ndarray | _Stored:
            dataset = h5[name]
            if dataset.size <= _EAGER_ELEMENTS:
                return artifact_gate.read(path, dataset)
            return _Stored(path, dataset, stamp)

        try:
            fields = {key: attrs[key] for key in _HEADER_KEYS}
            for key in ("source_files", "source_sha256"):
                fields[key] = attrs.get(key, ())
            for key in ("signedness", "sandbox"):
                fields[key] = str(attrs.get(key, ""))
            axes = {label: h5[label][()] for label in ("operand_a", "operand_b")}
            metrics = {k: float(v) for k, v in h5["metrics"].attrs.items()}
            gradients = {}
            for name, group in h5["grad"].items() if "grad" in h5 else ():
                gradients[name] = _read_gradient(path, name, group, version, stored)
            tuning = _read_tuning(path, h5["tuning"]) if "tuning" in h5 else None
            cost = _read_cost(path, h5["cost"]) if "cost" in h5 else None
            product = None if wide else stored("product")
            summary = _read_summary(path, h5["summary"]) if wide else None
        except (KeyError, OSError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{path}: corrupt artifact ({exc}); re-run appmult characterize") from exc
    stored_gradients = {name: g for name, g in gradients.items() if g is not None}
    try:
        artifact = Artifact(
            product=product,
            metrics=metrics,
            gradients=stored_gradients,
            tuning=tuning,
            summary=summary,
            cost=cost,
            **fields,
        )
    except (ArtifactError, ParameterError) as exc:
        raise ArtifactError(f"{path}: {exc}") from exc
    for label in ("operand_a", "operand_b"):
        if not np.array_equal(axes[label], getattr(artifact, label)):
            raise ArtifactError(f"{path}: /{label} is not the value-ordered axis its header declares")
    artifact.gradients = {
        name: stored_gradients.get(name) or AxesGradient(artifact.operand_a, artifact.operand_b)
        for name in gradients
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
        newer = isinstance(version, int) and version > WIDE_FORMAT_VERSION
        advice = "upgrade appmult" if newer else "re-run appmult characterize"
        raise ArtifactError(
            f"{path}: artifact format version {version!r}; this appmult {__version__} reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))} ({advice})"
        )
    return int(version)  # type: ignore[arg-type]


def _read_gradient(path: Path, name: str, group, version: int, stored) -> Gradient | None:  # noqa: ANN001
    """One ``/grad/<name>`` group, by its storage kind; version-1 groups are converted.

    Returns None for a gradient defined by the operand axes (``kind="axes"``),
    which :func:`load` builds once the header is validated.
    """
    attrs = {k: _plain(v) for k, v in group.attrs.items()}
    if version == 1:
        return _read_version1_gradient(path, name, group, attrs, stored)
    kind = attrs.pop("kind", None)
    if kind == AxesGradient.kind:
        return None
    if kind == GradientTable.kind:
        return GradientTable(stored(f"grad/{name}/d_a"), stored(f"grad/{name}/d_b"), attrs)
    if kind == SeparableGradient.kind:
        factors = [np.asarray(group[label][()], dtype=np.float32) for label in SEPARABLE_FACTORS]
        return SeparableGradient(*factors, attrs=attrs)
    raise ArtifactError(f"{path}: /grad/{name} has unknown kind {kind!r}")


def _read_version1_gradient(path: Path, name: str, group, attrs: dict, stored) -> Gradient | None:  # noqa: ANN001
    """A version-1 group, which had no ``kind``: told apart by what it stores.

    Vectors ``d_a`` [Nb] and ``d_b`` [Na] (each derivative a function of the
    other operand) become a rank-1 separable gradient; a group without
    attributes whose tables are the broadcast axes (version 1 stored the exact
    gradient that way) becomes the axes gradient; any other pair of tables
    stays a table.
    """
    d_a, d_b = group["d_a"], group["d_b"]
    if len(d_a.shape) == 1:
        d_a, d_b = np.asarray(d_a[()]), np.asarray(d_b[()])
        attrs.update(form=attrs.pop("reduction", "mean"), rank=1)
        return SeparableGradient(np.ones((1, d_b.size)), d_a, d_b, np.ones((1, d_a.size)), attrs)
    table = GradientTable(stored(f"grad/{name}/d_a"), stored(f"grad/{name}/d_b"), attrs)
    if not attrs and table.shape == (d_b.shape[0], d_a.shape[1]):
        rows = group.file["operand_a"][()].astype(np.float32)
        columns = group.file["operand_b"][()].astype(np.float32)
        if np.array_equal(table.d_a, np.broadcast_to(columns, table.shape)) and np.array_equal(
            table.d_b, np.broadcast_to(rows[:, np.newaxis], table.shape)
        ):
            return None
    return table


def _read_summary(path: Path, group) -> ErrorSummary:  # noqa: ANN001
    """The ``/summary`` group of a wide file; its shapes are checked by the artifact."""
    import h5py

    arrays = {}
    for name, (kind, _) in SUMMARY_DATASETS.items():
        dataset = group.get(name)
        if not isinstance(dataset, h5py.Dataset) or dataset.dtype.kind != kind:
            raise ArtifactError(
                f"{path}: /summary/{name} is missing or not an "
                f"{'integer' if kind == 'i' else 'float'} dataset"
            )
        arrays[name] = artifact_gate.read(path, dataset)
    check = None
    if "cross_check" in group:
        values = {key: _plain(group["cross_check"].attrs[key]) for key in _CROSS_CHECK_FIELDS}
        check = SampledCheck(**{key: kind(values[key]) for key, kind in _CROSS_CHECK_FIELDS.items()})
    return ErrorSummary(
        **arrays,
        product_min=int(_plain(group.attrs["product_min"])),
        product_max=int(_plain(group.attrs["product_max"])),
        metrics_by=str(_plain(group.attrs.get("metrics_by", ""))),
        cross_check=check,
    )


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
        kinds=tuple(_plain(group.attrs["kinds"])) if "kinds" in group.attrs else (),
        recommended=str(_plain(group.attrs.get("recommended", ""))),
        verdict=str(_plain(group.attrs.get("verdict", ""))),
    )


def _write_cost(group, cost: HardwareCost) -> None:  # noqa: ANN001
    for key in ("cells", "transistors", "depth"):
        group.attrs[key] = np.int64(getattr(cost, key))
    group.attrs["yosys"] = cost.yosys
    group.attrs["script"] = cost.script
    by_type = group.create_group("cells_by_type", track_order=True)
    for cell_type, count in cost.cells_by_type.items():
        by_type.attrs[cell_type] = np.int64(count)


def _read_cost(path: Path, group) -> HardwareCost:  # noqa: ANN001
    try:
        attrs = {key: _plain(value) for key, value in group.attrs.items()}
        by_type = {str(k): int(_plain(v)) for k, v in group["cells_by_type"].attrs.items()}
        return HardwareCost(
            cells_by_type=by_type,
            cells=int(attrs["cells"]),
            transistors=int(attrs["transistors"]),
            depth=int(attrs["depth"]),
            yosys=str(attrs["yosys"]),
            script=str(attrs["script"]),
        )
    except (KeyError, TypeError, ValueError, ArtifactError) as exc:
        raise ArtifactError(f"{path}: /cost is incomplete ({exc}); run appmult cost on it again") from exc


# --------------------------------------------------------------------------- outline


def _short(value: object) -> str:
    """An attribute value in a few characters: ``4``, ``'separable'``, ``int32[3]``."""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, np.ndarray | np.generic):
        array = np.asarray(value)
        if array.size != 1:
            return f"{array.dtype}[{','.join(map(str, array.shape))}]"
        value = array.reshape(-1).tolist()[0]
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def outline(path: Path) -> dict[str, dict[str, str]]:
    """HDF5 object path -> its attributes (and a dataset's shape and type), as short strings.

    What the guard against a second writer compares (:mod:`appmult.core.changes`),
    to name what another process changed. Another process may have put
    anything there, so this reads metadata only, within bounds: objects reached
    through hard links (soft and external links are listed, never followed),
    attribute values of at most :data:`~appmult.core.artifact_gate.MAX_TEXT_BYTES`
    bytes (larger ones as their size), no dataset's data. Empty for a file that
    is not HDF5.
    """
    import h5py

    if not h5py.is_hdf5(path):
        return {}
    outline: dict[str, dict[str, str]] = {}

    def attributes(item) -> dict[str, str]:  # noqa: ANN001 - an h5py object
        entry = {}
        for key in item.attrs:
            try:
                size = item.attrs.get_id(key).get_storage_size()
            except RuntimeError:  # HDF5 reports an empty attribute's storage as an error
                size = 0
            entry[key] = f"({size} bytes)" if size > artifact_gate.MAX_TEXT_BYTES else _short(item.attrs[key])
        return entry

    def visit(name: str, link) -> None:  # noqa: ANN001 - an h5py link
        where = f"/{name}"
        if not isinstance(link, h5py.HardLink):
            outline[where] = {"(link)": type(link).__name__}
            return
        item = h5[name]
        entry = attributes(item)
        if isinstance(item, h5py.Dataset):
            entry["(shape)"] = f"{item.dtype}[{','.join(map(str, item.shape))}]"
        outline[where] = entry

    with h5py.File(path, "r") as h5:
        outline["/"] = attributes(h5)
        h5.visititems_links(visit)
    return outline
