"""The benchmark's data sets: animal-mnist read from its package, and pickles that are refused.

``animal-mnist`` ships two gzip-pickled arrays; a pickle can run code when
it is read, so the loader reads them with an unpickler that builds numpy
arrays and nothing else. The refusal is tested with pickles made here that
would run a command if they were loaded with plain :mod:`pickle`.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from appmult.core.errors import ParameterError
from appmult.retrain.datasets import (
    DATASETS,
    DatasetUnavailable,
    check_data,
    load_data,
    load_dataset,
    read_array_pickle,
)


def _animal_files() -> tuple[Path, Path]:
    spec = importlib.util.find_spec("animal_mnist")
    if spec is None:
        pytest.skip("animal-mnist is not installed (scripts/bootstrap.sh installs it with the demo extra)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / "Animal_MNIST"
    return folder / "animal_data_version_3.gz", folder / "animal_label_version_3.gz"


def test_animal_mnist_loads_ten_balanced_classes_split_80_20() -> None:
    images_file, labels_file = _animal_files()
    with gzip.open(images_file) as handle:  # the package's own file, read the way its loader does
        reference_images = pickle.load(handle)  # noqa: S301 - the installed package's data, as reference
    with gzip.open(labels_file) as handle:
        reference_labels = pickle.load(handle)  # noqa: S301
    full = load_dataset("animal-mnist")
    assert full.train_x.shape == (8000, 1, 28, 28) and full.test_x.shape == (2000, 1, 28, 28)
    assert full.train_x.dtype == np.float32 and full.classes == 10
    assert (
        np.bincount(full.train_y).tolist() == [800] * 10 and np.bincount(full.test_y).tolist() == [200] * 10
    )
    # every image is one of the package's, scaled to [0, 1], and keeps its label
    pixels = {image.tobytes(): label for image, label in zip(reference_images, reference_labels, strict=True)}
    for image, label in zip(full.test_x[:50], full.test_y[:50], strict=True):
        assert pixels[np.rint(image[0] * 255).astype(np.uint8).tobytes()] == label
    pooled = load_data("animal-mnist", pool=2)
    assert pooled.train_x.shape == (8000, 1, 14, 14)
    np.testing.assert_allclose(
        pooled.test_x[0, 0], full.test_x[0, 0].reshape(14, 2, 14, 2).mean(axis=(1, 3)), rtol=1e-6
    )


def test_a_missing_animal_mnist_names_the_pip_command(monkeypatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(
        DatasetUnavailable, match=r"install it with: pip install --no-deps animal-mnist==0\.4$"
    ):
        load_dataset("animal-mnist")


def test_data_sets_are_checked_before_anything_is_read(tmp_path) -> None:
    assert "animal-mnist" in DATASETS
    for name in DATASETS:
        check_data(name)
    with pytest.raises(
        ParameterError, match=r"nowhere\.npz: no such data set \(give digits, mnist, animal-mnist"
    ):
        check_data(str(tmp_path / "nowhere.npz"))


class _Command:
    """Pickles as a call of ``os.system(command)``: loading it with plain pickle runs the command."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):  # noqa: ANN204
        return os.system, (self.command,)


def _gzip_pickle(path: Path, value: object) -> Path:
    with gzip.open(path, "wb") as handle:
        pickle.dump(value, handle)
    return path


def test_a_pickle_that_would_run_a_command_is_refused_and_nothing_runs(tmp_path) -> None:
    marker = tmp_path / "ran"
    hostile = _gzip_pickle(tmp_path / "hostile.gz", _Command(f"touch {marker}"))
    with pytest.raises(ParameterError) as refused:
        read_array_pickle(hostile)
    message = str(refused.value)
    assert message.startswith(f"{hostile}: the pickle asks for {os.system.__module__}.system")
    assert "refused without running it" in message and "\n" not in message
    assert not marker.exists()
    # hidden inside a container next to a real array: refused all the same
    nested = _gzip_pickle(tmp_path / "nested.gz", [np.arange(3), _Command(f"touch {marker}")])
    with pytest.raises(ParameterError, match="asks for"):
        read_array_pickle(nested)
    assert not marker.exists()


def test_only_numeric_arrays_are_read(tmp_path) -> None:
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    np.testing.assert_array_equal(read_array_pickle(_gzip_pickle(tmp_path / "ok.gz", images)), images)
    with pytest.raises(ParameterError, match="holds a numpy array of object, expected numbers"):
        read_array_pickle(_gzip_pickle(tmp_path / "objects.gz", np.array([1, "a"], dtype=object)))
    with pytest.raises(ParameterError, match="holds a dict, expected a numeric numpy array"):
        read_array_pickle(_gzip_pickle(tmp_path / "dict.gz", {"x": 1}))
    (tmp_path / "plain.gz").write_bytes(b"not gzip")
    with pytest.raises(ParameterError, match="not a gzip-compressed pickle of a numpy array"):
        read_array_pickle(tmp_path / "plain.gz")
