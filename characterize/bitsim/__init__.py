"""The bit-parallel simulator behind the ``bitsim`` backend.

Pipeline, one module per step: :func:`.elaborate.elaborate` flattens the
parsed modules into a graph of single-bit gates (:mod:`.gates`, with vector
arithmetic in :mod:`.arithmetic` and Verilog's expression rules in
:mod:`.expressions`), :func:`.program.compile_program` resolves and
schedules it, and :func:`.evaluate.evaluate` runs it with numpy over every
operand pair, 64 pairs per ``uint64`` word.
"""
