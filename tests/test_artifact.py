"""The artifact file: round trip, atomic writes, and refusal of foreign or newer files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from appmult.core.artifact import FORMAT_VERSION, Artifact, GradientTable, load, save
from appmult.core.errors import ArtifactError, ParameterError


def _signed_artifact(**extra) -> Artifact:
    values = np.arange(-8, 8)
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
        simulator="test",
        **extra,
    )


def test_round_trip_keeps_every_field(tmp_path):
    grads = {
        "lut2d": GradientTable(np.ones((16, 16)), np.zeros((16, 16)), {"hws_a": 2, "edge": "range"}),
        "lut1d": GradientTable(np.arange(16), np.arange(16) * 2, {"reduction": "mean"}),
    }
    art = _signed_artifact(gradients=grads)
    back = load(save(art, tmp_path / "s4.h5"))
    assert back.name == "s4" and back.signed_a and back.signed_b and back.width_out == 8
    assert back.product.dtype == np.int32
    np.testing.assert_array_equal(back.product, art.product)
    np.testing.assert_array_equal(back.operand_a, np.arange(-8, 8))
    assert back.metrics == art.metrics
    assert back.source_files == ("x.v",) and back.source_sha256 == ("0" * 64,)
    assert back.gradients["lut2d"].attrs == {"hws_a": 2, "edge": "range"}
    assert back.gradients["lut1d"].d_b.dtype == np.float32
    np.testing.assert_array_equal(back.gradients["lut1d"].d_b, np.arange(16) * 2)


def test_file_layout_matches_the_schema(tmp_path):
    path = save(_signed_artifact(), tmp_path / "s4.h5")
    with h5py.File(path) as h5:
        assert h5.attrs["format"] == "appmult-lut"
        assert h5.attrs["format_version"] == 1
        assert h5["product"].shape == (16, 16) and h5["product"].dtype == np.int32
        assert list(h5["operand_a"][:3]) == [-8, -7, -6]
        assert h5["product"][0, 0] == 64  # (-8) * (-8), value order
        assert set(h5["metrics"].attrs) >= {"er", "med", "nmed", "wce", "mred", "mse", "bias"}


@pytest.mark.parametrize(
    "attrs, match",
    [
        pytest.param({"format": "something-else"}, "not an appmult artifact", id="foreign-format"),
        pytest.param({"format_version": FORMAT_VERSION + 1}, "format version 2.*upgrade", id="newer"),
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


def test_failed_write_leaves_existing_file_untouched(tmp_path, monkeypatch):
    import appmult.core.artifact as artifact_module

    path = save(_signed_artifact(), tmp_path / "s4.h5")
    before = path.read_bytes()

    def write_half_then_fail(artifact, target):
        target.write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(artifact_module, "_write_h5", write_half_then_fail)
    with pytest.raises(ArtifactError, match="s4.h5: cannot write .*No space left.*nothing was changed"):
        save(_signed_artifact(), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s4.h5"]


def test_missing_output_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ArtifactError, match="output directory .* does not exist"):
        save(_signed_artifact(), tmp_path / "no" / "s4.h5")
