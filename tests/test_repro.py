import numpy as np
import pytest
import torch

from utils import repro


def test_same_seed_same_numbers():
    repro.seed_everything(3)
    a = (torch.rand(3), np.random.rand(3))
    repro.seed_everything(3)
    b = (torch.rand(3), np.random.rand(3))
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    repro.seed_everything(4)
    assert not torch.equal(a[0], torch.rand(3))


def test_generator_is_seeded():
    g1, g2 = repro.seed_everything(7), repro.seed_everything(7)
    assert torch.equal(torch.randperm(10, generator=g1), torch.randperm(10, generator=g2))


def test_bad_seed_is_rejected():
    with pytest.raises(ValueError, match="non-negative int"):
        repro.seed_everything(-1)


def test_device_and_name():
    dev = repro.device()
    assert dev.type in {"cpu", "cuda", "mps"}
    assert isinstance(repro.device_name(), str) and repro.device_name()
