"""Bad input and misuse, verb by verb: one clear line, a non-zero exit, nothing lost.

Every case runs the real entry point (:func:`appmult.cli.main`) and checks
the exit status (1 for bad input), that stderr is one ``error: ...`` line
naming the cause (no traceback), that an artifact already at the output is
byte for byte as it was, and that no half-written temporary file is left.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from appmult.cli import main
from appmult.core.artifact import Artifact
from appmult.core.artifact_file import save
from appmult.core.operands import operand_values
from appmult.lutgen import gradient_tables
from appmult.lutgen.methods import GradientParameters
from tests.conftest import FIXTURES


def _artifact(
    width_a: int, width_b: int, signed: bool = False, *, name: str = "m", lut: bool = True
) -> Artifact:
    a = operand_values(width_a, signed).astype(np.int64)
    b = operand_values(width_b, signed).astype(np.int64)
    art = Artifact(
        name=name, top=name, width_a=width_a, width_b=width_b, width_out=width_a + width_b,
        signed_a=signed, signed_b=signed, product=np.outer(a, b) & ~np.int64(3),
    )  # fmt: skip
    if lut and min(width_a, width_b) > 2:
        art.gradients.update(gradient_tables(art, parameters=GradientParameters(hws_a=1, hws_b=1)))
    return art


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Artifacts and tables the cases read, made once (read-only for the cases)."""
    root = tmp_path_factory.mktemp("inputs")
    made = {
        "u8": save(_artifact(8, 8), root / "u8.h5"),
        "s8": save(_artifact(8, 8, True, name="s8"), root / "s8.h5"),
        "u7": save(_artifact(7, 7, name="u7"), root / "u7.h5"),
        "u5": save(_artifact(5, 5, name="u5"), root / "u5.h5"),
        "u8x2": save(_artifact(8, 2, name="u8x2", lut=False), root / "u8x2.h5"),
        "u12": save(_artifact(12, 12, name="u12", lut=False), root / "u12.h5"),
        "bare": save(_artifact(8, 8, name="bare", lut=False), root / "bare.h5"),
        "text": root / "table.txt",
        "foreign": root / "foreign.h5",
        "newer": root / "newer.h5",
        "corrupt": root / "corrupt.h5",
        "negative": root / "negative.npy",
        "flat-images": root / "flat.npz",
    }
    np.savez(made["flat-images"], x=np.zeros((20, 5, 7), dtype=np.uint8), y=np.arange(20) % 2)
    made["text"].write_text("LUT for approximate multiplier:\n0 0 0\n")
    with h5py.File(made["foreign"], "w") as h5:
        h5.attrs["format"] = "someone-else"
    shutil.copy(made["u8"], made["newer"])
    with h5py.File(made["newer"], "a") as h5:
        h5.attrs["format_version"] = 99
    shutil.copy(made["u8"], made["corrupt"])
    with h5py.File(made["corrupt"], "a") as h5:
        del h5["product"]
    np.save(made["negative"], -np.ones((256, 256), dtype=np.int32))
    return made


N = str(FIXTURES)
# name -> (arguments; {FILE} is an input of `files`, {OUT} the case's output folder, {KEEP} an
# artifact there that must stay byte for byte as it was), expected message
CASES = {
    # characterize
    "missing-file": (["characterize", "{OUT}/nope.v"], r"nope.v: no such Verilog file"),
    "syntax": (["characterize", f"{N}/bad_syntax.v"], r"bad_syntax.v:5: .*syntax error"),
    "two-tops": (["characterize", f"{N}/bad_two_tops.v"], r"cannot tell the top module .*--top"),
    "no-such-top": (["characterize", f"{N}/ansi_exact4.v", "--top", "nope"], r"top module 'nope' not found"),
    "three-inputs": (["characterize", f"{N}/bad_three_inputs.v"], r"exactly two inputs"),
    "two-outputs": (["characterize", f"{N}/bad_two_outputs.v"], r"exactly two inputs .*and one output"),
    "too-wide": (
        ["characterize", f"{N}/wide17.v"],
        r"operand a .*17 bits wide; the tool characterizes operands of 2..16",
    ),
    "one-bit": (["characterize", "{OUT}/one.v"], r"1 bit wide; the tool tabulates operands of 2..12 bits"),
    "empty-file": (["characterize", "{OUT}/empty.v"], r"empty.v: holds no module definition"),
    "directory": (["characterize", N], r"is a directory; pass --batch"),
    "missing-cell": (
        ["characterize", f"{N}/two_files_top.v"],
        r"instantiates cell_\w+, which none of the given",
    ),
    "x-output": (["characterize", f"{N}/bad_xout.v", "--backend", "icarus"], r"X or Z bits for a=3, b=5"),
    "never-settles": (
        ["characterize", f"{N}/bad_loop.v", "--backend", "icarus", "--timeout", "3"],
        r"did not finish within 3 s",
    ),
    "system-task": (["characterize", "{OUT}/hostile.v"], r"\$fopen .*--trust-netlist"),
    "library-with-top": (["characterize", "--library", "--top", "x"], r"--library takes no SOURCES"),
    "unknown-design": (["characterize", "--library", "--design", "nope"], r"no built-in design named 'nope'"),
    "output-dir-missing": (
        ["characterize", f"{N}/ansi_exact4.v", "-o", "{OUT}/no/x.h5"],
        r"-o \S+/no/x.h5: directory \S+ does not exist",
    ),
    "batch-output-is-file": (
        ["characterize", "--batch", N, "-o", "{OUT}/keep.h5"],
        r"is a file, expected a directory",
    ),
    "batch-output-under-file": (
        ["characterize", "--batch", N, "-o", "{OUT}/keep.h5/sub"],
        r"cannot create this directory",
    ),
    "jobs-zero": (
        ["characterize", "--batch", N, "-o", "{OUT}/o", "-j", "0"],
        r"-j/--jobs must be at least 1",
    ),
    "scheduler-bogus": (
        ["characterize", f"{N}/ansi_exact4.v", "--scheduler", "carrier-pigeon"],
        r"--scheduler 'carrier-pigeon': expected processes",
    ),
    # lutgen
    "lutgen-missing": (["lutgen", "{OUT}/nope.h5"], r"nope.h5: no such artifact file"),
    "lutgen-not-hdf5": (["lutgen", "{text}"], r"table.txt: not a readable HDF5 file"),
    "lutgen-foreign": (["lutgen", "{foreign}"], r"not an appmult artifact"),
    "lutgen-newer": (["lutgen", "{newer}"], r"format version 99.*upgrade appmult"),
    "lutgen-corrupt": (["lutgen", "{corrupt}"], r"corrupt artifact, missing product"),
    "lutgen-hws": (["lutgen", "{u8}", "--hws", "200"], r"hws_a=200 is out of range for operand a"),
    "lutgen-2-bit": (["lutgen", "{u8x2}"], r"operand b has only N=4 values"),
    "lutgen-auto-untuned": (["lutgen", "{u8}", "--hws", "auto"], r"no tuning record; run appmult tune-hws"),
    "lutgen-method": (["lutgen", "{u8}", "--methods", "lut3d"], r"unknown gradient method\(s\) lut3d"),
    "lutgen-rank": (["lutgen", "{u8}", "--lut1d-rank", "9"], r"LUT-1D rank 9 is out of range"),
    # export
    "export-12-bit": (["export", "{u12}", "--to", "transaxx", "-o", "{OUT}/u12.h"], r"pass --corner"),
    "export-12-bit-sm": (
        ["export", "{u12}", "--to", "transaxx", "--sign-magnitude", "-o", "{OUT}/u12.h"],
        r"--sign-magnitude of a 12x12-bit multiplier .*add --corner",
    ),
    "export-12-bit-approxflow": (
        ["export", "{u12}", "--to", "approxflow", "-o", "{OUT}/f.txt"],
        r"pass --corner",
    ),
    "export-signed-tfapprox": (
        ["export", "{s8}", "--to", "tfapprox", "-o", "{OUT}/s.bin"],
        r"export a signed",
    ),
    "export-7-bit-tfapprox": (
        ["export", "{u7}", "--to", "tfapprox", "-o", "{OUT}/u.bin"],
        r"embed narrower tables",
    ),
    "export-12-bit-tfapprox": (
        ["export", "{u12}", "--to", "tfapprox", "-o", "{OUT}/u.bin"],
        r"--corner to write its",
    ),
    "export-amr-width": (["export", "{u5}", "--to", "amr", "-o", "{OUT}/a.txt"], r"n in 4, 6, 7, 8"),
    "export-no-group": (
        ["export", "{bare}", "--to", "amr", "-o", "{OUT}/a.txt"],
        r"run `appmult lutgen` on it",
    ),
    "export-identifier": (
        ["export", "{s8}", "--to", "transaxx", "-o", "{OUT}/9-lives.h"],
        r"must be a C identifier",
    ),
    "export-lre-separable": (
        ["export", "{u8}", "--to", "approxtorch", "--approxtorch-grad", "lre", "-o", "{OUT}/t.txt"],
        r"depends on both operands; export it with --approxtorch-grad custom",
    ),
    "export-option": (
        ["export", "{u8}", "--to", "npz", "--transpose", "-o", "{OUT}/t.npz"],
        r"npz does not take",
    ),
    "export-dir-missing": (["export", "{u8}", "--to", "npz", "-o", "{OUT}/no/t.npz"], r"does not exist"),
    # import
    "import-text-as-npy": (
        ["import", "{text}", "--format", "npy", "--width-a", "8", "--width-b", "8", "-o", "{OUT}/i.h5"],
        r"not a .npy file .*give the --format",
    ),
    "import-tfapprox-7-bit": (
        ["import", "{u8}", "--format", "tfapprox", "--width-a", "7", "--width-b", "7", "-o", "{OUT}/i.h5"],
        r"import it with --width-a 8 --width-b 8",
    ),
    "import-negative-unsigned": (
        ["import", "{negative}", "--format", "npy", "--width-a", "8", "--width-b", "8", "-o", "{OUT}/i.h5"],
        r"negative products .*pass --signed",
    ),
    "import-width": (
        ["import", "{negative}", "--format", "npy", "--width-a", "1", "--width-b", "8", "-o", "{OUT}/i.h5"],
        r"1 bit wide",
    ),
    # report, info, verify
    "report-output-file": (["report", "{u8}", "-o", "{OUT}/keep.h5"], r"is a file, expected a directory"),
    "report-missing": (["report", "{OUT}/nope.h5"], r"no such artifact file"),
    "info-not-hdf5": (["info", "{text}"], r"not a readable HDF5 file"),
    "verify-model-unknown": (
        ["verify", f"{N}/ansi_exact4.v", "--against", "model"],
        r"not a built-in design",
    ),
    "verify-self": (
        ["verify", f"{N}/ansi_exact4.v", "--against", "icarus", "--backend", "icarus"],
        r"compares a simulation with itself",
    ),
    "verify-against-bogus": (
        ["verify", f"{N}/ansi_exact4.v", "--against", "ref.txt"],
        r"artifact file ending in .h5",
    ),
    # tune-hws and retrain-demo (need PyTorch): every check before any training
    "tune-grid-width": (
        ["tune-hws", "{KEEP}", "--grid", "1,8"],
        r"hws_a=8 is out of range .*1 <= hws_a <= 6",
    ),
    "tune-grid-zero": (["tune-hws", "{KEEP}", "--grid", "0"], r"hws_a=0 is out of range"),
    "tune-seeds": (["tune-hws", "{KEEP}", "--seeds", "0"], r"seeds must be at least 1, got 0"),
    "tune-ranges": (["tune-hws", "{KEEP}", "--ranges", "sliding"], r"unknown range policy 'sliding'"),
    "tune-data-missing": (["tune-hws", "{KEEP}", "--data", "{OUT}/nope.npz"], r"nope.npz: no such data set"),
    "tune-data-shape": (
        ["tune-hws", "{KEEP}", "--data", "{flat-images}"],
        r"H = W, got shape \(20, 1, 5, 7\)",
    ),
    "tune-no-product": (["tune-hws", "{corrupt}"], r"corrupt artifact, missing product"),
    "tune-epochs": (["tune-hws", "{KEEP}", "--epochs", "0"], r"epochs must be at least 1, got 0"),
    "demo-rank": (
        ["retrain-demo", "--multipliers", "{KEEP}", "--kinds", "lut1d:separable:9", "-o", "{OUT}/demo"],
        r"LUT-1D rank 9 is out of range",
    ),
    "demo-hws": (
        ["retrain-demo", "--multipliers", "{KEEP}", "--hws", "7", "-o", "{OUT}/demo"],
        r"hws_a=7 is out of range",
    ),
    "demo-hws-auto": (
        ["retrain-demo", "--multipliers", "{KEEP}", "--hws", "auto", "-o", "{OUT}/demo"],
        r"no tuning record; run appmult tune-hws",
    ),
    "demo-kind": (["retrain-demo", "--kinds", "lut3d", "-o", "{OUT}/demo"], r"gradient kind 'lut3d'"),
    "demo-multiplier": (
        ["retrain-demo", "--multipliers", "nope", "-o", "{OUT}/demo"],
        r"--multipliers nope: neither a built-in design",
    ),
    "demo-network": (
        ["retrain-demo", "--network", "resnet", "-o", "{OUT}/demo"],
        r"unknown network 'resnet'",
    ),
    "demo-layers": (["retrain-demo", "--layers", "pool", "-o", "{OUT}/demo"], r"layers pool: choose one"),
    "demo-ranges": (
        ["retrain-demo", "--multipliers", "{KEEP}", "--ranges", "frozen,sideways", "-o", "{OUT}/demo"],
        r"unknown range policy 'sideways'; choose one of frozen, moving, observer$",
    ),
    "demo-no-multiplier": (
        ["retrain-demo", "--multipliers", ",", "-o", "{OUT}/demo"],
        r"no multiplier given$",
    ),
    "demo-data-list": (
        ["retrain-demo", "--multipliers", "{KEEP}", "--data", "digits,{OUT}/none", "-o", "{OUT}/demo"],
        r"none: no such data set",
    ),
    "demo-data-missing": (
        ["retrain-demo", "--multipliers", "{KEEP}", "--data", "{OUT}/none", "-o", "{OUT}/demo"],
        r"none: no such data set",
    ),
    "demo-output-file": (["retrain-demo", "-o", "{OUT}/keep.h5"], r"is a file, expected a directory"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_and_loses_nothing(tmp_path, capsys, files, name):
    args, pattern = CASES[name]
    (tmp_path / "one.v").write_text(
        "module one(input A, input [7:0] B, output [8:0] O);\n assign O = A * B;\nendmodule\n"
    )
    (tmp_path / "empty.v").write_text("")
    (tmp_path / "hostile.v").write_text(
        "module h(input [3:0] A, B, output [7:0] O);\n  integer f;\n"
        f'  initial f = $fopen("{tmp_path}/canary", "w");\n  assign O = A * B;\nendmodule\n'
    )
    if args[0] in ("tune-hws", "retrain-demo"):
        pytest.importorskip("torch")
    keep = save(_artifact(4, 4, name="keep"), tmp_path / "keep.h5")
    before = keep.read_bytes()
    fill = {"OUT": str(tmp_path), "KEEP": str(keep), **{key: str(path) for key, path in files.items()}}
    argv = [re.sub(r"\{([\w-]+)\}", lambda m: fill[m.group(1)], arg) for arg in args]
    argv += ["-q"] if argv[0] != "info" else []  # info prints nothing on stderr to quiet
    try:
        main(argv)
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in out + err
    assert re.search(pattern, lines[0]), lines[0]
    assert keep.read_bytes() == before
    assert not list(tmp_path.rglob(".*.tmp")) and not (tmp_path / "canary").exists()
    assert not (tmp_path / "demo").exists()


def test_the_corpus_is_at_least_forty_cases():
    assert len(CASES) >= 40
