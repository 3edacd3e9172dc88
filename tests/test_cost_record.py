"""The hardware-cost record of an artifact: validated on construction, written and read back whole."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from appmult.core.artifact import Artifact, HardwareCost
from appmult.core.artifact_file import load, save
from appmult.core.errors import ArtifactError

_COST = HardwareCost(
    cells_by_type={"$_NAND_": 3, "$_XOR_": 2},
    cells=5,
    transistors=3 * 4 + 2 * 12,
    depth=3,
    yosys="Yosys 0.23 (git sha1 7ce5011c24b) at /usr/bin/yosys",
    script="read_verilog m.v\nsynth -flatten -noabc -top m\n",
)


def _artifact(cost: HardwareCost | None) -> Artifact:
    values = np.arange(4)
    return Artifact(name="m", top="m", width_a=2, width_b=2, width_out=4, signed_a=False, signed_b=False,
                    product=np.multiply.outer(values, values), cost=cost)  # fmt: skip


def test_cost_is_written_and_read_back_whole(tmp_path):
    path = save(_artifact(_COST), tmp_path / "m.h5")
    assert load(path).cost == _COST
    assert load(save(_artifact(None), tmp_path / "bare.h5")).cost is None
    with h5py.File(path, "r") as h5:  # the schema of appmult.core.artifact_file, as other readers see it
        assert int(h5["cost"].attrs["transistors"]) == 36
        assert dict(h5["cost/cells_by_type"].attrs) == {"$_NAND_": 3, "$_XOR_": 2}


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"cells": 6}, r"6 cells, but the cells by type add up to 5"),
        ({"depth": -1}, r"counts must be integers >= 0"),
        ({"transistors": 3.5}, r"counts must be integers >= 0"),
    ],
)
def test_inconsistent_cost_is_refused(changes, match):
    fields = {**_COST.__dict__, **changes}
    with pytest.raises(ArtifactError, match=match):
        HardwareCost(**fields)


def test_a_damaged_cost_group_is_one_clear_error(tmp_path):
    path = save(_artifact(_COST), tmp_path / "m.h5")
    with h5py.File(path, "a") as h5:
        del h5["cost"].attrs["depth"]
    with pytest.raises(ArtifactError, match=r"m.h5: /cost is incomplete .*run appmult cost on it again"):
        load(path)
