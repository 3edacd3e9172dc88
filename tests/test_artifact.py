"""The artifact file: round trip, storage, lazy reading, version 1, and refusal of foreign or newer files.

Where a test reads a file back it does so twice: through :func:`appmult.load`
and with plain h5py, dataset by dataset, as a reader that is not this
project would.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from appmult.cli import cli
from appmult.core.artifact import Artifact, TuningRecord
from appmult.core.artifact_file import FORMAT_VERSION, WIDE_FORMAT_VERSION, load, save
from appmult.core.errors import ArtifactError, ParameterError
from appmult.core.gradient import AxesGradient, GradientTable, SeparableGradient
from appmult.core.operands import operand_values

FIXTURES = Path(__file__).parent / "fixtures" / "artifacts"

#: HDF5's own filter ids: deflate (gzip) and byte shuffle, the two standard filters the schema uses.
H5Z_FILTER_DEFLATE, H5Z_FILTER_SHUFFLE = 1, 2


def _signed_artifact(**extra) -> Artifact:
    values = np.arange(-8, 8)
    fields = {"simulator": "test", **extra}
    return Artifact(
        name="s4",
        top="s4",
        width_a=4,
        width_b=4,
        width_out=8,
        signed_a=True,
        signed_b=True,
        product=np.outer(values, values),
        source_files=("x.v",),
        source_sha256=("0" * 64,),
        **fields,
    )


def _gradients(rng: np.random.Generator) -> dict:
    return {
        "ste": AxesGradient(np.arange(-8, 8), np.arange(-8, 8)),
        "lut2d": GradientTable(
            rng.normal(size=(16, 16)), rng.normal(size=(16, 16)), {"hws_a": 2, "edge": "x"}
        ),
        "lut1d": SeparableGradient(
            rng.normal(size=(2, 16)),
            rng.normal(size=(2, 16)),
            rng.normal(size=(2, 16)),
            rng.normal(size=(2, 16)),
            {"form": "separable", "rank": 2, "hws_a": 1, "hws_b": 1},
        ),
    }


TUNING = TuningRecord(
    hws_a=2,
    hws_b=2,
    grid=((1, 1), (2, 2)),
    train_loss=((0.5, 0.6), (0.4, 0.45)),
    test_accuracy=((0.9, 0.91), (0.93, 0.92)),
    rule="smallest mean final training loss",
    settings={"data": "digits", "epochs": 1, "range_policy": "moving"},
)


def test_round_trip_keeps_every_field(tmp_path):
    grads = _gradients(np.random.default_rng(0))
    art = _signed_artifact(gradients=grads, tuning=TUNING, signedness="flag --signed", sandbox="none")
    back = load(save(art, tmp_path / "s4.h5"))
    assert back.name == "s4" and back.signed_a and back.signed_b and back.width_out == 8
    assert (back.signedness, back.sandbox) == ("flag --signed", "none")
    assert back.product.dtype == np.int32
    np.testing.assert_array_equal(back.product, art.product)
    np.testing.assert_array_equal(back.operand_a, np.arange(-8, 8))
    assert back.metrics == art.metrics
    assert back.source_files == ("x.v",) and back.source_sha256 == ("0" * 64,)
    assert list(back.gradients) == ["ste", "lut2d", "lut1d"]
    assert back.gradients["lut2d"].attrs == {"hws_a": 2, "edge": "x"}
    assert back.gradients["lut1d"].attrs == {"form": "separable", "rank": 2, "hws_a": 1, "hws_b": 1}
    for method in grads:
        for label in ("d_a", "d_b"):
            got = getattr(back.gradients[method], label)
            assert got.dtype == np.float32 and got.shape == (16, 16)
            np.testing.assert_array_equal(got, getattr(grads[method], label))
    assert back.tuning == TUNING
    assert back.product_range == (-56, 64)


def test_file_uses_standard_filters_and_a_plain_reader_gets_the_same_values(tmp_path):
    grads = _gradients(np.random.default_rng(1))
    path = save(_signed_artifact(gradients=grads), tmp_path / "s4.h5")
    art = load(path)
    with h5py.File(path) as h5:
        assert h5.attrs["format"] == "appmult-lut"
        assert h5.attrs["format_version"] == FORMAT_VERSION == 2
        tables = [h5["product"], h5["grad/lut2d/d_a"], h5["grad/lut2d/d_b"]]
        for dataset in tables:
            plist = dataset.id.get_create_plist()
            filters = {plist.get_filter(i)[0] for i in range(plist.get_nfilters())}
            assert filters == {H5Z_FILTER_DEFLATE, H5Z_FILTER_SHUFFLE}, dataset.name
            assert dataset.chunks == dataset.shape  # an 8-bit-or-smaller table is one chunk
        assert list(h5["operand_a"][:3]) == [-8, -7, -6]
        assert h5["product"][0, 0] == 64  # (-8) * (-8), value order
        np.testing.assert_array_equal(h5["product"][()], art.product)
        np.testing.assert_array_equal(h5["grad/lut2d/d_a"][()], art.gradients["lut2d"].d_a)
        u_a, v_a = h5["grad/lut1d/u_a"][()], h5["grad/lut1d/v_a"][()]
        np.testing.assert_allclose(
            np.einsum("ri,rj->ij", u_a, v_a), art.gradients["lut1d"].d_a, rtol=1e-6, atol=1e-6
        )
        assert set(h5["metrics"].attrs) >= {"er", "med", "nmed", "wce", "mred", "mse", "bias"}
        # STE is defined by the axes: the group and its attributes, no tables
        assert h5["grad/ste"].attrs["kind"] == "axes" and len(h5["grad/ste"]) == 0
    np.testing.assert_array_equal(art.gradients["ste"].d_a, np.tile(np.arange(-8, 8), (16, 1)))


def test_twelve_bit_table_is_chunked_in_row_blocks(tmp_path):
    a = operand_values(12, False).astype(np.int64)
    path = save(_exact(12), tmp_path / "m12.h5")
    with h5py.File(path) as h5:
        assert h5["product"].chunks == (64, 4096)
    assert path.stat().st_size < 40e6
    back = load(path)
    np.testing.assert_array_equal(back.product_rows(4000, 4003), np.outer(a[4000:4003], a))


def _corrupt_product_chunks(path: Path) -> None:
    """Overwrite the compressed bytes of every /product chunk, so reading the table fails."""
    with h5py.File(path) as h5:
        dataset = h5["product"]
        chunks = [dataset.id.get_chunk_info(i) for i in range(dataset.id.get_num_chunks())]
    with open(path, "r+b") as handle:
        for chunk in chunks:
            handle.seek(chunk.byte_offset)
            handle.write(b"\xff" * chunk.size)


def test_info_reads_no_table(tmp_path):
    """`appmult info` works on a file whose product table is unreadable; a full load does not."""
    path = save(_exact(12), tmp_path / "m12.h5")
    _corrupt_product_chunks(path)
    result = CliRunner().invoke(cli, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert "product       int32 (4096, 4096), range 0..16769025" in result.output
    with pytest.raises(ArtifactError, match=r"m12.h5: cannot read /product .*the file is corrupt"):
        load(path).product  # noqa: B018


def _exact(width: int, **fields) -> Artifact:
    a = operand_values(width, False).astype(np.int64)
    return Artifact(
        name=f"m{width}",
        top="m",
        width_a=width,
        width_b=width,
        width_out=2 * width,
        signed_a=False,
        signed_b=False,
        product=np.outer(a, a),
        metrics={m: 0.0 for m in ("er", "med", "nmed", "wce", "wce_norm", "mred", "wcre", "mse", "bias")},
        **fields,
    )


def test_small_tables_are_read_at_load_and_large_ones_when_used(tmp_path):
    small, large = save(_signed_artifact(), tmp_path / "s4.h5"), save(_exact(10), tmp_path / "m10.h5")
    art_small, art_large = load(small), load(large)
    small.unlink()
    large.unlink()
    assert art_small.product[0, 0] == 64  # read at load (16 x 16 entries)
    with pytest.raises(ArtifactError, match="the file changed after it was loaded; load it again"):
        art_large.product  # noqa: B018 - 1024 x 1024 entries, read when first used


def test_a_file_changed_after_loading_is_not_read_lazily(tmp_path):
    path = save(_exact(10), tmp_path / "m10.h5")
    art = load(path)
    save(_exact(10, simulator="other"), path)
    with pytest.raises(ArtifactError, match="the file changed after it was loaded; load it again"):
        art.product  # noqa: B018


@pytest.mark.parametrize(
    ("name", "hws", "lut1d"),
    [
        pytest.param("mul6u_trunc4_v1.h5", (2, 2), "mean", id="unsigned-6x6-mean"),
        pytest.param("signed_exact4_v1.h5", (1, 2), "lsq", id="signed-4x4-lsq"),
    ],
)
def test_version_1_files_still_load(tmp_path, name, hws, lut1d):
    path = FIXTURES / name
    art = load(path)
    with h5py.File(path) as h5:
        assert h5.attrs["format_version"] == 1
        product = h5["product"][()]
        v1_lut2d = h5["grad/lut2d/d_a"][()], h5["grad/lut2d/d_b"][()]
        v1_lut1d = h5["grad/lut1d/d_a"][()], h5["grad/lut1d/d_b"][()]
        v1_ste = h5["grad/ste/d_a"][()], h5["grad/ste/d_b"][()]
    np.testing.assert_array_equal(art.product, product)
    assert (art.gradients["lut2d"].attrs["hws_a"], art.gradients["lut2d"].attrs["hws_b"]) == hws
    for got, want in zip((art.gradients["lut2d"].d_a, art.gradients["lut2d"].d_b), v1_lut2d, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip((art.gradients["ste"].d_a, art.gradients["ste"].d_b), v1_ste, strict=True):
        np.testing.assert_array_equal(got, want)
    one_d = art.gradients["lut1d"]
    assert one_d.attrs["form"] == lut1d and one_d.rank == 1
    n_a, n_b = art.shape
    np.testing.assert_array_equal(one_d.d_a, np.tile(v1_lut1d[0], (n_a, 1)))  # d_a(b) on every row
    np.testing.assert_array_equal(
        one_d.d_b, np.tile(v1_lut1d[1][:, None], (1, n_b))
    )  # d_b(a) on every column
    # saved again, it becomes a version-2 file with the same tables
    again = load(save(art, tmp_path / name))
    np.testing.assert_array_equal(again.gradients["lut1d"].d_b, one_d.d_b)
    with h5py.File(tmp_path / name) as h5:
        assert h5.attrs["format_version"] == 2


@pytest.mark.parametrize(
    "attrs, match",
    [
        pytest.param({"format": "something-else"}, "not an appmult artifact", id="foreign-format"),
        pytest.param({"format_version": WIDE_FORMAT_VERSION + 1}, "format version 4.*upgrade", id="newer"),
        pytest.param({"format_version": 0}, "format version 0.*re-run appmult characterize", id="older"),
    ],
)
def test_reader_refuses_foreign_or_newer_files(tmp_path, attrs, match):
    path = save(_signed_artifact(), tmp_path / "s4.h5")
    with h5py.File(path, "a") as h5:
        for key, value in attrs.items():
            h5.attrs[key] = value
    with pytest.raises(ArtifactError, match=match):
        load(path)


def test_reader_refuses_non_hdf5_and_missing_files(tmp_path):
    text = tmp_path / "table.h5"
    text.write_text("not hdf5")
    with pytest.raises(ArtifactError, match="table.h5: not a readable HDF5 file"):
        load(text)
    with pytest.raises(ArtifactError, match="nothere.h5: no such artifact file"):
        load(tmp_path / "nothere.h5")


def test_reader_refuses_hdf5_without_product(tmp_path):
    path = save(_signed_artifact(), tmp_path / "s4.h5")
    with h5py.File(path, "a") as h5:
        del h5["product"]
    with pytest.raises(ArtifactError, match="corrupt artifact, missing product"):
        load(path)


def test_reader_refuses_a_float_product_and_an_unknown_gradient_kind(tmp_path):
    path = save(_signed_artifact(gradients=_gradients(np.random.default_rng(2))), tmp_path / "s4.h5")
    with h5py.File(path, "a") as h5:
        h5["grad/lut2d"].attrs["kind"] = "mystery"
    with pytest.raises(ArtifactError, match="/grad/lut2d has unknown kind 'mystery'"):
        load(path)
    with h5py.File(path, "a") as h5:
        del h5["grad"]
        del h5["product"]
        h5["product"] = np.zeros((16, 16), dtype=np.float32)
    with pytest.raises(ArtifactError, match="/product: float32 where the format has int32"):
        load(path)


def test_wrong_shapes_are_refused():
    with pytest.raises(ArtifactError, match="shape"):
        Artifact(
            name="x",
            top="x",
            width_a=4,
            width_b=4,
            width_out=8,
            signed_a=False,
            signed_b=False,
            product=np.zeros((16, 8), dtype=int),
        )
    with pytest.raises(ParameterError, match="13 bits wide"):
        Artifact(
            name="x",
            top="x",
            width_a=13,
            width_b=4,
            width_out=8,
            signed_a=False,
            signed_b=False,
            product=np.zeros((2, 2), dtype=int),
        )
    with pytest.raises(ArtifactError, match=r"/grad/lut1d/v_a has shape \(1, 8\), expected \(1, 16\)"):
        _signed_artifact(
            gradients={"lut1d": SeparableGradient(np.ones(16), np.ones(8), np.ones(16), np.ones(16))}
        )


def test_tuning_record_must_be_consistent():
    with pytest.raises(ArtifactError, match="the choice \\(4, 4\\) is not a grid point"):
        TuningRecord(4, 4, ((1, 1),), ((0.1,),), ((0.9,),), "rule")
    with pytest.raises(ArtifactError, match="disagree in length"):
        TuningRecord(1, 1, ((1, 1), (2, 2)), ((0.1,),), ((0.9,),), "rule")


@pytest.mark.parametrize(
    ("losses", "settled"), [(((0.5, 0.6), (0.4, 0.5)), True), (((0.6, 0.45), (0.4, 0.5)), False)]
)
def test_tuning_description_says_when_the_seeds_disagree(losses, settled):
    """h = 2 has the smaller mean loss; the note appears when it did not win on every seed."""
    from appmult.cli.show import describe_tuning

    record = TuningRecord(2, 2, ((1, 1), (2, 2)), losses, ((0.9, 0.8), (0.9, 0.8)), "rule")
    lines = describe_tuning(record)
    assert (
        lines[-1 if settled else -2].endswith("<- chosen h") and "    2     2" in lines[-1 if settled else -2]
    )
    assert any("smallest loss on 1 of 2 seeds" in line for line in lines) is not settled
    assert "0.4500 ± 0.0707" in lines[-1 if settled else -2]


def test_failed_write_leaves_existing_file_untouched(tmp_path):
    """A real write failure (a file size limit, RLIMIT_FSIZE) in a child process: one error, file kept."""
    path = save(_signed_artifact(), tmp_path / "s4.h5")
    before = path.read_bytes()
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "from appmult.core.artifact_file import load, save\n"
        "from appmult.core.errors import ArtifactError\n"
        "try:\n"
        f"    save(load({str(path)!r}), {str(path)!r})\n"
        "except ArtifactError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r".*s4\.h5: cannot write .*File too large.*nothing was changed.*\n", result.stdout)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s4.h5"]


def test_missing_output_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ArtifactError, match="output directory .* does not exist"):
        save(_signed_artifact(), tmp_path / "no" / "s4.h5")
