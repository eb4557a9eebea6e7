"""Reproducibility: one seed switch, seeds derived per purpose, deterministic kernels, the device.

Every seed a chapter uses comes from three things: the reader's ``BOOK_SEED`` (default 0), the
chapter's id (set once by :func:`utils.setup`) and a *purpose* — a short name such as
``"mnist split"`` or ``"plain net, lr 0.1"``. :func:`seed` hashes the three, so two values of
``BOOK_SEED`` share no seed (an additive shift would make seeds 1…16 of one run seeds 0…15 of the
next), and no chapter shares a seed with another. A notebook never types a number as a seed::

    generator = repro.seed_everything("plain net")     # Python, NumPy and torch seeded; a generator back
    rng = repro.rng("bootstrap")                       # a NumPy generator of its own
"""
from __future__ import annotations

import hashlib
import os
import random

import numpy as np
import torch
from threadpoolctl import threadpool_limits

SEED_ENV_VAR = "BOOK_SEED"
THREADS_ENV_VAR = "BOOK_THREADS"

_chapter = ""  # the chapter whose seeds are derived; utils.setup() sets it


def set_chapter(chapter: str) -> None:
    """Derive the seeds of this process for ``chapter`` (called by :func:`utils.setup`)."""
    global _chapter
    _chapter = chapter


def book_seed() -> int:
    """The reader's seed switch: ``$BOOK_SEED`` as a non-negative integer, 0 when unset."""
    text = os.environ.get(SEED_ENV_VAR, "").strip()
    if not text:
        return 0
    if not text.isdigit():
        raise ValueError(f"{SEED_ENV_VAR} must be a non-negative integer, got {text!r}")
    return int(text)


def seed(purpose: str) -> int:
    """The seed of ``purpose`` in the current chapter under ``BOOK_SEED``: a 31-bit hash of the three."""
    if not isinstance(purpose, str) or not purpose:
        raise TypeError(f"a seed is named by its purpose (a non-empty string), got {purpose!r}")
    digest = hashlib.sha256(f"{book_seed()}\0{_chapter}\0{purpose}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFF_FFFF


def generator(purpose: str) -> torch.Generator:
    """A ``torch.Generator`` seeded for ``purpose`` (on the CPU)."""
    return torch.Generator().manual_seed(seed(purpose))


def rng(purpose: str) -> np.random.Generator:
    """A NumPy generator seeded for ``purpose``."""
    return np.random.default_rng(seed(purpose))


def seed_everything(purpose: str, deterministic: bool = True) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) for ``purpose``; return a generator seeded the same way.

    With ``deterministic=True`` PyTorch is asked for deterministic kernels (``warn_only``, so an
    operation without one warns instead of failing).
    """
    value = seed(purpose)
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(value)


def set_threads(threads: int | None = None) -> int:
    """CPU threads for torch: ``$BOOK_THREADS`` if set, else ``threads``, else torch's default; return it.

    A number set either way also caps the native thread pools of NumPy's BLAS and of scikit-learn's OpenMP
    (threadpoolctl), so that one chapter uses that many cores whatever library computes. The test suite and the
    seed sweep run two chapters at once on two cores and set ``BOOK_THREADS=1``.
    """
    text = os.environ.get(THREADS_ENV_VAR, "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"{THREADS_ENV_VAR} must be a positive integer, got {text!r}")
        threads = int(text)
    if threads is not None:
        torch.set_num_threads(threads)
        threadpool_limits(threads)
    return torch.get_num_threads()


def device() -> torch.device:
    """The fastest available device: ``cuda``, then Apple ``mps``, then ``cpu``."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_name() -> str:
    """A short human-readable name of :func:`device`, e.g. ``cpu (2 threads)`` or the GPU's name."""
    dev = device()
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    if dev.type == "mps":
        return "Apple MPS"
    threads = torch.get_num_threads()
    return f"cpu ({threads} thread{'s' if threads > 1 else ''})"
