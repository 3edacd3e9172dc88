"""The wide form of an artifact at work: info, report, export, lutgen, verify, convert.

A signed 8x8 design characterized with ``--stream`` has the wide form (no
table, a /summary) at a size that runs in a second; the 13-bit exact
fixture is wide for real (verify on a sample, the Icarus cross-check).
Everything that needs the table must refuse in one line that says why and
what to use instead, and write nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from appmult.cli import cli, main
from appmult.core.artifact_file import load
from appmult.core.manifest import load_manifest
from appmult.lutgen.methods import LUT1D, LUT2D, STE

NETLISTS = Path(__file__).parent / "fixtures" / "netlists"
DESIGN = {design.name: design for design in load_manifest()}["mul8s_trunc6"]


def _run(*arguments: str):
    return CliRunner().invoke(cli, [str(a) for a in arguments])


def _main(capsys, *arguments: str) -> tuple[int, str, str]:
    """The real entry point (errors become one line on stderr): exit status, stdout, stderr."""
    try:
        main([str(a) for a in arguments])
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def wide_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wide") / "trunc.h5"
    result = _run("characterize", *map(str, DESIGN.files), "--top", DESIGN.top, "--signed", "--stream",
                  "-o", path, "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    return path


def test_info_says_there_is_no_table_and_how_the_metrics_were_made(wide_file):
    result = _run("info", wide_file)
    assert result.exit_code == 0, result.output
    assert "product       no table (wide form: 65,536 pairs streamed), range -16256..16384" in result.output
    assert "metrics by    bitsim, exhaustive over all 65,536 pairs in 2 slice(s), streamed" in result.output
    assert "cross-check   none" in result.output
    assert "error map [256, 256]" in result.output


def test_report_draws_the_error_figure_from_the_summaries(wide_file, tmp_path):
    result = _run("report", wide_file, "-o", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    assert "mul8s_trunc6" in result.output and "9158.25" in result.output  # the metrics table (mse)
    assert (tmp_path / "mul8s_trunc6_error.png").stat().st_size > 10_000


def test_report_draws_the_streamed_lut1d(wide_file, tmp_path):
    copy = tmp_path / "with_lut1d.h5"
    copy.write_bytes(wide_file.read_bytes())
    sources = [str(f) for f in DESIGN.files]
    result = _run("lutgen", copy, "--methods", f"{STE.name},{LUT1D.name}", "--sources", *sources, "-q")
    assert result.exit_code == 0, result.output
    assert load(copy).gradients[LUT1D.name].attrs["passes"] >= 4
    result = _run("report", copy, "-o", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mul8s_trunc6_gradients.png").stat().st_size > 10_000


@pytest.mark.parametrize("fmt", ["amr", "transaxx", "csv", "npy", "tfapprox"])
def test_table_exports_refuse_in_one_line(wide_file, tmp_path, capsys, fmt):
    target = tmp_path / "out"
    code, _, err = _main(capsys, "export", wide_file, "--to", fmt, "-o", target)
    assert code == 1
    assert err == (
        f"error: mul8s_trunc6: the {fmt} export needs the product table, which this 8x8-bit artifact does "
        "not hold (characterized by streaming: 65,536 pairs, no table); export its gradient factors with "
        "--to npz, cfactors\n"
    )
    assert not target.exists()


def test_the_adaptive_window_refuses_and_leaves_the_file(wide_file, capsys):
    before = wide_file.read_bytes()
    sources = [str(f) for f in DESIGN.files]
    code, _, err = _main(capsys, "lutgen", wide_file, "--methods", LUT1D.name, "--lut2d-window", "adaptive",
                         "--sources", *sources)  # fmt: skip
    assert code == 1
    assert (
        err.startswith(
            f"error: {wide_file}: mul8s_trunc6: the adaptive LUT-2D window (it compares each line of "
            "the table with STE) needs the product table"
        )
        and err.endswith("use the fixed window\n")
        and len(err.splitlines()) == 1
    )
    assert wide_file.read_bytes() == before


def test_lut2d_refuses_and_leaves_the_file(wide_file, capsys):
    before = wide_file.read_bytes()
    code, _, err = _main(capsys, "lutgen", wide_file, "--methods", LUT2D.name)
    assert code == 1 and len(err.splitlines()) == 1
    assert err.startswith(f"error: {wide_file}: mul8s_trunc6: {LUT2D.label} (two full [Na, Nb] ")
    assert err.endswith(f"(--methods {STE.name},{LUT1D.name}), whose factors need no table\n")
    assert wide_file.read_bytes() == before


def test_npz_export_holds_the_axes_and_no_product(wide_file, tmp_path):
    result = _run("export", wide_file, "--to", "npz", "-o", tmp_path / "w.npz", "-q")
    assert result.exit_code == 0, result.output
    with np.load(tmp_path / "w.npz") as data:
        assert sorted(data.files) == ["operand_a", "operand_b"]
        assert data["operand_a"][[0, -1]].tolist() == [-128, 127]


def test_the_retraining_consumer_refuses_a_wide_artifact(wide_file):
    pytest.importorskip("torch")
    from torch import nn

    from appmult.core.errors import ArtifactError
    from appmult.retrain import convert

    with pytest.raises(ArtifactError) as info:
        convert(nn.Sequential(nn.Linear(4, 2)), wide_file)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("mul8s_trunc6: the retraining forward (AM(x, w) looked up for every operand")
    assert message.endswith("use its LUT-1D factors in your framework's own forward (docs/wide-operands.md)")


# ----------------------------------------------------------------- truly wide: samples


def test_verify_compares_a_wide_netlist_on_a_sample():
    exact = _run("verify", NETLISTS / "wide13.v", "--against", "exact", "--sample-pairs", "500", "-q")
    assert exact.exit_code == 0, exact.output
    row = exact.output.splitlines()[1].split()
    assert row[-3:] == ["2026)", "564", "0"]  # 500 random pairs + 8 x 8 corner pairs, none differ


def test_verify_against_an_artifact_refuses_a_wide_netlist(capsys, wide_file):
    code, _, err = _main(capsys, "verify", NETLISTS / "wide13.v", "--against", wide_file)
    assert code == 1 and "is too wide for a table, so it is verified on a sample, against exact" in err


@pytest.mark.icarus
def test_characterize_with_icarus_records_the_sampled_cross_check(tmp_path):
    path = tmp_path / "wide13.h5"
    result = _run("characterize", NETLISTS / "wide13.v", "--backend", "icarus", "--sample-pairs", "300",
                  "--seed", "5", "-o", path, "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    check = load(path).summary.cross_check
    assert (check.corner_pairs, check.random_pairs, check.seed, check.mismatches) == (64, 300, 5, 0)
    assert check.reference.startswith("icarus ") and "cocotb" in check.reference
    assert "sampled cross-check: icarus" in load(path).simulator
    info = _run("info", path).output
    assert "agreed on every pair of 364 sampled (64 corner pairs + 300 random, seed 5;" in info


@pytest.mark.icarus
def test_verify_against_icarus_on_a_sample():
    result = _run("verify", NETLISTS / "wide13.v", "--against", "icarus", "--sample-pairs", "200", "-q")
    assert result.exit_code == 0, result.output
    assert "icarus (sampled, seed 2026)" in result.output and result.output.splitlines()[1].endswith(" 0")
