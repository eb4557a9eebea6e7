import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from utils import plot


def test_curves_are_labelled():
    ax = plot.curves({"a": ([1, 2], [3, 4]), "b": ([1, 2], [4, 5])}, xlabel="epoch", ylabel="loss",
                     title="t", hline=3.5, logy=True)
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss" and ax.get_title() == "t"
    assert ax.get_yscale() == "log" and len(ax.get_legend().get_texts()) == 3
    plt.close("all")


def test_curves_reject_mismatched_series():
    with pytest.raises(ValueError, match="2 x values but 3"):
        plot.curves({"a": ([1, 2], [1, 2, 3])}, xlabel="x", ylabel="y", title="t")
    with pytest.raises(ValueError, match="at least one"):
        plot.curves({}, xlabel="x", ylabel="y", title="t")


def test_image_grid_shapes():
    fig = plot.image_grid(torch.rand(12, 1, 8, 8), title="grid", labels=[str(i) for i in range(12)], ncols=5)
    assert len(fig.axes) == 15 and fig.axes[0].get_title() == "0"
    with pytest.raises(ValueError, match="shape"):
        plot.image_grid(np.zeros((2, 2, 8, 8)), title="two channels")
    colour = plot.image_grid(torch.randn(2, 3, 8, 8) * 5, title="rgb", ncols=2)
    shown = colour.axes[0].get_images()[0].get_array()
    assert shown.shape == (8, 8, 3) and shown.min() == 0.0 and shown.max() == 1.0
    with pytest.raises(ValueError, match="labels"):
        plot.image_grid(np.zeros((2, 8, 8)), title="x", labels=["a"])
    plt.close("all")


def test_heatmap():
    ax = plot.heatmap(np.eye(3), xlabel="key", ylabel="query", title="attention", xticklabels=list("abc"))
    assert ax.get_xlabel() == "key" and [t.get_text() for t in ax.get_xticklabels()] == list("abc")
    with pytest.raises(ValueError, match="2-D"):
        plot.heatmap(np.zeros(3), xlabel="x", ylabel="y", title="t")
    plt.close("all")


def test_reliability_diagram_skips_empty_bins():
    bins = {"count": torch.tensor([0.0, 5.0, 0.0, 10.0]), "confidence": torch.tensor([0.0, 0.3, 0.0, 0.9]),
            "accuracy": torch.tensor([0.0, 0.2, 0.0, 0.8])}
    ax = plot.reliability_diagram({"net": bins}, title="calibration")
    line = ax.get_lines()[1]
    assert list(line.get_xdata()) == pytest.approx([0.3, 0.9]) and ax.get_title() == "calibration"
    assert len(ax.get_legend().get_texts()) == 2
    plt.close("all")
