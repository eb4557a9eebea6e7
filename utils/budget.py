"""One switch for the scale of every experiment: ``smoke``, ``standard`` or ``full``.

``smoke`` is what CI runs (seconds per notebook on two CPU cores), ``standard``
a laptop CPU (a few minutes), ``full`` a GPU at a scale closer to the papers.
The budget comes from the environment variable ``BOOK_BUDGET``; without it the
default is ``full`` when CUDA is available and ``standard`` otherwise.

A chapter declares its sizes once::

    cfg = budget.pick(smoke=dict(epochs=2), standard=dict(epochs=10), full=dict(epochs=30))
"""
from __future__ import annotations

import os
from typing import TypeVar

BUDGETS = ("smoke", "standard", "full")
ENV_VAR = "BOOK_BUDGET"

T = TypeVar("T")


class UnknownBudget(ValueError):
    """Raised when ``BOOK_BUDGET`` (or an argument) names no known budget."""


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def validate(name: str) -> str:
    """Return ``name`` lower-cased if it is a known budget, else raise :class:`UnknownBudget`."""
    clean = name.strip().lower()
    if clean not in BUDGETS:
        raise UnknownBudget(
            f"unknown budget {name!r}: choose one of {', '.join(BUDGETS)} "
            f"(set it with the environment variable {ENV_VAR}, e.g. {ENV_VAR}=smoke)"
        )
    return clean


def current() -> str:
    """The budget in force: ``$BOOK_BUDGET`` if set, else ``full`` with CUDA, else ``standard``."""
    name = os.environ.get(ENV_VAR, "").strip()
    if name:
        return validate(name)
    return "full" if _cuda_available() else "standard"


def pick(*, smoke: T, standard: T, full: T, budget: str | None = None) -> T:
    """Return the value given for the current budget (or for ``budget`` when given).

    A value that is the same at every budget is not a choice of budget: pass it plainly instead.
    """
    if smoke == standard == full:
        raise ValueError(f"budget.pick got the same value for every budget ({smoke!r}): use it directly")
    name = validate(budget) if budget is not None else current()
    return {"smoke": smoke, "standard": standard, "full": full}[name]
