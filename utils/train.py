"""A plain training loop: ``fit`` returns a :class:`History`, ``evaluate`` a loss and an accuracy.

The loop is what you would write by hand — forward, loss, backward, step — plus a
progress bar and a record of the curves. Data are tensors (a :class:`utils.data.Split`);
batches come from :func:`utils.data.batches`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from utils.data import Split, batches

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class History:
    """Curves of one training run, one entry per evaluation (``epoch`` may be fractional)."""

    epoch: list[float] = field(default_factory=list)
    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)

    def first_epoch(self, metric: str, target: float, higher_is_better: bool = True) -> float:
        """First (fractional) epoch at which ``metric`` reached ``target``; ``inf`` if never."""
        values = getattr(self, metric)
        for epoch, value in zip(self.epoch, values):
            if (value >= target) if higher_is_better else (value <= target):
                return epoch
        return float("inf")

    @property
    def final(self) -> dict[str, float]:
        """The last value of every non-empty curve."""
        names = ("train_loss", "train_acc", "test_loss", "test_acc")
        return {n: getattr(self, n)[-1] for n in names if getattr(self, n)}


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
             loss_fn: LossFn = nn.functional.cross_entropy, batch_size: int = 1000) -> tuple[float, float]:
    """Mean loss and accuracy of a classifier over ``(x, y)``, in eval mode (dropout off)."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    for xb, yb in batches(x, y, batch_size, shuffle=False):
        logits = model(xb)
        total_loss += loss_fn(logits, yb).item() * len(xb)
        correct += (logits.argmax(dim=1) == yb).sum().item()
    model.train(was_training)
    return total_loss / len(x), correct / len(x)


def fit(model: nn.Module, data: Split, *, epochs: int, optimizer: torch.optim.Optimizer,
        loss_fn: LossFn = nn.functional.cross_entropy, batch_size: int = 64,
        evals_per_epoch: int = 1, generator: torch.Generator | None = None,
        progress: bool = True, desc: str = "training") -> History:
    """Train ``model`` on ``data.x_train`` for ``epochs`` epochs and return its :class:`History`.

    Train and test loss and accuracy are measured ``evals_per_epoch`` times per epoch
    (in eval mode, on the whole set), so curves can be read at fractional epochs.
    """
    if epochs <= 0 or evals_per_epoch <= 0:
        raise ValueError(f"epochs and evals_per_epoch must be positive, got {epochs}, {evals_per_epoch}")
    n = len(data.x_train)
    steps_per_epoch = -(-n // batch_size)
    eval_after = {max(1, k * steps_per_epoch // evals_per_epoch) for k in range(1, evals_per_epoch + 1)}
    history = History()
    step = 0
    model.train()
    bar = tqdm(range(epochs), desc=desc, disable=not progress, leave=False)
    for _ in bar:
        for i, (xb, yb) in enumerate(batches(data.x_train, data.y_train, batch_size, generator=generator)):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            step += 1
            if i + 1 in eval_after:
                _record(history, model, data, loss_fn, step, step / steps_per_epoch)
        history.epoch[-1] = round(history.epoch[-1])  # the last evaluation of an epoch sits on it
        bar.set_postfix(train_acc=f"{history.train_acc[-1]:.3f}", test_acc=f"{history.test_acc[-1]:.3f}")
    return history


def _record(history: History, model: nn.Module, data: Split, loss_fn: LossFn, step: int, epoch: float) -> None:
    train_loss, train_acc = evaluate(model, data.x_train, data.y_train, loss_fn)
    test_loss, test_acc = evaluate(model, data.x_test, data.y_test, loss_fn)
    history.epoch.append(epoch)
    history.step.append(step)
    history.train_loss.append(train_loss)
    history.train_acc.append(train_acc)
    history.test_loss.append(test_loss)
    history.test_acc.append(test_acc)
