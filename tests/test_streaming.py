"""Streamed characterization: exact metrics and summaries without a table.

References: the in-memory path on the same netlists (forced through the
streaming path on 6x6 and 8x8 designs: every metric bit for bit, the
summaries against a direct computation from the table); closed forms of an
exact and a truncated multiplier at 13 bits (16 bits in the slow suite);
Python integers for sums beyond int64; the published figures in the headers
of the four 16-bit EvoApprox netlists (slow); the real command under Ctrl-C.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from appmult.characterize import characterize
from appmult.characterize.api import characterize_or_plan
from appmult.characterize.streaming import reduce_slice
from appmult.core.artifact_file import WIDE_FORMAT_VERSION, load, save
from appmult.core.errors import ArtifactError
from appmult.core.manifest import load_manifest
from appmult.core.metrics import METRIC_NAMES, ErrorBlock, ErrorSums
from appmult.core.summary import ZERO_BIN, histogram_edges

HERE = Path(__file__).parent
NETLISTS = HERE / "fixtures" / "netlists"
EVOAPPROX = HERE / "fixtures" / "evoapprox"
APPMULT = [sys.executable, "-m", "appmult"]
DESIGNS = {design.name: design for design in load_manifest()}


def _design_sources(name: str) -> tuple[list[Path], dict]:
    design = DESIGNS[name]
    return list(design.files), {"top": design.top, "signed": design.signed}


def _small_designs() -> list:
    """6x6 and 8x8 designs: built-in (unsigned, signed), fixture styles, and EvoApprox 8-bit ones."""
    params = [
        pytest.param(*_design_sources(name), id=name)
        for name in ("mul6u_trunc4", "mul8u_drum4", "mul8s_trunc6", "mul8x4u_exact")
    ]
    params += [pytest.param([NETLISTS / "pdkgen_style_8x8.v"], {"signed": True}, id="pdkgen_style_8x8")]
    params += [pytest.param([NETLISTS / "nonsquare_6x3.v"], {}, id="nonsquare_6x3")]
    for name in ("mul8s_1L2H.v", "mul8u_2AC.v"):  # signedness inferred from the table for mul8s
        path = EVOAPPROX / name
        marks = [pytest.mark.skipif(not path.exists(), reason=f"{path} is not in this checkout")]
        params.append(pytest.param([path], {}, id=name.removesuffix(".v"), marks=marks))
    return params


def _reference_summary(product: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """The summaries computed directly from a whole table, written independently of core.summary."""
    error = product.astype(np.int64) - np.multiply.outer(a.astype(np.int64), b.astype(np.int64))
    magnitude = np.abs(error)
    m_a, m_b = min(len(a), 256), min(len(b), 256)
    blocks = error.reshape(m_a, len(a) // m_a, m_b, len(b) // m_b)
    bins = [ZERO_BIN + (1 if e > 0 else -1) * int(abs(e)).bit_length() for e in error.ravel().tolist()]
    return {
        "histogram": np.bincount(bins, minlength=2 * ZERO_BIN + 1),
        "row_mean_abs": magnitude.mean(axis=1),
        "row_max_abs": magnitude.max(axis=1),
        "col_mean_abs": magnitude.mean(axis=0),
        "col_max_abs": magnitude.max(axis=0),
        "map_mean": blocks.mean(axis=(1, 3)),
        "map_max_abs": np.abs(blocks).max(axis=(1, 3)),
    }


@pytest.mark.parametrize(("sources", "options"), _small_designs())
def test_forced_streaming_equals_the_table(sources, options):
    table = characterize(sources, backend="bitsim", **options)
    streamed = characterize(sources, backend="bitsim", stream=True, **options)
    assert streamed.tabulated is False and table.tabulated is True
    assert (streamed.signed_a, streamed.signed_b, streamed.signedness) == (
        table.signed_a,
        table.signed_b,
        table.signedness,
    )
    for name in METRIC_NAMES:  # bit for bit, the float ones included
        assert streamed.metrics[name] == table.metrics[name], name
    reference = _reference_summary(table.product, table.operand_a, table.operand_b)
    summary = streamed.summary
    for name, expected in reference.items():
        actual = getattr(summary, name)
        assert actual.shape == expected.shape, name
        if actual.dtype.kind == "i":
            assert np.array_equal(actual, expected), name
        else:
            np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=0, err_msg=name)
    assert (summary.product_min, summary.product_max) == (table.product.min(), table.product.max())


def test_slices_merge_in_any_order_to_the_same_bits():
    # 32 slices of the signed 8x8 design, merged in shuffled orders and tree shapes.
    sources, options = _design_sources("mul8s_trunc6")
    plan = characterize_or_plan(sources, stream=True, **options)
    partials = [reduce_slice(plan.program, plan.reading, r) for r in plan.slices(slice_pairs=2048)]
    assert len(partials) == 32
    results = []
    generator = random.Random(7)
    for _ in range(4):
        order = partials[:]
        generator.shuffle(order)
        while len(order) > 1:  # merge neighbours pairwise: a different tree each time
            k = generator.randrange(len(order) - 1)
            order[k : k + 2] = [order[k] + order[k + 1]]
        results.append(plan.artifact(order[0], len(partials)))
    table = characterize(sources, backend="bitsim", **options)
    for artifact in results:
        assert artifact.metrics == table.metrics
        assert np.array_equal(artifact.summary.histogram, results[0].summary.histogram)
        assert np.array_equal(artifact.summary.map_mean, results[0].summary.map_mean)


def test_square_sums_beyond_int64_are_exact():
    # |e| near 2**32 (a 16x16 output stuck at 0 against a*b up to 2**32 - 2**17 + 1): e**2 near 2**64.
    a = np.arange(65536 - 8, 65536, dtype=np.int64)
    b = np.arange(65536 - 64, 65536, dtype=np.int64)
    block = ErrorBlock(np.zeros((a.size, b.size), dtype=np.int64), a, b)
    sums = ErrorSums.of_block(block)
    exact = [x * y for x, y in itertools.product(a.tolist(), b.tolist())]
    assert sums.square_sum == sum(p * p for p in exact)
    assert sums.abs_sum == sum(exact) and sums.error_sum == -sum(exact)
    assert sums.worst == max(exact) and sums.square_sum > 2**64
    halves = ErrorSums.of_block(ErrorBlock(np.zeros((4, b.size), np.int64), a[:4], b)) + ErrorSums.of_block(
        ErrorBlock(np.zeros((4, b.size), np.int64), a[4:], b)
    )
    assert halves.square_sum == sums.square_sum and halves.metrics() == sums.metrics()


def test_histogram_bins_are_signed_powers_of_two():
    low, high = histogram_edges()
    assert (low[ZERO_BIN], high[ZERO_BIN]) == (0, 0)
    assert (low[ZERO_BIN + 1], high[ZERO_BIN + 1]) == (1, 1)
    assert (low[ZERO_BIN + 3], high[ZERO_BIN + 3]) == (4, 7)
    assert (low[ZERO_BIN - 3], high[ZERO_BIN - 3]) == (-7, -4)
    assert (low[-1], high[-1]) == (2**32, 2**33 - 1)


# ----------------------------------------------------------------- wide closed forms


def _truncated_netlist(folder: Path, width: int, k: int) -> Path:
    """A width x width unsigned multiplier without the partial products a_i b_j of columns i + j < k."""
    terms = " + ".join(f"(({{{k - i}{{A[{i}]}}}} & B[{k - i - 1}:0]) << {i})" for i in range(k))
    path = folder / f"trunc{width}_{k}.v"
    path.write_text(
        f"module trunc{width}_{k}(A, B, O);\n  input [{width - 1}:0] A, B;\n  output [{2 * width - 1}:0] O;\n"
        f"  wire [{2 * width - 1}:0] low = {terms};\n  assign O = A * B - low;\nendmodule\n"
    )
    return path


def _truncated_metrics(width: int, k: int) -> dict[str, float]:
    """Closed forms for e = -L, L = sum over i + j < k of a_i b_j 2**(i+j), operand bits independent and fair.

    ``er`` and the others need only the k low bits of each operand; they are
    enumerated here (2**(2k) cases), the high bits do not change L.
    """
    columns = [(i, j) for i in range(k) for j in range(k) if i + j < k]
    low = np.arange(1 << k)
    bits = (low[:, None] >> np.arange(k)) & 1
    table = np.zeros((1 << k, 1 << k), dtype=np.int64)
    for i, j in columns:
        table += np.multiply.outer(bits[:, i], bits[:, j]) << (i + j)
    pairs = 4**width
    mean = sum(2 ** (i + j) for i, j in columns) / 4  # E[a_i b_j] = 1/4
    return {
        "er": float(np.count_nonzero(table)) / table.size,
        "med": mean,
        "nmed": mean / pairs,
        "wce": float(sum(2 ** (i + j) for i, j in columns)),
        "wce_norm": sum(2 ** (i + j) for i, j in columns) / pairs,
        "mse": float((table.astype(float) ** 2).mean()),
        "bias": -mean,
    }


def _check_truncated(path: Path, width: int, k: int) -> None:
    artifact = characterize([path], signed=False)
    assert not artifact.tabulated and artifact.width_a == width
    expected = _truncated_metrics(width, k)
    for name, value in expected.items():
        assert artifact.metrics[name] == pytest.approx(value, rel=1e-12, abs=0), name
    assert artifact.summary.histogram.sum() == 4**width


def test_13_bit_exact_multiplier_has_no_error():
    artifact = characterize([NETLISTS / "wide13.v"])
    assert not artifact.tabulated and artifact.shape == (8192, 8192)
    assert all(artifact.metrics[name] == 0.0 for name in METRIC_NAMES)
    assert artifact.summary.histogram[ZERO_BIN] == 2**26
    assert (artifact.summary.product_min, artifact.summary.product_max) == (0, 8191**2)
    assert artifact.signedness.startswith("declared unsigned")


def test_13_bit_truncated_multiplier_has_the_closed_form_metrics(tmp_path):
    _check_truncated(_truncated_netlist(tmp_path, 13, 8), 13, 8)


@pytest.mark.slow
def test_16_bit_exact_multiplier_has_no_error(tmp_path):
    path = tmp_path / "exact16.v"
    path.write_text(
        "module exact16(A, B, O);\n  input [15:0] A, B;\n  output [31:0] O;\n  assign O = A * B;\nendmodule\n"
    )
    artifact = characterize([path], signed=False)
    assert all(artifact.metrics[name] == 0.0 for name in METRIC_NAMES)
    assert artifact.summary.histogram[ZERO_BIN] == 2**32


@pytest.mark.slow
def test_16_bit_truncated_multiplier_has_the_closed_form_metrics(tmp_path):
    _check_truncated(_truncated_netlist(tmp_path, 16, 10), 16, 10)


# ----------------------------------------------------------------- the wide artifact file


def test_a_streamed_artifact_round_trips_as_version_3_without_a_table(tmp_path):
    sources, options = _design_sources("mul8s_trunc6")
    streamed = characterize(sources, stream=True, **options)
    path = save(streamed, tmp_path / "streamed.h5")
    with h5py.File(path, "r") as h5:
        assert h5.attrs["format_version"] == WIDE_FORMAT_VERSION == 3
        assert "product" not in h5 and "summary" in h5
        assert h5["summary/map_mean"].shape == (256, 256) and h5["summary/histogram"].dtype == np.int64
    loaded = load(path)
    assert loaded.metrics == streamed.metrics and not loaded.tabulated
    for name in ("histogram", "row_mean_abs", "col_max_abs", "map_mean", "map_max_abs"):
        assert np.array_equal(getattr(loaded.summary, name), getattr(streamed.summary, name))
    assert loaded.product_range == streamed.product_range
    with pytest.raises(ArtifactError, match=r"^mul8s_trunc6: this operation needs the product table, which"):
        loaded.product  # noqa: B018


# ----------------------------------------------------------------- 16-bit EvoApprox


def _header(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^// (\S+) = (\S+)", path.read_text(), flags=re.MULTILINE))


def _printed_precision(text: str) -> float:
    """Half a unit of the last printed digit of a header figure (``47727.824e7`` -> 0.0005e7)."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (-decimals) * 10.0 ** int(exponent or 0)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mul16u_BMC", "mul16u_8VH", "mul16u_HGK", "mul16s_GAT"])
def test_16_bit_evoapprox_netlists_match_their_headers(name):
    path = EVOAPPROX / f"{name}.v"
    header = _header(path)
    artifact = characterize([path])
    assert artifact.signed_a == artifact.signed_b == name.startswith("mul16s")
    m = artifact.metrics
    ours = {"MAE": m["med"], "WCE": m["wce"], "MRE%": 100 * m["mred"], "EP%": 100 * m["er"], "MSE": m["mse"]}
    for key, value in ours.items():
        printed = header[key]
        assert abs(value - float(printed)) <= _printed_precision(printed), (key, value, printed)


# ----------------------------------------------------------------- Ctrl-C


def test_ctrl_c_stops_a_16_bit_run_quickly_and_writes_nothing(tmp_path):
    out = tmp_path / "hgk.h5"
    proc = subprocess.Popen(
        [*APPMULT, "characterize", str(EVOAPPROX / "mul16u_HGK.v"), "-o", str(out), "-j", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, TMPDIR=str(tmp_path)),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    time.sleep(8)  # planned (parse, compile, signedness sample) and slices running on both workers
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, stderr = proc.communicate(timeout=30)
    latency = time.monotonic() - sent
    assert proc.returncode == 130, stderr
    assert latency < 2.0, latency
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no artifact, no temporary file
