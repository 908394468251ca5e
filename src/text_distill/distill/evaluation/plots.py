"""Evaluation figures (matplotlib, no display): built here, saved by kedro-datasets' MatplotlibDataset."""

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402


def confusion_matrices(matrices: dict[str, Sequence[Sequence[int]]], label_names: list[str]) -> Figure:
    """One row-normalised confusion matrix per model (rows: true label, columns: predicted)."""
    figure = Figure(figsize=(5.2 * len(matrices), 5.0), layout="constrained")
    axes = figure.subplots(1, len(matrices), squeeze=False)[0]
    for ax, (name, matrix) in zip(axes, matrices.items(), strict=True):
        counts = np.asarray(matrix, dtype=float)
        rates = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
        image = ax.imshow(rates, vmin=0.0, vmax=1.0, cmap="Blues")
        ax.set_title(name)
        ax.set_xticks(range(len(label_names)), label_names, rotation=90)
        ax.set_yticks(range(len(label_names)), label_names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        for (row, column), value in np.ndenumerate(counts):
            if value:
                ax.text(
                    column,
                    row,
                    int(value),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if rates[row, column] > 0.5 else "black",
                )
    figure.colorbar(image, ax=list(axes), shrink=0.6, label="share of the true label")
    return figure


def reliability_diagram(bins: dict[str, list[dict[str, Any]]]) -> Figure:
    """Accuracy against mean confidence per confidence bin, one line per model; the diagonal is a
    perfectly calibrated model."""
    figure = Figure(figsize=(5.5, 5.0), layout="constrained")
    ax = figure.subplots()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="calibrated")
    for name, rows in bins.items():
        filled = [row for row in rows if row["count"]]
        ax.plot([r["confidence"] for r in filled], [r["accuracy"] for r in filled], "o-", label=name)
    ax.set_xlabel("confidence (top softmax probability)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Reliability diagram (test split)")
    ax.legend()
    return figure


# where a point's label may go, tried in order (offset in points from the point, alignment): beside
# it first, then above or below, then further off along a leader line where points crowd
LABEL_PLACES = [
    (7, 0, "left", "center"),
    (-7, 0, "right", "center"),
    (0, 8, "center", "bottom"),
    (0, -8, "center", "top"),
    (7, 9, "left", "bottom"),
    (7, -9, "left", "top"),
    (-7, 9, "right", "bottom"),
    (-7, -9, "right", "top"),
    *(
        (dx, dy, ha, "center")
        for dy in (16, -16, 28, -28, 40, -40)
        for dx, ha in ((14, "left"), (-14, "right"))
    ),
]


def _overlap(a: Bbox, b: Bbox) -> float:
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0.0) * max(height, 0.0)


def _label_points(ax: Axes, points: dict[str, tuple[float, float]]) -> None:
    """Each point's name where it overlaps no other label or point and stays inside the axes, or
    where it overlaps least: close points (a student and a baseline of about the same accuracy and
    speed) used to get their names printed over each other."""
    figure = ax.get_figure()
    # text sizes need a renderer: a bare Figure has none until it is given a canvas
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw_without_rendering()  # the layout settles first: the axes' place is final
    frame = ax.get_window_extent(renderer)
    radius = 6 * figure.dpi / 72  # a marker, in pixels
    taken = [
        Bbox.from_extents(x - radius, y - radius, x + radius, y + radius)
        for x, y in ax.transData.transform([(speed, accuracy) for accuracy, speed in points.values()])
    ]
    for name, (accuracy, speed) in sorted(points.items(), key=lambda item: -item[1][0]):
        best: tuple[float, Annotation, Bbox] | None = None
        for dx, dy, ha, va in LABEL_PLACES:
            far = abs(dy) > 10
            label = ax.annotate(
                name,
                (speed, accuracy),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=9,
                arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.6} if far else None,
            )
            label.set_in_layout(False)  # the labels go where the axes are, not the other way round
            box = label.get_window_extent(renderer)
            inside = Bbox.intersection(box, frame)
            outside = box.width * box.height - (inside.width * inside.height if inside else 0.0)
            cost = sum(_overlap(box, other) for other in taken) + outside
            if best is not None and cost >= best[0]:
                label.remove()
                continue
            if best is not None:
                best[1].remove()
            best = (cost, label, box)
            if cost == 0:
                break
        taken.append(best[2])


def accuracy_against_speed(points: dict[str, tuple[float, float]]) -> Figure:
    """Test accuracy against end-to-end throughput (log scale), one point per model: teacher and
    students round, the reference baselines (``baseline_*``) square; each named without overlap."""
    figure = Figure(figsize=(6.4, 4.6), layout="constrained")
    ax = figure.subplots()
    for name, (accuracy, speed) in points.items():
        marker = "s" if name.startswith("baseline_") else "o"
        ax.scatter(speed, accuracy, s=60, marker=marker, edgecolors="white", linewidths=0.8, zorder=3)
    ax.set_xscale("log")
    # labels at the powers of ten only: the minor ones (2x10^3, 3x10^3, ...) ran into each other
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.margins(x=0.3, y=0.12)  # room for the names beside the outermost points
    ax.set_xlabel("texts per second, end to end (log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Accuracy against throughput")
    ax.grid(alpha=0.3)
    _label_points(ax, points)
    return figure


def training_curves(histories: dict[str, list[dict[str, float]]]) -> Figure:
    """Per student: the training loss and its components, and the dev macro-F1, per epoch."""
    figure = Figure(figsize=(11.0, 4.5), layout="constrained")
    loss_ax, dev_ax = figure.subplots(1, 2)
    for name, history in histories.items():
        epochs = [record["epoch"] for record in history]
        for key in sorted(k for k in history[0] if k.startswith("train_")):
            loss_ax.plot(epochs, [record[key] for record in history], marker="o", label=f"{name}: {key[6:]}")
        dev_ax.plot(epochs, [record["dev_macro_f1"] for record in history], marker="o", label=name)
    loss_ax.set_title("training loss and its parts")
    loss_ax.set_xlabel("epoch")
    loss_ax.legend(fontsize="small")
    dev_ax.set_title("dev macro-F1")
    dev_ax.set_xlabel("epoch")
    dev_ax.legend()
    return figure


def evaluation_figures(
    scores: dict[str, dict[str, Any]],
    profile: dict[str, dict[str, float]],
    histories: dict[str, list[dict[str, float]]],
    label_names: list[str],
) -> tuple[Figure, Figure, Figure, Figure]:
    """The evaluate stage's figures from every model's test scores and speed profile, and each
    student's training history: confusion matrices, reliability diagram, accuracy against
    throughput, training curves."""
    return (
        confusion_matrices({name: s["confusion_matrix"] for name, s in scores.items()}, label_names),
        reliability_diagram({name: s["reliability"] for name, s in scores.items()}),
        accuracy_against_speed(
            {name: (s["accuracy"], profile[name]["texts_per_second"]) for name, s in scores.items()}
        ),
        training_curves(histories),
    )
