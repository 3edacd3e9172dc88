"""LUT-1D without a table: passes over the rows of a netlist against the in-memory estimators.

Reference: :func:`appmult.lutgen.estimators.lut1d` on the whole table of the
same design. The streamed path is forced on 6x6 and 8x8 designs by reading
the rows from the netlist again (:class:`NetlistRows`), exactly as a 16-bit
artifact does: the one-pass forms must agree bit for bit (``mean``,
``range``) or to rounding (``lsq``); the separable form's factors up to sign
and its reconstruction to float32 precision. The factor exports are checked
at 16 bits on an artifact built in memory (a 16-bit LUT-1D takes minutes).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from appmult.characterize import characterize
from appmult.characterize.rows import NetlistRows, netlist_rows
from appmult.cli import main
from appmult.core.artifact import Artifact
from appmult.core.artifact_file import load, save
from appmult.core.errors import ParameterError
from appmult.core.gradient import SeparableGradient, expand
from appmult.core.manifest import load_manifest
from appmult.core.metrics import METRIC_NAMES
from appmult.core.summary import HISTOGRAM_BINS, ZERO_BIN, ErrorSummary
from appmult.lutgen.estimators import lut1d, lut2d
from appmult.lutgen.exporters import ExportOptions, export, read_tables
from appmult.lutgen.exporters.layout import Layout
from appmult.lutgen.methods import LUT1D
from appmult.lutgen.streamed import TableRows, streamed_lut1d

DESIGNS = {design.name: design for design in load_manifest()}
EVOAPPROX = Path(__file__).parent / "fixtures" / "evoapprox"


def _here(jobs):
    """Run a pass's jobs here, last first: the merge must not depend on the order."""
    for index in reversed(range(len(jobs))):
        yield index, jobs[index].function(*jobs[index].args, **jobs[index].kwargs)


def _cases() -> list:
    params = [pytest.param(name, id=name) for name in ("mul6u_trunc4", "mul8u_cmp42", "mul8s_trunc6")]
    path = EVOAPPROX / "mul8s_1L2H.v"
    params.append(
        pytest.param(
            path, id="mul8s_1L2H", marks=pytest.mark.skipif(not path.exists(), reason="not in checkout")
        )
    )
    return params


_BUILT: dict[object, tuple[Artifact, NetlistRows, tuple[int, int]]] = {}


def _design(case) -> tuple[Artifact, NetlistRows, tuple[int, int]]:
    """The tabulated artifact, the rows of its netlist (streamed), and half-windows."""
    if case not in _BUILT:
        if isinstance(case, Path):
            table = characterize([case], backend="bitsim")
            hws = (4, 4)
            sources = [case]
        else:
            design = DESIGNS[case]
            table = characterize(design.files, top=design.top, signed=design.signed, backend="bitsim")
            hws = (design.hws_a, design.hws_b)
            sources = design.files
        _BUILT[case] = (table, netlist_rows(table, sources), hws)
    return _BUILT[case]


def test_netlist_rows_are_the_table_rows_across_the_signed_wrap():
    table, rows, _ = _design("mul8s_trunc6")
    for start, stop in ((0, 256), (120, 136), (127, 129), (128, 200), (3, 4)):
        assert np.array_equal(rows.rows(start, stop), table.product[start:stop]), (start, stop)


@pytest.mark.parametrize("case", _cases())
@pytest.mark.parametrize("form", ["mean", "range", "lsq"])
def test_one_pass_forms_equal_the_table(case, form):
    table, rows, (hws_a, hws_b) = _design(case)
    options = {"rank": 1, "hws_a": hws_a, "hws_b": hws_b, "signed": table.output_signed}
    expected = lut1d(table.product, table.operand_a, table.operand_b, form, **options)
    streamed, record = streamed_lut1d(rows, table.operand_a, table.operand_b, form, run=_here, **options)
    assert record == {"passes": 1}
    for got, want in zip(streamed, expected, strict=True):
        if form == "lsq":  # a dot product summed in another order
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * np.abs(want).max())
        else:
            assert np.array_equal(got, want)


@pytest.mark.parametrize("case", _cases())
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_separable_form_equals_the_truncated_svd(case, rank):
    table, rows, (hws_a, hws_b) = _design(case)
    options = {"rank": rank, "hws_a": hws_a, "hws_b": hws_b, "signed": table.output_signed}
    expected = lut1d(table.product, table.operand_a, table.operand_b, "separable", **options)
    streamed, record = streamed_lut1d(
        rows,
        table.operand_a,
        table.operand_b,
        "separable",
        run=_here,
        tolerance=1e-11,
        max_iterations=40,
        **options,
    )
    assert record["passes"] >= 4 and record["converged_to"] < 1e-11
    d_a, d_b = lut2d(table.product, hws_a, hws_b, signed=table.output_signed)
    values = np.linalg.svd(d_a.astype(np.float64), compute_uv=False)
    for (u, v), (u_ref, v_ref), full in (
        ((streamed[0], streamed[1]), (expected[0], expected[1]), d_a),
        ((streamed[2], streamed[3]), (expected[2], expected[3]), d_b),
    ):
        scale = float(np.abs(full).max())
        # the reconstruction: float32 factors of float32-tolerance
        np.testing.assert_allclose(expand(u, v), expand(u_ref, v_ref), rtol=0, atol=2e-6 * scale)
        for r in range(rank):  # each term up to sign, where its singular value stands apart
            if r + 1 < len(values) and values[r + 1] > 0.9 * values[r]:
                continue
            sign = np.sign(np.dot(v[r], v_ref[r])) or 1.0
            term = np.sqrt(values[0])
            np.testing.assert_allclose(sign * u[r], u_ref[r], rtol=0, atol=1e-5 * term)
            np.testing.assert_allclose(sign * v[r], v_ref[r], rtol=0, atol=1e-5 * term)


def test_a_table_in_memory_is_a_row_source_too():
    table, _, (hws_a, hws_b) = _design("mul8s_trunc6")
    options = {"rank": 1, "hws_a": hws_a, "hws_b": hws_b, "signed": True}
    rows = TableRows(table.product)
    streamed, _ = streamed_lut1d(rows, table.operand_a, table.operand_b, "mean", run=_here, **options)
    expected = lut1d(table.product, table.operand_a, table.operand_b, "mean", **options)
    assert all(np.array_equal(g, w) for g, w in zip(streamed, expected, strict=True))


# ----------------------------------------------------------------- lutgen on a wide file


def test_lutgen_on_a_streamed_artifact_re_evaluates_its_netlist(tmp_path, capsys):
    design = DESIGNS["mul8s_trunc6"]
    sources = [str(f) for f in design.files]
    streamed, tabulated = tmp_path / "streamed.h5", tmp_path / "table.h5"
    for path, extra in ((streamed, ["--stream"]), (tabulated, [])):
        main(["characterize", *sources, "--top", design.top, "--signed", "-o", str(path), "-q", *extra])
    for path in (streamed, tabulated):
        main(["lutgen", str(path), "--methods", f"ste,{LUT1D.name}", "--lut1d-form", "mean", "--sources",
              *sources, "-q", "-j", "2"])  # fmt: skip
    got, want = load(streamed).gradients[LUT1D.name], load(tabulated).gradients[LUT1D.name]
    assert got.attrs["streamed"] is True and got.attrs["passes"] == 1
    for label in ("u_a", "v_a", "u_b", "v_b"):
        assert np.array_equal(getattr(got, label), getattr(want, label)), label
    capsys.readouterr()


def test_lutgen_refuses_sources_that_are_not_the_artifacts(tmp_path):
    design = DESIGNS["mul8s_trunc6"]
    streamed = characterize(design.files, top=design.top, signed=True, stream=True)
    other = DESIGNS["mul8u_drum4"].files
    expected = r"^mul8s_trunc6: its LUT-1D .* do not include .*mul8s_trunc6.v \(same bytes, by SHA-256\)"
    with pytest.raises(ParameterError, match=expected):
        netlist_rows(streamed, other)


# ----------------------------------------------------------------- exports at 16 bits


def _wide_with_factors(rank: int = 2) -> Artifact:
    """A 16x16 unsigned wide artifact with made-up summaries and LUT-1D factors (export formats only)."""
    n = 1 << 16
    generator = np.random.default_rng(3)
    histogram = np.zeros(HISTOGRAM_BINS, np.int64)
    histogram[ZERO_BIN] = n * n
    summary = ErrorSummary(
        histogram=histogram,
        row_mean_abs=np.zeros(n), row_max_abs=np.zeros(n, np.int64),
        col_mean_abs=np.zeros(n), col_max_abs=np.zeros(n, np.int64),
        map_mean=np.zeros((256, 256)), map_max_abs=np.zeros((256, 256), np.int64),
        product_min=0, product_max=(n - 1) ** 2,
    )  # fmt: skip
    factors = [generator.standard_normal((rank, n)).astype(np.float32) * 1000 for _ in range(4)]
    return Artifact(
        name="mul16_made_up", top="m", width_a=16, width_b=16, width_out=32, signed_a=False, signed_b=False,
        product=None, metrics=dict.fromkeys(METRIC_NAMES, 0.0), summary=summary,
        gradients={LUT1D.name: SeparableGradient(*factors, attrs={"form": "separable", "rank": rank})},
    )  # fmt: skip


def test_16_bit_factors_export_to_npz_and_a_c_header(tmp_path):
    art = load(save(_wide_with_factors(), tmp_path / "w.h5"))
    layout = Layout(art.name, 16, 16, False, False)
    group = art.gradients[LUT1D.name]
    header = export(art, "cfactors", tmp_path / "mul16_made_up_factors.h", ExportOptions())[0]
    text = header.read_text()
    assert "#define MUL16_MADE_UP_RANK 2" in text and "#define MUL16_MADE_UP_NA 65536" in text
    assert re.search(r"static const float mul16_made_up_u_a\[2\]\[65536\] = \{", text)
    back = read_tables(header, "cfactors", layout).gradients[LUT1D.name]
    for label in ("u_a", "v_a", "u_b", "v_b"):
        assert np.array_equal(getattr(back, label), getattr(group, label)), label  # float32, 9 digits
    archive = export(art, "npz", tmp_path / "w.npz", ExportOptions())[0]
    with np.load(archive) as data:
        assert "product" not in data.files
        assert np.array_equal(data[f"grad_{LUT1D.name}_v_b"], group.v_b)
        assert data["operand_a"].shape == (65536,)
