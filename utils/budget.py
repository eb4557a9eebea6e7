"""One switch for the scale of every experiment: ``smoke``, ``standard`` or ``full``.

``smoke`` is what CI runs (seconds per notebook on two CPU cores), ``standard``
a laptop CPU (a few minutes), ``full`` a GPU at a scale closer to the papers.
The budget comes from the environment variable ``BOOK_BUDGET``; without it the
default is ``full`` when CUDA is available and ``standard`` otherwise.

A chapter declares its sizes once, the values shared by every budget first::

    cfg = budget.config(dict(batch_size=64, width=100),
                        smoke=dict(epochs=2), standard=dict(epochs=10), full=dict(epochs=30))

and a single value that changes with the budget with ``budget.pick(smoke=..., standard=..., full=...)``.
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


class Config(dict):
    """A chapter's sizes at the current budget; shown as one line (``budget 'smoke': epochs=2, ...``)."""

    def __init__(self, values: dict, name: str):
        super().__init__(values)
        self.budget = name

    def __repr__(self) -> str:
        return f"budget {self.budget!r}: " + ", ".join(f"{k}={v!r}" for k, v in self.items())

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))


def config(shared: dict, *, smoke: dict, standard: dict, full: dict, budget: str | None = None) -> Config:
    """``shared`` updated with the overrides of the current budget (or of ``budget``).

    Each budget's overrides name only what differs: a key that ``shared`` already gives the same value,
    or that all three budgets set to one value, is refused (it belongs in ``shared``), and so is a key
    that some budget leaves undefined.
    """
    overrides = {"smoke": smoke, "standard": standard, "full": full}
    for key in set().union(*overrides.values()):
        given = [name for name, values in overrides.items() if key in values]
        if key not in shared and len(given) < 3:
            missing = sorted(set(overrides) - set(given))
            raise ValueError(f"{key!r} has no value at budget {', '.join(missing)}: give it in shared or in every budget")
        redundant = [name for name in given if key in shared and overrides[name][key] == shared[key]]
        if redundant:
            raise ValueError(f"{key!r} at budget {', '.join(redundant)} repeats the shared value {shared[key]!r}")
        if len(given) == 3 and len({repr(overrides[n][key]) for n in given}) == 1:
            raise ValueError(f"{key!r} is {overrides['smoke'][key]!r} at every budget: put it in shared")
    name = validate(budget) if budget is not None else current()
    return Config({**shared, **overrides[name]}, name)
