"""Reproducibility: seed every generator, deterministic kernels, pick a device."""
from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int = 0, deterministic: bool = True) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and CUDA); return a seeded ``torch.Generator``.

    With ``deterministic=True`` PyTorch is asked for deterministic kernels
    (``warn_only`` so an operation without one warns instead of failing).
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


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
    return f"cpu ({torch.get_num_threads()} threads)"
