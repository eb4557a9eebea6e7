"""Shared helpers of the book: budgets, seeds, data, training, plots and claims.

Every chapter imports from here, e.g. ``from utils import budget, claims, data``.
Modules depend on each other only downward: ``budget`` and ``repro`` at the
bottom, ``claims`` and ``plot`` above them, ``data``, ``models`` and ``train``
beside them; nothing here imports a notebook's code.
"""
__all__ = ["budget", "claims", "data", "models", "plot", "repro", "train"]
