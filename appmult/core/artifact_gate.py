"""The gate every artifact read passes: the file's metadata against what the format allows.

An artifact is untrusted input: files travel between people. HDF5 lets a
file keep a dataset's bytes in another file (external storage, virtual
datasets, external links), name one object twice (soft and hard links),
decode chunks through filters of any kind, and declare shapes, chunks and
attributes of any size. :func:`admit_header` and :func:`admit` compare a
file's metadata with :data:`SCHEMA` before a byte of data is read, and
refuse (:class:`ArtifactError`, one line naming the object) anything the
writer of :mod:`appmult.core.artifact_file` does not put there:

- an object reached by anything but a hard link, an object with more than
  one name, or an object the table has no row for (objects are allowed,
  never merely ignored);
- a dataset stored outside the file (external storage, virtual layout);
- a datatype, shape, extendible shape or filter other than the row's; the
  shape is computed from the root's ``width_a`` and ``width_b``, which must
  be within the tool's limits (:func:`appmult.core.operands.check_width`);
- a chunk larger than the dataset, more chunks than :data:`MAX_CHUNKS`, or a
  chunk that stores more bytes than its filters can produce from it;
- an attribute that is not a scalar or short vector of numbers or text.

Deflate streams do not record how far they inflate, so the one thing
metadata cannot show is a chunk that inflates past its declared size (HDF5
would inflate it all). :func:`read` is how tables are read: it inflates
each chunk a read touches into a buffer of the chunk's declared size first
and refuses one that does not end there, before HDF5 decodes it.

The table
---------
One :class:`Node` per object of the schema: its path (``*`` stands for any
one name), the format versions it belongs to, and for a dataset its
datatype, allowed shapes, filter pipeline and attributes. A shape is a tuple
of dimension names from :data:`DIMENSIONS` (each a function of the header)
and integers. Adding a group to the schema is adding its rows (and a
dimension name if it needs a new one).

=========================  ====  ========  ======================  ==================
path                        ver   dtype     shape                   filters
=========================  ====  ========  ======================  ==================
``/operand_a``              1, 2  int32     [a]                     none
``/operand_b``              1, 2  int32     [b]                     none
``/product``                2     int32     [a, b]                  shuffle, deflate
``/product``                1     int32     [a, b]                  none
``/metrics``                1, 2  group     attributes: numbers
``/grad``                   1-3   group
``/grad/*``                 1-3   group     attributes: parameters
``/grad/*/d_a``             2     float32   [a, b]                  shuffle, deflate
``/grad/*/d_b``             2     float32   [a, b]                  shuffle, deflate
``/grad/*/u_a``, ``u_b``    2     float32   [rank, a]               none
``/grad/*/v_a``, ``v_b``    2     float32   [rank, b]               none
``/grad/*/d_a``             1     float32   [a, b] or [b]           none
``/grad/*/d_b``             1     float32   [a, b] or [a]           none
``/tuning``                 2     group     attributes: the choice, the candidates' kinds, verdict
``/tuning/grid``            2     int32     [points, 2]             none
``/tuning/train_loss``      2     float64   [points, seeds]         none
``/tuning/test_accuracy``   2     float64   [points, seeds]         none
``/summary``                3     group     attributes: product_min, product_max, metrics_by
``/summary/histogram``      3     int64     [bins]                  shuffle, deflate
``/summary/row_*``          3     f64/i64   [a]                     shuffle, deflate
``/summary/col_*``          3     f64/i64   [b]                     shuffle, deflate
``/summary/map_*``          3     f64/i64   [map_a, map_b]          shuffle, deflate
``/summary/cross_check``    3     group     attributes: the sampled cross-check
``/cost``                   2     group     attributes: cells, transistors, depth, yosys, script
``/cost/cells_by_type``     2     group     attributes: one integer per cell type
=========================  ====  ========  ======================  ==================

Dimensions: ``a`` = 2**width_a, ``b`` = 2**width_b, ``rank`` 1..min(a, b),
``points`` and ``seeds`` 1..4096, ``bins`` the error histogram's bins,
``map_a`` and ``map_b`` the binned error map's (at most 256 each). A dataset
may use any of its row's filters in the writer's order (shuffle before deflate), and any layout but virtual.
Tables read after :func:`load <appmult.core.artifact_file.load>` (lazily)
are not admitted again: the reader refuses a file that changed since.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from appmult.core.errors import ArtifactError, ParameterError
from appmult.core.operands import check_width
from appmult.core.summary import HISTOGRAM_BINS, map_shape

__all__ = [
    "DIMENSIONS",
    "MAX_ATTRIBUTE_ELEMENTS",
    "MAX_CHUNKS",
    "SCHEMA",
    "Node",
    "admit",
    "admit_header",
    "read",
]

#: What to do about a refused file (the end of every message).
ADVICE = (
    "refused unread; re-create it with appmult characterize (or import), or ask for the file appmult wrote"
)

#: HDF5's ids of the two filters the writer uses; it applies shuffle, then deflate.
DEFLATE, SHUFFLE = 1, 2
TABLE_FILTERS = (SHUFFLE, DEFLATE)
_FILTER_NAMES = {SHUFFLE: "shuffle (2)", DEFLATE: "deflate (1)"}

#: Most elements of an attribute (a vector such as ``source_files``); scalars otherwise.
MAX_ATTRIBUTE_ELEMENTS = 4096
#: Most bytes of one element of a fixed-length text attribute.
MAX_TEXT_BYTES = 1 << 16
#: Most chunks of one dataset (the writer uses at most 64 for a 12x12 table).
MAX_CHUNKS = 1 << 16
#: Most grid points and seeds of a tuning record.
MAX_TUNING = 4096


# --------------------------------------------------------------------------- the table


class Header:
    """What the dimensions of the schema are computed from: the checked operand widths."""

    def __init__(self, width_a: int, width_b: int) -> None:
        self.width_a, self.width_b = width_a, width_b
        self.rows, self.columns = 1 << width_a, 1 << width_b


def _exactly(size: int) -> range:
    return range(size, size + 1)


#: Dimension name -> the extents it allows, from the header.
DIMENSIONS: dict[str, Callable[[Header], range]] = {
    "a": lambda h: _exactly(h.rows),
    "b": lambda h: _exactly(h.columns),
    "rank": lambda h: range(1, min(h.rows, h.columns) + 1),
    "points": lambda h: range(1, MAX_TUNING + 1),
    "bins": lambda h: _exactly(HISTOGRAM_BINS),
    "map_a": lambda h: _exactly(map_shape((h.rows, h.columns))[0]),
    "map_b": lambda h: _exactly(map_shape((h.rows, h.columns))[1]),
    "seeds": lambda h: range(1, MAX_TUNING + 1),
}

#: Attribute kinds: name -> the classes it accepts (i integer, f float, b boolean, T text).
_KINDS = {"int": "i", "number": "if", "bool": "b", "text": "T", "scalar": "ifbT"}


@dataclass(frozen=True)
class Node:
    """One row of :data:`SCHEMA`: an object the format allows.

    ``path`` is absolute, ``*`` matching any one name. ``dtype`` is
    ``"group"`` or a numpy dtype name (byte order free). ``shapes`` are the
    allowed shapes, tuples of :data:`DIMENSIONS` names and integers.
    ``filters`` is the writer's pipeline (HDF5 filter ids, in order).
    ``attrs`` maps an attribute name to its kind (:data:`_KINDS`; a ``[]``
    suffix for a vector); ``other_attrs`` is the kind of any other name
    (None: no other attribute).
    """

    path: str
    versions: tuple[int, ...]
    dtype: str = "group"
    shapes: tuple[tuple[str | int, ...], ...] = ()
    filters: tuple[int, ...] = ()
    attrs: Mapping[str, str] = field(default_factory=dict)
    other_attrs: str | None = None


_ROOT_ATTRS = {
    "format": "text", "format_version": "int", "name": "text", "top": "text",
    "width_a": "int", "width_b": "int", "width_out": "int", "signed_a": "bool", "signed_b": "bool",
    "source_files": "text[]", "source_sha256": "text[]", "simulator": "text", "signedness": "text",
    "sandbox": "text", "tool_version": "text", "created_utc": "text",
}  # fmt: skip
_BOTH, _V1, _V2 = (1, 2), (1,), (2,)
#: Every version; versions 2 and 3; the wide version (no table, a summary).
_ALL, _V23, _V3 = (1, 2, 3), (2, 3), (3,)

_ROOT = Node("/", _ALL, attrs=_ROOT_ATTRS)

#: The objects an artifact file may hold (module docstring).
SCHEMA: tuple[Node, ...] = (
    _ROOT,
    Node("/operand_a", _ALL, "int32", (("a",),)),
    Node("/operand_b", _ALL, "int32", (("b",),)),
    Node("/product", _V2, "int32", (("a", "b"),), TABLE_FILTERS, {"min": "int", "max": "int"}),
    Node("/product", _V1, "int32", (("a", "b"),)),
    Node("/metrics", _ALL, other_attrs="number"),
    Node("/grad", _ALL),
    Node("/grad/*", _ALL, other_attrs="scalar"),
    Node("/grad/*/d_a", _V2, "float32", (("a", "b"),), TABLE_FILTERS),
    Node("/grad/*/d_b", _V2, "float32", (("a", "b"),), TABLE_FILTERS),
    Node("/grad/*/u_a", _V23, "float32", (("rank", "a"),)),
    Node("/grad/*/u_b", _V23, "float32", (("rank", "a"),)),
    Node("/grad/*/v_a", _V23, "float32", (("rank", "b"),)),
    Node("/grad/*/v_b", _V23, "float32", (("rank", "b"),)),
    Node("/grad/*/d_a", _V1, "float32", (("a", "b"), ("b",))),
    Node("/grad/*/d_b", _V1, "float32", (("a", "b"), ("a",))),
    Node("/summary", _V3, attrs={"product_min": "int", "product_max": "int", "metrics_by": "text"}),
    Node("/summary/histogram", _V3, "int64", (("bins",),), TABLE_FILTERS),
    Node("/summary/row_mean_abs", _V3, "float64", (("a",),), TABLE_FILTERS),
    Node("/summary/row_max_abs", _V3, "int64", (("a",),), TABLE_FILTERS),
    Node("/summary/col_mean_abs", _V3, "float64", (("b",),), TABLE_FILTERS),
    Node("/summary/col_max_abs", _V3, "int64", (("b",),), TABLE_FILTERS),
    Node("/summary/map_mean", _V3, "float64", (("map_a", "map_b"),), TABLE_FILTERS),
    Node("/summary/map_max_abs", _V3, "int64", (("map_a", "map_b"),), TABLE_FILTERS),
    Node(
        "/summary/cross_check",
        _V3,
        attrs={
            "reference": "text",
            "corner_pairs": "int",
            "random_pairs": "int",
            "seed": "int",
            "mismatches": "int",
            "seconds": "number",
        },
    ),  # fmt: skip
    Node(
        "/tuning",
        _V23,
        attrs={
            "hws_a": "int",
            "hws_b": "int",
            "rule": "text",
            "settings": "text",
            "kinds": "text[]",
            "recommended": "text",
            "verdict": "text",
        },
    ),  # fmt: skip
    Node(
        "/cost",
        _V23,
        attrs={"cells": "int", "transistors": "int", "depth": "int", "yosys": "text", "script": "text"},
    ),
    Node("/cost/cells_by_type", _V23, other_attrs="int"),
    Node("/tuning/grid", _V23, "int32", (("points", 2),)),
    Node("/tuning/train_loss", _V23, "float64", (("points", "seeds"),)),
    Node("/tuning/test_accuracy", _V23, "float64", (("points", "seeds"),)),
)


# --------------------------------------------------------------------------- the checks


def _refuse(path: Path, name: str, reason: str) -> ArtifactError:
    return ArtifactError(f"{path}: {name}: {reason}; {ADVICE}")


_HDF5_ERRORS = (OSError, KeyError, RuntimeError, TypeError, ValueError)


def _unreadable(path: Path, exc: Exception) -> ArtifactError:
    return ArtifactError(f"{path}: unreadable HDF5 metadata ({exc}); the file is corrupt")


def admit_header(path: Path, h5) -> dict[str, object]:  # noqa: ANN001 - an open h5py.File
    """The root's attributes, read only after their types and sizes passed the root's row."""
    try:
        _check_attributes(path, "/", h5.id, _ROOT)
        return dict(h5.attrs.items())
    except _HDF5_ERRORS as exc:
        raise _unreadable(path, exc) from exc


def admit(path: Path, h5, version: int, header: Mapping[str, object]) -> None:  # noqa: ANN001
    """Refuse ``h5`` unless every object in it is one :data:`SCHEMA` allows for ``version``.

    ``header`` holds the root's attributes (:func:`admit_header`); its
    widths fix the shapes. Reads metadata only: links, object headers,
    datatypes, dataspaces, filter pipelines and the chunk index.
    """
    streamed = version == _V3[0]
    sizes = Header(*(_width(path, header, key, streamed) for key in ("width_a", "width_b")))
    try:
        _walk(path, h5, [node for node in SCHEMA if version in node.versions], version, sizes)
    except _HDF5_ERRORS as exc:
        raise _unreadable(path, exc) from exc


def _walk(path: Path, h5, rows: list[Node], version: int, sizes: Header) -> None:  # noqa: ANN001
    """Every link from the root down, each object checked against its row before it is descended into."""
    import h5py

    file_size = path.stat().st_size
    _check_object(path, "/", h5.id, rows, version)
    pending = [("/", h5.id)]
    while pending:
        where, group = pending.pop()
        for link in group:
            name = f"{where.rstrip('/')}/{link.decode(errors='replace')}"
            _check_link(path, name, group, link)
            child = h5py.h5o.open(group, link)
            node = _check_object(path, name, child, rows, version)
            if node.dtype != "group":
                _check_dataset(path, name, child, node, sizes, file_size)
            _check_attributes(path, name, child, node)
            if node.dtype == "group":
                pending.append((name, child))


def _width(path: Path, header: Mapping[str, object], key: str, streamed: bool) -> int:
    value = header.get(key)
    try:
        width = value.item() if isinstance(value, np.generic) else value
        return check_width(width, key, streamed=streamed)  # type: ignore[arg-type]
    except ParameterError as exc:
        raise _refuse(path, "/", f"attribute {exc}") from exc


def _check_link(path: Path, name: str, group, link: bytes) -> None:  # noqa: ANN001 - an h5py GroupID
    import h5py

    kind = group.links.get_info(link).type
    if kind == h5py.h5l.TYPE_HARD:
        return
    if kind == h5py.h5l.TYPE_SOFT:
        target = group.links.get_val(link).decode(errors="replace")
        raise _refuse(path, name, f"a soft link (to {target}) where the format has an object")
    if kind == h5py.h5l.TYPE_EXTERNAL:
        other, inside = (part.decode(errors="replace") for part in group.links.get_val(link))
        raise _refuse(path, name, f"an external link (to {other}:{inside}), which would open another file")
    raise _refuse(path, name, f"a user-defined link (type {kind}) where the format has an object")


def _matches(pattern: str, name: str) -> bool:
    parts, names = pattern.strip("/").split("/"), name.strip("/").split("/")
    return len(parts) == len(names) and all(p in ("*", n) for p, n in zip(parts, names, strict=True))


def _check_object(path: Path, name: str, obj, rows: list[Node], version: int) -> Node:  # noqa: ANN001
    """The row of object ``obj`` at ``name``: one with that path and kind, the object named once."""
    import h5py

    info = h5py.h5o.get_info(obj)
    if info.rc != 1:
        raise _refuse(path, name, f"one object under {info.rc} names (hard links alias it)")
    kinds = {h5py.h5o.TYPE_GROUP: "group", h5py.h5o.TYPE_DATASET: "dataset"}
    kind = kinds.get(info.type, "named datatype")
    candidates = [node for node in rows if _matches(node.path, name)]
    for node in candidates:
        if (node.dtype == "group") == (kind == "group"):
            return node
    if candidates:
        wanted = "a group" if candidates[0].dtype == "group" else "a dataset"
        raise _refuse(path, name, f"a {kind} where the format has {wanted}")
    raise _refuse(path, name, f"a {kind} that is not part of the format (version {version})")


def _check_dataset(path: Path, name: str, dataset, node: Node, header: Header, file_size: int) -> None:  # noqa: ANN001 - an h5py DatasetID
    """Storage, datatype, shape, filters and chunk index of ``dataset`` against ``node``."""
    import h5py

    plist = dataset.get_create_plist()
    layout = plist.get_layout()
    if layout == h5py.h5d.VIRTUAL:
        sources = ", ".join(
            f"{plist.get_virtual_filename(i)}:{plist.get_virtual_dsetname(i)}"
            for i in range(plist.get_virtual_count())
        )
        raise _refuse(path, name, f"a virtual dataset whose data come from {sources or 'elsewhere'}")
    if plist.get_external_count():
        other = plist.get_external(0)[0].decode(errors="replace")
        raise _refuse(path, name, f"its data are stored in another file ({other}, external storage)")
    _check_datatype(path, name, dataset.get_type(), node.dtype)
    space = dataset.get_space()
    shape = tuple(space.get_simple_extent_dims()) if space.get_simple_extent_ndims() else ()
    allowed = [_extents(spec, header) for spec in node.shapes]
    if not any(_fits(shape, extents) for extents in allowed):
        expected = " or ".join(_describe(extents) for extents in allowed)
        raise _refuse(
            path,
            name,
            f"shape {list(shape)} where widths {header.width_a}x{header.width_b} give {expected}",
        )
    filters = [plist.get_filter(i) for i in range(plist.get_nfilters())]
    ids = [f[0] for f in filters]
    if ids != [i for i in node.filters if i in ids] or len(set(ids)) != len(ids):
        found = ", ".join(f"{f[0]} ({f[3].decode(errors='replace') or 'unknown'})" for f in filters)
        writer = " then ".join(_FILTER_NAMES[i] for i in node.filters) or "none"
        raise _refuse(path, name, f"filter {found}, where the writer uses {writer}")
    if layout == h5py.h5d.CHUNKED:
        _check_chunks(path, name, dataset, plist.get_chunk(), shape, ids, file_size)
    maximum = tuple(space.get_simple_extent_dims(True)) if shape else ()
    if maximum != shape:
        limit = [None if m == h5py.h5s.UNLIMITED else m for m in maximum]
        raise _refuse(path, name, f"extendible to {limit}; the format's datasets have a fixed shape")


def _check_datatype(path: Path, name: str, datatype, expected: str) -> None:  # noqa: ANN001 - an h5py TypeID
    import h5py

    wanted = np.dtype(expected)
    kind = {h5py.h5t.INTEGER: "i", h5py.h5t.FLOAT: "f"}.get(datatype.get_class())
    if kind == "i" and datatype.get_sign() != h5py.h5t.SGN_2:
        kind = "u"
    if kind != wanted.kind or datatype.get_size() != wanted.itemsize:
        raise _refuse(path, name, f"{_describe_type(datatype)} where the format has {expected}")


def _describe_type(datatype) -> str:  # noqa: ANN001 - an h5py TypeID
    """``int32``, ``float64``, ``compound (8 bytes)``, ..."""
    import h5py

    size = datatype.get_size()
    classes = {
        h5py.h5t.INTEGER: "int", h5py.h5t.FLOAT: "float", h5py.h5t.STRING: "string",
        h5py.h5t.COMPOUND: "compound", h5py.h5t.ENUM: "enum", h5py.h5t.ARRAY: "array",
        h5py.h5t.VLEN: "variable-length", h5py.h5t.OPAQUE: "opaque", h5py.h5t.REFERENCE: "reference",
        h5py.h5t.BITFIELD: "bitfield", h5py.h5t.TIME: "time",
    }  # fmt: skip
    label = classes.get(datatype.get_class(), f"class {datatype.get_class()}")
    if datatype.get_class() == h5py.h5t.INTEGER:
        return f"{'' if datatype.get_sign() == h5py.h5t.SGN_2 else 'u'}int{8 * size}"
    if datatype.get_class() == h5py.h5t.FLOAT:
        return f"float{8 * size}"
    return f"{label} ({size} bytes)"


def _extents(spec: tuple[str | int, ...], header: Header) -> tuple[range, ...]:
    return tuple(_exactly(d) if isinstance(d, int) else DIMENSIONS[d](header) for d in spec)


def _fits(shape: tuple[int, ...], extents: tuple[range, ...]) -> bool:
    return len(shape) == len(extents) and all(n in e for n, e in zip(shape, extents, strict=True))


def _describe(extents: tuple[range, ...]) -> str:
    return "[" + ", ".join(str(e.start) if len(e) == 1 else f"{e.start}..{e.stop - 1}" for e in extents) + "]"


def _stored_limit(raw: int, filters: list[int]) -> int:
    """Most bytes a chunk of ``raw`` bytes takes after ``filters`` (zlib's compressBound for deflate)."""
    if DEFLATE not in filters:
        return raw
    return raw + (raw >> 12) + (raw >> 14) + (raw >> 25) + 13


def _check_chunks(
    path: Path,
    name: str,
    dataset,
    chunk: tuple,
    shape: tuple,
    filters: list[int],
    file_size: int,  # noqa: ANN001
) -> None:
    """Chunk shape within the dataset; every indexed chunk inside the grid and the file, and not oversized."""
    chunk = tuple(chunk)
    if len(chunk) != len(shape) or any(not 1 <= c <= max(n, 1) for c, n in zip(chunk, shape, strict=True)):
        raise _refuse(path, name, f"chunks of {list(chunk)} in a dataset of shape {list(shape)}")
    grid = math.prod(-(-n // c) for n, c in zip(shape, chunk, strict=True))
    if grid > MAX_CHUNKS:
        raise _refuse(path, name, f"{grid:,} chunks of {list(chunk)}, more than {MAX_CHUNKS:,}")
    if dataset.get_num_chunks() > grid:
        raise _refuse(path, name, f"{dataset.get_num_chunks():,} chunks indexed in a grid of {grid:,}")
    limit = _stored_limit(math.prod(chunk) * dataset.get_type().get_size(), filters)
    bad: list[str] = []

    def check(info) -> None:  # noqa: ANN001 - an h5py StoreInfo
        offset = tuple(info.chunk_offset)
        if any(o % c or o >= n for o, c, n in zip(offset, chunk, shape, strict=True)):
            bad.append(f"a chunk at {list(offset)}, off the chunk grid")
        elif info.size > limit:
            bad.append(f"the chunk at {list(offset)} stores {info.size:,} bytes, more than {limit:,}")
        elif info.byte_offset is not None and info.byte_offset + info.size > file_size:
            bad.append(f"the chunk at {list(offset)} lies past the end of the file")

    dataset.chunk_iter(check)
    if bad:
        raise _refuse(path, name, bad[0])


def _check_attributes(path: Path, name: str, obj, node: Node) -> None:  # noqa: ANN001 - an h5py ObjectID
    """Every attribute of ``obj``: a scalar (a short vector where its kind ends in ``[]``) of its kind."""
    import h5py

    for index in range(h5py.h5a.get_num_attrs(obj)):
        attribute = h5py.h5a.open(obj, index=index)
        key = attribute.name.decode(errors="replace")
        kind = node.attrs.get(key, node.other_attrs)
        if kind is None:
            raise _refuse(path, name, f"attribute {key!r}, which the format does not have here")
        vector = kind.endswith("[]")
        shape = attribute.shape
        if shape is None or len(shape) > int(vector) or math.prod(shape) > MAX_ATTRIBUTE_ELEMENTS:
            wanted = f"a vector of at most {MAX_ATTRIBUTE_ELEMENTS}" if vector else "a scalar"
            found = "empty" if shape is None else f"of shape {list(shape)}"
            raise _refuse(path, name, f"attribute {key!r} {found}, where the format has {wanted}")
        if _attribute_class(attribute) not in _KINDS[kind.removesuffix("[]")]:
            raise _refuse(
                path,
                name,
                f"attribute {key!r} of {_describe_type(attribute.get_type())}, where the format has {kind}",
            )


def _attribute_class(attribute) -> str:  # noqa: ANN001 - an h5py AttrID
    """``i``, ``f``, ``b`` (h5py's boolean enum), ``T`` (text of at most MAX_TEXT_BYTES a value) or ``-``."""
    import h5py

    datatype = attribute.get_type()
    found = datatype.get_class()
    if found == h5py.h5t.STRING:
        return "T" if datatype.get_size() <= MAX_TEXT_BYTES else "-"
    if found == h5py.h5t.ENUM:
        return "b" if attribute.dtype.kind == "b" else "-"
    return {h5py.h5t.INTEGER: "i", h5py.h5t.FLOAT: "f"}.get(found, "-")


# --------------------------------------------------------------------------- reading tables


def read(path: Path, dataset, selection: slice | tuple = ()) -> np.ndarray:  # noqa: ANN001 - an h5py.Dataset
    """``dataset[selection]`` once every chunk it touches inflated to exactly its declared size.

    ``selection`` is ``()`` (all), a slice of rows, or ``(rows, columns)``.
    A chunk whose deflate stream runs past the chunk's size (a compression
    bomb) or is broken is refused before HDF5 decodes it; inflating it here
    never holds more than one chunk.
    """
    import h5py

    plist = dataset.id.get_create_plist()
    filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    if plist.get_layout() == h5py.h5d.CHUNKED and DEFLATE in filters:
        rows = selection[0] if isinstance(selection, tuple) and selection else selection
        start, stop, _ = (rows if isinstance(rows, slice) else slice(None)).indices(dataset.shape[0])
        chunk = dataset.chunks
        size = math.prod(chunk) * dataset.dtype.itemsize
        first = start - start % chunk[0]
        for row in range(first, stop, chunk[0]):
            for column in range(0, dataset.shape[1] if len(chunk) > 1 else 1, chunk[-1]):
                offset = (row, column)[: len(chunk)]
                _check_inflation(path, dataset, offset, size, filters.index(DEFLATE))
    return np.asarray(dataset[selection])


def _check_inflation(path: Path, dataset, offset: tuple, size: int, deflate: int) -> None:  # noqa: ANN001
    if dataset.id.get_chunk_info_by_coord(offset).byte_offset is None:
        return  # never written: HDF5 returns the fill value
    mask, stored = dataset.id.read_direct_chunk(offset)
    if mask & (1 << deflate):
        return  # stored uncompressed; admit() bounded its size
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(stored, size)
        if inflater.decompress(inflater.unconsumed_tail, 1):
            raise _refuse(
                path,
                dataset.name,
                f"the chunk at {list(offset)} inflates past its declared {size:,} bytes (a compression bomb)",
            )
        if len(data) != size or not inflater.eof:
            raise zlib.error(f"its stream gives {len(data):,} of {size:,} bytes")
    except zlib.error as exc:
        raise ArtifactError(
            f"{path}: cannot read {dataset.name} (its chunk at {list(offset)}: {exc}); the file is corrupt"
        ) from exc
