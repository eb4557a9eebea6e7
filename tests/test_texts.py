import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from utils import data, texts


def test_texts_are_real_english():
    news = texts.load("news")
    assert len(news) > 300_000 and "the" in news.split()[:200]
    assert len(texts.load("wikipedia")) > 2_000_000
    with pytest.raises(ValueError, match="wikipedia, news, shakespeare"):
        texts.load("klingon")


def test_missing_gensim_gives_a_clear_error(hide_package):
    hide_package("gensim")
    with pytest.raises(data.DataUnavailable, match="pip install gensim"):
        texts.load("news")


def test_online_text_is_downloaded_once_into_the_cache(tmp_path, monkeypatch):
    source = tmp_path / "shakespeare.txt"
    source.write_text("First Citizen:\nBefore we proceed any further, hear me speak.\n", encoding="utf-8")
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setitem(texts.ONLINE_TEXTS, "shakespeare", source.as_uri())
    assert texts.load("shakespeare").startswith("First Citizen")
    source.unlink()                                               # the second call reads the cache
    assert texts.load("shakespeare").startswith("First Citizen")
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "empty"))
    with pytest.raises(data.DataUnavailable, match="needs the network once"):
        texts.load("shakespeare")


def test_char_corpus_round_trips_and_splits_in_order():
    corpus = texts.char_corpus("hello world, " * 20, test_fraction=0.25)
    assert corpus.vocab == sorted(set("hello world, "))
    assert len(corpus.test) == 65 and len(corpus.train) == 195
    assert corpus.decode(corpus.train[:11]) == "hello world"
    assert torch.equal(corpus.encode("world"), corpus.train[6:11])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        corpus.encode("HELLO")
    with pytest.raises(ValueError, match="only 5 characters"):
        texts.char_corpus("hello")


def test_windows_are_shifted_by_one():
    ids = torch.arange(100)
    x, y = texts.windows(ids, block=8, batch_size=5, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8)
    assert torch.equal(y, x + 1)
    assert torch.equal(x[:, 1:] - x[:, :-1], torch.ones(5, 7, dtype=torch.long))
    with pytest.raises(ValueError, match="needs more than 100"):
        texts.windows(ids, block=100, batch_size=1)
    with pytest.raises(ValueError, match="one-dimensional"):
        texts.windows(ids.view(10, 10), block=4, batch_size=1)


def test_offline_sentiment_is_balanced_labelled_text():
    sentences, labels = texts.read_sentiment_tsv(texts.SENTIMENT_FILE)
    assert len(sentences) == 5000 and np.bincount(labels).tolist() == [2500, 2500]
    assert len({t.casefold() for t in sentences}) == 5000                        # de-duplicated
    assert all(t and t == " ".join(t.split()) for t in sentences)                # cleaned white space
    split = texts.sentiment("offline")
    assert split.name == "rotten-tomatoes" and len(split.x_train) == len(split.x_test) == 2500
    assert torch.bincount(split.y_train).tolist() == torch.bincount(split.y_test).tolist() == [1250, 1250]
    assert split.y_train.dtype == torch.int64 and set(split.y_test.tolist()) == {0, 1}
    assert split.classes == ("negative", "positive") and "2500 texts" in repr(split)
    assert not set(split.x_train) & set(split.x_test)                # no sentence in both
    assert len(set(split.y_test[:50].tolist())) == 2                           # shuffled, not sorted by label
    assert "Campanella gets the tone just right" in " ".join(split.x_train + split.x_test)


def test_offline_sentiment_sizes_keep_the_test_set_and_the_balance():
    small = texts.sentiment("offline", n_train=301, n_test=1000, seed=7)
    large = texts.sentiment("offline", n_train=800, n_test=1000, seed=7)
    assert len(small.x_train) == 301 and len(small.x_test) == 1000
    assert sorted(torch.bincount(small.y_train).tolist()) == [150, 151]
    assert torch.bincount(small.y_test).tolist() == [500, 500]
    assert small.x_test == large.x_test                               # the test set ignores n_train
    assert set(small.x_train) < set(large.x_train)                    # nested training sets
    assert not set(large.x_train) & set(large.x_test)
    assert len(texts.sentiment("offline", n_train=20_000, seed=7).x_train) == 2500     # a cap: all there is
    with pytest.raises(ValueError, match="n_test must leave training sentences"):
        texts.sentiment("offline", n_test=5000, seed=7)
    with pytest.raises(ValueError, match="need at least 1"):
        texts.sentiment("offline", n_train=0, seed=7)


def test_offline_sentiment_split_follows_book_seed(monkeypatch):
    monkeypatch.setenv("BOOK_SEED", "0")
    a = texts.sentiment("offline", n_train=300, n_test=1000)
    assert a.x_test == texts.sentiment("offline", n_train=300, n_test=1000).x_test   # deterministic
    monkeypatch.setenv("BOOK_SEED", "1")
    b = texts.sentiment("offline", n_train=300, n_test=1000)
    assert set(a.x_test) != set(b.x_test) and set(a.x_train) != set(b.x_train)
    assert torch.bincount(b.y_test).tolist() == [500, 500]


def test_sentiment_file_ships_as_package_data():
    import tomllib

    pyproject = tomllib.loads((Path(texts.__file__).parent.parent / "pyproject.toml").read_text())
    assert "corpora/*" in pyproject["tool"]["setuptools"]["package-data"]["utils"]
    assert texts.SENTIMENT_FILE.parent.name == "corpora" and (texts.SENTIMENT_FILE.parent / "SOURCES.md").is_file()


def test_sentiment_tsv_is_read_and_validated(tmp_path):
    good = tmp_path / "good.tsv.gz"
    with gzip.open(good, "wt", encoding="utf-8") as out:
        out.write("1\ta gem — of a film\n\n0\ta mess\n")
    assert texts.read_sentiment_tsv(good) == (["a gem — of a film", "a mess"], [1, 0])
    bad = tmp_path / "bad.tsv"
    bad.write_text("1\tgood film\npositive\tgood film\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.tsv:2"):
        texts.read_sentiment_tsv(bad)
    bad.write_text("0 no tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.tsv:1: expected"):
        texts.read_sentiment_tsv(bad)


def test_missing_sentiment_file_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(texts, "SENTIMENT_FILE", tmp_path / "gone.tsv.gz")
    with pytest.raises(data.DataUnavailable, match="make_sentiment_data.py"):
        texts.sentiment("offline")


def test_sst2_conversion_on_local_data_and_offline_fallback(monkeypatch):
    import datasets

    train = datasets.Dataset.from_dict({"sentence": ["a gem", "a mess"], "label": [1, 0]})
    split = texts.hf_texts_to_split(train, train, name="tiny-sst2")
    assert split.x_train == ["a gem", "a mess"] and split.y_test.tolist() == [1, 0]
    monkeypatch.setenv("BOOK_BUDGET", "full")
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("offline")))
    with pytest.warns(UserWarning, match="Falling back to the 5,000 offline Rotten Tomatoes snippets"):
        assert texts.sentiment().name == "rotten-tomatoes"
    with pytest.raises(ValueError, match="auto, offline, huggingface"):
        texts.sentiment("imdb")


def test_sst2_subsets_are_stratified(monkeypatch):
    import datasets

    train = datasets.Dataset.from_dict({"sentence": [f"s{i}" for i in range(40)], "label": [i % 2 for i in range(40)]})
    test = datasets.Dataset.from_dict({"sentence": [f"t{i}" for i in range(10)], "label": [i % 2 for i in range(10)]})
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: {"train": train, "validation": test})
    split = texts.sentiment("huggingface", n_train=10, n_test=100, seed=3)
    assert split.name == "sst2" and len(split.x_train) == 10 and len(split.x_test) == 10   # caps
    assert torch.bincount(split.y_train).tolist() == [5, 5]
    assert all(int(t[1:]) % 2 == y for t, y in zip(split.x_train, split.y_train.tolist()))   # rows stay paired
