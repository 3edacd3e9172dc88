"""Crafted artifacts: refused by every reading verb, from metadata, without opening another file.

The corpus is built here with h5py from a clean 4x4 artifact, one change per
file: data kept in another file (external storage, a virtual dataset, an
external link), names that are not plain objects (soft link, hard-link
alias, a link back to the root), filters and datatypes the writer does not
use, shapes and chunks larger than the header's widths allow, a compression
bomb, attributes and objects the format does not have. Each is read by every
verb that reads artifacts and by the Python API; each must end in exit
status 1 and one ``error:`` line naming the file and the object, with
nothing written and the file unchanged.

Nothing outside the file may be opened. The suite runs as root, and root
reads a file whose permissions are 000, so removing read permission proves
nothing here. Instead Linux inotify watches the canary files the crafted
artifacts point at and reports every open; a control test shows that plain
h5py, reading the same files without the gate, does open them.
"""

from __future__ import annotations

import ctypes
import io
import os
import re
import shutil
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest

import appmult
from appmult.cli import main
from appmult.core.artifact import Artifact, TuningRecord
from appmult.core.artifact_file import load, save
from appmult.core.errors import ArtifactError
from appmult.core.metrics import METRIC_NAMES
from appmult.core.operands import operand_values
from appmult.lutgen import gradient_tables
from appmult.lutgen.methods import NAMES, GradientParameters
from tests.conftest import FIXTURES

V1 = Path(__file__).parent / "fixtures" / "artifacts" / "mul6u_trunc4_v1.h5"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")


# --------------------------------------------------------------------------- watching the canaries


class Watch:
    """Linux inotify on some files: which of them were opened (or read) since the last :meth:`take`."""

    OPEN, ACCESS = 0x20, 0x1

    def __init__(self, paths: list[Path], events: int = OPEN) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        self.watches = {}
        for path in paths:
            watch = self.libc.inotify_add_watch(self.fd, str(path).encode(), events)
            assert watch >= 0, os.strerror(ctypes.get_errno())
            self.watches[watch] = path

    def take(self) -> set[Path]:
        seen: set[Path] = set()
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return seen
            position = 0
            while position < len(data):
                watch, _mask, _cookie, length = struct.unpack_from("iIII", data, position)
                seen.add(self.watches[watch])
                position += 16 + length

    def close(self) -> None:
        os.close(self.fd)


# --------------------------------------------------------------------------- the corpus


def _clean() -> Artifact:
    values = operand_values(4, False).astype(np.int64)
    art = Artifact(
        name="clean", top="clean", width_a=4, width_b=4, width_out=8,
        signed_a=False, signed_b=False, product=np.outer(values, values) & ~np.int64(1),
    )  # fmt: skip
    art.gradients.update(gradient_tables(art, parameters=GradientParameters(hws_a=1, hws_b=1)))
    art.tuning = TuningRecord(
        hws_a=1, hws_b=1, grid=((1, 1), (2, 2)), train_loss=((0.5, 0.6), (0.7, 0.8)),
        test_accuracy=((0.9, 0.9), (0.8, 0.8)), rule="smallest mean final training loss",
    )  # fmt: skip
    return art


def _replace(h5: h5py.File, name: str, **dataset) -> h5py.Dataset:
    del h5[name]
    return h5.create_dataset(name, **dataset)


def _chunk_stream(h5: h5py.File, stream: bytes) -> None:
    """/product as one 16x16 int32 chunk (1,024 bytes) whose stored deflate stream is ``stream``."""
    table = _replace(h5, "product", shape=(16, 16), dtype="int32", chunks=(16, 16), compression="gzip")
    table.id.write_direct_chunk((0, 0), stream)


def _relink(h5: h5py.File, name: str, link: object) -> None:
    """Put ``link`` (a link or a new group) where the dataset ``name`` was."""
    del h5[name]
    if link is h5py.Group:
        h5.create_group(name)
    else:
        h5[name] = link


def _virtual(h5: h5py.File, canary: Path) -> None:
    layout = h5py.VirtualLayout(shape=(16, 16), dtype="int32")
    layout[:] = h5py.VirtualSource(str(canary), "data", shape=(16, 16))
    del h5["product"]
    h5.create_virtual_dataset("product", layout)


def _compound(h5: h5py.File) -> None:
    _replace(h5, "product", shape=(16, 16), dtype=np.dtype([("value", "<i4"), ("spare", "<i4")]))


def _alias(h5: h5py.File) -> None:
    del h5["grad/lut2d/d_b"]
    h5["grad/lut2d/d_b"] = h5["grad/lut2d/d_a"]


def _too_wide(h5: h5py.File) -> None:
    h5.attrs["width_a"] = h5.attrs["width_b"] = np.int32(20)
    _replace(h5, "product", shape=(1 << 20, 1 << 20), dtype="int32", chunks=(64, 4096), compression="gzip")


def _huge_attribute(h5: h5py.File) -> None:
    """/metrics made anew (a newer object header, which stores large attributes) with ``er`` a 1 MiB array."""
    metrics = dict(h5["metrics"].attrs)
    del h5["metrics"]
    group = h5.create_group("metrics")
    group.attrs.update({**metrics, "er": np.zeros(1 << 17)})


#: name -> (how to craft it from the clean file (h5, canaries), what refuses it: message pattern).
#: ``{bin}`` and ``{h5}`` in a pattern stand for the canaries' paths.
CORPUS = {
    "external-storage": (
        lambda h5, c: _replace(
            h5, "product", shape=(16, 16), dtype="int32", external=[(str(c["bin"]), 0, h5py.h5f.UNLIMITED)]
        ),
        r"/product: its data are stored in another file \({bin}, external storage\)",
    ),
    "virtual-dataset": (
        lambda h5, c: _virtual(h5, c["h5"]),
        r"/product: a virtual dataset whose data come from {h5}:/?data",
    ),
    "external-link": (
        lambda h5, c: _relink(h5, "product", h5py.ExternalLink(str(c["h5"]), "/data")),
        r"/product: an external link \(to {h5}:/data\), which would open another file",
    ),
    "soft-link": (
        lambda h5, c: _relink(h5, "operand_b", h5py.SoftLink("/operand_a")),
        r"/operand_b: a soft link \(to /operand_a\) where the format has an object",
    ),
    "hard-link-alias": (
        lambda h5, c: _alias(h5),
        r"/grad/lut2d/d_[ab]: one object under 2 names \(hard links alias it\)",
    ),
    "hard-link-cycle": (
        lambda h5, c: h5["grad"].__setitem__("loop", h5["/"]),
        r"/: one object under 2 names \(hard links alias it\)",
    ),
    "unknown-filter": (
        lambda h5, c: _replace(
            h5,
            "product",
            shape=(16, 16),
            dtype="int32",
            chunks=(16, 16),
            compression=32015,
            allow_unknown_filter=True,
        ),  # fmt: skip
        r"/product: filter 32015 \(unknown\), where the writer uses shuffle \(2\) then deflate \(1\)",
    ),
    "lzf-filter": (
        lambda h5, c: _replace(h5, "product", data=np.zeros((16, 16), "int32"), compression="lzf"),
        r"/product: filter 32000 \(lzf\), where the writer uses shuffle \(2\) then deflate",
    ),
    "fletcher32-filter": (
        lambda h5, c: _replace(h5, "product", data=np.zeros((16, 16), "int32"), fletcher32=True),
        r"/product: filter 3 \(fletcher32\), where the writer uses shuffle \(2\) then deflate",
    ),
    "wrong-dtype": (
        lambda h5, c: _replace(h5, "product", data=np.zeros((16, 16), "int64")),
        r"/product: int64 where the format has int32",
    ),
    "unsigned-dtype": (
        lambda h5, c: _replace(h5, "operand_a", data=np.arange(16, dtype="uint32")),
        r"/operand_a: uint32 where the format has int32",
    ),
    "compound-dtype": (
        lambda h5, c: _compound(h5),
        r"/product: compound \(8 bytes\) where the format has int32",
    ),
    "group-for-dataset": (
        lambda h5, c: _relink(h5, "product", h5py.Group),
        r"/product: a group where the format has a dataset",
    ),
    "shape-larger": (
        lambda h5, c: _replace(h5, "product", data=np.zeros((32, 16), "int32")),
        r"/product: shape \[32, 16\] where widths 4x4 give \[16, 16\]",
    ),
    "widths-beyond-limits": (lambda h5, c: _too_wide(h5), r"/: attribute width_a is 20 bits wide"),
    "huge-chunk": (
        lambda h5, c: _replace(
            h5, "product", shape=(16, 16), maxshape=(None, None), dtype="int32", chunks=(16, 1 << 20)
        ),
        r"/product: chunks of \[16, 1048576\] in a dataset of shape \[16, 16\]",
    ),
    "extendible": (
        lambda h5, c: _replace(h5, "product", data=np.zeros((16, 16), "int32"), maxshape=(None, 16)),
        r"/product: extendible to \[None, 16\]",
    ),
    "oversized-chunk": (
        lambda h5, c: _chunk_stream(h5, zlib.compress(bytes(100_000_000), 9)),
        r"/product: the chunk at \[0, 0\] stores 97,209 bytes, more than 1,037",
    ),
    "compression-bomb": (  # 991 stored bytes that inflate to 1,000,000 (ratio ~1,000)
        lambda h5, c: _chunk_stream(h5, zlib.compress(bytes(1_000_000), 9)),
        r"/product: the chunk at \[0, 0\] inflates past its declared 1,024 bytes",
    ),
    "huge-attribute": (
        lambda h5, c: _huge_attribute(h5),
        r"/metrics: attribute 'er' of shape \[131072\], where the format has a scalar",
    ),
    "unknown-dataset": (
        lambda h5, c: h5.create_dataset("notes", data=np.zeros(4)),
        r"/notes: a dataset that is not part of the format \(version 2\)",
    ),
    "named-datatype": (
        lambda h5, c: h5.__setitem__("int_type", np.dtype("int32")),
        r"/int_type: a named datatype that is not part of the format",
    ),
    "version-1-compressed": (  # version 1 wrote every dataset uncompressed
        lambda h5, c: _replace(h5, "product", data=h5["product"][()], compression="gzip"),
        r"/product: filter 1 \(deflate\), where the writer uses none",
    ),
}

#: The cases whose file points at a canary.
REACHING_OUT = {"external-storage": "bin", "virtual-dataset": "h5", "external-link": "h5"}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every crafted file (read-only for the tests), its canaries and an inotify watch on them."""
    root = tmp_path_factory.mktemp("crafted")
    canaries = {"bin": root / "canary.bin", "h5": root / "canary.h5"}
    canaries["bin"].write_bytes(b"vm\n\0" * 256)
    with h5py.File(canaries["h5"], "w") as h5:
        h5["data"] = np.full((16, 16), 683382, dtype=np.int32)
    clean = save(_clean(), root / "clean.h5")
    files = {}
    for name, (craft, _pattern) in CORPUS.items():
        files[name] = root / f"{name}.h5"
        shutil.copy(V1 if name.startswith("version-1") else clean, files[name])
        with h5py.File(files[name], "a", libver="latest") as h5:
            craft(h5, canaries)
    return {"files": files, "canaries": canaries, "opens": Watch(list(canaries.values())), "clean": clean}


def _pattern(name: str, corpus: dict) -> str:
    return CORPUS[name][1].format(**{key: str(path) for key, path in corpus["canaries"].items()})


# --------------------------------------------------------------------------- every verb refuses


NETLIST = FIXTURES / "ansi_exact4.v"
VERBS = {
    "info": ["info", "{FILE}"],
    "lutgen": ["lutgen", "{FILE}", "-q"],
    "export": ["export", "{FILE}", "--to", "npz", "-o", "{OUT}/table.npz", "-q"],
    "report": ["report", "{FILE}", "-o", "{OUT}", "-q"],
    "verify": ["verify", str(NETLIST), "--against", "{FILE}", "--backend", "bitsim", "-q"],
    "tune-hws": ["tune-hws", "{FILE}", "-q"],
    "retrain-demo": ["retrain-demo", "--multipliers", "{FILE}", "-o", "{OUT}/demo", "-q"],
}


def _api_load(path: Path) -> None:
    appmult.load(path)


def _api_convert(path: Path) -> None:
    from torch import nn

    from appmult.retrain import convert

    convert(nn.Sequential(nn.Linear(4, 2)), artifact=path)


API = {"appmult.load": _api_load, "appmult.retrain.convert": _api_convert}
NEEDS_TORCH = {"tune-hws", "retrain-demo", "appmult.retrain.convert"}


@pytest.mark.parametrize("verb", [*VERBS, *API])
@pytest.mark.parametrize("case", list(CORPUS))
def test_every_reader_refuses_the_crafted_file_in_one_line(tmp_path, capsys, corpus, case, verb):
    if verb in NEEDS_TORCH:
        pytest.importorskip("torch")
    path = corpus["files"][case]
    before = path.read_bytes()
    corpus["opens"].take()
    if verb in API:
        with pytest.raises(ArtifactError) as raised:
            API[verb](path)
        message = str(raised.value)
    else:
        argv = [arg.replace("{FILE}", str(path)).replace("{OUT}", str(tmp_path)) for arg in VERBS[verb]]
        with pytest.raises(SystemExit) as exited:
            main(argv)
        out, err = capsys.readouterr()
        assert exited.value.code == 1, (out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        message = lines[0].removeprefix("error: ")
    assert "\n" not in message
    assert message.startswith(f"{path}: "), message
    assert re.search(_pattern(case, corpus), message), message
    assert corpus["opens"].take() == set(), "a file outside the artifact was opened"
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", list(REACHING_OUT))
def test_without_the_gate_the_canary_is_opened(corpus, case):
    """Control: plain h5py reading the crafted /product opens the canary, and the watch sees it."""
    corpus["opens"].take()
    with h5py.File(corpus["files"][case], "r") as h5:
        values = h5["product"][()]
    assert corpus["opens"].take() == {corpus["canaries"][REACHING_OUT[case]]}
    assert values[0, 0] in (683382, int.from_bytes(b"vm\n\0", "little"))


# --------------------------------------------------------------------------- what passes


@pytest.mark.parametrize("name", ["mul6u_trunc4_v1.h5", "signed_exact4_v1.h5"])
def test_version_1_files_pass_the_gate(name):
    art = load(FIXTURES.parent / "artifacts" / name)
    with h5py.File(FIXTURES.parent / "artifacts" / name) as h5:
        np.testing.assert_array_equal(art.product, h5["product"][()])
    assert set(art.gradients) == set(NAMES)


def test_a_file_with_every_group_passes_the_gate(corpus):
    art, clean = load(corpus["clean"]), _clean()
    np.testing.assert_array_equal(art.product, clean.product)
    assert set(art.gradients) == set(NAMES) and art.tuning == clean.tuning
    for method in NAMES:
        np.testing.assert_array_equal(art.gradients[method].d_a, clean.gradients[method].d_a)


def test_twelve_bit_tables_are_read_lazily_and_checked_chunk_by_chunk(tmp_path, capsys):
    """A bomb in the first 64-row chunk of a 12x12 table: info reads no table, other rows still read."""
    path = save(Artifact(**_exact12()), tmp_path / "m12.h5")
    values = operand_values(12, False).astype(np.int64)
    with h5py.File(path, "a") as h5:
        assert h5["product"].chunks == (64, 4096)  # 1 MiB a chunk
        h5["product"].id.write_direct_chunk((0, 0), zlib.compress(bytes(16 << 20), 9))  # 16 KiB -> 16 MiB
    assert _run(["info", str(path)]) == 0 and "int32 (4096, 4096)" in capsys.readouterr().out
    art = load(path)
    np.testing.assert_array_equal(art.product_rows(4000, 4003), np.outer(values[4000:4003], values))
    with pytest.raises(
        ArtifactError, match=r"/product: the chunk at \[0, 0\] inflates past its declared 1,048,576"
    ):
        art.product_rows(10, 11)


def _exact12() -> dict:
    values = operand_values(12, False).astype(np.int64)
    return {
        "name": "m12", "top": "m12", "width_a": 12, "width_b": 12, "width_out": 24, "signed_a": False,
        "signed_b": False, "product": np.outer(values, values), "metrics": dict.fromkeys(METRIC_NAMES, 0.0),
    }  # fmt: skip


def _run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exited:
        return int(exited.code or 0)
    return 0


# --------------------------------------------------------------------------- imported tables

#: format -> file name; each file is 1 GiB (sparse), far more than an 8x8 table takes in any format.
TEXT_IMPORTS = {
    "amr": "t_lutfp+bp.txt",
    "approxflow": "t_approxflow.txt",
    "approxtorch": "t_approxtorch.txt",
    "transaxx": "t.h",
    "adapt": "t.h",
    "csv": "t.csv",
}


@pytest.mark.parametrize("fmt", list(TEXT_IMPORTS))
def test_import_refuses_a_file_larger_than_the_widths_allow_without_reading_it(tmp_path, capsys, fmt):
    table = tmp_path / TEXT_IMPORTS[fmt]
    with open(table, "wb") as handle:
        handle.truncate(1 << 30)
    watch = Watch([table], Watch.ACCESS)
    code = _run(
        ["import", str(table), "--format", fmt, "--width-a", "8", "--width-b", "8", "-o", f"{tmp_path}/x.h5"]
    )
    read = watch.take()
    with open(table, "rb") as handle:
        handle.read(1)
    control = watch.take()  # the watch does see a read
    watch.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1, err
    assert re.fullmatch(
        rf"error: {re.escape(str(table))}: 1,073,741,824 bytes, more than the [\d,]+ a table of the given "
        r"widths takes in this format; check --format, --width-a and --width-b",
        err[0],
    ), err[0]
    assert read == set() and control == {table}, "the file was read"
    assert sorted(p.name for p in tmp_path.iterdir()) == [table.name]


def _npy_header(shape: tuple[int, ...], dtype: str = "<i4") -> bytes:
    """A version-1.0 ``.npy`` header declaring ``shape``, and no data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["npy", "torchapprox", "npz"])
def test_import_refuses_an_array_header_larger_than_the_widths_allow(tmp_path, capsys, fmt):
    """A 100-byte file whose header claims a 2^20 x 2^20 int32 table (4 TiB): refused, never allocated."""
    header = _npy_header((1 << 20, 1 << 20))
    table = tmp_path / f"t.{'npz' if fmt == 'npz' else 'npy'}"
    if fmt == "npz":
        with zipfile.ZipFile(table, "w") as archive:
            archive.writestr("product.npy", header)
            archive.writestr("operand_a.npy", _npy_header((256,)) + np.arange(256, dtype="<i4").tobytes())
    else:
        table.write_bytes(header)
    code = _run(
        ["import", str(table), "--format", fmt, "--width-a", "8", "--width-b", "8", "-o", f"{tmp_path}/x.h5"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1, err
    label = "product.npy" if fmt == "npz" else "the file"
    assert err[0].startswith(
        f"error: {table}: {label} declares int32 [1048576, 1048576] (4,398,046,511,104 bytes), more than the "
    ), err[0]
    assert err[0].endswith("a table of the given widths takes; check --width-a and --width-b"), err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [table.name]


def test_tfapprox_import_ignores_the_bytes_after_the_table_as_its_loader_does(tmp_path, capsys):
    """TFApprox's loader reads the first 131,072 bytes and ignores the rest; so does import's loader.

    (Provenance still hashes the whole file, streaming, so the file here is 64 MiB, not 1 GiB.)
    """
    table = tmp_path / "t.bin"
    block = (np.arange(256 * 256) % 65536).astype("<u2")
    with open(table, "wb") as handle:
        handle.write(block.tobytes())
        handle.truncate(64 << 20)
    code = _run(["import", str(table), "--format", "tfapprox", "--width-a", "8", "--width-b", "8", "-o",
                 f"{tmp_path}/x.h5", "-q"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    np.testing.assert_array_equal(load(tmp_path / "x.h5").product, block.reshape(256, 256))


def test_only_the_file_format_and_its_gate_touch_hdf5():
    """Every reader reaches artifacts through `load`, so through the gate: no other module imports h5py."""
    root = Path(__file__).parent.parent
    sources = [
        p for folder in ("appmult", "characterize", "lutgen", "rtl") for p in (root / folder).rglob("*.py")
    ]
    touching = {
        p.relative_to(root).as_posix()
        for p in sources
        if re.search(r"^\s*(import|from) h5py", p.read_text(), re.M)
    }
    assert touching == {"appmult/core/artifact_file.py", "appmult/core/artifact_gate.py"}
