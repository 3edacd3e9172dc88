"""The built-in library: every design against its reference model, and guards on what is collected.

Each design of ``rtl/manifest.toml`` is simulated over all operand pairs
with the bitsim backend and compared with its reference model
(:func:`appmult.characterize.reference_models.reference_product`, what
``appmult verify --against model`` uses). A few entries per design are also
checked against values worked out by hand from the published definitions, so
that a design and its model that went wrong in the same way still fail.

The lists of expected designs and fixture files are written out here, so that a
manifest or fixture folder that loses an entry, or a parameter list that comes
back empty, fails instead of shrinking the suite.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import appmult
from appmult.characterize.reference_models import reference_product
from appmult.characterize.verify import compare_tables
from appmult.core.artifact import Artifact
from appmult.core.manifest import Design, load_manifest
from tests.conftest import FIXTURES

REPOSITORY = Path(__file__).resolve().parent.parent
GENERATOR = REPOSITORY / "scripts" / "generate_rtl.py"

EXPECTED_DESIGNS = [
    "mul4u_exact",
    "mul7u_exact",
    "mul8u_exact",
    "mul8x4u_exact",
    "mul12u_exact",
    "mul8s_exact",
    "mul8u_trunc8",
    "mul7u_trunc6",
    "mul6u_trunc4",
    "mul8s_trunc6",
    "mul8u_bam_h1v6",
    "mul8u_drum4",
    "mul8u_mitchell",
    "mul8u_kulkarni",
    "mul8u_cmp42",
]

#: The valid multipliers among the fixtures (the top's file), as the fixtures' README.md lists them.
VALID_FIXTURES = [
    "ansi_exact4",
    "nonansi_shared_decl",
    "helpers_after_top",
    "two_files_top",
    "evo_sig_style_8x8",
    "pdkgen_style_8x8",
    "nbus_style_8x8",
    "output_readback",
    "signed_exact4",
    "nonsquare_6x3",
]

EXPECTED_FIXTURE_NETLISTS = [
    "ansi_exact4.v",
    "bad_loop.v",
    "bad_syntax.v",
    "bad_three_inputs.v",
    "bad_two_outputs.v",
    "bad_two_tops.v",
    "bad_xout.v",
    "evo_sig_style_8x8.v",
    "helpers_after_top.v",
    "nbus_style_8x8.v",
    "nonansi_shared_decl.v",
    "nonsquare_6x3.v",
    "output_readback.v",
    "pdkgen_style_8x8.v",
    "signed_exact4.v",
    "two_files_cells.v",
    "two_files_top.v",
    "wide13.v",
    "wide17.v",
]

# Read at import: a broken manifest is a collection error, not an empty parameter list.
DESIGNS = load_manifest()

_TABLES: dict[str, Artifact] = {}


@pytest.fixture(scope="module", autouse=True)
def _release_tables():
    """Keep the simulated tables (the 12-bit one is about 130 MB) only while this module runs."""
    yield
    _TABLES.clear()


def _simulated(design: Design) -> Artifact:
    """The design's bitsim table, simulated once while this module runs."""
    if design.name not in _TABLES:
        _TABLES[design.name] = appmult.characterize(
            design.files, top=design.top, signed=design.signed, name=design.name, backend="bitsim"
        )
    return _TABLES[design.name]


def test_manifest_holds_exactly_the_expected_designs():
    names = [d.name for d in DESIGNS]
    assert len(names) == len(EXPECTED_DESIGNS) == 15
    assert sorted(names) == sorted(EXPECTED_DESIGNS)


@pytest.mark.parametrize("design", [pytest.param(d, id=d.name) for d in DESIGNS])
def test_design_matches_its_reference_model(design):
    art = _simulated(design)
    assert art.simulator.startswith("bitsim")
    assert art.product.shape == (1 << design.width_a, 1 << design.width_b)
    expected = reference_product(design)
    count, first = compare_tables(art.product, expected, art.operand_a, art.operand_b)
    assert count == 0, f"{design.name}: {count} pairs differ from the model, first: {first}"


# (a, b, output), worked out by hand from each design's published definition.
HAND_WORKED = {
    # Exact designs at their extreme operands.
    "mul4u_exact": [(15, 15, 225), (15, 1, 15)],
    "mul7u_exact": [(127, 127, 16129)],
    "mul8u_exact": [(255, 255, 65025), (255, 1, 255)],
    "mul8x4u_exact": [(255, 15, 3825), (1, 15, 15)],
    "mul12u_exact": [(4095, 4095, 16769025), (4095, 1, 4095)],
    "mul8s_exact": [(-128, -128, 16384), (-128, 127, -16256), (-1, -1, 1)],
    # Truncated: a*b minus the dropped columns 0..k-1; with all bits set, column c
    # holds c+1 ones, so the dropped sum is sum_{c<k} (c+1)*2**c = 1, 5, 17, 49, 129, 321, 769, 1793.
    "mul8u_trunc8": [(255, 255, 65025 - 1793), (2, 128, 256), (1, 255, 0)],
    "mul7u_trunc6": [(127, 127, 16129 - 321), (1, 63, 0)],
    "mul6u_trunc4": [(63, 63, 3969 - 49), (1, 15, 0)],
    # Signed, Baugh-Wooley minus the columns 0..5 of magnitude bits: -1 has all bits set,
    # -128 has none of bits 0..6.
    "mul8s_trunc6": [(-1, -1, 1 - 321), (-128, -128, 16384)],
    # BAM hbl=1, vbl=6: row b_0 and the cells with i + j < 6 removed. (255, 255): removed
    # 255 (row 0) + 2*31 + 4*15 + 8*7 + 16*3 + 32*1 = 513. (1, 255): only b_6, b_7 kept.
    "mul8u_bam_h1v6": [(255, 255, 65025 - 513), (1, 255, 192), (255, 1, 0)],
    # DRUM k=4: x >= 16 -> ((x >> s) | 1) << s with s = (leading one) - 3.
    # 16 -> 9 << 1 = 18; 160 -> 11 << 4 = 176; 255 -> 15 << 4 = 240; x < 16 exact.
    "mul8u_drum4": [(16, 16, 324), (160, 3, 528), (255, 255, 57600), (15, 15, 225), (1, 16, 18)],
    # Mitchell: 3 = 2*(1+1/2): f sum 1 -> 2**(1+1+1) * 1 = 8. 6 = 4*1.5, 5 = 4*1.25:
    # f sum 0.75 -> 16 * 1.75 = 28. 255 = 128*(1+127/128): 2**15 * (254/128) = 65024.
    "mul8u_mitchell": [(3, 3, 8), (6, 5, 28), (255, 255, 65024), (128, 128, 16384), (0, 77, 0)],
    # Kulkarni: base-4 digits, digit product 3*3 = 7. 7 = (1,3): 16*1 + 4*(3+3) + 7 = 47.
    # 255 = (3,3,3,3): 7 * (1+4+16+64)**2 = 7 * 7225 = 50575.
    "mul8u_kulkarni": [(3, 3, 7), (7, 7, 47), (255, 255, 50575), (2, 3, 6)],
    # cmp42, the worked example of reference_models.compressor's specification: the six
    # stage-1 compressors (columns 3, 4, 5, 6, 7, 7) each see four ones and lose 2, the two
    # stage-2 ones lose nothing: 65025 - 2*(8 + 16 + 32 + 64 + 128 + 128) = 64273.
    # (3, 3): the ones are all in columns 0..2 and no carry reaches column 3, so no
    # compressor sees a one -> exact. (1, 255): every column holds a single one, and a
    # compressor with at most one input set is exact -> exact.
    "mul8u_cmp42": [(255, 255, 64273), (3, 3, 9), (1, 255, 255)],
}


def test_hand_worked_entries_cover_every_design():
    assert sorted(HAND_WORKED) == sorted(EXPECTED_DESIGNS)


@pytest.mark.parametrize("design", [pytest.param(d, id=d.name) for d in DESIGNS])
def test_design_gives_the_hand_worked_products(design):
    art = _simulated(design)
    index_a = {int(v): i for i, v in enumerate(art.operand_a)}
    index_b = {int(v): j for j, v in enumerate(art.operand_b)}
    got = [(a, b, int(art.product[index_a[a], index_b[b]])) for a, b, _ in HAND_WORKED[design.name]]
    assert got == HAND_WORKED[design.name]


# -- collection guards ---------------------------------------------------------------------------


def test_fixture_folder_holds_exactly_the_expected_netlists():
    assert sorted(p.name for p in FIXTURES.glob("*.v")) == EXPECTED_FIXTURE_NETLISTS


def test_bitsim_library_and_fixture_parametrizations_are_complete():
    """tests/test_bitsim.py builds two parameter lists that could come back short or empty.

    Its library list returns [] when the manifest does not load and its fixture list is
    parsed from the fixtures' README table; count what pytest actually collects there.
    """
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m", ""]
        + ["tests/test_bitsim.py"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ids = [line.split("::", 1)[1] for line in result.stdout.splitlines() if "::" in line]

    def params(test: str) -> list[str]:
        return sorted(i[len(test) + 1 : -1] for i in ids if i.startswith(test + "["))

    assert params("test_library_design_matches_icarus") == sorted(EXPECTED_DESIGNS)
    assert params("test_fixture_matches_icarus") == sorted(VALID_FIXTURES)


# -- the netlist generator -----------------------------------------------------------------------


def test_generated_netlists_are_up_to_date():
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"generate.py --check reports stale files:\n{result.stdout}{result.stderr}"
    assert result.stdout == ""


def test_generator_check_reports_a_stale_file_without_writing(tmp_path):
    """--check on a copy of the tree with one generated file edited: exit 1, the file named, left as is."""
    shutil.copytree(GENERATOR.parent, tmp_path / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPOSITORY / "rtl", tmp_path / "rtl", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        FIXTURES.parent, tmp_path / "tests" / "fixtures", ignore=shutil.ignore_patterns("__pycache__")
    )
    stale = tmp_path / "rtl" / "mul8u_cmp42.v"
    edited = stale.read_text().replace("assign sum = (x1 ^ x2) | (x3 ^ x4);", "assign sum = x1 ^ x2;")
    assert edited != stale.read_text()
    stale.write_text(edited)
    result = subprocess.run(
        [sys.executable, str(tmp_path / "scripts" / "generate_rtl.py"), "--check"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout == "rtl/mul8u_cmp42.v: differs\n"
    assert stale.read_text() == edited
