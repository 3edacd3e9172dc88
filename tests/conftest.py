"""Shared fixtures: fixture netlists, and artifacts characterized once per session."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from appmult.core.artifact import Artifact

FIXTURES = Path(__file__).parent / "fixtures" / "netlists"

_CACHE: dict[tuple, Artifact] = {}


@pytest.fixture(scope="session")
def characterized() -> Callable[..., Artifact]:
    """``characterized(paths, backend="icarus", **options)`` -> Artifact, simulated once per session.

    Keyed by the sources' content hash and the options; each call returns a
    deep copy, so a test may modify what it gets.
    """
    from appmult.characterize import characterize

    def build(paths, backend: str = "icarus", **options) -> Artifact:
        paths = tuple(Path(p) for p in paths)
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()
        key = (paths, digest, backend, tuple(sorted(options.items())))
        if key not in _CACHE:
            _CACHE[key] = characterize(paths, backend=backend, **options)
        return copy.deepcopy(_CACHE[key])

    return build
