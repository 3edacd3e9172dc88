"""The cocotb test that runs inside Icarus's ``vvp`` process (the reference backend).

Loaded by cocotb as the test module of the generated sweep wrapper (see
:mod:`appmult.characterize.backends.icarus`). The wrapper loops over every operand
pair in value order, waits 1 ns for the combinational netlist to settle and
appends the raw 32-bit output word to a file; this test starts the sweep,
waits for it to finish, and checks what it produced: the word count, and that
no output bit was X or Z. Its verdict goes to a JSON file that the backend
reads, because cocotb's runner does not raise on a failed test.

Parameters arrive through the environment: ``APPMULT_SWEEP_OUT`` (raw word
file), ``APPMULT_SWEEP_PAIRS`` (expected word count) and
``APPMULT_SWEEP_VERDICT`` (where to write the verdict).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
from cocotb.triggers import RisingEdge


@cocotb.test()
async def sweep_all_pairs(dut) -> None:
    """Run the generated sweep and check its output file."""
    out = Path(os.environ["APPMULT_SWEEP_OUT"])
    pairs = int(os.environ["APPMULT_SWEEP_PAIRS"])
    verdict_path = Path(os.environ["APPMULT_SWEEP_VERDICT"])

    dut.start.value = 1
    await RisingEdge(dut.done)

    verdict: dict[str, object] = {"pairs": pairs}
    x_count = int(dut.x_count.value)
    words = out.stat().st_size // 4 if out.exists() else 0
    if x_count:
        verdict.update(status="xz", x_count=x_count, a=int(dut.x_a.value), b=int(dut.x_b.value))
    elif words != pairs:
        verdict.update(status="short", words=words)
    else:
        verdict.update(status="ok")
    verdict_path.write_text(json.dumps(verdict))
    assert verdict["status"] == "ok", verdict
