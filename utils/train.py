"""A plain training loop for classifiers: ``fit`` returns a :class:`History`, ``evaluate`` a loss and an accuracy.

The loop is what you would write by hand — forward, loss, backward, step, and the learning-rate
schedule's step — plus a progress bar and a record of the curves. Data are tensors (a
:class:`utils.data.Split`); batches come from :func:`utils.data.batches`. A chapter whose subject is
the loop itself writes its loop out instead (see CONTRIBUTING.md).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from utils.data import Split, batches

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
EVAL_SETS = ("train", "test")


@dataclass
class History:
    """Curves of one training run: one entry per evaluation (``epoch`` may be fractional), and the loss and
    accuracy of every training mini-batch."""

    epoch: list[float] = field(default_factory=list)
    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    metrics: dict[str, list] = field(default_factory=dict)
    batch_loss: list[float] = field(default_factory=list)
    batch_acc: list[float] = field(default_factory=list)

    def gap(self, last: int = 3) -> float:
        """The generalisation gap: test loss minus train loss, averaged over the last ``last`` evaluations."""
        if not self.test_loss or len(self.test_loss) != len(self.train_loss):
            raise ValueError("the gap needs train and test losses at every evaluation (fit's eval_on)")
        pairs = list(zip(self.test_loss[-last:], self.train_loss[-last:]))
        return sum(t - s for t, s in pairs) / len(pairs)

    def first_epoch(self, metric: str, target: float, higher_is_better: bool = True) -> float:
        """First (fractional) epoch at which ``metric`` reached ``target``; ``inf`` if never."""
        for epoch, value in zip(self.epoch, getattr(self, metric)):
            if (value >= target) if higher_is_better else (value <= target):
                return epoch
        return math.inf


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
             loss_fn: LossFn = nn.functional.cross_entropy, batch_size: int = 250) -> tuple[float, float]:
    """Mean loss and accuracy of a classifier over ``(x, y)``, in eval mode (dropout off), without
    recording gradients."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    for xb, yb in batches(x, y, batch_size, shuffle=False):
        logits = model(xb)
        total_loss += loss_fn(logits, yb).item() * len(xb)
        correct += (logits.argmax(dim=1) == yb).sum().item()
    model.train(was_training)
    return total_loss / len(x), correct / len(x)


def fit(model: nn.Module, data: Split, *, optimizer: torch.optim.Optimizer, epochs: int | None = None,
        steps: int | None = None, batch_size: int = 64, schedule=None, eval_every: int | None = None,
        eval_on: tuple[str, ...] = EVAL_SETS, metrics: dict[str, Callable[[nn.Module], object]] | None = None,
        loss_fn: LossFn = nn.functional.cross_entropy, generator: torch.Generator | None = None,
        progress: bool = True, desc: str = "training") -> History:
    """Train ``model`` on ``data.x_train`` for ``epochs`` epochs or ``steps`` mini-batches; return its History.

    ``schedule`` (a ``torch.optim.lr_scheduler``) steps after every mini-batch. Every ``eval_every`` steps
    (default: once an epoch; 0: never) and after the last step, the loss and accuracy on the sets named in
    ``eval_on`` are measured in eval mode, on the whole set, and each of ``metrics`` (name → function of
    the model, also called in eval mode) is recorded in ``History.metrics``.
    """
    if (epochs is None) == (steps is None):
        raise ValueError("give either epochs or steps")
    length = epochs if epochs is not None else steps
    if length <= 0 or batch_size <= 0:
        raise ValueError(f"epochs or steps, and batch_size, must be positive, got {length}, {batch_size}")
    unknown = set(eval_on) - set(EVAL_SETS)
    if unknown:
        raise ValueError(f"eval_on names {sorted(unknown)}: choose among {EVAL_SETS}")
    _check_shapes(model, data)
    steps_per_epoch = -(-len(data.x_train) // batch_size)
    total = steps if steps is not None else epochs * steps_per_epoch
    every = steps_per_epoch if eval_every is None else eval_every
    history = History(metrics={name: [] for name in metrics or {}})
    model.train()
    bar = tqdm(total=total, desc=desc, disable=not progress, leave=False)
    step = 0
    while step < total:
        for xb, yb in batches(data.x_train, data.y_train, batch_size, generator=generator):
            logits = model(xb)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            step += 1
            history.batch_loss.append(loss.item())
            history.batch_acc.append((logits.argmax(dim=1) == yb).float().mean().item())
            bar.update()
            if (every and step % every == 0) or (every and step == total):
                _record(history, model, data, loss_fn, step, step / steps_per_epoch, eval_on, metrics or {})
            if step == total:
                break
    bar.close()
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


def _record(history: History, model: nn.Module, data: Split, loss_fn: LossFn, step: int, epoch: float,
            eval_on: tuple[str, ...], metrics: dict) -> None:
    history.step.append(step)
    history.epoch.append(epoch)
    for name in eval_on:
        loss, acc = evaluate(model, getattr(data, f"x_{name}"), getattr(data, f"y_{name}"), loss_fn)
        getattr(history, f"{name}_loss").append(loss)
        getattr(history, f"{name}_acc").append(acc)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for name, metric in metrics.items():
            history.metrics[name].append(metric(model))
    model.train(was_training)


@torch.no_grad()
def embed(encoder: nn.Module, x: torch.Tensor, batch_size: int = 250) -> torch.Tensor:
    """``encoder(x)`` in eval mode, in batches, without gradients, flattened to (N, features): the frozen
    features a linear probe reads."""
    was_training = encoder.training
    encoder.eval()
    out = torch.cat([encoder(x[i:i + batch_size]).flatten(1) for i in range(0, len(x), batch_size)])
    encoder.train(was_training)
    return out


def linear_probe(train_features: torch.Tensor, y_train: torch.Tensor, test_features: torch.Tensor,
                 y_test: torch.Tensor, *, steps: int = 300, lr: float = 0.05, weight_decay: float = 1e-3) -> float:
    """Test accuracy of a linear classifier (multinomial logistic regression) on frozen features.

    The standard measure of a representation learned without labels: the features are standardised with
    the training set's mean and spread, the classifier starts from zero weights (the loss is convex, so no
    seed matters) and takes ``steps`` full-batch Adam steps with L2 ``weight_decay``; nothing flows back
    into the features.
    """
    if train_features.dim() != 2 or test_features.shape[1:] != train_features.shape[1:]:
        raise ValueError(f"features must be (N, D) with the same D for train and test, got "
                         f"{tuple(train_features.shape)} and {tuple(test_features.shape)}")
    if len(train_features) != len(y_train) or len(test_features) != len(y_test):
        raise ValueError(f"{len(train_features)} train / {len(test_features)} test features but "
                         f"{len(y_train)} / {len(y_test)} labels")
    mean, std = train_features.mean(0), train_features.std(0) + 1e-6
    x_train, x_test = (train_features - mean) / std, (test_features - mean) / std
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    probe = nn.Linear(x_train.shape[1], n_classes)
    nn.init.zeros_(probe.weight)
    nn.init.zeros_(probe.bias)
    optimizer = torch.optim.Adam(probe.parameters(), lr=lr, weight_decay=weight_decay)
    with torch.enable_grad():
        for _ in range(steps):
            loss = nn.functional.cross_entropy(probe(x_train), y_train)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        return (probe(x_test).argmax(1) == y_test).float().mean().item()


def calibration_bins(probs: torch.Tensor, labels: torch.Tensor, bins: int = 15) -> dict[str, torch.Tensor]:
    """Predictions grouped by confidence (the top class's probability) into ``bins`` equal-width bins of [0, 1]:
    each bin's mean confidence, accuracy and count (the data of a reliability diagram)."""
    if probs.dim() != 2 or len(probs) != len(labels):
        raise ValueError(f"probs must be (N, classes) with one label each, got {tuple(probs.shape)} and {len(labels)}")
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == labels).double()
    index = (confidence * bins).long().clamp(max=bins - 1)            # confidence 1.0 goes to the last bin
    count = torch.bincount(index, minlength=bins).double()
    total_conf = torch.bincount(index, weights=confidence.double(), minlength=bins)
    total_acc = torch.bincount(index, weights=correct, minlength=bins)
    safe = count.clamp(min=1)
    return {"confidence": total_conf / safe, "accuracy": total_acc / safe, "count": count}


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, bins: int = 15) -> float:
    """ECE: Σ_b (n_b / N) |accuracy_b − confidence_b| over equal-width confidence bins (Naeini et al. 2015;
    Guo et al. 2017, Eq. 3). 0 for a perfectly calibrated classifier."""
    b = calibration_bins(probs, labels, bins)
    return float((b["count"] / b["count"].sum() * (b["accuracy"] - b["confidence"]).abs()).sum())


def warmup_cosine(optimizer: torch.optim.Optimizer, warmup: int, total: int, final: float = 0.1
                  ) -> torch.optim.lr_scheduler.LRScheduler:
    """Linear warm-up over ``warmup`` steps, then a cosine decay to ``final`` × the learning rate at ``total``.

    Step it after every optimiser step (nanoGPT's schedule).
    """
    if not 0 < warmup < total:
        raise ValueError(f"need 0 < warmup < total, got warmup {warmup}, total {total}")

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / (total - warmup))
        return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
