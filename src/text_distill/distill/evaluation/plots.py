"""Evaluation figures (matplotlib, no display): built here, saved by kedro-datasets' MatplotlibDataset."""

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


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


def accuracy_against_speed(points: dict[str, tuple[float, float]]) -> Figure:
    """Test accuracy against end-to-end throughput (log scale), one point per model."""
    figure = Figure(figsize=(6.0, 4.5), layout="constrained")
    ax = figure.subplots()
    for name, (accuracy, speed) in points.items():
        ax.scatter(speed, accuracy, s=60)
        ax.annotate(name, (speed, accuracy), textcoords="offset points", xytext=(6, 4))
    ax.set_xscale("log")
    ax.set_xlabel("texts per second, end to end (log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Accuracy against throughput")
    ax.grid(alpha=0.3)
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
