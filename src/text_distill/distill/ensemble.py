"""Combining teachers: the weights of a heterogeneous ensemble (fine-tuned transformers plus
cross-fitted n-gram models), chosen on dev."""

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from sklearn.metrics import accuracy_score

from text_distill.distill.losses import combine_teacher_logits


def weight_grid(members: int, steps: int) -> list[tuple[float, ...]]:
    """Every share of ``members`` n-gram members in ``0, 1/steps, ..., 1`` with a sum of at most 1,
    the smallest total first (so, among equals, the transformers keep the most)."""
    grid = [combo for combo in itertools.product(range(steps + 1), repeat=members) if sum(combo) <= steps]
    grid.sort(key=lambda combo: (sum(combo), combo[::-1]))
    return [tuple(step / steps for step in combo) for combo in grid]


def choose_weights(
    transformer_logits: Sequence[np.ndarray],
    ngram_logits: Mapping[str, np.ndarray],
    labels: np.ndarray,
    steps: int = 20,
) -> tuple[list[float], dict[str, Any]]:
    """The n-gram members' shares (each in ``0, 1/steps, ..., 1``, together at most 1) with the best
    dev accuracy (the first of equals in ``weight_grid``'s order); the transformers share the rest
    equally. Returns one weight per member (transformers first, then ``ngram_logits``' order) and
    the dev accuracy at every point of the grid."""
    names = list(ngram_logits)
    members = [
        torch.from_numpy(np.asarray(logits)) for logits in (*transformer_logits, *ngram_logits.values())
    ]
    share = len(transformer_logits)
    by_weights: dict[tuple[float, ...], float] = {}
    for ngram_weights in weight_grid(len(names), steps):
        rest = (1 - sum(ngram_weights)) / share
        combined = combine_teacher_logits(members, [rest] * share + list(ngram_weights)).numpy()
        by_weights[ngram_weights] = float(accuracy_score(labels, combined.argmax(axis=1)))
    best = max(by_weights, key=by_weights.get)  # the first of equals
    alone = {
        name: by_weights[tuple(float(i == j) for j in range(len(names)))] for i, name in enumerate(names)
    }
    report = {
        "ngram_weights": dict(zip(names, best, strict=True)),
        "dev_accuracy": by_weights[best],
        "dev_accuracy_by_ngram_weights": {
            ",".join(f"{w:g}" for w in weights): accuracy for weights, accuracy in by_weights.items()
        },
        "dev_accuracy_transformers_alone": by_weights[(0.0,) * len(names)],
        "dev_accuracy_ngram_alone": alone,
        "dev_rows": int(len(labels)),
    }
    return [(1 - sum(best)) / share] * share + list(best), report
