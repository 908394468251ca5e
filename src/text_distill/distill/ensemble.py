"""Combining teachers: the weights of a heterogeneous ensemble (fine-tuned transformers plus a
cross-fitted n-gram model), chosen on dev."""

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.metrics import accuracy_score

from text_distill.distill.losses import combine_teacher_logits


def choose_weights(
    transformer_logits: Sequence[np.ndarray],
    ngram_logits: np.ndarray,
    labels: np.ndarray,
    steps: int = 20,
) -> tuple[list[float], dict[str, Any]]:
    """The n-gram member's weight ``w`` in ``0, 1/steps, ..., 1`` with the best dev accuracy (the
    smallest of equals: the transformers are preferred); the transformers share ``1 - w`` equally.
    Returns one weight per member (transformers first) and the dev accuracy at every ``w``."""
    members = [torch.from_numpy(np.asarray(logits)) for logits in (*transformer_logits, ngram_logits)]
    share = len(transformer_logits)
    by_weight = {}
    for step in range(steps + 1):
        w = step / steps
        weights = [(1 - w) / share] * share + [w]
        combined = combine_teacher_logits(members, weights).numpy()
        by_weight[round(w, 6)] = float(accuracy_score(labels, combined.argmax(axis=1)))
    best = max(by_weight, key=by_weight.get)  # the first, so the smallest, of equals
    report = {
        "ngram_weight": best,
        "dev_accuracy": by_weight[best],
        "dev_accuracy_by_ngram_weight": {str(w): acc for w, acc in by_weight.items()},
        "dev_accuracy_transformers_alone": by_weight[0.0],
        "dev_accuracy_ngram_alone": by_weight[1.0],
        "dev_rows": int(len(labels)),
    }
    return [(1 - best) / share] * share + [best], report
