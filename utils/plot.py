"""One plotting style for the whole book: curves, image grids, heat maps and reliability diagrams."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

STYLE = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 11,
    "legend.frameon": False,
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (chapters call it once in their set-up cell)."""
    plt.rcParams.update(STYLE)


def curves(series: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, xlabel: str, ylabel: str,
           title: str, logy: bool = False, hline: float | None = None, ax: plt.Axes | None = None) -> plt.Axes:
    """Plot named ``(x, y)`` series on one labelled axis; ``hline`` marks a target value."""
    if not series:
        raise ValueError("curves() needs at least one series")
    ax = ax or plt.subplots()[1]
    for label, (xs, ys) in series.items():
        if len(xs) != len(ys):
            raise ValueError(f"series {label!r}: {len(xs)} x values but {len(ys)} y values")
        ax.plot(xs, ys, label=label, marker="o" if len(xs) < 30 else None, markersize=3)
    if hline is not None:
        ax.axhline(hline, color="grey", linestyle="--", linewidth=1, label=f"target {hline:g}")
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend()
    return ax


def image_grid(images: torch.Tensor | np.ndarray, *, title: str, labels: Sequence[str] | None = None,
               ncols: int = 10, cmap: str = "gray_r") -> plt.Figure:
    """Show a batch of images, shape (N, H, W), (N, 1, H, W) or colour (N, 3, H, W), in a grid with captions.

    Colour images are rescaled to [0, 1] one by one, so standardised inputs display as well.
    """
    arr = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    elif arr.ndim == 4 and arr.shape[1] == 3:
        arr = arr.transpose(0, 2, 3, 1)
        low = arr.min(axis=(1, 2, 3), keepdims=True)
        arr = (arr - low) / np.maximum(arr.max(axis=(1, 2, 3), keepdims=True) - low, 1e-12)
    elif arr.ndim != 3:
        raise ValueError(f"image_grid expects (N, H, W), (N, 1, H, W) or (N, 3, H, W), got shape {arr.shape}")
    if labels is not None and len(labels) != len(arr):
        raise ValueError(f"{len(arr)} images but {len(labels)} labels")
    nrows = -(-len(arr) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.9, nrows * 1.0), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(arr):
            ax.imshow(arr[i], cmap=cmap)
            if labels is not None:
                ax.set_title(labels[i], fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def heatmap(matrix: torch.Tensor | np.ndarray, *, xlabel: str, ylabel: str, title: str,
            xticklabels: Sequence[str] | None = None, yticklabels: Sequence[str] | None = None,
            ax: plt.Axes | None = None) -> plt.Axes:
    """A labelled heat map with a colour bar (attention maps, confusion matrices)."""
    arr = matrix.detach().cpu().numpy() if isinstance(matrix, torch.Tensor) else np.asarray(matrix)
    if arr.ndim != 2:
        raise ValueError(f"heatmap expects a 2-D matrix, got shape {arr.shape}")
    ax = ax or plt.subplots()[1]
    im = ax.imshow(arr, cmap="viridis", aspect="auto")
    ax.figure.colorbar(im, ax=ax)
    if xticklabels is not None:
        ax.set_xticks(range(len(xticklabels)), xticklabels)
    if yticklabels is not None:
        ax.set_yticks(range(len(yticklabels)), yticklabels)
    ax.grid(False)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    return ax


def reliability_diagram(bins_by_model: Mapping[str, Mapping[str, torch.Tensor]], *, title: str,
                        ax: plt.Axes | None = None) -> plt.Axes:
    """Accuracy against confidence, one line per model, from :func:`utils.train.calibration_bins`; empty bins
    are skipped and the diagonal is perfect calibration (below it: over-confident)."""
    ax = ax or plt.subplots(figsize=(5, 5))[1]
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfectly calibrated")
    for name, b in bins_by_model.items():
        used = b["count"] > 0
        ax.plot(b["confidence"][used].numpy(), b["accuracy"][used].numpy(), "o-", markersize=4, label=name)
    ax.set(xlabel="confidence (probability of the predicted class)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1),
           title=title)
    ax.legend(loc="upper left")
    return ax
