"""The training curve reads on its own: title, axis labels, legend, a log scale when the
losses span decades, the monitored metric on its own axis, the best epoch marked."""

import math

import matplotlib.image
from matplotlib.figure import Figure

from rnnkit.train.curve import draw_curve, plot_curve, spans_decades


def rows(n=12, start=3.0, floor=0.01, accuracy=False):
    out = []
    for e in range(1, n + 1):
        row = {"epoch": e, "train_loss": start * math.exp(-0.7 * e) + floor,
               "val_loss": start * math.exp(-0.6 * e) + 2 * floor, "lr": 1e-3, "seconds": 0.1}
        if accuracy:
            row["val_accuracy"] = 1 - 0.5 * math.exp(-0.5 * e)
        out.append(row)
    return out


def drawn(rows, monitor="val_loss", mode="min"):
    ax = Figure().add_subplot()
    draw_curve(ax, rows, monitor, mode)
    return ax


def test_curve_has_title_axis_labels_and_legend():
    ax = drawn(rows())
    assert "Training curve" in ax.get_title() and "val_loss" in ax.get_title()
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel().startswith("loss")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["train_loss", "val_loss"]
    assert any(label.startswith("best val_loss (epoch 12)") for label in labels)


def test_log_scale_when_the_losses_span_decades_else_linear():
    assert drawn(rows(start=3.0, floor=0.01)).get_yscale() == "log"  # 3 -> 0.01
    assert drawn(rows(start=0.3, floor=0.5)).get_yscale() == "linear"  # 0.65 -> 0.5
    negative = [{**r, "train_loss": r["train_loss"] - 1.0} for r in rows()]  # e.g. a Gaussian NLL
    assert drawn(negative).get_yscale() == "linear"
    assert spans_decades([5.0, 0.4]) and not spans_decades([5.0, 0.6]) and not spans_decades([1, math.nan])


def test_a_monitored_metric_gets_its_own_labelled_axis_and_best_epoch():
    ax = drawn(rows(accuracy=True), "val_accuracy", "max")
    twin = [a for a in ax.figure.axes if a is not ax][0]
    assert twin.get_ylabel() == "val_accuracy" and ax.get_ylabel().startswith("loss")
    legend = twin.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert {"train_loss", "val_loss", "val_accuracy"} <= set(labels)
    assert "best val_accuracy (epoch 12)" in labels


def test_plot_curve_writes_a_png(tmp_path):
    path = tmp_path / "training_curve.png"
    plot_curve(rows(2), "val_loss", path)
    assert matplotlib.image.imread(path).shape[2] in (3, 4)
