import numpy as np
import pytest
import torch

from utils import repro


def test_same_purpose_same_numbers():
    repro.seed_everything("a")
    a = (torch.rand(3), np.random.rand(3))
    repro.seed_everything("a")
    b = (torch.rand(3), np.random.rand(3))
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    repro.seed_everything("b")
    assert not torch.equal(a[0], torch.rand(3))


def test_generators_are_seeded_by_purpose():
    g1, g2 = repro.seed_everything("x"), repro.generator("x")
    assert torch.equal(torch.randperm(10, generator=g1), torch.randperm(10, generator=g2))
    assert repro.rng("x").integers(1 << 30) == repro.rng("x").integers(1 << 30)


def test_seeds_depend_on_book_seed_chapter_and_purpose(monkeypatch):
    monkeypatch.setattr(repro, "_chapter", "01_foundations/03_seeds_and_variance")
    sweeps = {}
    for book_seed in range(5):
        monkeypatch.setenv("BOOK_SEED", str(book_seed))
        sweeps[book_seed] = {repro.seed(f"run {i}") for i in range(16)}
        assert len(sweeps[book_seed]) == 16
    for a in sweeps:
        for b in sweeps:
            if a < b:
                assert not sweeps[a] & sweeps[b], "two values of BOOK_SEED share a seed"
    monkeypatch.setenv("BOOK_SEED", "0")
    first = repro.seed("run 0")
    monkeypatch.setattr(repro, "_chapter", "02_milestones/09_batchnorm")
    assert repro.seed("run 0") != first


def test_book_seed_defaults_to_zero_and_is_validated(monkeypatch):
    monkeypatch.delenv("BOOK_SEED", raising=False)
    assert repro.book_seed() == 0
    monkeypatch.setenv("BOOK_SEED", "-1")
    with pytest.raises(ValueError, match="non-negative integer"):
        repro.book_seed()


def test_a_seed_is_named_not_typed():
    with pytest.raises(TypeError, match="purpose"):
        repro.seed_everything(0)


def test_threads_follow_the_environment(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    before, pools = torch.get_num_threads(), threadpool_limits(limits=None)
    try:
        monkeypatch.setenv("BOOK_THREADS", "1")
        assert repro.set_threads(2) == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())    # BLAS and OpenMP capped too
        monkeypatch.setenv("BOOK_THREADS", "zero")
        with pytest.raises(ValueError, match="positive integer"):
            repro.set_threads()
    finally:
        torch.set_num_threads(before)
        pools.restore_original_limits()


def test_device_and_name():
    dev = repro.device()
    assert dev.type in {"cpu", "cuda", "mps"}
    assert isinstance(repro.device_name(), str) and repro.device_name()
