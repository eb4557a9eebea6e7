"""A plain training loop: ``fit`` returns a :class:`History`, ``evaluate`` a loss and an accuracy.

The loop is what you would write by hand — forward, loss, backward, step — plus a
progress bar and a record of the curves. Data are tensors (a :class:`utils.data.Split`);
batches come from :func:`utils.data.batches`.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
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


class CheckpointMismatch(ValueError):
    """A checkpoint does not fit the model it is loaded into."""


def fit(model: nn.Module, data: Split, *, epochs: int, optimizer: torch.optim.Optimizer,
        loss_fn: LossFn = nn.functional.cross_entropy, batch_size: int = 64,
        evals_per_epoch: int = 1, generator: torch.Generator | None = None,
        progress: bool = True, desc: str = "training", checkpoint: str | Path | None = None) -> History:
    """Train ``model`` on ``data.x_train`` for ``epochs`` epochs and return its :class:`History`.

    Train and test loss and accuracy are measured ``evals_per_epoch`` times per epoch
    (in eval mode, on the whole set), so curves can be read at fractional epochs.

    With ``checkpoint`` (a file path), the model, optimiser, history and random-number states are
    saved after every epoch, and a run that finds the file resumes after its last saved epoch:
    an interrupted and resumed run ends with the same weights as an uninterrupted one.
    """
    if epochs <= 0 or evals_per_epoch <= 0 or batch_size <= 0:
        raise ValueError(f"epochs, evals_per_epoch and batch_size must be positive, "
                         f"got {epochs}, {evals_per_epoch}, {batch_size}")
    _check_shapes(model, data)
    n = len(data.x_train)
    steps_per_epoch = -(-n // batch_size)
    eval_after = {max(1, k * steps_per_epoch // evals_per_epoch) for k in range(1, evals_per_epoch + 1)}
    history, first_epoch = History(), 0
    if checkpoint is not None and Path(checkpoint).is_file():
        history, first_epoch = load_checkpoint(checkpoint, model, optimizer, generator)
    step = first_epoch * steps_per_epoch
    model.train()
    bar = tqdm(range(first_epoch, epochs), desc=desc, disable=not progress, leave=False)
    for epoch in bar:
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
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, optimizer, generator, history, epoch + 1)
    return history


def _check_shapes(model: nn.Module, data: Split) -> None:
    """Fail early, with a plain message, when data and model do not fit together."""
    for name in ("train", "test"):
        x, y = getattr(data, f"x_{name}"), getattr(data, f"y_{name}")
        if len(x) != len(y) or len(x) == 0:
            raise ValueError(f"{name} set: {len(x)} inputs but {len(y)} labels (need the same, non-zero number)")
    if data.y_train.dim() != 1 or data.y_train.dtype != torch.long:
        raise ValueError(f"labels must be a 1-D int64 tensor of class indices, got {data.y_train.dtype} "
                         f"with shape {tuple(data.y_train.shape)}")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(data.x_train[:2])
    except RuntimeError as err:
        raise ValueError(f"the model cannot take inputs of shape {tuple(data.x_train.shape[1:])} "
                         f"(per example): {str(err).splitlines()[0]}") from None
    finally:
        model.train(was_training)
    n_classes = int(data.y_train.max()) + 1
    if out.dim() != 2 or out.shape[0] != min(2, len(data.x_train)) or out.shape[1] < n_classes:
        raise ValueError(f"the model must output (batch, classes) scores for {n_classes} classes, "
                         f"got shape {tuple(out.shape)} for a batch of 2")


def save_checkpoint(path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer,
                    generator: torch.Generator | None, history: History, epoch: int) -> None:
    """Write everything needed to resume after ``epoch`` to ``path`` (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
        "history": asdict(history), "torch_rng": torch.get_rng_state(),
        "generator": generator.get_state() if generator is not None else None,
        "numpy_rng": np.random.get_state(), "python_rng": random.getstate(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer,
                    generator: torch.Generator | None) -> tuple[History, int]:
    """Restore a checkpoint written by :func:`save_checkpoint`; return its history and epoch."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state["model"].items()}
    if expected != found:
        diffs = [f"{k}: {found.get(k, 'missing')} in the checkpoint, {expected.get(k, 'absent')} in the model"
                 for k in sorted(set(expected) | set(found)) if expected.get(k) != found.get(k)]
        raise CheckpointMismatch(
            f"checkpoint {path} was saved from a different model ({'; '.join(diffs[:3])}). "
            "Delete the file to start afresh, or build the model the checkpoint was saved from.")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    if generator is not None and state["generator"] is not None:
        generator.set_state(state["generator"])
    np.random.set_state(state["numpy_rng"])
    random.setstate(state["python_rng"])
    if state["cuda_rng"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    return History(**state["history"]), state["epoch"]


def _record(history: History, model: nn.Module, data: Split, loss_fn: LossFn, step: int, epoch: float) -> None:
    train_loss, train_acc = evaluate(model, data.x_train, data.y_train, loss_fn)
    test_loss, test_acc = evaluate(model, data.x_test, data.y_test, loss_fn)
    history.epoch.append(epoch)
    history.step.append(step)
    history.train_loss.append(train_loss)
    history.train_acc.append(train_acc)
    history.test_loss.append(test_loss)
    history.test_acc.append(test_acc)
