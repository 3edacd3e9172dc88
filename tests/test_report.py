"""report: metrics table and PNG plots of an artifact."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner

from appmult.cli import cli
from appmult.core.artifact import Artifact
from appmult.core.artifact_file import save
from appmult.lutgen import gradient_tables
from appmult.lutgen.methods import GradientParameters
from appmult.lutgen.report import metrics_table, write_plots


def _truncated4() -> Artifact:
    a = np.arange(16)
    product = np.multiply.outer(a, a) & ~np.int64(3)  # drop the two lowest output bits
    return Artifact(
        name="t4",
        top="t4",
        width_a=4,
        width_b=4,
        width_out=8,
        signed_a=False,
        signed_b=False,
        product=product,
    )


def test_metrics_table_rows():
    header, row = metrics_table([_truncated4()])
    assert header[:4] == ["name", "widths", "sign", "er"]
    assert row[:3] == ["t4", "4x4", "uu"]
    assert float(row[header.index("wce")]) == 3.0


def test_plots_are_png_files(tmp_path):
    art = _truncated4()
    assert [p.name for p in write_plots(art, tmp_path)] == ["t4_error.png"]
    art.gradients.update(gradient_tables(art, parameters=GradientParameters(hws_a=2, hws_b=2)))
    paths = write_plots(art, tmp_path)
    assert [p.name for p in paths] == ["t4_error.png", "t4_gradients.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_command(tmp_path):
    path = save(_truncated4(), tmp_path / "t4.h5")
    result = CliRunner().invoke(cli, ["report", str(path), "-o", str(tmp_path / "plots"), "-q"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split()[:3] == ["t4", "4x4", "uu"]
    assert (tmp_path / "plots" / "t4_error.png").is_file()


def test_a_refused_artifact_leaves_no_output_folder(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not an HDF5 file")
    plots = tmp_path / "plots" / "deeper"
    result = CliRunner().invoke(cli, ["report", str(bad), "-o", str(plots), "-q"])
    assert result.exit_code != 0 and "bad.h5" in str(result.exception)
    assert not (tmp_path / "plots").exists()
