"""The benchmark's memory: finished runs and float starts kept in its output folder, so a rerun skips them.

A long benchmark (a panel of multipliers, kinds, policies and seeds) is many
runs of minutes each. Every run that finishes is recorded at once, keyed by
a SHA-256 digest of everything its result depends on; a later benchmark
with the same inputs takes the recorded result instead of training again.
An interrupted benchmark (Ctrl-C, a failed run, a machine that stopped)
therefore resumes where it stopped, and one that asks for more (another
multiplier, kind, policy or seed) trains only what is new.

What a key covers (:func:`start_key`, :func:`run_key`):

float start
    the tool version, the data set's arrays after pooling (a digest of their
    bytes, so a changed file is a new data set), the seed, and the settings
    that shape float training (network, float epochs, float learning rate,
    batch size, device, threads);
run
    its float start's key, every field of the :class:`~appmult.retrain.runs.Setting`,
    the range policy, the multiplier's product table (widths, signedness and
    every entry) and the gradient kind as the run asks for it (method,
    half-windows, LUT-1D form and rank); for a kind other than STE also what
    may decide its table: the artifact's name and widths (the built-in
    manifest's half-window) and, for a kind that reads them (``auto`` as the
    kind or its half-window, or no half-window given), its tuning record and
    its stored group of that method, if any.

Files in the folder:

``retrain_demo_finished.jsonl``
    one JSON object per finished run, appended as it finishes:
    ``{"key": ..., "inputs": {...}, "result": {...}}`` (``inputs`` says in
    words what the key covers, ``result`` holds the
    :class:`~appmult.retrain.runs.RunResult` fields). A line cut short, or one
    written by a version whose results no longer parse, is ignored and its
    run trained again. Delete the file to train everything again.
``float_starts/seed<S>-<key>.npz``
    one seed's float weights (arrays ``state.<name>``) and ``meta`` (JSON:
    key, seed, accuracy), each written atomically.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from appmult.core.artifact import Artifact
from appmult.core.atomic import replacing
from appmult.core.version import __version__
from appmult.lutgen.half_window import TUNED
from appmult.lutgen.methods import RECOMMENDED, STE
from appmult.retrain.datasets import Dataset
from appmult.retrain.runs import FloatStart, GradientSpec, RunResult, Setting, resolved_spec

__all__ = ["FLOAT_FIELDS", "RUNS_FILE", "STARTS_FOLDER", "RunStore", "data_digest", "run_key", "start_key"]

#: The file of finished runs, in the store's folder.
RUNS_FILE = "retrain_demo_finished.jsonl"

#: The folder of float starts, in the store's folder.
STARTS_FOLDER = "float_starts"

#: The :class:`~appmult.retrain.runs.Setting` fields a float start depends on.
FLOAT_FIELDS = ("network", "float_epochs", "float_lr", "batch_size", "device", "threads")


def _digest(value: object) -> str:
    """SHA-256 of ``value`` written as canonical JSON (sorted keys; tuples as lists)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _arrays_digest(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def data_digest(data: Dataset) -> str:
    """SHA-256 of a data set's four arrays (images after pooling, labels, both splits)."""
    return _arrays_digest(data.train_x, data.train_y, data.test_x, data.test_y)


def start_key(setting: Setting, data: str, seed: int) -> str:
    """The key of a float start: ``data`` is :func:`data_digest` of the data set."""
    float_setting = {name: getattr(setting, name) for name in FLOAT_FIELDS}
    return _digest({"version": __version__, "data": data, "seed": seed, "setting": float_setting})


def _table_inputs(artifact: Artifact, spec: GradientSpec) -> dict[str, object]:
    """What, besides the product table and the spec, may decide the gradient table of ``spec``.

    The tuning record counts only for a run that reads it: ``auto`` as the
    kind (the recommended method) or as a half-window, or a kind given
    without a half-window (which takes the tuned h when there is one); the
    stored group of the method only for a kind given without a half-window
    (which uses the stored table). A kind whose half-windows are given
    (integers, or ``default`` resolved to them) is computed from the product
    table alone, so tuning the artifact or storing tables in it later does
    not make its recorded runs stale.
    """
    if spec.method == STE.name:
        return {}
    method = resolved_spec(artifact, spec).method
    tuning = artifact.tuning if spec.method == RECOMMENDED or spec.hws is None or TUNED in spec.hws else None
    stored = artifact.gradients.get(method) if spec.hws is None else None
    return {
        "name": artifact.name,
        "widths": [artifact.width_a, artifact.width_b],
        "tuning": None if tuning is None else _digest(dataclasses.asdict(tuning)),
        "stored": None
        if stored is None
        else _digest([type(stored).__name__, stored.attrs, _arrays_digest(*stored.rows(0, stored.shape[0]))]),
    }


def _product_digest(artifact: Artifact) -> str:
    header = f"{artifact.width_a},{artifact.width_b},{artifact.signed_a},{artifact.signed_b}"
    return _digest([header, _arrays_digest(artifact.product)])


def run_key(start: str, setting: Setting, artifact: Artifact, spec: GradientSpec, ranges: str) -> str:
    """The key of a retraining run from the float start ``start`` (:func:`start_key`)."""
    return _digest({
        "version": __version__,
        "start": start,
        "setting": dataclasses.asdict(setting),
        "ranges": ranges,
        "product": _product_digest(artifact),
        "kind": dataclasses.asdict(spec),
        "table": _table_inputs(artifact, spec),
    })  # fmt: skip


class RunStore:
    """Finished runs and float starts in ``directory`` (module docstring); created on the first write."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.runs_file = self.directory / RUNS_FILE
        self.starts_folder = self.directory / STARTS_FOLDER
        self._runs: dict[str, RunResult] = {}
        self._ends_cleanly = True
        if self.runs_file.is_file():
            data = self.runs_file.read_bytes()
            self._ends_cleanly = not data or data.endswith(b"\n")
            for line in data.decode(errors="replace").splitlines():
                key, run = _parsed(line)
                if key is not None:
                    self._runs[key] = run

    def __len__(self) -> int:
        return len(self._runs)

    def run(self, key: str) -> RunResult | None:
        """The recorded result of the run ``key``, or None."""
        return self._runs.get(key)

    def add_run(self, key: str, inputs: Mapping[str, object], result: RunResult) -> None:
        """Record a finished run: one line appended with a single write, then flushed to disk."""
        fields = dataclasses.asdict(result)
        line = json.dumps({"key": key, "inputs": dict(inputs), "result": fields}, default=str) + "\n"
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.runs_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, (b"" if self._ends_cleanly else b"\n") + line.encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        self._ends_cleanly = True
        self._runs[key] = result

    def _start_path(self, key: str, seed: int) -> Path:
        return self.starts_folder / f"seed{seed}-{key[:16]}.npz"

    def start(self, key: str, seed: int) -> FloatStart | None:
        """The recorded float start ``key`` of ``seed``, or None (also for a file that does not read back)."""
        path = self._start_path(key, seed)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                meta = json.loads(str(stored["meta"]))
                names = [name for name in stored.files if name.startswith("state.")]
                state = {name.removeprefix("state."): stored[name] for name in names}
        except (OSError, ValueError, KeyError):
            return None
        if meta.get("key") != key:
            return None
        return FloatStart(seed=int(meta["seed"]), state=state, accuracy=float(meta["accuracy"]))

    def add_start(self, key: str, start: FloatStart) -> None:
        """Record a float start (atomically: the file is complete or absent)."""
        self.starts_folder.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"key": key, "seed": start.seed, "accuracy": start.accuracy})
        arrays = {f"state.{name}": value for name, value in start.state.items()}
        with replacing(self._start_path(key, start.seed)) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, meta=np.array(meta), **arrays)


def _parsed(line: str) -> tuple[str | None, RunResult | None]:
    """``(key, result)`` of one line of the runs file; ``(None, None)`` for one that does not parse."""
    try:
        record = json.loads(line)
        known = RunResult.__dataclass_fields__
        fields = {name: value for name, value in record["result"].items() if name in known}
        fields["hws"] = tuple(fields["hws"])
        fields["losses"] = tuple(fields["losses"])
        return str(record["key"]), RunResult(**fields)
    except (ValueError, KeyError, TypeError):
        return None, None
