"""Shared helpers of the book: budgets, seeds, data, training, plots and claims.

Every chapter imports from here, e.g. ``from utils import budget, claims, data``.
Modules depend on each other only downward: ``budget`` and ``repro`` at the
bottom, ``claims`` and ``plot`` above them, ``data``, ``models`` and ``train``
beside them; nothing here imports a notebook's code.
"""
from tqdm import tqdm as _tqdm

__all__ = ["budget", "claims", "data", "models", "plot", "repro", "train"]

# tqdm starts a monitor thread that refreshes idle progress bars from the background; in a kernel
# driven by a notebook executor, output sent from that thread after a cell ends can leave the
# executor waiting forever. Bars still update on every iteration without it.
_tqdm.monitor_interval = 0
