"""The ground floor: what both stages, the consumer and the command line share.

The artifact model (:mod:`.artifact`), its HDF5 file format (:mod:`.artifact_file`) and the
gate every read of one passes (:mod:`.artifact_gate`),
error types, operand axes, error metrics, the built-in design manifest, atomic
writes, progress reporting, the executor of many-job runs and the version. It
imports no stage and no command line.
"""
